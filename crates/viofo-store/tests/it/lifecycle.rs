use std::path::Path;

use viofo_store::{
    ClipState, CycleMode, DeleteOutcome, FailOutcome, Filter, GpsSummary, Policy, Store,
    StoreOptions,
};

use crate::common::{CAM, clip, fixture, id_of, options};

#[tokio::test]
async fn happy_path_and_illegal_moves() {
    let f = fixture().await;
    let s = &f.store;
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(s, &c.name).await;

    // pending: not downloaded yet, so no finish/tail/gps/delete.
    let e = s
        .finish_download(id, Path::new("/a/x.mp4"), 1)
        .await
        .unwrap_err();
    assert!(e.is_illegal_transition(), "{e}");
    assert_eq!(e.current_state(), Some(ClipState::Pending));
    assert!(s.finish_tail(id).await.unwrap_err().is_illegal_transition());
    assert!(
        s.set_gps(id, GpsSummary::default())
            .await
            .unwrap_err()
            .is_illegal_transition()
    );
    let e = s
        .record_delete(id, DeleteOutcome::Confirmed)
        .await
        .unwrap_err();
    assert!(e.is_illegal_transition(), "{e}");
    assert!(s.release(id).await.unwrap_err().is_illegal_transition());

    let cycle = s.begin_cycle(CAM, CycleMode::Pipelined).await.unwrap();
    s.start_download(id, Some(cycle)).await.unwrap();
    assert!(
        s.start_download(id, None)
            .await
            .unwrap_err()
            .is_illegal_transition()
    );
    s.finish_download(id, Path::new("/archive/x.mp4"), c.size)
        .await
        .unwrap();
    let gps = GpsSummary {
        points: 60,
        first_fix_ms: Some(10),
        last_fix_ms: Some(59_010),
        distance_m: 812.5,
        bbox: Some([-123.1, 49.3, -123.0, 49.4]),
        max_speed_mps: 13.5,
    };
    s.set_gps(id, gps.clone()).await.unwrap();
    assert!(!s.get(id).await.unwrap().unwrap().delete_decided());
    // A passing reason is stored but decides nothing: the tail stays open.
    let waiting = DeleteOutcome::Waiting {
        reason: "may still be recording".to_owned(),
    };
    assert!(!waiting.is_decided());
    s.record_delete(id, waiting).await.unwrap();
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(
        row.delete_outcome.as_deref(),
        Some("waiting: may still be recording")
    );
    assert!(!row.delete_decided());
    assert_eq!(row.state, ClipState::Downloaded);
    assert_eq!(s.unfinished_tails(Some(CAM)).await.unwrap().len(), 1);
    s.record_delete(id, DeleteOutcome::Refused { status: -1 })
        .await
        .unwrap();
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(row.deleted_from_camera_at, None);
    assert_eq!(row.delete_outcome.as_deref(), Some("refused: status -1"));
    assert!(row.delete_decided());
    s.record_delete(id, DeleteOutcome::Confirmed).await.unwrap();
    s.finish_tail(id).await.unwrap();

    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Done);
    assert_eq!(row.gps, Some(gps));
    assert_eq!(row.cycle_id, Some(cycle));
    assert_eq!(row.local_path.as_deref(), Some(Path::new("/archive/x.mp4")));
    assert_eq!(row.local_size, Some(c.size));
    assert!(row.deleted_from_camera_at.is_some());

    // done can never go back to downloading, nor be finished again.
    let e = s.start_download(id, None).await.unwrap_err();
    assert!(e.is_illegal_transition());
    assert_eq!(e.current_state(), Some(ClipState::Done));
    assert!(s.finish_tail(id).await.unwrap_err().is_illegal_transition());
    assert!(
        s.fail(id, "x", true)
            .await
            .unwrap_err()
            .is_illegal_transition()
    );

    // Unknown ids and cycles.
    let e = s
        .start_download(viofo_store::ClipId(999_999), None)
        .await
        .unwrap_err();
    assert!(e.is_not_found());
    let c2 = clip(2, 1);
    s.reconcile(CAM, &[c.clone(), c2.clone()], |_| None)
        .await
        .unwrap();
    let id2 = id_of(s, &c2.name).await;
    let e = s
        .start_download(id2, Some(viofo_store::CycleId(4242)))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(s.get(id2).await.unwrap().unwrap().state, ClipState::Pending);
    s.close().await.unwrap();
    assert!(s.flush().await.unwrap_err().is_closed());
}

#[tokio::test]
async fn failures_count_attempts_then_defer_and_retry_requeues() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(StoreOptions {
        max_attempts: 3,
        ..options(&dir)
    })
    .await
    .unwrap();
    let c = clip(1, 0);
    s.reconcile(CAM, std::slice::from_ref(&c), |_| None)
        .await
        .unwrap();
    let id = id_of(&s, &c.name).await;
    for expect in [
        FailOutcome::RetryNow { attempts: 1 },
        FailOutcome::RetryNow { attempts: 2 },
        FailOutcome::Deferred { deferrals: 1 },
    ] {
        s.start_download(id, None).await.unwrap();
        let got = s
            .fail_with_outcome(id, "connection reset", true)
            .await
            .unwrap();
        assert_eq!(got, expect);
        assert_eq!(got.state(), ClipState::Pending);
    }
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.attempts, row.deferrals),
        (ClipState::Pending, 0, 1)
    );
    assert_eq!(row.deferred_in, None, "deferred before any cycle existed");
    assert_eq!(row.last_error.as_deref(), Some("connection reset"));

    // release does not count an attempt.
    s.start_download(id, None).await.unwrap();
    s.release(id).await.unwrap();
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (ClipState::Pending, 0));

    // A non-retryable error fails at once, and stays failed.
    s.start_download(id, None).await.unwrap();
    assert_eq!(s.fail(id, "404", false).await.unwrap(), ClipState::Failed);
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (ClipState::Failed, 1));
    assert!(
        s.start_download(id, None)
            .await
            .unwrap_err()
            .is_illegal_transition()
    );
    assert_eq!(s.retry_failed(Some("other-camera")).await.unwrap(), 0);
    assert_eq!(s.retry_failed(None).await.unwrap(), 1);
    let counts = s.counts(Some(CAM)).await.unwrap();
    assert_eq!((counts.pending, counts.failed, counts.total()), (1, 0, 1));
    assert_eq!(s.get(id).await.unwrap().unwrap().attempts, 0);
    s.close().await.unwrap();
}

#[tokio::test]
async fn policies_order_and_filters() {
    let f = fixture().await;
    let s = &f.store;
    let mut a = clip(1, 0); // oldest
    let mut b = clip(2, 10);
    b.locked = true;
    b.remote_path = format!("/DCIM/Movie/RO/{}", b.name);
    let mut c = clip(3, 20);
    c.parking = true;
    let mut d = clip(4, 30); // newest
    d.channel = viofo_store::Channel::Rear;
    a.recorded_at = Some(crate::common::T0);
    s.reconcile(CAM, &[d.clone(), b.clone(), a.clone(), c.clone()], |_| None)
        .await
        .unwrap();
    let now = crate::common::T0 + 35 * 60_000;
    let pick = |policy, filter: Filter<'static>| {
        let s = s.clone();
        async move {
            s.next_pending_at(CAM, policy, &filter, now)
                .await
                .unwrap()
                .map(|r| r.name)
        }
    };
    let all = Filter::default();
    assert_eq!(pick(Policy::OldestFirst, all).await, Some(a.name.clone()));
    assert_eq!(pick(Policy::NewestFirst, all).await, Some(d.name.clone()));
    assert_eq!(pick(Policy::LockedFirst, all).await, Some(b.name.clone()));
    // "now" = T0 + 70 min: the last hour starts at T0 + 10 min.
    let later = now + 35 * 60_000;
    let r = s
        .next_pending_at(CAM, Policy::RecentFirst { hours: 1 }, &all, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        r.name, b.name,
        "b at +10 min is the oldest clip inside the window"
    );
    let r = s
        .next_pending_at(
            CAM,
            Policy::RecentFirst { hours: 1 },
            &all,
            later + 5 * 60_000,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        r.name, c.name,
        "window starts at +15 min: c, d recent; c first"
    );

    let locked_only = Filter {
        locked_only: true,
        ..Filter::default()
    };
    assert_eq!(
        pick(Policy::NewestFirst, locked_only).await,
        Some(b.name.clone())
    );
    let no_parking = Filter {
        include_parking: false,
        ..Filter::default()
    };
    let rear: &'static [viofo_store::Channel] = &[viofo_store::Channel::Rear];
    let only_rear = Filter {
        channels: rear,
        ..Filter::default()
    };
    assert_eq!(
        pick(Policy::OldestFirst, only_rear).await,
        Some(d.name.clone())
    );
    // Exclusions (skipped this cycle) and parking filter.
    let ida = id_of(s, &a.name).await;
    let idb = id_of(s, &b.name).await;
    // Far more ids than SQLite's bound-parameter limit.
    let mut big: Vec<viofo_store::ClipId> = (100_000..140_000).map(viofo_store::ClipId).collect();
    big.extend([ida, idb]);
    let excl: &'static [viofo_store::ClipId] = Box::leak(big.into_boxed_slice());
    let f2 = Filter {
        exclude: excl,
        include_parking: false,
        ..Filter::default()
    };
    assert_eq!(pick(Policy::OldestFirst, f2).await, Some(d.name.clone()));
    assert_eq!(
        pick(Policy::OldestFirst, no_parking).await,
        Some(a.name.clone())
    );

    // Priority beats every policy.
    let idd = id_of(s, &d.name).await;
    let idc = id_of(s, &c.name).await;
    s.set_priority(idc, 5).await.unwrap();
    assert_eq!(pick(Policy::LockedFirst, all).await, Some(c.name.clone()));
    // Only pending clips are offered.
    s.start_download(idc, None).await.unwrap();
    s.start_download(ida, None).await.unwrap();
    assert_eq!(pick(Policy::OldestFirst, all).await, Some(b.name.clone()));
    s.start_download(idb, None).await.unwrap();
    s.start_download(idd, None).await.unwrap();
    assert_eq!(pick(Policy::OldestFirst, all).await, None);
}

#[test]
fn crash_recovery_resumes_downloads_and_tails() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String>;
    {
        // First run, then a "crash": the runtime (and the writer task with
        // it) is dropped without close.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        names = rt.block_on(async {
            let s = Store::open(options(&dir)).await.unwrap();
            let clips: Vec<_> = (1..=4).map(|i| clip(i, i64::from(i))).collect();
            s.reconcile(CAM, &clips, |_| None).await.unwrap();
            let ids: Vec<_> = futures_ids(&s, &clips).await;
            // 1: downloading; 2: downloaded, tail unfinished; 3: done; 4: pending.
            s.start_download(ids[0], None).await.unwrap();
            s.start_download(ids[1], None).await.unwrap();
            s.finish_download(ids[1], Path::new("/archive/2.mp4"), clips[1].size)
                .await
                .unwrap();
            s.start_download(ids[2], None).await.unwrap();
            s.finish_download(ids[2], Path::new("/archive/3.mp4"), clips[2].size)
                .await
                .unwrap();
            s.finish_tail(ids[2]).await.unwrap();
            clips.into_iter().map(|c| c.name).collect()
        });
        drop(rt);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Store::open(options(&dir)).await.unwrap();
        assert_eq!(s.recovery().returned_to_pending, 1);
        assert_eq!(s.recovery().unfinished_tails, 1);
        let r1 = s.get_by_name(CAM, &names[0]).await.unwrap().unwrap();
        assert_eq!((r1.state, r1.attempts), (ClipState::Pending, 0));
        let tails = s.unfinished_tails(Some(CAM)).await.unwrap();
        assert_eq!(tails.len(), 1);
        assert_eq!(tails[0].name, names[1]);
        assert_eq!(
            tails[0].local_path.as_deref(),
            Some(Path::new("/archive/2.mp4"))
        );
        let counts = s.counts(None).await.unwrap();
        assert_eq!((counts.pending, counts.downloaded, counts.done), (2, 1, 1));
        s.finish_tail(tails[0].id).await.unwrap();
        s.close().await.unwrap();
    });
}

async fn futures_ids(s: &Store, clips: &[viofo_store::ListedClip]) -> Vec<viofo_store::ClipId> {
    let mut v = Vec::new();
    for c in clips {
        v.push(id_of(s, &c.name).await);
    }
    v
}

#[tokio::test]
async fn opens_an_empty_file_and_refuses_a_db_inside_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let s = Store::open(StoreOptions::at(&path)).await.unwrap();
    assert_eq!(s.counts(None).await.unwrap().total(), 0);
    s.reconcile(CAM, &[clip(1, 0)], |_| None).await.unwrap();
    s.close().await.unwrap();
    // Reopen: migrations are not re-run destructively.
    let s = Store::open(StoreOptions::at(&path)).await.unwrap();
    assert_eq!(s.counts(None).await.unwrap().pending, 1);
    s.close().await.unwrap();

    let rec = dir.path().join("recordings");
    std::fs::create_dir(&rec).unwrap();
    let err = Store::open(StoreOptions {
        recordings_dir: Some(rec.clone()),
        ..StoreOptions::at(rec.join("state").join("viofosync.db"))
    })
    .await
    .unwrap_err();
    assert!(err.is_inside_recordings(), "{err}");
    assert!(err.to_string().contains("--state-db"));
    assert!(
        !rec.join("state").exists(),
        "nothing created inside the archive"
    );
}

#[tokio::test]
async fn injected_shutdown_drains_queue_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let token = tokio_util_token();
    let s = Store::open(StoreOptions {
        shutdown: Some(token.clone()),
        ..options(&dir)
    })
    .await
    .unwrap();
    s.reconcile(CAM, &[clip(1, 0)], |_| None).await.unwrap();
    let id = id_of(&s, &clip(1, 0).name).await;
    let queued = s.start_download(id, None);
    for t in 0..100 {
        s.record_timing(id, viofo_store::Stage::DownloadStarted, t);
    }
    token.cancel();
    queued.await.unwrap();
    // The writer stops after draining: later commands fail as closed.
    let mut closed = false;
    for _ in 0..1000 {
        match s.flush().await {
            Err(e) if e.is_closed() => {
                closed = true;
                break;
            }
            Ok(()) => tokio::task::yield_now().await,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(closed);
    let row = s.get(id).await.unwrap().unwrap();
    assert_eq!(row.state, ClipState::Downloading);
    assert_eq!(row.times.download_started_at, Some(99));
}

fn tokio_util_token() -> tokio_util::sync::CancellationToken {
    tokio_util::sync::CancellationToken::new()
}
