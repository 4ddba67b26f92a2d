//! Priority, filters, grouping, the disk guard and retention.

use std::time::Duration;

use viofo_gps::{Format, sidecar_path};
use viofo_pipeline::{Grouping, Shutdown};
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::Policy;

use crate::harness::start_rig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_first_downloads_in_reverse_order() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(50_000))).await;
    let mut cfg = rig.config();
    cfg.policy = Policy::NewestFirst;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    let mut expected = rig.names();
    expected.reverse();
    assert_eq!(rig.started_order(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oldest_first_is_the_default_order() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(50_000))).await;
    rig.syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(rig.started_order(), rig.names());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_locked_channels_and_parking() {
    let spec = ClipSpec::synthetic(4)
        .size(40_000)
        .rear(true)
        .parking_every(2)
        .locked_every(3);
    let rig = start_rig(SimConfig::default().with_clips(spec)).await;
    let clips = rig.sim.clips();
    let locked: Vec<String> = clips
        .iter()
        .filter(|c| c.locked)
        .map(|c| c.name.clone())
        .collect();
    assert!(!locked.is_empty());

    let mut cfg = rig.config();
    cfg.locked_only = true;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    let mut got = rig.started_order();
    got.sort();
    let mut want = locked.clone();
    want.sort();
    assert_eq!(got, want, "locked only");

    rig.events.lock().unwrap().clear();
    let mut cfg = rig.config();
    cfg.channels = vec![viofo_store::Channel::Rear];
    cfg.include_parking = false;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    let got = rig.started_order();
    let want: Vec<String> = clips
        .iter()
        .filter(|c| c.name.ends_with("R.MP4") && !c.parking && !c.locked)
        .map(|c| c.name.clone())
        .collect();
    assert!(!want.is_empty());
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted, "rear, no parking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_grouping_puts_clips_and_sidecars_in_date_folders() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(300_000))).await;
    let mut cfg = rig.config();
    cfg.grouping = Grouping::Daily;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    for c in rig.sim.clips() {
        let d = c.start.date();
        let folder = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        let path = rig.archive.join(folder).join(&c.name);
        assert!(path.is_file(), "{} missing", path.display());
        assert!(sidecar_path(&path, Format::Gpx).is_file());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_guard_stops_with_disk_full_before_downloading() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(60_000))).await;
    let mut cfg = rig.config();
    cfg.max_used_disk = Some(0.0001);
    let err = rig
        .syncer(cfg)
        .run_cycle(&Shutdown::new())
        .await
        .unwrap_err();
    assert!(err.is_disk_full(), "{err}");
    assert!(err.to_string().contains("max_used_disk"), "{err}");
    for n in rig.names() {
        assert!(!rig.in_archive(&n));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_clips_with_their_sidecars_but_keeps_locked_ones() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(60_000))).await;
    let root = &rig.archive;
    let old = root.join("2019_0101_120000_000001F.MP4");
    std::fs::write(&old, b"old clip").unwrap();
    std::fs::write(sidecar_path(&old, Format::Gpx), b"<gpx/>").unwrap();
    let name = rig.names().remove(0);
    let mut cfg = rig.config();
    // Keep about ten years: the sim's clips (2025) stay, the 2019 one goes.
    cfg.retention.keep = Some(Duration::from_secs(3600 * 24 * 365 * 6));
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.pruned, 1);
    assert!(!old.exists() && !sidecar_path(&old, Format::Gpx).exists());
    assert!(rig.in_archive(&name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_first_takes_locked_clips_before_the_rest() {
    let spec = ClipSpec::synthetic(6).size(40_000).locked_every(3);
    let rig = start_rig(SimConfig::default().with_clips(spec)).await;
    let locked: std::collections::HashSet<String> = rig
        .sim
        .clips()
        .into_iter()
        .filter(|c| c.locked)
        .map(|c| c.name)
        .collect();
    assert!(!locked.is_empty() && locked.len() < 6);
    let mut cfg = rig.config();
    cfg.policy = Policy::LockedFirst;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    let order = rig.started_order();
    let first: std::collections::HashSet<String> =
        order.iter().take(locked.len()).cloned().collect();
    assert_eq!(first, locked, "order: {order:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_downloads_at_once_stay_within_the_camera_limit() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(6).size(300_000))
            .bandwidth(6_000_000),
    )
    .await;
    let mut cfg = rig.config();
    cfg.downloads = 3;
    cfg.delete_after_download = true;
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.clips, 6);
    assert!(
        rig.sim.peak_connections() <= 3,
        "peak {}",
        rig.sim.peak_connections()
    );
    assert!(rig.sim.peak_connections() >= 2, "downloads ran in parallel");
    assert_eq!(rig.sim.refused_connections(), 0);
    for n in rig.names() {
        rig.assert_archived(&n, &rig.sim.clip_bytes(&n).unwrap());
    }
    assert_eq!(rig.sim.deleted().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_what_would_happen_and_touches_nothing() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(40_000).locked_every(3))
            .recording(true),
    )
    .await;
    let old = rig.archive.join("2019_0101_120000_000001F.MP4");
    std::fs::write(&old, b"old").unwrap();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.retention.keep = Some(Duration::from_secs(3600 * 24 * 365 * 6));
    let plan = rig.syncer(cfg).dry_run().await.unwrap();

    let clips = rig.sim.clips();
    let growing: Vec<&str> = clips
        .iter()
        .filter(|c| c.growing)
        .map(|c| c.name.as_str())
        .collect();
    let mut want: Vec<String> = clips
        .iter()
        .filter(|c| !c.growing)
        .map(|c| c.name.clone())
        .collect();
    want.sort();
    let mut got: Vec<String> = plan.download.iter().map(|(n, _)| n.clone()).collect();
    got.sort();
    assert_eq!(got, want);
    assert!(plan.skip.iter().any(|(n, _)| growing.contains(&n.as_str())));
    let unlocked: Vec<String> = clips
        .iter()
        .filter(|c| !c.growing && !c.locked)
        .map(|c| c.name.clone())
        .collect();
    for n in &unlocked {
        assert!(plan.delete.contains(n), "{n} would be deleted");
    }
    assert!(
        clips
            .iter()
            .filter(|c| c.locked)
            .all(|c| !plan.delete.contains(&c.name))
    );
    assert_eq!(plan.prune, std::slice::from_ref(&old));

    // Nothing touched: no row, no download, no delete, the old clip still there.
    let counts = rig.store.counts(None).await.unwrap();
    assert_eq!(
        counts.pending + counts.done + counts.downloaded,
        0,
        "{counts:?}"
    );
    assert!(rig.sim.deleted().is_empty());
    assert!(
        !rig.sim
            .requests()
            .iter()
            .any(|r| r.cmd.is_none() && r.clip.is_some())
    );
    assert!(old.is_file());
}

/// The dry run asks the download workers' own rule: a clip given priority
/// goes first, a failed clip is not offered, and the real sync then takes
/// exactly the clips the dry run named, in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_real_run_agree_on_priority_and_failed_clips() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(30_000))).await;
    let names = rig.names();
    // A first cycle that downloads nothing (no rear clips) fills the store.
    let mut none = rig.config();
    none.channels = vec![viofo_store::Channel::Rear];
    rig.syncer(none).run_cycle(&Shutdown::new()).await.unwrap();
    let newest = rig.row(&names[3]).await;
    rig.store.set_priority(newest.id, 10).await.unwrap();
    let broken = rig.row(&names[1]).await;
    rig.store.start_download(broken.id, None).await.unwrap();
    rig.store
        .fail(broken.id, "refused for the test", false)
        .await
        .unwrap();

    let plan = rig.syncer(rig.config()).dry_run().await.unwrap();
    let planned: Vec<String> = plan.download.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        planned,
        vec![names[3].clone(), names[0].clone(), names[2].clone()],
        "priority first, then oldest first, the failed clip left out"
    );

    let (syncer, mut rx) = rig.syncer_with(rig.config(), None);
    syncer.run_cycle(&Shutdown::new()).await.unwrap();
    let mut started = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let viofo_pipeline::Event::ItemStarted { name, .. } = e {
            started.push(name);
        }
    }
    assert_eq!(
        started, planned,
        "the real sync took what the dry run named"
    );
}

/// A clip retention removes is recorded as pruned, not archived: `status`
/// and `queue` must not show a deleted file as kept (issue 10 item 14).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruned_clip_is_recorded_as_pruned() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(40_000))).await;
    let name = rig.names().remove(0);
    rig.syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    assert_eq!(rig.row(&name).await.state, viofo_store::ClipState::Done);
    let mut cfg = rig.config();
    cfg.retention.keep = Some(Duration::from_secs(3600));
    let s = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(s.pruned, 1);
    assert!(!rig.in_archive(&name));
    rig.store.flush().await.unwrap();
    let row = rig.row(&name).await;
    assert_eq!(row.state, viofo_store::ClipState::Pruned, "{row:?}");
    let counts = rig.store.counts(None).await.unwrap();
    assert_eq!((counts.pruned, counts.done), (1, 0));
}

/// A clip name for a camera-clock time.
fn name_at(t: time::PrimitiveDateTime, seq: u32) -> String {
    format!(
        "{:04}_{:02}{:02}_{:02}{:02}{:02}_{seq:06}F.MP4",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Recording times are the camera's clock readings, compared with "now"
/// on the same clock: at UTC−8 a clip recorded 20 hours ago is recent and
/// within a one-day keep period, although its reading taken as UTC is 28
/// hours old (issue 11, camera time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_first_and_the_keep_period_read_the_camera_clock() {
    let off = time::macros::offset!(-8);
    let clock = viofo_pipeline::CameraClock::new(off);
    let now = clock.now();
    let older = name_at(now - time::Duration::hours(30), 1);
    let recent = name_at(now - time::Duration::hours(20), 2);
    let rig = start_rig(
        SimConfig::default()
            .with_clip(viofo_sim::ClipDef::synthetic(
                &older,
                viofo_sim::Folder::Movie,
                30_000,
            ))
            .with_clip(viofo_sim::ClipDef::synthetic(
                &recent,
                viofo_sim::Folder::Movie,
                30_000,
            )),
    )
    .await;
    let mut cfg = rig.config();
    cfg.camera_clock = clock;
    cfg.policy = Policy::RecentFirst { hours: 24 };
    cfg.retention.keep = Some(Duration::from_secs(25 * 3600));
    let plan = rig.syncer(cfg.clone()).dry_run().await.unwrap();
    assert_eq!(
        plan.download
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [recent.as_str()],
        "the recent clip is within the keep period; the older one is not: {plan:?}"
    );
    cfg.retention.keep = Some(Duration::from_secs(3 * 24 * 3600));
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(rig.started_order(), [recent, older], "recent first");
}

/// A quota in bytes: within the newest day (which retention never
/// removes) the clip that would take the archive over it is not started,
/// the cycle stops as "disk full" with the numbers and the true reason,
/// and the clip stays pending (issue 14; issue 18 item 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_stops_before_the_clip_that_would_exceed_it() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(40_000))).await;
    let names = rig.names();
    let mut cfg = rig.config();
    cfg.retention.quota = Some(100_000);
    let e = rig
        .syncer(cfg)
        .run_cycle(&Shutdown::new())
        .await
        .unwrap_err();
    assert!(e.is_disk_full(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("quota") && msg.contains("of the newest day"),
        "{msg}"
    );
    assert!(rig.in_archive(&names[0]) && rig.in_archive(&names[1]));
    assert!(!rig.in_archive(&names[2]));
    assert_eq!(
        rig.row(&names[2]).await.state,
        viofo_store::ClipState::Pending
    );
    assert_eq!(rig.store.archived_bytes(None).await.unwrap(), 80_000);
}
