//! A stored journey's outputs for people and programs: the span that names
//! it ("Tue 2026-03-24 08:12-08:47"), its JSON object (and its clips'), a
//! GeoJSON `FeatureCollection` of journeys (a `LineString` each, through
//! the `geojson` crate) and one GPX document with a track per journey
//! (viofo-gps's writer, the one the journeys' files are written with).

use std::io::Write;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use viofo_store::{ClipRow, JourneyRow, TrackPoint};

use super::gpx::{gps_points, sanitize};
use crate::CameraClock;

fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn rfc3339(ms: i64) -> String {
    utc(ms).format(&Rfc3339).unwrap_or_default()
}

/// When a journey ran on the camera's clock: "Tue 2026-03-24 08:12-08:47",
/// the end's day too when it is another ("… 23:50-2026-03-25 00:10").
pub fn span(j: &JourneyRow, clock: CameraClock) -> String {
    let (a, b) = (
        clock.local_at(utc(j.start_ms)),
        clock.local_at(utc(j.end_ms)),
    );
    let day = a.weekday().to_string();
    let end = if a.date() == b.date() {
        format!("{:02}:{:02}", b.hour(), b.minute())
    } else {
        format!("{} {:02}:{:02}", b.date(), b.hour(), b.minute())
    };
    format!(
        "{} {} {:02}:{:02}-{end}",
        day.get(..3).unwrap_or(&day),
        a.date(),
        a.hour(),
        a.minute()
    )
}

/// A journey's GPX track name: its [`span`] and its places, as its file is
/// named ("Tue 2026-03-24 08:12-08:47 Home-unknown").
pub fn track_name(j: &JourneyRow, clock: CameraClock) -> String {
    format!(
        "{} {}-{}",
        span(j, clock),
        sanitize(j.from_place.as_deref()),
        sanitize(j.to_place.as_deref())
    )
}

fn position(p: Option<(f64, f64)>) -> Value {
    p.map_or(Value::Null, |(lat, lon)| json!({ "lat": lat, "lon": lon }))
}

/// A journey as a JSON object (times in RFC 3339 and UTC ms, places,
/// positions, figures, clips per channel, bytes, its GPX file).
pub fn journey_json(j: &JourneyRow) -> Value {
    let channels: Map<String, Value> = j
        .channels
        .iter()
        .map(|(c, n)| (c.as_str().to_owned(), Value::from(*n)))
        .collect();
    json!({
        "id": j.id.0,
        "camera_id": j.camera_id,
        "start": rfc3339(j.start_ms),
        "end": rfc3339(j.end_ms),
        "start_ms": j.start_ms,
        "end_ms": j.end_ms,
        "from": j.from_place,
        "to": j.to_place,
        "start_position": position(j.start_pos),
        "end_position": position(j.end_pos),
        "distance_m": j.distance_m,
        "moving_s": j.moving_ms / 1000,
        "max_speed_mps": j.max_speed_mps,
        "clips": j.clips,
        "channels": channels,
        "bytes": j.bytes,
        "downloaded_bytes": j.downloaded_bytes,
        "downloaded_fraction": j.downloaded_fraction(),
        "gpx": j.gpx_path,
    })
}

/// One of a journey's clips as a JSON object.
pub fn clip_json(c: &ClipRow) -> Value {
    json!({
        "id": c.id.0,
        "name": c.name,
        "channel": c.channel.as_str(),
        "locked": c.locked,
        "size": c.size,
        "state": c.state.as_str(),
        "local_path": c.local_path,
    })
}

/// A GeoJSON `FeatureCollection` with a `Feature` per journey, in order:
/// its merged track as a `LineString` (`[lon, lat]`), its
/// [`journey_json`] as the properties.
pub fn geojson(journeys: &[(JourneyRow, Vec<TrackPoint>)]) -> geojson::FeatureCollection {
    journeys
        .iter()
        .map(|(j, points)| {
            let properties = match journey_json(j) {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            geojson::Feature {
                geometry: Some(geojson::Geometry::new_line_string(
                    points.iter().map(|p| [p.lon, p.lat]),
                )),
                properties: Some(properties),
                ..geojson::Feature::default()
            }
        })
        .collect()
}

/// One GPX document with a track per journey, in order, each named by
/// [`track_name`] (no journeys: a document without tracks).
///
/// # Errors
/// Write failures.
pub fn write_gpx<W: Write>(
    journeys: &[(JourneyRow, Vec<TrackPoint>)],
    clock: CameraClock,
    w: W,
) -> Result<(), viofo_gps::Error> {
    let named: Vec<(String, Vec<viofo_gps::Point>)> = journeys
        .iter()
        .map(|(j, points)| (track_name(j, clock), gps_points(points).collect()))
        .collect();
    let tracks: Vec<viofo_gps::GpxTrack<'_>> = named
        .iter()
        .map(|(name, points)| viofo_gps::GpxTrack {
            name: Some(name),
            points,
        })
        .collect();
    viofo_gps::write_gpx_tracks(&tracks, w)
}
