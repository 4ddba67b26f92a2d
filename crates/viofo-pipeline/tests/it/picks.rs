//! What is downloaded, skipped and planned (issue 18): clips left out by
//! the filters get a skip reason instead of staying pending for ever.

use viofo_pipeline::Shutdown;
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::{Channel, ClipState};

use crate::harness::start_rig;

/// Clips the `channels` filter leaves out are skipped with a reason, not
/// pending for ever ("clips pending" reaches 0), and come back when the
/// filter no longer leaves them out (issue 18 item 9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clips_left_out_by_the_channel_filter_are_skipped_not_pending() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(30_000).rear(true)))
            .await;
    let clips = rig.sim.clips();
    let rear: Vec<String> = clips
        .iter()
        .filter(|c| c.name.ends_with("R.MP4"))
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(rear.len(), 3);
    let mut cfg = rig.config();
    cfg.channels = vec![Channel::Front];
    rig.syncer(cfg.clone())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    rig.store.flush().await.unwrap();
    for name in &rear {
        let row = rig.row(name).await;
        assert_eq!(row.state, ClipState::Pending, "{name}");
        assert_eq!(
            row.skip_reason.as_deref(),
            Some("channel filter (channels = F)"),
            "{name}"
        );
        assert!(!rig.in_archive(name));
    }
    let counts = rig.store.counts(None).await.unwrap();
    assert_eq!(
        (counts.pending, counts.skipped, counts.done),
        (0, 3, 3),
        "{counts:?}"
    );

    // Every channel again: the rear clips come back and are downloaded.
    rig.syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    rig.store.flush().await.unwrap();
    for name in &rear {
        let row = rig.row(name).await;
        assert_eq!(
            (row.state, row.skip_reason),
            (ClipState::Done, None),
            "{name}"
        );
    }
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

/// Four days of clips, three a day, 100 kB each, oldest first: `n` of them
/// from the start.
fn four_days() -> Vec<(String, time::PrimitiveDateTime)> {
    let start = time::macros::datetime!(2025-12-20 09:00);
    (0..12u32)
        .map(|i| {
            let t = start
                + time::Duration::days(i64::from(i / 3))
                + time::Duration::hours(i64::from(i % 3));
            (name_at(t, i + 1), t)
        })
        .collect()
}

/// The quota rotates: four days of clips, a quota that holds four of
/// them. The cycle ends well (no "retention can free no more"), holding
/// the newest clips that fit; the older ones are skipped, not downloaded
/// only to be pruned; a clip recorded later takes the place of the oldest
/// kept (issue 18 item 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_keeps_the_newest_clips_and_rotates() {
    let clips = four_days();
    let mut sim = SimConfig::default();
    for (name, t) in &clips {
        sim = sim.with_clip(
            viofo_sim::ClipDef::synthetic(name, viofo_sim::Folder::Movie, 100_000).start_time(*t),
        );
    }
    let rig = start_rig(sim).await;
    let mut cfg = rig.config();
    cfg.retention.quota = Some(450_000);
    let summary = rig
        .syncer(cfg.clone())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    rig.store.flush().await.unwrap();
    let names: Vec<&str> = clips.iter().map(|(n, _)| n.as_str()).collect();
    let (old, kept) = names.split_at(8);
    assert_eq!(summary.clips, 4, "{summary:?}");
    assert_eq!(summary.pruned, 0, "nothing downloaded only to be pruned");
    let mut started = rig.started_order();
    started.sort();
    assert_eq!(started, kept, "only the newest that fit are downloaded");
    for n in kept {
        assert!(rig.in_archive(n), "{n}");
    }
    for n in old {
        let row = rig.row(n).await;
        assert_eq!(
            (row.state, row.skip_reason.as_deref()),
            (ClipState::Pending, Some("older than what the quota keeps")),
            "{n}"
        );
    }

    // A newer clip: downloaded, the oldest kept one pruned to make room.
    let t = clips[11].1 + time::Duration::hours(1);
    let newer = name_at(t, 13);
    rig.sim
        .add_clip(
            viofo_sim::ClipDef::synthetic(&newer, viofo_sim::Folder::Movie, 100_000).start_time(t),
        )
        .unwrap();
    rig.clear_events();
    let summary = rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    rig.store.flush().await.unwrap();
    assert_eq!((summary.clips, summary.pruned), (1, 1), "{summary:?}");
    assert!(rig.in_archive(&newer));
    assert!(!rig.in_archive(kept[0]));
    assert_eq!(rig.row(kept[0]).await.state, ClipState::Pruned);
    for n in &kept[1..] {
        assert!(rig.in_archive(n), "{n}");
    }
}

/// The dry run plans with the real run's rules, and the real run then does
/// what it planned: parking clips at a place that skips them, the quota
/// (older clips skipped, room made by pruning), the channel filter and the
/// keep period (issue 18 item 8; before, the dry run listed all of them as
/// downloads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_plans_what_the_real_run_does_for_every_rule() {
    use viofo_gps::fixture::{ClipBuilder, drive};
    use viofo_gps::{Layout, TriageMode};
    use viofo_pipeline::places::Place;
    use viofo_sim::{ClipDef, Folder};
    const HOME: (f64, f64) = (48.8566, 2.3522);
    let day = time::macros::datetime!(2025-12-24 08:00);
    let gps_clip = |name: &str, folder: Folder, t: time::PrimitiveDateTime, speed: f64| {
        let bytes = ClipBuilder::new(Layout::Variable)
            .total_len(200_000)
            .points(drive(t, 30, HOME.0, HOME.1, speed, 0.0))
            .build()
            .to_vec();
        ClipDef::from_bytes(name, folder, bytes).start_time(t)
    };
    let mut sim = SimConfig::default();
    let mut names = Vec::new();
    for i in 0..8u32 {
        // The clips the quota leaves out two days before the rest (the
        // newest day is kept whole, never skipped as older).
        let back = if matches!(i, 0..=4) { 2 } else { 0 };
        let t = day + time::Duration::hours(i64::from(i)) - time::Duration::days(back);
        let (name, folder, speed) = match i {
            // Parked at home (the newest: the quota weighs them until
            // their triage skips them).
            6 | 7 => (
                format!("{}PF.MP4", &name_at(t, i + 1)[..23]),
                Folder::Parking,
                0.0,
            ),
            // Rear: left out by the channel filter.
            3 => (
                format!("{}R.MP4", &name_at(t, i + 1)[..23]),
                Folder::Movie,
                12.0,
            ),
            _ => (name_at(t, i + 1), Folder::Movie, 12.0),
        };
        sim = sim.with_clip(gps_clip(&name, folder, t, speed));
        names.push(name);
    }
    let rig = start_rig(sim).await;
    let size = rig.sim.clip_bytes(&names[5]).unwrap().len() as u64;
    // Archived already: one old clip the keep period removes, and one of
    // the day before, which the quota makes room by.
    let old = rig.archive.join("2019_0101_120000_000001F.MP4");
    std::fs::write(&old, vec![0u8; 1000]).unwrap();
    let yesterday = rig.archive.join("2025_1223_120000_000001F.MP4");
    std::fs::write(
        &yesterday,
        vec![0u8; usize::try_from(size * 5 / 2).unwrap()],
    )
    .unwrap();

    let mut cfg = rig.config();
    cfg.triage = Some(TriageMode::skeleton());
    cfg.places = vec![Place {
        name: "Home".into(),
        lat: HOME.0,
        lon: HOME.1,
        radius_m: 150.0,
        skip_parking: true,
    }];
    cfg.channels = vec![Channel::Front];
    cfg.retention.keep = Some(std::time::Duration::from_secs(3600 * 24 * 365 * 6));
    // Three clips and their sidecars.
    cfg.retention.quota = Some(3 * size + 50_000);
    let plan = rig.syncer(cfg.clone()).dry_run().await.unwrap();
    let planned: Vec<String> = plan.download.iter().map(|(n, _)| n.clone()).collect();
    let skipped: std::collections::BTreeMap<String, String> = plan.skip.iter().cloned().collect();
    // The newest front clip; the parked, rear and older ones not.
    assert_eq!(planned, [names[5].clone()], "{plan:#?}");
    for n in &names[6..] {
        assert_eq!(
            skipped.get(n).map(String::as_str),
            Some("parked at Home"),
            "{n}: {plan:#?}"
        );
    }
    assert_eq!(
        skipped.get(&names[3]).map(String::as_str),
        Some("channel filter (channels = F)"),
        "{plan:#?}"
    );
    for n in [&names[0], &names[1], &names[2], &names[4]] {
        assert_eq!(
            skipped.get(n).map(String::as_str),
            Some("older than what the quota keeps"),
            "{n}: {plan:#?}"
        );
    }
    let mut prune = plan.prune.clone();
    prune.sort();
    assert_eq!(prune, [old.clone(), yesterday.clone()], "{plan:#?}");
    assert!(
        old.is_file() && yesterday.is_file(),
        "the dry run removed nothing"
    );

    // The real run does exactly that.
    rig.clear_events();
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert_eq!(rig.started_order(), planned);
    let mut pruned: Vec<std::path::PathBuf> = rig
        .events()
        .into_iter()
        .filter_map(|e| match e {
            viofo_pipeline::Event::Pruned { path, .. } => Some(path),
            _ => None,
        })
        .collect();
    pruned.sort();
    assert_eq!(pruned, prune);
    rig.store.flush().await.unwrap();
    for (name, why) in &skipped {
        let row = rig.row(name).await;
        assert_eq!(row.skip_reason.as_deref(), Some(why.as_str()), "{name}");
    }
}
