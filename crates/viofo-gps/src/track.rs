//! Points, extraction results, the spike filter and the summary.

use time::{OffsetDateTime, UtcOffset};

use crate::decode::BlockOutcome;
use crate::mp4box::MovieInfo;

/// One GPS fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Fix time, UTC.
    pub time: OffsetDateTime,
    /// Latitude in decimal degrees (negative = south).
    pub lat: f64,
    /// Longitude in decimal degrees (negative = west).
    pub lon: f64,
    /// Speed over ground, metres per second.
    pub speed_mps: f64,
    /// Course over ground, degrees in `0..360`.
    pub course_deg: f64,
    /// Accelerometer triple (g) where the layout has one.
    pub accel: Option<[f32; 3]>,
}

/// Extraction options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The camera's UTC offset, for firmware that writes local time labelled
    /// as UTC: times are shifted by minus this offset. Default UTC (no shift).
    pub utc_offset: UtcOffset,
    /// Drop spikes (see [`spike_filter`]). Default on.
    pub spike_filter: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            utc_offset: UtcOffset::UTC,
            spike_filter: true,
        }
    }
}

impl Options {
    /// Set the camera's UTC offset.
    #[must_use]
    pub fn utc_offset(mut self, offset: UtcOffset) -> Self {
        self.utc_offset = offset;
        self
    }

    /// Turn the spike filter on or off.
    #[must_use]
    pub fn spike_filter(mut self, on: bool) -> Self {
        self.spike_filter = on;
        self
    }
}

/// Where the blocks came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// No GPS blocks found.
    #[default]
    None,
    /// The `moov` → `gps ` index.
    Index,
    /// A scan of `mdat` for `free` boxes with the `GPS ` magic.
    Scan,
}

/// Counters describing an extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Where the blocks came from.
    pub source: Source,
    /// Entries in the `gps ` index (after clamping).
    pub index_entries: u64,
    /// Index entries that did not point at a GPS block inside `mdat`.
    pub bad_index_entries: u64,
    /// GPS blocks found (index or scan).
    pub blocks_seen: u64,
    /// Blocks that decoded to a valid fix.
    pub decoded: u64,
    /// Blocks without a fix (all zero or status `V`).
    pub skipped_no_fix: u64,
    /// Blocks with an impossible date, time or coordinate.
    pub dropped_invalid: u64,
    /// Fixes removed by the spike filter.
    pub dropped_spike: u64,
    /// Candidate blocks not retained because a fixed cap was reached
    /// (see [`MAX_RETAINED_BLOCKS`](crate::MAX_RETAINED_BLOCKS)); nonzero
    /// only on hostile or extreme input.
    pub retention_cap_hits: u64,
}

/// The result of extracting a clip's track.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Extraction {
    /// Fixes in file (index) order, times in UTC.
    pub points: Vec<Point>,
    /// What happened.
    pub stats: Stats,
    /// `mvhd` facts (creation time, duration) when the clip has a readable moov.
    pub movie: Option<MovieInfo>,
}

impl Extraction {
    /// Summary of the points.
    #[must_use]
    pub fn summary(&self) -> Summary {
        Summary::of(&self.points)
    }
}

/// Turn block outcomes (in order) into an extraction.
pub(crate) fn assemble(
    outcomes: impl IntoIterator<Item = BlockOutcome>,
    mut stats: Stats,
    movie: Option<MovieInfo>,
    opts: &Options,
) -> Extraction {
    let mut points = Vec::new();
    for o in outcomes {
        stats.blocks_seen += 1;
        match o {
            BlockOutcome::Fix(mut p) => {
                stats.decoded += 1;
                if opts.utc_offset != UtcOffset::UTC {
                    // The camera wrote local time labelled as UTC.
                    let local = time::PrimitiveDateTime::new(p.time.date(), p.time.time());
                    p.time = local
                        .assume_offset(opts.utc_offset)
                        .to_offset(UtcOffset::UTC);
                }
                points.push(p);
            }
            BlockOutcome::NoFix => stats.skipped_no_fix += 1,
            BlockOutcome::Invalid => stats.dropped_invalid += 1,
        }
    }
    if opts.spike_filter {
        let before = points.len();
        points = spike_filter(&points);
        stats.dropped_spike = (before - points.len()) as u64;
    }
    Extraction {
        points,
        stats,
        movie,
    }
}

/// Spike filter radius.
pub const SPIKE_RADIUS_M: f64 = 150.0;

/// Drop fixes more than 150 m from the median of the 5-point window
/// centred on them (latitude and longitude medians taken separately; the
/// window is shortened at the ends). Every fix is judged against the
/// unfiltered neighbours.
#[must_use]
pub fn spike_filter(points: &[Point]) -> Vec<Point> {
    let mut out = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let lo = i.saturating_sub(2);
        let hi = (i + 3).min(points.len());
        let win = points.get(lo..hi).unwrap_or(&[]);
        let mut lats: Vec<f64> = win.iter().map(|q| q.lat).collect();
        let mut lons: Vec<f64> = win.iter().map(|q| q.lon).collect();
        let (Some(mlat), Some(mlon)) = (median(&mut lats), median(&mut lons)) else {
            continue;
        };
        if haversine_m(p.lat, p.lon, mlat, mlon) <= SPIKE_RADIUS_M {
            out.push(*p);
        }
    }
    out
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        v.get(n / 2).copied()
    } else {
        Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0)
    }
}

/// Great-circle distance in metres (mean earth radius 6 371 008.8 m).
#[must_use]
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().min(1.0).asin()
}

/// Bounding box in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

/// What the store keeps about a track (plain data).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    /// Number of points.
    pub points: u64,
    /// Time of the first fix.
    pub first_fix: Option<OffsetDateTime>,
    /// Time of the last fix.
    pub last_fix: Option<OffsetDateTime>,
    /// Path length in metres (haversine between consecutive points).
    pub distance_m: f64,
    /// Bounding box; `None` without points.
    pub bbox: Option<BoundingBox>,
    /// Highest speed, metres per second (0 without points).
    pub max_speed_mps: f64,
}

impl Summary {
    /// Summarise points.
    #[must_use]
    pub fn of(points: &[Point]) -> Summary {
        let mut s = Summary {
            points: points.len() as u64,
            first_fix: points.first().map(|p| p.time),
            last_fix: points.last().map(|p| p.time),
            ..Summary::default()
        };
        for (i, p) in points.iter().enumerate() {
            if let Some(prev) = i.checked_sub(1).and_then(|j| points.get(j)) {
                s.distance_m += haversine_m(prev.lat, prev.lon, p.lat, p.lon);
            }
            s.max_speed_mps = s.max_speed_mps.max(p.speed_mps);
            let b = s.bbox.get_or_insert(BoundingBox {
                min_lat: p.lat,
                min_lon: p.lon,
                max_lat: p.lat,
                max_lon: p.lon,
            });
            b.min_lat = b.min_lat.min(p.lat);
            b.min_lon = b.min_lon.min(p.lon);
            b.max_lat = b.max_lat.max(p.lat);
            b.max_lon = b.max_lon.max(p.lon);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn pt(i: i64, lat: f64, lon: f64) -> Point {
        Point {
            time: datetime!(2025-01-01 0:00 UTC) + time::Duration::seconds(i),
            lat,
            lon,
            speed_mps: 10.0,
            course_deg: 0.0,
            accel: None,
        }
    }

    #[test]
    fn spike_filter_drops_a_jump_and_keeps_the_drive() {
        // ~11 m per step north, one fix 1 km off.
        let mut pts: Vec<Point> = (0..10)
            .map(|i| pt(i, 50.0 + 0.0001 * i as f64, 8.0))
            .collect();
        pts[5].lon += 0.014;
        let kept = spike_filter(&pts);
        assert_eq!(kept.len(), 9);
        assert!(kept.iter().all(|p| p.lon == 8.0));
    }

    #[test]
    fn spike_filter_keeps_fast_straight_motion() {
        // 40 m/s: neighbours are 80 m away, the median is the point itself.
        let pts: Vec<Point> = (0..10)
            .map(|i| pt(i, 50.0 + 0.00036 * i as f64, 8.0))
            .collect();
        assert_eq!(spike_filter(&pts).len(), 10);
    }

    #[test]
    fn haversine_one_degree_of_latitude() {
        let d = haversine_m(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn summary_of_points() {
        let pts = [pt(0, 50.0, 8.0), pt(1, 50.001, 8.0), pt(2, 50.001, 8.001)];
        let s = Summary::of(&pts);
        assert_eq!(s.points, 3);
        assert_eq!(s.first_fix, Some(pts[0].time));
        assert_eq!(s.last_fix, Some(pts[2].time));
        let expect = haversine_m(50.0, 8.0, 50.001, 8.0) + haversine_m(50.001, 8.0, 50.001, 8.001);
        assert!((s.distance_m - expect).abs() < 1e-6);
        let b = s.bbox.unwrap();
        assert_eq!(
            (b.min_lat, b.max_lat, b.min_lon, b.max_lon),
            (50.0, 50.001, 8.0, 8.001)
        );
        assert_eq!(Summary::of(&[]).bbox, None);
    }
}
