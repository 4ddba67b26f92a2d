//! The camera's identity and its addresses (issue 14): a different device
//! at a camera's address is refused before anything of its listing reaches
//! the store; a fallback address is used when the primary does not answer
//! and recorded with the identity.

use viofo_pipeline::SyncConfig;
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_testkit::test_client_config;

use crate::harness::{CAMERA, Rig, start_rig};

async fn synced_rig(clips: usize) -> Rig {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(clips).size(20_000))).await;
    let summary = rig.cycle(rig.config()).await.unwrap();
    assert_eq!(summary.clips, clips as u64);
    rig
}

/// The rig's client pointed at `other` instead of its own simulator.
fn point_at(rig: &Rig, other: &Sim) {
    rig.set_client_config(test_client_config(&other.base_url()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_camera_with_the_same_names_is_refused_and_the_store_is_untouched() {
    let rig = synced_rig(6).await;
    let known = rig.store.camera(CAMERA).await.unwrap().unwrap();
    assert_eq!(known.seen.address, rig.sim.base_url().trim_end_matches('/'));
    let before = rig.store.counts(Some(CAMERA)).await.unwrap();

    // The other car's camera, same model, its clips named alike but of
    // other sizes, answers at this camera's address.
    let other = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(6).size(30_000)))
        .await
        .unwrap();
    point_at(&rig, &other);
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let e = rig.cycle(cfg.clone()).await.unwrap_err();
    assert!(e.is_wrong_camera(), "{e:#}");
    let text = e.to_string();
    assert!(
        text.contains(CAMERA) && text.contains("other sizes"),
        "{text}"
    );
    assert_eq!(rig.store.counts(Some(CAMERA)).await.unwrap(), before);
    assert!(other.downloaded().is_empty(), "nothing taken from it");
    assert!(other.deleted().is_empty(), "nothing deleted on it");
    assert!(rig.sim.deleted().is_empty());
    // A dry run judges it the same way.
    let e = rig.syncer(cfg.clone()).dry_run().await.unwrap_err();
    assert!(e.is_wrong_camera(), "{e:#}");

    // Accepted on purpose, it syncs.
    cfg.accept_camera = true;
    cfg.delete_after_download = false;
    rig.cycle(cfg).await.unwrap();
    assert!(!other.downloaded().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_model_is_refused_and_a_firmware_upgrade_is_not() {
    let rig = synced_rig(2).await;
    let model = rig.store.camera(CAMERA).await.unwrap().unwrap().seen.model;
    assert!(model.is_some(), "the simulator's firmware names a model");

    rig.sim.set_firmware("VIOFO_A229PRO_V9.9_260101");
    let e = rig.cycle(rig.config()).await.unwrap_err();
    assert!(e.is_wrong_camera(), "{e:#}");
    assert!(e.to_string().contains("A229PRO"), "{e}");

    let m = model.unwrap();
    rig.sim.set_firmware(format!("VIOFO_{m}_V9.9_260101"));
    rig.cycle(rig.config()).await.unwrap();
    let seen = rig.store.camera(CAMERA).await.unwrap().unwrap().seen;
    assert_eq!(
        seen.firmware.as_deref(),
        Some(format!("VIOFO_{m}_V9.9_260101").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_address_is_used_then_dropped_for_the_primary() {
    let rig = synced_rig(2).await;
    // The primary (home Wi-Fi) is the rig's simulator; the "VPN" address
    // reaches the same camera through a second listener: the same card.
    let vpn = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(20_000)))
        .await
        .unwrap();
    let mut cc = test_client_config(&rig.sim.base_url());
    cc.fallback_urls = vec![vpn.base_url()];
    rig.set_client_config(cc);
    let syncer = rig.syncer(rig.config());

    rig.sim.go_offline(std::time::Duration::from_secs(3600));
    syncer
        .run_cycle(&viofo_pipeline::Shutdown::new())
        .await
        .unwrap();
    let seen = rig.store.camera(CAMERA).await.unwrap().unwrap().seen;
    assert_eq!(seen.address, vpn.base_url().trim_end_matches('/'));

    // Home is back but the VPN still answers: kept. Then the VPN drops.
    rig.sim.go_online();
    syncer
        .run_cycle(&viofo_pipeline::Shutdown::new())
        .await
        .unwrap();
    assert_eq!(
        rig.store
            .camera(CAMERA)
            .await
            .unwrap()
            .unwrap()
            .seen
            .address,
        vpn.base_url().trim_end_matches('/')
    );
    vpn.go_offline(std::time::Duration::from_secs(3600));
    syncer
        .run_cycle(&viofo_pipeline::Shutdown::new())
        .await
        .unwrap();
    assert_eq!(
        rig.store
            .camera(CAMERA)
            .await
            .unwrap()
            .unwrap()
            .seen
            .address,
        rig.sim.base_url().trim_end_matches('/')
    );
}

#[test]
fn accepting_any_camera_is_off_by_default() {
    assert!(!SyncConfig::new("c", "/tmp").accept_camera);
}
