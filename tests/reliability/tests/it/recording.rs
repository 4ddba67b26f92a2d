//! Scenario 6, recording camera: the clip being written is neither archived
//! as complete nor deleted; a later cycle takes it once it is finished.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use viofo_pipeline::Event;
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::ClipState;
use viofo_testkit::{CAMERA, Catalog, CatalogEntry, Hook, Rig, sha256_file, walk};

fn growing(rig: &Rig) -> Vec<viofo_sim::ClipInfo> {
    rig.sim.clips().into_iter().filter(|c| c.growing).collect()
}

/// The growing clip is nowhere in the archive under its name, not deleted,
/// not recorded as archived, and was reported as held back.
async fn assert_held_back(rig: &Rig, name: &str) {
    assert!(
        !walk(&rig.archive)
            .iter()
            .any(|f| f.path.file_name().is_some_and(|n| n == name)),
        "{name} is still recording but is in the archive under its final name"
    );
    assert!(
        !rig.sim.deleted().iter().any(|d| d == name),
        "{name} was deleted while recording"
    );
    if let Some(row) = rig.store.get_by_name(CAMERA, name).await.unwrap() {
        assert!(
            matches!(row.state, ClipState::Pending | ClipState::Gone),
            "{name} is {} in the store while recording",
            row.state.as_str()
        );
        assert!(row.deleted_from_camera_at.is_none());
    }
    assert!(
        rig.events().iter().any(|e| matches!(e,
            Event::ItemSkipped { name: n, reason } if n == name && reason.contains("recording"))),
        "{name}: no 'still recording' skip reported"
    );
}

/// Finishes the recording and checks a later cycle takes the clip whole.
async fn finish_and_take(rig: &Rig, mut catalog: Catalog, name: &str) {
    rig.sim.set_recording(false);
    let info = rig
        .sim
        .clip(name)
        .expect("the finished clip is on the card");
    assert!(!info.growing);
    let hash = viofo_testkit::sha256_sim(&rig.sim, name).unwrap();
    catalog.clips.insert(
        name.to_owned(),
        CatalogEntry {
            size: info.size,
            hash,
            has_gps: rig.sim.gps_points(name).is_some_and(|p| !p.is_empty()),
        },
    );
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    let s = rig.cycle(cfg).await.expect("the later cycle completes");
    assert!(s.clips >= 1, "{s:?}");
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert!(
        report.archived.contains(name),
        "{name} not archived: {report:?}"
    );
    let row = rig.store.get_by_name(CAMERA, name).await.unwrap().unwrap();
    let local = row.local_path.expect("local path");
    assert_eq!(
        sha256_file(&local),
        Some(hash),
        "archived copy = finished clip"
    );
    assert_eq!(row.local_size, Some(info.size));
    assert!(
        rig.sim.deleted().iter().any(|d| d == name),
        "taken and then deleted"
    );
}

async fn recording_from_the_start() {
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(200_000))
            .recording(true)
            .recording_rate(300_000),
    )
    .await;
    let rec = growing(&rig);
    assert_eq!(rec.len(), 1, "the simulator records one clip");
    let name = rec[0].name.clone();
    let mut catalog = Catalog::of(&rig.sim);
    catalog.clips.remove(&name);
    let size_before = rec[0].size;

    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    let s = rig.cycle(cfg.clone()).await.expect("cycle completes");
    assert_eq!(s.clips, 3, "{s:?}");
    let grown = rig.sim.clip(&name).unwrap();
    assert!(
        grown.growing && grown.size > size_before,
        "the clip kept growing"
    );
    assert_held_back(&rig, &name).await;
    // The finished clips were taken and deleted meanwhile.
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), 3);
    assert_eq!(report.deleted.len(), 3);

    // A second cycle while still recording holds it back again.
    rig.clear_events();
    rig.cycle(cfg).await.expect("cycle completes");
    assert_held_back(&rig, &name).await;

    finish_and_take(&rig, catalog, &name).await;
}

async fn recording_starts_mid_cycle() {
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(4).size(300_000))
            .bandwidth(1_500_000)
            .recording_rate(300_000),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    let sim = rig.sim.clone();
    let started = Arc::new(AtomicBool::new(false));
    let s2 = started.clone();
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::ItemDone { .. }) && !s2.swap(true, Ordering::SeqCst) {
            sim.set_recording(true);
        }
    });
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    let (syncer, _rx) = rig.syncer_with(cfg, Some(hook));
    let s = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        syncer.run_cycle(&viofo_pipeline::Shutdown::new()),
    )
    .await
    .unwrap()
    .expect("cycle completes");
    assert_eq!(s.clips, 4, "{s:?}");
    let rec = growing(&rig);
    assert_eq!(rec.len(), 1);
    let name = rec[0].name.clone();
    assert!(
        rig.store
            .get_by_name(CAMERA, &name)
            .await
            .unwrap()
            .is_some(),
        "the drained re-list saw the new recording"
    );
    assert_held_back(&rig, &name).await;
    rig.check(&catalog).await.assert_ok();
    finish_and_take(&rig, catalog, &name).await;
}

pub(crate) async fn recording_camera() {
    tokio::join!(recording_from_the_start(), recording_starts_mid_cycle());
}
