//! GPS triage (issue 12): pending clips' tracks from ranged reads, paced by
//! the downloads, stored with source `triage` and replaced by the file's
//! track on download; the byte budget; a camera that ignores Range; clips
//! without a GPS index; failures that fail nothing.

use std::io::Cursor;
use std::time::Duration;

use viofo_gps::{Options, TriageMode};
use viofo_pipeline::{Event, SyncConfig};
use viofo_sim::{ClipSpec, Fault, SimConfig, Target};
use viofo_store::{ClipState, TrackPoint, TrackSource};
use viofo_testkit::{Rig, find};

use crate::harness::start_rig;

/// The stored form of an extraction's fixes, as the test expects it.
#[allow(clippy::cast_possible_truncation)] // speeds and courses are stored as f32
fn as_stored(ex: &viofo_gps::Extraction) -> Vec<TrackPoint> {
    ex.points
        .iter()
        .map(|p| TrackPoint {
            time_ms: i64::try_from(p.time.unix_timestamp_nanos() / 1_000_000).unwrap(),
            lat: p.lat,
            lon: p.lon,
            speed_mps: p.speed_mps as f32,
            course_deg: p.course_deg as f32,
        })
        .collect()
}

/// Every fix the camera's copy of `name` holds (no spike filter: a
/// skeleton's fixes are a subset of these).
fn camera_points(rig: &Rig, name: &str) -> Vec<TrackPoint> {
    let bytes = rig.sim.clip_bytes(name).unwrap();
    let ex = viofo_gps::extract_reader(Cursor::new(bytes), &Options::default().spike_filter(false))
        .unwrap();
    as_stored(&ex)
}

fn triage_config(rig: &Rig, mode: TriageMode) -> SyncConfig {
    let mut cfg = rig.config();
    cfg.triage = Some(mode);
    cfg
}

/// Ranged reads of clip bodies the camera answered (206), per clip: the
/// triage's requests (downloads here never resume).
fn ranged(rig: &Rig) -> std::collections::BTreeMap<String, (u64, u64)> {
    let mut m = std::collections::BTreeMap::new();
    for r in rig.sim.requests() {
        if r.method == "GET" && r.status == Some(206) {
            let e = m.entry(r.clip.clone().unwrap()).or_insert((0, 0));
            e.0 += 1;
            e.1 += r.body_len;
        }
    }
    m
}

fn triage_outcomes(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Triaged { .. } | Event::TriageNone { .. } | Event::TriageFailed { .. }
            )
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_tracks_come_first_and_file_tracks_replace_them() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(6).size(1_000_000))
            // A download takes a quarter of a second: long enough for an
            // unpaced triage to take every clip before the second one.
            .bandwidth(4_000_000)
            .latency(Duration::from_millis(2)),
    )
    .await;
    let names = rig.names();
    // A quota that holds two clips: the downloads stop after them and the
    // triage takes the rest.
    let mut cfg = triage_config(&rig, TriageMode::skeleton());
    cfg.retention.quota = Some(2_500_000);
    let err = rig.cycle(cfg.clone()).await.unwrap_err();
    assert!(err.is_disk_full(), "stopped by the quota: {err:#}");

    let events = rig.events();
    let started: Vec<usize> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| matches!(e, Event::ItemStarted { .. }).then_some(i))
        .collect();
    assert_eq!(started.len(), 2, "{events:#?}");
    // While downloads run, at most one triage per download started: up to
    // the last download's start, never more.
    for (k, at) in started.iter().enumerate() {
        let before = triage_outcomes(&events[..*at]);
        assert!(
            before <= k,
            "{before} triages before download {k}: {events:#?}"
        );
    }
    let mut triaged = 0;
    for name in &names {
        let row = rig.row(name).await;
        let track = rig.store.track(row.id).await.unwrap().expect("a track");
        let t = track.track;
        match row.state {
            ClipState::Done => {
                // Downloaded: the file's track, every fix of it.
                let path = find(&rig.archive, name).unwrap();
                let ex = viofo_gps::extract_file(&path, &Options::default()).unwrap();
                assert_eq!(t.source, TrackSource::File, "{name}");
                assert_eq!(t.points, as_stored(&ex), "{name}");
                assert_eq!(t.mode, None);
                assert!(t.found());
            }
            ClipState::Pending => {
                triaged += 1;
                assert_eq!(t.source, TrackSource::Triage, "{name}");
                // The mode, and the clip's length from its mvhd.
                let mode = t.mode.as_deref().unwrap_or_default();
                assert!(mode.starts_with("skeleton 10s, clip "), "{mode}");
                assert_eq!(t.clip_size, row.size);
                let all = camera_points(&rig, name);
                assert!(
                    t.points.len() >= 2 && t.points.len() < all.len(),
                    "{name}: a skeleton of {} fixes out of {}",
                    t.points.len(),
                    all.len()
                );
                assert!(t.points.iter().all(|p| all.contains(p)), "{name}");
                assert_eq!(t.points.first(), all.first(), "the first fix");
                assert_eq!(t.summary.points as usize, t.points.len());
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(triaged, 4, "every clip not downloaded was triaged");
    let ranged_before = ranged(&rig);

    // Next cycle, room for all: the triaged clips are downloaded and their
    // file tracks replace the triage tracks; nothing is triaged again.
    rig.clear_events();
    cfg.retention.quota = None;
    let summary = rig.cycle(cfg).await.unwrap();
    assert_eq!(summary.clips, 4);
    assert_eq!(triage_outcomes(&rig.events()), 0);
    // The cycle's one comparison of the oldest archived clip still
    // listed with the archive (a card reused under archived names: see
    // the pipeline's sync::reused) aside, no ranged read: no triage.
    let mut after = ranged(&rig);
    let compared: Vec<String> = after
        .iter()
        .filter(|(n, v)| !ranged_before.contains_key(*n) && **v == (1, 65_536))
        .map(|(n, _)| n.clone())
        .collect();
    assert!(compared.len() <= 1, "{compared:?}");
    for n in &compared {
        after.remove(n);
    }
    assert_eq!(after, ranged_before, "no triage read in the second cycle");
    for name in &names {
        let row = rig.row(name).await;
        assert_eq!(row.state, ClipState::Done);
        let t = rig.store.track(row.id).await.unwrap().unwrap().track;
        let path = find(&rig.archive, name).unwrap();
        let ex = viofo_gps::extract_file(&path, &Options::default()).unwrap();
        assert_eq!(t.source, TrackSource::File, "{name}");
        assert_eq!(t.points, as_stored(&ex), "{name}");
        assert_eq!(t.clip_size, row.size);
    }
}

/// Against 300 MB clips (no download: a quota of one byte stops them), the
/// bytes triage asks for stay within the budget: skeleton at most
/// 0.3 % of the clip, full at most 2 %, by the reader's count and by the
/// camera's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_stays_within_its_byte_budget() {
    for (mode, budget) in [(TriageMode::skeleton(), 0.003), (TriageMode::Full, 0.02)] {
        let rig = start_rig(
            SimConfig::default()
                .with_clips(ClipSpec::synthetic(4).size(300_000_000))
                .latency(Duration::from_millis(1)),
        )
        .await;
        let mut cfg = triage_config(&rig, mode);
        cfg.retention.quota = Some(1);
        let err = rig.cycle(cfg).await.unwrap_err();
        assert!(err.is_disk_full(), "{err:#}");
        let served = ranged(&rig);
        let mut seen = 0;
        for e in rig.events() {
            if let Event::Triaged {
                name,
                points,
                reads,
                bytes,
                clip_size,
            } = e
            {
                seen += 1;
                assert_eq!(clip_size, 300_000_000);
                assert!(points >= 2, "{name}: {points} fixes");
                #[allow(clippy::cast_precision_loss)]
                let fraction = bytes as f64 / clip_size as f64;
                assert!(
                    fraction <= budget,
                    "{mode:?} {name}: {bytes} bytes = {:.3} % of the clip",
                    fraction * 100.0
                );
                // The camera served exactly what the reader asked for.
                assert_eq!(served[&name], (reads, bytes), "{name}");
            }
        }
        assert_eq!(seen, 4, "{mode:?}: every clip triaged");
        let full = rig
            .sim
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.clip.is_some() && r.status != Some(206))
            .count();
        assert_eq!(full, 0, "nothing but ranged reads of the clips");
    }
}

/// A full triage stores exactly the track the downloaded file will give
/// (every block, the same spike filter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_triage_stores_the_files_track() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(600_000))).await;
    let mut cfg = triage_config(&rig, TriageMode::Full);
    cfg.retention.quota = Some(1);
    let err = rig.cycle(cfg).await.unwrap_err();
    assert!(err.is_disk_full(), "{err:#}");
    for name in rig.names() {
        let row = rig.row(&name).await;
        let t = rig.store.track(row.id).await.unwrap().unwrap().track;
        let bytes = rig.sim.clip_bytes(&name).unwrap();
        let ex = viofo_gps::extract_reader(Cursor::new(bytes), &Options::default()).unwrap();
        assert_eq!(t.source, TrackSource::Triage);
        let mode = t.mode.as_deref().unwrap_or_default();
        assert!(mode.starts_with("full, clip "), "{mode}");
        assert!(!t.points.is_empty());
        assert_eq!(t.points, as_stored(&ex), "{name}");
        assert_eq!(u64::from(t.summary.points), ex.summary().points);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_ignoring_range_stops_triage_not_downloads() {
    let rig = start_rig(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(400_000))
            .ignore_range(true),
    )
    .await;
    let names = rig.names();
    // Room for two clips: the third is left to the triage once the
    // downloads stop, so it is sure to ask.
    let mut cfg = triage_config(&rig, TriageMode::skeleton());
    cfg.retention.quota = Some(900_000);
    let err = rig.cycle(cfg.clone()).await.unwrap_err();
    assert!(err.is_disk_full(), "{err:#}");
    let events = rig.events();
    let stops: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::TriageStopped { reason } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(stops.len(), 1, "{events:#?}");
    assert!(stops[0].contains("ignores HTTP Range"), "{}", stops[0]);
    assert_eq!(triage_outcomes(&events), 0);
    // Two downloads and one refused ranged read (its 200 not read).
    let gets = rig.download_requests();
    assert_eq!(gets.values().sum::<usize>(), 2 + 1, "{gets:?}");
    assert_eq!(ranged(&rig).len(), 0);

    // The last clip downloads as ever.
    cfg.retention.quota = None;
    let summary = rig.cycle(cfg).await.unwrap();
    assert_eq!(summary.clips, 1);
    assert!(summary.is_ok(), "{summary:?}");
    for name in &names {
        let row = rig.row(name).await;
        assert_eq!(row.state, ClipState::Done);
        let t = rig.store.track(row.id).await.unwrap().unwrap().track;
        assert_eq!(t.source, TrackSource::File);
        assert!(t.found());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clips_without_gps_index_are_recorded_once_and_failures_fail_nothing() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(500_000).gps(false)))
            .await;
    let names = rig.names();
    let mut cfg = triage_config(&rig, TriageMode::skeleton());
    cfg.retention.quota = Some(1); // no downloads: triage only
    // Every request for the middle clip is reset this cycle.
    rig.sim.inject(
        Fault::reset()
            .on(Target::PathContains(names[1].clone()))
            .times(1_000),
    );
    let err = rig.cycle(cfg.clone()).await.unwrap_err();
    assert!(err.is_disk_full(), "only the quota stopped it: {err:#}");
    let events = rig.events();
    let failed: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::TriageFailed { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![&names[1]], "{events:#?}");
    for (i, name) in names.iter().enumerate() {
        let row = rig.row(name).await;
        assert_eq!(row.state, ClipState::Pending, "the clip is not failed");
        assert_eq!((row.attempts, row.last_error.as_deref()), (0, None));
        let track = rig.store.track(row.id).await.unwrap();
        if i == 1 {
            assert_eq!(track, None, "nothing stored for the failed triage");
        } else {
            let t = track.unwrap().track;
            assert_eq!(t.source, TrackSource::Triage);
            assert!(t.points.is_empty());
            let why = t.no_track.unwrap();
            assert!(why.contains("no `gps ` index"), "{why}");
        }
    }

    // Next cycle: only the clip that failed is read again.
    rig.sim.clear_faults();
    let before = ranged(&rig);
    rig.clear_events();
    let err = rig.cycle(cfg).await.unwrap_err();
    assert!(err.is_disk_full(), "{err:#}");
    let after = ranged(&rig);
    for (i, name) in names.iter().enumerate() {
        let (b, a) = (before.get(name), after.get(name));
        if i == 1 {
            assert!(a > b, "{name} triaged again");
        } else {
            assert_eq!(a, b, "{name} not read again");
        }
    }
    let none: Vec<String> = rig
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::TriageNone { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(none, vec![names[1].clone()]);
}
