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

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::sync::mpsc;
use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{CycleSummary, Event, Shutdown, SyncConfig, Syncer};
use viofo_sim::{Sim, SimConfig};
use viofo_store::{ClipState, Store, StoreOptions};

pub mod hostile;

/// Camera id every scenario uses in the store.
pub const CAMERA: &str = "sim";

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a file, streamed; `None` if it cannot be read.
pub fn sha256_file(path: &Path) -> Option<Hash> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).ok()?;
    Some(h.finalize().into())
}

/// SHA-256 of a clip as the simulator serves it now, streamed.
pub fn sha256_sim(sim: &Sim, name: &str) -> Option<Hash> {
    let mut r = sim.clip_reader(name)?;
    let mut h = Sha256::new();
    std::io::copy(&mut r, &mut h).ok()?;
    Some(h.finalize().into())
}

/// Writes a line straight to the process's stderr, past the test harness's
/// output capture, so it shows in `cargo test`'s output even when the test
/// passes (used for `SKIPPED: …` notes).
pub fn note(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
    let _ = e.flush();
}

/// What one clip looked like on the camera when a scenario started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub hash: Hash,
    /// Whether it carries GPS fixes (so it needs a GPX sidecar once archived).
    pub has_gps: bool,
}

/// The camera's clips at the start of a scenario, hashed.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// By clip name.
    pub clips: BTreeMap<String, CatalogEntry>,
}

impl Catalog {
    /// Hashes every clip on the simulator now.
    pub fn of(sim: &Sim) -> Catalog {
        let mut clips = BTreeMap::new();
        for c in sim.clips() {
            let hash = sha256_sim(sim, &c.name).expect("the simulator serves its own clip");
            let has_gps = sim.gps_points(&c.name).is_some_and(|p| !p.is_empty());
            clips.insert(
                c.name.clone(),
                CatalogEntry {
                    size: c.size,
                    hash,
                    has_gps,
                },
            );
        }
        Catalog { clips }
    }

    /// Clip names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.clips.keys().cloned().collect()
    }
}

/// A file found in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Its path.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// Every regular file under `root`, recursively, by file name (bounded
/// depth 8).
pub fn walk(root: &Path) -> Vec<ArchiveFile> {
    fn go(dir: &Path, depth: usize, out: &mut Vec<ArchiveFile>) {
        if depth > 8 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                go(&p, depth + 1, out);
            } else {
                out.push(ArchiveFile {
                    path: p,
                    size: m.len(),
                });
            }
        }
    }
    let mut out = Vec::new();
    go(root, 0, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Whether a file name is a final clip name (not a temporary `.part` or a
/// sidecar).
pub fn is_clip_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".mp4", ".mov", ".ts", ".jpg"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// What [`check_no_loss`] found: the violations, and what it looked at.
#[derive(Debug, Clone, Default)]
pub struct LossReport {
    /// Every broken promise, one sentence each. Empty = nothing lost.
    pub violations: Vec<String>,
    /// Clips found in the archive byte-identical.
    pub archived: BTreeSet<String>,
    /// Clips still on the camera (not archived).
    pub on_camera_only: BTreeSet<String>,
    /// Clips deleted from the camera.
    pub deleted: BTreeSet<String>,
}

impl LossReport {
    /// Panics with every violation listed, if there is any.
    pub fn assert_ok(&self) {
        assert!(
            self.violations.is_empty(),
            "no-data-loss violations:\n  {}",
            self.violations.join("\n  ")
        );
    }
}

/// How strictly [`check_no_loss`] compares the store with the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreCheck {
    /// Every archived clip must be `done` in the store and every `done` /
    /// `downloaded` row must point at an identical file (after a run that
    /// completed).
    Settled,
    /// Rows that claim a local copy must point at an identical file; archived
    /// clips may still be waiting for their record (after an interrupted
    /// run: the next run reconciles them).
    Interrupted,
}

/// The no-data-loss checker. Compares the camera as it started
/// (`catalog`) with the camera now (`sim`), the archive and the store.
pub async fn check_no_loss(
    catalog: &Catalog,
    sim: &Sim,
    archive: &Path,
    store: &Store,
    strict: StoreCheck,
) -> LossReport {
    let mut r = LossReport::default();
    let files = walk(archive);
    let mut by_name: BTreeMap<String, Vec<&ArchiveFile>> = BTreeMap::new();
    for f in &files {
        let name = f
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        by_name.entry(name).or_default().push(f);
    }
    // No file under a final name is partial or foreign.
    for (name, fs) in &by_name {
        if !is_clip_name(name) {
            continue;
        }
        let Some(entry) = catalog.clips.get(name) else {
            r.violations.push(format!(
                "{name}: a clip file in the archive the camera never listed"
            ));
            continue;
        };
        if fs.len() > 1 {
            r.violations
                .push(format!("{name}: {} copies in the archive", fs.len()));
        }
        for f in fs {
            if f.size != entry.size || sha256_file(&f.path) != Some(entry.hash) {
                r.violations.push(format!(
                    "{}: under its final name but not the camera's bytes ({} of {} bytes)",
                    f.path.display(),
                    f.size,
                    entry.size
                ));
            }
        }
    }
    let deleted: BTreeSet<String> = sim.deleted().into_iter().collect();
    for (name, entry) in &catalog.clips {
        let local = by_name.get(name).and_then(|v| v.first());
        let identical =
            local.is_some_and(|f| f.size == entry.size && sha256_file(&f.path) == Some(entry.hash));
        let on_camera = sim.clip(name).is_some();
        if identical {
            r.archived.insert(name.clone());
        } else if on_camera {
            r.on_camera_only.insert(name.clone());
        }
        if !on_camera && !identical {
            r.violations.push(format!(
                "{name}: LOST: neither on the camera nor in the archive byte-identical"
            ));
        }
        if on_camera && sha256_sim(sim, name) != Some(entry.hash) {
            r.violations
                .push(format!("{name}: the camera's copy changed (test bug?)"));
        }
        if deleted.contains(name) {
            r.deleted.insert(name.clone());
            if !identical {
                r.violations.push(format!(
                    "{name}: deleted from the camera but the local copy is missing or different"
                ));
            }
        }
        // GPX sidecar for every archived clip with GPS.
        if identical
            && entry.has_gps
            && let Some(f) = local
        {
            let gpx = sidecar(&f.path, "gpx");
            match std::fs::read_to_string(&gpx) {
                Ok(s) if s.contains("<trkpt") && s.trim_end().ends_with("</gpx>") => {}
                Ok(_) => r
                    .violations
                    .push(format!("{}: GPX sidecar is incomplete", gpx.display())),
                Err(e) => {
                    if strict == StoreCheck::Settled {
                        r.violations.push(format!(
                            "{}: GPX sidecar missing for a clip with GPS ({e})",
                            gpx.display()
                        ));
                    }
                }
            }
        }
    }
    // The store agrees with the disk.
    for (name, entry) in &catalog.clips {
        let row = match store.get_by_name(CAMERA, name).await {
            Ok(row) => row,
            Err(e) => {
                r.violations.push(format!("{name}: store read failed: {e}"));
                continue;
            }
        };
        let archived = r.archived.contains(name);
        match row {
            None => {
                if archived || strict == StoreCheck::Settled {
                    r.violations
                        .push(format!("{name}: no store row (archived: {archived})"));
                }
            }
            Some(row) => {
                let claims_local = matches!(row.state, ClipState::Downloaded | ClipState::Done);
                if claims_local {
                    let ok = row
                        .local_path
                        .as_deref()
                        .is_some_and(|p| sha256_file(p) == Some(entry.hash))
                        && row.local_size == Some(entry.size);
                    if !ok {
                        r.violations.push(format!(
                            "{name}: store says {} at {:?} ({:?} bytes) but the disk disagrees",
                            row.state.as_str(),
                            row.local_path,
                            row.local_size
                        ));
                    }
                }
                if row.deleted_from_camera_at.is_some() && !deleted.contains(name) {
                    r.violations.push(format!(
                        "{name}: store says deleted from the camera, the camera has it"
                    ));
                }
                if deleted.contains(name) && !claims_local {
                    r.violations.push(format!(
                        "{name}: deleted from the camera while the store says {}",
                        row.state.as_str()
                    ));
                }
                if strict == StoreCheck::Settled && archived && row.state != ClipState::Done {
                    r.violations.push(format!(
                        "{name}: archived but the store says {} after a completed run",
                        row.state.as_str()
                    ));
                }
            }
        }
    }
    r
}

/// `<clip path>.<ext>`, the sidecar naming the pipeline uses.
pub fn sidecar(clip: &Path, ext: &str) -> PathBuf {
    let mut s = clip.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
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
            Err(e) => errors.push(e.to_string()),
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

/// The folder holding the running test executable's profile output
/// (`target/<profile>`, i.e. the parent of `deps/`).
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/<test-binary>
    let mut dir = exe.parent()?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent()?;
    }
    Some(dir.to_path_buf())
}

/// Path of a binary built next to the running test executable
/// (`target/<profile>/<name>`), if it exists.
pub fn sibling_binary(name: &str) -> Option<PathBuf> {
    let p = profile_dir()?.join(name);
    p.is_file().then_some(p)
}

/// The workspace's root folder (this package lives in `tests/reliability`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The newest modification time among the sources the `viofosync` binary
/// is built from: every `Cargo.toml`, `Cargo.lock`, and every file under a
/// member's `src/` or `migrations/` (bounded depth).
fn newest_source(root: &Path) -> Option<std::time::SystemTime> {
    fn newest_under(dir: &Path, depth: usize, acc: &mut Option<std::time::SystemTime>) {
        if depth > 6 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                newest_under(&e.path(), depth + 1, acc);
            } else if let Ok(t) = m.modified() {
                *acc = Some(acc.map_or(t, |a| a.max(t)));
            }
        }
    }
    let mut acc = None;
    let mut consider = |p: &Path| {
        if let Ok(t) = std::fs::metadata(p).and_then(|m| m.modified()) {
            acc = Some(acc.map_or(t, |a: std::time::SystemTime| a.max(t)));
        }
    };
    consider(&root.join("Cargo.toml"));
    consider(&root.join("Cargo.lock"));
    let mut members: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    members.push(root.join("bins/viofosync"));
    for m in &members {
        consider(&m.join("Cargo.toml"));
    }
    for m in &members {
        for sub in ["src", "migrations"] {
            newest_under(&m.join(sub), 0, &mut acc);
        }
    }
    acc
}

/// The real `viofosync` binary, for scenarios where a process must die.
///
/// Tests of this package cannot use `CARGO_BIN_EXE_viofosync` (it belongs
/// to another package), so, in order:
/// 1. `VIOFOSYNC_BIN`, if set, names it;
/// 2. `target/<profile>/viofosync` beside this test executable, if it is
///    no older than the workspace's sources (`cargo test --workspace`
///    builds it there, because `bins/viofosync` has integration tests);
/// 3. otherwise (`cargo test -p viofosync-reliability`) it is built with
///    `$CARGO build -p viofosync --bin viofosync` into the same target
///    folder and profile (`CARGO` is set by `cargo test`).
///
/// Decided once per process; the error says what was tried.
pub fn viofosync_binary() -> Result<PathBuf, String> {
    static BIN: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BIN.get_or_init(locate_viofosync).clone()
}

fn locate_viofosync() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("VIOFOSYNC_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("VIOFOSYNC_BIN={} is not a file", p.display()))
        };
    }
    let root = workspace_root();
    let dir = profile_dir().ok_or("cannot tell where the test executable lives")?;
    let sibling = dir.join("viofosync");
    let built_at = std::fs::metadata(&sibling).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(src)) = (built_at, newest_source(&root))
        && built >= src
    {
        return Ok(sibling);
    }
    let Some(cargo) = std::env::var_os("CARGO") else {
        return Err(format!(
            "{} is missing or older than the sources and CARGO is not set: \
             build it (cargo build -p viofosync) or set VIOFOSYNC_BIN",
            sibling.display()
        ));
    };
    let target_dir = dir
        .parent()
        .ok_or("the test executable is not inside a target folder")?;
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(p) => p.to_owned(),
        None => return Err(format!("odd target folder {}", dir.display())),
    };
    note(&format!(
        "reliability: building viofosync ({} is missing or stale)",
        sibling.display()
    ));
    let out = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "viofosync", "--bin", "viofosync"])
        .arg("--profile")
        .arg(&profile)
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build -p viofosync failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if sibling.is_file() {
        Ok(sibling)
    } else {
        Err(format!(
            "cargo build -p viofosync succeeded but {} is not there \
             (a --target triple layout?); set VIOFOSYNC_BIN",
            sibling.display()
        ))
    }
}

/// [`check_no_loss`] (interrupted mode) against a **copy** of the database
/// at `db`, so the check itself never repairs the state a later run must
/// recover from (opening a [`Store`] runs its crash recovery). For use while
/// no process writes the database (e.g. right after `kill -9`).
pub async fn check_db_copy(catalog: &Catalog, sim: &Sim, archive: &Path, db: &Path) -> LossReport {
    let tmp = tempfile::tempdir().expect("temp dir");
    let copy = tmp.path().join("copy.db");
    for suffix in ["", "-wal", "-shm"] {
        let mut from = db.as_os_str().to_owned();
        from.push(suffix);
        let mut to = copy.as_os_str().to_owned();
        to.push(suffix);
        let from = PathBuf::from(from);
        if from.is_file() {
            std::fs::copy(&from, PathBuf::from(to)).expect("copy the database");
        }
    }
    let store = Store::open(StoreOptions {
        recordings_dir: Some(archive.to_path_buf()),
        ..StoreOptions::at(&copy)
    })
    .await
    .expect("the database left behind opens");
    let r = check_no_loss(catalog, sim, archive, &store, StoreCheck::Interrupted).await;
    drop(store.close().await);
    r
}
