//! The `Store` handle: what every clone shares (the writer's queue, the
//! read pool, the counters) and how a write is queued. Opening, the write
//! API, the queries, the tracks and the row decoding live in the
//! submodules.

mod ack;
mod cameras;
mod import;
mod journeys;
mod open;
mod plans;
mod queries;
mod rows;
mod skips;
mod tracks;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{ClipId, LegacyOutcome, LegacyReport, RecoveryReport};
use crate::writer::{Msg, Op, Out, Unawaited};

pub use ack::Ack;
use ack::Early;
pub use import::ImportedClip;
pub use open::{LegacyImport, StoreOptions};
pub(crate) use rows::cycle_from_row;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

struct Inner {
    tx: mpsc::UnboundedSender<Msg>,
    read: SqlitePool,
    path: PathBuf,
    writer: std::sync::Mutex<Option<JoinHandle<()>>>,
    queued_ff: Arc<AtomicUsize>,
    max_queued: usize,
    dropped: AtomicU64,
    unawaited: Arc<Unawaited>,
    recovery: RecoveryReport,
    legacy: Option<LegacyOutcome>,
    read_only: bool,
}

/// Handle to the store. Cheap to clone; all clones share one writer task
/// and one read pool. See the crate docs.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Runs blocking filesystem work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::invalid(format!("blocking task failed: {e}"))))
}

impl Store {
    /// Whether this handle was opened with [`open_read_only`](Self::open_read_only).
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What `open` repaired.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// What the legacy import did, if one ran during this `open`.
    pub fn legacy_report(&self) -> Option<&LegacyReport> {
        match self.inner.legacy.as_ref()? {
            LegacyOutcome::Imported(r) => Some(r),
            LegacyOutcome::Skipped { .. } => None,
        }
    }

    /// What happened to a legacy database during this `open`: imported, or
    /// found but skipped because it cannot be read (with the reason).
    /// `None` when there was nothing to import (not asked, no file, or
    /// imported by an earlier run).
    pub fn legacy_outcome(&self) -> Option<&LegacyOutcome> {
        self.inner.legacy.as_ref()
    }

    /// Fire-and-forget commands dropped because the writer queue was full.
    pub fn dropped_timings(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    fn send<T>(&self, op: Op, map: fn(Out) -> Result<T>) -> Ack<T> {
        if self.inner.read_only {
            let e = ErrorKind::ReadOnly { action: op.name() }.into();
            return self.refuse(e, &op, map);
        }
        let (reply, rx) = oneshot::channel();
        match self.inner.tx.send(Msg::Cmd {
            op,
            reply: Some(reply),
        }) {
            Ok(()) => Ack {
                rx: Some(rx),
                early: None,
                map,
            },
            Err(mpsc::error::SendError(msg)) => match msg {
                Msg::Cmd { op, .. } => self.refuse(ErrorKind::Closed.into(), &op, map),
                Msg::Close(_) => self.refuse_as(ErrorKind::Closed.into(), "closing", None, map),
            },
        }
    }

    fn refuse<T>(&self, e: Error, op: &Op, map: fn(Out) -> Result<T>) -> Ack<T> {
        self.refuse_as(e, op.name(), op.clip(), map)
    }

    fn refuse_as<T>(
        &self,
        error: Error,
        command: &'static str,
        clip: Option<ClipId>,
        map: fn(Out) -> Result<T>,
    ) -> Ack<T> {
        Ack {
            rx: None,
            early: Some(Early {
                error,
                unawaited: self.inner.unawaited.clone(),
                command,
                clip,
            }),
            map,
        }
    }

    /// Writes that nobody awaited (fire-and-forget timings,
    /// [`Ack::submit`](crate::Ack::submit), a dropped [`Ack`](crate::Ack)) and that failed, since the store
    /// was opened. Each was logged with its clip and command. The cycle row
    /// records the ones of its cycle ([`CycleRow::write_failures`](crate::CycleRow::write_failures)).
    pub fn unawaited_write_failures(&self) -> u64 {
        self.inner.unawaited.get()
    }

    /// Drains the queue, commits, stops the writer and closes the pool.
    /// Later writes on any clone fail with [`Error::is_closed`](crate::Error::is_closed).
    pub async fn close(&self) -> Result<()> {
        let (done, wait) = oneshot::channel();
        if self.inner.tx.send(Msg::Close(done)).is_ok() {
            let _ = wait.await;
        }
        let handle = self
            .inner
            .writer
            .lock()
            .map_err(|_| Error::invalid("writer handle poisoned"))?
            .take();
        if let Some(h) = handle {
            let _ = h.await;
        }
        self.inner.read.close().await;
        Ok(())
    }
}
