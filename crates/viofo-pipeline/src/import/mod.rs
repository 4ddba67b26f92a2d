//! Importing clips from an SD card or a folder, archived exactly as a sync
//! archives a download.
//!
//! [`Importer::run`] scans the folders given (a card's `DCIM` layout —
//! `Movie`, `Movie/Parking`, `Movie/RO`, `Photo`, any case — or any folder
//! of Viofo-named clips, to [`ImportOptions::max_depth`] folders deep,
//! never following a link out of the tree or into a folder), validates
//! each name with the camera client's listing rules, derives locked (`RO`),
//! parking, channel and recording time the way a listing does, and copies
//! each clip to its archive place ([`SyncConfig::grouping`]):
//!
//! - to `<final>.part`, hashing the source (XXH3-128) and feeding the GPS
//!   streaming extractor while the bytes pass (the clip is read once);
//! - the copy is read back: its size and hash must be the source's;
//! - clips copied close together share one durable point (up to
//!   [`ImportOptions::batch_files`] files or
//!   [`ImportOptions::batch_bytes`]): one `syncfs` of the archive's
//!   filesystem, then the renames to the final names, one sync per folder,
//!   one store transaction recording them `done` with source `import`
//!   (GPS summary and track included);
//! - only then, with [`ImportOptions::move_sources`], the sources are
//!   removed. A partial copy never has a final name; a source is never
//!   removed before its copy is durable, verified and recorded.
//!
//! Clips the store already has archived with the same size are skipped
//! ("already archived"), so running it twice imports nothing twice. Files
//! that are not clips are skipped with the reason; a clip whose read fails
//! fails alone (the others go on); a write to the archive that fails (a
//! full disk) stops the import. Retention runs at the end.
//!
//! ```
//! use viofo_pipeline::import::{ImportOptions, Importer};
//! use viofo_pipeline::{Shutdown, SyncConfig};
//! use viofo_store::{Store, StoreOptions};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dirs = tempfile::tempdir()?;
//! let card = dirs.path().join("card");
//! std::fs::create_dir_all(card.join("DCIM/Movie/RO"))?;
//! std::fs::write(card.join("DCIM/Movie/RO/2025_1224_120324_000002F.MP4"), b"not really a movie")?;
//! std::fs::write(card.join("DCIM/Movie/notes.txt"), b"hello")?;
//! let archive = dirs.path().join("archive");
//! std::fs::create_dir(&archive)?;
//! let store = Store::open(StoreOptions::at(dirs.path().join("state.db"))).await?;
//!
//! let importer = Importer::new(store, SyncConfig::new("my-camera", &archive), ImportOptions::default())?;
//! let summary = importer.run(&[card], |_event| {}, &Shutdown::new()).await?;
//! assert_eq!((summary.imported, summary.skipped.len(), summary.failed.len()), (1, 1, 0));
//! assert!(archive.join("2025_1224_120324_000002F.MP4").is_file());
//! # Ok(())
//! # }
//! ```

mod commit;
mod copy;
mod guard;
mod run;
mod scan;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use viofo_store::Store;

use crate::config::SyncConfig;
use crate::{Error, Result};

pub(crate) use crate::sync::gps_options;

/// How an import runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Remove each source file once its copy is durable, verified and
    /// recorded (`--move`). Default off.
    pub move_sources: bool,
    /// Most clips sharing one durable point. Default 64.
    pub batch_files: usize,
    /// Most bytes sharing one durable point (a batch closes once it holds
    /// this much). Default 256 MB.
    pub batch_bytes: u64,
    /// Folders below each given folder that are scanned. Default 8.
    pub max_depth: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            move_sources: false,
            batch_files: 64,
            batch_bytes: 256_000_000,
            max_depth: 8,
        }
    }
}

/// What an import reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportEvent {
    /// The scan is over: this many clips (and bytes) will be copied.
    Planned {
        /// Clips to copy.
        files: u64,
        /// Their bytes.
        bytes: u64,
    },
    /// A clip's copy starts.
    Started {
        /// The source file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// Bytes copied since the last such event.
    Progress {
        /// Bytes.
        bytes: u64,
    },
    /// A clip is archived: durable under its final name and recorded.
    Imported {
        /// The source file.
        path: PathBuf,
        /// Its archive copy.
        dest: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// A file not imported, and why (not a clip, already archived, ...).
    Skipped {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A clip that could not be imported (its read failed, its copy did not
    /// match); the others go on.
    Failed {
        /// The source file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A source removed after its clip was archived (`--move`).
    Removed {
        /// The source file.
        path: PathBuf,
    },
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Clips archived.
    pub imported: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Of the skipped, clips already archived.
    pub already_archived: u64,
    /// Files not imported, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// Clips that failed, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    /// Sources removed (`--move`).
    pub removed: u64,
    /// Sources of archived clips that could not be removed, with the reason.
    pub not_removed: Vec<(PathBuf, String)>,
    /// Clips retention removed from the archive afterwards.
    pub pruned: u64,
    /// How long it took.
    pub duration: Duration,
}

impl ImportSummary {
    /// No clip failed and every source to remove was removed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty() && self.not_removed.is_empty()
    }
}

/// Imports folders into one camera's archive.
pub struct Importer {
    store: Store,
    cfg: SyncConfig,
    opts: ImportOptions,
    /// The archive folder: claimed (its owner lock) when an import runs.
    archive: Arc<crate::archive::Archive>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer")
            .field("camera_id", &self.cfg.camera_id)
            .field("archive", &self.cfg.archive)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// The event callback, shared with the copying threads.
pub(crate) type Events = Arc<dyn Fn(ImportEvent) + Send + Sync>;

impl Importer {
    /// An importer for `cfg.camera_id`'s archive `cfg.archive`, with the
    /// sync's grouping, GPS settings, camera clock, space rules and
    /// retention. Fails ([`Error::is_config`]) on settings a sync refuses
    /// or an empty batch.
    pub fn new(store: Store, cfg: SyncConfig, opts: ImportOptions) -> Result<Self> {
        cfg.validate()?;
        if opts.batch_files == 0 || opts.batch_bytes == 0 {
            return Err(Error::config(
                "import batches must hold at least one file and one byte",
            ));
        }
        let archive = Arc::new(crate::archive::Archive::new(cfg.archive.clone()));
        Ok(Self {
            store,
            cfg,
            opts,
            archive,
        })
    }

    /// The settings it imports with.
    pub fn config(&self) -> &SyncConfig {
        &self.cfg
    }
}
