//! Whole cycles: pipelined and inline, the durable record before a delete,
//! recording cameras, clips appearing mid-cycle, resumed tails, shutdown.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use viofo_gps::{Format, sidecar_path};
use viofo_pipeline::{CycleMode, Event, Shutdown};
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::ClipState;

use crate::harness::{CAMERA, Hook, start_rig, wait_for};

async fn full_cycle(mode: CycleMode) {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(300_000))).await;
    let names = rig.names();
    let originals: Vec<Vec<u8>> = names
        .iter()
        .map(|n| rig.sim.clip_bytes(n).unwrap())
        .collect();
    let mut cfg = rig.config();
    cfg.tail = mode;
    cfg.delete_after_download = true;
    let summary = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();

    assert_eq!(summary.clips, 4);
    assert_eq!(summary.bytes, 4 * 300_000);
    assert_eq!(summary.deleted, 4);
    assert_eq!(summary.mode, mode);
    let mut deleted = rig.sim.deleted();
    deleted.sort();
    assert_eq!(deleted, names, "every clip deleted from the camera");
    for (name, bytes) in names.iter().zip(&originals) {
        let path = rig.assert_archived(name, bytes);
        let gpx = sidecar_path(&path, Format::Gpx);
        let text = std::fs::read_to_string(&gpx).unwrap();
        assert!(
            text.contains("<trkpt"),
            "{} has track points",
            gpx.display()
        );
        let row = rig.row(name).await;
        assert_eq!(row.state, ClipState::Done);
        assert_eq!(row.local_path.as_deref(), Some(path.as_path()));
        assert!(row.gps.as_ref().is_some_and(|g| g.points > 0), "{row:?}");
        assert!(row.deleted_from_camera_at.is_some());
        let t = row.times;
        let (fin, tail) = (t.download_finished_at.unwrap(), t.tail_finished_at.unwrap());
        assert!(
            t.download_started_at.unwrap() <= fin && fin <= tail,
            "{t:?}"
        );
        assert!(
            t.delete_finished_at.unwrap() >= t.tail_started_at.unwrap(),
            "{t:?}"
        );
    }
    // No partial file is left under any name.
    for e in walk(&rig.archive) {
        assert!(
            !e.to_string_lossy().ends_with(".part"),
            "{} left behind",
            e.display()
        );
    }
    let events = rig.events();
    assert!(matches!(events.first(), Some(Event::CycleStarted { mode: m }) if *m == mode));
    assert!(matches!(events.last(), Some(Event::CycleDone(s)) if s.clips == 4));
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_cycle_archives_every_clip_with_gps_and_deletes_it() {
    full_cycle(CycleMode::Pipelined).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_cycle_gives_the_same_result() {
    full_cycle(CycleMode::Inline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycles_are_recorded_with_their_mode() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(100_000))).await;
    let mut cfg = rig.config();
    cfg.tail = CycleMode::Inline;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    let cycle = rig
        .store
        .cycle(viofo_store::CycleId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cycle.mode, CycleMode::Inline);
    assert_eq!(cycle.camera_id, CAMERA);
}

/// Another connection holds the store's write lock from just after the
/// listing: downloads keep flowing, and no clip is deleted from the camera
/// until its archived state is durable.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn deletes_wait_for_the_durable_record_while_downloads_keep_flowing() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(200_000))).await;
    let db = rig.db.clone();
    let (listed_tx, listed_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let locked_rx = std::sync::Mutex::new(Some(locked_rx));
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::Listed { .. })
            && let Some(rx) = locked_rx.lock().unwrap().take()
        {
            listed_tx.send(()).unwrap();
            // Hold the pipeline here until the lock is taken.
            rx.recv_timeout(Duration::from_secs(30)).unwrap();
        }
    });
    let locker = tokio::spawn(async move {
        tokio::task::spawn_blocking(move || listed_rx.recv().unwrap())
            .await
            .unwrap();
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        locked_tx.send(()).unwrap();
        conn
    });
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let (syncer, mut rx) = rig.syncer_with(cfg, Some(hook));
    let cycle = tokio::spawn(async move { syncer.run_cycle(&Shutdown::new()).await });
    let mut conn = locker.await.unwrap();

    for _ in 0..3 {
        wait_for(&mut rx, |e| matches!(e, Event::ItemDone { .. })).await;
    }
    // Every download finished while the store could not commit a thing.
    assert!(
        rig.sim.deleted().is_empty(),
        "a delete ran before its record was durable"
    );
    for n in rig.names() {
        assert_eq!(
            rig.row(&n).await.state,
            ClipState::Pending,
            "{n} recorded through the lock?"
        );
    }
    sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    drop(conn);

    let summary = cycle.await.unwrap().unwrap();
    assert_eq!(summary.clips, 3);
    assert_eq!(rig.sim.deleted().len(), 3);
    for n in rig.names() {
        let row = rig.row(&n).await;
        assert_eq!(row.state, ClipState::Done);
        assert!(row.deleted_from_camera_at.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_camera_keeps_its_newest_clip_until_it_is_finished() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(2).size(100_000))
            .recording(true),
    )
    .await;
    let growing: Vec<String> = rig
        .sim
        .clips()
        .into_iter()
        .filter(|c| c.growing)
        .map(|c| c.name)
        .collect();
    assert_eq!(growing.len(), 1, "the sim records one clip");
    let growing = &growing[0];
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let syncer = rig.syncer(cfg);
    let s1 = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s1.clips, 2, "the two finished clips");
    assert!(
        !rig.in_archive(growing),
        "a clip still being written was archived"
    );
    assert!(
        !rig.sim.deleted().contains(growing),
        "a clip still being written was deleted"
    );
    assert!(rig.events().iter().any(
        |e| matches!(e, Event::ItemSkipped { name, reason } if name == growing && reason.contains("recording"))
    ));

    rig.sim.set_recording(false);
    let bytes = rig.sim.clip_bytes(growing).unwrap();
    let s2 = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s2.clips, 1);
    rig.assert_archived(growing, &bytes);
    assert!(rig.sim.deleted().contains(growing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clips_recorded_during_the_cycle_are_taken_in_the_same_cycle() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(100_000))).await;
    let sim = rig.sim.clone();
    let added = Arc::new(std::sync::Mutex::new(None::<String>));
    let added2 = added.clone();
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::ItemDone { .. }) {
            let mut a = added2.lock().unwrap();
            if a.is_none() {
                let clip = viofo_sim::ClipDef::synthetic(
                    "2025_1224_130000_000099F.MP4",
                    viofo_sim::Folder::Movie,
                    50_000,
                );
                *a = Some(sim.add_clip(clip).unwrap().name);
            }
        }
    });
    let (syncer, _rx) = rig.syncer_with(rig.config(), Some(hook));
    let s = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    let new = added.lock().unwrap().clone().unwrap();
    assert_eq!(s.clips, 3, "the clip added mid-cycle is taken too");
    rig.assert_archived(&new, &rig.sim.clip_bytes(&new).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_tail_is_resumed_not_lost() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(150_000))).await;
    let name = rig.names().remove(0);
    let bytes = rig.sim.clip_bytes(&name).unwrap();
    // A first run archived the clip and crashed before its tail ran: the
    // file is complete under its final name, the store never heard of it.
    std::fs::write(rig.archive.join(&name), &bytes).unwrap();

    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.clips, 0, "healed from the archive, not downloaded again");
    let gets: Vec<_> = rig
        .sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "GET" && r.cmd.is_none() && r.clip.as_deref() == Some(name.as_str())
        })
        .collect();
    // One read of its last 64 KiB, compared with the archived copy before
    // the delete; nothing else.
    let size = bytes.len() as u64;
    let check = (size - size.min(65_536), size.min(65_536));
    assert!(
        gets.iter().all(|g| (g.range_start, g.body_bytes) == check),
        "downloaded again: {gets:?}"
    );
    let row = rig.row(&name).await;
    assert_eq!(row.state, ClipState::Done);
    assert!(
        row.gps.is_some_and(|g| g.points > 0),
        "GPS extracted from the archived file"
    );
    assert!(sidecar_path(&rig.archive.join(&name), Format::Gpx).is_file());
    assert_eq!(rig.sim.deleted(), [name]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_finishes_the_current_download_drains_the_tail_and_starts_no_other() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(400_000))
            .bandwidth(2_000_000),
    )
    .await;
    let shutdown = Shutdown::new();
    let stopper = shutdown.clone();
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::ItemStarted { .. }) {
            stopper.stop();
        }
    });
    let (syncer, _rx) = rig.syncer_with(rig.config(), Some(hook));
    let err = syncer.run_cycle(&shutdown).await.unwrap_err();
    assert!(err.is_interrupted(), "{err}");
    let started = rig.started_order();
    assert_eq!(started.len(), 1, "no download started after the stop");
    let first = &started[0];
    let path = rig.assert_archived(first, &rig.sim.clip_bytes(first).unwrap());
    assert!(
        sidecar_path(&path, Format::Gpx).is_file(),
        "the tail drained"
    );
    assert_eq!(rig.row(first).await.state, ClipState::Done);
    let counts = rig.store.counts(Some(CAMERA)).await.unwrap();
    assert_eq!(counts.pending, 2);
    assert_eq!(counts.downloading, 0, "nothing left half-way in the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_cancels_the_download_keeping_its_part_and_the_next_run_resumes() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(1_000_000))
            .bandwidth(1_000_000),
    )
    .await;
    let name = rig.names().remove(0);
    let shutdown = Shutdown::new();
    let s2 = shutdown.clone();
    let hook: Hook = Arc::new(move |e| {
        if matches!(e, Event::ItemProgress { bytes, .. } if *bytes > 100_000) {
            s2.abort();
        }
    });
    let (syncer, _rx) = rig.syncer_with(rig.config(), Some(hook));
    let err = syncer.run_cycle(&shutdown).await.unwrap_err();
    assert!(err.is_interrupted(), "{err}");
    assert!(
        !rig.in_archive(&name),
        "a partial file under the final name"
    );
    let part = rig.archive.join(format!("{name}.part"));
    assert!(part.is_file(), "the .part is kept for resume");
    assert_eq!(rig.row(&name).await.state, ClipState::Pending);

    let s = rig
        .syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.clips, 1);
    rig.assert_archived(&name, &rig.sim.clip_bytes(&name).unwrap());
    assert!(
        rig.sim
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.range_start > 0),
        "the second run resumed with Range"
    );
}
