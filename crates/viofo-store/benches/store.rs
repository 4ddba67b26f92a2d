//! Benchmarks of viofo-store: reconcile of a 10,000-clip listing, the
//! caller's cost of `record_timing`, and the writer's throughput of small
//! awaited writes. Databases live on the target directory's filesystem (real
//! disk, so `synchronous=FULL` fsyncs are real), not tmpfs.
#![allow(missing_docs, clippy::indexing_slicing)] // bench code indexes its own fixtures

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use viofo_store::{Channel, ClipId, ListedClip, Stage, Store, StoreOptions};

const CAM: &str = "bench-cam";

fn scratch_root() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = base.join("viofo-store-bench");
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn listing(from: u32, n: u32) -> Vec<ListedClip> {
    (from..from + n)
        .map(|i| {
            let name = format!("2025_1224_{:06}_{i:06}F.MP4", i % 240_000);
            ListedClip {
                remote_path: format!("/DCIM/Movie/{name}"),
                name,
                size: 100_000_000 + u64::from(i),
                size_exact: true,
                locked: i % 50 == 0,
                parking: false,
                channel: Channel::Front,
                recorded_at: Some(1_766_577_600_000 + i64::from(i) * 60_000),
            }
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(StoreOptions::at(dir.path().join("bench.db")))
        .await
        .unwrap()
}

fn reconcile(c: &mut Criterion) {
    let rt = runtime();
    let root = scratch_root();
    let mut g = c.benchmark_group("reconcile_10k");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));

    // First listing into an empty database: 10,000 inserts.
    let all = listing(0, 10_000);
    g.bench_function("fresh_db_10k_new", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir_in(&root).unwrap();
                total += rt.block_on(async {
                    let s = open(&dir).await;
                    let t = Instant::now();
                    let r = s.reconcile(CAM, &all, |_| None).await.unwrap();
                    let el = t.elapsed();
                    assert_eq!(r.new, 10_000);
                    s.close().await.unwrap();
                    el
                });
            }
            total
        });
    });

    // Same listing again: 10,000 known clips, nothing changes.
    let dir = tempfile::tempdir_in(&root).unwrap();
    let s = rt.block_on(async {
        let s = open(&dir).await;
        s.reconcile(CAM, &all, |_| None).await.unwrap();
        s
    });
    g.bench_function("known_10k_unchanged", |b| {
        b.iter(|| {
            rt.block_on(s.reconcile(CAM, black_box(&all), |_| None))
                .unwrap()
        });
    });

    // The card rotates: alternate two listings offset by 200 clips, so each
    // call marks 200 gone, brings 200 back, and refreshes nothing else.
    let shifted = listing(200, 10_000);
    let mut flip = false;
    g.bench_function("known_10k_rotating_200", |b| {
        b.iter(|| {
            flip = !flip;
            let l = if flip { &shifted } else { &all };
            rt.block_on(s.reconcile(CAM, l, |_| None)).unwrap()
        });
    });
    g.finish();
    rt.block_on(s.close()).unwrap();
}

fn record_timing(c: &mut Criterion) {
    let rt = runtime();
    let root = scratch_root();
    let dir = tempfile::tempdir_in(&root).unwrap();
    let (s, id) = rt.block_on(async {
        let s = open(&dir).await;
        s.reconcile(CAM, &listing(0, 1), |_| None).await.unwrap();
        let id = s
            .get_by_name(CAM, &listing(0, 1)[0].name)
            .await
            .unwrap()
            .unwrap()
            .id;
        (s, id)
    });
    const STAGES: [Stage; 8] = [
        Stage::Listed,
        Stage::DownloadStarted,
        Stage::DownloadFinished,
        Stage::TailSubmitted,
        Stage::TailStarted,
        Stage::GpsFinished,
        Stage::DeleteFinished,
        Stage::TailFinished,
    ];
    let mut g = c.benchmark_group("record_timing");
    g.throughput(Throughput::Elements(1));
    // Caller cost only: the clock runs around the calls; between chunks
    // (untimed) the writer drains the queue so nothing is ever dropped.
    g.bench_function("caller_cost", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            let mut k: usize = 0;
            while left > 0 {
                let chunk = left.min(50_000);
                let t = Instant::now();
                for _ in 0..chunk {
                    k = k.wrapping_add(1);
                    s.record_timing(black_box(id), STAGES[k % 8], black_box(1));
                }
                total += t.elapsed();
                rt.block_on(s.flush()).unwrap();
                left -= chunk;
            }
            total
        });
    });
    g.finish();
    assert_eq!(s.dropped_timings(), 0, "no timing was dropped");
    rt.block_on(s.close()).unwrap();
}

fn writer_throughput(c: &mut Criterion) {
    let rt = runtime();
    let root = scratch_root();
    let dir = tempfile::tempdir_in(&root).unwrap();
    let clips = listing(0, 1_000);
    let (s, ids) = rt.block_on(async {
        let s = open(&dir).await;
        s.reconcile(CAM, &clips, |_| None).await.unwrap();
        let mut ids: Vec<ClipId> = Vec::new();
        for c in &clips {
            ids.push(s.get_by_name(CAM, &c.name).await.unwrap().unwrap().id);
        }
        (s, ids)
    });
    let mut g = c.benchmark_group("writer");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    // Small awaited writes (one UPDATE each) from 8 concurrent producers;
    // each iteration is one write, committed and synced before its ack.
    g.bench_function("awaited_small_writes", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                let mut tasks = Vec::new();
                for p in 0..8u64 {
                    let s = s.clone();
                    let ids = ids.clone();
                    let n = iters / 8 + u64::from(p < iters % 8);
                    tasks.push(tokio::spawn(async move {
                        let mut acks = Vec::new();
                        for k in 0..n {
                            let id = ids[usize::try_from(k).unwrap() % ids.len()];
                            acks.push(s.set_priority(id, i64::try_from(k).unwrap()));
                        }
                        for a in acks {
                            a.await.unwrap();
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
                t.elapsed()
            })
        });
    });
    // One producer awaiting each write before the next: every write is its
    // own transaction and fsync (the worst case, e.g. finish_download).
    g.bench_function("awaited_one_at_a_time", |b| {
        b.iter(|| rt.block_on(s.set_priority(ids[0], 1)).unwrap());
    });
    g.finish();
    rt.block_on(s.close()).unwrap();
}

criterion_group!(benches, reconcile, record_timing, writer_throughput);
criterion_main!(benches);
