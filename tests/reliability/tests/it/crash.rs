//! Scenario 1, crash anywhere: the real `viofosync sync` process is killed
//! with SIGKILL at 20 seeded-random moments (while it starts, mid-download,
//! in the tail right after a clip lands, right after a camera delete) and
//! restarted each time until a cycle completes. After every kill and at the
//! end, the no-data-loss checker runs: nothing lost, nothing partial under a
//! final name, nothing deleted from the camera without an identical local
//! copy, the store agrees with the disk, GPX sidecars for every clip with
//! GPS.
//!
//! Reproduce a failure with the seed it prints:
//! `RELIABILITY_SEED=<n> cargo test -p viofosync-reliability crash_anywhere`.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::mpsc;
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_store::{ClipState, Store, StoreOptions};
use viofo_testkit::{
    CAMERA, Catalog, StoreCheck, check_db_copy, check_no_loss, note, sidecar, walk,
};
use viofosync_reliability::viofosync_binary;

const KILLS: usize = 20;
/// Runs allowed to reach the 20 kills (a run that finishes on its own is
/// not a kill).
const MAX_KILL_RUNS: usize = 40;
/// Runs allowed to complete the cycle after the last kill.
const MAX_FINAL_RUNS: usize = 3;
const CLIPS: usize = 18;
/// Above the client's 1 MiB write buffer, so a kill mid-transfer can leave
/// bytes in the `.part` that the next run resumes from.
const SIZE: u64 = 2_000_000;
/// Shaped so one clip takes ~200 ms and the whole card ~4 s: long enough
/// that 20 kills (each aimed within about one clip of its run's start)
/// land mid-transfer with work left.
const BANDWIDTH: u64 = 10_000_000;
const DEFAULT_SEED: u64 = 0x5EED_2026;
/// Bound on one run (and on waiting for any log line).
const RUN_BOUND: Duration = Duration::from_secs(60);

/// Where a kill is aimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Aim {
    /// A random moment after spawning: start-up, store open and recovery,
    /// probe, listing, reconcile writes, the first bytes.
    Start,
    /// A random moment after the listing: mostly mid-download.
    Download,
    /// Within a few ms of a clip landing: recording it, GPS extraction,
    /// sidecar write, camera delete, store updates (the tail).
    Tail,
    /// Within a few ms of a confirmed camera delete: recording the delete,
    /// finishing the tail, the next download starting.
    AfterDelete,
}

/// The running process, its stderr lines and everything it logged.
struct Run {
    child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
    log: Vec<String>,
}

impl Run {
    fn spawn(bin: &Path, home: &Path, url: &str, archive: &Path, db: &Path) -> Run {
        let mut cmd = viofosync_reliability::sync_command(bin, home, url, archive, db, &["--gps"]);
        cmd.stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start viofosync");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(stderr).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Run {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a log line containing `pat`; `false` if the process closed
    /// its stderr (exited) first.
    async fn wait_for(&mut self, pat: &str) -> bool {
        let deadline = tokio::time::Instant::now() + RUN_BOUND;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(l)) => {
                    let hit = l.contains(pat);
                    self.log.push(l);
                    if hit {
                        return true;
                    }
                }
                Ok(None) => return false,
                Err(_) => panic!(
                    "no {pat:?} line within {RUN_BOUND:?}; log:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    /// SIGKILL (if still running), then reaps it. Returns its exit status
    /// and whether it was the kill that ended it.
    async fn kill(mut self) -> (ExitStatus, bool, Vec<String>) {
        let _ = self.child.start_kill();
        let status = tokio::time::timeout(RUN_BOUND, self.child.wait())
            .await
            .expect("a killed process is reaped")
            .expect("wait");
        self.drain().await;
        (status, status.signal() == Some(9), self.log)
    }

    /// Lets it run to its end (bounded).
    async fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let status = match tokio::time::timeout(RUN_BOUND, self.child.wait()).await {
            Ok(s) => s.expect("wait"),
            Err(_) => {
                let _ = self.child.start_kill();
                self.drain().await;
                panic!(
                    "viofosync sync did not finish within {RUN_BOUND:?}; log:\n{}",
                    self.log.join("\n")
                );
            }
        };
        self.drain().await;
        (status, self.log)
    }

    async fn drain(&mut self) {
        while let Ok(Some(l)) =
            tokio::time::timeout(Duration::from_secs(5), self.lines.recv()).await
        {
            self.log.push(l);
        }
    }
}

/// Downloads in flight when the process died: `.part` files (empty or
/// shorter than a clip).
fn partials(archive: &Path) -> usize {
    walk(archive)
        .iter()
        .filter(|f| f.path.to_string_lossy().ends_with(".part") && f.size < SIZE)
        .count()
}

fn tail(log: &[String]) -> String {
    log.iter()
        .rev()
        .take(15)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn crash_anywhere() {
    let started = Instant::now();
    let bin = viofosync_binary().unwrap_or_else(|e| panic!("the viofosync binary: {e}"));
    let seed = std::env::var("RELIABILITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(CLIPS).size(SIZE).locked_every(5))
            .bandwidth(BANDWIDTH)
            .delete_delay(Duration::from_millis(20))
            .seed(seed),
    )
    .await
    .expect("simulator starts");
    let url = sim.base_url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let catalog = Catalog::of(&sim);
    assert_eq!(catalog.clips.len(), CLIPS);
    assert!(catalog.clips.values().all(|c| c.has_gps));
    let locked: Vec<String> = sim
        .clips()
        .into_iter()
        .filter(|c| c.locked)
        .map(|c| c.name)
        .collect();
    assert!(!locked.is_empty(), "some clips are locked (kept on camera)");

    let home = tempfile::tempdir().unwrap();
    let archive = home.path().join("archive");
    let db = home.path().join("state/viofosync.db");
    // The archive exists, as a user's does: a missing one stops the sync
    // (it is never created silently).
    std::fs::create_dir_all(&archive).unwrap();

    // 20 aims, five of each, each with a seeded delay: start, download and
    // tail in a seeded order, then the five after a delete. A delete is
    // decided on a listing taken after the clip's record is durable, so a
    // run makes its deletes after its downloads (at its re-lists): aimed
    // earlier, a kill after a delete would leave no downloads for the
    // others.
    let mut aims: Vec<Aim> = [Aim::Start, Aim::Download, Aim::Tail]
        .into_iter()
        .flat_map(|a| std::iter::repeat_n(a, KILLS / 4))
        .collect();
    aims.shuffle(&mut rng);
    aims.extend(std::iter::repeat_n(Aim::AfterDelete, KILLS / 4));

    let mut kills: Vec<(Aim, u64)> = Vec::new();
    let mut hit: BTreeMap<Aim, usize> = BTreeMap::new();
    let mut mid_download = 0usize;
    let mut completed_early = 0usize;
    let mut runs = 0usize;
    while kills.len() < KILLS {
        runs += 1;
        assert!(
            runs <= MAX_KILL_RUNS,
            "only {} kills in {MAX_KILL_RUNS} runs",
            kills.len()
        );
        let aim = aims[kills.len()];
        let mut run = Run::spawn(&bin, home.path(), &url, &archive, &db);
        let (reached, delay_ms) = match aim {
            Aim::Start => (true, rng.random_range(0..200)),
            Aim::Download => (run.wait_for("camera lists").await, rng.random_range(0..200)),
            Aim::Tail => (run.wait_for("archived ").await, rng.random_range(0..8)),
            Aim::AfterDelete => (
                run.wait_for(": deleted from the camera").await,
                rng.random_range(0..5),
            ),
        };
        if reached {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        let (status, killed, log) = run.kill().await;
        if !killed {
            // It finished before the kill: that must have been a success.
            assert!(
                status.success(),
                "run {runs} (aimed {aim:?}) ended on its own with {status}:\n{}",
                tail(&log)
            );
            completed_early += 1;
            if sim.clips().len() == locked.len() {
                // Nothing left to download or delete: the remaining kills
                // would only hit empty cycles. Refill is not possible, so
                // stop aiming at work that is gone.
                break;
            }
            continue;
        }
        kills.push((aim, delay_ms));
        if reached {
            *hit.entry(aim).or_default() += 1;
        }
        let parts = partials(&archive);
        if parts > 0 {
            mid_download += 1;
        }
        let report = check_db_copy(&catalog, &sim, &archive, &db).await;
        assert!(
            report.violations.is_empty(),
            "after kill {} (aimed {aim:?} +{delay_ms} ms, seed {seed}): no-data-loss violations:\n  {}\nlast log lines:\n{}",
            kills.len(),
            report.violations.join("\n  "),
            tail(&log)
        );
    }

    // Restart until a cycle completes.
    let mut finished = false;
    for i in 0..MAX_FINAL_RUNS {
        let run = Run::spawn(&bin, home.path(), &url, &archive, &db);
        let (status, log) = run.finish().await;
        assert!(
            status.code().is_some(),
            "final run {i} died of {status}:\n{}",
            tail(&log)
        );
        if status.success() {
            finished = true;
            break;
        }
        note(&format!(
            "crash_anywhere: final run {i} exited {status}:\n{}",
            tail(&log)
        ));
    }
    assert!(finished, "no cycle completed in {MAX_FINAL_RUNS} runs");

    let store = Store::open(StoreOptions {
        recordings_dir: Some(archive.clone()),
        ..StoreOptions::at(&db)
    })
    .await
    .expect("the store opens");
    let report = check_no_loss(&catalog, &sim, &archive, &store, StoreCheck::Settled).await;
    report.assert_ok();
    assert_eq!(
        report.archived.len(),
        CLIPS,
        "every clip archived: {report:?}"
    );
    let mut expect_deleted: Vec<String> = catalog
        .names()
        .into_iter()
        .filter(|n| !locked.contains(n))
        .collect();
    expect_deleted.sort();
    let mut deleted = sim.deleted();
    deleted.sort();
    assert_eq!(deleted, expect_deleted, "every unlocked clip deleted once");
    for name in &locked {
        assert!(sim.clip(name).is_some(), "{name} is locked: kept");
    }
    for name in catalog.names() {
        let row = store.get_by_name(CAMERA, &name).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Done, "{name}");
        let path = row.local_path.expect("local path");
        assert!(sidecar(&path, "gpx").is_file(), "{name}: GPX sidecar");
    }
    let leftovers: Vec<String> = walk(&archive)
        .into_iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".part"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "partial downloads left after a completed cycle: {leftovers:?}"
    );
    // Kills cost at most the clip in flight each: resumed, not restarted
    // from zero across the board.
    let served: u64 = sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.cmd.is_none() && r.clip.is_some())
        .map(|r| r.body_bytes)
        .sum();
    let bound = SIZE * (CLIPS + kills.len()) as u64;
    assert!(
        served <= bound,
        "{served} body bytes served for {CLIPS} clips of {SIZE} and {} kills",
        kills.len()
    );
    drop(store.close().await);
    let stray_tmp: Vec<String> = walk(&archive)
        .into_iter()
        .filter_map(|f| {
            let n = f.path.file_name()?.to_string_lossy().into_owned();
            n.contains(".tmp").then_some(n)
        })
        .collect();
    note(&format!(
        "crash_anywhere: seed {seed}: {} kills in {runs} runs (hit {hit:?}, {mid_download} mid-download, {completed_early} runs finished first), {} archived, {} deleted, {served} body bytes served for {} bytes of clips, leftover temp files {stray_tmp:?}, {:.1}s",
        kills.len(),
        report.archived.len(),
        report.deleted.len(),
        SIZE * CLIPS as u64,
        started.elapsed().as_secs_f64()
    ));

    // The kills really landed in the phases they aimed at.
    assert_eq!(
        kills.len(),
        KILLS,
        "completed early {completed_early} times"
    );
    for aim in [Aim::Tail, Aim::AfterDelete, Aim::Download] {
        assert!(
            hit.get(&aim).copied().unwrap_or(0) >= 3,
            "kills aimed at {aim:?} that found their moment: {hit:?}"
        );
    }
    assert!(
        mid_download >= 3,
        "only {mid_download} kills left a partial download"
    );
    sim.shutdown().await;
}
