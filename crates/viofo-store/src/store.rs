//! The `Store` handle: opening, the write API (queued to the writer) and the
//! read API (read-only pool).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};
use crate::placement;
use crate::types::{
    ArchivedFile, Channel, ClipId, ClipRow, ClipState, CycleId, CycleMode, CycleOutcome, CycleRow,
    CycleStats, DeleteOutcome, FailOutcome, Filter, GpsSummary, LegacyOutcome, LegacyReport,
    ListedClip, Policy, ReconcileReport, RecoveryReport, Stage, StageTimes, StateCounts,
};
use crate::writer::{Msg, Op, Out, ReconcileInput, Unawaited, Writer};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where to import a Python-tool database from, and under which camera id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyImport {
    /// Camera id the imported rows get (the old tool knew one camera).
    pub camera_id: String,
    /// The legacy file. `None`: look for `<recordings_dir>/.viofosync.db`,
    /// then `/config/viofosync.db`.
    pub path: Option<PathBuf>,
}

/// How to open the store. `StoreOptions::default()` is a sensible start.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Database file. Default: `$XDG_STATE_HOME/viofosync/viofosync.db`
    /// ([`default_db_path`](crate::default_db_path)).
    pub path: Option<PathBuf>,
    /// The archive. A database inside it is refused; the legacy database is
    /// looked for in it.
    pub recordings_dir: Option<PathBuf>,
    /// Open even if the database folder is on a network filesystem.
    pub allow_network_fs: bool,
    /// Import a Python-tool database on first run (once; the file is then
    /// renamed `<name>.migrated`).
    pub legacy: Option<LegacyImport>,
    /// Download attempts before a clip becomes `failed` (default 5).
    pub max_attempts: u32,
    /// SQLite busy_timeout of every connection (default 5 s).
    pub busy_timeout: Duration,
    /// How long the writer keeps retrying a batch while another process
    /// holds the write lock before failing it with
    /// [`Error::is_busy`] (default 120 s).
    pub write_retry_budget: Duration,
    /// Read-only connections in the read pool (default 4).
    pub read_connections: u32,
    /// Fire-and-forget commands ([`Store::record_timing`]) that may wait for
    /// the writer before new ones are dropped (default 262,144, a few tens
    /// of MB; see the crate docs).
    pub max_queued_timings: usize,
    /// Injected shutdown: when cancelled, the writer takes no new commands,
    /// commits what is queued, and stops.
    pub shutdown: Option<CancellationToken>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            path: None,
            recordings_dir: None,
            allow_network_fs: false,
            legacy: None,
            max_attempts: 5,
            busy_timeout: Duration::from_secs(5),
            write_retry_budget: Duration::from_secs(120),
            read_connections: 4,
            max_queued_timings: 262_144,
            shutdown: None,
        }
    }
}

impl StoreOptions {
    /// Options for a database at `path`, everything else default.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Some(path.into()),
            ..Self::default()
        }
    }
}

/// A queued write's acknowledgement.
///
/// The command is queued when the method returns, whether or not this is
/// awaited; awaiting resolves once the transaction holding it committed
/// (synchronous = FULL: durable) or failed. Dropping it does not cancel the
/// write.
///
/// A write whose `Ack` is not awaited is never lost silently: if it fails,
/// the failure is logged (`tracing::warn`, naming the clip and the command)
/// and counted in [`Store::unawaited_write_failures`]. Say so explicitly
/// with [`submit`](Self::submit).
#[must_use = "the write is queued either way; await the Ack to know it is durable, or submit() it"]
#[derive(Debug)]
pub struct Ack<T> {
    rx: Option<oneshot::Receiver<Result<Out>>>,
    early: Option<Early>,
    map: fn(Out) -> Result<T>,
}

/// A write refused before it reached the writer, with what is needed to
/// report it if nobody awaits the [`Ack`].
#[derive(Debug)]
struct Early {
    error: Error,
    unawaited: Arc<Unawaited>,
    command: &'static str,
    clip: Option<ClipId>,
}

impl<T> Ack<T> {
    /// Lets the write go on without waiting for it. If it fails (refused by
    /// the state machine, database locked past the retry budget, store
    /// closed), the failure is logged with the clip and the command and
    /// counted in [`Store::unawaited_write_failures`]. Use it wherever an
    /// answer is not awaited (the same as dropping the `Ack`, but says so).
    pub fn submit(self) {}
}

impl<T> Drop for Ack<T> {
    fn drop(&mut self) {
        if let Some(e) = self.early.take() {
            e.unawaited.failed(e.command, e.clip, &e.error);
        }
        // A failure decided by the writer is reported there: its answer
        // finds this receiver gone.
    }
}

impl<T> Future for Ack<T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(e) = self.early.take() {
            return Poll::Ready(Err(e.error));
        }
        let map = self.map;
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(Err(ErrorKind::Closed.into()));
        };
        match Pin::new(rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.rx = None;
                Poll::Ready(match r {
                    Ok(Ok(out)) => map(out),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(ErrorKind::Closed.into()),
                })
            }
        }
    }
}

fn unexpected(out: Out) -> Error {
    Error::corrupt(format!("writer answered {out:?}"))
}

fn out_unit(o: Out) -> Result<()> {
    match o {
        Out::Unit => Ok(()),
        other => Err(unexpected(other)),
    }
}

fn out_fail(o: Out) -> Result<FailOutcome> {
    match o {
        Out::Fail(f) => Ok(f),
        other => Err(unexpected(other)),
    }
}

fn out_fail_state(o: Out) -> Result<ClipState> {
    out_fail(o).map(FailOutcome::state)
}

fn out_cycle_row(o: Out) -> Result<CycleRow> {
    match o {
        Out::CycleRow(r) => Ok(*r),
        other => Err(unexpected(other)),
    }
}

fn out_cycle_done(o: Out) -> Result<()> {
    out_cycle_row(o).map(drop)
}

fn out_count(o: Out) -> Result<u64> {
    match o {
        Out::Count(n) => Ok(n),
        other => Err(unexpected(other)),
    }
}

fn out_cycle(o: Out) -> Result<CycleId> {
    match o {
        Out::Cycle(c) => Ok(c),
        other => Err(unexpected(other)),
    }
}

fn out_reconcile(o: Out) -> Result<ReconcileReport> {
    match o {
        Out::Reconcile(r) => Ok(r),
        other => Err(unexpected(other)),
    }
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

pub(crate) const CLIP_COLUMNS: &str = "id, camera_id, name, remote_path, size, size_exact, locked, \
    parking, channel, recorded_at, state, attempts, last_error, priority, local_path, local_size, \
    gps_points, gps_first_fix_ms, gps_last_fix_ms, gps_distance_m, gps_min_lon, gps_min_lat, \
    gps_max_lon, gps_max_lat, gps_max_speed_mps, deleted_from_camera_at, delete_outcome, cycle_id, \
    listed_at, download_started_at, download_finished_at, tail_submitted_at, tail_started_at, \
    gps_finished_at, delete_finished_at, tail_finished_at, deferrals, deferred_cycle, pruned_at";

fn to_u64(v: i64) -> u64 {
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

/// The database file the options name, or the default one.
fn db_path(opts: &StoreOptions) -> Result<PathBuf> {
    match &opts.path {
        Some(p) => Ok(p.clone()),
        None => placement::default_db_path().ok_or_else(|| ErrorKind::NoStateDir.into()),
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

fn open_error(path: &Path, e: sqlx::Error) -> Error {
    ErrorKind::Open {
        path: path.to_owned(),
        source: Arc::new(e),
    }
    .into()
}

impl Store {
    /// Opens (creating if needed) the store: checks placement, migrates the
    /// schema, imports a legacy database if asked and present, recovers
    /// from an unclean stop (see [`RecoveryReport`]), starts the writer.
    pub async fn open(opts: StoreOptions) -> Result<Store> {
        let path = db_path(&opts)?;
        // Canonicalize, statfs, mkdir and flock block (for seconds on a
        // stalled NAS mount): off the async threads.
        let owner = {
            let path = path.clone();
            let recordings = opts.recordings_dir.clone();
            let allow = opts.allow_network_fs;
            blocking(move || {
                placement::check_placement(&path, recordings.as_deref(), allow)?;
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                    _ => PathBuf::from("."),
                };
                fs_err::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
                // One owner at a time: a second sync on the same database
                // would "recover" the first one's downloads from under it.
                placement::take_owner_lock(&path)
            })
            .await?
        };

        let open_err = |e: sqlx::Error| open_error(&path, e);
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .foreign_keys(true)
            .busy_timeout(opts.busy_timeout);
        let write_opts = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let mut conn = SqliteConnection::connect_with(&write_opts)
            .await
            .map_err(open_err)?;
        MIGRATOR.run(&mut conn).await.map_err(|e| -> Error {
            ErrorKind::Migrate {
                path: path.clone(),
                source: Arc::new(e),
            }
            .into()
        })?;

        let legacy = match &opts.legacy {
            Some(l) => crate::legacy::import(&mut conn, l, opts.recordings_dir.as_deref()).await?,
            None => None,
        };

        let recovery = recover(&mut conn).await.map_err(open_err)?;
        if recovery.returned_to_pending > 0 || recovery.unfinished_tails > 0 {
            tracing::info!(
                returned_to_pending = recovery.returned_to_pending,
                unfinished_tails = recovery.unfinished_tails,
                "recovered from an unclean stop"
            );
        }

        let read = SqlitePoolOptions::new()
            .max_connections(opts.read_connections.max(1))
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await
            .map_err(open_err)?;

        let (tx, rx) = mpsc::unbounded_channel();
        let queued_ff = Arc::new(AtomicUsize::new(0));
        let unawaited = Arc::new(Unawaited::default());
        let writer = Writer {
            unawaited: unawaited.clone(),
            cycle_starts: HashMap::new(),
            conn,
            rx,
            queued_ff: queued_ff.clone(),
            max_attempts: opts.max_attempts.max(1),
            retry_budget: opts.write_retry_budget,
            shutdown: opts.shutdown.clone(),
            _owner: owner,
        };
        let handle = tokio::spawn(writer.run());
        Ok(Store {
            inner: Arc::new(Inner {
                tx,
                read,
                path,
                writer: std::sync::Mutex::new(Some(handle)),
                queued_ff,
                max_queued: opts.max_queued_timings,
                dropped: AtomicU64::new(0),
                unawaited,
                recovery,
                legacy,
                read_only: false,
            }),
        })
    }

    /// Opens an existing store for reading only, beside a running sync:
    /// no owner lock, no migration, no recovery, no writer. Reads work;
    /// every write fails with [`Error::is_read_only`] (and
    /// [`record_timing`](Self::record_timing) is dropped). A missing file
    /// is [`Error::is_missing`]. Status, queue and timings reports use this,
    /// so looking at a sync never disturbs it.
    pub async fn open_read_only(opts: StoreOptions) -> Result<Store> {
        let path = db_path(&opts)?;
        let exists = {
            let path = path.clone();
            blocking(move || Ok(path.is_file())).await?
        };
        if !exists {
            return Err(ErrorKind::Missing { path }.into());
        }
        let open_err = |e: sqlx::Error| open_error(&path, e);
        let read = SqlitePoolOptions::new()
            .max_connections(opts.read_connections.max(1))
            .test_before_acquire(false)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .busy_timeout(opts.busy_timeout)
                    .read_only(true),
            )
            .await
            .map_err(open_err)?;
        // A closed channel: nothing is ever written through this handle.
        let (tx, _) = mpsc::unbounded_channel();
        Ok(Store {
            inner: Arc::new(Inner {
                tx,
                read,
                path,
                writer: std::sync::Mutex::new(None),
                queued_ff: Arc::new(AtomicUsize::new(0)),
                max_queued: 0,
                dropped: AtomicU64::new(0),
                unawaited: Arc::new(Unawaited::default()),
                recovery: RecoveryReport::default(),
                legacy: None,
                read_only: true,
            }),
        })
    }

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
    /// [`Ack::submit`], a dropped [`Ack`]) and that failed, since the store
    /// was opened. Each was logged with its clip and command. The cycle row
    /// records the ones of its cycle ([`CycleRow::write_failures`]).
    pub fn unawaited_write_failures(&self) -> u64 {
        self.inner.unawaited.get()
    }

    /// Folds a camera listing into the queue, in one transaction:
    ///
    /// - names not yet known are inserted `pending` (with `listed_at`);
    /// - known clips get their remote path, size, lock / parking flags
    ///   refreshed (a clip locked on the camera moves to `RO`);
    /// - `pending` / `failed` clips no longer listed become `gone`;
    ///   `downloading`, `downloaded`, `done` and `gone` rows are left alone
    ///   (an archived clip is expected to leave the camera);
    /// - `gone` clips listed again return to `pending`;
    /// - `done` / `downloaded` clips listed with a size different from the
    ///   archived copy (`local_size`; a rounded size may differ by 1 %)
    ///   return to `pending` with the reason in `last_error`
    ///   ([`ReconcileReport::requeued_changed_size`]); `pruned` clips are
    ///   never requeued;
    /// - new, `pending`, `failed` or `gone` clips that `archived(name)` finds
    ///   in the archive with a matching size become `downloaded` with their
    ///   local path, so [`unfinished_tails`](Self::unfinished_tails) resumes
    ///   their tail instead of downloading them again.
    ///
    /// `archived` is called (on the caller's task, before the write) only
    /// for listed clips that could heal; keep it cheap (look names up in a
    /// pre-scanned map).
    pub async fn reconcile<F>(
        &self,
        camera_id: &str,
        listing: &[ListedClip],
        mut archived: F,
    ) -> Result<ReconcileReport>
    where
        F: FnMut(&str) -> Option<ArchivedFile>,
    {
        // Listed names already past the point of healing. One JSON row
        // instead of thousands keeps this cheap.
        let names: Vec<&str> = listing.iter().map(|c| c.name.as_str()).collect();
        let names_json = serde_json::to_string(&names)
            .map_err(|e| Error::invalid(format!("listing names: {e}")))?;
        let settled_json: String = sqlx::query_scalar(
            "SELECT json_group_array(name) FROM clips WHERE camera_id = ? \
             AND state NOT IN ('pending', 'failed', 'gone') \
             AND name IN (SELECT value FROM json_each(?))",
        )
        .bind(camera_id)
        .bind(&names_json)
        .fetch_one(&self.inner.read)
        .await
        .map_err(Error::db)?;
        let settled: HashSet<String> = serde_json::from_str::<Vec<String>>(&settled_json)
            .map_err(|e| Error::corrupt(format!("settled names: {e}")))?
            .into_iter()
            .collect();
        let mut found = HashMap::new();
        for clip in listing {
            if settled.contains(&clip.name) || found.contains_key(&clip.name) {
                continue;
            }
            if let Some(a) = archived(&clip.name) {
                found.insert(clip.name.clone(), a);
            }
        }
        let input = ReconcileInput {
            camera_id: camera_id.to_owned(),
            listing: listing.to_vec(),
            archived: found,
            now: now_ms(),
        };
        self.send(Op::Reconcile(Box::new(input)), out_reconcile)
            .await
    }

    /// `pending` → `downloading`, recording the cycle that downloads it.
    pub fn start_download(&self, id: ClipId, cycle: Option<CycleId>) -> Ack<()> {
        self.send(Op::StartDownload { id, cycle }, out_unit)
    }

    /// `downloading` → `downloaded`: the file is in the archive under its
    /// final name. Durable when the Ack resolves; only then may the camera
    /// copy be deleted.
    pub fn finish_download(&self, id: ClipId, local_path: &Path, size: u64) -> Ack<()> {
        let local_path = match crate::writer::path_text(local_path) {
            Ok(p) => p,
            Err(e) => return self.refuse_as(e, "recording a download", Some(id), out_unit),
        };
        let Ok(size) = i64::try_from(size) else {
            let e = Error::invalid("size out of range");
            return self.refuse_as(e, "recording a download", Some(id), out_unit);
        };
        self.send(
            Op::FinishDownload {
                id,
                local_path,
                size,
            },
            out_unit,
        )
    }

    /// A download failed. Resolves to the new state (`pending` or
    /// `failed`); see [`fail_with_outcome`](Self::fail_with_outcome) for
    /// the rule and for telling a deferral from a retry.
    pub fn fail(&self, id: ClipId, error: &str, retryable: bool) -> Ack<ClipState> {
        self.send(
            Op::Fail {
                id,
                error: error.to_owned(),
                retryable,
            },
            out_fail_state,
        )
    }

    /// A download failed (`downloading` → `pending` or `failed`), keeping
    /// `error` as `last_error`:
    ///
    /// - not `retryable`: `failed`, `attempts + 1` ([`FailOutcome::Failed`]);
    /// - retryable with attempts left: `pending`, `attempts + 1`
    ///   ([`FailOutcome::RetryNow`]);
    /// - retryable and [`StoreOptions::max_attempts`] reached: `pending`,
    ///   attempts reset, `deferrals + 1`, and passed over by
    ///   [`next_pending`](Self::next_pending) until a later cycle
    ///   ([`FailOutcome::Deferred`]).
    pub fn fail_with_outcome(&self, id: ClipId, error: &str, retryable: bool) -> Ack<FailOutcome> {
        self.send(
            Op::Fail {
                id,
                error: error.to_owned(),
                retryable,
            },
            out_fail,
        )
    }

    /// `downloading` → `pending` without counting an attempt (download
    /// interrupted by shutdown, not failed).
    pub fn release(&self, id: ClipId) -> Ack<()> {
        self.send(Op::Release { id }, out_unit)
    }

    /// Records the GPS summary (clip `downloaded` or `done`).
    pub fn set_gps(&self, id: ClipId, gps: GpsSummary) -> Ack<()> {
        self.send(Op::SetGps { id, gps }, out_unit)
    }

    /// Records a camera delete's outcome (clip `downloaded` or `done`);
    /// `Confirmed` sets `deleted_from_camera_at`. Durable when the Ack
    /// resolves.
    pub fn record_delete(&self, id: ClipId, outcome: DeleteOutcome) -> Ack<()> {
        self.send(
            Op::RecordDelete {
                id,
                outcome,
                at: now_ms(),
            },
            out_unit,
        )
    }

    /// `downloaded` → `done`.
    pub fn finish_tail(&self, id: ClipId) -> Ack<()> {
        self.send(Op::FinishTail { id }, out_unit)
    }

    /// `downloaded` or `done` → `pruned`: retention removed the archive
    /// copy. The clip is then never downloaded again (reconcile leaves it
    /// alone even while the camera still lists it), never deleted from the
    /// camera again ([`record_delete`](Self::record_delete) is refused) and
    /// counted as [`StateCounts::pruned`], not as archived.
    pub fn mark_pruned(&self, id: ClipId) -> Ack<()> {
        self.send(Op::MarkPruned { id, at: now_ms() }, out_unit)
    }

    /// `failed` → `pending` with attempts reset, for one camera or all.
    /// Resolves to the number of clips requeued.
    pub fn retry_failed(&self, camera_id: Option<&str>) -> Ack<u64> {
        self.send(
            Op::RetryFailed {
                camera_id: camera_id.map(str::to_owned),
            },
            out_count,
        )
    }

    /// Sets a clip's queue priority (higher first, under every policy).
    pub fn set_priority(&self, id: ClipId, priority: i64) -> Ack<()> {
        self.send(Op::SetPriority { id, priority }, out_unit)
    }

    /// Records a stage timestamp. Fire-and-forget: queued without waiting
    /// (an unbounded channel send; it never blocks). If more than
    /// [`StoreOptions::max_queued_timings`] are already waiting for the
    /// writer (the database has been locked for a long time), this one is
    /// dropped and counted in [`dropped_timings`](Self::dropped_timings):
    /// timings are diagnostics, never worth stalling a download for.
    pub fn record_timing(&self, id: ClipId, stage: Stage, at_ms: i64) {
        let inner = &self.inner;
        if inner.queued_ff.load(Ordering::Relaxed) >= inner.max_queued {
            let n = inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "timing queue full; dropping stage timings");
            }
            return;
        }
        inner.queued_ff.fetch_add(1, Ordering::Relaxed);
        let sent = inner.tx.send(Msg::Cmd {
            op: Op::Timing {
                id,
                stage,
                at: at_ms,
            },
            reply: None,
        });
        if sent.is_err() {
            inner.queued_ff.fetch_sub(1, Ordering::Relaxed);
            inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Starts a cycle row.
    pub fn begin_cycle(&self, camera_id: &str, mode: CycleMode) -> Ack<CycleId> {
        self.send(
            Op::BeginCycle {
                camera_id: camera_id.to_owned(),
                mode,
                at: now_ms(),
            },
            out_cycle,
        )
    }

    /// Finishes a cycle row. See
    /// [`finish_cycle_report`](Self::finish_cycle_report) for what the
    /// store adds.
    pub fn finish_cycle(&self, id: CycleId, stats: CycleStats) -> Ack<()> {
        self.send(
            Op::FinishCycle {
                id,
                stats,
                at: now_ms(),
            },
            out_cycle_done,
        )
    }

    /// Finishes a cycle row and resolves to it as stored. The store counts
    /// what the cycle left behind: [`CycleRow::failed`] (clips it downloaded
    /// that ended `failed`: clips, not attempts), [`CycleRow::deferred`]
    /// (clips deferred in it, still pending) and
    /// [`CycleRow::write_failures`] (unawaited writes that failed while it
    /// ran, see [`unawaited_write_failures`](Self::unawaited_write_failures)).
    /// If any of them is non-zero, a [`CycleOutcome::Completed`] is
    /// recorded as [`CycleOutcome::CompletedWithFailures`]; other outcomes
    /// are kept.
    pub fn finish_cycle_report(&self, id: CycleId, stats: CycleStats) -> Ack<CycleRow> {
        self.send(
            Op::FinishCycle {
                id,
                stats,
                at: now_ms(),
            },
            out_cycle_row,
        )
    }

    /// Resolves once every command queued before it has committed.
    pub fn flush(&self) -> Ack<()> {
        self.send(Op::Flush, out_unit)
    }

    /// Drains the queue, commits, stops the writer and closes the pool.
    /// Later writes on any clone fail with [`Error::is_closed`].
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

    // ---- reads (read-only pool) ----

    /// One clip by id.
    pub async fn get(&self, id: ClipId) -> Result<Option<ClipRow>> {
        let sql = format!("SELECT {CLIP_COLUMNS} FROM clips WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// One clip by camera and name.
    pub async fn get_by_name(&self, camera_id: &str, name: &str) -> Result<Option<ClipRow>> {
        let sql = format!("SELECT {CLIP_COLUMNS} FROM clips WHERE camera_id = ? AND name = ?");
        let row = sqlx::query(&sql)
            .bind(camera_id)
            .bind(name)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// The next pending clip of `camera_id` under `policy` and `filter`.
    ///
    /// A clip deferred ([`FailOutcome::Deferred`]) is passed over while the
    /// cycle it was deferred in is the camera's newest cycle and is not
    /// finished; a new [`begin_cycle`](Self::begin_cycle) offers it again.
    pub async fn next_pending(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
    ) -> Result<Option<ClipRow>> {
        self.next_pending_at(camera_id, policy, filter, now_ms())
            .await
    }

    /// [`next_pending`](Self::next_pending) with an explicit "now" (ms) for
    /// [`Policy::RecentFirst`].
    pub async fn next_pending_at(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
        now_ms: i64,
    ) -> Result<Option<ClipRow>> {
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE state = 'pending' AND camera_id = "
        ));
        qb.push_bind(camera_id);
        // Deferred clips wait for a cycle after the one that deferred them
        // (or for that cycle to finish).
        qb.push(
            " AND (deferred_cycle IS NULL OR EXISTS (SELECT 1 FROM cycles cy \
             WHERE cy.camera_id = clips.camera_id AND (cy.id > clips.deferred_cycle \
             OR (cy.id = clips.deferred_cycle AND cy.finished_at IS NOT NULL))))",
        );
        if filter.locked_only {
            qb.push(" AND locked = 1");
        }
        if !filter.include_parking {
            qb.push(" AND parking = 0");
        }
        if !filter.channels.is_empty() {
            qb.push(" AND channel IN (");
            let mut sep = qb.separated(", ");
            for c in filter.channels {
                sep.push_bind(c.as_str());
            }
            qb.push(")");
        }
        if !filter.exclude.is_empty() {
            // One JSON array parameter, whatever the list's length (SQLite
            // caps bound parameters per statement).
            let ids: Vec<String> = filter.exclude.iter().map(|i| i.0.to_string()).collect();
            qb.push(" AND id NOT IN (SELECT value FROM json_each(");
            qb.push_bind(format!("[{}]", ids.join(",")));
            qb.push("))");
        }
        qb.push(" ORDER BY priority DESC, ");
        match policy {
            Policy::OldestFirst => {
                qb.push("recorded_at ASC NULLS LAST, name ASC");
            }
            Policy::NewestFirst => {
                qb.push("recorded_at DESC NULLS LAST, name DESC");
            }
            Policy::LockedFirst => {
                qb.push("locked DESC, recorded_at ASC NULLS LAST, name ASC");
            }
            Policy::RecentFirst { hours } => {
                let cutoff = now_ms.saturating_sub(i64::from(hours).saturating_mul(3_600_000));
                qb.push("(recorded_at >= ");
                qb.push_bind(cutoff);
                qb.push(") DESC, recorded_at ASC NULLS LAST, name ASC");
            }
        }
        qb.push(" LIMIT 1");
        let row = qb
            .build()
            .persistent(false)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(clip_from_row).transpose()
    }

    /// Rows per state, for one camera or all.
    pub async fn counts(&self, camera_id: Option<&str>) -> Result<StateCounts> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM clips WHERE (?1 IS NULL OR camera_id = ?1) \
             GROUP BY state",
        )
        .bind(camera_id)
        .fetch_all(&self.inner.read)
        .await
        .map_err(Error::db)?;
        let mut c = StateCounts::default();
        for r in rows {
            let s: String = r.try_get("state").map_err(Error::db)?;
            let n: i64 = r.try_get("n").map_err(Error::db)?;
            *c.slot(ClipState::parse(&s)?) = to_u64(n);
        }
        Ok(c)
    }

    /// Clips of one camera (or all) in the given states (every state when
    /// `states` is empty), oldest recording first, at most `limit` rows.
    /// For listings such as `viofosync queue`.
    pub async fn list(
        &self,
        camera_id: Option<&str>,
        states: &[ClipState],
        limit: u32,
    ) -> Result<Vec<ClipRow>> {
        let states = (!states.is_empty()).then(|| {
            let names: Vec<String> = states
                .iter()
                .map(|s| format!("\"{}\"", s.as_str()))
                .collect();
            format!("[{}]", names.join(","))
        });
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE (?1 IS NULL OR camera_id = ?1) \
             AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2))) \
             ORDER BY recorded_at ASC NULLS LAST, name ASC, id ASC LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(camera_id)
            .bind(states)
            .bind(i64::from(limit))
            .fetch_all(&self.inner.read)
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// Clips archived whose tail (GPS, delete) has not finished, oldest
    /// first: resume their tail.
    pub async fn unfinished_tails(&self, camera_id: Option<&str>) -> Result<Vec<ClipRow>> {
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE state = 'downloaded' \
             AND (?1 IS NULL OR camera_id = ?1) ORDER BY recorded_at ASC NULLS LAST, name ASC"
        );
        let rows = sqlx::query(&sql)
            .bind(camera_id)
            .fetch_all(&self.inner.read)
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// One cycle row.
    pub async fn cycle(&self, id: CycleId) -> Result<Option<CycleRow>> {
        let row = sqlx::query("SELECT * FROM cycles WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        row.as_ref().map(cycle_from_row).transpose()
    }

    pub(crate) fn read_pool(&self) -> &SqlitePool {
        &self.inner.read
    }
}

/// Startup repair: rows left `downloading` go back to `pending` (the
/// interrupted attempt is not a failure: it is not counted), and the
/// `downloaded` rows are counted for `unfinished_tails`.
async fn recover(conn: &mut SqliteConnection) -> std::result::Result<RecoveryReport, sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let r = sqlx::query("UPDATE clips SET state = 'pending' WHERE state = 'downloading'")
        .execute(&mut *tx)
        .await?;
    let tails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clips WHERE state = 'downloaded'")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(RecoveryReport {
        returned_to_pending: r.rows_affected(),
        unfinished_tails: to_u64(tails),
    })
}
