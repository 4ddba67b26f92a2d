//! Several cameras sharing one archive (issue 14): each in
//! `<archive>/<camera id>`, one store; retention's quota weighs every
//! camera's clips, the oldest first whichever camera recorded them.

use std::path::Path;
use std::time::Duration;

use time::macros::datetime;
use viofo_client::Client;
use viofo_pipeline::{NoEvents, RetentionPolicy, Shutdown, SyncConfig, Syncer};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_store::ClipState;
use viofo_testkit::test_client_config;

use crate::harness::{CAMERA, start_rig};

const DAY: Duration = Duration::from_secs(86_400);

fn footprint(dir: &Path) -> u64 {
    viofo_testkit::walk(dir).iter().map(|f| f.size).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_removes_the_oldest_clips_of_any_camera() {
    // car-a (the rig's camera): four clips a day apart from 1 December;
    // car-b: four clips a day apart from 20 November, all older.
    let rig = start_rig(
        SimConfig::default().with_clips(
            ClipSpec::synthetic(4)
                .size(10_000)
                .gps(false)
                .start_time(datetime!(2025-12-01 08:00))
                .duration(DAY),
        ),
    )
    .await;
    let other = Sim::start(
        SimConfig::default().with_clips(
            ClipSpec::synthetic(4)
                .size(10_000)
                .gps(false)
                .start_time(datetime!(2025-11-20 08:00))
                .duration(DAY),
        ),
    )
    .await
    .unwrap();
    let shared = rig.archive.clone();
    let (dir_a, dir_b) = (shared.join(CAMERA), shared.join("car-b"));
    std::fs::create_dir(&dir_a).unwrap();
    std::fs::create_dir(&dir_b).unwrap();
    let config = |id: &str, dir: &Path| {
        let mut c = SyncConfig::new(id, dir);
        c.shared_archive = Some(shared.clone());
        c.max_used_disk = None;
        c.gps = None;
        c
    };
    let b = Syncer::new(
        Client::new(test_client_config(&other.base_url())).unwrap(),
        rig.store.clone(),
        config("car-b", &dir_b),
        NoEvents,
    )
    .unwrap();
    assert_eq!(b.run_cycle(&Shutdown::new()).await.unwrap().clips, 4);
    let mut cfg_a = config(CAMERA, &dir_a);
    assert_eq!(rig.cycle(cfg_a.clone()).await.unwrap().clips, 4);
    let b_names: Vec<String> = other.clips().iter().map(|c| c.name.clone()).collect();

    // A quota two of car-b's clips under what both hold: car-a's cycle
    // removes car-b's two oldest, and records them pruned under car-b.
    let total = footprint(&shared);
    cfg_a.retention = RetentionPolicy {
        quota: Some(total - 2 * 10_000),
        ..RetentionPolicy::default()
    };
    let summary = rig.cycle(cfg_a).await.unwrap();
    assert_eq!(summary.pruned, 2);
    for (i, name) in b_names.iter().enumerate() {
        let row = rig.store.get_by_name("car-b", name).await.unwrap().unwrap();
        let kept = dir_b.join(name).is_file();
        if i < 2 {
            assert!(!kept, "{name} is among the two oldest");
            assert_eq!(row.state, ClipState::Pruned);
        } else {
            assert!(kept, "{name}");
            assert_eq!(row.state, ClipState::Done);
        }
    }
    for clip in rig.sim.clips() {
        assert!(dir_a.join(&clip.name).is_file(), "{}", clip.name);
    }
}

#[test]
fn a_shared_archive_must_hold_the_cameras_folder() {
    let mut c = SyncConfig::new("car-a", "/srv/archive");
    c.shared_archive = Some("/srv/archive".into());
    assert!(c.validate().unwrap_err().is_config());
    c.archive = "/srv/other/car-a".into();
    assert!(c.validate().is_err());
    c.archive = "/srv/archive/car-a".into();
    c.validate().unwrap();
}
