//! The archive's quota and cleaning the camera later (issue 14): `quota`
//! stops a sync as disk full (exit 4) with the numbers, and `sync
//! --delete-archived` deletes clips an earlier run archived.

use viofo_testkit::StoreCheck;

use crate::{Camera, Env, stderr, stdout};

/// Three 150 kB clips of one day against a 200 kB quota: the first fits,
/// the second would take the archive over it and retention may not remove
/// the newest day, so the sync stops with exit 4 and says so.
#[test]
fn a_sync_stops_at_the_quota_with_exit_4() {
    let cam = Camera::with_clips(3, 150_000);
    let catalog = cam.catalog();
    let env = Env::new();
    let o = env
        .sync_cmd(&cam)
        .args(["sync", "--quota", "200KB"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(4),
        "stdout: {}\nstderr: {err}",
        stdout(&o)
    );
    assert!(err.contains("quota"), "{err}");
    assert!(err.contains("over its quota of 0 MB"), "the numbers: {err}");
    let clips: Vec<_> = crate::files(&env.archive())
        .into_iter()
        .filter(|f| f.ends_with(".MP4"))
        .collect();
    assert_eq!(clips.len(), 1, "only what fits: {clips:?}");
    assert!(cam.sim().deleted().is_empty());
    cam.assert_no_loss(&catalog, &env, StoreCheck::Interrupted);

    // `config` shows the quota as it was given.
    let out = env.run_ok(&["config", "--quota", "2TiB"]);
    assert!(out.contains("quota") && out.contains("2TiB"), "{out}");
}

/// Clips archived while deletes were off stay on the camera; a later
/// `sync --delete-archived` deletes them under the delete rule.
#[test]
fn delete_archived_cleans_the_camera_of_clips_archived_earlier() {
    let cam = Camera::with_clips(3, 60_000);
    let catalog = cam.catalog();
    let env = Env::new();
    let out = env.sync_ok(&cam, &["sync"]);
    assert!(out.contains("synced 3 clips"), "{out}");
    assert!(cam.sim().deleted().is_empty(), "no deletes unless asked");

    let out = env.sync_ok(&cam, &["sync", "--delete-archived", "--delete-settle", "0"]);
    assert!(out.contains("synced 0 clips"), "{out}");
    let deleted = cam.sim().deleted();
    for clip in catalog.names() {
        assert!(deleted.contains(&clip), "{clip} not deleted: {deleted:?}");
    }
    assert!(out.contains("3 deleted from the camera"), "{out}");
    cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
}
