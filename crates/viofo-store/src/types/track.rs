//! A clip's stored GPS track ([`Track`], [`TrackRow`]): where it came from,
//! its summary and its fixes in a compact fixed-width encoding.

use std::fmt;

use super::GpsSummary;
use crate::error::{Error, Result};

/// Most fixes one stored track holds (4½ hours at one a second; 512 KiB
/// encoded). [`Store::set_track`](crate::Store::set_track) refuses more: a
/// caller thins a longer track first.
pub const MAX_TRACK_POINTS: usize = 16_384;

/// Longest `mode` label kept, in bytes.
pub const MAX_TRACK_MODE_LEN: usize = 64;

/// Longest `no_track` reason kept, in bytes (a longer one is cut at a
/// character boundary).
pub const MAX_NO_TRACK_LEN: usize = 1_000;

/// Bytes of one encoded fix.
const RECORD: usize = 32;

/// Where a track came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackSource {
    /// GPS triage: a few byte ranges read before the clip was downloaded.
    Triage,
    /// The downloaded file's extraction: replaces a triage track, and is
    /// never replaced by one.
    File,
}

impl TrackSource {
    /// The stored name: `triage` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackSource::Triage => "triage",
            TrackSource::File => "file",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "triage" => Ok(TrackSource::Triage),
            "file" => Ok(TrackSource::File),
            other => Err(Error::corrupt(format!("unknown track source {other:?}"))),
        }
    }
}

impl fmt::Display for TrackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored fix (what journeys and maps need; the accelerometer is not
/// kept).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// UTC time, ms since the epoch.
    pub time_ms: i64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Speed, m/s.
    pub speed_mps: f32,
    /// Course, degrees.
    pub course_deg: f32,
}

/// A clip's GPS track as given to [`Store::set_track`](crate::Store::set_track)
/// and read back by [`Store::track`](crate::Store::track).
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Triage or the downloaded file.
    pub source: TrackSource,
    /// How a triage fetched its blocks (`"full"`, `"skeleton 10s"`); `None`
    /// for a file track. Cut to [`MAX_TRACK_MODE_LEN`] bytes.
    pub mode: Option<String>,
    /// The clip's size in bytes when the track was taken.
    pub clip_size: u64,
    /// The summary (point count, first/last fix, distance, bbox, max speed).
    pub summary: GpsSummary,
    /// The fixes, at most [`MAX_TRACK_POINTS`].
    pub points: Vec<TrackPoint>,
    /// Why there is no track (`None` when one was found); cut to
    /// [`MAX_NO_TRACK_LEN`] bytes.
    pub no_track: Option<String>,
}

impl Track {
    /// A track with no fixes and the reason (a clip without a `gps ` index,
    /// a file without GPS), so it is not looked for again every cycle.
    pub fn none(
        source: TrackSource,
        mode: Option<String>,
        clip_size: u64,
        reason: impl Into<String>,
    ) -> Self {
        Track {
            source,
            mode,
            clip_size,
            summary: GpsSummary::default(),
            points: Vec::new(),
            no_track: Some(reason.into()),
        }
    }

    /// Whether it holds a track (`no_track` is unset).
    pub fn found(&self) -> bool {
        self.no_track.is_none()
    }
}

/// A stored track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRow {
    /// The clip.
    pub clip_id: super::ClipId,
    /// The track.
    pub track: Track,
    /// When it was stored, ms since the epoch.
    pub stored_at: i64,
}

/// What [`Store::set_track`](crate::Store::set_track) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTrack {
    /// Stored (new, or replacing a triage track, or a file track replacing
    /// a file track).
    Stored,
    /// A triage track was given for a clip that has a file track: the file
    /// track is kept.
    KeptFileTrack,
}

/// Cuts `s` to at most `max` bytes at a character boundary.
pub(crate) fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The fixes as fixed-width little-endian records.
pub(crate) fn encode_points(points: &[TrackPoint]) -> Result<Vec<u8>> {
    if points.len() > MAX_TRACK_POINTS {
        return Err(Error::invalid(format!(
            "a track of {} fixes: at most {MAX_TRACK_POINTS} are stored (thin it first)",
            points.len()
        )));
    }
    let mut out = Vec::with_capacity(points.len() * RECORD);
    for p in points {
        out.extend_from_slice(&p.time_ms.to_le_bytes());
        out.extend_from_slice(&p.lat.to_le_bytes());
        out.extend_from_slice(&p.lon.to_le_bytes());
        out.extend_from_slice(&p.speed_mps.to_le_bytes());
        out.extend_from_slice(&p.course_deg.to_le_bytes());
    }
    Ok(out)
}

/// Reads back [`encode_points`]' records.
pub(crate) fn decode_points(data: &[u8]) -> Result<Vec<TrackPoint>> {
    if !data.len().is_multiple_of(RECORD) || data.len() / RECORD > MAX_TRACK_POINTS {
        return Err(Error::corrupt(format!(
            "a stored track of {} bytes (records are {RECORD} bytes, at most {MAX_TRACK_POINTS})",
            data.len()
        )));
    }
    // Each record is exactly RECORD bytes (chunks_exact), so every field
    // is there; `get` keeps the decoding free of panicking paths anyway.
    let f8 = |r: &[u8], at: usize| {
        r.get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .unwrap_or_default()
    };
    let f4 = |r: &[u8], at: usize| {
        r.get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .unwrap_or_default()
    };
    Ok(data
        .chunks_exact(RECORD)
        .map(|r| TrackPoint {
            time_ms: i64::from_le_bytes(f8(r, 0)),
            lat: f64::from_le_bytes(f8(r, 8)),
            lon: f64::from_le_bytes(f8(r, 16)),
            speed_mps: f32::from_le_bytes(f4(r, 24)),
            course_deg: f32::from_le_bytes(f4(r, 28)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_and_bad_blobs_are_corrupt() {
        let pts = vec![
            TrackPoint {
                time_ms: 1_766_577_600_000,
                lat: 52.5,
                lon: -13.25,
                speed_mps: 12.5,
                course_deg: 270.0,
            },
            TrackPoint {
                time_ms: -1,
                lat: f64::MIN_POSITIVE,
                lon: 180.0,
                speed_mps: 0.0,
                course_deg: 0.1,
            },
        ];
        let blob = encode_points(&pts).unwrap();
        assert_eq!(blob.len(), 64);
        assert_eq!(decode_points(&blob).unwrap(), pts);
        assert!(decode_points(&blob[..63]).is_err());
        let too_many = vec![pts[0]; MAX_TRACK_POINTS + 1];
        assert!(encode_points(&too_many).unwrap_err().is_invalid_input());
    }

    #[test]
    fn cut_keeps_char_boundaries() {
        assert_eq!(cut("héllo".into(), 2), "h");
        assert_eq!(cut("hello".into(), 10), "hello");
    }
}
