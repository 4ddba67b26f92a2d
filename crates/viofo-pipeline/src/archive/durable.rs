//! The archive's one durable-write policy, used by the sync's batches, the
//! import, the GPS sidecars and the journeys' tracks: write under a
//! temporary name, make the bytes durable, give the final name without
//! replacing anything, sync the folder.
//!
//! For a batch of files (clips downloaded as complete `.part` files and
//! their sidecars staged beside them): one `syncfs` of the archive's file
//! system writes every dirty page back at once (one journal commit instead
//! of one per file); then each file is still `fdatasync`ed, which costs
//! almost nothing once its pages are clean and reports that file's own
//! write-back errors (older kernels do not report them through `syncfs`,
//! and a folder mounted inside the archive is another file system); then
//! the renames; then one `fsync` per folder. A failure is an error: a
//! folder that cannot be opened or synced fails the items renamed into it
//! (only a file system that refuses to sync a folder at all, `EINVAL`,
//! counts as synced: its renames are durable with the file).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A complete file waiting for its final name.
#[derive(Debug, Clone)]
pub struct Staged {
    /// Where the bytes are now.
    pub tmp: PathBuf,
    /// The name it gets once durable (never over an existing file).
    pub dest: PathBuf,
}

/// Makes every staged file durable and gives it its final name: one
/// `syncfs`, an `fdatasync` of each, the renames (never over an existing
/// file: `AlreadyExists` then), one `fsync` per folder. Returns one result
/// per item, in order; a failed item keeps its temporary name (a later run
/// resumes or rewrites it) and does not fail the others, except that a
/// folder that cannot be synced fails every item renamed into it. Blocking.
pub fn commit(items: &[Staged]) -> Vec<io::Result<()>> {
    if items.len() > 1 {
        flush_file_system(items);
    }
    // Every file's bytes first, then the renames back to back: a crash
    // between two renames is as unlikely as can be (a clip renamed, its
    // sidecar not yet).
    let mut results: Vec<io::Result<()>> = items
        .iter()
        .map(|s| fs_err::File::open(&s.tmp)?.sync_data())
        .collect();
    for (s, r) in items.iter().zip(results.iter_mut()) {
        if r.is_ok() {
            *r = rename_no_replace(&s.tmp, &s.dest);
        }
    }
    let dirs: BTreeSet<PathBuf> = items
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(s, _)| folder_of(&s.dest))
        .collect();
    for dir in dirs {
        if let Err(e) = sync_folder(&dir) {
            let kind = e.kind();
            let text = e.to_string();
            for (s, r) in items.iter().zip(results.iter_mut()) {
                if r.is_ok() && folder_of(&s.dest) == dir {
                    *r = Err(io::Error::new(kind, text.clone()));
                }
            }
        }
    }
    results
}

/// Renames `from` to `to` unless `to` exists (`AlreadyExists` then):
/// `renameat2(RENAME_NOREPLACE)`; where the file system lacks it, a hard
/// link and an unlink (the link fails on an existing name); where it has
/// no hard links either (FAT, exFAT), a check and a plain rename, which the
/// archive's owner lock keeps from racing another viofosync.
pub(crate) fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(e)
                if e == rustix::io::Errno::INVAL
                    || e == rustix::io::Errno::NOSYS
                    || e == rustix::io::Errno::OPNOTSUPP => {}
            Err(e) => return Err(with_paths(e.into(), from, to)),
        }
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => return std::fs::remove_file(from).map_err(|e| with_paths(e, from, to)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(with_paths(e, from, to));
        }
        Err(_) => {}
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(with_paths(io::ErrorKind::AlreadyExists.into(), from, to));
    }
    std::fs::rename(from, to).map_err(|e| with_paths(e, from, to))
}

fn with_paths(e: io::Error, from: &Path, to: &Path) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("renaming {} to {}: {e}", from.display(), to.display()),
    )
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes back the file system holding the first item at once. Best
/// effort: the per-file `fdatasync` that follows is what guarantees.
fn flush_file_system(items: &[Staged]) {
    #[cfg(target_os = "linux")]
    if let Some(first) = items.first()
        && let Ok(f) = std::fs::File::open(&first.tmp)
        && let Err(e) = rustix::fs::syncfs(&f)
    {
        tracing::debug!("syncfs: {e}; each file is synced on its own");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = items;
}

/// Makes a folder's entries (a rename, a removal) durable. A file system
/// that refuses to sync a folder (`EINVAL`) makes its renames durable with
/// the file; any other failure, opening the folder included, is an error.
pub fn sync_folder(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        match fs_err::File::open(dir)?.sync_all() {
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes a clip's sidecar (for the clip's final path `clip`) to its
/// temporary file, neither synced nor renamed: the temporary name is the
/// one `viofo_gps::write_sidecar` uses, so a crash's leftover is removed
/// like that function's ([`viofo_gps::remove_stale_sidecar_temps`]).
pub fn stage_sidecar(
    clip: &Path,
    points: &[viofo_gps::Point],
    format: viofo_gps::Format,
) -> Result<Staged, viofo_gps::Error> {
    let name = clip.file_name().map(|n| n.to_string_lossy().into_owned());
    let dest = viofo_gps::sidecar_path(clip, format);
    let tmp = temp_beside(&dest);
    let written = (|| -> Result<(), viofo_gps::Error> {
        let f = fs_err::File::create(&tmp)?;
        let mut bw = io::BufWriter::new(f);
        viofo_gps::write_track(points, name.as_deref(), format, &mut bw)?;
        bw.flush()?;
        Ok(())
    })();
    match written {
        Ok(()) => Ok(Staged { tmp, dest }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes a clip's sidecars in `formats` durably (staged, committed):
/// for a tail resumed after a crash, which reads the track from the
/// archived clip. A sidecar already there was written from the same clip
/// before the crash and stays as it is.
pub fn write_sidecars(
    clip: &Path,
    points: &[viofo_gps::Point],
    formats: &[viofo_gps::Format],
) -> Result<(), viofo_gps::Error> {
    let mut items = Vec::with_capacity(formats.len());
    for f in formats {
        match stage_sidecar(clip, points, *f) {
            Ok(s) => items.push(s),
            Err(e) => {
                for s in &items {
                    let _ = std::fs::remove_file(&s.tmp);
                }
                return Err(e);
            }
        }
    }
    let mut first_error = None;
    for (s, r) in items.iter().zip(commit(&items)) {
        match r {
            Ok(()) => {}
            Err(e) => {
                let _ = std::fs::remove_file(&s.tmp);
                if e.kind() != io::ErrorKind::AlreadyExists && first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `.<name>.tmp<pid>` beside `dest`.
fn temp_beside(dest: &Path) -> PathBuf {
    let mut tmp_name = OsString::from(".");
    tmp_name.push(dest.file_name().unwrap_or_default());
    tmp_name.push(format!(".tmp{}", std::process::id()));
    dest.with_file_name(tmp_name)
}

/// Writes a derived file (a journey's merged track: regenerated from the
/// store whenever the journey changes, never a recording) at `dest`,
/// creating its folder: a temporary file beside it, written, synced and
/// renamed over `dest`, then the folder synced. Derived files are the only
/// ones the archive replaces; a failure leaves no temporary file behind.
pub fn write_derived(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    write_derived_with(dest, |w| w.write_all(bytes))
}

/// [`write_derived`] of what `fill` writes, streamed to the temporary file
/// through a buffer (a long journey's track is never held whole in
/// memory).
pub fn write_derived_with(
    dest: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = folder_of(dest);
    fs_err::create_dir_all(&dir)?;
    let tmp = temp_beside(dest);
    let r = (|| {
        let mut w = io::BufWriter::with_capacity(64 * 1024, fs_err::File::create(&tmp)?);
        fill(&mut w)?;
        let f = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        f.sync_all()?;
        fs_err::rename(&tmp, dest)?;
        sync_folder(&dir)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Removes an archived file (retention, or a derived file that is gone)
/// and syncs its folder so the removal lasts. A file already gone is not
/// an error.
pub(crate) fn remove_file(path: &Path) -> io::Result<()> {
    match fs_err::remove_file(path) {
        Ok(()) => sync_folder(&folder_of(path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates a folder of the archive (a grouping folder) with its parents,
/// off the async threads' way (tokio's blocking pool).
pub(crate) async fn create_folder(dir: &Path) -> io::Result<()> {
    fs_err::tokio::create_dir_all(dir).await
}

/// Creates (or truncates) the temporary file `part` a copy is written to,
/// with its folder: the import's `.part` (a download's is the client's).
pub(crate) fn create_part(part: &Path) -> io::Result<fs_err::File> {
    fs_err::create_dir_all(folder_of(part))?;
    fs_err::File::create(part)
}

/// Removes a temporary file that will not take a final name (a `.part`,
/// a staged sidecar); a failure is only logged at debug level.
pub(crate) fn discard(tmp: &Path) {
    if let Err(e) = std::fs::remove_file(tmp)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::debug!("could not remove {}: {e}", tmp.display());
    }
}

#[cfg(test)]
mod tests;
