//! Recording imported clips: every clip of a batch inserted (or updated)
//! as `done` with source `import`, its GPS summary and track, all or none;
//! an archived row of the same name with other bytes is superseded.

use sqlx::SqliteConnection;

use crate::store::ImportedClip;
use crate::types::Track;

use super::ops::Out;
use super::tracks::set_track;
use super::{OpErr, OpResult};

/// One batch of imported clips for one camera.
#[derive(Debug)]
pub(crate) struct ImportInput {
    pub(crate) camera_id: String,
    pub(crate) clips: Vec<ImportRow>,
    pub(crate) now: i64,
}

/// One clip with its archive path as text and its track, encoded.
#[derive(Debug)]
pub(crate) struct ImportRow {
    pub(crate) clip: ImportedClip,
    pub(crate) local_path: String,
    pub(crate) track: Option<(Track, Vec<u8>)>,
}

/// Records the batch inside a savepoint: a clip refused rolls the whole
/// batch back, so a caller never removes a source whose clip is missing.
pub(super) async fn record(c: &mut SqliteConnection, input: &ImportInput) -> OpResult<Out> {
    sqlx::query("SAVEPOINT import").execute(&mut *c).await?;
    let r = record_all(c, input).await;
    match r {
        // The whole transaction goes (SQLite may have ended it already).
        Err(OpErr::Abort(e)) => return Err(OpErr::Abort(e)),
        Err(_) => {
            sqlx::query("ROLLBACK TO import").execute(&mut *c).await?;
        }
        Ok(_) => {}
    }
    sqlx::query("RELEASE import").execute(&mut *c).await?;
    r
}

async fn record_all(c: &mut SqliteConnection, input: &ImportInput) -> OpResult<Out> {
    let mut n = 0u64;
    for ImportRow {
        clip,
        local_path,
        track,
    } in &input.clips
    {
        let l = &clip.clip;
        let size = i64::try_from(l.size).map_err(|_| OpErr::Refuse(size_error()))?;
        let local_size = i64::try_from(clip.local_size).map_err(|_| OpErr::Refuse(size_error()))?;
        let g = clip.gps.as_ref();
        let [a, b, cc, d] = match g.and_then(|g| g.bbox) {
            Some(bb) => bb.map(Some),
            None => [None; 4],
        };
        // An archived row of this name holds other bytes (the import only
        // copies a clip not archived with its size): it keeps its file and
        // is superseded, never overwritten.
        sqlx::query(
            "UPDATE clips SET superseded_at = ? WHERE camera_id = ? AND name = ? \
             AND superseded_at IS NULL AND state IN ('downloaded', 'done', 'pruned') \
             AND NOT (local_path IS ? AND local_size IS ?)",
        )
        .bind(input.now)
        .bind(&input.camera_id)
        .bind(&l.name)
        .bind(local_path)
        .bind(local_size)
        .execute(&mut *c)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO clips (camera_id, name, remote_path, size, size_exact, locked, parking, \
             channel, recorded_at, state, local_path, local_size, listed_at, \
             download_finished_at, tail_finished_at, source, gps_points, gps_first_fix_ms, \
             gps_last_fix_ms, gps_distance_m, gps_min_lon, gps_min_lat, gps_max_lon, gps_max_lat, \
             gps_max_speed_mps) \
             VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, 'import', ?, ?, ?, ?, ?, ?, \
             ?, ?, ?) \
             ON CONFLICT (camera_id, name) WHERE superseded_at IS NULL DO UPDATE SET remote_path = excluded.remote_path, \
             size = excluded.size, size_exact = 1, locked = excluded.locked, \
             parking = excluded.parking, channel = excluded.channel, \
             recorded_at = COALESCE(excluded.recorded_at, recorded_at), state = 'done', \
             attempts = 0, last_error = NULL, deferred_cycle = NULL, pruned_at = NULL, \
             local_path = excluded.local_path, local_size = excluded.local_size, \
             download_finished_at = excluded.download_finished_at, \
             tail_finished_at = excluded.tail_finished_at, source = 'import', \
             gps_points = excluded.gps_points, gps_first_fix_ms = excluded.gps_first_fix_ms, \
             gps_last_fix_ms = excluded.gps_last_fix_ms, gps_distance_m = excluded.gps_distance_m, \
             gps_min_lon = excluded.gps_min_lon, gps_min_lat = excluded.gps_min_lat, \
             gps_max_lon = excluded.gps_max_lon, gps_max_lat = excluded.gps_max_lat, \
             gps_max_speed_mps = excluded.gps_max_speed_mps \
             RETURNING id",
        )
        .bind(&input.camera_id)
        .bind(&l.name)
        .bind(&l.remote_path)
        .bind(size)
        .bind(l.locked)
        .bind(l.parking)
        .bind(l.channel.as_str())
        .bind(l.recorded_at)
        .bind(local_path)
        .bind(local_size)
        .bind(input.now)
        .bind(input.now)
        .bind(input.now)
        .bind(g.map(|g| i64::from(g.points)))
        .bind(g.and_then(|g| g.first_fix_ms))
        .bind(g.and_then(|g| g.last_fix_ms))
        .bind(g.map(|g| g.distance_m))
        .bind(a)
        .bind(b)
        .bind(cc)
        .bind(d)
        .bind(g.map(|g| g.max_speed_mps))
        .fetch_one(&mut *c)
        .await?;
        if let Some((track, data)) = track {
            set_track(c, crate::types::ClipId(id), track, data, input.now).await?;
        }
        n += 1;
    }
    Ok(Out::Count(n))
}

fn size_error() -> crate::Error {
    crate::Error::invalid("imported clip size out of range")
}
