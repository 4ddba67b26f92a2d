//! The model refreshed from a real store, sticky errors across restarts,
//! and a real sync against the simulator feeding it.

use std::time::Duration;

use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{Shutdown, SyncConfig, Syncer};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_status::{
    NoActions, NoPersistence, ServerConfig, StatusConfig, StatusModel, StickyFile, StickyKind,
    SyncState, Throughput, cycle_bytes,
};
use viofo_store::{Channel, CycleMode, ListedClip, Store, StoreOptions};

use crate::common::{Server, client};

fn listed(name: &str, size: u64) -> ListedClip {
    ListedClip {
        name: name.into(),
        remote_path: format!("/DCIM/Movie/{name}"),
        size,
        size_exact: true,
        locked: false,
        parking: false,
        channel: Channel::Front,
        recorded_at: Some(1_766_577_804_000),
    }
}

#[tokio::test]
async fn refresh_reads_counts_failed_clips_archive_and_cycles_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let store = Store::open(StoreOptions::at(dir.path().join("viofosync.db")))
        .await
        .unwrap();
    let evil = "<script>alert(1)</script>";
    let listing = vec![
        listed("a.MP4", 1_000),
        listed("b.MP4", 2_000),
        listed(evil, 3_000),
    ];
    store.reconcile("cam-1", &listing, |_| None).await.unwrap();
    let cycle = store
        .begin_cycle("cam-1", CycleMode::Pipelined)
        .await
        .unwrap();
    let a = store.get_by_name("cam-1", "a.MP4").await.unwrap().unwrap();
    store.start_download(a.id, Some(cycle)).await.unwrap();
    store
        .finish_download(a.id, &archive.join("a.MP4"), 1_000)
        .await
        .unwrap();
    store.finish_tail(a.id).await.unwrap();
    let bad = store.get_by_name("cam-1", evil).await.unwrap().unwrap();
    store.start_download(bad.id, Some(cycle)).await.unwrap();
    store
        .fail(bad.id, "HTTP 403 <forbidden>", false)
        .await
        .unwrap();
    store
        .finish_cycle_report(
            cycle,
            viofo_store::CycleStats {
                clips: 1,
                bytes: 1_000,
                outcome: viofo_store::CycleOutcome::CompletedWithFailures,
                note: None,
            },
        )
        .await
        .unwrap();

    let status = StatusModel::new(StatusConfig::new("cam-1", &archive), NoPersistence);
    status.refresh(&store).await.unwrap();
    let s = status.snapshot();
    assert_eq!((s.queue.pending, s.queue.done, s.queue.failed), (1, 1, 1));
    assert_eq!((s.archive.bytes, s.archive.clips), (1_000, 1));
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.failed[0].clip, evil);
    assert_eq!(s.failed[0].reason.as_deref(), Some("HTTP 403 <forbidden>"));
    assert_eq!(s.last_cycles.len(), 1);
    assert_eq!(
        s.last_cycles[0].outcome.as_deref(),
        Some("completed_with_failures")
    );
    let disk = s.disk.expect("the archive's filesystem was read");
    assert!(disk.total_bytes > 0 && disk.used_bytes <= disk.total_bytes);
    // A failed clip is a sticky error, so the state is error.
    assert_eq!(s.state, SyncState::Error);
    assert_eq!(s.errors[0].kind, StickyKind::ClipsFailed);
    let metrics = status.render_metrics();
    assert!(
        metrics.contains("viofosync_queue_clips{state=\"failed\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("viofosync_archive_bytes 1000\n"),
        "{metrics}"
    );

    // The page lists the failed clip and its reason, escaped.
    let srv = Server::start_with(ServerConfig::default(), status.clone(), NoActions).await;
    let html = client()
        .get(srv.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>HTTP 403 &lt;forbidden&gt;</td>"
        ),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    srv.stop().await;

    // Retried and gone: the sticky error clears with the condition.
    store.retry_failed(Some("cam-1")).await.unwrap();
    status.refresh(&store).await.unwrap();
    let s = status.snapshot();
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.state, SyncState::Waiting);
    store.close().await.unwrap();
}

/// The last cycles are the camera's own, even when another camera ran
/// more cycles since than the model keeps.
#[tokio::test]
async fn last_cycles_are_the_cameras_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::at(dir.path().join("viofosync.db")))
        .await
        .unwrap();
    let ours = store.begin_cycle("cam-1", CycleMode::Inline).await.unwrap();
    let mut cfg = StatusConfig::new("cam-1", dir.path());
    cfg.cycles_limit = 3;
    for _ in 0..cfg.cycles_limit + 2 {
        store
            .begin_cycle("cam-2", CycleMode::Pipelined)
            .await
            .unwrap();
    }
    let status = StatusModel::new(cfg, NoPersistence);
    status.refresh(&store).await.unwrap();
    let s = status.snapshot();
    assert_eq!(
        s.last_cycles.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ours.0],
        "{:?}",
        s.last_cycles
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn sticky_errors_survive_a_restart_and_clear_with_their_condition() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("viofosync.db");
    let archive = dir.path().join("missing-archive");
    let store = Store::open(StoreOptions::at(&db)).await.unwrap();
    let status = StatusModel::new(
        StatusConfig::new("cam-1", &archive),
        StickyFile::beside(&db),
    );
    status.set_error(StickyKind::DiskFull, "disk full: 100% used");
    // The refresh finds the archive missing and saves both.
    status.refresh(&store).await.unwrap();
    let first = status.snapshot().errors;
    let kinds: Vec<_> = first.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [StickyKind::DiskFull, StickyKind::ArchiveUnwritable]);
    assert!(
        first[1].message.contains("does not exist"),
        "{}",
        first[1].message
    );
    assert!(dir.path().join("viofosync.status.json").is_file());
    drop(status);

    // A new process: the errors are back, with their times.
    let status = StatusModel::new(
        StatusConfig::new("cam-1", &archive),
        StickyFile::beside(&db),
    );
    assert_eq!(status.snapshot().errors, first);
    assert_eq!(status.snapshot().state, SyncState::Error);
    assert!(
        status
            .render_metrics()
            .contains("viofosync_sticky_error{kind=\"disk_full\"} 1\n")
    );

    // The archive appears: that error clears, the disk-full one stays.
    std::fs::create_dir(&archive).unwrap();
    status.refresh(&store).await.unwrap();
    let kinds: Vec<_> = status.snapshot().errors.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [StickyKind::DiskFull]);
    let reread = StickyFile::beside(&db);
    let saved = viofo_status::StickyStore::load(&reread).unwrap();
    assert_eq!(saved.len(), 1, "the clearing was saved too");
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_sync_against_the_simulator_shows_on_every_surface() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(200_000)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let store = Store::open(StoreOptions::at(dir.path().join("state.db")))
        .await
        .unwrap();
    let mut cfg = StatusConfig::new("sim-cam", &archive);
    cfg.min_refresh_gap = Duration::from_millis(10);
    let status = StatusModel::new(cfg, NoPersistence);
    // The first read: what the store held before this process is history.
    status.refresh(&store).await.unwrap();
    assert_eq!(status.snapshot().last_journey, None, "no journey yet");
    let (stop_refresh, refresh_stopped) = tokio::sync::oneshot::channel::<()>();
    let refresher = tokio::spawn({
        let status = status.clone();
        let store = store.clone();
        async move {
            status
                .run_refresh(store, async {
                    let _ = refresh_stopped.await;
                })
                .await;
        }
    });
    let srv = Server::start_with(ServerConfig::default(), status.clone(), NoActions).await;

    let client_cfg = ClientConfig::new(sim.base_url());
    let mut sync_cfg = SyncConfig::new("sim-cam", &archive);
    sync_cfg.max_used_disk = None;
    let syncer = Syncer::new(
        Client::new(client_cfg).unwrap(),
        store.clone(),
        sync_cfg,
        status.clone(),
    )
    .unwrap();
    let summary = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(summary.clips, 3);
    // The cycle's end asked the refresh task for a full read; this one
    // makes sure it happened before the checks (the tail stages are
    // observed once whichever read comes first).
    status.refresh(&store).await.unwrap();

    let s: serde_json::Value = serde_json::from_str(
        &client()
            .get(srv.url("/api/status"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(s["state"], "waiting");
    assert_eq!(s["camera"]["online"], true);
    assert_eq!(
        s["queue"]["done"].as_u64().unwrap() + s["queue"]["downloaded"].as_u64().unwrap(),
        3
    );
    assert_eq!(s["archive"]["clips"], 3);
    assert_eq!(s["last_cycles"][0]["outcome"], "completed");
    assert_eq!(s["last_cycles"][0]["clips"], 3);
    // The clips' GPS made a journey: the newest one, in brief (what Home
    // Assistant's "last journey" entities show).
    let j = &s["last_journey"];
    assert!(
        j["started_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{j}"
    );
    assert!(j["ended_at"].as_str() > j["started_at"].as_str(), "{j}");
    assert!(j["distance_m"].as_f64().is_some_and(|d| d > 0.0), "{j}");
    let metrics = client()
        .get(srv.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let total: u64 = sim.clips().iter().map(|c| c.size).sum();
    for line in [
        "viofosync_clips_archived_total 3".to_owned(),
        format!("viofosync_downloaded_bytes_total {total}"),
        "viofosync_cycles_total{outcome=\"completed\"} 1".to_owned(),
        "viofosync_camera_online 1".to_owned(),
        "viofosync_download_duration_seconds_count 3".to_owned(),
        "viofosync_download_gap_seconds_count 2".to_owned(),
        "viofosync_tail_stage_duration_seconds_count{stage=\"tail_run\"} 3".to_owned(),
        "viofosync_queue_clips{state=\"pending\"} 0".to_owned(),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }
    srv.stop().await;
    let _ = stop_refresh.send(());
    refresher.await.unwrap();
    store.close().await.unwrap();
    sim.shutdown().await;
}

/// The one speed and time-left rule the page and the terminal share: no
/// speed before 0.2 s or a byte, the time left rounded up, none without a
/// total, 0 past it, saturating instead of overflowing.
#[test]
fn throughput_says_speed_and_time_left_once_it_can() {
    let t = |done, total, ms| Throughput::of(done, total, Duration::from_millis(ms));
    let s = |bps: f64, eta| Throughput {
        bytes_per_sec: Some(bps),
        eta_secs: eta,
    };
    assert_eq!(t(1_000, Some(3_000), 2_000), s(500.0, Some(4)));
    assert_eq!(t(1_000, Some(2_001), 1_000), s(1_000.0, Some(2)));
    assert_eq!(t(1_000, None, 2_000), s(500.0, None));
    assert_eq!(t(5_000, Some(4_000), 1_000), s(5_000.0, Some(0)));
    assert_eq!(t(1_000, Some(3_000), 199), Throughput::default());
    assert_eq!(t(0, Some(3_000), 5_000), Throughput::default());
    assert_eq!(t(1_000, Some(3_000), 200).bytes_per_sec, Some(5_000.0));
    let slow = Throughput::of(1, Some(u64::MAX), Duration::from_secs(u64::MAX));
    assert_eq!(slow.eta_secs, Some(u64::MAX));
}

/// The one rule for a running cycle's bytes the page and the terminal
/// share: done is archived plus what the downloads have; the total waits
/// for the pending sizes, counts each download at its expected size but
/// never below what it has, and saturates instead of overflowing.
#[test]
fn a_cycle_counts_its_bytes_done_of_total() {
    // (archived, in flight, pending) -> (done, total)
    type Case = (
        u64,
        &'static [(u64, Option<u64>)],
        Option<u64>,
        (u64, Option<u64>),
    );
    let cases: &[Case] = &[
        (0, &[], None, (0, None)),
        (0, &[], Some(0), (0, Some(0))),
        (1_000, &[], None, (1_000, None)),
        (1_000, &[(400, Some(1_000))], None, (1_400, None)),
        (
            1_000,
            &[(400, Some(1_000))],
            Some(5_000),
            (1_400, Some(7_000)),
        ),
        // A download whose size is not known yet counts what it has.
        (
            0,
            &[(300, None), (100, Some(200))],
            Some(0),
            (400, Some(500)),
        ),
        // A clip that grew past its listed size: the total follows it.
        (0, &[(1_500, Some(1_000))], Some(0), (1_500, Some(1_500))),
        (
            u64::MAX,
            &[(10, Some(20))],
            Some(1),
            (u64::MAX, Some(u64::MAX)),
        ),
    ];
    for (archived, in_flight, pending, want) in cases {
        assert_eq!(
            cycle_bytes(*archived, in_flight.iter().copied(), *pending),
            *want,
            "{archived} {in_flight:?} {pending:?}"
        );
    }
}
