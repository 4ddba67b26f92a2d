//! The archive check made before anything touches the camera or the store:
//! the folder exists, is a folder, and takes a real write.

use std::io::Write as _;
use std::path::Path;

use crate::error::MISSING;
use crate::{Error, Result};

/// Checks the archive folder before a sync touches the camera or the store:
/// it must exist (it is never created here: a missing folder is usually an
/// unmounted share or disk, and filling the system disk instead would be
/// worse), be a folder, and take a real write (a probe file is created,
/// written, synced and removed). Blocking file work; [`Error::is_archive`]
/// on failure.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// viofo_pipeline::check_archive(dir.path()).unwrap();
/// let missing = dir.path().join("not-mounted");
/// let e = viofo_pipeline::check_archive(&missing).unwrap_err();
/// assert!(e.is_archive());
/// assert!(!missing.exists());
/// ```
pub fn check_archive(path: &Path) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::archive(path.to_owned(), MISSING, None));
        }
        Err(e) => return Err(Error::archive(path.to_owned(), "cannot be read", Some(e))),
    };
    if !meta.is_dir() {
        return Err(Error::archive(path.to_owned(), "is not a folder", None));
    }
    let probe = path.join(format!(".viofosync-write-probe-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| {
            f.write_all(b"viofosync")?;
            f.sync_all()
        });
    let removed = std::fs::remove_file(&probe);
    match (written, removed) {
        (Err(e), Ok(())) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // A probe left by a killed run with the same pid: removed now.
            check_archive(path)
        }
        (Err(e), _) => Err(Error::archive(
            path.to_owned(),
            "cannot be written",
            Some(e),
        )),
        (Ok(()), Err(e)) => Err(Error::archive(
            path.to_owned(),
            "takes writes but not removals",
            Some(e),
        )),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// A camera's own folder inside an archive shared by several cameras
/// (`<archive>/<camera id>`): created when missing (its parent, the
/// archive, must exist and is never created here), then checked as
/// [`check_archive`] checks the archive. Blocking file work;
/// [`Error::is_archive`] on failure.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let front = dir.path().join("front");
/// viofo_pipeline::archive::camera_folder(&front).unwrap();
/// assert!(front.is_dir());
/// let unmounted = dir.path().join("not-mounted").join("front");
/// assert!(viofo_pipeline::archive::camera_folder(&unmounted).unwrap_err().is_archive());
/// ```
pub fn camera_folder(folder: &Path) -> Result<()> {
    match std::fs::create_dir(folder) {
        Ok(()) => tracing::info!("created the camera's archive folder {}", folder.display()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::archive(
                folder.to_owned(),
                "cannot be created",
                Some(e),
            ));
        }
    }
    check_archive(folder)
}

/// Creates a missing archive folder and its parents, on purpose only
/// (`doctor --init`): a missing archive is usually an unmounted disk.
pub fn create_archive(path: &Path) -> std::io::Result<()> {
    fs_err::create_dir_all(path)
}
