//! The archive's owner lock: an exclusive `flock` on
//! `<archive>/.viofosync.lock` holding the owner's pid, one per process and
//! folder (every [`Archive`](super::Archive) of the folder in a process
//! shares it).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use crate::{Error, Result};

/// The owner lock file's name in the archive folder.
pub const LOCK_FILE: &str = ".viofosync.lock";

/// A held owner lock: the open lock file (the kernel releases the lock
/// when it is closed, or the process dies, even by `kill -9`).
#[derive(Debug)]
pub(super) struct OwnerLock {
    path: PathBuf,
    file: std::fs::File,
}

/// The locks this process holds, by the lock file's device and inode: a
/// second handle on the same folder (however its path is spelt) shares
/// the first one's lock instead of being refused by it.
static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());

/// A lock this process holds: its file's (device, inode) and the lock.
type Held = ((u64, u64), Weak<OwnerLock>);

impl OwnerLock {
    /// This process's lock on the folder at `root`: the one it holds
    /// already, or a new one.
    pub(super) fn shared(root: &Path) -> Result<Arc<Self>> {
        let key = file_id(&root.join(LOCK_FILE));
        let mut held = HELD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.retain(|(_, w)| w.strong_count() > 0);
        if let Some(k) = key
            && let Some(l) = held
                .iter()
                .find(|(id, _)| *id == k)
                .and_then(|(_, w)| w.upgrade())
            && l.still_held()
        {
            return Ok(l);
        }
        let lock = Arc::new(Self::take(root)?);
        if let Some(k) = file_id(&lock.path) {
            held.push((k, Arc::downgrade(&lock)));
        }
        Ok(lock)
    }

    fn take(root: &Path) -> Result<Self> {
        let path = root.join(LOCK_FILE);
        match viofo_store::lock_exclusive(&path) {
            Ok(viofo_store::Locked::Taken(file)) => Ok(Self { path, file }),
            Ok(viofo_store::Locked::Held { pid }) => Err(Error::archive_in_use(root, pid)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::archive(root.to_owned(), crate::error::MISSING, None))
            }
            Err(e) => Err(Error::archive(
                root.to_owned(),
                "cannot take its owner lock",
                Some(e),
            )),
        }
    }

    /// Is the lock file we hold still the one at its path (not removed or
    /// replaced, say by a remount)?
    pub(super) fn still_held(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            match (self.file.metadata(), std::fs::metadata(&self.path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            }
        }
        #[cfg(not(unix))]
        {
            self.path.exists()
        }
    }
}

/// A file's device and inode (`None`: missing, or not a Unix system).
fn file_id(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
