//! Journey detection: gaps, parking, offsets, daylight saving time, clips
//! without a fix, places, channels and bytes.

use time::macros::offset;
use viofo_store::{Channel, ClipId, ClipState, TrackPoint};

use super::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
/// 2026-03-29 00:00 UTC (Europe's spring change is at 01:00 UTC).
const T0: i64 = 1_774_742_400_000;

/// A clip of `secs` seconds, one fix a second from `utc` moving north at
/// `speed` m/s from (`lat`, 2.0); named at `utc + local_offset`.
#[allow(clippy::too_many_arguments)]
fn clip(
    id: i64,
    channel: Channel,
    parking: bool,
    utc: i64,
    local_offset: i64,
    secs: i64,
    lat: f64,
    speed: f32,
    fixes: bool,
) -> JourneyClip {
    let points = if fixes {
        (0..secs)
            .map(|i| TrackPoint {
                time_ms: utc + i * 1000,
                // 1 m of latitude is 1/111_195 degrees.
                lat: lat + f64::from(speed) * (i as f64) / 111_195.0,
                lon: 2.0,
                speed_mps: speed,
                course_deg: 0.0,
            })
            .collect()
    } else {
        Vec::new()
    };
    JourneyClip {
        id: ClipId(id),
        name: format!("clip{id}{}", channel.as_str()),
        channel,
        parking,
        recorded_at: Some(utc + local_offset),
        size: 1_000,
        state: ClipState::Pending,
        points,
    }
}

fn drive(id: i64, utc: i64, lat: f64) -> JourneyClip {
    clip(id, Channel::Front, false, utc, 0, 180, lat, 10.0, true)
}

fn ids(j: &Journey) -> Vec<i64> {
    j.clips.iter().map(|c| c.0).collect()
}

#[test]
fn back_to_back_clips_of_two_channels_make_one_journey() {
    let mut clips = Vec::new();
    for k in 0..3 {
        let t = T0 + k * 3 * MIN;
        let lat = 48.0 + (k as f64) * 1800.0 / 111_195.0;
        clips.push(clip(
            10 + k,
            Channel::Front,
            false,
            t,
            0,
            180,
            lat,
            10.0,
            true,
        ));
        // The rear channel's track is ignored for positions (no fixes
        // far off would change the distance if it were used).
        let mut rear = clip(20 + k, Channel::Rear, false, t, 0, 180, 10.0, 10.0, true);
        rear.size = 500;
        clips.push(rear);
    }
    clips.get_mut(0).expect("clip").state = ClipState::Done;
    clips.get_mut(1).expect("clip").state = ClipState::Downloaded;
    clips.reverse(); // any order
    let js = detect(&clips, &[], &JourneyOptions::default());
    assert_eq!(js.len(), 1, "{js:?}");
    let j = js.first().expect("journey");
    assert_eq!(ids(j), vec![10, 20, 11, 21, 12, 22]);
    assert_eq!(j.start_ms, T0);
    assert_eq!(j.end_ms, T0 + 6 * MIN + 179_000);
    assert_eq!(
        j.channels,
        vec![
            ChannelCount {
                channel: Channel::Front,
                clips: 3
            },
            ChannelCount {
                channel: Channel::Rear,
                clips: 3
            },
        ]
    );
    // 9 minutes at 10 m/s, less the 3 missing seconds' worth.
    assert!((j.distance_m - 5_390.0).abs() < 15.0, "{}", j.distance_m);
    assert_eq!(j.max_speed_mps, 10.0);
    assert_eq!(j.moving_ms, 539_000);
    assert_eq!(j.bytes, 4_500);
    assert_eq!(j.downloaded_bytes, 1_500);
    assert!((j.downloaded_fraction() - 1.0 / 3.0).abs() < 1e-9);
    let first = j.start_pos.expect("start");
    assert!((first.lat - 48.0).abs() < 1e-9);
    assert_eq!(j.points.len(), 540);
}

#[test]
fn a_gap_longer_than_the_setting_splits() {
    let clips = vec![
        drive(1, T0, 48.0),
        drive(2, T0 + 3 * MIN, 48.1),
        // 3 + 3 minutes of clips, then 7 minutes later.
        drive(3, T0 + 5 * MIN + 59_000 + 7 * MIN, 48.2),
    ];
    let js = detect(&clips, &[], &JourneyOptions::default());
    assert_eq!(
        js.iter().map(ids).collect::<Vec<_>>(),
        vec![vec![1, 2], vec![3]]
    );
    // A gap of 10 minutes joins them.
    let opts = JourneyOptions {
        gap: Duration::from_secs(600),
        ..JourneyOptions::default()
    };
    assert_eq!(detect(&clips, &[], &opts).len(), 1);
    // Exactly at the gap still continues.
    let edge = vec![drive(1, T0, 48.0), drive(2, T0 + 179_000 + 5 * MIN, 48.1)];
    assert_eq!(detect(&edge, &[], &JourneyOptions::default()).len(), 1);
}

#[test]
fn parking_in_the_middle_splits_and_is_never_a_journey() {
    let clips = vec![
        drive(1, T0, 48.0),
        clip(
            2,
            Channel::Front,
            true,
            T0 + 3 * MIN,
            0,
            180,
            48.1,
            0.0,
            true,
        ),
        clip(
            3,
            Channel::Rear,
            true,
            T0 + 3 * MIN,
            0,
            180,
            48.1,
            0.0,
            false,
        ),
        drive(4, T0 + 6 * MIN, 48.1),
        clip(
            5,
            Channel::Front,
            true,
            T0 + 9 * MIN,
            0,
            180,
            48.1,
            0.0,
            false,
        ),
    ];
    let js = detect(&clips, &[], &JourneyOptions::default());
    assert_eq!(
        js.iter().map(ids).collect::<Vec<_>>(),
        vec![vec![1], vec![4]]
    );
    // Only parking: no journey.
    let parked = vec![clip(2, Channel::Front, true, T0, 0, 180, 48.1, 0.0, true)];
    assert!(detect(&parked, &[], &JourneyOptions::default()).is_empty());
}

#[test]
fn clips_without_a_fix_use_the_camera_clock_offset() {
    // A camera at UTC−8 names its clips 8 hours behind UTC; none has a fix.
    let clips = vec![
        clip(
            1,
            Channel::Front,
            false,
            T0,
            -8 * HOUR,
            180,
            0.0,
            0.0,
            false,
        ),
        clip(
            2,
            Channel::Front,
            false,
            T0 + 3 * MIN,
            -8 * HOUR,
            180,
            0.0,
            0.0,
            false,
        ),
        clip(
            3,
            Channel::Front,
            false,
            T0 + 30 * MIN,
            -8 * HOUR,
            180,
            0.0,
            0.0,
            false,
        ),
    ];
    let opts = JourneyOptions {
        clock: CameraClock::new(offset!(-8)),
        ..JourneyOptions::default()
    };
    let js = detect(&clips, &[], &opts);
    assert_eq!(
        js.iter().map(ids).collect::<Vec<_>>(),
        vec![vec![1, 2], vec![3]]
    );
    let j = js.first().expect("journey");
    assert_eq!((j.start_ms, j.end_ms), (T0, T0 + 3 * MIN));
    assert_eq!((j.start_pos, j.from_place.as_deref()), (None, None));
    assert_eq!((j.distance_m, j.moving_ms), (0.0, 0));
    // The same clips from a camera said to be at UTC: 8 hours off.
    let wrong = detect(&clips, &[], &JourneyOptions::default());
    assert_eq!(wrong.first().map(|j| j.start_ms), Some(T0 - 8 * HOUR));
}

#[test]
fn fixes_give_utc_whatever_the_clock_setting() {
    // Named at UTC+5:30; the track's times are UTC.
    let off = 5 * HOUR + 30 * MIN;
    let clips = vec![
        clip(1, Channel::Front, false, T0, off, 180, 48.0, 10.0, true),
        // No fix: its offset is learnt from its neighbour (the setting
        // says UTC, which would put it 5:30 away and split the journey).
        clip(
            2,
            Channel::Front,
            false,
            T0 + 3 * MIN,
            off,
            180,
            0.0,
            0.0,
            false,
        ),
    ];
    let js = detect(&clips, &[], &JourneyOptions::default());
    assert_eq!(js.len(), 1, "{js:?}");
    let j = js.first().expect("journey");
    assert_eq!((j.start_ms, j.end_ms), (T0, T0 + 3 * MIN));
}

#[test]
fn a_daylight_saving_change_between_clips_keeps_one_journey() {
    // The clock moved from UTC+1 to UTC+2 during the drive (the names jump
    // an hour, UTC does not). The clip without a fix is named in +2.
    let clips = vec![
        clip(
            1,
            Channel::Front,
            false,
            T0 + 54 * MIN,
            HOUR,
            180,
            48.0,
            10.0,
            true,
        ),
        clip(
            2,
            Channel::Front,
            false,
            T0 + 57 * MIN,
            2 * HOUR,
            180,
            0.0,
            0.0,
            false,
        ),
        clip(
            3,
            Channel::Front,
            false,
            T0 + 60 * MIN,
            2 * HOUR,
            180,
            48.1,
            10.0,
            true,
        ),
        // A later stand-alone clip without a fix, also in +2.
        clip(
            4,
            Channel::Front,
            false,
            T0 + 2 * HOUR,
            2 * HOUR,
            180,
            0.0,
            0.0,
            false,
        ),
    ];
    let opts = JourneyOptions {
        clock: CameraClock::new(offset!(+1)),
        ..JourneyOptions::default()
    };
    let js = detect(&clips, &[], &opts);
    assert_eq!(
        js.iter().map(ids).collect::<Vec<_>>(),
        vec![vec![1, 2, 3], vec![4]]
    );
    let j = js.first().expect("journey");
    assert_eq!(
        (j.start_ms, j.end_ms),
        (T0 + 54 * MIN, T0 + 62 * MIN + 59_000)
    );
    assert_eq!(js.get(1).map(|j| j.start_ms), Some(T0 + 2 * HOUR));
}

#[test]
fn clips_without_time_or_fix_are_left_out_and_places_name_the_ends() {
    let mut lost = clip(9, Channel::Front, false, T0, 0, 180, 0.0, 0.0, false);
    lost.recorded_at = None;
    let mut unnamed = drive(2, T0 + 3 * MIN, 48.0 + 1800.0 / 111_195.0);
    unnamed.recorded_at = None;
    let clips = vec![drive(1, T0, 48.0), unnamed, lost];
    let home = Place {
        name: "Home".into(),
        lat: 48.0,
        lon: 2.0,
        radius_m: 50.0,
        skip_parking: false,
    };
    let office = Place {
        name: "Office".into(),
        lat: 48.0 + 3590.0 / 111_195.0,
        lon: 2.0,
        radius_m: 50.0,
        skip_parking: false,
    };
    let js = detect(&clips, &[home, office], &JourneyOptions::default());
    assert_eq!(js.iter().map(ids).collect::<Vec<_>>(), vec![vec![1, 2]]);
    let j = js.first().expect("journey");
    assert_eq!(j.from_place.as_deref(), Some("Home"));
    assert_eq!(j.to_place.as_deref(), Some("Office"));
    assert!(detect(&[], &[], &JourneyOptions::default()).is_empty());
}

#[test]
fn standing_still_is_not_moving_time() {
    let clips = vec![
        clip(1, Channel::Front, false, T0, 0, 60, 48.0, 0.5, true),
        clip(2, Channel::Front, false, T0 + MIN, 0, 60, 48.1, 20.0, true),
    ];
    let j = detect(&clips, &[], &JourneyOptions::default());
    let j = j.first().expect("journey");
    // 59 s at 20 m/s, the join (0.5 and 20 average over 1) counts too.
    assert_eq!(j.moving_ms, 60_000);
    assert_eq!(j.max_speed_mps, 20.0);
}

#[test]
fn thinning_the_unused_channels_keeps_every_journey_the_same() {
    // Front and rear of each moment (the rear's fixes a little off and
    // longer), a moment with only a rear track, parking, a gap, a clip
    // without a recording time.
    let mut clips = Vec::new();
    for k in 0..6i64 {
        let utc = T0 + k * 3 * MIN + if k >= 4 { HOUR } else { 0 };
        let front = k != 2;
        clips.push(clip(
            2 * k,
            Channel::Front,
            k == 3,
            utc,
            HOUR,
            180,
            48.0,
            10.0,
            front,
        ));
        let mut rear = clip(
            2 * k + 1,
            Channel::Rear,
            k == 3,
            utc,
            HOUR,
            185,
            48.1,
            12.0,
            true,
        );
        for p in &mut rear.points {
            p.time_ms -= 2_000;
        }
        rear.points.swap(0, 3);
        clips.push(rear);
    }
    let mut loose = clip(
        99,
        Channel::Rear,
        false,
        T0 + 2 * HOUR,
        0,
        60,
        48.2,
        9.0,
        true,
    );
    loose.recorded_at = None;
    clips.push(loose);
    let opts = JourneyOptions {
        clock: CameraClock::new(offset!(+1)),
        ..JourneyOptions::default()
    };
    let before = detect(&clips, &[], &opts);
    let mut thin = clips.clone();
    moments::thin(&mut thin);
    let kept: usize = thin.iter().map(|c| c.points.len()).sum();
    let all: usize = clips.iter().map(|c| c.points.len()).sum();
    assert!(kept < all * 2 / 3, "kept {kept} of {all} fixes");
    assert_eq!(detect(&thin, &[], &opts), before);
    assert!(before.len() >= 2, "{before:?}");
}
