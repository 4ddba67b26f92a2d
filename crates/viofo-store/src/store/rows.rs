//! Decoding database rows into [`ClipRow`](crate::ClipRow) and [`CycleRow`](crate::CycleRow), and the
//! column list every clip query selects.

use std::path::PathBuf;

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::{Error, Result};
use crate::types::{
    Channel, ClipId, ClipRow, ClipState, CycleId, CycleMode, CycleOutcome, CycleRow, GpsSummary,
    StageTimes,
};

pub(crate) const CLIP_COLUMNS: &str = "id, camera_id, name, remote_path, size, size_exact, locked, \
    parking, channel, recorded_at, state, attempts, last_error, priority, local_path, local_size, \
    gps_points, gps_first_fix_ms, gps_last_fix_ms, gps_distance_m, gps_min_lon, gps_min_lat, \
    gps_max_lon, gps_max_lat, gps_max_speed_mps, deleted_from_camera_at, delete_outcome, cycle_id, \
    listed_at, download_started_at, download_finished_at, tail_submitted_at, tail_started_at, \
    gps_finished_at, delete_finished_at, tail_finished_at, deferrals, deferred_cycle, pruned_at, \
    skip_reason, superseded_at";

pub(super) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn clip_from_row(r: &SqliteRow) -> Result<ClipRow> {
    let g = |e: sqlx::Error| Error::db(e);
    let state: String = r.try_get("state").map_err(g)?;
    let channel: String = r.try_get("channel").map_err(g)?;
    let gps_points: Option<i64> = r.try_get("gps_points").map_err(g)?;
    let gps = match gps_points {
        None => None,
        Some(points) => {
            let bb: [Option<f64>; 4] = [
                r.try_get("gps_min_lon").map_err(g)?,
                r.try_get("gps_min_lat").map_err(g)?,
                r.try_get("gps_max_lon").map_err(g)?,
                r.try_get("gps_max_lat").map_err(g)?,
            ];
            let bbox = match bb {
                [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
                _ => None,
            };
            Some(GpsSummary {
                points: u32::try_from(points).unwrap_or(u32::MAX),
                first_fix_ms: r.try_get("gps_first_fix_ms").map_err(g)?,
                last_fix_ms: r.try_get("gps_last_fix_ms").map_err(g)?,
                distance_m: r
                    .try_get::<Option<f64>, _>("gps_distance_m")
                    .map_err(g)?
                    .unwrap_or(0.0),
                bbox,
                max_speed_mps: r
                    .try_get::<Option<f64>, _>("gps_max_speed_mps")
                    .map_err(g)?
                    .unwrap_or(0.0),
            })
        }
    };
    let attempts: i64 = r.try_get("attempts").map_err(g)?;
    let deferrals: i64 = r.try_get("deferrals").map_err(g)?;
    let deferred_cycle: Option<i64> = r.try_get("deferred_cycle").map_err(g)?;
    Ok(ClipRow {
        id: ClipId(r.try_get("id").map_err(g)?),
        camera_id: r.try_get("camera_id").map_err(g)?,
        name: r.try_get("name").map_err(g)?,
        remote_path: r.try_get("remote_path").map_err(g)?,
        size: to_u64(r.try_get("size").map_err(g)?),
        size_exact: r.try_get("size_exact").map_err(g)?,
        locked: r.try_get("locked").map_err(g)?,
        parking: r.try_get("parking").map_err(g)?,
        channel: Channel::from_code(&channel),
        recorded_at: r.try_get("recorded_at").map_err(g)?,
        state: ClipState::parse(&state)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: r.try_get("last_error").map_err(g)?,
        deferrals: u32::try_from(deferrals).unwrap_or(u32::MAX),
        deferred_in: deferred_cycle.filter(|c| *c > 0).map(CycleId),
        priority: r.try_get("priority").map_err(g)?,
        local_path: r
            .try_get::<Option<String>, _>("local_path")
            .map_err(g)?
            .map(PathBuf::from),
        local_size: r
            .try_get::<Option<i64>, _>("local_size")
            .map_err(g)?
            .map(to_u64),
        gps,
        deleted_from_camera_at: r.try_get("deleted_from_camera_at").map_err(g)?,
        pruned_at: r.try_get("pruned_at").map_err(g)?,
        delete_outcome: r.try_get("delete_outcome").map_err(g)?,
        cycle_id: r
            .try_get::<Option<i64>, _>("cycle_id")
            .map_err(g)?
            .map(CycleId),
        skip_reason: r.try_get("skip_reason").map_err(g)?,
        superseded_at: r.try_get("superseded_at").map_err(g)?,
        times: StageTimes {
            listed_at: r.try_get("listed_at").map_err(g)?,
            download_started_at: r.try_get("download_started_at").map_err(g)?,
            download_finished_at: r.try_get("download_finished_at").map_err(g)?,
            tail_submitted_at: r.try_get("tail_submitted_at").map_err(g)?,
            tail_started_at: r.try_get("tail_started_at").map_err(g)?,
            gps_finished_at: r.try_get("gps_finished_at").map_err(g)?,
            delete_finished_at: r.try_get("delete_finished_at").map_err(g)?,
            tail_finished_at: r.try_get("tail_finished_at").map_err(g)?,
        },
    })
}

pub(crate) fn cycle_from_row(r: &SqliteRow) -> Result<CycleRow> {
    let g = |e: sqlx::Error| Error::db(e);
    let mode: String = r.try_get("mode").map_err(g)?;
    let outcome: Option<String> = r.try_get("outcome").map_err(g)?;
    Ok(CycleRow {
        id: CycleId(r.try_get("id").map_err(g)?),
        camera_id: r.try_get("camera_id").map_err(g)?,
        mode: CycleMode::parse(&mode)?,
        started_at: r.try_get("started_at").map_err(g)?,
        finished_at: r.try_get("finished_at").map_err(g)?,
        clips: r.try_get::<Option<i64>, _>("clips").map_err(g)?.map(to_u64),
        bytes: r.try_get::<Option<i64>, _>("bytes").map_err(g)?.map(to_u64),
        outcome: outcome.as_deref().map(CycleOutcome::parse).transpose()?,
        note: r.try_get("note").map_err(g)?,
        failed: r
            .try_get::<Option<i64>, _>("failed")
            .map_err(g)?
            .map(to_u64),
        deferred: r
            .try_get::<Option<i64>, _>("deferred")
            .map_err(g)?
            .map(to_u64),
        write_failures: r
            .try_get::<Option<i64>, _>("write_failures")
            .map_err(g)?
            .map(to_u64),
    })
}
