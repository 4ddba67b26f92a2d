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

use crate::archive::{Staged, commit};

use super::copy::Copied;

/// Makes every `.part` and temporary sidecar of the batch durable under
/// its final name with the archive's one commit
/// ([`crate::archive::commit`]). On a failure the batch's remaining
/// temporary files are removed and the first error returned (what took
/// its name stays: its bytes were durable; it is not recorded).
pub(super) fn make_durable(batch: &[&Copied]) -> std::io::Result<()> {
    let items: Vec<Staged> = batch
        .iter()
        .flat_map(|c| {
            std::iter::once(Staged {
                tmp: c.part.clone(),
                dest: c.dest.clone(),
            })
            .chain(c.sidecars.iter().map(|(tmp, dest)| Staged {
                tmp: tmp.clone(),
                dest: dest.clone(),
            }))
        })
        .collect();
    let results = commit(&items);
    if let Some(e) = results.into_iter().find_map(Result::err) {
        discard(batch);
        return Err(e);
    }
    Ok(())
}

/// Makes a folder's entries durable: the archive's one folder sync.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    crate::archive::sync_folder(dir)
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
        crate::archive::discard(&c.part);
        for (tmp, _) in &c.sidecars {
            crate::archive::discard(tmp);
        }
    }
}
