//! Storing a clip's GPS track: one row per clip, a file track replacing a
//! triage track and never replaced by one.

use sqlx::SqliteConnection;

use crate::error::ErrorKind;
use crate::types::{ClipId, SetTrack, Track};

use super::ops::Out;
use super::{OpErr, OpResult};

pub(super) async fn set_track(
    c: &mut SqliteConnection,
    id: ClipId,
    track: &Track,
    data: &[u8],
    at: i64,
) -> OpResult<Out> {
    let g = &track.summary;
    let [a, b, cc, d] = match g.bbox {
        Some(bb) => bb.map(Some),
        None => [None; 4],
    };
    // Written only for a clip that exists (one statement on the usual
    // path). The WHERE of the upsert is the replacement rule: an existing row is
    // replaced unless it is a file track and this one is a triage track.
    let r = sqlx::query(
        "INSERT INTO tracks (clip_id, source, mode, clip_size, points, first_fix_ms, \
         last_fix_ms, distance_m, min_lon, min_lat, max_lon, max_lat, max_speed_mps, no_track, \
         data, stored_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
         ?15, ?16 WHERE EXISTS (SELECT 1 FROM clips WHERE id = ?1) \
         ON CONFLICT (clip_id) DO UPDATE SET source = excluded.source, mode = excluded.mode, \
         clip_size = excluded.clip_size, points = excluded.points, \
         first_fix_ms = excluded.first_fix_ms, last_fix_ms = excluded.last_fix_ms, \
         distance_m = excluded.distance_m, min_lon = excluded.min_lon, \
         min_lat = excluded.min_lat, max_lon = excluded.max_lon, max_lat = excluded.max_lat, \
         max_speed_mps = excluded.max_speed_mps, no_track = excluded.no_track, \
         data = excluded.data, stored_at = excluded.stored_at \
         WHERE excluded.source = 'file' OR tracks.source = 'triage'",
    )
    .bind(id.0)
    .bind(track.source.as_str())
    .bind(track.mode.as_deref())
    .bind(i64::try_from(track.clip_size).unwrap_or(i64::MAX))
    .bind(i64::from(g.points))
    .bind(g.first_fix_ms)
    .bind(g.last_fix_ms)
    .bind(g.distance_m)
    .bind(a)
    .bind(b)
    .bind(cc)
    .bind(d)
    .bind(g.max_speed_mps)
    .bind(track.no_track.as_deref())
    .bind(data)
    .bind(at)
    .execute(&mut *c)
    .await?;
    if r.rows_affected() == 1 {
        return Ok(Out::Track(SetTrack::Stored));
    }
    // Nothing written: no such clip, or its file track is kept.
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM clips WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    if found.is_none() {
        return Err(OpErr::Refuse(ErrorKind::ClipNotFound(id).into()));
    }
    Ok(Out::Track(SetTrack::KeptFileTrack))
}
