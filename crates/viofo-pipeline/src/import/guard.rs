//! Whether `--move` may remove a source: never the archive's own file,
//! whatever path reaches it (a hard link, a bind mount, a link to the
//! archive's folder, a `..`).
//!
//! The facts are read from the filesystem ([`Facts::read`]); the decision
//! is the pure [`may_remove_source`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A file or folder as its filesystem knows it: device and inode. Two
/// paths with the same id are the same file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct FileId {
    pub(super) dev: u64,
    pub(super) ino: u64,
}

impl FileId {
    /// The id of what `m` describes; `None` where the platform has none.
    #[cfg(unix)]
    pub(super) fn of(m: &std::fs::Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt as _;
        Some(FileId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    #[cfg(not(unix))]
    pub(super) fn of(_: &std::fs::Metadata) -> Option<FileId> {
        None
    }
}

/// What the decision needs to know of a source, its archived copy and the
/// archive. An id is `None` where the platform cannot tell one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Facts {
    /// The source's own entry (a link's, not its target's: removing a
    /// link removes only the link).
    pub(super) source: Option<FileId>,
    /// The archived copy of the clip.
    pub(super) copy: Option<FileId>,
    /// The folder the source is in, resolved (links, `.` and `..`).
    pub(super) source_dir: PathBuf,
    /// The ids of that folder and of every folder above it.
    pub(super) source_dirs: Vec<FileId>,
    /// The archive's folder, resolved.
    pub(super) archive: PathBuf,
    /// Its id.
    pub(super) archive_id: Option<FileId>,
}

impl Facts {
    /// Reads the facts; `Err` is why they cannot be told (the source is
    /// then kept).
    pub(super) fn read(source: &Path, copy: &Path, archive: &Path) -> Result<Facts, String> {
        let cannot = |what: &str, p: &Path, e: std::io::Error| {
            format!(
                "cannot tell whether it is the archive's own file: {what} {}: {e}",
                p.display()
            )
        };
        let src = std::fs::symlink_metadata(source).map_err(|e| cannot("reading", source, e))?;
        let cp = std::fs::metadata(copy).map_err(|e| cannot("reading", copy, e))?;
        let parent = match source.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let source_dir =
            std::fs::canonicalize(parent).map_err(|e| cannot("resolving", parent, e))?;
        let source_dirs =
            ids_up(&source_dir).map_err(|e| cannot("reading the folders of", parent, e))?;
        let archive_dir =
            std::fs::canonicalize(archive).map_err(|e| cannot("resolving", archive, e))?;
        let a = std::fs::metadata(&archive_dir).map_err(|e| cannot("reading", archive, e))?;
        Ok(Facts {
            source: FileId::of(&src),
            copy: FileId::of(&cp),
            source_dir,
            source_dirs,
            archive: archive_dir,
            archive_id: FileId::of(&a),
        })
    }
}

/// The ids of `dir` (resolved) and of every folder above it.
pub(super) fn ids_up(dir: &Path) -> std::io::Result<Vec<FileId>> {
    let mut out = Vec::new();
    for d in dir.ancestors() {
        if let Some(id) = FileId::of(&std::fs::metadata(d)?) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Whether `--move` may remove a source whose clip is archived: not when
/// it is the archived copy itself (the same device and inode: a hard link,
/// or the archive reached through a bind mount), nor when it lies inside
/// the archive, by its resolved path or by a folder above it being the
/// archive's folder (a bind mount of the archive). `Err` is why it is kept.
pub(super) fn may_remove_source(f: &Facts) -> Result<(), String> {
    if f.source.is_some() && f.source == f.copy {
        return Err("it is the archived copy itself (the same file by another path)".to_owned());
    }
    if f.source_dir.starts_with(&f.archive) {
        return Err(format!(
            "it lies inside the archive {}",
            f.archive.display()
        ));
    }
    if let Some(a) = f.archive_id
        && f.source_dirs.contains(&a)
    {
        return Err(format!(
            "it lies inside the archive {}, reached by another path",
            f.archive.display()
        ));
    }
    Ok(())
}

/// The archived file `src` is (the same device and inode), if it is one;
/// `inodes` is built from `archived` on the first call that needs it (a
/// source on the archive's file system: a hard link is on the same one).
pub(super) fn archived_file(
    src: &Path,
    root: &Path,
    archived: &[PathBuf],
    inodes: &mut Option<HashMap<(u64, u64), PathBuf>>,
) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(src).ok()?;
        if std::fs::metadata(root).ok()?.dev() != m.dev() {
            return None;
        }
        let map = inodes.get_or_insert_with(|| {
            archived
                .iter()
                .filter_map(|p| {
                    let m = std::fs::metadata(p).ok()?;
                    Some(((m.dev(), m.ino()), p.clone()))
                })
                .collect()
        });
        map.get(&(m.dev(), m.ino())).cloned()
    }
    #[cfg(not(unix))]
    {
        let _ = (src, root, archived, inodes);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(ino: u64) -> Option<FileId> {
        Some(FileId { dev: 1, ino })
    }

    /// A card at /media/card (ids 10, 11, 12 up to /), an archive at
    /// /srv/archive (id 20), a source with id 30, its copy with id 40.
    fn plain() -> Facts {
        Facts {
            source: id(30),
            copy: id(40),
            source_dir: PathBuf::from("/media/card/DCIM/Movie"),
            source_dirs: [10, 11, 12, 13, 2].into_iter().filter_map(id).collect(),
            archive: PathBuf::from("/srv/archive"),
            archive_id: id(20),
        }
    }

    #[test]
    fn table() {
        let other_dev = |mut f: Facts| {
            f.copy = Some(FileId { dev: 2, ino: 30 });
            f
        };
        let cases: Vec<(&str, Facts, Option<&str>)> = vec![
            ("a card's clip", plain(), None),
            ("same inode on another device", other_dev(plain()), None),
            (
                "a hard link to the copy",
                Facts {
                    copy: id(30),
                    ..plain()
                },
                Some("the archived copy itself"),
            ),
            (
                "inside the archive by its resolved path",
                Facts {
                    source_dir: PathBuf::from("/srv/archive/2025-12-24"),
                    ..plain()
                },
                Some("inside the archive"),
            ),
            (
                "a bind mount of the archive's folder",
                Facts {
                    source_dirs: [50, 20, 2].into_iter().filter_map(id).collect(),
                    ..plain()
                },
                Some("reached by another path"),
            ),
            (
                "a sibling named like the archive",
                Facts {
                    source_dir: PathBuf::from("/srv/archive-old"),
                    ..plain()
                },
                None,
            ),
            (
                "no ids on this platform",
                Facts {
                    source: None,
                    copy: None,
                    archive_id: None,
                    source_dirs: vec![],
                    ..plain()
                },
                None,
            ),
        ];
        for (what, facts, want) in cases {
            match (may_remove_source(&facts), want) {
                (Ok(()), None) => {}
                (Err(why), Some(w)) => assert!(why.contains(w), "{what}: {why}"),
                (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
            }
        }
    }

    proptest! {
        /// Whatever else holds, the archive's own file (by id or by a
        /// folder above it) is never removed.
        #[test]
        fn the_archives_own_file_is_kept(
            src in 0u64..6, copy in 0u64..6, arch in 0u64..6,
            dirs in proptest::collection::vec(0u64..6, 0..5),
            inside in any::<bool>(),
        ) {
            let f = Facts {
                source: id(src),
                copy: id(copy),
                source_dir: PathBuf::from(if inside { "/a/x" } else { "/b/x" }),
                source_dirs: dirs.iter().copied().filter_map(id).collect(),
                archive: PathBuf::from("/a"),
                archive_id: id(arch),
            };
            let archives = src == copy || inside || dirs.contains(&arch);
            prop_assert_eq!(may_remove_source(&f).is_err(), archives);
        }
    }
}
