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

/// Collects the warnings logged while its capture lives.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

/// The logs capturing now. One process-wide subscriber feeds them all: a
/// subscriber per thread misses events when another test thread's guard
/// changes tracing's process-wide level and interest caches meanwhile.
static CAPTURING: Mutex<Vec<Logs>> = Mutex::new(Vec::new());

/// What the process-wide subscriber writes to: every capturing `Logs`.
struct Fanout;

impl Write for Fanout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for l in CAPTURING.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            l.0.lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ends a capture when dropped.
pub(crate) struct Capture(Logs);

impl Drop for Capture {
    fn drop(&mut self) {
        let mut all = CAPTURING.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|l| !Arc::ptr_eq(&l.0, &(self.0).0));
    }
}

impl Logs {
    /// Captures the warnings logged (by any thread: tests run at once, so
    /// assert on what only this test logs) while the guard lives.
    pub(crate) fn capture(&self) -> Capture {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| Fanout)
                .with_ansi(false)
                .with_max_level(tracing::Level::WARN)
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
        CAPTURING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(self.clone());
        Capture(self.clone())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
