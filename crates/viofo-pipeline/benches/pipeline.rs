//! The pipeline benchmark: a whole sync against the simulated camera,
//! pipelined and inline in the same run, read back from the store's timing
//! columns.
//!
//! ```text
//! cargo bench -p viofo-pipeline --bench pipeline              # 20 x 50 MB at 20 MB/s, 2 s deletes
//! cargo bench -p viofo-pipeline --bench pipeline -- --quick   # 6 x 50 MB, for a smoke run
//! cargo bench -p viofo-pipeline --bench pipeline -- --rss     # peak RSS syncing 2 x 2 GB clips
//! cargo bench -p viofo-pipeline --bench pipeline -- --triage  # skeleton triage of 60 x 300 MB, 20 MB/s, 20 ms/request
//! ```
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{CycleMode, NoEvents, Shutdown, SyncConfig, Syncer};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_store::{Store, StoreOptions};

struct Params {
    clips: usize,
    size: u64,
    rate: Option<u64>,
    delete: Duration,
    deletes_on: bool,
    /// The simulator's per-request latency.
    latency: Duration,
    /// GPS extraction and sidecars on.
    gps: bool,
}

struct Run {
    mode: CycleMode,
    wall: Duration,
    listing: Duration,
    bytes: u64,
    gap_p50: Option<i64>,
    gap_p95: Option<i64>,
    overlap: Option<f64>,
    download_span_ms: i64,
}

async fn run(p: &Params, mode: CycleMode) -> Run {
    let mut cfg = SimConfig::default()
        .with_clips(ClipSpec::synthetic(p.clips).size(p.size))
        .delete_delay(p.delete)
        .latency(p.latency);
    if let Some(r) = p.rate {
        cfg = cfg.bandwidth(r);
    }
    let sim = Sim::start(cfg).await.expect("sim");
    let state = tempfile::tempdir().expect("tempdir");
    let archive = tempfile::tempdir().expect("tempdir");
    let store = Store::open(StoreOptions::at(state.path().join("bench.db")))
        .await
        .expect("store");
    let client = Client::new(ClientConfig::new(sim.base_url())).expect("client");
    let mut sc = SyncConfig::new("bench", archive.path());
    sc.tail = mode;
    sc.delete_after_download = p.deletes_on;
    if !p.gps {
        sc.gps = None;
    }
    if std::env::args().any(|a| a == "--no-journeys") {
        sc.journeys = None;
    }
    let syncer = Syncer::new(client, store.clone(), sc, NoEvents).expect("syncer");
    let t = Instant::now();
    let summary = syncer.run_cycle(&Shutdown::new()).await.expect("cycle");
    let wall = t.elapsed();
    assert_eq!(
        usize::try_from(summary.clips).ok(),
        Some(p.clips),
        "every clip synced"
    );
    let timings = store.last_cycles(1).await.expect("timings");
    let tm = timings.first().expect("a cycle");
    let (first, last) = first_and_last_byte(&store, p.clips).await;
    store.close().await.expect("close");
    sim.shutdown().await;
    Run {
        mode,
        wall,
        listing: summary.listing,
        bytes: summary.bytes,
        gap_p50: tm.gap.p50_ms,
        gap_p95: tm.gap.p95_ms,
        overlap: tm.overlap_fraction(),
        download_span_ms: last - first,
    }
}

/// First download start and last download finish of the cycle, from the
/// store's timing columns.
async fn first_and_last_byte(store: &Store, clips: usize) -> (i64, i64) {
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for id in 1..=clips {
        let id = i64::try_from(id).unwrap_or(i64::MAX);
        if let Ok(Some(row)) = store.get(viofo_store::ClipId(id)).await {
            if let Some(s) = row.times.download_started_at {
                first = first.min(s);
            }
            if let Some(f) = row.times.download_finished_at {
                last = last.max(f);
            }
        }
    }
    (first, last)
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ms(v: Option<i64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v} ms"))
}

/// Issue 12's triage budget: skeleton triage of 60 clips of 300 MB over a
/// 20 MB/s link with 20 ms per request, alone (a one-byte quota stops the
/// downloads, so triage runs by itself): the whole cycle's wall time.
async fn triage() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(60).size(300_000_000))
            .bandwidth(20_000_000)
            .latency(Duration::from_millis(20)),
    )
    .await
    .expect("sim");
    let state = tempfile::tempdir().expect("tempdir");
    let archive = tempfile::tempdir().expect("tempdir");
    let store = Store::open(StoreOptions::at(state.path().join("bench.db")))
        .await
        .expect("store");
    let client = Client::new(ClientConfig::new(sim.base_url())).expect("client");
    let mut sc = SyncConfig::new("bench", archive.path());
    sc.triage = Some(viofo_gps::TriageMode::skeleton());
    sc.retention.quota = Some(1);
    let syncer = Syncer::new(client, store.clone(), sc, NoEvents).expect("syncer");
    let t = Instant::now();
    let r = syncer.run_cycle(&Shutdown::new()).await;
    let wall = t.elapsed();
    assert!(
        r.as_ref().is_err_and(viofo_pipeline::Error::is_disk_full),
        "the quota stops the downloads"
    );
    let (ranged, bytes) = sim
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.status == Some(206))
        .fold((0u64, 0u64), |(n, b), q| (n + 1, b + q.body_len));
    let mut tracks = 0;
    for id in 1..=60 {
        if let Ok(Some(t)) = store.track(viofo_store::ClipId(id)).await
            && !t.track.points.is_empty()
        {
            tracks += 1;
        }
    }
    store.close().await.expect("close");
    sim.shutdown().await;
    println!(
        "triage: skeleton of 60 clips x 300 MB at 20 MB/s, 20 ms/request: {:.2}s (target 15 s); \
         {tracks} tracks; {ranged} ranged reads, {:.1} MB ({:.3} % of 18 GB)",
        wall.as_secs_f64(),
        bytes as f64 / 1e6,
        bytes as f64 * 100.0 / 18e9,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |f: &str| args.iter().any(|a| a == f);
    if has("--triage") {
        triage().await;
        return;
    }
    if has("--small") {
        // A full card of small clips over an unthrottled loopback link:
        // the cost per clip (durability, sidecar, store) shows.
        let p = Params {
            clips: 1_400,
            size: 330_000,
            rate: None,
            delete: Duration::from_millis(10),
            deletes_on: false,
            latency: Duration::ZERO,
            gps: !has("--no-gps"),
        };
        let r = run(&p, CycleMode::Pipelined).await;
        println!(
            "small clips: {} x {} KB ({:.0} MB) unthrottled, GPS {}: {:.2}s ({:.2} ms/clip); gap p50 {}, p95 {}; peak RSS {} KiB (sim in-process)",
            p.clips,
            p.size / 1_000,
            r.bytes as f64 / 1e6,
            if p.gps { "on" } else { "off" },
            r.wall.as_secs_f64(),
            r.wall.as_secs_f64() * 1000.0 / p.clips as f64,
            ms(r.gap_p50),
            ms(r.gap_p95),
            vm_hwm_kib().unwrap_or(0),
        );
        return;
    }
    if has("--rss") {
        let p = Params {
            clips: 2,
            size: 2_000_000_000,
            rate: None,
            delete: Duration::from_millis(10),
            deletes_on: false,
            latency: Duration::from_millis(2),
            gps: true,
        };
        let before = vm_hwm_kib();
        let r = run(&p, CycleMode::Pipelined).await;
        let after = vm_hwm_kib();
        println!(
            "rss: synced {} clips of {} MB ({:.1} GB) in {:.1}s; peak RSS (VmHWM, sim in-process) before {} KiB, after {} KiB",
            p.clips,
            p.size / 1_000_000,
            r.bytes as f64 / 1e9,
            r.wall.as_secs_f64(),
            before.unwrap_or(0),
            after.unwrap_or(0),
        );
        return;
    }
    let p = if has("--quick") {
        Params {
            clips: 6,
            size: 50_000_000,
            rate: Some(20_000_000),
            delete: Duration::from_secs(2),
            deletes_on: true,
            latency: Duration::from_millis(2),
            gps: true,
        }
    } else {
        Params {
            clips: 20,
            size: 50_000_000,
            rate: Some(20_000_000),
            delete: Duration::from_secs(2),
            deletes_on: true,
            latency: Duration::from_millis(2),
            gps: true,
        }
    };
    let rate = p.rate.unwrap_or(1) as f64;
    println!(
        "pipeline benchmark: {} clips x {} MB, link {} MB/s, deletes {} s, GPS on",
        p.clips,
        p.size / 1_000_000,
        rate / 1e6,
        p.delete.as_secs_f64()
    );
    let mut runs = Vec::new();
    for mode in [CycleMode::Pipelined, CycleMode::Inline] {
        runs.push(run(&p, mode).await);
    }
    println!(
        "{:<10} {:>9} {:>9} {:>11} {:>11} {:>9} {:>9} {:>8}",
        "mode", "wall", "bound", "dl span", "listing", "gap p50", "gap p95", "overlap"
    );
    for r in &runs {
        let ideal = r.bytes as f64 / rate;
        let bound = 1.03 * ideal + r.listing.as_secs_f64();
        println!(
            "{:<10} {:>8.2}s {:>8.2}s {:>10.2}s {:>10.3}s {:>9} {:>9} {:>7.0}%",
            r.mode.to_string(),
            r.wall.as_secs_f64(),
            bound,
            r.download_span_ms as f64 / 1000.0,
            r.listing.as_secs_f64(),
            ms(r.gap_p50),
            ms(r.gap_p95),
            r.overlap.unwrap_or(0.0) * 100.0,
        );
    }
    if let [pipe, inline] = runs.as_slice() {
        println!(
            "pipelining saves {:.2}s ({:.0}%) of the inline cycle",
            inline.wall.as_secs_f64() - pipe.wall.as_secs_f64(),
            100.0 * (1.0 - pipe.wall.as_secs_f64() / inline.wall.as_secs_f64())
        );
    }
}
