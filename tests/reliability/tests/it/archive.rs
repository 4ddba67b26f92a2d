//! Issue 10 item 6, an archive the sync cannot write (a read-only mount) or
//! that is missing (an unmounted share): the cycle stops with an archive
//! error before any clip is touched, every clip stays pending (none
//! failed), a missing folder is not created, and a later run with a
//! writable archive takes them all.
//!
//! `unwritable_archive` mounts a read-only tmpfs on the archive (tests may
//! run as root, where file modes do not stop writes). Where mounting is
//! refused the harness reports it as ignored with the reason, never passed.

use viofo_pipeline::Event;
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::{Channel, ClipState};
use viofo_testkit::{CAMERA, Catalog, Rig, note, walk};

use crate::diskfull::Tmpfs;

const CLIPS: usize = 3;

fn camera() -> SimConfig {
    SimConfig::default().with_clips(ClipSpec::synthetic(CLIPS).size(100_000))
}

/// Every clip still pending (or not yet known), untouched: no attempt, no
/// error, no local copy.
async fn assert_untouched(rig: &Rig, catalog: &Catalog, need_rows: bool, when: &str) {
    for n in catalog.names() {
        match rig.store.get_by_name(CAMERA, &n).await.unwrap() {
            Some(row) => {
                assert_eq!(row.state, ClipState::Pending, "{when}: {n}: {row:?}");
                assert_eq!(row.attempts, 0, "{when}: {n}: {row:?}");
                assert!(row.local_path.is_none(), "{when}: {n}: {row:?}");
            }
            None => assert!(!need_rows, "{when}: {n}: no store row"),
        }
    }
    assert!(
        !rig.events()
            .iter()
            .any(|e| matches!(e, Event::ItemFailed { .. })),
        "{when}: a clip was reported failed"
    );
    assert_eq!(
        rig.clip_requests(),
        0,
        "{when}: a clip was requested from the camera"
    );
}

/// A later run with a writable archive takes every clip.
async fn takes_them_all(rig: &Rig, catalog: &Catalog) {
    let s = rig
        .cycle(rig.config())
        .await
        .expect("the run with a writable archive completes");
    assert_eq!(s.clips, CLIPS as u64, "{s:?}");
    let report = rig.check(catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), CLIPS, "{report:?}");
}

pub(crate) async fn unwritable_archive() {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let rig = Rig::builder(camera())
        .archive_at(root, archive)
        .start()
        .await;
    let catalog = Catalog::of(&rig.sim);
    // A run that lists and takes nothing (rear clips only; the camera has
    // front clips), so every clip has a pending row to watch.
    let mut list_only = rig.config();
    list_only.channels = vec![Channel::Rear];
    rig.cycle(list_only)
        .await
        .expect("the listing run completes");
    assert_untouched(&rig, &catalog, true, "after listing").await;

    let mount = Tmpfs::mount_with(&rig.archive, "ro,size=1m,mode=0755").unwrap_or_else(|why| {
        panic!("unwritable_archive needs a read-only tmpfs and this machine refuses it: {why}")
    });
    let err = rig
        .cycle(rig.config())
        .await
        .expect_err("a read-only archive stops the cycle");
    let msg = err.to_string();
    assert!(err.is_archive(), "not reported as an archive error: {msg}");
    assert!(
        msg.to_ascii_lowercase().contains("archive")
            || msg.contains(&*rig.archive.to_string_lossy()),
        "unclear: {msg}"
    );
    assert_untouched(&rig, &catalog, true, "read-only archive").await;
    assert!(walk(&rig.archive).is_empty());
    note(&format!("unwritable_archive: stopped with: {msg}"));

    mount.remount("rw");
    takes_them_all(&rig, &catalog).await;
    // Unmounted before the rig's temp dir is removed.
    drop(mount);
    drop(rig);
}

pub(crate) async fn missing_archive() {
    let rig = Rig::start(camera()).await;
    let catalog = Catalog::of(&rig.sim);
    std::fs::remove_dir(&rig.archive).expect("the rig's archive is empty");
    let err = rig
        .cycle(rig.config())
        .await
        .expect_err("a missing archive stops the cycle");
    let msg = err.to_string();
    assert!(err.is_archive(), "not reported as an archive error: {msg}");
    assert!(
        !rig.archive.exists(),
        "the missing archive folder was created: an unmounted share would fill the system disk"
    );
    assert_untouched(&rig, &catalog, false, "missing archive").await;
    note(&format!("missing_archive: stopped with: {msg}"));

    std::fs::create_dir(&rig.archive).unwrap();
    takes_them_all(&rig, &catalog).await;
}
