//! The archive is never created silently: a missing, non-folder or
//! unwritable archive stops sync and watch with exit 2 before any camera
//! request and before the state database exists; `create_archive = true`
//! creates it on purpose.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use crate::{Camera, Env, files, stderr, stdout};

/// Runs `sub` against `cam` with `archive`; asserts exit 2 with a message
/// naming the archive and `problem`, no camera request, no state database.
fn refused(env: &Env, cam: &Camera, sub: &str, archive: &std::path::Path, problem: &str) {
    let o = env
        .cmd()
        .arg(sub)
        .env("VIOFOSYNC_ADDRESS", &cam.url)
        .env("VIOFOSYNC_ARCHIVE", archive)
        .env("VIOFOSYNC_MAX_USED_DISK", "100")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{sub}: {}{err}", stdout(&o));
    assert!(
        err.contains(&archive.display().to_string()) && err.contains(problem),
        "{sub}: {err}"
    );
    assert!(
        cam.sim().requests().is_empty(),
        "{sub}: the camera was asked something: {:?}",
        cam.sim().requests()
    );
    assert!(!env.default_db().exists(), "{sub}: state database created");
}

#[test]
fn a_missing_archive_stops_sync_and_watch_and_is_not_created() {
    let cam = Camera::with_clips(2, 20_000);
    let env = Env::new();
    let archive = env.path("usb-disk/dashcam");
    for sub in ["sync", "watch"] {
        refused(&env, &cam, sub, &archive, "does not exist");
        assert!(!archive.exists() && !env.path("usb-disk").exists());
    }
    let o = env
        .cmd()
        .arg("sync")
        .env("VIOFOSYNC_ADDRESS", &cam.url)
        .env("VIOFOSYNC_ARCHIVE", &archive)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(
        err.contains("create_archive = true") && err.contains("viofosync doctor --init"),
        "the message names the fix: {err}"
    );
}

#[test]
fn an_archive_that_is_a_file_stops_the_sync() {
    let cam = Camera::with_clips(1, 20_000);
    let env = Env::new();
    let file = env.path("archive-file");
    std::fs::write(&file, b"not a folder").unwrap();
    refused(&env, &cam, "sync", &file, "not a folder");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");
}

/// A folder this process cannot write: a read-only folder when permissions
/// apply to us, else (as root) one in /proc, which nobody can write.
fn unwritable(env: &Env) -> PathBuf {
    let dir = env.path("read-only");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = dir.join("probe");
    if std::fs::write(&probe, b"x").is_err() {
        return dir;
    }
    std::fs::remove_file(&probe).unwrap();
    let proc = PathBuf::from("/proc/self/fdinfo");
    assert!(std::fs::write(proc.join("probe"), b"x").is_err());
    proc
}

#[test]
fn an_unwritable_archive_stops_the_sync_before_anything_is_marked() {
    let cam = Camera::with_clips(2, 20_000);
    let env = Env::new();
    let dir = unwritable(&env);
    refused(&env, &cam, "sync", &dir, "cannot be written");
    assert!(cam.sim().downloaded().is_empty());
}

#[test]
fn create_archive_creates_it_on_purpose() {
    let cam = Camera::with_clips(2, 20_000);
    let env = Env::new();
    let archive = env.path("new/dashcam");
    let o = env
        .cmd()
        .args(["sync", "--create-archive"])
        .env("VIOFOSYNC_ADDRESS", &cam.url)
        .env("VIOFOSYNC_ARCHIVE", &archive)
        .env("VIOFOSYNC_MAX_USED_DISK", "100")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("created the archive folder"),
        "{}",
        stderr(&o)
    );
    let landed = files(&archive);
    assert_eq!(
        landed.iter().filter(|f| f.ends_with(".MP4")).count(),
        2,
        "{landed:?}"
    );
}
