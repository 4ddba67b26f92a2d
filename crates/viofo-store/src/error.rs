//! The crate's one public error type.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::types::{ClipId, ClipState, CycleId};

/// Everything that can go wrong in the store.
///
/// The variants are private; branch on the predicates (`is_busy()`,
/// `is_illegal_transition()`, ...). The `Display` text is written for the
/// person running the tool: it says what happened and, where there is one,
/// what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct Error {
    kind: Box<ErrorKind>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error(
        "the state database folder {dir} is on a network filesystem ({fs}); SQLite's file \
         locking over network filesystems stalls or corrupts the database (the old tool \
         waited ~30 s on every write because of this). Put the state database on local \
         disk with --state-db PATH (or VIOFOSYNC_STATE_DB=PATH); the default is \
         ~/.local/state/viofosync/viofosync.db. To use this folder anyway, pass \
         --allow-network-state-db"
    )]
    NetworkFs { dir: PathBuf, fs: &'static str },
    #[error(
        "the state database {db} is inside the recordings folder {recordings}; keep it on \
         local disk outside the archive with --state-db PATH (or VIOFOSYNC_STATE_DB=PATH)"
    )]
    InsideRecordings { db: PathBuf, recordings: PathBuf },
    #[error(
        "no state directory is known for this user; pass --state-db PATH (or \
         VIOFOSYNC_STATE_DB=PATH)"
    )]
    NoStateDir,
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    #[error("state database {path}: {source}")]
    Open {
        path: PathBuf,
        source: Arc<sqlx::Error>,
    },
    #[error("state database {path}: migrating the schema failed: {source}")]
    Migrate {
        path: PathBuf,
        source: Arc<sqlx::migrate::MigrateError>,
    },
    #[error("state database: {0}")]
    Database(Arc<sqlx::Error>),
    #[error(
        "the disk holding the state database is full ({0}); the write was not applied. \
         Free space there and run again"
    )]
    Full(Arc<sqlx::Error>),
    #[error(
        "state database stayed locked by another process for {waited:?}; the write was not \
         applied (is a second viofosync running on the same state database?)"
    )]
    Busy { waited: Duration },
    #[error("the store is closed")]
    Closed,
    #[error(
        "the state database {path} is in use by another viofosync process{holder} (a sync \
         or watch is running); stop it first. Reading commands (status, queue, timings) \
         work while it runs"
    )]
    InUse { path: PathBuf, holder: String },
    #[error("the state database was opened read-only; {action} needs the writing store")]
    ReadOnly { action: &'static str },
    #[error("no state database at {path} yet (nothing has been synced with it)")]
    Missing { path: PathBuf },
    #[error("clip {id}: illegal state change {from} -> {to}")]
    IllegalTransition {
        id: ClipId,
        from: ClipState,
        to: ClipState,
    },
    #[error("clip {id} is {state}; {action} needs {needs}")]
    WrongState {
        id: ClipId,
        state: ClipState,
        action: &'static str,
        needs: &'static str,
    },
    #[error("clip {0} does not exist")]
    ClipNotFound(ClipId),
    #[error("cycle {0} does not exist")]
    CycleNotFound(CycleId),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("state database holds a value this version does not understand: {0}")]
    Corrupt(String),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind: Box::new(kind),
        }
    }

    pub(crate) fn db(e: sqlx::Error) -> Self {
        if is_sqlite_full(&e) {
            return Self::new(ErrorKind::Full(Arc::new(e)));
        }
        Self::new(ErrorKind::Database(Arc::new(e)))
    }

    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io {
            context,
            path: path.into(),
            source: Arc::new(e),
        })
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput(msg.into()))
    }

    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt(msg.into()))
    }

    /// The writer gave up after another process kept the database locked
    /// past the retry budget ([`StoreOptions::write_retry_budget`](crate::StoreOptions)).
    /// Nothing of the failed write was applied; it is safe to retry later.
    pub fn is_busy(&self) -> bool {
        matches!(*self.kind, ErrorKind::Busy { .. })
    }

    /// The disk holding the state database is full (SQLite could not
    /// grow it): nothing of the failed write was applied; writes go on
    /// once space is freed.
    pub fn is_disk_full(&self) -> bool {
        matches!(*self.kind, ErrorKind::Full(_))
    }

    /// The store was closed (or its writer stopped) before the command ran.
    pub fn is_closed(&self) -> bool {
        matches!(*self.kind, ErrorKind::Closed)
    }

    /// Another process (a running sync or watch) owns the database; only
    /// [`Store::open_read_only`](crate::Store::open_read_only) can open it now.
    pub fn is_in_use(&self) -> bool {
        matches!(*self.kind, ErrorKind::InUse { .. })
    }

    /// A write was asked of a store opened with
    /// [`Store::open_read_only`](crate::Store::open_read_only).
    pub fn is_read_only(&self) -> bool {
        matches!(*self.kind, ErrorKind::ReadOnly { .. })
    }

    /// [`Store::open_read_only`](crate::Store::open_read_only) found no
    /// database file.
    pub fn is_missing(&self) -> bool {
        matches!(*self.kind, ErrorKind::Missing { .. })
    }

    /// A state change the state machine does not allow, or an action the
    /// clip's current state does not allow (see the crate docs).
    pub fn is_illegal_transition(&self) -> bool {
        matches!(
            *self.kind,
            ErrorKind::IllegalTransition { .. } | ErrorKind::WrongState { .. }
        )
    }

    /// The database folder is on a network filesystem and forcing was not
    /// allowed.
    pub fn is_network_fs(&self) -> bool {
        matches!(*self.kind, ErrorKind::NetworkFs { .. })
    }

    /// The database path lies inside the recordings folder.
    pub fn is_inside_recordings(&self) -> bool {
        matches!(*self.kind, ErrorKind::InsideRecordings { .. })
    }

    /// The clip or cycle id does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            *self.kind,
            ErrorKind::ClipNotFound(_) | ErrorKind::CycleNotFound(_)
        )
    }

    /// The caller passed something the store refuses to record.
    pub fn is_invalid_input(&self) -> bool {
        matches!(*self.kind, ErrorKind::InvalidInput(_))
    }

    /// Trying the same call again later may succeed (busy database).
    pub fn is_retryable(&self) -> bool {
        self.is_busy()
    }

    /// For an illegal transition: the state the clip was in.
    pub fn current_state(&self) -> Option<ClipState> {
        match *self.kind {
            ErrorKind::IllegalTransition { from, .. } => Some(from),
            ErrorKind::WrongState { state, .. } => Some(state),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Is this SQLite error a lock conflict (SQLITE_BUSY / SQLITE_LOCKED, any
/// extended code)?
pub(crate) fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    match code.parse::<i64>() {
        Ok(c) => matches!(c & 0xff, 5 | 6),
        Err(_) => false,
    }
}

/// After this SQLite error, SQLite may have rolled the whole transaction
/// back on its own: a full disk, an I/O error, no memory.
pub(crate) fn ends_transaction(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|c| matches!(c & 0xff, 7 | 10 | 13))
}

/// Is this SQLite error a full database or disk (SQLITE_FULL)?
pub(crate) fn is_sqlite_full(e: &sqlx::Error) -> bool {
    sqlite_code(e).is_some_and(|c| c & 0xff == 13)
}

/// The SQLite result code of a database error.
fn sqlite_code(e: &sqlx::Error) -> Option<i64> {
    e.as_database_error()?.code()?.parse().ok()
}
