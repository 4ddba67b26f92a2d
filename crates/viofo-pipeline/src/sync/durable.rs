//! One durable point for many files: clips downloaded as complete `.part`
//! files ([`viofo_client::DownloadOptions::staged`]) and their GPS sidecars
//! written to temporary files are made durable together, then renamed to
//! their final names, then their folders synced, each step once for the
//! whole batch. The guarantees stay those of a single file: nothing takes
//! its final name before its bytes are on disk (a crash leaves a `.part`
//! or a temporary file, never a partial file under a final name), and the
//! caller records a clip only after this returned `Ok` for it.
//!
//! The flush: one `syncfs` of the archive's file system writes every dirty
//! page back at once (one journal commit instead of one per file); then
//! each file is still `fdatasync`ed, which costs almost nothing once its
//! pages are clean and reports that file's own write-back errors (older
//! kernels do not report them through `syncfs`).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// A complete file waiting for its final name.
#[derive(Debug, Clone)]
pub(super) struct Staged {
    /// Where the bytes are now.
    pub(super) tmp: PathBuf,
    /// The name it gets once durable.
    pub(super) dest: PathBuf,
}

/// Makes every staged file durable and gives it its final name: one
/// `syncfs`, an `fdatasync` of each, the renames, one `fsync` per folder.
/// Returns one result per item, in order; a failed item keeps its
/// temporary name (a later run resumes or rewrites it) and does not fail
/// the others, except that a folder that cannot be synced fails every item
/// renamed into it.
pub(super) fn commit(items: &[Staged]) -> Vec<io::Result<()>> {
    if items.len() > 1 {
        flush_file_system(items);
    }
    let mut results: Vec<io::Result<()>> = items
        .iter()
        .map(|s| {
            fs_err::File::open(&s.tmp)?.sync_data()?;
            fs_err::rename(&s.tmp, &s.dest)
        })
        .collect();
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

fn sync_folder(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs_err::File::open(dir)?.sync_all()
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
pub(super) fn stage_sidecar(
    clip: &Path,
    points: &[viofo_gps::Point],
    format: viofo_gps::Format,
) -> Result<Staged, viofo_gps::Error> {
    let name = clip.file_name().map(|n| n.to_string_lossy().into_owned());
    let dest = viofo_gps::sidecar_path(clip, format);
    let mut tmp_name = OsString::from(".");
    tmp_name.push(dest.file_name().unwrap_or_default());
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dest.with_file_name(tmp_name);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_takes_its_name_and_a_missing_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("2026-12-02");
        std::fs::create_dir(&sub).unwrap();
        let mut items = Vec::new();
        for (i, folder) in [dir.path(), &sub, &sub].into_iter().enumerate() {
            let tmp = folder.join(format!("c{i}.MP4.part"));
            std::fs::write(&tmp, vec![u8::try_from(i).unwrap(); 1000]).unwrap();
            items.push(Staged {
                tmp,
                dest: folder.join(format!("c{i}.MP4")),
            });
        }
        items.push(Staged {
            tmp: sub.join("gone.MP4.part"),
            dest: sub.join("gone.MP4"),
        });
        let results = commit(&items);
        for (s, r) in items.iter().zip(&results).take(3) {
            assert!(r.is_ok(), "{r:?}");
            assert!(s.dest.is_file() && !s.tmp.exists());
            assert_eq!(std::fs::metadata(&s.dest).unwrap().len(), 1000);
        }
        assert!(results[3].is_err());
        assert!(!sub.join("gone.MP4").exists(), "nothing under a final name");
    }

    #[test]
    fn a_staged_sidecar_is_the_written_track_under_a_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("2026_1202_080000_000001F.MP4");
        let points = vec![viofo_gps::Point {
            time: time::macros::datetime!(2026-12-02 08:00 UTC),
            lat: 52.5,
            lon: 13.4,
            speed_mps: 10.0,
            course_deg: 90.0,
            accel: None,
        }];
        let s = stage_sidecar(&clip, &points, viofo_gps::Format::Gpx).unwrap();
        assert_eq!(
            s.dest,
            viofo_gps::sidecar_path(&clip, viofo_gps::Format::Gpx)
        );
        assert!(!s.dest.exists());
        let mut want = Vec::new();
        viofo_gps::write_track(
            &points,
            Some("2026_1202_080000_000001F.MP4"),
            viofo_gps::Format::Gpx,
            &mut want,
        )
        .unwrap();
        assert_eq!(std::fs::read(&s.tmp).unwrap(), want);
        commit(std::slice::from_ref(&s)).pop().unwrap().unwrap();
        assert_eq!(std::fs::read(&s.dest).unwrap(), want);
        // A crash's leftover of this name is the gps crate's to clean.
        assert_eq!(viofo_gps::remove_stale_sidecar_temps(&clip).unwrap(), 0);
    }
}
