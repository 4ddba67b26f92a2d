//! Replacing a camera's journeys over a time range, in the writer's
//! transaction: the old ones overlapping the range go (with their clips'
//! links), the new ones come in, each clip linked to its new journey.

use sqlx::SqliteConnection;

use crate::types::{NewJourney, channels_json};

use super::OpResult;
use super::ops::Out;

#[derive(Debug)]
pub(crate) struct ReplaceInput {
    pub(crate) camera_id: String,
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
    pub(crate) journeys: Vec<NewJourney>,
    pub(crate) at: i64,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) async fn replace(c: &mut SqliteConnection, input: &ReplaceInput) -> OpResult<Out> {
    let old = "SELECT id FROM journeys WHERE camera_id = ?1 AND start_ms <= ?3 AND end_ms >= ?2";
    sqlx::query(&format!(
        "DELETE FROM journey_clips WHERE journey_id IN ({old})"
    ))
    .bind(&input.camera_id)
    .bind(input.from_ms)
    .bind(input.to_ms)
    .execute(&mut *c)
    .await?;
    sqlx::query(&format!("DELETE FROM journeys WHERE id IN ({old})"))
        .bind(&input.camera_id)
        .bind(input.from_ms)
        .bind(input.to_ms)
        .execute(&mut *c)
        .await?;
    let mut inserted = 0u64;
    for j in &input.journeys {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO journeys (camera_id, start_ms, end_ms, start_lat, start_lon, end_lat, \
             end_lon, from_place, to_place, distance_m, moving_ms, max_speed_mps, clips, channels, \
             bytes, gpx_path, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&input.camera_id)
        .bind(j.start_ms)
        .bind(j.end_ms)
        .bind(j.start_pos.map(|p| p.0))
        .bind(j.start_pos.map(|p| p.1))
        .bind(j.end_pos.map(|p| p.0))
        .bind(j.end_pos.map(|p| p.1))
        .bind(j.from_place.as_deref())
        .bind(j.to_place.as_deref())
        .bind(j.distance_m)
        .bind(j.moving_ms)
        .bind(j.max_speed_mps)
        .bind(int(j.clips.len() as u64))
        .bind(channels_json(&j.channels))
        .bind(int(j.bytes))
        .bind(j.gpx_path.as_deref())
        .bind(input.at)
        .fetch_one(&mut *c)
        .await?;
        // A clip of this camera only; one journey per clip (the newest
        // link wins).
        for clip in &j.clips {
            sqlx::query(
                "INSERT INTO journey_clips (clip_id, journey_id) \
                 SELECT id, ?2 FROM clips WHERE id = ?1 AND camera_id = ?3 \
                 ON CONFLICT (clip_id) DO UPDATE SET journey_id = excluded.journey_id",
            )
            .bind(clip.0)
            .bind(id)
            .bind(&input.camera_id)
            .execute(&mut *c)
            .await?;
        }
        inserted += 1;
    }
    Ok(Out::Count(inserted))
}
