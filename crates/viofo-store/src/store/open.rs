//! Opening the store: the options, the placement checks and owner lock,
//! migrations, the legacy import, crash recovery, and starting the writer;
//! also the read-only open beside a running sync.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use sqlx::migrate::MigrateError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::rows::to_u64;
use super::{Inner, Store, blocking};
use crate::error::{Error, ErrorKind, Result};
use crate::placement;
use crate::types::RecoveryReport;
use crate::writer::{Unawaited, Writer};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

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
    /// [`Error::is_busy`](crate::Error::is_busy) (default 120 s).
    pub write_retry_budget: Duration,
    /// Read-only connections in the read pool (default 4).
    pub read_connections: u32,
    /// Fire-and-forget commands ([`Store::record_timing`](crate::Store::record_timing)) that may wait for
    /// the writer before new ones are dropped (default 262,144, a few tens
    /// of MB; see the crate docs).
    pub max_queued_timings: usize,
    /// Injected shutdown: when cancelled, the writer takes no new commands,
    /// commits what is queued, and stops.
    pub shutdown: Option<CancellationToken>,
    /// Most pages the database may hold (SQLite `max_page_count`, never
    /// below its size when opened): past it a write fails as on a full
    /// disk. For tests of a full disk; default none.
    #[doc(hidden)]
    pub max_page_count: Option<u32>,
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
            max_page_count: None,
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

/// The database file the options name, or the default one.
fn db_path(opts: &StoreOptions) -> Result<PathBuf> {
    match &opts.path {
        Some(p) => Ok(p.clone()),
        None => placement::default_db_path().ok_or_else(|| ErrorKind::NoStateDir.into()),
    }
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
    /// from an unclean stop (see [`RecoveryReport`](crate::RecoveryReport)), starts the writer.
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
        // Foreign keys off while the schema changes (SQLite's procedure for
        // rebuilding a table: a DROP TABLE with them on would cascade into
        // the tables that reference clips), checked and back on after.
        migrate(&mut conn).await.map_err(|e| -> Error {
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
        if let Some(n) = opts.max_page_count {
            sqlx::query(&format!("PRAGMA max_page_count = {n}"))
                .execute(&mut conn)
                .await
                .map_err(open_err)?;
        }
        // Only a download left in flight tells of an unclean stop: a clip's
        // tail is left unfinished by design while its delete waits (a size
        // not yet settled, the camera's anchor), and resumes next run.
        if recovery.returned_to_pending > 0 {
            tracing::info!(
                returned_to_pending = recovery.returned_to_pending,
                unfinished_tails = recovery.unfinished_tails,
                "recovered from an unclean stop: {} download(s) in flight start again",
                recovery.returned_to_pending
            );
        } else if recovery.unfinished_tails > 0 {
            tracing::debug!(
                unfinished_tails = recovery.unfinished_tails,
                "clips whose GPS or delete decision is unfinished resume"
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
    /// every write fails with [`Error::is_read_only`](crate::Error::is_read_only) (and
    /// [`record_timing`](Self::record_timing) is dropped). A missing file
    /// is [`Error::is_missing`](crate::Error::is_missing). Status, queue and timings reports use this,
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
}

/// Runs the migrations with foreign keys off, then, if one ran, checks
/// them (a whole-database scan, so not on every open) and turns them
/// back on: a migration that rebuilds a table (0003, 0010) keeps the
/// rows that reference it.
async fn migrate(conn: &mut SqliteConnection) -> std::result::Result<(), MigrateError> {
    use sqlx::Executor as _;
    conn.execute("PRAGMA foreign_keys = OFF").await?;
    let before = applied(conn).await?;
    let ran = MIGRATOR.run(&mut *conn).await;
    let migrated = ran.is_err() || applied(conn).await? != before;
    let broken: Option<(String, i64)> = if migrated {
        sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_optional(&mut *conn)
            .await?
            .map(|r: (String, i64, String, i64)| (r.0, r.1))
    } else {
        None
    };
    conn.execute("PRAGMA foreign_keys = ON").await?;
    ran?;
    if let Some((table, row)) = broken {
        return Err(MigrateError::Execute(sqlx::Error::Protocol(format!(
            "after the migrations, row {row} of {table} references a missing row"
        ))));
    }
    Ok(())
}

/// How many migrations the database records as applied (0 before the
/// first).
async fn applied(conn: &mut SqliteConnection) -> std::result::Result<i64, sqlx::Error> {
    let table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if table == 0 {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await
}

/// Startup repair: rows left `downloading` go back to `pending` (the
/// interrupted attempt is not a failure: it is not counted), and the
/// `downloaded` rows are counted for `unfinished_tails`. Both read the
/// few rows of `clips_unsettled` (migration 0013).
/// Downloads left in flight start again.
pub(super) const RECOVER_IN_FLIGHT: &str =
    "UPDATE clips SET state = 'pending' WHERE state = 'downloading'";

async fn recover(conn: &mut SqliteConnection) -> std::result::Result<RecoveryReport, sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let r = sqlx::query(RECOVER_IN_FLIGHT).execute(&mut *tx).await?;
    let tails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clips WHERE state = 'downloaded'")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(RecoveryReport {
        returned_to_pending: r.rows_affected(),
        unfinished_tails: to_u64(tails),
    })
}
