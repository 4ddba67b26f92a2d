//! Issue 18, item 4, the case the configuration cannot catch: a camera not
//! in the configuration answers at a fallback address after this camera's
//! clips were all deleted from its card. With fallback addresses, deletes
//! leave the newest archived clip on the card as the camera's anchor; at a
//! fallback address only a device listing the anchor is this camera.

use std::time::Duration;

use viofo_pipeline::{Shutdown, SyncConfig};
use viofo_sim::{ClipDef, ClipSpec, Folder, Sim, SimConfig};
use viofo_testkit::test_client_config;

use crate::harness::{CAMERA, Rig, start_rig};

fn deleting(rig: &Rig) -> SyncConfig {
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg
}

/// `primary` first, `fallback` when it does not answer.
fn addresses(rig: &Rig, primary: &str, fallback: &str) {
    let mut cc = test_client_config(primary);
    cc.fallback_urls = vec![fallback.to_owned()];
    rig.set_client_config(cc);
}

fn files(rig: &Rig) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(&rig.archive)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".MP4"))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_camera_at_a_fallback_after_every_clip_was_deleted_is_not_synced() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(20_000))).await;
    let names = rig.names();
    // Another camera of the same model, its clips under the same names.
    let other = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(30_000)))
        .await
        .unwrap();
    addresses(&rig, &rig.sim.base_url(), &other.base_url());

    // At the primary: all archived, all deleted but the newest, the anchor.
    let s = rig
        .syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.clips, 3);
    let left: Vec<String> = rig.sim.clips().into_iter().map(|c| c.name).collect();
    assert_eq!(
        left,
        vec![names[2].clone()],
        "the newest stays as the anchor"
    );
    rig.store.flush().await.unwrap();
    let anchor = rig
        .store
        .camera(CAMERA)
        .await
        .unwrap()
        .unwrap()
        .anchor
        .unwrap();
    assert_eq!(anchor.name, names[2]);
    let row = rig.row(&names[2]).await;
    assert!(
        row.delete_outcome
            .as_deref()
            .is_some_and(|o| o.contains("newest archived clip")),
        "{row:?}"
    );
    let archived = files(&rig);

    // The primary stops answering; the other camera answers at the fallback.
    rig.sim.go_offline(Duration::from_secs(3600));
    let err = rig
        .syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap_err();
    assert!(err.is_wrong_camera(), "{err}");
    assert!(
        other.deleted().is_empty(),
        "nothing deleted from the other camera"
    );
    assert_eq!(files(&rig), archived, "nothing of it archived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_camera_at_a_fallback_is_proved_by_its_anchor_and_deletes() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(20_000))).await;
    let names = rig.names();
    addresses(&rig, &rig.sim.base_url(), "http://127.0.0.1:9");
    rig.syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(rig.sim.clips().len(), 1);

    // The same card, now reached only at the fallback (nothing listens on
    // port 9, "discard"), with one more clip recorded.
    let new = "2025_1224_130000_000099F.MP4";
    rig.sim
        .add_clip(ClipDef::synthetic(new, Folder::Movie, 20_000))
        .unwrap();
    addresses(&rig, "http://127.0.0.1:9", &rig.sim.base_url());
    let s = rig
        .syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.clips, 1);
    // The old anchor deleted, the new clip kept as the next one.
    assert!(rig.sim.deleted().contains(&names[2]));
    let left: Vec<String> = rig.sim.clips().into_iter().map(|c| c.name).collect();
    assert_eq!(left, vec![new.to_owned()]);
    rig.store.flush().await.unwrap();
    let anchor = rig
        .store
        .camera(CAMERA)
        .await
        .unwrap()
        .unwrap()
        .anchor
        .unwrap();
    assert_eq!(anchor.name, new);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_fallback_addresses_every_archived_clip_is_deleted() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(20_000))).await;
    rig.syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert!(rig.sim.clips().is_empty(), "no anchor without fallbacks");
}
