//! A journey's outputs (issue 19): the merged track of its clips is the
//! track detection gives it; its GeoJSON and its GPX document read back
//! through the geojson and gpx crates' readers.

use proptest::prelude::*;
use time::macros::offset;
use viofo_pipeline::CameraClock;
use viofo_pipeline::journeys::output::{geojson, journey_json, track_name, write_gpx};
use viofo_pipeline::journeys::{JourneyClip, JourneyOptions, detect, merge_tracks};
use viofo_store::{Channel, ClipId, ClipState, JourneyId, JourneyRow, TrackPoint};

/// 2026-03-29 07:05 UTC.
const T0: i64 = 1_774_767_900_000;

fn fix(time_ms: i64, lat: f64) -> TrackPoint {
    TrackPoint {
        time_ms,
        lat,
        lon: 2.25,
        speed_mps: 10.0,
        course_deg: 90.0,
    }
}

fn clip(id: i64, channel: Channel, recorded_at: i64, points: Vec<TrackPoint>) -> JourneyClip {
    JourneyClip {
        id: ClipId(id),
        name: format!("clip{id}{}", channel.as_str()),
        channel,
        parking: false,
        recorded_at: Some(recorded_at),
        size: 1_000,
        state: ClipState::Done,
        points,
    }
}

#[test]
fn the_merged_track_takes_one_channel_per_moment_in_time_order() {
    // Given out of order: the second moment first, each with a rear clip
    // whose fixes lie elsewhere; one front fix without a position.
    let second = T0 + 60_000;
    let clips = vec![
        clip(3, Channel::Rear, second, vec![fix(second, 10.0)]),
        clip(2, Channel::Front, second, vec![fix(second, 48.1)]),
        clip(1, Channel::Rear, T0, vec![fix(T0, 10.0)]),
        clip(
            0,
            Channel::Front,
            T0,
            vec![
                fix(T0, 48.0),
                fix(T0 + 1000, f64::NAN),
                fix(T0 + 2000, 48.01),
            ],
        ),
    ];
    let merged = merge_tracks(&clips);
    let lats: Vec<f64> = merged.iter().map(|p| p.lat).collect();
    assert_eq!(lats, [48.0, 48.01, 48.1]);
    // A moment without a front track takes the rear's.
    let rear_only = merge_tracks(&clips[..1]);
    assert_eq!(rear_only, [fix(second, 10.0)]);
    assert!(merge_tracks(&[]).is_empty());
}

fn arb_clip() -> impl Strategy<Value = JourneyClip> {
    (
        0i64..40,
        prop_oneof![Just(Channel::Front), Just(Channel::Rear)],
        any::<bool>(),
        0usize..4,
        any::<bool>(),
    )
        .prop_map(|(slot, channel, parking, fixes, named)| {
            let at = T0 + slot * 60_000;
            let points = (0..fixes)
                .map(|k| {
                    let t = at + i64::try_from(k).unwrap() * 20_000;
                    fix(t, 48.0 + f64::from(u32::try_from(k).unwrap()) / 1e4)
                })
                .collect();
            JourneyClip {
                parking,
                recorded_at: named.then_some(at),
                ..clip(slot, channel, at, points)
            }
        })
}

proptest! {
    /// For any clips, each detected journey's track is the merge of its
    /// own clips: the merge needs no detection (the old `trips` output
    /// ran detection with a gap of ages to get it).
    #[test]
    fn merging_a_journeys_clips_gives_its_detected_track(
        clips in proptest::collection::vec(arb_clip(), 0..24),
        gap_min in 1u64..10,
    ) {
        let opts = JourneyOptions {
            gap: std::time::Duration::from_secs(gap_min * 60),
            clock: CameraClock::new(offset!(+2)),
            ..JourneyOptions::default()
        };
        // Ids unique, as in the store.
        let clips: Vec<JourneyClip> = clips
            .into_iter()
            .zip(0..)
            .map(|(c, id)| JourneyClip { id: ClipId(id), ..c })
            .collect();
        for j in detect(&clips, &[], &opts) {
            let mine: Vec<JourneyClip> = clips
                .iter()
                .filter(|c| j.clips.contains(&c.id))
                .cloned()
                .collect();
            prop_assert_eq!(merge_tracks(&mine), j.points);
        }
    }
}

fn row(id: i64, start_ms: i64, from: Option<&str>) -> JourneyRow {
    JourneyRow {
        id: JourneyId(id),
        camera_id: "cam".into(),
        start_ms,
        end_ms: start_ms + 60_000,
        start_pos: Some((48.0, 2.25)),
        end_pos: None,
        from_place: from.map(str::to_owned),
        to_place: None,
        distance_m: 1234.5,
        moving_ms: 61_000,
        max_speed_mps: 10.0,
        clips: 2,
        channels: vec![(Channel::Front, 2)],
        bytes: 2_000,
        downloaded_bytes: 1_000,
        gpx_path: None,
        updated_at: 0,
    }
}

fn two_journeys() -> Vec<(JourneyRow, Vec<TrackPoint>)> {
    vec![
        (
            row(2, T0 + 3_600_000, None),
            vec![fix(T0 + 3_600_000, 48.5)],
        ),
        (
            row(1, T0, Some("Home")),
            vec![fix(T0, 48.0), fix(T0 + 1000, 48.001)],
        ),
    ]
}

#[test]
fn geojson_reads_back_as_a_feature_per_journey() {
    let journeys = two_journeys();
    let text = geojson(&journeys).to_string();
    let fc: geojson::FeatureCollection = text.parse().unwrap();
    assert_eq!(fc.features.len(), 2, "{text}");
    for (f, (j, points)) in fc.features.iter().zip(&journeys) {
        let Some(geojson::GeometryValue::LineString { coordinates }) =
            f.geometry.as_ref().map(|g| &g.value)
        else {
            panic!("not a line string: {text}")
        };
        let read: Vec<[f64; 2]> = coordinates.iter().map(|c| [c[0], c[1]]).collect();
        let written: Vec<[f64; 2]> = points.iter().map(|p| [p.lon, p.lat]).collect();
        assert_eq!(read, written);
        let props = serde_json::Value::Object(f.properties.clone().unwrap());
        assert_eq!(props, journey_json(j));
    }
    let props = fc.features[1].properties.as_ref().unwrap();
    assert_eq!(props["from"], "Home");
    assert_eq!(props["start"], "2026-03-29T07:05:00Z");
    assert_eq!(props["downloaded_fraction"], 0.5);
    let empty: geojson::FeatureCollection = geojson(&[]).to_string().parse().unwrap();
    assert!(empty.features.is_empty());
}

#[test]
fn gpx_reads_back_as_a_named_track_per_journey() {
    let journeys = two_journeys();
    let clock = CameraClock::new(offset!(+2));
    let mut out = Vec::new();
    write_gpx(&journeys, clock, &mut out).unwrap();
    let doc = gpx::read(out.as_slice()).unwrap();
    assert_eq!(doc.tracks.len(), 2);
    for (t, (j, points)) in doc.tracks.iter().zip(&journeys) {
        assert_eq!(t.name.as_deref(), Some(track_name(j, clock).as_str()));
        let read: Vec<(i64, f64, f64)> = t.segments[0]
            .points
            .iter()
            .map(|w| {
                let at = time::OffsetDateTime::from(w.time.unwrap());
                let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap();
                (ms, w.point().y(), w.point().x())
            })
            .collect();
        let written: Vec<(i64, f64, f64)> =
            points.iter().map(|p| (p.time_ms, p.lat, p.lon)).collect();
        assert_eq!(read, written);
    }
    assert_eq!(
        doc.tracks[1].name.as_deref(),
        Some("Sun 2026-03-29 09:05-09:06 Home-unknown")
    );
    let mut none = Vec::new();
    write_gpx(&[], clock, &mut none).unwrap();
    assert!(gpx::read(none.as_slice()).unwrap().tracks.is_empty());
}
