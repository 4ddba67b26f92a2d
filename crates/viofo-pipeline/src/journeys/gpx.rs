//! A journey's merged GPX file in `<archive>/journeys/`:
//! `YYYY-MM-DD_HHMM_<from>-<to>.gpx` (the start on the camera's clock; the
//! places' names, or `unknown`, reduced to `[A-Za-z0-9_-]`), written
//! atomically (`.part`, fsync, rename, fsync of the folder).

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use viofo_store::TrackPoint;

use crate::CameraClock;

/// The folder of the journeys' GPX files inside the archive.
pub const JOURNEYS_DIR: &str = "journeys";

/// Longest place part kept in a file name, in characters.
const MAX_PLACE_LEN: usize = 40;

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`
/// (at most 40 characters); `unknown` for none or an empty name.
pub fn sanitize(name: Option<&str>) -> String {
    let s: String = name
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_PLACE_LEN)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "unknown".into() } else { s }
}

/// The file name of a journey starting at `start_ms` (UTC) between two
/// places.
pub fn file_name(
    start_ms: i64,
    from: Option<&str>,
    to: Option<&str>,
    clock: CameraClock,
) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(start_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let l = clock.local_at(at);
    format!(
        "{:04}-{:02}-{:02}_{:02}{:02}_{}-{}.gpx",
        l.year(),
        u8::from(l.month()),
        l.day(),
        l.hour(),
        l.minute(),
        sanitize(from),
        sanitize(to)
    )
}

/// The stored fixes as the GPS crate's points (a fix whose time is out of
/// range left out), one at a time.
pub(super) fn gps_points(points: &[TrackPoint]) -> impl Iterator<Item = viofo_gps::Point> + '_ {
    points.iter().filter_map(|p| {
        let time =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(p.time_ms) * 1_000_000).ok()?;
        Some(viofo_gps::Point {
            time,
            lat: p.lat,
            lon: p.lon,
            speed_mps: f64::from(p.speed_mps),
            course_deg: f64::from(p.course_deg),
            accel: None,
        })
    })
}

/// Writes the track to `dir/name` through the archive's one write of a
/// derived file ([`crate::archive::write_derived`]: a temporary file
/// beside it, synced, renamed over the final name, the folder synced). A
/// failure leaves no temporary file behind.
pub fn write_gpx(
    dir: &Path,
    name: &str,
    title: &str,
    points: &[TrackPoint],
) -> std::io::Result<PathBuf> {
    let dest = dir.join(name);
    crate::archive::write_derived_with(&dest, |w| {
        viofo_gps::write_gpx_iter(gps_points(points), Some(title), w)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", dest.display())))
    })?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use time::macros::offset;

    use super::*;

    #[test]
    fn names_are_sanitised_and_on_the_camera_clock() {
        assert_eq!(sanitize(Some("Home")), "Home");
        assert_eq!(sanitize(Some("../Mum's place/ é")), "___Mum_s_place___");
        assert_eq!(sanitize(Some("  ")), "unknown");
        assert_eq!(sanitize(None), "unknown");
        assert_eq!(sanitize(Some(&"x".repeat(100))).len(), 40);
        // 2026-03-29 07:05 UTC, camera at UTC+2.
        let t = 1_774_767_900_000;
        assert_eq!(
            file_name(t, Some("Home"), None, CameraClock::new(offset!(+2))),
            "2026-03-29_0905_Home-unknown.gpx"
        );
    }

    #[test]
    fn the_file_is_written_whole_and_leaves_no_part() {
        let dir = tempfile::tempdir().unwrap();
        let pts = vec![TrackPoint {
            time_ms: 1_774_767_900_000,
            lat: 48.5,
            lon: 2.25,
            speed_mps: 10.0,
            course_deg: 90.0,
        }];
        let sub = dir.path().join("journeys");
        let p = write_gpx(&sub, "a.gpx", "trip", &pts).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("lat=\"48.5\" lon=\"2.25\""), "{text}");
        assert!(text.contains("<name>trip</name>"));
        assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 1);
    }
}
