//! Generates the state database of a year of driving (issue 24): clips
//! archived with their GPS tracks and the journeys over them, to measure
//! what grows with the archive (`status`, `queue`, `trips`, an idle
//! re-sync, adding a clip to a journey).
//!
//! ```sh
//! cargo run --release -p viofo-pipeline --example year_store -- --db /tmp/year/state.db
//! cargo run --release -p viofo-pipeline --example year_store -- --db /tmp/year/state.db --clips 20000
//! ```
//!
//! Camera `year`, clock at UTC. Before the card, one recording a minute
//! (front and rear, 40 KB each, both with a 60-fix track) in two drives a
//! day, 08:00 and 17:00, for as many days back as `--clips` needs, all
//! `done`; a 5-recording drive and a 1,000-recording drive on the two days
//! before the year (journeys of 10 and 2,000 clips). Then the card of
//! `viofosync sim --clips CARD --clip-size 40KB --rear` (its names, from
//! 2025-12-24 12:00, one a minute) recorded as archived too, so a sync of
//! that simulator with `--camera-id year` has nothing to download (the
//! idle re-sync). Journeys are computed day by day without GPX files
//! (gigabytes of them for a year). At the end it times adding one clip to
//! the end of the 10-clip and of the 2,000-clip journey (GPX on), and
//! prints the commands that measure the rest.

#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use time::macros::datetime;
use time::{PrimitiveDateTime, format_description};
use viofo_pipeline::SyncConfig;
use viofo_pipeline::journeys::{JourneySettings, update_journeys_around};
use viofo_store::{
    Channel, GpsSummary, ImportedClip, ListedClip, Store, StoreOptions, Track, TrackPoint,
    TrackSource,
};

const CAMERA: &str = "year";
const SIZE: u64 = 40_000;
const MIN: i64 = 60_000;
/// The simulator's first clip.
const CARD_START: PrimitiveDateTime = datetime!(2025-12-24 12:00:00);

struct Args {
    db: PathBuf,
    clips: u64,
    card: u64,
}

fn args() -> Args {
    let mut a = Args {
        db: PathBuf::new(),
        clips: 200_000,
        card: 700,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--db" => a.db = PathBuf::from(v),
            "--clips" => a.clips = v.parse().expect("--clips N"),
            "--card" => a.card = v.parse().expect("--card N (recordings)"),
            _ => panic!("unknown argument {k}; see the example's header"),
        }
    }
    assert!(!a.db.as_os_str().is_empty(), "--db PATH is required");
    a
}

fn ms(t: PrimitiveDateTime) -> i64 {
    i64::try_from(t.assume_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// One recording (front and rear) at `start`, sequence `seq`, on a drive
/// that has gone `along` metres north.
fn recording(start: PrimitiveDateTime, seq: u64, along: f64) -> Vec<ImportedClip> {
    let fmt = format_description::parse_borrowed::<2>("[year]_[month][day]_[hour][minute][second]")
        .unwrap();
    let at = ms(start);
    let points: Vec<TrackPoint> = (0..60)
        .map(|i| TrackPoint {
            time_ms: at + i * 1000,
            lat: 48.0 + (along + 14.0 * i as f64) / 111_195.0,
            lon: 2.0,
            speed_mps: 14.0,
            course_deg: 0.0,
        })
        .collect();
    let summary = GpsSummary {
        points: 60,
        first_fix_ms: Some(at),
        last_fix_ms: Some(at + 59_000),
        distance_m: 14.0 * 59.0,
        bbox: Some([
            2.0,
            48.0 + along / 111_195.0,
            2.0,
            48.0 + (along + 14.0 * 59.0) / 111_195.0,
        ]),
        max_speed_mps: 14.0,
    };
    [('F', Channel::Front), ('R', Channel::Rear)]
        .into_iter()
        .map(|(letter, channel)| {
            let name = format!("{}_{seq:06}{letter}.MP4", start.format(&fmt).unwrap());
            ImportedClip {
                clip: ListedClip {
                    remote_path: format!("/DCIM/Movie/{name}"),
                    name: name.clone(),
                    size: SIZE,
                    size_exact: true,
                    locked: false,
                    parking: false,
                    channel,
                    recorded_at: Some(at),
                },
                local_path: PathBuf::from(format!("/year-archive/{name}")),
                local_size: SIZE,
                gps: Some(summary.clone()),
                track: Some(Track {
                    source: TrackSource::File,
                    mode: None,
                    clip_size: SIZE,
                    summary: summary.clone(),
                    points: points.clone(),
                    no_track: None,
                }),
            }
        })
        .collect()
}

/// Records `clips` as archived, 2,000 to a transaction.
async fn import(store: &Store, clips: &mut Vec<ImportedClip>, force: bool) {
    if clips.len() >= 2_000 || (force && !clips.is_empty()) {
        store
            .record_imports(CAMERA, std::mem::take(clips))
            .await
            .expect("recording the clips");
    }
}

fn config(gpx: bool) -> SyncConfig {
    let mut cfg = SyncConfig::new(CAMERA, std::env::temp_dir().join("year-store-archive"));
    cfg.journeys = Some(JourneySettings {
        gpx,
        ..JourneySettings::default()
    });
    cfg
}

/// A drive of `n` recordings from `start`, one a minute.
async fn drive(
    store: &Store,
    buf: &mut Vec<ImportedClip>,
    start: PrimitiveDateTime,
    n: u64,
    seq: &mut u64,
) {
    for k in 0..n {
        let at = start + Duration::from_secs(60 * k);
        *seq += 1;
        buf.extend(recording(at, *seq, 840.0 * k as f64));
        import(store, buf, false).await;
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    if let Some(dir) = a.db.parent() {
        std::fs::create_dir_all(dir).expect("creating the database's folder");
    }
    let store = Store::open(StoreOptions::at(&a.db))
        .await
        .expect("opening the store");
    let t = Instant::now();
    let per_drive = 137u64;
    let recordings = a.clips / 2;
    let days = recordings.div_ceil(2 * per_drive);
    let first_day = CARD_START.date() - time::Duration::days(i64::try_from(days).unwrap_or(0));
    let mut buf = Vec::new();
    let mut seq = 0u64;
    // The two measured journeys, before the year.
    let short = first_day
        .previous_day()
        .unwrap()
        .previous_day()
        .unwrap()
        .with_hms(8, 0, 0)
        .unwrap();
    let long = first_day.previous_day().unwrap().with_hms(6, 0, 0).unwrap();
    drive(&store, &mut buf, short, 5, &mut seq).await;
    drive(&store, &mut buf, long, 1_000, &mut seq).await;
    let mut left = recordings;
    let mut day = first_day;
    while left > 0 {
        for hour in [8, 17] {
            let n = left.min(per_drive);
            drive(
                &store,
                &mut buf,
                day.with_hms(hour, 0, 0).unwrap(),
                n,
                &mut seq,
            )
            .await;
            left -= n;
        }
        day = day.next_day().unwrap();
    }
    // The card, as the simulator names it (sequence from 1).
    let mut card_seq = 0u64;
    drive(&store, &mut buf, CARD_START, a.card, &mut card_seq).await;
    import(&store, &mut buf, true).await;
    println!("clips recorded in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let cfg = config(false);
    let mut day = short.date();
    while day <= CARD_START.date() {
        let from = ms(day.midnight());
        update_journeys_around(&store, CAMERA, &cfg, from, from + 24 * 60 * MIN - 1)
            .await
            .expect("journeys");
        day = day.next_day().unwrap();
    }
    let counts = store.counts(Some(CAMERA)).await.unwrap();
    let journeys = store
        .journeys(Some(CAMERA), None, u32::MAX)
        .await
        .unwrap()
        .len();
    println!(
        "journeys computed in {:.1} s: {} clips, {journeys} journeys",
        t.elapsed().as_secs_f64(),
        counts.total()
    );
    // Adding one clip to the end of a 10-clip and of a 2,000-clip journey,
    // its merged GPX written (as a sync does).
    let cfg = config(true);
    for (what, start, n) in [("10-clip", short, 5u64), ("2,000-clip", long, 1_000)] {
        let at = start + Duration::from_secs(60 * n);
        seq += 1;
        let mut one = recording(at, seq, 840.0 * n as f64);
        one.truncate(1);
        store.record_imports(CAMERA, one).await.unwrap();
        let t = Instant::now();
        update_journeys_around(&store, CAMERA, &cfg, ms(at), ms(at) + 59_000)
            .await
            .expect("journeys");
        println!(
            "one clip added to the {what} journey: {:.1} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    store.close().await.expect("closing the store");
    let db = a.db.display();
    println!("measure:");
    println!("  viofosync status --state-db {db} --camera-id {CAMERA}");
    println!("  viofosync queue --state-db {db} --camera-id {CAMERA} --state failed");
    println!("  viofosync trips --state-db {db} --camera-id {CAMERA} --since 30d");
    println!(
        "  viofosync sim --clips {} --clip-size 40KB --rear & viofosync sync --state-db {db} \\\n    --camera-id {CAMERA} --address http://127.0.0.1:PORT --archive EMPTY_FOLDER",
        a.card
    );
}
