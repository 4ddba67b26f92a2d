//! Shared harness of the viofosync reliability suite (`tests/it`): a
//! simulated camera, a store and an archive in temp dirs, a syncer whose
//! events are collected, and the **no-data-loss checker** every scenario
//! ends with.
//!
//! The promise the suite proves: every clip the camera started with is
//! either still on the camera or in the archive byte-identical; no file
//! under a final name is partial; nothing was deleted from the camera whose
//! local copy is missing or different; the store agrees with the disk; every
//! archived clip with GPS has its GPX sidecar. See `docs/RELIABILITY.md`.
//!
//! ```
//! use viofo_sim::{ClipSpec, SimConfig};
//! use viofosync_reliability::{Catalog, Rig};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let rig = Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(100_000))).await;
//! let catalog = Catalog::of(&rig.sim);
//! rig.cycle(rig.config()).await.unwrap();
//! let report = rig.check(&catalog).await;
//! report.assert_ok();
//! assert_eq!(report.archived.len(), 2);
//! # }
//! ```
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::mpsc;
use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{CycleSummary, Event, Shutdown, SyncConfig, Syncer};
use viofo_sim::{Sim, SimConfig};
use viofo_store::{Store, StoreOptions};

mod binary;
mod checker;
pub mod hostile;

pub use binary::{sibling_binary, viofosync_binary, workspace_root};
pub use checker::{
    ArchiveFile, Catalog, CatalogEntry, Hash, LossReport, StoreCheck, check_db_copy, check_no_loss,
    is_clip_name, sha256, sha256_file, sha256_sim, sidecar, walk,
};

/// Camera id every scenario uses in the store.
pub const CAMERA: &str = "sim";

/// `SyncConfig::delete_settle` for scenarios that delete: short, so a
/// cycle's wait before deleting the newest clip of a channel (its size seen
/// unchanged on two listings this far apart) costs little.
pub const DELETE_SETTLE: Duration = Duration::from_millis(200);

/// Writes a line straight to the process's stderr, past the test harness's
/// output capture, so it shows in `cargo test`'s output even when the test
/// passes (used for `SKIPPED: …` notes).
pub fn note(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
    let _ = e.flush();
}

/// A client configuration with short timeouts, for tests.
pub fn test_client_config(base_url: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base_url);
    c.connect_timeout = Duration::from_secs(2);
    c.idle_timeout = Duration::from_secs(2);
    c.probe_timeout = Duration::from_secs(2);
    c.command_timeout = Duration::from_secs(5);
    c.listing_timeout = Duration::from_secs(10);
    c
}

/// A simulated camera, a store and an archive in temp dirs.
///
/// Layout: `root/archive` (the archive) and `root/state/viofosync.db`, so
/// anything written beside the archive shows up in `root`.
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
}

impl std::fmt::Debug for Rig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rig")
            .field("sim", &self.sim.base_url())
            .field("archive", &self.archive)
            .finish_non_exhaustive()
    }
}

/// A hook shown every event (called inline; must not block for long).
pub type Hook = Arc<dyn Fn(&Event) + Send + Sync>;

impl Rig {
    /// Starts the simulator (20 ms deletes unless `cfg` says otherwise
    /// later) and opens a store.
    pub async fn start(cfg: SimConfig) -> Rig {
        let root = tempfile::tempdir().expect("temp dir");
        let archive = root.path().join("archive");
        Self::start_with_archive(cfg, root, archive).await
    }

    /// Like [`Rig::start`], with the archive at `archive` (for example on
    /// a small file system); `root` is kept alive with the rig.
    pub async fn start_with_archive(cfg: SimConfig, root: TempDir, archive: PathBuf) -> Rig {
        let sim = Arc::new(
            Sim::start(cfg.delete_delay(Duration::from_millis(20)))
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
        }
    }

    /// Replaces the client configuration used by later syncers.
    pub fn set_client_config(&self, cfg: ClientConfig) {
        *self.client_config.lock().expect("lock") = Some(cfg);
    }

    /// A client for the simulator with short timeouts (or the one set with
    /// [`Rig::set_client_config`]).
    pub fn client(&self) -> Client {
        let cfg = self
            .client_config
            .lock()
            .expect("lock")
            .clone()
            .unwrap_or_else(|| test_client_config(&self.sim.base_url()));
        Client::new(cfg).expect("client")
    }

    /// Default sync settings for this rig's archive.
    pub fn config(&self) -> SyncConfig {
        SyncConfig::new(CAMERA, &self.archive)
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

    /// The no-data-loss check against this rig.
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

/// Runs cycles until one completes (`Ok`), at most `max_runs`; returns the
/// errors of the runs that did not complete. Panics if none completed.
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

/// Peak resident set size of this process (`VmHWM`, bytes), if readable.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
