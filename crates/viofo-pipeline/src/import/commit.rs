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
/// ([`crate::archive::commit`]). A clip's name already taken in the
/// archive is either this very copy (the same size and hash: a killed
/// import renamed it before recording it), kept as it is and recorded, or
/// other bytes, and then the copy takes the next free name (its sidecars
/// with it); nothing is ever renamed over a file. On a failure the batch's
/// remaining temporary files are removed and the first error returned
/// (what took its name stays: its bytes were durable; it is not recorded).
pub(super) fn make_durable(batch: &mut [&mut Copied]) -> std::io::Result<()> {
    let mut items: Vec<Staged> = Vec::new();
    // Items whose name may already hold their bytes (a sidecar of a clip
    // found in place): AlreadyExists is then no failure.
    let mut in_place: Vec<bool> = Vec::new();
    for c in batch.iter_mut() {
        let found = place(c);
        if found {
            crate::archive::discard(&c.part);
        } else {
            items.push(Staged {
                tmp: c.part.clone(),
                dest: c.dest.clone(),
            });
            in_place.push(false);
        }
        for (tmp, dest) in &c.sidecars {
            items.push(Staged {
                tmp: tmp.clone(),
                dest: dest.clone(),
            });
            in_place.push(found);
        }
    }
    let results = commit(&items);
    let mut first = None;
    for ((item, r), found) in items.iter().zip(results).zip(in_place) {
        match r {
            Ok(()) => {}
            Err(e) if found && e.kind() == std::io::ErrorKind::AlreadyExists => {
                crate::archive::discard(&item.tmp);
            }
            Err(e) => {
                crate::archive::discard(&item.tmp);
                first.get_or_insert(e);
            }
        }
    }
    match first {
        Some(e) => {
            let refs: Vec<&Copied> = batch.iter().map(|c| &**c).collect();
            discard(&refs);
            Err(e)
        }
        None => Ok(()),
    }
}

/// Where a copy goes: `true` when its name already holds exactly its bytes
/// (found in place); otherwise its `dest` (and its sidecars') is the first
/// free name. Blocking (reads the file in the way, rarely).
fn place(c: &mut Copied) -> bool {
    let taken = std::fs::symlink_metadata(&c.dest).is_ok_and(|m| m.is_file());
    if !taken {
        return false;
    }
    if std::fs::metadata(&c.dest).is_ok_and(|m| m.len() == c.bytes)
        && super::copy::hash_file(&c.dest).is_ok_and(|h| h == (c.bytes, c.hash))
    {
        tracing::info!(
            "import: {} already holds this clip (an import stopped before recording it); kept",
            c.dest.display()
        );
        return true;
    }
    let free = crate::archive::Archive::free_name(&c.dest);
    for (_, dest) in &mut c.sidecars {
        // `<clip>.gpx` follows its clip's name.
        if let Some(ext) = dest.extension() {
            let mut s = free.clone().into_os_string();
            s.push(".");
            s.push(ext);
            *dest = PathBuf::from(s);
        }
    }
    tracing::info!(
        "import: {} holds another recording; this one is archived as {}",
        c.dest.display(),
        free.display()
    );
    c.dest = free;
    false
}

/// Makes a folder's entries durable: the archive's one folder sync.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    crate::archive::sync_folder(dir)
}

/// Removes the sources of a recorded batch (`--move`), each given with its
/// archived copy; one that is the archive's own file
/// ([`may_remove_source`](super::guard::may_remove_source)) is kept. Each
/// failure is returned with its path, the rest go on. The folders they
/// were in are synced so the removals last.
pub(super) fn remove_sources(
    sources: &[(PathBuf, PathBuf)],
    archive: &Path,
) -> Vec<(PathBuf, String)> {
    let mut failed = Vec::new();
    let mut dirs = BTreeSet::new();
    for (s, copy) in sources {
        if let Err(why) = may_remove(s, copy, archive) {
            failed.push((s.clone(), why));
            continue;
        }
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

/// Whether `source` may be removed now that `copy` is archived: the
/// facts read, then the decision.
fn may_remove(source: &Path, copy: &Path, archive: &Path) -> Result<(), String> {
    let facts = super::guard::Facts::read(source, copy, archive)?;
    super::guard::may_remove_source(&facts)
}

/// `--move` for a clip archived by an earlier run (an import killed after
/// recording its batch, or a card read twice): the source is removed only
/// when it is not the archive's own file and the archived copy has its
/// size and hash. Returns why it was kept.
pub(super) fn remove_if_archived(
    source: &Path,
    archived: &Path,
    archive: &Path,
) -> Result<(), String> {
    may_remove(source, archived, archive)?;
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
