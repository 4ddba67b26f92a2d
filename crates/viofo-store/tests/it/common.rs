use viofo_store::{Channel, ClipId, ListedClip, Store, StoreOptions};

pub(crate) const CAM: &str = "cam-1";
/// 2025-12-24 12:00:00 UTC in ms.
pub(crate) const T0: i64 = 1_766_577_600_000;

pub(crate) struct Fixture {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) store: Store,
}

pub(crate) fn options(dir: &tempfile::TempDir) -> StoreOptions {
    StoreOptions::at(dir.path().join("state").join("viofosync.db"))
}

pub(crate) async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(options(&dir)).await.unwrap();
    Fixture { _dir: dir, store }
}

/// A listed clip named after its sequence number, recorded `minutes`
/// after T0.
pub(crate) fn clip(seq: u32, minutes: i64) -> ListedClip {
    let name = format!("2025_1224_1200{:02}_{seq:06}F.MP4", seq % 60);
    ListedClip {
        remote_path: format!("/DCIM/Movie/{name}"),
        name,
        size: 1_000 + u64::from(seq),
        size_exact: true,
        locked: false,
        parking: false,
        channel: Channel::Front,
        recorded_at: Some(T0 + minutes * 60_000),
    }
}

pub(crate) async fn id_of(store: &Store, name: &str) -> ClipId {
    store.get_by_name(CAM, name).await.unwrap().unwrap().id
}
