//! The rig: a simulated camera, a store and an archive in temp dirs, and
//! syncers whose events are collected; [`RigBuilder`] holds what differs
//! between suites.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::mpsc;
use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{CycleSummary, Event, Shutdown, SyncConfig, Syncer};
use viofo_sim::{Sim, SimConfig};
use viofo_store::{ClipRow, Store, StoreOptions};

use crate::{CAMERA, Catalog, LossReport, StoreCheck, check_no_loss, is_clip_name, walk};

/// A client configuration with short timeouts, for tests (the rig's
/// default).
pub fn test_client_config(base_url: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base_url);
    c.connect_timeout = Duration::from_secs(2);
    c.idle_timeout = Duration::from_secs(2);
    c.probe_timeout = Duration::from_secs(2);
    c.command_timeout = Duration::from_secs(5);
    c.listing_timeout = Duration::from_secs(10);
    c
}

/// A hook shown every event (called inline in the syncer's event sink; may
/// block it).
pub type Hook = Arc<dyn Fn(&Event) + Send + Sync>;

type ClientFn = Arc<dyn Fn(&str) -> ClientConfig + Send + Sync>;
type SyncFn = Arc<dyn Fn(&mut SyncConfig) + Send + Sync>;

/// How a [`Rig`] is made: what differs between the suites that use it.
/// Made by [`Rig::builder`]; [`RigBuilder::start`] starts the rig.
pub struct RigBuilder {
    sim: SimConfig,
    place: Option<(TempDir, PathBuf)>,
    client: ClientFn,
    sync: SyncFn,
}

impl std::fmt::Debug for RigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RigBuilder")
            .field("archive", &self.place.as_ref().map(|(_, a)| a))
            .finish_non_exhaustive()
    }
}

impl RigBuilder {
    /// Puts the archive at `archive` (for example on a small file system)
    /// instead of `root/archive` in a fresh temp dir; `root` holds the
    /// state folder and is kept alive with the rig.
    pub fn archive_at(mut self, root: TempDir, archive: PathBuf) -> Self {
        self.place = Some((root, archive));
        self
    }

    /// The client configuration for the simulator's base URL (default
    /// [`test_client_config`]); [`Rig::set_client_config`] still overrides it.
    pub fn client_config(
        mut self,
        f: impl Fn(&str) -> ClientConfig + Send + Sync + 'static,
    ) -> Self {
        self.client = Arc::new(f);
        self
    }

    /// A change [`Rig::config`] applies to its sync settings (after the
    /// defaults of `SyncConfig::new` and any earlier change).
    pub fn sync_config(mut self, f: impl Fn(&mut SyncConfig) + Send + Sync + 'static) -> Self {
        let before = self.sync.clone();
        self.sync = Arc::new(move |c| {
            before(c);
            f(c);
        });
        self
    }

    /// Test-sized waits in [`Rig::config`]: 5 ms in-run retry back-off,
    /// 100 ms settle time for the newest clip, and no disk guard (the
    /// machine's own disk use must not decide a test).
    pub fn test_sized_waits(self) -> Self {
        self.sync_config(|c| {
            c.retry_base = Duration::from_millis(5);
            c.delete_settle = Duration::from_millis(100);
            c.max_used_disk = None;
        })
    }

    /// Starts the simulator (20 ms deletes unless the configuration says
    /// otherwise later) and opens a store on `root/state/viofosync.db`.
    pub async fn start(self) -> Rig {
        let (root, archive) = match self.place {
            Some(p) => p,
            None => {
                let root = tempfile::tempdir().expect("temp dir");
                let archive = root.path().join("archive");
                (root, archive)
            }
        };
        let sim = Arc::new(
            Sim::start(self.sim.delete_delay(Duration::from_millis(20)))
                .await
                .expect("simulator starts"),
        );
        std::fs::create_dir_all(&archive).expect("archive dir");
        let state = root.path().join("state");
        std::fs::create_dir_all(&state).expect("state dir");
        let db = state.join("viofosync.db");
        let store = Store::open(StoreOptions {
            recordings_dir: Some(archive.clone()),
            ..StoreOptions::at(&db)
        })
        .await
        .expect("store opens");
        Rig {
            sim,
            store,
            root,
            archive,
            db,
            events: Arc::new(Mutex::new(Vec::new())),
            client_config: Mutex::new(None),
            make_client: self.client,
            tune_sync: self.sync,
        }
    }
}

/// A simulated camera, a store and an archive in temp dirs.
///
/// Layout: `root/archive` (the archive, unless [`RigBuilder::archive_at`]
/// put it elsewhere) and `root/state/viofosync.db`, so anything written
/// beside the archive shows up in `root`.
pub struct Rig {
    /// The camera.
    pub sim: Arc<Sim>,
    /// The store (opened on `db`).
    pub store: Store,
    /// The temp dir holding archive and state.
    pub root: TempDir,
    /// The archive folder.
    pub archive: PathBuf,
    /// The database file.
    pub db: PathBuf,
    /// Every event of every syncer made by [`Rig::syncer`].
    pub events: Arc<Mutex<Vec<Event>>>,
    client_config: Mutex<Option<ClientConfig>>,
    make_client: ClientFn,
    tune_sync: SyncFn,
}

impl std::fmt::Debug for Rig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rig")
            .field("sim", &self.sim.base_url())
            .field("archive", &self.archive)
            .finish_non_exhaustive()
    }
}

impl Rig {
    /// A rig with `cfg` for the camera and the defaults: archive in a fresh
    /// temp dir, [`test_client_config`], `SyncConfig::new`'s settings.
    pub fn builder(cfg: SimConfig) -> RigBuilder {
        RigBuilder {
            sim: cfg,
            place: None,
            client: Arc::new(test_client_config),
            sync: Arc::new(|_| {}),
        }
    }

    /// `Rig::builder(cfg).start()`: a rig with the defaults.
    pub async fn start(cfg: SimConfig) -> Rig {
        Self::builder(cfg).start().await
    }

    /// Replaces the client configuration used by later syncers.
    pub fn set_client_config(&self, cfg: ClientConfig) {
        *self.client_config.lock().unwrap_or_else(|p| p.into_inner()) = Some(cfg);
    }

    /// A client for the simulator: the one set with
    /// [`Rig::set_client_config`], else the builder's.
    pub fn client(&self) -> Client {
        let cfg = self
            .client_config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| (self.make_client)(&self.sim.base_url()));
        Client::new(cfg).expect("client")
    }

    /// Sync settings for this rig's archive: `SyncConfig::new`'s, with the
    /// builder's changes.
    pub fn config(&self) -> SyncConfig {
        let mut cfg = SyncConfig::new(CAMERA, &self.archive);
        (self.tune_sync)(&mut cfg);
        cfg
    }

    /// A syncer whose events are collected, shown to `hook` and sent to the
    /// returned channel.
    pub fn syncer_with(
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
            events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e.clone());
            let _ = tx.send(e);
        };
        let s = Syncer::new(self.client(), self.store.clone(), cfg, sink).expect("syncer");
        (s, rx)
    }

    /// A syncer whose events are collected.
    pub fn syncer(&self, cfg: SyncConfig) -> Syncer {
        self.syncer_with(cfg, None).0
    }

    /// Runs one cycle, bounded by 60 s.
    pub async fn cycle(&self, cfg: SyncConfig) -> viofo_pipeline::Result<CycleSummary> {
        let syncer = self.syncer(cfg);
        tokio::time::timeout(Duration::from_secs(60), syncer.run_cycle(&Shutdown::new()))
            .await
            .expect("a cycle never hangs (60 s bound)")
    }

    /// Runs one cycle with `hook` shown every event, bounded by 60 s.
    pub async fn cycle_with(
        &self,
        cfg: SyncConfig,
        hook: Hook,
    ) -> viofo_pipeline::Result<CycleSummary> {
        let (syncer, _rx) = self.syncer_with(cfg, Some(hook));
        tokio::time::timeout(Duration::from_secs(60), syncer.run_cycle(&Shutdown::new()))
            .await
            .expect("a cycle never hangs (60 s bound)")
    }

    /// Runs cycles, each of which must complete, until `done` holds, at
    /// most `max_runs`; before each run after the first it waits `pause`
    /// (the time a rule under test measures between two listings, e.g.
    /// `SyncConfig::delete_settle`: the wait makes that time pass, it does
    /// not stand in for synchronisation). Returns the summaries; panics
    /// naming `what` if `done` never held.
    pub async fn cycles_until(
        &self,
        cfg: &SyncConfig,
        max_runs: usize,
        pause: Duration,
        what: &str,
        done: impl Fn(&Rig) -> bool,
    ) -> Vec<CycleSummary> {
        let mut summaries = Vec::new();
        for run in 0..max_runs {
            if run > 0 {
                tokio::time::sleep(pause).await;
            }
            let s = self
                .cycle(cfg.clone())
                .await
                .unwrap_or_else(|e| panic!("{what}: run {} failed: {e}", run + 1));
            summaries.push(s);
            if done(self) {
                return summaries;
            }
        }
        panic!("{what}: still not so after {max_runs} runs: {summaries:#?}");
    }

    /// Events collected so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets the collected events.
    pub fn clear_events(&self) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Names of the clips started (`Event::ItemStarted`), in order.
    pub fn started_order(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::ItemStarted { name, .. } => Some(name),
                _ => None,
            })
            .collect()
    }

    /// The camera's clip names now, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.sim.clips().into_iter().map(|c| c.name).collect();
        n.sort();
        n
    }

    /// The store's row of `name`; panics if there is none.
    pub async fn row(&self, name: &str) -> ClipRow {
        self.store
            .get_by_name(CAMERA, name)
            .await
            .expect("store read")
            .unwrap_or_else(|| panic!("no row for {name}"))
    }

    /// Asserts the archived file of `name` (in the archive root or a
    /// grouping folder) is byte-identical to `bytes`; returns its path.
    pub fn assert_archived(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path =
            find(&self.archive, name).unwrap_or_else(|| panic!("{name} is not in the archive"));
        let got = std::fs::read(&path).expect("read the archived file");
        assert!(
            got == bytes,
            "{name}: archived bytes differ from the camera's"
        );
        path
    }

    /// Whether a file `name` is in the archive root or a grouping folder.
    pub fn in_archive(&self, name: &str) -> bool {
        find(&self.archive, name).is_some()
    }

    /// The no-data-loss check against this rig, after a completed run.
    pub async fn check(&self, catalog: &Catalog) -> LossReport {
        check_no_loss(
            catalog,
            &self.sim,
            &self.archive,
            &self.store,
            StoreCheck::Settled,
        )
        .await
    }

    /// Files in the rig's temp root that are neither under the archive nor
    /// the state folder (anything a hostile camera managed to write beside).
    pub fn strays(&self) -> Vec<PathBuf> {
        walk(self.root.path())
            .into_iter()
            .map(|f| f.path)
            .filter(|p| {
                !p.starts_with(&self.archive) && !p.starts_with(self.root.path().join("state"))
            })
            .collect()
    }

    /// Delete requests (cmd 4003) the simulator received that name `name`
    /// (any path form, any answer; a stale path counts too).
    pub fn delete_requests_for(&self, name: &str) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| r.cmd == Some(4003) && r.target.contains(name))
            .count()
    }

    /// Requests the simulator received for clip bodies: downloads and
    /// HEADs, per clip (any outcome).
    pub fn clip_requests(&self) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| {
                let path = r.target.split('?').next().unwrap_or_default();
                r.cmd.is_none() && (r.clip.is_some() || is_clip_name(path))
            })
            .count()
    }

    /// Download GETs the simulator served per clip (any outcome).
    pub fn download_requests(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in self.sim.requests() {
            if r.method == "GET"
                && r.cmd.is_none()
                && let Some(c) = r.clip
            {
                *m.entry(c).or_insert(0) += 1;
            }
        }
        m
    }
}

/// Runs cycles until one completes (`Ok`) with no failed clip, at most
/// `max_runs`; returns the errors of the runs that did not. Panics if none
/// did.
pub async fn run_until_complete(rig: &Rig, cfg: &SyncConfig, max_runs: usize) -> Vec<String> {
    let mut errors = Vec::new();
    for _ in 0..max_runs {
        match rig.cycle(cfg.clone()).await {
            Ok(s) if s.failed == 0 => return errors,
            Ok(s) => errors.push(format!("completed with {} failed clip(s)", s.failed)),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    panic!("no run completed cleanly in {max_runs} runs: {errors:#?}");
}

/// Finds a file by name in the archive root or a grouping folder (one
/// level down).
pub fn find(root: &Path, name: &str) -> Option<PathBuf> {
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

/// Waits for the next event matching `f` (bounded by 60 s); panics if the
/// stream ends first.
pub async fn wait_for(
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
