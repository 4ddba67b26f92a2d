use std::io::Write;
use std::sync::{Arc, Mutex};

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

/// Collects everything logged on this thread.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures warnings logged on this thread while the guard lives.
    pub(crate) fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // Another test's thread may have registered a callsite while no
        // subscriber wanted it, caching "never" for the whole process:
        // ask every callsite again now that this one listens.
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
