//! The durable point shared by the clips copied close together: one
//! filesystem sync for the whole batch's `.part` files and sidecars, then
//! their renames, one sync of each folder they are in, one store
//! transaction, and only then the removal of `--move` sources.
//!
//! The guarantees are the per-clip ones: a copy takes its final name only
//! after its bytes are durable (the sync comes before any rename), and a
//! source is removed only after its copy is durable, verified, renamed
//! (the folder synced) and recorded (the store's transaction committed).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::copy::Copied;

/// Makes every `.part` and temporary sidecar of the batch durable: one
/// `syncfs` of the archive's filesystem (Linux), plus an `fsync` of each
/// file on another filesystem (a folder mounted inside the archive);
/// elsewhere, an `fsync` of each file.
pub(super) fn sync_batch(archive: &Path, batch: &[&Copied]) -> std::io::Result<()> {
    let archive_dev = sync_filesystem(archive)?;
    for c in batch {
        if archive_dev.is_some_and(|d| d == c.dev) {
            continue;
        }
        fs_err::File::open(&c.part)?.sync_all()?;
        for (tmp, _) in &c.sidecars {
            fs_err::File::open(tmp)?.sync_all()?;
        }
    }
    Ok(())
}

/// `syncfs` of the filesystem holding `dir`; returns its device, or `None`
/// where there is no `syncfs` (every file is then synced on its own).
#[cfg(target_os = "linux")]
fn sync_filesystem(dir: &Path) -> std::io::Result<Option<u64>> {
    use std::os::unix::fs::MetadataExt as _;
    let d = fs_err::File::open(dir)?;
    let dev = d.metadata()?.dev();
    rustix::fs::syncfs(d.file()).map_err(std::io::Error::from)?;
    Ok(Some(dev))
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_dir: &Path) -> std::io::Result<Option<u64>> {
    Ok(None)
}

/// Renames each durable `.part` to its final name and each sidecar to its
/// own, then syncs every folder touched once. Stops at the first failure
/// (what was renamed stays: its bytes were durable).
pub(super) fn rename_batch(batch: &[&Copied]) -> std::io::Result<()> {
    let mut dirs = BTreeSet::new();
    for c in batch {
        fs_err::rename(&c.part, &c.dest)?;
        for (tmp, dest) in &c.sidecars {
            fs_err::rename(tmp, dest)?;
        }
        if let Some(d) = c.dest.parent() {
            dirs.insert(d.to_owned());
        }
    }
    for d in dirs {
        sync_dir(&d)?;
    }
    Ok(())
}

/// Makes a folder's entries durable (not every platform can open one).
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(d) => d.sync_all().or_else(|e| {
            // Some filesystems refuse to sync a folder; their renames are
            // durable with the file.
            if e.kind() == std::io::ErrorKind::InvalidInput {
                Ok(())
            } else {
                Err(e)
            }
        }),
        Err(_) => Ok(()),
    }
}

/// Removes the sources of a recorded batch (`--move`); each failure is
/// returned with its path, the rest go on. The folders they were in are
/// synced so the removals last.
pub(super) fn remove_sources(sources: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut failed = Vec::new();
    let mut dirs = BTreeSet::new();
    for s in sources {
        match fs_err::remove_file(s) {
            Ok(()) => {
                if let Some(d) = s.parent() {
                    dirs.insert(d.to_owned());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => failed.push((s.clone(), e.to_string())),
        }
    }
    for d in dirs {
        if let Err(e) = sync_dir(&d) {
            tracing::warn!(
                "import: syncing {} after removing sources: {e}",
                d.display()
            );
        }
    }
    failed
}

/// `--move` for a clip archived by an earlier run (an import killed after
/// recording its batch, or a card read twice): the source is removed only
/// when the archived copy has its size and hash. Returns why it was kept.
pub(super) fn remove_if_archived(source: &Path, archived: &Path) -> Result<(), String> {
    let src = super::copy::hash_file(source).map_err(|e| format!("cannot read it: {e}"))?;
    let copy = super::copy::hash_file(archived)
        .map_err(|e| format!("its archived copy cannot be read: {e}"))?;
    if src != copy {
        return Err(format!(
            "its archived copy {} differs from it",
            archived.display()
        ));
    }
    fs_err::remove_file(source).map_err(|e| e.to_string())?;
    if let Some(d) = source.parent()
        && let Err(e) = sync_dir(d)
    {
        tracing::warn!(
            "import: syncing {} after removing a source: {e}",
            d.display()
        );
    }
    Ok(())
}

/// Removes what a batch that could not be made durable left behind.
pub(super) fn discard(batch: &[&Copied]) {
    for c in batch {
        let _ = std::fs::remove_file(&c.part);
        for (tmp, _) in &c.sidecars {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
