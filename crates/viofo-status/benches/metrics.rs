//! `/metrics` with 10,000 clips' worth of counts: the exposition alone, and
//! a whole scrape over loopback (and `/api/status` beside it). The model is
//! refreshed from a real store holding 10,000 clips (2,000 archived) and
//! has taken the events of 10,000 downloads. Issue 13 asks for under 5 ms.
//! Also: a full refresh of the model from that store (the refresh task's
//! work after each cycle, off the pipeline's path).
#![allow(missing_docs, clippy::print_stdout, clippy::cast_possible_truncation)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use viofo_pipeline::{CycleMode, CycleOutcome, CycleSummary, Event, EventSink};
use viofo_status::{NoActions, NoPersistence, ServerConfig, StatusConfig, StatusModel, serve};
use viofo_store::{Channel, ListedClip, Store, StoreOptions};

const CAM: &str = "bench-cam";
const CLIPS: u32 = 10_000;
const ARCHIVED: u32 = 2_000;

fn scratch() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = base.join("viofo-status-bench");
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(p.join("archive")).unwrap();
    p
}

fn name(i: u32) -> String {
    format!("2025_1224_{:06}_{i:06}F.MP4", i % 240_000)
}

async fn store_with_clips(dir: &std::path::Path) -> Store {
    let store = Store::open(StoreOptions::at(dir.join("state.db")))
        .await
        .unwrap();
    let listing: Vec<ListedClip> = (0..CLIPS)
        .map(|i| ListedClip {
            name: name(i),
            remote_path: format!("/DCIM/Movie/{}", name(i)),
            size: 100_000_000 + u64::from(i),
            size_exact: true,
            locked: false,
            parking: false,
            channel: Channel::Front,
            recorded_at: Some(1_766_577_600_000 + i64::from(i) * 60_000),
        })
        .collect();
    store.reconcile(CAM, &listing, |_| None).await.unwrap();
    let cycle = store.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    let rows = store.list(Some(CAM), &[], ARCHIVED).await.unwrap();
    let mut acks = Vec::new();
    for c in &rows {
        acks.push(store.start_download(c.id, Some(cycle)));
        acks.push(store.finish_download(c.id, &dir.join("archive").join(&c.name), c.size));
        acks.push(store.finish_tail(c.id));
    }
    for a in acks {
        a.await.unwrap();
    }
    store
        .finish_cycle(
            cycle,
            viofo_store::CycleStats {
                clips: u64::from(ARCHIVED),
                bytes: 0,
                outcome: CycleOutcome::Completed,
                note: None,
            },
        )
        .await
        .unwrap();
    store
}

fn feed(status: &StatusModel) {
    status.emit(Event::CycleStarted {
        mode: CycleMode::Pipelined,
    });
    for i in 0..CLIPS {
        let name = name(i);
        status.emit(Event::ItemStarted {
            name: name.clone(),
            size: Some(100_000_000),
        });
        status.emit(Event::ItemProgress {
            name: name.clone(),
            bytes: 50_000_000,
            total: Some(100_000_000),
        });
        status.emit(Event::ItemDone {
            name,
            bytes: 100_000_000,
            duration: Duration::from_millis(5_000 + u64::from(i % 3_000)),
        });
    }
    status.emit(Event::CycleDone(CycleSummary {
        mode: CycleMode::Pipelined,
        clips: u64::from(CLIPS),
        bytes: u64::from(CLIPS) * 100_000_000,
        failed: 0,
        deferred: 0,
        write_failures: 0,
        deleted: 0,
        pruned: 0,
        duration: Duration::from_secs(3_600),
        listing: Duration::from_secs(1),
        outcome: CycleOutcome::Completed,
        note: None,
        stop: None,
    }));
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = scratch();
    let status = StatusModel::new(StatusConfig::new(CAM, dir.join("archive")), NoPersistence);
    let store = rt.block_on(store_with_clips(&dir));
    feed(&status);
    rt.block_on(status.refresh(&store)).unwrap();
    let snap = status.snapshot();
    assert_eq!(snap.queue.done, u64::from(ARCHIVED));
    assert_eq!(snap.queue.pending, u64::from(CLIPS - ARCHIVED));
    let text = status.render_metrics();
    println!(
        "/metrics: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );

    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(
        listener,
        ServerConfig::default(),
        status.clone(),
        NoActions,
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();

    let mut g = c.benchmark_group("status");
    g.bench_function("render_metrics_10k_clips", |b| {
        b.iter(|| black_box(status.render_metrics()));
    });
    g.bench_function("scrape_metrics_http_10k_clips", |b| {
        b.to_async(&rt).iter(|| async {
            let r = client
                .get(format!("http://{addr}/metrics"))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            black_box(r.bytes().await.unwrap());
        });
    });
    g.bench_function("api_status_http_10k_clips", |b| {
        b.to_async(&rt).iter(|| async {
            let r = client
                .get(format!("http://{addr}/api/status"))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            black_box(r.bytes().await.unwrap());
        });
    });
    // What the refresh task pays (off the pipeline's path) after a cycle:
    // counts, failed clips, the archived rows, the last cycles, statvfs.
    g.sample_size(20);
    g.bench_function("refresh_full_10k_clips", |b| {
        b.to_async(&rt)
            .iter(|| async { status.refresh(&store).await.unwrap() });
    });
    g.finish();
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
    rt.block_on(store.close()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
