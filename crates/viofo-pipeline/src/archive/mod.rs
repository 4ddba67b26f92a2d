//! The archive: the one type that writes into the archive folder. It holds
//! the folder's owner lock, chooses where a recording goes, gives a file its
//! final name only once its bytes are durable and never over an existing
//! file, writes derived files (sidecars, journeys' tracks) and removes files
//! for retention.
//!
//! The rules it keeps (docs/RELIABILITY.md, "The archive is append-only"):
//! - bytes recorded as archived are never replaced, truncated or rewritten:
//!   a recording whose name is already taken in the archive is placed
//!   beside it under the next free versioned name
//!   (`2025_1224_120324_000002PF~2.MP4`, see [`versioned_name`]);
//! - a final name is never taken over an existing file: the rename is
//!   `renameat2(RENAME_NOREPLACE)`, or a hard link and an unlink where the
//!   file system lacks it, or (no hard links either, e.g. exFAT) a check
//!   and a rename under the owner lock;
//! - a partial file never has a final name: bytes are written to a
//!   temporary name (`.part`, `.tmp<pid>`), made durable, then renamed;
//! - one writer: [`Archive::claim`] takes an exclusive lock on
//!   `<archive>/.viofosync.lock` (released by the kernel when the process
//!   dies), so a second process (another state database, another path to
//!   the same folder through a bind mount) is refused with the holder's pid.
//!
//! ```
//! use viofo_pipeline::archive::Archive;
//! let dir = tempfile::tempdir().unwrap();
//! let archive = Archive::new(dir.path());
//! archive.claim().unwrap();
//! // Another handle in this process shares the lock; another process
//! // would be refused with this one's pid.
//! Archive::new(dir.path()).claim().unwrap();
//! assert!(dir.path().join(".viofosync.lock").is_file());
//! // A name already taken gets the next free versioned name.
//! let wanted = dir.path().join("2025_1224_120324_000002PF.MP4");
//! std::fs::write(&wanted, b"archived").unwrap();
//! assert_eq!(
//!     Archive::free_name(&wanted),
//!     dir.path().join("2025_1224_120324_000002PF~2.MP4")
//! );
//! ```

mod check;
mod durable;
mod lock;
mod names;
pub mod object;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use check::{camera_folder, check_archive, create_archive};
pub use durable::{
    Staged, commit, stage_sidecar, sync_folder, write_derived, write_derived_with, write_sidecars,
};
pub(crate) use durable::{create_folder, create_part, discard, remove_file};
pub use lock::LOCK_FILE;
pub use names::{unversioned_name, versioned_name};
pub use object::ObjectConfig;
#[cfg(feature = "s3")]
pub use object::{ObjectArchive, ObjectError, Uploaded};

use crate::Result;

/// One archive folder and its owner lock. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Archive {
    root: PathBuf,
    owner: Mutex<Option<std::sync::Arc<lock::OwnerLock>>>,
    /// An object archive: `root` is then its local staging folder.
    #[cfg(feature = "s3")]
    object: Option<ObjectArchive>,
}

impl Archive {
    /// The archive at `root`. Touches nothing: the folder is checked and
    /// claimed by [`claim`](Self::claim).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            owner: Mutex::new(None),
            #[cfg(feature = "s3")]
            object: None,
        }
    }

    /// An object archive staging in `root`: a clip downloaded there is
    /// uploaded by the tail ([`ObjectArchive::upload`]) and its staged copy
    /// removed once its tail is done (`remove_staged`).
    #[cfg(feature = "s3")]
    pub fn with_object(root: impl Into<PathBuf>, object: ObjectArchive) -> Self {
        Self {
            object: Some(object),
            ..Self::new(root)
        }
    }

    /// The object archive this folder stages for, if any.
    #[cfg(feature = "s3")]
    pub fn object(&self) -> Option<&ObjectArchive> {
        self.object.as_ref()
    }

    /// Removes a staged clip and its sidecars (their objects complete in
    /// the bucket, the clip's tail done), syncing the folder. Blocking.
    #[cfg(feature = "s3")]
    pub(crate) fn remove_staged(&self, clip: &Path) -> std::io::Result<()> {
        if self.object.is_none() || !clip.starts_with(&self.root) {
            return Ok(());
        }
        for f in [viofo_gps::Format::Gpx, viofo_gps::Format::GeoJson] {
            remove_file(&viofo_gps::sidecar_path(clip, f))?;
        }
        remove_file(clip)
    }

    /// The archive folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes this process the archive's one writer, or checks that it
    /// still is: an exclusive lock on `<root>/.viofosync.lock`, taken once
    /// and held until the archive is dropped (a lock file that vanished,
    /// say with a remounted share, is taken again). The lock is the
    /// process's: every `Archive` of the same folder in this process shares
    /// it, another process is refused. Blocking.
    /// [`Error::is_archive_in_use`](crate::Error::is_archive_in_use) when
    /// another process holds it; [`Error::is_archive`](crate::Error::is_archive)
    /// when the folder cannot take the lock file.
    pub fn claim(&self) -> Result<()> {
        let mut owner = self
            .owner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if owner.as_ref().is_some_and(|l| l.still_held()) {
            return Ok(());
        }
        *owner = Some(lock::OwnerLock::shared(&self.root)?);
        Ok(())
    }

    /// Where a recording goes in the archive at `root`: its grouping folder
    /// (by its start, else its end, on the camera's clock) and its camera
    /// file name, the only part of a recording that becomes a path
    /// component. The one rule for sync, dry run and import; the name
    /// actually taken is [`free_name`](Self::free_name)'s.
    pub fn recording_path(
        root: &Path,
        grouping: crate::Grouping,
        rec: &viofo_client::Recording,
    ) -> PathBuf {
        let date = rec
            .start()
            .or_else(|| rec.end())
            .map(time::PrimitiveDateTime::date);
        let mut dir = root.to_path_buf();
        if let Some(folder) = date.and_then(|d| grouping.folder(d)) {
            dir.push(folder);
        }
        dir.join(rec.file_name().as_str())
    }

    /// The first name among `wanted`, `<stem>~2.<ext>`, `<stem>~3.<ext>`, …
    /// that no file in its folder has: where a new recording goes, so that
    /// it never takes the name of bytes already archived. (A folder at a
    /// name stays in the way: the commit then fails with `AlreadyExists`.)
    /// Blocking.
    pub fn free_name(wanted: &Path) -> PathBuf {
        let Some(name) = wanted.file_name().and_then(|n| n.to_str()) else {
            return wanted.to_path_buf();
        };
        let mut n = 1u32;
        let mut candidate = wanted.to_path_buf();
        // A folder at the name is left in the way (no recording is a
        // folder): the rename then fails loudly and nothing is recorded.
        while std::fs::symlink_metadata(&candidate).is_ok_and(|m| !m.is_dir()) {
            n += 1;
            candidate = wanted.with_file_name(versioned_name(name, n));
        }
        candidate
    }
}

#[cfg(test)]
mod lint;
