//! Camera identities (issue 14): what a camera id last answered as, and
//! the clips believed to be still on it.

use viofo_store::{CameraSeen, KnownClip};

use crate::common::{CAM, T0, clip, fixture};

fn seen(model: Option<&str>, firmware: Option<&str>, address: &str) -> CameraSeen {
    CameraSeen {
        camera_id: CAM.to_owned(),
        model: model.map(str::to_owned),
        firmware: firmware.map(str::to_owned),
        address: address.to_owned(),
    }
}

#[tokio::test]
async fn an_identity_is_recorded_and_updated_keeping_what_a_later_sighting_lacks() {
    let f = fixture().await;
    assert!(f.store.camera(CAM).await.unwrap().is_none());

    let first = seen(
        Some("A329S"),
        Some("VIOFO_A329S_V2.0"),
        "http://127.0.0.1:1",
    );
    f.store.saw_camera(first.clone()).await.unwrap();
    let row = f.store.camera(CAM).await.unwrap().unwrap();
    assert_eq!(row.seen, first);
    assert_eq!(row.first_seen_at, row.last_seen_at);

    // Seen again at the VPN address, the firmware not read this time.
    f.store
        .saw_camera(seen(None, None, "http://127.0.0.1:2"))
        .await
        .unwrap();
    let row = f.store.camera(CAM).await.unwrap().unwrap();
    assert_eq!(row.seen.model.as_deref(), Some("A329S"));
    assert_eq!(row.seen.firmware.as_deref(), Some("VIOFO_A329S_V2.0"));
    assert_eq!(row.seen.address, "http://127.0.0.1:2");
    assert!(row.last_seen_at >= row.first_seen_at);
    assert!(f.store.camera("other").await.unwrap().is_none());

    // A hostile firmware string is cut, not stored whole.
    f.store
        .saw_camera(seen(None, Some(&"x".repeat(10_000)), "http://127.0.0.1:2"))
        .await
        .unwrap();
    let row = f.store.camera(CAM).await.unwrap().unwrap();
    assert!(row.seen.firmware.unwrap().len() <= 256);
}

#[tokio::test]
async fn clips_gone_from_the_camera_are_not_known_on_it() {
    let f = fixture().await;
    let all = [clip(1, 0), clip(2, 1), clip(3, 2)];
    f.store.reconcile(CAM, &all, |_| None).await.unwrap();
    let mut known = f.store.known_on_camera(CAM).await.unwrap();
    known.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        known[0],
        KnownClip {
            name: all[0].name.clone(),
            size: all[0].size,
            recorded_at: Some(T0),
        }
    );
    assert_eq!(known.len(), 3);

    // The third is no longer listed before it was archived: gone.
    f.store.reconcile(CAM, &all[..2], |_| None).await.unwrap();
    let known = f.store.known_on_camera(CAM).await.unwrap();
    assert_eq!(known.len(), 2);
    assert!(known.iter().all(|k| k.name != all[2].name));
    assert!(f.store.known_on_camera("other").await.unwrap().is_empty());
}
