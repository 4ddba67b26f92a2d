//! A journey's figures from its moments: ends, places, distance, moving
//! time, top speed, clips and bytes.

use viofo_store::TrackPoint;

use super::moments::{Moment, channel_rank, merged};
use super::{ChannelCount, Journey, JourneyOptions, Position, is_downloaded};
use crate::places::{Place, haversine_m, place_at};

pub(super) fn journey(
    run: &[&Moment<'_>],
    places: &[Place],
    opts: &JourneyOptions,
    gap_ms: i64,
) -> Journey {
    let start_ms = run.iter().map(|m| m.start_ms).min().unwrap_or(0);
    let end_ms = run.iter().map(|m| m.end_ms).max().unwrap_or(start_ms);
    let points = merged(run.iter().copied());
    let mut distance_m = 0.0;
    let mut moving_ms = 0i64;
    let mut max_speed_mps = 0.0f64;
    for p in &points {
        if p.speed_mps.is_finite() {
            max_speed_mps = max_speed_mps.max(f64::from(p.speed_mps));
        }
    }
    for w in points.windows(2) {
        let [a, b] = w else { continue };
        distance_m += haversine_m(a.lat, a.lon, b.lat, b.lon);
        let dt = b.time_ms.saturating_sub(a.time_ms);
        let speed = (f64::from(a.speed_mps) + f64::from(b.speed_mps)) / 2.0;
        if dt > 0 && dt <= gap_ms && speed > opts.moving_mps {
            moving_ms = moving_ms.saturating_add(dt);
        }
    }
    let pos = |p: &TrackPoint| Position {
        lat: p.lat,
        lon: p.lon,
    };
    let start_pos = points.first().map(pos);
    let end_pos = points.last().map(pos);
    let name_of = |p: Option<Position>| {
        p.and_then(|p| place_at(places, p.lat, p.lon))
            .map(|p| p.name.clone())
    };
    let mut channels: Vec<ChannelCount> = Vec::new();
    let (mut bytes, mut downloaded_bytes) = (0u64, 0u64);
    let mut clips = Vec::new();
    for c in run.iter().flat_map(|m| m.clips.iter()) {
        clips.push(c.id);
        bytes = bytes.saturating_add(c.size);
        if is_downloaded(c.state) {
            downloaded_bytes = downloaded_bytes.saturating_add(c.size);
        }
        match channels.iter_mut().find(|x| x.channel == c.channel) {
            Some(x) => x.clips += 1,
            None => channels.push(ChannelCount {
                channel: c.channel,
                clips: 1,
            }),
        }
    }
    channels.sort_by_key(|x| channel_rank(x.channel));
    Journey {
        start_ms,
        end_ms,
        from_place: name_of(start_pos),
        to_place: name_of(end_pos),
        start_pos,
        end_pos,
        distance_m,
        moving_ms,
        max_speed_mps,
        channels,
        clips,
        bytes,
        downloaded_bytes,
        points,
    }
}
