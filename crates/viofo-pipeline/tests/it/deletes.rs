//! The delete rule against a camera that behaves like real firmware: a clip
//! locked while it downloads, a newest clip that keeps growing, an
//! ambiguous delete answer; the archive checked before anything; photos.

use viofo_pipeline::{CycleOutcome, Shutdown};
use viofo_sim::{ClipDef, ClipSpec, Fault, Folder, LockStyle, SimConfig, Target};
use viofo_store::ClipState;

use crate::harness::{Rig, start_rig};

fn deleting(rig: &Rig) -> viofo_pipeline::SyncConfig {
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg
}

/// Issue 10 item 1: the lock button pressed while a clip downloads (moved
/// to RO, or ATTR 33 in place): the copy is archived, the clip is never
/// deleted, the reason is stored; the other clips are deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_locked_while_it_downloads_is_never_deleted() {
    for style in [LockStyle::MoveToRo, LockStyle::AttrInPlace] {
        let rig =
            start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(60_000))).await;
        let names = rig.names();
        let bytes = rig.sim.clip_bytes(&names[0]).unwrap();
        assert!(rig.sim.lock_on_download_with(&names[0], style));
        let s = rig
            .syncer(deleting(&rig))
            .run_cycle(&Shutdown::new())
            .await
            .unwrap();
        assert_eq!(s.clips, 3, "{style:?}");
        rig.assert_archived(&names[0], &bytes);
        let deleted = rig.sim.deleted();
        assert!(!deleted.contains(&names[0]), "{style:?}: {deleted:?}");
        assert!(rig.sim.clip(&names[0]).is_some_and(|c| c.locked));
        for n in &names[1..] {
            assert!(deleted.contains(n), "{style:?}: {n} deleted");
        }
        rig.store.flush().await.unwrap();
        let row = rig.row(&names[0]).await;
        assert!(
            row.delete_outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("skipped") && o.contains("locked")),
            "{style:?}: {row:?}"
        );
        assert_eq!(row.state, ClipState::Done);
    }
}

/// Issue 10 item 2: the newest clip keeps growing while the camera says it
/// is not recording. It is never deleted while its listed size differs
/// from the archived copy, and its tail stays open or its copy requeued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newest_clip_that_keeps_growing_is_never_deleted() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(60_000))).await;
    let names = rig.names();
    let newest = names[2].clone();
    assert!(rig.sim.set_growth_per_listing(&newest, 4096));
    for _ in 0..2 {
        rig.syncer(deleting(&rig))
            .run_cycle(&Shutdown::new())
            .await
            .unwrap();
        let deleted = rig.sim.deleted();
        assert!(!deleted.contains(&newest), "{deleted:?}");
    }
    let deleted = rig.sim.deleted();
    assert!(deleted.contains(&names[0]) && deleted.contains(&names[1]));
}

/// A newest clip that grew once after its download is not deleted on the
/// old copy; once it stops growing it is fetched again as a recording of
/// its own (`~2`), the old copy kept, and the clip deleted from the camera
/// is byte for byte the archived one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_that_grew_after_its_download_is_fetched_again_before_any_delete() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(60_000))).await;
    let names = rig.names();
    let newest = names[1].clone();
    let sim = rig.sim.clone();
    let target = newest.clone();
    let grown = std::sync::atomic::AtomicBool::new(false);
    let hook: crate::harness::Hook = std::sync::Arc::new(move |e| {
        if let viofo_pipeline::Event::ItemDone { name, .. } = e
            && *name == target
            && !grown.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            assert!(sim.grow_clip(&target, 10_000));
        }
    });
    let (syncer, _rx) = rig.syncer_with(deleting(&rig), Some(hook));
    for _ in 0..3 {
        syncer.run_cycle(&Shutdown::new()).await.unwrap();
    }
    // Deleted only once its full copy was archived: that copy is a new
    // recording of its own, beside the short one, which is kept as it was
    // (bytes recorded as archived are never rewritten).
    let full = rig.sim.deleted_clip_reader(&newest).map(|r| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut { r }, &mut v).unwrap();
        v
    });
    let full = full.expect("deleted once its full copy was archived");
    assert_eq!(full.len(), 70_000);
    let rows: Vec<_> = rig
        .store
        .list(None, &[], u32::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.name == newest)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let (old, now) = (&rows[0], &rows[1]);
    assert!(old.superseded_at.is_some() && now.superseded_at.is_none());
    let short = rig.archive.join(&newest);
    assert_eq!(old.local_path.as_deref(), Some(short.as_path()));
    // (The camera rewrote the clip's head as it grew, as A229/A329 do: the
    // short copy is not a prefix of the full one, so it could never have
    // been extended in place.)
    assert_eq!(
        std::fs::metadata(&short).unwrap().len(),
        60_000,
        "the short copy kept"
    );
    let path = now.local_path.clone().expect("archived");
    assert_eq!(
        path,
        rig.archive
            .join(viofo_pipeline::archive::versioned_name(&newest, 2))
    );
    assert_eq!(std::fs::read(&path).unwrap(), full);
}

/// An empty 200 to a delete is not taken as a confirmation: the clip is
/// recorded deleted once a listing shows it gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_delete_answer_is_confirmed_by_the_next_listing() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(2).size(40_000))
            .delete_empty_body(true),
    )
    .await;
    let s = rig
        .syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.deleted, 2);
    rig.store.flush().await.unwrap();
    for n in rig.names() {
        let row = rig.row(&n).await;
        assert_eq!(row.delete_outcome.as_deref(), Some("confirmed"), "{row:?}");
        assert!(rig.sim.clip(&n).is_none());
    }
}

/// Issue 10 items 6 and 8: a missing archive stops the cycle before the
/// camera is asked anything; it is not created; no clip row is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_archive_stops_before_the_camera_and_is_not_created() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(40_000))).await;
    let missing = rig.archive.join("not-mounted");
    let mut cfg = rig.config();
    cfg.archive = missing.clone();
    let e = rig
        .syncer(cfg)
        .run_cycle(&Shutdown::new())
        .await
        .unwrap_err();
    assert!(e.is_archive(), "{e}");
    assert!(e.to_string().contains("not-mounted"), "{e}");
    assert!(!missing.exists(), "the archive was created");
    assert!(rig.sim.requests().is_empty(), "the camera was asked");
    let counts = rig.store.counts(None).await.unwrap();
    assert_eq!(counts.total(), 0);
    // A file where the folder should be.
    let file = rig.archive.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let mut cfg = rig.config();
    cfg.archive = file;
    let e = rig
        .syncer(cfg)
        .run_cycle(&Shutdown::new())
        .await
        .unwrap_err();
    assert!(
        e.is_archive() && e.to_string().contains("not a folder"),
        "{e}"
    );
}

/// Issue 10 item 5: a burst of resets exhausts a clip's attempts; it is
/// deferred, not failed, the cycle says so, and the next cycle takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_burst_defers_the_clip_and_the_next_cycle_takes_it() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(80_000))).await;
    let name = rig.names().remove(0);
    rig.sim.inject(Fault::reset_burst(20).on(Target::Download));
    let s = rig
        .syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.clips, 0);
    assert_eq!((s.failed, s.deferred), (0, 1), "{s:?}");
    assert_eq!(s.outcome, CycleOutcome::CompletedWithFailures);
    assert!(!s.is_ok());
    let row = rig.row(&name).await;
    assert_eq!(row.state, ClipState::Pending, "{row:?}");
    assert!(row.deferrals >= 1);
    rig.sim.clear_faults();
    let s = rig
        .syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.clips, 1);
    assert_eq!(s.outcome, CycleOutcome::Completed);
    rig.assert_archived(&name, &rig.sim.clip_bytes(&name).unwrap());
}

/// Issue 10 item 11: a photo is archived but never fed to the GPS
/// extractor; the video beside it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_archived_without_gps_extraction() {
    let photo = "2025_0101_120000_000009F.JPG";
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(40_000))
            .with_clip(ClipDef::from_bytes(
                photo,
                Folder::Movie,
                vec![0xFF_u8, 0xD8, 0xFF, 0xE0, 1, 2, 3],
            )),
    )
    .await;
    let video = rig
        .names()
        .into_iter()
        .find(|n| n.ends_with(".MP4"))
        .unwrap();
    rig.syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    rig.store.flush().await.unwrap();
    assert!(rig.in_archive(photo));
    let p = rig.row(photo).await;
    assert!(!p.parking, "a P in a photo's name is not parking");
    assert!(p.times.gps_finished_at.is_none(), "{p:?}");
    let v = rig.row(&video).await;
    assert!(v.times.gps_finished_at.is_some(), "{v:?}");
}

/// A clip kept on the camera for a passing reason says so in the store
/// (`waiting: …`) while its tail stays open, so `queue` can tell why; a
/// settle time too long to wait for at the end of a cycle is not waited
/// for; a later run deletes the clip once its size is seen settled.
/// Issue 18: that holds for every clip, not only the newest of its
/// channel: an older clip seen with its archived size on listings less
/// than `delete_settle` apart stays on the camera too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_kept_for_now_says_why_and_a_later_run_deletes_it() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(40_000))).await;
    let names = rig.names();
    let mut long = deleting(&rig);
    long.delete_settle = std::time::Duration::from_secs(3600);
    let s = rig.syncer(long).run_cycle(&Shutdown::new()).await.unwrap();
    assert!(s.duration < std::time::Duration::from_secs(60), "{s:?}");
    assert_eq!(s.deleted, 0, "{s:?}");
    rig.store.flush().await.unwrap();
    for n in &names {
        let row = rig.row(n).await;
        assert_eq!(row.state, ClipState::Downloaded, "{row:?}");
        assert!(!row.delete_decided());
        assert!(
            row.delete_outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("waiting: ") && o.contains("settled")),
            "{row:?}"
        );
    }
    assert!(
        rig.sim.deleted().is_empty(),
        "nothing deleted before its size was seen settled: {:?}",
        rig.sim.deleted()
    );
    let s = rig
        .syncer(deleting(&rig))
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(s.deleted, 2, "{s:?}");
    rig.store.flush().await.unwrap();
    for n in &names {
        let row = rig.row(n).await;
        assert_eq!(row.state, ClipState::Done, "{row:?}");
        assert_eq!(row.delete_outcome.as_deref(), Some("confirmed"));
        assert!(rig.sim.deleted().contains(n));
    }
}

/// Issue 18: the normal first cycle still deletes every clip, the older
/// ones included, once a listing at least `delete_settle` after the one
/// before the downloads showed their archived sizes; none is deleted
/// sooner than that after the cycle's first listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_cycle_deletes_every_clip_once_seen_settled() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(40_000))).await;
    let mut cfg = deleting(&rig);
    cfg.delete_settle = std::time::Duration::from_millis(1500);
    let settle = cfg.delete_settle;
    let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let t = times.clone();
    let hook: crate::harness::Hook = std::sync::Arc::new(move |e| {
        if let viofo_pipeline::Event::Delete {
            name,
            outcome: viofo_pipeline::DeleteOutcome::Confirmed,
        } = e
        {
            let now = std::time::Instant::now();
            t.lock().unwrap().push((name.clone(), now));
        }
    });
    let (syncer, _rx) = rig.syncer_with(cfg, Some(hook));
    // Before the cycle, so before its first listing.
    let started = std::time::Instant::now();
    let s = syncer.run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!((s.clips, s.deleted), (3, 3), "{s:?}");
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 3, "{times:?}");
    for (name, at) in times {
        let after = at.duration_since(started);
        assert!(
            after >= settle,
            "{name} deleted {after:?} after the cycle began, before two listings {settle:?} apart"
        );
    }
    for n in rig.names() {
        assert!(rig.sim.deleted().contains(&n), "{n}");
    }
}

/// `delete_archived` cleans the camera of clips archived by earlier runs,
/// under the same rule as fresh ones: a clip locked since, or whose
/// archived copy changed, stays (issue 14, "cleaning the camera later").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clips_archived_earlier_are_deleted_later_under_the_same_rule() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(40_000))).await;
    let names = rig.names();
    rig.syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert!(rig.sim.deleted().is_empty());
    assert!(rig.sim.lock_clip(&names[0]));
    let changed = rig.assert_archived(&names[1], &rig.sim.clip_bytes(&names[1]).unwrap());
    std::fs::write(&changed, b"not the clip any more").unwrap();

    let mut cfg = rig.config();
    cfg.delete_archived = true;
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.clips, 0);
    let deleted = rig.sim.deleted();
    assert_eq!(s.deleted, 2, "{deleted:?}");
    assert!(deleted.contains(&names[2]) && deleted.contains(&names[3]));
    rig.store.flush().await.unwrap();
    let locked = rig.row(&names[0]).await;
    assert!(
        locked
            .delete_outcome
            .as_deref()
            .is_some_and(|o| o.contains("locked")),
        "{locked:?}"
    );
    let row = rig.row(&names[1]).await;
    assert!(
        row.delete_outcome
            .as_deref()
            .is_some_and(|o| o.contains("local copy")),
        "{row:?}"
    );
    assert_eq!(row.state, ClipState::Done);
    assert!(
        rig.sim.clip(&names[1]).is_some(),
        "the camera keeps the only good copy"
    );
}
