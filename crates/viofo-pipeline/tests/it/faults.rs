//! The camera misbehaving: dropped bodies, leaving, stale paths, refusals.

use std::sync::Arc;
use std::time::Duration;

use viofo_pipeline::{DeleteOutcome, Event, Shutdown};
use viofo_sim::{ClipSpec, Fault, SimConfig, Target};
use viofo_store::ClipState;

use crate::harness::{Hook, start_rig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dropped_mid_download_resumes_in_the_same_cycle() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(400_000))).await;
    rig.sim
        .inject(Fault::drop_after(150_000).on(Target::Download).times(1));
    let s = rig
        .syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.clips, 2);
    assert_eq!(s.failed, 0, "failed counts clips left failed, not attempts");
    assert_eq!(s.outcome, viofo_pipeline::CycleOutcome::Completed);
    for n in rig.names() {
        rig.assert_archived(&n, &rig.sim.clip_bytes(&n).unwrap());
    }
    assert!(
        rig.sim
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.range_start > 0),
        "the retry resumed from the .part"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_leaving_mid_download_ends_the_cycle_and_a_later_one_finishes() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(300_000))
            .bandwidth(600_000),
    )
    .await;
    let sim = rig.sim.clone();
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::ItemProgress { bytes, .. } if *bytes > 50_000) && !sim.is_offline() {
            sim.go_offline(Duration::from_secs(3600));
        }
    });
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let (syncer, _rx) = rig.syncer_with(cfg.clone(), Some(hook));
    let err = syncer.run_cycle(&Shutdown::new()).await.unwrap_err();
    assert!(err.is_offline(), "{err}");
    assert!(
        rig.events()
            .iter()
            .any(|e| matches!(e, Event::CameraOffline { .. }))
    );
    assert!(rig.sim.deleted().is_empty());
    for n in rig.names() {
        assert!(
            !rig.in_archive(&n),
            "{n} archived while the camera was away"
        );
        let row = rig.row(&n).await;
        assert_eq!(row.state, ClipState::Pending, "{n}");
        assert_eq!(
            row.attempts, 0,
            "the camera leaving is not the clip's failure"
        );
    }

    rig.sim.go_online();
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.clips, 3);
    for n in rig.names() {
        rig.assert_archived(&n, &rig.sim.clip_bytes(&n).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_camera_ends_the_cycle_cleanly() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1))).await;
    rig.sim.go_offline(Duration::from_secs(3600));
    let err = rig
        .syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap_err();
    assert!(err.is_offline(), "{err}");
    let done = rig.events().into_iter().find_map(|e| match e {
        Event::CycleDone(s) => Some(s),
        _ => None,
    });
    assert_eq!(
        done.map(|s| s.outcome),
        Some(viofo_pipeline::CycleOutcome::CameraLost)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_locked_mid_cycle_is_fetched_from_its_new_path() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(100_000))).await;
    let names = rig.names();
    let last = names[1].clone();
    let sim = rig.sim.clone();
    let target = last.clone();
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::Listed { .. }) && !sim.clip(&target).unwrap().locked {
            assert!(sim.lock_clip(&target));
        }
    });
    let (syncer, _rx) = rig.syncer_with(rig.config(), Some(hook));
    let s = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.clips, 2);
    rig.assert_archived(&last, &rig.sim.clip_bytes(&last).unwrap());
    let row = rig.row(&last).await;
    assert!(row.locked && row.remote_path.contains("/RO/"), "{row:?}");
    assert_eq!(row.state, ClipState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delete_is_stored_and_the_clip_stays_archived() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(100_000))).await;
    rig.sim.inject(Fault::refuse_delete(-1).always());
    let name = rig.names().remove(0);
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!((s.clips, s.deleted), (1, 0));
    rig.assert_archived(&name, &rig.sim.clip_bytes(&name).unwrap());
    assert!(rig.events().iter().any(|e| matches!(
        e,
        Event::Delete {
            outcome: DeleteOutcome::Refused { .. },
            ..
        }
    )));
    let row = rig.row(&name).await;
    assert!(row.deleted_from_camera_at.is_none());
    assert!(
        row.delete_outcome
            .as_deref()
            .is_some_and(|o| o.contains("refused")),
        "{row:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_moves_on_to_the_next_clip() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(500_000))
            .bandwidth(2_000_000),
    )
    .await;
    let handle: Arc<std::sync::OnceLock<viofo_pipeline::Syncer>> = Arc::default();
    let h2 = handle.clone();
    let skipped = Arc::new(std::sync::Mutex::new(None::<String>));
    let sk2 = skipped.clone();
    let hook: Hook = Arc::new(move |e| {
        if let Event::ItemStarted { name, .. } = e {
            let mut s = sk2.lock().unwrap();
            if s.is_none() {
                *s = Some(name.clone());
                h2.get().unwrap().skip_current();
            }
        }
    });
    let (syncer, _rx) = rig.syncer_with(rig.config(), Some(hook));
    handle.set(syncer.clone()).unwrap();
    let s = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    let skipped = skipped.lock().unwrap().clone().unwrap();
    assert_eq!(s.clips, 2, "the other clips were downloaded");
    assert!(!rig.in_archive(&skipped));
    let started = rig.started_order();
    assert_eq!(
        started.iter().filter(|n| **n == skipped).count(),
        1,
        "not restarted: {started:?}"
    );
    assert_eq!(
        rig.row(&skipped).await.state,
        ClipState::Pending,
        "taken again next cycle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_that_cannot_be_written_leaves_the_tail_for_the_next_run() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(300_000))).await;
    let names = rig.names();
    // A directory where the first clip's GPX sidecar belongs: the atomic
    // rename onto it fails with an I/O error, as a full disk would.
    let blocked = rig.archive.join(format!("{}.gpx", names[0]));
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let s = rig
        .syncer(cfg.clone())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!((s.clips, s.deleted), (2, 1), "{s:?}");
    let first = rig.row(&names[0]).await;
    assert_eq!(first.state, ClipState::Downloaded, "tail left unfinished");
    assert!(first.gps.is_none());
    assert!(
        first.deleted_from_camera_at.is_none(),
        "kept on the camera until its tail finishes"
    );
    assert!(rig.sim.clip_bytes(&names[0]).is_some());
    let second = rig.row(&names[1]).await;
    assert_eq!(second.state, ClipState::Done);
    assert!(second.gps.is_some());

    // Once the obstacle is gone, the next run resumes the tail from the
    // archived file: the sidecar appears and the row is done.
    std::fs::remove_dir_all(&blocked).unwrap();
    // What a run killed mid-write would have left beside it.
    let leftover = rig.archive.join(format!(".{}.gpx.tmp99999", names[0]));
    std::fs::write(&leftover, b"<gpx").unwrap();
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert!(!leftover.exists(), "the resumed tail cleans up");
    assert_eq!((s.clips, s.deleted), (0, 1), "nothing downloaded again");
    let first = rig.row(&names[0]).await;
    assert_eq!(first.state, ClipState::Done);
    assert!(first.deleted_from_camera_at.is_some());
    assert!(rig.sim.clip_bytes(&names[0]).is_none());
    assert!(first.gps.is_some_and(|g| g.points > 0));
    let gpx = std::fs::read_to_string(&blocked).unwrap();
    assert!(gpx.contains("<trkpt"), "{gpx}");
    assert_eq!(
        rig.sim
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.target == format!("/DCIM/Movie/{}", names[0]))
            // (the pre-delete comparison of its last 64 KiB is not a fetch)
            .filter(|r| r.range_start == 0)
            .count(),
        1,
        "the clip was not fetched twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_request_that_fails_is_asked_again_next_run() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(100_000))).await;
    let name = rig.names().remove(0);
    rig.sim.inject(Fault::reset().on(Target::Delete).times(1));
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let s = rig
        .syncer(cfg.clone())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!((s.clips, s.deleted), (1, 0));
    rig.assert_archived(&name, &rig.sim.clip_bytes(&name).unwrap());
    let row = rig.row(&name).await;
    assert_eq!(
        row.state,
        ClipState::Downloaded,
        "tail left for the next run"
    );
    assert!(!row.delete_decided(), "{row:?}");

    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!((s.clips, s.deleted), (0, 1));
    let row = rig.row(&name).await;
    assert_eq!(row.state, ClipState::Done);
    assert!(row.deleted_from_camera_at.is_some());
    assert!(rig.sim.clip_bytes(&name).is_none());
}

/// A clip whose final name cannot be taken (here: a folder is in the way,
/// as a share turned read-only or full would refuse the rename) after its
/// bytes arrived: it is not recorded archived, the cycle says it stopped,
/// its complete `.part` stays, and once the obstacle is gone the next run
/// finishes it without asking the camera for its bytes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_that_cannot_take_its_name_stops_the_cycle_and_keeps_its_part() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(200_000))).await;
    let names = rig.names();
    let blocked = rig.archive.join(&names[0]);
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;

    let e = rig.cycle(cfg.clone()).await.unwrap_err();
    assert!(!e.is_offline(), "a local failure, said as one: {e:#}");
    let first = rig.row(&names[0]).await;
    assert_eq!(first.state, ClipState::Pending, "not recorded archived");
    assert!(rig.sim.clip_bytes(&names[0]).is_some(), "never deleted");
    let part = rig.archive.join(format!("{}.part", names[0]));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 200_000);

    std::fs::remove_dir_all(&blocked).unwrap();
    let before = rig.sim.requests().len();
    rig.cycle(cfg).await.unwrap();
    assert_eq!(rig.row(&names[0]).await.state, ClipState::Done);
    assert_eq!(
        std::fs::read(rig.archive.join(&names[0])).unwrap().len(),
        200_000
    );
    assert!(!part.exists());
    // The complete .part was finished without its bytes again: one read
    // of its last 64 KiB showed it is the camera's.
    let reads: Vec<_> = rig.sim.requests()[before..]
        .iter()
        .filter(|r| r.method == "GET" && r.cmd.is_none())
        .filter(|r| r.clip.as_deref() == Some(names[0].as_str()))
        .map(|r| (r.range_start, r.body_bytes))
        .collect();
    assert!(reads.contains(&(200_000 - 65_536, 65_536)), "{reads:?}");
    assert!(
        reads.iter().map(|r| r.1).sum::<u64>() < 200_000,
        "not its bytes again: {reads:?}"
    );
}
