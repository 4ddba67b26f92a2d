//! CLI tests: every subcommand against the simulator on 127.0.0.1, the
//! configuration precedence, invalid values and the exit codes.
//!
//! Every command runs with a cleared environment whose HOME and XDG
//! folders are temporary, so no real user file is read or written. Runs
//! that download end with viofo-testkit's no-data-loss checker
//! ([`Camera::assert_no_loss`]).

mod addresses;
mod archive;
mod args;
mod cameras;
mod config;
mod connections;
mod escapes;
mod failures;
mod health;
mod help;
mod import;
mod logs;
mod misc;
mod mqtt;
mod places;
mod queue;
mod space;
mod status;
mod sync;
mod trips;
mod unknown_camera;
#[cfg(feature = "sim")]
mod walkthrough;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tempfile::TempDir;
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_store::{Store, StoreOptions};
use viofo_testkit::{Catalog, LossReport, StoreCheck};

/// A simulated camera on 127.0.0.1 with its own runtime.
pub struct Camera {
    pub sim: Option<Sim>,
    pub url: String,
    rt: tokio::runtime::Runtime,
}

impl Camera {
    pub fn start(cfg: SimConfig) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(Sim::start(cfg)).unwrap();
        let url = sim.base_url();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Self {
            sim: Some(sim),
            url,
            rt,
        }
    }

    /// `n` clips of `size` bytes, unshaped, quick deletes.
    pub fn with_clips(n: usize, size: u64) -> Self {
        Self::start(
            SimConfig::default()
                .with_clips(ClipSpec::synthetic(n).size(size))
                .delete_delay(Duration::from_millis(10)),
        )
    }

    pub fn sim(&self) -> &Sim {
        self.sim.as_ref().unwrap()
    }

    /// The camera's clips now, hashed: what [`Camera::assert_no_loss`]
    /// compares with later.
    pub fn catalog(&self) -> Catalog {
        Catalog::of(self.sim())
    }

    /// The no-data-loss check after the last command of a test that wrote
    /// `env`'s default state database: every clip of `catalog` is on the
    /// camera or archived byte-identical (with its GPX sidecar), nothing
    /// under a final name is partial, nothing was deleted without an
    /// identical local copy, and the store agrees (`strict`: every archived
    /// clip recorded `done`, after runs that completed). Opening the store
    /// runs its crash recovery, so nothing may run after it.
    pub fn assert_no_loss(&self, catalog: &Catalog, env: &Env, strict: StoreCheck) -> LossReport {
        let archive = env.archive();
        let report = self.rt.block_on(async {
            let store = Store::open(StoreOptions {
                recordings_dir: Some(archive.clone()),
                ..StoreOptions::at(env.default_db())
            })
            .await
            .unwrap();
            let r =
                viofo_testkit::check_no_loss(catalog, self.sim(), &archive, &store, strict).await;
            store.close().await.unwrap();
            r
        });
        report.assert_ok();
        report
    }

    /// The no-data-loss check of what an interrupted (or still running)
    /// command left, on a copy of `env`'s default state database, so the
    /// check repairs nothing the next run must recover from.
    pub fn assert_no_loss_on_copy(&self, catalog: &Catalog, env: &Env) -> LossReport {
        let report = self.rt.block_on(viofo_testkit::check_db_copy(
            catalog,
            self.sim(),
            &env.archive(),
            &env.default_db(),
        ));
        report.assert_ok();
        report
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

/// A temporary HOME with XDG folders, an archive path and helpers.
pub struct Env {
    pub dir: TempDir,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "state", "data", "cache"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Self { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn archive(&self) -> PathBuf {
        self.path("archive")
    }

    /// Where the default state database lands under this HOME.
    pub fn default_db(&self) -> PathBuf {
        self.path("state/viofosync/viofosync.db")
    }

    /// The default config file under this HOME.
    pub fn config_file(&self) -> PathBuf {
        self.path("config/viofosync/config.toml")
    }

    pub fn write_config(&self, text: &str) {
        let p = self.config_file();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// The binary with a clean environment rooted here.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_viofosync"));
        c.env_clear();
        self.apply(|k, v| {
            c.env(k, v);
        });
        c.current_dir(self.dir.path());
        c.timeout(Duration::from_secs(60));
        c
    }

    /// Same, as a std command (for spawning and signalling).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_viofosync"));
        c.env_clear();
        self.apply(|k, v| {
            c.env(k, v);
        });
        c.current_dir(self.dir.path());
        c
    }

    fn apply(&self, mut set: impl FnMut(&str, PathBuf)) {
        set("HOME", self.path("home"));
        set("XDG_CONFIG_HOME", self.path("config"));
        set("XDG_STATE_HOME", self.path("state"));
        set("XDG_DATA_HOME", self.path("data"));
        set("XDG_CACHE_HOME", self.path("cache"));
    }

    /// The archive folder, created (a sync never creates it).
    pub fn make_archive(&self) -> PathBuf {
        std::fs::create_dir_all(self.archive()).unwrap();
        self.archive()
    }

    /// The binary set up to sync `cam` into this archive (created): its
    /// address, no disk limit, camera id [`viofo_testkit::CAMERA`] (the
    /// one the no-data-loss checker reads the store by), no status server.
    pub fn sync_cmd(&self, cam: &Camera) -> Command {
        let mut c = self.cmd();
        self.for_camera(cam, |k, v| {
            c.env(k, v);
        });
        c
    }

    /// Same, as a std command (for spawning and signalling).
    pub fn sync_std_cmd(&self, cam: &Camera) -> std::process::Command {
        let mut c = self.std_cmd();
        self.for_camera(cam, |k, v| {
            c.env(k, v);
        });
        c
    }

    fn for_camera(&self, cam: &Camera, mut set: impl FnMut(&str, &std::ffi::OsStr)) {
        let archive = self.make_archive();
        set("VIOFOSYNC_ADDRESS", cam.url.as_ref());
        set("VIOFOSYNC_ARCHIVE", archive.as_os_str());
        set("VIOFOSYNC_MAX_USED_DISK", "100".as_ref());
        set("VIOFOSYNC_CAMERA_ID", viofo_testkit::CAMERA.as_ref());
        // `watch` would serve its status page on the fixed default port,
        // which parallel tests share; the status tests pick their own.
        set("VIOFOSYNC_LISTEN", "off".as_ref());
    }

    /// `viofosync ARGS` in this environment: exit 0 asserted, stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        ok(self.cmd().args(args))
    }

    /// `viofosync ARGS` set up for `cam` ([`Env::sync_cmd`]): exit 0
    /// asserted, stdout.
    pub fn sync_ok(&self, cam: &Camera, args: &[&str]) -> String {
        ok(self.sync_cmd(cam).args(args))
    }
}

/// Every file under `dir`, recursively, relative, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    viofo_testkit::walk(dir)
        .into_iter()
        // The archive's owner lock file (held while a sync runs).
        .filter(|f| !f.path.ends_with(viofo_pipeline::archive::LOCK_FILE))
        .map(|f| f.path.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

/// Runs `cmd`, asserts it exits 0 (its stderr in the failure), returns its
/// stdout.
pub fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{cmd:?}\nstdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// A spawned binary whose stderr (or stdout) lines arrive on a channel.
pub struct Running {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    /// Spawns `cmd`, reading stderr (or stdout when `stdout`) line by line.
    pub fn spawn(mut cmd: std::process::Command, stdout: bool) -> Self {
        use std::io::BufRead as _;
        use std::process::Stdio;
        cmd.stdin(Stdio::null());
        if stdout {
            cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        } else {
            cmd.stderr(Stdio::piped()).stdout(Stdio::null());
        }
        let mut child = cmd.spawn().unwrap();
        let pipe: Box<dyn std::io::Read + Send> = if stdout {
            Box::new(child.stdout.take().unwrap())
        } else {
            Box::new(child.stderr.take().unwrap())
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `pat` (fails after `limit`).
    pub fn expect_line(&mut self, pat: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(pat) {
                        return line;
                    }
                }
                Err(e) => panic!("no line with {pat:?} ({e}); seen: {:#?}", self.seen),
            }
        }
    }

    /// Waits for the exit (fails after `limit`), returning its code.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    if let Some(status) = self.child.try_wait().unwrap() {
                        return status.code();
                    }
                }
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("process did not exit; seen: {:#?}", self.seen);
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 127.0.0.1 port with nothing listening.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Sends `sig` to a child process.
pub fn signal(child: &std::process::Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}
