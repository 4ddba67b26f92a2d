//! Finding the clips under the folders given to an import: a card's `DCIM`
//! layout or any folder of Viofo-named clips, walked to a bounded depth,
//! never following a link out of the tree (nor into a folder at all).
//! Each file is either a [`Candidate`] (its name passed the client's
//! validation; flags derived from its folders the way a listing's are) or
//! skipped with the reason.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use viofo_client::{Recording, Size};

use super::guard::{FileId, ids_up};
use crate::{Error, Result};

/// Most files (clips or not) one import looks at; past it the scan stops
/// with a skip, so a huge tree cannot exhaust memory.
pub(super) const MAX_ENTRIES: usize = 1_000_000;

/// A file whose name validates as a recording.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// Where it is (as found: a link's own path).
    pub(super) path: PathBuf,
    /// The clip as a listing would describe it: the camera path it has (or
    /// would have) on the card, so the client's rules derive locked,
    /// parking, photo, channel and recording time.
    pub(super) rec: Recording,
    /// Its size at the scan (a dangling link: 0, the read fails).
    pub(super) size: u64,
}

/// What the scan found.
#[derive(Debug, Default)]
pub(super) struct Scan {
    pub(super) candidates: Vec<Candidate>,
    pub(super) skipped: Vec<(PathBuf, String)>,
}

/// Checks the folders given (each must exist and be a folder, and not lie
/// inside the archive): a configuration error otherwise.
pub(super) fn check_sources(sources: &[PathBuf], archive: &Path) -> Result<Vec<PathBuf>> {
    if sources.is_empty() {
        return Err(Error::config("import: no folder given"));
    }
    let archive = std::fs::canonicalize(archive).unwrap_or_else(|_| archive.to_owned());
    let archive_id = dir_id(&archive);
    let mut out = Vec::with_capacity(sources.len());
    for src in sources {
        match std::fs::metadata(src) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::config(format!(
                    "import: {} does not exist",
                    src.display()
                )));
            }
            Err(e) => {
                return Err(Error::config(format!(
                    "import: {} cannot be read: {e}",
                    src.display()
                )));
            }
            Ok(m) if !m.is_dir() => {
                return Err(Error::config(format!(
                    "import: {} is not a folder",
                    src.display()
                )));
            }
            Ok(_) => {}
        }
        let canon = std::fs::canonicalize(src).unwrap_or_else(|_| src.clone());
        // By its resolved path, or by a folder above it being the
        // archive's (the archive bind-mounted elsewhere).
        let by_id = archive_id.is_some_and(|a| ids_up(&canon).is_ok_and(|ids| ids.contains(&a)));
        if canon.starts_with(&archive) || by_id {
            return Err(Error::config(format!(
                "import: {} is inside the archive {}",
                src.display(),
                archive.display()
            )));
        }
        out.push(canon);
    }
    Ok(out)
}

/// Walks each (checked, canonical) root to at most `max_depth` folders
/// below it. The archive's own folder is never entered.
pub(super) fn scan(roots: &[PathBuf], archive: &Path, max_depth: usize) -> Scan {
    let archive = std::fs::canonicalize(archive).unwrap_or_else(|_| archive.to_owned());
    let archive_id = dir_id(&archive);
    let mut scan = Scan::default();
    let mut seen_dirs = HashSet::new();
    let mut entries = 0usize;
    for root in roots {
        let mut dirs = vec![(root.clone(), 0usize)];
        while let Some((dir, depth)) = dirs.pop() {
            if !seen_dirs.insert(dir.clone()) {
                continue;
            }
            let list = match fs_err::read_dir(&dir) {
                Ok(l) => l,
                Err(e) => {
                    scan.skipped
                        .push((dir.clone(), format!("folder cannot be read: {e}")));
                    continue;
                }
            };
            let mut names: Vec<_> = list.filter_map(std::result::Result::ok).collect();
            names.sort_by_key(fs_err::DirEntry::file_name);
            for entry in names {
                entries += 1;
                if entries > MAX_ENTRIES {
                    scan.skipped.push((
                        dir.clone(),
                        format!("more than {MAX_ENTRIES} files: the rest was not scanned"),
                    ));
                    return scan;
                }
                let path = entry.path();
                let Ok(ft) = entry.file_type() else {
                    scan.skipped
                        .push((path, "cannot tell what it is".to_owned()));
                    continue;
                };
                if ft.is_dir() {
                    if path == archive || archive_id.is_some_and(|a| dir_id(&path) == Some(a)) {
                        scan.skipped
                            .push((path, "the archive itself: not imported".to_owned()));
                    } else if depth >= max_depth {
                        scan.skipped.push((
                            path,
                            format!("deeper than {max_depth} folders: not scanned"),
                        ));
                    } else {
                        dirs.push((path, depth + 1));
                    }
                    continue;
                }
                let size = if ft.is_symlink() {
                    match link_target(&path, root) {
                        Ok(size) => size,
                        Err(reason) => {
                            scan.skipped.push((path, reason));
                            continue;
                        }
                    }
                } else if ft.is_file() {
                    match entry.metadata() {
                        Ok(m) => m.len(),
                        Err(e) => {
                            scan.skipped.push((path, format!("cannot be read: {e}")));
                            continue;
                        }
                    }
                } else {
                    scan.skipped.push((
                        path,
                        "not a regular file (a device, pipe or socket)".to_owned(),
                    ));
                    continue;
                };
                match candidate(&path, root, size) {
                    Ok(rec) => scan.candidates.push(Candidate { path, rec, size }),
                    Err(reason) => scan.skipped.push((path, reason)),
                }
            }
        }
    }
    scan
}

/// A folder's device and inode, if it can be read.
fn dir_id(dir: &Path) -> Option<FileId> {
    std::fs::metadata(dir).ok().as_ref().and_then(FileId::of)
}

/// A link inside the tree to a file: its size. A dangling link counts as
/// a clip whose read fails (size 0). Links to folders and out of the tree
/// are not followed.
fn link_target(path: &Path, root: &Path) -> std::result::Result<u64, String> {
    match std::fs::canonicalize(path) {
        Err(_) => Ok(0),
        Ok(target) if !target.starts_with(root) => {
            Err("a symbolic link out of the folder: not followed".to_owned())
        }
        Ok(target) => match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => Ok(m.len()),
            Ok(_) => Err("a symbolic link to a folder or special file: not followed".to_owned()),
            Err(_) => Ok(0),
        },
    }
}

/// The clip a file is, by its name and the folders it is in (`RO`:
/// locked, `Parking`: parking, `Photo`: a photo; any case), through the
/// same validation as a camera listing's entries.
fn candidate(path: &Path, root: &Path, size: u64) -> std::result::Result<Recording, String> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err("the name is not UTF-8: not a clip".to_owned());
    };
    let name = viofo_client::validate_name(name).map_err(not_a_clip)?;
    // The folders from the root's own name down to the file's.
    let mut folders: Vec<String> = Vec::new();
    if let Some(n) = root.file_name().and_then(|n| n.to_str()) {
        folders.push(n.to_owned());
    }
    if let Some(rel) = path.parent().and_then(|p| p.strip_prefix(root).ok()) {
        folders.extend(
            rel.components()
                .filter_map(|c| c.as_os_str().to_str().map(str::to_owned)),
        );
    }
    let has = |d: &str| folders.iter().any(|f| f.eq_ignore_ascii_case(d));
    let dir = if has("Photo") {
        "/DCIM/Photo"
    } else if has("RO") {
        "/DCIM/Movie/RO"
    } else if has("Parking") {
        "/DCIM/Movie/Parking"
    } else {
        "/DCIM/Movie"
    };
    let remote = format!("{dir}/{}", name.as_str());
    Recording::from_listed_path(&remote, Size::Exact(size)).map_err(not_a_clip)
}

/// The client's reason, without its error kind's suffix.
fn not_a_clip(e: viofo_client::Error) -> String {
    let text = e.to_string();
    let text = text.strip_suffix(": invalid input").unwrap_or(&text);
    format!("not a clip: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_decide_locked_parking_and_photo_in_any_case() {
        let root = Path::new("/card/DCIM");
        let c = |p: &str| candidate(Path::new(p), root, 10).unwrap();
        let ro = c("/card/DCIM/movie/ro/2025_1224_120324_000002F.MP4");
        assert!(ro.is_locked() && !ro.is_parking());
        assert_eq!(
            ro.remote_path(),
            "/DCIM/Movie/RO/2025_1224_120324_000002F.MP4"
        );
        let p = c("/card/DCIM/Movie/PARKING/2025_1224_120324_000003R.MP4");
        assert!(p.is_parking() && !p.is_locked());
        assert_eq!(p.channel(), viofo_client::Channel::Rear);
        let plain = c("/card/DCIM/Movie/2025_1224_120324_000004F.MP4");
        assert!(!plain.is_parking() && !plain.is_locked());
        assert!(plain.start().is_some());
        let photo = c("/card/DCIM/Photo/2026_0505_175704_047965PF.JPG");
        assert!(photo.is_photo() && !photo.is_parking());
        // A root that is itself the RO folder.
        let r = candidate(
            Path::new("/x/RO/2025_1224_120324_000002F.MP4"),
            Path::new("/x/RO"),
            1,
        )
        .unwrap();
        assert!(r.is_locked());
    }

    #[test]
    fn names_are_validated_like_a_listing() {
        let root = Path::new("/card");
        for bad in [
            "/card/notes.txt",
            "/card/._2025_1224_120324_000002F.MP4",
            "/card/a b.MP4",
        ] {
            let e = candidate(Path::new(bad), root, 1).unwrap_err();
            assert!(e.starts_with("not a clip"), "{bad}: {e}");
        }
    }
}
