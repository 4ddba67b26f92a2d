//! The single writer task: owns the only write connection, drains queued
//! commands into one `BEGIN IMMEDIATE` transaction, commits (synchronous =
//! FULL), then acknowledges each caller. The commands are in `ops`, what
//! each does to the database in `transitions`, `reconcile` and `tracks`.

mod cameras;
mod import;
mod journeys;
mod ops;
mod reconcile;
mod skips;
mod timings;
mod tracks;
mod transitions;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, Sqlite, SqliteConnection, TransactionManager as _};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result, ends_transaction, is_sqlite_busy};

pub(crate) use import::{ImportInput, ImportRow};
pub(crate) use journeys::ReplaceInput;
pub(crate) use ops::{Msg, Op, Out, ReconcileInput, Reply, Unawaited};
use reconcile::reconcile;
pub(crate) use reconcile::{RECONCILE_ROWS, RECORDED_PATHS, path_text};
use transitions::{ExecCtx, exec};

/// Most commands folded into one transaction.
pub(crate) const MAX_BATCH: usize = 4096;
/// How long a batch that nobody awaits (state changes and timings queued
/// fire-and-forget) waits for more commands before its commit: the writes
/// of a burst (a clip's start, its tail) share one commit and its fsync
/// instead of one each. A batch with an awaited command commits at once.
const UNAWAITED_LINGER: Duration = Duration::from_millis(4);
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
    /// Abort the whole transaction and retry the batch: a lock conflict,
    /// or an error after which SQLite may have rolled the transaction back
    /// itself (a full disk, an I/O error, no memory), so nothing else of
    /// the batch may run outside it.
    Abort(sqlx::Error),
    /// This command fails; the others in the batch go on.
    Refuse(Error),
}

impl From<sqlx::Error> for OpErr {
    fn from(e: sqlx::Error) -> Self {
        if is_sqlite_busy(&e) || ends_transaction(&e) {
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
            self.drain(&mut ops, &mut replies, &mut close);
            if close.is_none()
                && !rx_closed
                && ops.len() < MAX_BATCH
                && replies.iter().all(Option::is_none)
            {
                tokio::time::sleep(UNAWAITED_LINGER).await;
                self.drain(&mut ops, &mut replies, &mut close);
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

    /// Takes what is queued, up to [`MAX_BATCH`] or a close request.
    fn drain(
        &mut self,
        ops: &mut Vec<Op>,
        replies: &mut Vec<Option<Reply>>,
        close: &mut Option<oneshot::Sender<()>>,
    ) {
        while close.is_none() && ops.len() < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(m) => self.take(m, ops, replies, close),
                Err(_) => break,
            }
        }
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
        let plan = coalesce(&ops);
        // Results nobody will read: their failures count for the cycle row.
        let detached: Vec<bool> = replies
            .iter()
            .map(|r| r.as_ref().is_none_or(oneshot::Sender::is_closed))
            .collect();
        match self.execute(&ops, &plan, &detached).await {
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
        plan: &[Plan],
        detached: &[bool],
    ) -> Result<Vec<Result<Out>>> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(5);
        let mut other_failures = 0u32;
        loop {
            let tried = self.try_batch(ops, plan, detached).await;
            if tried.is_err() {
                self.leave_transaction().await;
            }
            match tried {
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

    /// After a failed batch, makes sure the connection is in no
    /// transaction, so the next batch can begin one. When SQLite ended
    /// the transaction itself (a full disk), the rollback of the dropped
    /// transaction failed ("no transaction is active") and sqlx still
    /// counts it open, refusing every later `BEGIN`: a transaction is
    /// opened for that count's `ROLLBACK` to close.
    async fn leave_transaction(&mut self) {
        // The dropped transaction's rollback is queued: wait for it.
        if let Err(e) = self.conn.ping().await {
            tracing::warn!(error = %e, "state database writer connection");
            return;
        }
        if !self.conn.is_in_transaction() {
            return;
        }
        // Fails harmlessly if SQLite is still in the transaction.
        let _ = sqlx::query("BEGIN").execute(&mut self.conn).await;
        if let Err(e) =
            <Sqlite as sqlx::Database>::TransactionManager::rollback(&mut self.conn).await
        {
            tracing::warn!(error = %e, "rolling back a failed state write batch");
        }
    }

    async fn try_batch(
        &mut self,
        ops: &[Op],
        plan: &[Plan],
        detached: &[bool],
    ) -> std::result::Result<Vec<Result<Out>>, sqlx::Error> {
        let mut ctx = ExecCtx {
            max_attempts: self.max_attempts,
            unawaited: self.unawaited.get(),
            cycle_starts: &mut self.cycle_starts,
        };
        let mut tx = self.conn.begin_with("BEGIN IMMEDIATE").await?;
        let mut outs = Vec::with_capacity(ops.len());
        for (i, ((op, how), alone)) in ops.iter().zip(plan).zip(detached).enumerate() {
            let r = match how {
                // Answered below, once the op that writes it has run.
                Plan::Covered(_) => Ok(Out::Unit),
                Plan::Timings(cols) => match op.clip() {
                    Some(id) => timings::set(&mut tx, id, cols).await,
                    None => exec(&mut tx, op, &mut ctx).await,
                },
                Plan::Run => {
                    if let Op::Reconcile(input) = op {
                        sqlx::query("SAVEPOINT reconcile").execute(&mut *tx).await?;
                        let r = reconcile(&mut tx, input).await;
                        match r {
                            // The whole transaction goes (SQLite may have
                            // ended it already).
                            Err(OpErr::Abort(e)) => return Err(e),
                            Err(_) => {
                                sqlx::query("ROLLBACK TO reconcile")
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            Ok(_) => {}
                        }
                        sqlx::query("RELEASE reconcile").execute(&mut *tx).await?;
                        r.map(Out::Reconcile)
                    } else {
                        exec(&mut tx, op, &mut ctx).await
                    }
                }
            };
            match r {
                Ok(o) => outs.push(Ok(o)),
                Err(OpErr::Abort(e)) => return Err(e),
                Err(OpErr::Refuse(e)) => {
                    // Counted (and logged) once the batch is answered; the
                    // timings this one wrote share its failure.
                    let covered = plan_covering(plan, i)
                        .filter(|&k| detached.get(k).copied().unwrap_or(true))
                        .count();
                    ctx.unawaited += u64::from(*alone) + covered as u64;
                    outs.push(Err(e));
                }
            }
        }
        // A timing written by a later one shares its answer.
        for (i, p) in plan.iter().enumerate() {
            if let Plan::Covered(k) = p
                && let Some(Err(e)) = outs.get(*k)
            {
                let e = e.clone();
                if let Some(o) = outs.get_mut(i) {
                    *o = Err(e);
                }
            }
        }
        tx.commit().await?;
        Ok(outs)
    }
}

/// How the batch runs each op. A clip's stage timings in one batch are
/// written by one UPDATE, at the place of its last timing (only timing ops,
/// reconcile's inserts and imports write the stage columns: a reconcile or
/// an import ends the group); for each column the last timing wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// As it is.
    Run,
    /// The clip's timings of its group, one `Option` per [`Stage`] (at
    /// [`timings::index`]).
    Timings([Option<i64>; timings::STAGES]),
    /// A timing written by the op at this index: answered as that one.
    Covered(usize),
}

/// The ops answered as the one at `runner` (see [`Plan::Covered`]).
fn plan_covering(plan: &[Plan], runner: usize) -> impl Iterator<Item = usize> + '_ {
    plan.iter()
        .enumerate()
        .filter(move |(_, p)| **p == Plan::Covered(runner))
        .map(|(i, _)| i)
}

fn coalesce(ops: &[Op]) -> Vec<Plan> {
    let mut plan = vec![Plan::Run; ops.len()];
    // (segment, clip) -> index of the group's last timing.
    let mut last: HashMap<(usize, i64), usize> = HashMap::new();
    let mut segment = 0usize;
    for (i, op) in ops.iter().enumerate().rev() {
        match op {
            Op::Reconcile(_) | Op::RecordImports(_) => segment += 1,
            Op::Timing { id, stage, at } => match last.get(&(segment, id.0)) {
                Some(&k) => {
                    if let Some(Plan::Timings(cols)) = plan.get_mut(k) {
                        // Walking backwards: a later timing of the column wins.
                        timings::put(cols, *stage, *at);
                    }
                    if let Some(p) = plan.get_mut(i) {
                        *p = Plan::Covered(k);
                    }
                }
                None => {
                    let mut cols = [None; timings::STAGES];
                    timings::put(&mut cols, *stage, *at);
                    if let Some(p) = plan.get_mut(i) {
                        *p = Plan::Timings(cols);
                    }
                    last.insert((segment, id.0), i);
                }
            },
            _ => {}
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ClipId, Stage};

    #[test]
    fn coalesce_writes_a_clips_timings_at_its_last_and_the_last_per_stage_wins() {
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
        let mut one = [None; timings::STAGES];
        one[timings::index(Stage::TailStarted)] = Some(2);
        one[timings::index(Stage::GpsFinished)] = Some(4);
        let mut two = [None; timings::STAGES];
        two[timings::index(Stage::GpsFinished)] = Some(3);
        assert_eq!(
            coalesce(&ops),
            vec![
                Plan::Covered(4),
                Plan::Covered(4),
                Plan::Run,
                Plan::Timings(two),
                Plan::Timings(one),
                Plan::Run,
            ]
        );
    }

    #[test]
    fn coalesce_does_not_group_timings_across_an_import_or_a_reconcile() {
        let t = |at| Op::Timing {
            id: ClipId(1),
            stage: Stage::DownloadFinished,
            at,
        };
        let import = || {
            Op::RecordImports(Box::new(ImportInput {
                camera_id: String::new(),
                clips: Vec::new(),
                now: 0,
            }))
        };
        let ops = vec![t(1), import(), t(2), t(3)];
        let plan = coalesce(&ops);
        assert!(
            matches!(plan[0], Plan::Timings(c) if c[timings::index(Stage::DownloadFinished)] == Some(1))
        );
        assert_eq!(plan[1], Plan::Run);
        assert_eq!(plan[2], Plan::Covered(3));
        assert!(
            matches!(plan[3], Plan::Timings(c) if c[timings::index(Stage::DownloadFinished)] == Some(3))
        );
    }
}
