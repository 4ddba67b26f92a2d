//! Replacing a camera's journeys over a time range, in the writer's
//! transaction: the old ones overlapping the range go (with their clips'
//! links), the new ones come in, each clip linked to its new journey; a new
//! journey keeps the id of the old one it shares the most clips with.

use std::collections::HashMap;

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

/// For each new journey, the id of the old journey it shares the most
/// clips with (each old id given once, to the new journey sharing most),
/// so a journey keeps its id as it grows or shrinks.
fn inherited_ids(journeys: &[NewJourney], links: &[(i64, i64)]) -> Vec<Option<i64>> {
    let owner: HashMap<i64, i64> = links.iter().copied().collect();
    let mut candidates: Vec<(usize, i64, usize)> = Vec::new();
    for (i, j) in journeys.iter().enumerate() {
        let mut shared: HashMap<i64, usize> = HashMap::new();
        for clip in &j.clips {
            if let Some(old) = owner.get(&clip.0) {
                *shared.entry(*old).or_default() += 1;
            }
        }
        candidates.extend(shared.into_iter().map(|(old, n)| (n, old, i)));
    }
    // Most shared clips first; ties: the older id, the earlier journey.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut out = vec![None; journeys.len()];
    let mut taken = std::collections::HashSet::new();
    for (_, old, i) in candidates {
        if let Some(slot) = out.get_mut(i)
            && slot.is_none()
            && taken.insert(old)
        {
            *slot = Some(old);
        }
    }
    out
}

pub(super) async fn replace(c: &mut SqliteConnection, input: &ReplaceInput) -> OpResult<Out> {
    let old = "SELECT id FROM journeys WHERE camera_id = ?1 AND start_ms <= ?3 AND end_ms >= ?2";
    let links: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT clip_id, journey_id FROM journey_clips WHERE journey_id IN ({old})"
    ))
    .bind(&input.camera_id)
    .bind(input.from_ms)
    .bind(input.to_ms)
    .fetch_all(&mut *c)
    .await?;
    let ids = inherited_ids(&input.journeys, &links);
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
    for (j, keep) in input.journeys.iter().zip(ids) {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO journeys (id, camera_id, start_ms, end_ms, start_lat, start_lon, end_lat, \
             end_lon, from_place, to_place, distance_m, moving_ms, max_speed_mps, clips, channels, \
             bytes, gpx_path, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(keep)
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
        for (k, clip) in j.clips.iter().enumerate() {
            let facts = j.facts.get(k);
            sqlx::query(
                "INSERT INTO journey_clips (clip_id, journey_id, fixes, size) \
                 SELECT id, ?2, ?4, ?5 FROM clips WHERE id = ?1 AND camera_id = ?3 \
                 ON CONFLICT (clip_id) DO UPDATE SET journey_id = excluded.journey_id, \
                 fixes = excluded.fixes, size = excluded.size",
            )
            .bind(clip.0)
            .bind(id)
            .bind(&input.camera_id)
            .bind(facts.map(|f| i64::from(f.fixes)))
            .bind(facts.map(|f| int(f.size)))
            .execute(&mut *c)
            .await?;
        }
        inserted += 1;
    }
    Ok(Out::Count(inserted))
}
