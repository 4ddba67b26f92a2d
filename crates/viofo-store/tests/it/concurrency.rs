use viofo_store::{CycleMode, Stage, Store, StoreOptions};

use crate::common::{CAM, clip, id_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_producers_never_see_busy() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::at(dir.path().join("s.db")))
        .await
        .unwrap();
    let clips: Vec<_> = (0..64).map(|i| clip(i, i64::from(i))).collect();
    store.reconcile(CAM, &clips, |_| None).await.unwrap();
    let mut ids = Vec::new();
    for c in &clips {
        ids.push(id_of(&store, &c.name).await);
    }
    let mut tasks = Vec::new();
    for (p, id) in ids.iter().copied().enumerate() {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let cycle = s
                .begin_cycle(&format!("cam-p{p}"), CycleMode::Inline)
                .await?;
            for k in 0..50i64 {
                s.record_timing(id, Stage::TailSubmitted, k);
                s.set_priority(id, k).await?;
                // Readers run beside the writer.
                s.counts(None).await?;
            }
            s.start_download(id, Some(cycle)).await?;
            Ok::<_, viofo_store::Error>(())
        }));
    }
    // Another camera's reconcile competes too.
    let s2 = store.clone();
    let other: Vec<_> = (0..2_000).map(|i| clip(i, 0)).collect();
    tasks.push(tokio::spawn(async move {
        s2.reconcile("cam-x", &other, |_| None).await.map(|_| ())
    }));
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    store.flush().await.unwrap();
    let c = store.counts(Some(CAM)).await.unwrap();
    assert_eq!(c.downloading, 64);
    assert_eq!(store.counts(Some("cam-x")).await.unwrap().pending, 2_000);
    for id in ids {
        let r = store.get(id).await.unwrap().unwrap();
        assert_eq!(r.priority, 49);
        assert_eq!(r.times.tail_submitted_at, Some(49));
        assert!(r.cycle_id.is_some());
    }
    assert_eq!(store.dropped_timings(), 0);
    store.close().await.unwrap();
}

#[tokio::test]
async fn timing_queue_cap_drops_instead_of_growing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions {
        max_queued_timings: 10,
        ..StoreOptions::at(dir.path().join("s.db"))
    })
    .await
    .unwrap();
    store.reconcile(CAM, &[clip(1, 0)], |_| None).await.unwrap();
    let id = id_of(&store, &clip(1, 0).name).await;
    // The current-thread runtime does not run the writer until we await, so
    // all 25 are queued at once: 10 fit, 15 are dropped.
    for t in 0..25 {
        store.record_timing(id, Stage::GpsFinished, t);
    }
    assert_eq!(store.dropped_timings(), 15);
    store.flush().await.unwrap();
    let r = store.get(id).await.unwrap().unwrap();
    assert_eq!(r.times.gps_finished_at, Some(9));
    // Queue drained: room again.
    store.record_timing(id, Stage::GpsFinished, 100);
    store.flush().await.unwrap();
    assert_eq!(
        store.get(id).await.unwrap().unwrap().times.gps_finished_at,
        Some(100)
    );
    store.close().await.unwrap();
}
