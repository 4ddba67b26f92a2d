//! Serving the status surfaces costs the downloads nothing (issue 13): a
//! whole sync of the simulated camera, fed into a [`StatusModel`] with its
//! refresh task and server running as in `viofosync watch`, once with
//! nobody asking and once with a client scraping `/metrics` and
//! `/api/status` 10 times a second each; a third variant without any
//! model is the baseline. Runs alternate so the shared machine's load
//! falls on every variant alike. Reports, per run, the wall time of the
//! cycle and the median / p95 gap between one download's last byte and the
//! next one's first (from the store's timing columns).
//!
//! ```text
//! cargo bench -p viofo-status --bench scrape              # 3 rounds of 6 x 20 MB at 20 MB/s
//! cargo bench -p viofo-status --bench scrape -- --rounds 1
//! ```
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{NoEvents, Shutdown, SyncConfig, Syncer};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_status::{NoActions, NoPersistence, ServerConfig, StatusConfig, StatusModel, serve};
use viofo_store::{Store, StoreOptions};

const CLIPS: usize = 6;
const SIZE: u64 = 20_000_000;
const RATE: u64 = 20_000_000;

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// No status model at all.
    Bare,
    /// The model, its refresh task and the server, nobody asking.
    Served,
    /// The same, scraped 10x/s on each of /metrics and /api/status.
    Scraped,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "no status model",
            Variant::Served => "served, idle",
            Variant::Scraped => "scraped 10/s + 10/s",
        }
    }
}

struct Run {
    wall: Duration,
    gap_p50: Option<i64>,
    gap_p95: Option<i64>,
    scrapes: u64,
    slowest_scrape: Duration,
}

async fn scraper(
    base: String,
    stop: oneshot::Receiver<()>,
    count: Arc<AtomicU64>,
    slowest: Arc<AtomicU64>,
) {
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {}
        }
        for path in ["/metrics", "/api/status"] {
            let t = Instant::now();
            let ok = match client.get(format!("{base}{path}")).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            assert!(ok, "{path} answered");
            count.fetch_add(1, Ordering::Relaxed);
            slowest.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
    }
}

async fn run(variant: Variant) -> Run {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(CLIPS).size(SIZE))
            .bandwidth(RATE)
            .latency(Duration::from_millis(2))
            .delete_delay(Duration::from_millis(200)),
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
    sc.delete_after_download = true;
    sc.max_used_disk = None;

    let status = StatusModel::new(StatusConfig::new("bench", archive.path()), NoPersistence);
    let (stop_all, stopped) = tokio::sync::watch::channel(false);
    let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut tasks = Vec::new();
    let mut base = None;
    if variant != Variant::Bare {
        status.refresh(&store).await.expect("refresh");
        tasks.push(tokio::spawn({
            let (status, store, s) = (status.clone(), store.clone(), stop(stopped.clone()));
            async move { status.run_refresh(store, s).await }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        base = Some(format!("http://{}", listener.local_addr().expect("addr")));
        let server = tokio::spawn(serve(
            listener,
            ServerConfig::default(),
            status.clone(),
            NoActions,
            stop(stopped.clone()),
        ));
        tasks.push(tokio::spawn(async move {
            let _ = server.await;
        }));
    }
    let syncer = if variant == Variant::Bare {
        Syncer::new(client, store.clone(), sc, NoEvents)
    } else {
        Syncer::new(client, store.clone(), sc, status.clone())
    }
    .expect("syncer");

    let count = Arc::new(AtomicU64::new(0));
    let slowest = Arc::new(AtomicU64::new(0));
    let (stop_scraper, scraper_stopped) = oneshot::channel();
    let scraping = (variant == Variant::Scraped).then(|| {
        tokio::spawn(scraper(
            base.clone().expect("served"),
            scraper_stopped,
            count.clone(),
            slowest.clone(),
        ))
    });

    let t = Instant::now();
    let summary = syncer.run_cycle(&Shutdown::new()).await.expect("cycle");
    let wall = t.elapsed();
    assert_eq!(summary.clips as usize, CLIPS, "every clip synced");

    let _ = stop_scraper.send(());
    if let Some(s) = scraping {
        s.await.expect("scraper");
    }
    let _ = stop_all.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let timings = store.last_cycles(1).await.expect("timings");
    let tm = timings.first().expect("a cycle");
    let run = Run {
        wall,
        gap_p50: tm.gap.p50_ms,
        gap_p95: tm.gap.p95_ms,
        scrapes: count.load(Ordering::Relaxed),
        slowest_scrape: Duration::from_micros(slowest.load(Ordering::Relaxed)),
    };
    store.close().await.expect("close");
    sim.shutdown().await;
    run
}

fn ms(v: Option<i64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v} ms"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{CLIPS} clips x {} MB over a {} MB/s link, 2 ms/request, 200 ms deletes, delete after download; {rounds} round(s)",
        SIZE / 1_000_000,
        RATE / 1_000_000
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>8} {:>14}",
        "variant", "wall", "gap p50", "gap p95", "scrapes", "slowest scrape"
    );
    let variants = [Variant::Bare, Variant::Served, Variant::Scraped];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut gaps: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter().enumerate() {
            let r = rt.block_on(run(*v));
            println!(
                "{:<22} {:>8.2}s {:>9} {:>9} {:>8} {:>11.2} ms",
                v.name(),
                r.wall.as_secs_f64(),
                ms(r.gap_p50),
                ms(r.gap_p95),
                r.scrapes,
                r.slowest_scrape.as_secs_f64() * 1000.0
            );
            if let Some(w) = walls.get_mut(i) {
                w.push(r.wall.as_secs_f64());
            }
            if let (Some(g), Some(p50)) = (gaps.get_mut(i), r.gap_p50) {
                g.push(p50 as f64);
            }
        }
    }
    println!("medians over the rounds:");
    for (i, v) in variants.iter().enumerate() {
        println!(
            "{:<22} wall {:.2}s, gap p50 {:.0} ms",
            v.name(),
            median(walls.get(i).cloned().unwrap_or_default()),
            median(gaps.get(i).cloned().unwrap_or_default())
        );
    }
}
