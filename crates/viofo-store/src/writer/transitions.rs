//! The state transitions: what each command (other than reconcile) does to
//! the database, with the state machine's guards.

use std::collections::HashMap;

use sqlx::SqliteConnection;

use crate::error::{Error, ErrorKind};
use crate::types::{ClipId, ClipState, CycleId, CycleOutcome, DeleteOutcome, FailOutcome};

use super::ops::{Op, Out};
use super::{OpErr, OpResult};

async fn state_of(c: &mut SqliteConnection, id: ClipId) -> OpResult<ClipState> {
    let s: Option<String> = sqlx::query_scalar("SELECT state FROM clips WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    match s {
        Some(s) => Ok(ClipState::parse(&s)?),
        None => Err(OpErr::Refuse(ErrorKind::ClipNotFound(id).into())),
    }
}

async fn guard(c: &mut SqliteConnection, id: ClipId, to: ClipState) -> OpResult<ClipState> {
    let from = state_of(c, id).await?;
    if !from.can_become(to) {
        return Err(OpErr::Refuse(
            ErrorKind::IllegalTransition { id, from, to }.into(),
        ));
    }
    Ok(from)
}

/// Refuses the move to `to` unless the clip is `downloading` (the only
/// state a download can finish, fail or be released from).
async fn from_downloading(c: &mut SqliteConnection, id: ClipId, to: ClipState) -> OpResult<()> {
    let from = state_of(c, id).await?;
    if from != ClipState::Downloading {
        return Err(OpErr::Refuse(
            ErrorKind::IllegalTransition { id, from, to }.into(),
        ));
    }
    Ok(())
}

async fn require(
    c: &mut SqliteConnection,
    id: ClipId,
    allowed: &[ClipState],
    action: &'static str,
    needs: &'static str,
) -> OpResult<ClipState> {
    let state = state_of(c, id).await?;
    if !allowed.contains(&state) {
        return Err(OpErr::Refuse(
            ErrorKind::WrongState {
                id,
                state,
                action,
                needs,
            }
            .into(),
        ));
    }
    Ok(state)
}

/// A guarded UPDATE changed no row, yet its guard's own check found
/// nothing wrong (it cannot happen inside one transaction).
fn unchanged(op: &Op) -> OpErr {
    OpErr::Refuse(Error::invalid(format!("{} changed no row", op.name())))
}

/// What commands need beyond the connection.
pub(super) struct ExecCtx<'a> {
    pub(super) max_attempts: u32,
    /// Unawaited write failures so far, this batch's included.
    pub(super) unawaited: u64,
    pub(super) cycle_starts: &'a mut HashMap<i64, u64>,
}

pub(super) async fn exec(
    c: &mut SqliteConnection,
    op: &Op,
    ctx: &mut ExecCtx<'_>,
) -> OpResult<Out> {
    let max_attempts = ctx.max_attempts;
    match op {
        Op::Reconcile(_) => Err(OpErr::Refuse(Error::invalid(
            "reconcile dispatched wrongly",
        ))),
        Op::StartDownload { id, cycle } => {
            // One statement on the usual path: the guards are in its WHERE
            // (pending only; the cycle must exist); when it changes nothing,
            // the checks below say why.
            let r = sqlx::query(
                "UPDATE clips SET state = 'downloading', cycle_id = COALESCE(?1, cycle_id), \
                 skip_reason = NULL WHERE id = ?2 AND state = 'pending' \
                 AND (?1 IS NULL OR EXISTS (SELECT 1 FROM cycles WHERE id = ?1))",
            )
            .bind(cycle.map(|c| c.0))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            if r.rows_affected() == 1 {
                return Ok(Out::Unit);
            }
            guard(c, *id, ClipState::Downloading).await?;
            if let Some(cy) = cycle {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM cycles WHERE id = ?")
                    .bind(cy.0)
                    .fetch_optional(&mut *c)
                    .await?;
                if found.is_none() {
                    return Err(OpErr::Refuse(ErrorKind::CycleNotFound(*cy).into()));
                }
            }
            Err(unchanged(op))
        }
        Op::FinishDownload {
            id,
            local_path,
            size,
        } => {
            let r = sqlx::query(
                "UPDATE clips SET state = 'downloaded', local_path = ?, local_size = ?, \
                 last_error = NULL, deferred_cycle = NULL WHERE id = ? AND state = 'downloading'",
            )
            .bind(local_path)
            .bind(size)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            if r.rows_affected() == 0 {
                from_downloading(c, *id, ClipState::Downloaded).await?;
                return Err(unchanged(op));
            }
            Ok(Out::Unit)
        }
        Op::Fail {
            id,
            error,
            retryable,
        } => {
            from_downloading(c, *id, ClipState::Failed).await?;
            let (attempts, deferrals): (i64, i64) =
                sqlx::query_as("SELECT attempts, deferrals FROM clips WHERE id = ?")
                    .bind(id.0)
                    .fetch_one(&mut *c)
                    .await?;
            let attempts = attempts.saturating_add(1);
            let to_u32 = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
            if !*retryable {
                sqlx::query(
                    "UPDATE clips SET state = 'failed', attempts = ?, last_error = ? WHERE id = ?",
                )
                .bind(attempts)
                .bind(error)
                .bind(id.0)
                .execute(&mut *c)
                .await?;
                return Ok(Out::Fail(FailOutcome::Failed));
            }
            if attempts < i64::from(max_attempts) {
                sqlx::query(
                    "UPDATE clips SET state = 'pending', attempts = ?, last_error = ? WHERE id = ?",
                )
                .bind(attempts)
                .bind(error)
                .bind(id.0)
                .execute(&mut *c)
                .await?;
                return Ok(Out::Fail(FailOutcome::RetryNow {
                    attempts: to_u32(attempts),
                }));
            }
            // Attempts exhausted on transient errors: defer to a later
            // cycle, never strand it as failed.
            let deferrals = deferrals.saturating_add(1);
            sqlx::query(
                "UPDATE clips SET state = 'pending', attempts = 0, deferrals = ?, \
                 last_error = ?, deferred_cycle = COALESCE((SELECT MAX(id) FROM cycles \
                 WHERE cycles.camera_id = clips.camera_id), 0) WHERE id = ?",
            )
            .bind(deferrals)
            .bind(error)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            tracing::info!(clip = %id, deferrals, error = %error, "download attempts exhausted; deferred to the next cycle");
            Ok(Out::Fail(FailOutcome::Deferred {
                deferrals: to_u32(deferrals),
            }))
        }
        Op::Release { id } => {
            let r = sqlx::query(
                "UPDATE clips SET state = 'pending' WHERE id = ? AND state = 'downloading'",
            )
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            if r.rows_affected() == 0 {
                from_downloading(c, *id, ClipState::Pending).await?;
                return Err(unchanged(op));
            }
            Ok(Out::Unit)
        }
        Op::SetGps { id, gps } => {
            let [a, b, cc, d] = match gps.bbox {
                Some(bb) => bb.map(Some),
                None => [None; 4],
            };
            let r = sqlx::query(
                "UPDATE clips SET gps_points = ?, gps_first_fix_ms = ?, gps_last_fix_ms = ?, \
                 gps_distance_m = ?, gps_min_lon = ?, gps_min_lat = ?, gps_max_lon = ?, \
                 gps_max_lat = ?, gps_max_speed_mps = ? \
                 WHERE id = ? AND state IN ('downloaded', 'done')",
            )
            .bind(i64::from(gps.points))
            .bind(gps.first_fix_ms)
            .bind(gps.last_fix_ms)
            .bind(gps.distance_m)
            .bind(a)
            .bind(b)
            .bind(cc)
            .bind(d)
            .bind(gps.max_speed_mps)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            if r.rows_affected() == 0 {
                require(
                    c,
                    *id,
                    &[ClipState::Downloaded, ClipState::Done],
                    "set_gps",
                    "downloaded or done",
                )
                .await?;
                return Err(unchanged(op));
            }
            Ok(Out::Unit)
        }
        Op::RecordDelete { id, outcome, at } => {
            require(
                c,
                *id,
                &[ClipState::Downloaded, ClipState::Done],
                "record_delete",
                "downloaded or done (a clip is only deleted from the camera once archived)",
            )
            .await?;
            let deleted_at = matches!(outcome, DeleteOutcome::Confirmed).then_some(*at);
            sqlx::query(
                "UPDATE clips SET delete_outcome = ?, \
                 deleted_from_camera_at = COALESCE(?, deleted_from_camera_at) WHERE id = ?",
            )
            .bind(outcome.to_text())
            .bind(deleted_at)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            Ok(Out::Unit)
        }
        Op::FinishTail { id } => {
            // `downloaded` is the only state that may become `done`.
            let r = sqlx::query(
                "UPDATE clips SET state = 'done' WHERE id = ? AND state = 'downloaded'",
            )
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            if r.rows_affected() == 0 {
                guard(c, *id, ClipState::Done).await?;
                return Err(unchanged(op));
            }
            Ok(Out::Unit)
        }
        Op::MarkPruned { id, at } => {
            guard(c, *id, ClipState::Pruned).await?;
            sqlx::query("UPDATE clips SET state = 'pruned', pruned_at = ? WHERE id = ?")
                .bind(at)
                .bind(id.0)
                .execute(&mut *c)
                .await?;
            Ok(Out::Unit)
        }
        Op::Supersede { id, at } => {
            sqlx::query(
                "UPDATE clips SET superseded_at = ? WHERE id = ? AND superseded_at IS NULL",
            )
            .bind(at)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            Ok(Out::Unit)
        }
        Op::RetryFailed { camera_id } => {
            let r = sqlx::query(
                "UPDATE clips SET state = 'pending', attempts = 0 \
                 WHERE state = 'failed' AND (?1 IS NULL OR camera_id = ?1)",
            )
            .bind(camera_id.as_deref())
            .execute(&mut *c)
            .await?;
            Ok(Out::Count(r.rows_affected()))
        }
        Op::SetPriority { id, priority } => {
            let r = sqlx::query("UPDATE clips SET priority = ? WHERE id = ?")
                .bind(priority)
                .bind(id.0)
                .execute(&mut *c)
                .await?;
            if r.rows_affected() == 0 {
                return Err(OpErr::Refuse(ErrorKind::ClipNotFound(*id).into()));
            }
            Ok(Out::Unit)
        }
        Op::Timing { id, stage, at } => {
            let mut cols = [None; super::timings::STAGES];
            super::timings::put(&mut cols, *stage, *at);
            super::timings::set(c, *id, &cols).await
        }
        Op::BeginCycle {
            camera_id,
            mode,
            at,
        } => {
            let r =
                sqlx::query("INSERT INTO cycles (camera_id, mode, started_at) VALUES (?, ?, ?)")
                    .bind(camera_id)
                    .bind(mode.as_str())
                    .bind(at)
                    .execute(&mut *c)
                    .await?;
            let id = r.last_insert_rowid();
            ctx.cycle_starts.insert(id, ctx.unawaited);
            Ok(Out::Cycle(CycleId(id)))
        }
        Op::FinishCycle { id, stats, at } => {
            let (failed, deferred): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM clips WHERE cycle_id = ?1 AND state = 'failed'), \
                 (SELECT COUNT(*) FROM clips WHERE deferred_cycle = ?1 AND state = 'pending')",
            )
            .bind(id.0)
            .fetch_one(&mut *c)
            .await?;
            let write_failures = ctx
                .cycle_starts
                .get(&id.0)
                .map(|start| ctx.unawaited.saturating_sub(*start));
            let left_behind = failed > 0 || deferred > 0 || write_failures.is_some_and(|n| n > 0);
            let outcome = match stats.outcome {
                CycleOutcome::Completed if left_behind => CycleOutcome::CompletedWithFailures,
                other => other,
            };
            let r = sqlx::query(
                "UPDATE cycles SET finished_at = ?, clips = ?, bytes = ?, outcome = ?, note = ?, \
                 failed = ?, deferred = ?, write_failures = ? WHERE id = ?",
            )
            .bind(at)
            .bind(i64::try_from(stats.clips).unwrap_or(i64::MAX))
            .bind(i64::try_from(stats.bytes).unwrap_or(i64::MAX))
            .bind(outcome.as_str())
            .bind(stats.note.as_deref())
            .bind(failed)
            .bind(deferred)
            .bind(write_failures.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            if r.rows_affected() == 0 {
                return Err(OpErr::Refuse(ErrorKind::CycleNotFound(*id).into()));
            }
            let row = sqlx::query("SELECT * FROM cycles WHERE id = ?")
                .bind(id.0)
                .fetch_one(&mut *c)
                .await?;
            let row = crate::store::cycle_from_row(&row)?;
            ctx.cycle_starts.remove(&id.0);
            Ok(Out::CycleRow(Box::new(row)))
        }
        Op::SetTrack {
            id,
            track,
            data,
            at,
        } => super::tracks::set_track(c, *id, track, data, *at).await,
        Op::SawCamera { seen, at } => super::cameras::saw_camera(c, seen, *at).await,
        Op::SetAnchor { camera_id, anchor } => {
            super::cameras::set_anchor(c, camera_id, anchor).await
        }
        Op::RecordImports(input) => super::import::record(c, input).await,
        Op::SetSkip { id, reason } => super::skips::set_skip(c, *id, reason.as_deref()).await,
        Op::ReplaceJourneys(input) => super::journeys::replace(c, input).await,
        Op::PageLimit(pages) => {
            // SQLite's own ceiling when lifted; never below the database's
            // size (SQLite keeps the larger).
            let n = pages.unwrap_or(4_294_967_294);
            sqlx::query(&format!("PRAGMA max_page_count = {n}"))
                .execute(&mut *c)
                .await?;
            Ok(Out::Unit)
        }
        Op::Flush => Ok(Out::Unit),
    }
}
