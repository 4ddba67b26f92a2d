//! A simulated camera, a store and an archive in temp dirs, and a syncer
//! whose events are collected.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::mpsc;
use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{Event, SyncConfig, Syncer};
use viofo_sim::{Sim, SimConfig};
use viofo_store::{ClipRow, Store, StoreOptions};

pub(crate) const CAMERA: &str = "sim";

pub(crate) struct Rig {
    pub(crate) sim: Arc<Sim>,
    pub(crate) store: Store,
    pub(crate) archive: TempDir,
    pub(crate) db: PathBuf,
    _state: TempDir,
    pub(crate) events: Arc<Mutex<Vec<Event>>>,
}

/// A hook the syncer's event sink calls for every event (may block).
pub(crate) type Hook = Arc<dyn Fn(&Event) + Send + Sync>;

impl Rig {
    pub(crate) async fn start(cfg: SimConfig) -> Rig {
        let sim = Arc::new(
            Sim::start(cfg.delete_delay(Duration::from_millis(20)))
                .await
                .unwrap(),
        );
        let state = tempfile::tempdir().unwrap();
        let archive = tempfile::tempdir().unwrap();
        let db = state.path().join("viofosync.db");
        let store = Store::open(StoreOptions {
            recordings_dir: Some(archive.path().to_path_buf()),
            ..StoreOptions::at(&db)
        })
        .await
        .unwrap();
        Rig {
            sim,
            store,
            archive,
            db,
            _state: state,
            events: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn client(&self) -> Client {
        let mut c = ClientConfig::new(self.sim.base_url());
        c.connect_timeout = Duration::from_secs(2);
        c.idle_timeout = Duration::from_secs(5);
        c.probe_timeout = Duration::from_secs(2);
        Client::new(c).unwrap()
    }

    /// Defaults, with test-sized waits (in-run retry back-off, the newest
    /// clip's settle time) and no disk guard (the machine's own disk use
    /// must not decide a test).
    pub(crate) fn config(&self) -> SyncConfig {
        let mut cfg = SyncConfig::new(CAMERA, self.archive.path());
        cfg.retry_base = Duration::from_millis(5);
        cfg.delete_settle = Duration::from_millis(100);
        cfg.max_used_disk = None;
        cfg
    }

    /// A syncer whose events are collected, sent to `tx` and shown to `hook`.
    pub(crate) fn syncer_with(
        &self,
        cfg: SyncConfig,
        hook: Option<Hook>,
    ) -> (Syncer, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let events = self.events.clone();
        let sink = move |e: Event| {
            if let Some(h) = &hook {
                h(&e);
            }
            events.lock().unwrap().push(e.clone());
            let _ = tx.send(e);
        };
        let s = Syncer::new(self.client(), self.store.clone(), cfg, sink).unwrap();
        (s, rx)
    }

    pub(crate) fn syncer(&self, cfg: SyncConfig) -> Syncer {
        self.syncer_with(cfg, None).0
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.sim.clips().into_iter().map(|c| c.name).collect();
        n.sort();
        n
    }

    pub(crate) async fn row(&self, name: &str) -> ClipRow {
        self.store
            .get_by_name(CAMERA, name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no row for {name}"))
    }

    /// The archived file of `name` is byte-identical to the camera's.
    pub(crate) fn assert_archived(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = find(self.archive.path(), name)
            .unwrap_or_else(|| panic!("{name} is not in the archive"));
        let got = std::fs::read(&path).unwrap();
        assert!(
            got == bytes,
            "{name}: archived bytes differ from the camera's"
        );
        path
    }

    pub(crate) fn in_archive(&self, name: &str) -> bool {
        find(self.archive.path(), name).is_some()
    }

    pub(crate) fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub(crate) fn started_order(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::ItemStarted { name, .. } => Some(name),
                _ => None,
            })
            .collect()
    }
}

/// Finds a file by name in the archive root or a grouping folder.
pub(crate) fn find(root: &Path, name: &str) -> Option<PathBuf> {
    let direct = root.join(name);
    if direct.is_file() {
        return Some(direct);
    }
    for e in std::fs::read_dir(root).ok()? {
        let p = e.ok()?.path().join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

/// Waits for the next event matching `f`.
pub(crate) async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Event>,
    f: impl Fn(&Event) -> bool,
) -> Event {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let e = rx.recv().await.expect("event stream ended");
            if f(&e) {
                return e;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}
