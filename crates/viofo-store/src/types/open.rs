//! What opening the store found: the crash recovery and the Python tool's
//! database import.

use std::path::PathBuf;

/// What `open` found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Rows left `downloading` by a previous run, returned to pending
    /// (the interrupted attempt is not counted as a failure).
    pub returned_to_pending: u64,
    /// Rows `downloaded` whose tail did not finish; fetch them with
    /// [`Store::unfinished_tails`](crate::Store::unfinished_tails).
    pub unfinished_tails: u64,
}

/// What the import of a Python-tool database did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyReport {
    /// The file imported.
    pub source: PathBuf,
    /// Where it was renamed to (`None` if the rename failed; see logs).
    pub renamed_to: Option<PathBuf>,
    /// Rows imported.
    pub imported: u64,
    /// Rows already known (same camera and name), left alone.
    pub already_known: u64,
    /// Rows skipped, with the reason (at most 100 kept; see `skipped`).
    pub skipped_examples: Vec<(String, String)>,
    /// Number of rows skipped.
    pub skipped: u64,
    /// Legacy columns that were not understood and ignored.
    pub ignored_columns: Vec<String>,
}

/// What the legacy import did during [`Store::open`](crate::Store::open)
/// (see [`Store::legacy_outcome`](crate::Store::legacy_outcome)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegacyOutcome {
    /// The Python tool's database was imported (and renamed).
    Imported(LegacyReport),
    /// A legacy file was found but could not be read (not SQLite, corrupt,
    /// locked by the running Python tool, permission denied, not a
    /// viofosync database). It was left as it is, a warning naming it and
    /// the `import_legacy = false` setting was logged, and the next open
    /// tries again; the store opened normally.
    Skipped {
        /// The file.
        source: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
}
