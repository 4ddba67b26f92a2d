//! The single writer task: owns the only write connection, drains queued
//! commands into one `BEGIN IMMEDIATE` transaction, commits (synchronous =
//! FULL), then acknowledges each caller.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result, is_sqlite_busy};
use crate::types::{
    ArchivedFile, ClipId, ClipState, CycleId, CycleMode, CycleOutcome, CycleRow, CycleStats,
    DeleteOutcome, FailOutcome, GpsSummary, ListedClip, ReconcileReport, Stage,
};

/// Most commands folded into one transaction.
pub(crate) const MAX_BATCH: usize = 4096;
/// Rows per multi-row INSERT statement in reconcile.
const INSERT_CHUNK: usize = 400;
/// Ids per `IN (...)` list.
const ID_CHUNK: usize = 900;

/// One write command.
#[derive(Debug)]
pub(crate) enum Op {
    Reconcile(Box<ReconcileInput>),
    StartDownload {
        id: ClipId,
        cycle: Option<CycleId>,
    },
    FinishDownload {
        id: ClipId,
        local_path: String,
        size: i64,
    },
    Fail {
        id: ClipId,
        error: String,
        retryable: bool,
    },
    Release {
        id: ClipId,
    },
    SetGps {
        id: ClipId,
        gps: GpsSummary,
    },
    RecordDelete {
        id: ClipId,
        outcome: DeleteOutcome,
        at: i64,
    },
    FinishTail {
        id: ClipId,
    },
    MarkPruned {
        id: ClipId,
        at: i64,
    },
    RetryFailed {
        camera_id: Option<String>,
    },
    SetPriority {
        id: ClipId,
        priority: i64,
    },
    Timing {
        id: ClipId,
        stage: Stage,
        at: i64,
    },
    BeginCycle {
        camera_id: String,
        mode: CycleMode,
        at: i64,
    },
    FinishCycle {
        id: CycleId,
        stats: CycleStats,
        at: i64,
    },
    Flush,
}

impl Op {
    /// The clip the command is about, if it is about one.
    pub(crate) fn clip(&self) -> Option<ClipId> {
        match self {
            Op::StartDownload { id, .. }
            | Op::FinishDownload { id, .. }
            | Op::Fail { id, .. }
            | Op::Release { id }
            | Op::SetGps { id, .. }
            | Op::RecordDelete { id, .. }
            | Op::FinishTail { id }
            | Op::MarkPruned { id, .. }
            | Op::SetPriority { id, .. }
            | Op::Timing { id, .. } => Some(*id),
            Op::Reconcile(_)
            | Op::RetryFailed { .. }
            | Op::BeginCycle { .. }
            | Op::FinishCycle { .. }
            | Op::Flush => None,
        }
    }

    /// What the command does, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Reconcile(_) => "reconciling a listing",
            Op::StartDownload { .. } => "starting a download",
            Op::FinishDownload { .. } => "recording a download",
            Op::Fail { .. } => "recording a failure",
            Op::Release { .. } => "releasing a clip",
            Op::SetGps { .. } => "recording a GPS summary",
            Op::RecordDelete { .. } => "recording a delete",
            Op::FinishTail { .. } => "finishing a tail",
            Op::MarkPruned { .. } => "recording a pruned clip",
            Op::RetryFailed { .. } => "retrying failed clips",
            Op::SetPriority { .. } => "setting a priority",
            Op::Timing { .. } => "recording a timing",
            Op::BeginCycle { .. } => "starting a cycle",
            Op::FinishCycle { .. } => "finishing a cycle",
            Op::Flush => "flushing",
        }
    }
}

/// Counts (and logs) the failures of writes whose result nobody reads:
/// fire-and-forget timings, [`Ack::submit`](crate::Ack::submit), a dropped
/// [`Ack`](crate::Ack).
#[derive(Debug, Default)]
pub(crate) struct Unawaited {
    failures: AtomicU64,
}

impl Unawaited {
    /// Logs one such failure with the clip and the command, and counts it.
    pub(crate) fn failed(&self, command: &'static str, clip: Option<ClipId>, error: &Error) {
        self.count();
        match clip {
            Some(clip) => tracing::warn!(
                %clip,
                command,
                %error,
                "state write for clip {clip} failed ({command}) and nobody was waiting for it: {error}"
            ),
            None => tracing::warn!(
                command,
                %error,
                "state write failed ({command}) and nobody was waiting for it: {error}"
            ),
        }
    }

    pub(crate) fn count(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub(crate) struct ReconcileInput {
    pub(crate) camera_id: String,
    pub(crate) listing: Vec<ListedClip>,
    pub(crate) archived: HashMap<String, ArchivedFile>,
    pub(crate) now: i64,
}

/// A command's result.
#[derive(Debug)]
pub(crate) enum Out {
    Unit,
    Reconcile(ReconcileReport),
    Fail(FailOutcome),
    CycleRow(Box<CycleRow>),
    Count(u64),
    Cycle(CycleId),
}

pub(crate) type Reply = oneshot::Sender<Result<Out>>;

#[derive(Debug)]
pub(crate) enum Msg {
    Cmd { op: Op, reply: Option<Reply> },
    Close(oneshot::Sender<()>),
}

pub(crate) struct Writer {
    pub(crate) conn: SqliteConnection,
    pub(crate) rx: mpsc::UnboundedReceiver<Msg>,
    /// Fire-and-forget commands sent but not yet taken by the writer.
    pub(crate) queued_ff: Arc<AtomicUsize>,
    pub(crate) max_attempts: u32,
    pub(crate) retry_budget: Duration,
    pub(crate) shutdown: Option<CancellationToken>,
    /// Failures of writes nobody awaited.
    pub(crate) unawaited: Arc<Unawaited>,
    /// [`Unawaited`] count when each cycle of this process began, for the
    /// cycle row's `write_failures`.
    pub(crate) cycle_starts: HashMap<i64, u64>,
    /// The owner lock (`<db>.lock`), released when the writer ends.
    pub(crate) _owner: std::fs::File,
}

async fn cancelled(tok: &Option<CancellationToken>) {
    match tok {
        Some(t) => t.cancelled().await,
        None => std::future::pending().await,
    }
}

enum OpErr {
    /// Abort the whole transaction (lock conflict) and retry the batch.
    Abort(sqlx::Error),
    /// This command fails; the others in the batch go on.
    Refuse(Error),
}

impl From<sqlx::Error> for OpErr {
    fn from(e: sqlx::Error) -> Self {
        if is_sqlite_busy(&e) {
            OpErr::Abort(e)
        } else {
            OpErr::Refuse(Error::db(e))
        }
    }
}

impl From<Error> for OpErr {
    fn from(e: Error) -> Self {
        OpErr::Refuse(e)
    }
}

type OpResult<T> = std::result::Result<T, OpErr>;

impl Writer {
    pub(crate) async fn run(mut self) {
        let mut rx_closed = false;
        loop {
            let first = tokio::select! {
                biased;
                m = self.rx.recv() => m,
                () = cancelled(&self.shutdown), if !rx_closed => {
                    // Injected shutdown: take no new commands, drain what
                    // is queued, then stop.
                    self.rx.close();
                    rx_closed = true;
                    continue;
                }
            };
            let Some(first) = first else { break };
            let mut ops = Vec::new();
            let mut replies = Vec::new();
            let mut close = None;
            self.take(first, &mut ops, &mut replies, &mut close);
            while close.is_none() && ops.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(m) => self.take(m, &mut ops, &mut replies, &mut close),
                    Err(_) => break,
                }
            }
            if !ops.is_empty() {
                self.run_batch(ops, replies).await;
            }
            if let Some(done) = close {
                self.rx.close();
                while let Ok(m) = self.rx.try_recv() {
                    match m {
                        Msg::Cmd { op, reply } => {
                            if reply.is_none() {
                                self.queued_ff.fetch_sub(1, Ordering::Relaxed);
                            }
                            self.answer(&op, reply, Err(ErrorKind::Closed.into()));
                        }
                        Msg::Close(d) => {
                            let _ = d.send(());
                        }
                    }
                }
                self.finish().await;
                let _ = done.send(());
                return;
            }
        }
        self.finish().await;
    }

    async fn finish(self) {
        if let Err(e) = self.conn.close().await {
            tracing::warn!(error = %e, "closing the state database writer connection");
        }
    }

    fn take(
        &self,
        m: Msg,
        ops: &mut Vec<Op>,
        replies: &mut Vec<Option<Reply>>,
        close: &mut Option<oneshot::Sender<()>>,
    ) {
        match m {
            Msg::Cmd { op, reply } => {
                if reply.is_none() {
                    self.queued_ff.fetch_sub(1, Ordering::Relaxed);
                }
                ops.push(op);
                replies.push(reply);
            }
            Msg::Close(d) => *close = Some(d),
        }
    }

    async fn run_batch(&mut self, ops: Vec<Op>, replies: Vec<Option<Reply>>) {
        let keep = coalesce(&ops);
        // Results nobody will read: their failures count for the cycle row.
        let detached: Vec<bool> = replies
            .iter()
            .map(|r| r.as_ref().is_none_or(oneshot::Sender::is_closed))
            .collect();
        match self.execute(&ops, &keep, &detached).await {
            Ok(outs) => {
                for ((op, reply), out) in ops.iter().zip(replies).zip(outs) {
                    self.answer(op, reply, out);
                }
            }
            Err(e) => {
                let mut lost_timings = 0u64;
                for (op, reply) in ops.iter().zip(replies) {
                    if reply.is_none() && matches!(op, Op::Timing { .. }) {
                        // Counted, logged once below (thousands may queue).
                        lost_timings += 1;
                        self.unawaited.count();
                    } else {
                        self.answer(op, reply, Err(e.clone()));
                    }
                }
                tracing::error!(error = %e, lost_timings, "state write batch failed");
            }
        }
    }

    /// Hands a command's result to its caller. A failure nobody will read
    /// (fire-and-forget, or the caller dropped its [`Ack`](crate::Ack)) is
    /// logged with the clip and the command, and counted.
    fn answer(&self, op: &Op, reply: Option<Reply>, out: Result<Out>) {
        let unread = match reply {
            Some(r) => match r.send(out) {
                Ok(()) => return,
                Err(out) => out,
            },
            None => out,
        };
        if let Err(e) = unread {
            self.unawaited.failed(op.name(), op.clip(), &e);
        }
    }

    /// Runs the batch in one IMMEDIATE transaction, retrying the whole
    /// batch with backoff on lock conflicts until the budget is spent.
    async fn execute(
        &mut self,
        ops: &[Op],
        keep: &[bool],
        detached: &[bool],
    ) -> Result<Vec<Result<Out>>> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(5);
        let mut other_failures = 0u32;
        loop {
            match self.try_batch(ops, keep, detached).await {
                Ok(outs) => return Ok(outs),
                Err(e) if is_sqlite_busy(&e) => {
                    let waited = start.elapsed();
                    if waited >= self.retry_budget {
                        return Err(ErrorKind::Busy { waited }.into());
                    }
                    tracing::debug!(?waited, "state database busy, retrying the batch");
                }
                Err(e) => {
                    other_failures += 1;
                    if other_failures >= 3 {
                        return Err(Error::db(e));
                    }
                    tracing::warn!(error = %e, "state write batch failed, retrying");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    async fn try_batch(
        &mut self,
        ops: &[Op],
        keep: &[bool],
        detached: &[bool],
    ) -> std::result::Result<Vec<Result<Out>>, sqlx::Error> {
        let mut ctx = ExecCtx {
            max_attempts: self.max_attempts,
            unawaited: self.unawaited.get(),
            cycle_starts: &mut self.cycle_starts,
        };
        let mut tx = self.conn.begin_with("BEGIN IMMEDIATE").await?;
        let mut outs = Vec::with_capacity(ops.len());
        for ((op, keep), detached) in ops.iter().zip(keep).zip(detached) {
            let r = if !*keep {
                Ok(Out::Unit)
            } else if let Op::Reconcile(input) = op {
                sqlx::query("SAVEPOINT reconcile").execute(&mut *tx).await?;
                let r = reconcile(&mut tx, input).await;
                if r.is_err() {
                    sqlx::query("ROLLBACK TO reconcile")
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("RELEASE reconcile").execute(&mut *tx).await?;
                r.map(Out::Reconcile)
            } else {
                exec(&mut tx, op, &mut ctx).await
            };
            match r {
                Ok(o) => outs.push(Ok(o)),
                Err(OpErr::Abort(e)) => return Err(e),
                Err(OpErr::Refuse(e)) => {
                    if *detached {
                        // Counted (and logged) once the batch is answered.
                        ctx.unawaited += 1;
                    }
                    outs.push(Err(e));
                }
            }
        }
        tx.commit().await?;
        Ok(outs)
    }
}

/// Which ops to run: a fire-and-forget timing is skipped when a later
/// timing in the same batch sets the same column of the same clip (only
/// timing ops write the stage columns, so the result is the same; a burst of
/// timings costs one UPDATE per column).
fn coalesce(ops: &[Op]) -> Vec<bool> {
    let mut keep = vec![true; ops.len()];
    let mut seen: std::collections::HashSet<(i64, Stage)> = std::collections::HashSet::new();
    for (op, k) in ops.iter().zip(keep.iter_mut()).rev() {
        if let Op::Timing { id, stage, .. } = op
            && !seen.insert((id.0, *stage))
        {
            *k = false;
        }
    }
    keep
}

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

/// What commands need beyond the connection.
struct ExecCtx<'a> {
    max_attempts: u32,
    /// Unawaited write failures so far, this batch's included.
    unawaited: u64,
    cycle_starts: &'a mut HashMap<i64, u64>,
}

async fn exec(c: &mut SqliteConnection, op: &Op, ctx: &mut ExecCtx<'_>) -> OpResult<Out> {
    let max_attempts = ctx.max_attempts;
    match op {
        Op::Reconcile(_) => Err(OpErr::Refuse(Error::invalid(
            "reconcile dispatched wrongly",
        ))),
        Op::StartDownload { id, cycle } => {
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
            sqlx::query(
                "UPDATE clips SET state = 'downloading', cycle_id = COALESCE(?, cycle_id) \
                 WHERE id = ?",
            )
            .bind(cycle.map(|c| c.0))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
            Ok(Out::Unit)
        }
        Op::FinishDownload {
            id,
            local_path,
            size,
        } => {
            from_downloading(c, *id, ClipState::Downloaded).await?;
            sqlx::query(
                "UPDATE clips SET state = 'downloaded', local_path = ?, local_size = ?, \
                 last_error = NULL, deferred_cycle = NULL WHERE id = ?",
            )
            .bind(local_path)
            .bind(size)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
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
            from_downloading(c, *id, ClipState::Pending).await?;
            sqlx::query("UPDATE clips SET state = 'pending' WHERE id = ?")
                .bind(id.0)
                .execute(&mut *c)
                .await?;
            Ok(Out::Unit)
        }
        Op::SetGps { id, gps } => {
            require(
                c,
                *id,
                &[ClipState::Downloaded, ClipState::Done],
                "set_gps",
                "downloaded or done",
            )
            .await?;
            let [a, b, cc, d] = match gps.bbox {
                Some(bb) => bb.map(Some),
                None => [None; 4],
            };
            sqlx::query(
                "UPDATE clips SET gps_points = ?, gps_first_fix_ms = ?, gps_last_fix_ms = ?, \
                 gps_distance_m = ?, gps_min_lon = ?, gps_min_lat = ?, gps_max_lon = ?, \
                 gps_max_lat = ?, gps_max_speed_mps = ? WHERE id = ?",
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
            guard(c, *id, ClipState::Done).await?;
            sqlx::query("UPDATE clips SET state = 'done' WHERE id = ?")
                .bind(id.0)
                .execute(&mut *c)
                .await?;
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
            let sql = timing_sql(*stage);
            let r = sqlx::query(sql)
                .bind(at)
                .bind(id.0)
                .execute(&mut *c)
                .await?;
            if r.rows_affected() == 0 {
                return Err(OpErr::Refuse(ErrorKind::ClipNotFound(*id).into()));
            }
            Ok(Out::Unit)
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
        Op::Flush => Ok(Out::Unit),
    }
}

fn timing_sql(stage: Stage) -> &'static str {
    match stage {
        Stage::Listed => "UPDATE clips SET listed_at = ? WHERE id = ?",
        Stage::DownloadStarted => "UPDATE clips SET download_started_at = ? WHERE id = ?",
        Stage::DownloadFinished => "UPDATE clips SET download_finished_at = ? WHERE id = ?",
        Stage::TailSubmitted => "UPDATE clips SET tail_submitted_at = ? WHERE id = ?",
        Stage::TailStarted => "UPDATE clips SET tail_started_at = ? WHERE id = ?",
        Stage::GpsFinished => "UPDATE clips SET gps_finished_at = ? WHERE id = ?",
        Stage::DeleteFinished => "UPDATE clips SET delete_finished_at = ? WHERE id = ?",
        Stage::TailFinished => "UPDATE clips SET tail_finished_at = ? WHERE id = ?",
    }
}

/// What reconcile needs to know about an existing row.
struct Existing {
    id: i64,
    state: ClipState,
    remote_path: String,
    size: i64,
    size_exact: bool,
    locked: bool,
    parking: bool,
    channel: String,
    recorded_at: Option<i64>,
    local_size: Option<i64>,
}

/// Does the archived copy match the listed size? Exact sizes must be equal;
/// rounded sizes (HTML pages, two decimals of MB) may differ by 1 %.
pub(crate) fn archive_matches(listed_size: i64, exact: bool, archived: &ArchivedFile) -> bool {
    i64::try_from(archived.size).is_ok_and(|have| size_matches(listed_size, exact, have))
}

/// Does an archived size `have` match the listed size? (See
/// [`archive_matches`].)
fn size_matches(listed_size: i64, exact: bool, have: i64) -> bool {
    if have <= 0 {
        return false;
    }
    if exact {
        have == listed_size
    } else {
        (have - listed_size).abs() <= listed_size / 100
    }
}

pub(crate) fn path_text(p: &std::path::Path) -> Result<String> {
    p.to_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid(format!("path is not UTF-8: {}", p.display())))
}

/// Validates one listing entry; `None` (and a log line) if refused.
fn valid(clip: &ListedClip) -> Option<i64> {
    let bad = |why: &str| {
        tracing::warn!(name = ?clip.name, why, "listing entry refused by the store");
        None
    };
    if clip.name.is_empty() || clip.name.len() > 255 {
        return bad("name empty or longer than 255 bytes");
    }
    if clip.name.contains('\0') || clip.remote_path.contains('\0') {
        return bad("NUL in name or path");
    }
    if clip.remote_path.len() > 4096 {
        return bad("remote path too long");
    }
    match i64::try_from(clip.size) {
        Ok(s) => Some(s),
        Err(_) => bad("size out of range"),
    }
}

async fn reconcile(c: &mut SqliteConnection, input: &ReconcileInput) -> OpResult<ReconcileReport> {
    let mut report = ReconcileReport::default();
    // Rows that matter: the listed names (any state) and the pending /
    // failed ones (which may have gone). Fetched as one JSON row: decoding
    // thousands of rows one by one costs more than the rest of reconcile.
    let names: Vec<&str> = input.listing.iter().map(|c| c.name.as_str()).collect();
    let names_json =
        serde_json::to_string(&names).map_err(|e| Error::invalid(format!("listing names: {e}")))?;
    let json: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(id, name, state, remote_path, size, size_exact, \
         locked, parking, channel, recorded_at, local_size)) FROM clips WHERE camera_id = ?1 \
         AND (state IN ('pending', 'failed') OR name IN (SELECT value FROM json_each(?2)))",
    )
    .bind(&input.camera_id)
    .bind(&names_json)
    .fetch_one(&mut *c)
    .await?;
    type RowTuple = (
        i64,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<RowTuple> =
        serde_json::from_str(&json).map_err(|e| Error::corrupt(format!("reconcile rows: {e}")))?;
    let mut existing: HashMap<String, Existing> = HashMap::with_capacity(rows.len());
    for (
        id,
        name,
        state,
        remote_path,
        size,
        size_exact,
        locked,
        parking,
        channel,
        recorded_at,
        local_size,
    ) in rows
    {
        existing.insert(
            name,
            Existing {
                id,
                state: ClipState::parse(&state)?,
                remote_path,
                size,
                size_exact: size_exact != 0,
                locked: locked != 0,
                parking: parking != 0,
                channel,
                recorded_at,
                local_size,
            },
        );
    }

    let mut seen: std::collections::HashSet<&str> =
        std::collections::HashSet::with_capacity(input.listing.len());
    let mut inserts: Vec<(&ListedClip, i64, Option<&ArchivedFile>)> = Vec::new();
    let now = input.now;
    for clip in &input.listing {
        let Some(size) = valid(clip) else {
            report.invalid += 1;
            continue;
        };
        if !seen.insert(clip.name.as_str()) {
            tracing::warn!(name = ?clip.name, "duplicate name in listing; first entry kept");
            report.invalid += 1;
            continue;
        }
        let archived = input
            .archived
            .get(&clip.name)
            .filter(|a| archive_matches(size, clip.size_exact, a));
        let Some(ex) = existing.get(&clip.name) else {
            inserts.push((clip, size, archived));
            continue;
        };
        let mut touched = false;
        let changed = ex.remote_path != clip.remote_path
            || ex.size != size
            || ex.size_exact != clip.size_exact
            || ex.locked != clip.locked
            || ex.parking != clip.parking
            || ex.channel != clip.channel.as_str()
            || (clip.recorded_at.is_some() && ex.recorded_at != clip.recorded_at);
        if changed {
            sqlx::query(
                "UPDATE clips SET remote_path = ?, size = ?, size_exact = ?, locked = ?, \
                 parking = ?, channel = ?, recorded_at = COALESCE(?, recorded_at) WHERE id = ?",
            )
            .bind(&clip.remote_path)
            .bind(size)
            .bind(clip.size_exact)
            .bind(clip.locked)
            .bind(clip.parking)
            .bind(clip.channel.as_str())
            .bind(clip.recorded_at)
            .bind(ex.id)
            .execute(&mut *c)
            .await?;
            report.refreshed_paths += 1;
            touched = true;
        }
        let healable = matches!(
            ex.state,
            ClipState::Pending | ClipState::Failed | ClipState::Gone
        );
        if let (true, Some(a)) = (healable, archived) {
            sqlx::query(
                "UPDATE clips SET state = 'downloaded', local_path = ?, local_size = ?, \
                 last_error = NULL WHERE id = ?",
            )
            .bind(path_text(&a.path)?)
            .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
            .bind(ex.id)
            .execute(&mut *c)
            .await?;
            report.healed += 1;
            touched = true;
        } else if let (ClipState::Done | ClipState::Downloaded, Some(have)) =
            (ex.state, ex.local_size)
            && !size_matches(size, clip.size_exact, have)
        {
            // The camera kept writing after we downloaded it: fetch it
            // again (the pipeline replaces the archive copy atomically).
            let why = format!(
                "size changed on the camera after the download: listed {size} bytes, the \
                 archive holds {have}; downloading it again"
            );
            tracing::info!(name = %clip.name, listed = size, archived = have, "{why}");
            sqlx::query(
                "UPDATE clips SET state = 'pending', attempts = 0, deferred_cycle = NULL, \
                 last_error = ? WHERE id = ?",
            )
            .bind(&why)
            .bind(ex.id)
            .execute(&mut *c)
            .await?;
            report.requeued_changed_size += 1;
            touched = true;
        } else if ex.state == ClipState::Gone {
            sqlx::query("UPDATE clips SET state = 'pending' WHERE id = ?")
                .bind(ex.id)
                .execute(&mut *c)
                .await?;
            report.reappeared += 1;
            touched = true;
        }
        if !touched {
            report.unchanged += 1;
        }
    }

    for chunk in inserts.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO clips (camera_id, name, remote_path, size, size_exact, locked, parking, \
             channel, recorded_at, state, local_path, local_size, listed_at) ",
        );
        let mut err = None;
        qb.push_values(chunk, |mut b, (clip, size, archived)| {
            let (state, lp, ls) = match archived {
                Some(a) => match path_text(&a.path) {
                    Ok(p) => ("downloaded", Some(p), i64::try_from(a.size).ok()),
                    Err(e) => {
                        err = Some(e);
                        ("pending", None, None)
                    }
                },
                None => ("pending", None, None),
            };
            b.push_bind(input.camera_id.clone())
                .push_bind(clip.name.clone())
                .push_bind(clip.remote_path.clone())
                .push_bind(*size)
                .push_bind(clip.size_exact)
                .push_bind(clip.locked)
                .push_bind(clip.parking)
                .push_bind(clip.channel.as_str())
                .push_bind(clip.recorded_at)
                .push_bind(state)
                .push_bind(lp)
                .push_bind(ls)
                .push_bind(now);
        });
        if let Some(e) = err {
            return Err(OpErr::Refuse(e));
        }
        qb.build().execute(&mut *c).await?;
    }
    for (_, _, archived) in &inserts {
        if archived.is_some() {
            report.healed += 1;
        } else {
            report.new += 1;
        }
    }

    let gone: Vec<i64> = existing
        .iter()
        .filter(|(name, ex)| {
            matches!(ex.state, ClipState::Pending | ClipState::Failed)
                && !seen.contains(name.as_str())
        })
        .map(|(_, ex)| ex.id)
        .collect();
    for chunk in gone.chunks(ID_CHUNK) {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("UPDATE clips SET state = 'gone' WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build().persistent(false).execute(&mut *c).await?;
    }
    report.gone = u64::try_from(gone.len()).unwrap_or(u64::MAX);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_keeps_the_last_timing_per_clip_and_stage() {
        let t = |id, stage, at| Op::Timing {
            id: ClipId(id),
            stage,
            at,
        };
        let ops = vec![
            t(1, Stage::GpsFinished, 1),
            t(1, Stage::TailStarted, 2),
            Op::Flush,
            t(2, Stage::GpsFinished, 3),
            t(1, Stage::GpsFinished, 4),
            Op::Release { id: ClipId(1) },
        ];
        assert_eq!(coalesce(&ops), vec![false, true, true, true, true, true]);
    }
}
