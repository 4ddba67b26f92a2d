//! Issue 10 item 1, the lock button pressed during a download: the clip is
//! archived intact and never deleted from the camera (deletes on, deleting
//! locked clips off), whether the camera moves it to `RO` or marks it
//! ATTR 33 in place; the other clips are deleted.

use viofo_sim::{ClipSpec, Folder, LockStyle, SimConfig};
use viofo_store::ClipState;
use viofo_testkit::{CAMERA, Catalog, Rig, note, sha256_file, sha256_sim};

const CLIPS: usize = 5;
const SIZE: u64 = 200_000;
use viofosync_reliability::DELETE_SETTLE as SETTLE;

pub(crate) async fn locked_during_download() {
    // The camera would accept deleting a locked clip (some firmware does):
    // a wrong delete here loses the clip for real instead of being refused.
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(CLIPS).size(SIZE))
            .delete_locked(true),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    let names = catalog.names();
    let locked = [
        (names[1].clone(), LockStyle::MoveToRo, Folder::Ro),
        (names[2].clone(), LockStyle::AttrInPlace, Folder::Movie),
    ];
    for (name, style, _) in &locked {
        assert!(rig.sim.lock_on_download_with(name, *style));
    }
    let unlocked: Vec<String> = names
        .iter()
        .filter(|n| !locked.iter().any(|(l, _, _)| l == *n))
        .cloned()
        .collect();

    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = SETTLE;
    let runs = rig
        .cycles_until(&cfg, 4, SETTLE, "the unlocked clips deleted", |r| {
            unlocked.iter().all(|n| r.sim.clip(n).is_none())
        })
        .await;
    // One more run: a stored reason is final, nothing asks again.
    tokio::time::sleep(SETTLE).await;
    rig.cycle(cfg.clone()).await.expect("a later run completes");

    for (name, style, folder) in &locked {
        let now = rig.sim.clip(name).unwrap_or_else(|| {
            panic!("{name} ({style:?}): locked during its download, gone from the camera")
        });
        assert!(now.locked, "{name}: the camera lost its lock?");
        assert_eq!(now.folder, *folder, "{name} ({style:?})");
        assert!(
            !rig.sim.deleted_clips().iter().any(|c| c.name == *name),
            "{name} ({style:?}): deleted from the camera although locked"
        );
        assert_eq!(
            rig.delete_requests_for(name),
            0,
            "{name} ({style:?}): a delete was sent for a clip locked on the camera"
        );
        let row = rig
            .store
            .get_by_name(CAMERA, name)
            .await
            .unwrap()
            .expect("row");
        assert_eq!(row.state, ClipState::Done, "{name} ({style:?}): {row:?}");
        assert!(row.deleted_from_camera_at.is_none());
        let outcome = row.delete_outcome.clone().unwrap_or_default();
        assert!(
            outcome.starts_with("skipped"),
            "{name} ({style:?}): delete outcome {outcome:?}, expected a stored skip"
        );
        let local = row.local_path.clone().expect("local path");
        let camera = sha256_sim(&rig.sim, name).expect("camera serves it");
        assert_eq!(
            sha256_file(&local),
            Some(camera),
            "{name} ({style:?}): the archived copy is not the camera's bytes"
        );
        note(&format!(
            "locked_during_download: {name} ({style:?}): kept on the camera at {}, {outcome}",
            now.fpath
        ));
    }
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), CLIPS, "{report:?}");
    assert_eq!(
        report.deleted.iter().cloned().collect::<Vec<_>>(),
        unlocked,
        "exactly the unlocked clips are deleted"
    );
    note(&format!(
        "locked_during_download: {} run(s) until the {} unlocked clips were deleted",
        runs.len(),
        unlocked.len()
    ));
}
