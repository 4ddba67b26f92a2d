//! Conversions between the client's, the GPS parser's and the store's types.

use std::collections::HashMap;
use std::path::Path;

use time::PrimitiveDateTime;
use viofo_client::Recording;
use viofo_store::{ArchivedFile, ListedClip};

use crate::config::GpsConfig;
use crate::retention;

pub(crate) fn gps_options(g: &GpsConfig) -> viofo_gps::Options {
    viofo_gps::Options::default()
        .utc_offset(g.utc_offset)
        .spike_filter(g.spike_filter)
}

/// Camera-local time as stored: the wall-clock reading taken as UTC.
pub(super) fn local_ms(t: PrimitiveDateTime) -> i64 {
    let ms = t.assume_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(i64::MAX)
}

pub(super) fn store_channel(c: viofo_client::Channel) -> viofo_store::Channel {
    match c {
        viofo_client::Channel::Front => viofo_store::Channel::Front,
        viofo_client::Channel::Rear => viofo_store::Channel::Rear,
        viofo_client::Channel::Interior => viofo_store::Channel::Interior,
        viofo_client::Channel::Telephoto => viofo_store::Channel::Telephoto,
        viofo_client::Channel::Unknown => viofo_store::Channel::Unknown,
    }
}

pub(crate) fn listed_clip(rec: &Recording) -> ListedClip {
    ListedClip {
        name: rec.file_name().as_str().to_owned(),
        remote_path: rec.remote_path().to_owned(),
        size: rec.size().bytes(),
        size_exact: rec.size().exact().is_some(),
        locked: rec.is_locked(),
        parking: rec.is_parking(),
        channel: store_channel(rec.channel()),
        recorded_at: rec.start().map(local_ms),
    }
}

/// When a clip was recorded, from its name (camera-local time).
pub fn recorded_at_from_name(name: &str) -> Option<PrimitiveDateTime> {
    viofo_client::RecordingName::new(name).ok()?.recorded_at()
}

/// Clips already in the archive by name (root and grouping folders).
pub(super) fn archive_index(root: &Path) -> HashMap<String, ArchivedFile> {
    let clips = retention::scan_archive(root, crate::CameraClock::default(), &|_| None, &|_| false)
        .unwrap_or_default();
    clips
        .into_iter()
        .filter_map(|c| {
            let name = c.path.file_name()?.to_str()?.to_owned();
            Some((
                name,
                ArchivedFile {
                    path: c.path,
                    size: c.size,
                },
            ))
        })
        .collect()
}

pub(crate) fn gps_summary(s: &viofo_gps::Summary) -> viofo_store::GpsSummary {
    let ms = |t: time::OffsetDateTime| {
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    };
    viofo_store::GpsSummary {
        points: u32::try_from(s.points).unwrap_or(u32::MAX),
        first_fix_ms: s.first_fix.map(ms),
        last_fix_ms: s.last_fix.map(ms),
        distance_m: s.distance_m,
        bbox: s
            .bbox
            .as_ref()
            .map(|b| [b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
        max_speed_mps: s.max_speed_mps,
    }
}
