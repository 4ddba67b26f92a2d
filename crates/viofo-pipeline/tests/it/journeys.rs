//! Journeys kept current by a sync (issue 12): the tracks stored by the
//! tail make journeys split by parking, named by place, with a merged GPX
//! file each; a rebuild gives the same; turning them off stores none.

use std::io::Cursor;

use viofo_gps::Options;
use viofo_pipeline::Shutdown;
use viofo_pipeline::journeys::{gpx::JOURNEYS_DIR, rebuild_journeys};
use viofo_pipeline::places::Place;
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::Channel;

use crate::harness::{CAMERA, start_rig};

fn gpx_files(archive: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(archive.join(JOURNEYS_DIR))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stores_journeys_split_by_parking_with_a_gpx_each() {
    // Slots 0..6, front and rear, one minute apart; slots 2 and 5 parking.
    let spec = ClipSpec::synthetic(6)
        .size(1_000_000)
        .rear(true)
        .parking_every(3);
    let rig = start_rig(SimConfig::default().with_clips(spec)).await;
    let first = rig.names().into_iter().next().unwrap();
    let ex = viofo_gps::extract_reader(
        Cursor::new(rig.sim.clip_bytes(&first).unwrap()),
        &Options::default(),
    )
    .unwrap();
    let p0 = ex.points.first().copied().unwrap();
    let mut cfg = rig.config();
    cfg.places = vec![Place {
        name: "Home Sweet".into(),
        lat: p0.lat,
        lon: p0.lon,
        radius_m: 30.0,
        skip_parking: false,
    }];
    rig.syncer(cfg.clone())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();

    // Settled when the cycle returned: no waiting.
    let js = rig.store.journeys(Some(CAMERA), None, 10).await.unwrap();
    assert_eq!(js.len(), 2, "{js:#?}");
    let (newer, older) = (&js[0], &js[1]);
    assert!(newer.start_ms > older.end_ms);
    for j in &js {
        assert_eq!(j.clips, 4);
        assert_eq!(j.channels, vec![(Channel::Front, 2), (Channel::Rear, 2)]);
        assert!((j.downloaded_fraction() - 1.0).abs() < 1e-9);
        assert!(j.distance_m > 100.0, "{}", j.distance_m);
        assert!(j.max_speed_mps > 5.0);
        assert!(j.moving_ms > 60_000);
        let clips = rig.store.journey_clips(j.id).await.unwrap();
        assert_eq!(clips.len(), 4);
        assert!(clips.iter().all(|c| !c.parking));
    }
    assert_eq!(older.from_place.as_deref(), Some("Home Sweet"));
    assert_eq!(older.to_place, None);
    assert_eq!(
        older.start_ms,
        i64::try_from(p0.time.unix_timestamp_nanos() / 1_000_000).unwrap()
    );
    let files = gpx_files(&rig.archive);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("_Home_Sweet-unknown.gpx")),
        "{files:?}"
    );
    for j in &js {
        let p = std::path::PathBuf::from(j.gpx_path.as_deref().unwrap());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.matches("<trkpt").count() >= 2 * 28, "{}", p.display());
    }

    // A rebuild finds the same journeys and keeps the files.
    let report = rebuild_journeys(&rig.store, CAMERA, &cfg).await.unwrap();
    assert_eq!(report.journeys, 2);
    assert_eq!(
        report.gpx_written, 0,
        "unchanged journeys are not rewritten"
    );
    let again = rig.store.journeys(Some(CAMERA), None, 10).await.unwrap();
    assert_eq!(
        again
            .iter()
            .map(|j| (j.start_ms, j.end_ms, j.clips))
            .collect::<Vec<_>>(),
        js.iter()
            .map(|j| (j.start_ms, j.end_ms, j.clips))
            .collect::<Vec<_>>()
    );
    assert_eq!(gpx_files(&rig.archive), files);
    assert_eq!(
        again.iter().map(|j| j.id).collect::<Vec<_>>(),
        js.iter().map(|j| j.id).collect::<Vec<_>>(),
        "journeys keep their ids"
    );

    // Without places the names change: the old file goes.
    cfg.places.clear();
    rebuild_journeys(&rig.store, CAMERA, &cfg).await.unwrap();
    let renamed = gpx_files(&rig.archive);
    assert_eq!(renamed.len(), 2, "{renamed:?}");
    assert!(
        renamed.iter().all(|f| f.ends_with("_unknown-unknown.gpx")),
        "{renamed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_off_stores_none_and_writes_no_file() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(200_000))).await;
    let mut cfg = rig.config();
    cfg.journeys = None;
    rig.syncer(cfg).run_cycle(&Shutdown::new()).await.unwrap();
    assert!(rig.store.journeys(None, None, 10).await.unwrap().is_empty());
    assert!(!rig.archive.join(JOURNEYS_DIR).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_makes_journeys_before_the_downloads_and_the_journeys_priority_takes_the_newest() {
    let spec = ClipSpec::synthetic(6)
        .size(1_000_000)
        .rear(true)
        .parking_every(3);
    let rig = start_rig(SimConfig::default().with_clips(spec)).await;
    let mut cfg = rig.config();
    cfg.triage = Some(viofo_gps::TriageMode::Full);
    cfg.policy = viofo_store::Policy::Journeys;

    // A quota no clip fits: nothing is downloaded, the triage takes every
    // clip and the journeys come from its tracks.
    let mut first = cfg.clone();
    first.retention.quota = Some(1);
    let err = rig.cycle(first).await.unwrap_err();
    assert!(err.is_disk_full(), "{err:#}");
    assert!(rig.started_order().is_empty());
    let js = rig.store.journeys(Some(CAMERA), None, 10).await.unwrap();
    assert_eq!(js.len(), 2, "{js:#?}");
    for j in &js {
        assert_eq!(j.clips, 4);
        assert_eq!(j.downloaded_bytes, 0);
        assert!(j.distance_m > 100.0);
    }

    // Then the downloads: the newest journey's clips first (every
    // channel, in recording order), the older journey's, then the parking
    // clips (in no journey), oldest first.
    rig.cycle(cfg).await.unwrap();
    let names = rig.names();
    let slot = |s: usize, rear: bool| {
        let seq = format!("{:06}", s + 1);
        names
            .iter()
            .find(|n| n.contains(&seq) && n.contains(if rear { "R." } else { "F." }))
            .unwrap_or_else(|| panic!("slot {s}: {names:?}"))
            .clone()
    };
    let mut expected = Vec::new();
    for s in [3, 4, 0, 1, 2, 5] {
        expected.push(slot(s, false));
        expected.push(slot(s, true));
    }
    assert_eq!(rig.started_order(), expected);
    let js = rig.store.journeys(Some(CAMERA), None, 10).await.unwrap();
    assert_eq!(js.len(), 2);
    assert!(js.iter().all(|j| j.downloaded_bytes == j.bytes));
}
