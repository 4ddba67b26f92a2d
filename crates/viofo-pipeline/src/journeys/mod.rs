//! Journeys: trips detected from the clips' GPS tracks, so a person sees
//! "Tuesday 08:12–08:47, Home → Office, 23.4 km, 14 clips, 60 %
//! downloaded" rather than a folder of files.
//!
//! [`detect`] is pure: it takes one camera's clips with their tracks (and,
//! optionally, the named [`Place`]s) and returns the journeys.
//!
//! - A **journey** is a maximal run of non-parking clips whose tracks are
//!   continuous within [`JourneyOptions::gap`] (default 5 min): the next
//!   clip starts at most `gap` after the journey's last fix. Parking clips
//!   are stops: they end the journey in progress and never start one.
//! - The clips of one moment (same recording time and parking flag, one per
//!   channel: front and rear) are taken together: the track of one channel
//!   (front first) gives the positions, every channel's fixes the times.
//! - **Times are UTC.** Track fixes are UTC already. A clip without a fix
//!   takes its name's time (camera-local) back to UTC with the offset the
//!   camera's clock ran at: learnt from the nearest clip with both a fix
//!   and a recording time (the name's time minus the first fix, rounded to
//!   15 min), so a clock moved for daylight saving time is followed; the
//!   configured [`CameraClock`] when no clip has a fix. A clip with
//!   neither a fix nor a recording time is left out.
//! - Distance sums the stored fixes (the GPS crate's spike filter already
//!   applied), joins between clips included; moving time counts the time
//!   between consecutive fixes at more than [`JourneyOptions::moving_mps`]
//!   (steps longer than the gap are not counted).
//!
//! A syncer keeps the store's journeys current: each track stored (triage
//! or downloaded file) has the journeys around its time recomputed by a
//! task of their own, off the download path, and replaced in one store
//! transaction, with a merged GPX file per journey in
//! `<archive>/journeys/` ([`gpx`]); [`rebuild_journeys`] recomputes them
//! all. A stored journey's track is [`merge_tracks`] of its clips
//! ([`journey_track`]); its JSON, GeoJSON and GPX are in [`output`].

pub mod gpx;
pub mod links;
mod moments;
pub mod output;
mod since;
mod stats;
#[cfg(test)]
mod tests;
mod update;
pub(crate) mod updater;

use std::time::Duration;

use viofo_store::{Channel, ClipId, ClipState, TrackPoint};

use crate::CameraClock;
use crate::places::Place;

pub use since::{SINCE_ACCEPTS, since_ms};
pub use update::{
    JourneySettings, RebuildReport, journey_track, rebuild_journeys, update_journeys_around,
};

/// Default gap between two clips of one journey.
pub const DEFAULT_GAP: Duration = Duration::from_secs(5 * 60);

/// Default speed above which the car counts as moving (m/s, ~3.6 km/h).
pub const DEFAULT_MOVING_MPS: f64 = 1.0;

/// One clip as journey detection needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyClip {
    /// The clip's id in the store.
    pub id: ClipId,
    /// Its file name.
    pub name: String,
    /// Which channel recorded it.
    pub channel: Channel,
    /// A parking-mode clip (a stop, never part of a journey).
    pub parking: bool,
    /// Start of the recording on the camera's clock (camera-local wall
    /// time stored as if UTC, ms), from its name.
    pub recorded_at: Option<i64>,
    /// Size in bytes.
    pub size: u64,
    /// Its state in the store.
    pub state: ClipState,
    /// Its stored fixes (UTC), empty without a track.
    pub points: Vec<TrackPoint>,
}

/// How journeys are cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JourneyOptions {
    /// Longest break between two clips of one journey (default 5 min).
    pub gap: Duration,
    /// The camera's clock, for clips without a fix when no clip tells the
    /// offset it ran at.
    pub clock: CameraClock,
    /// Speed above which the car is moving, m/s (default 1).
    pub moving_mps: f64,
}

impl Default for JourneyOptions {
    fn default() -> Self {
        Self {
            gap: DEFAULT_GAP,
            clock: CameraClock::default(),
            moving_mps: DEFAULT_MOVING_MPS,
        }
    }
}

/// A position, degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// Clips of one channel in a journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelCount {
    /// The channel.
    pub channel: Channel,
    /// How many of its clips.
    pub clips: u32,
}

/// One detected journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Journey {
    /// Start, UTC ms (the first fix, or the first clip's converted time).
    pub start_ms: i64,
    /// End, UTC ms (the last fix, or the last clip's converted time).
    pub end_ms: i64,
    /// The first fix.
    pub start_pos: Option<Position>,
    /// The last fix.
    pub end_pos: Option<Position>,
    /// The place the first fix lies in.
    pub from_place: Option<String>,
    /// The place the last fix lies in.
    pub to_place: Option<String>,
    /// Metres driven.
    pub distance_m: f64,
    /// Time spent moving, ms.
    pub moving_ms: i64,
    /// Highest speed, m/s.
    pub max_speed_mps: f64,
    /// Clips per channel, in channel order (front, rear, interior,
    /// telephoto, unknown), channels without clips left out.
    pub channels: Vec<ChannelCount>,
    /// Its clips (every channel), in time order.
    pub clips: Vec<ClipId>,
    /// Bytes of its clips.
    pub bytes: u64,
    /// Bytes of its clips downloaded (downloaded, done or pruned).
    pub downloaded_bytes: u64,
    /// The merged track (one channel's fixes, in time order).
    pub points: Vec<TrackPoint>,
}

impl Journey {
    /// Fraction of its bytes downloaded, 0 to 1 (1 for a journey of empty
    /// clips).
    pub fn downloaded_fraction(&self) -> f64 {
        if self.bytes == 0 {
            1.0
        } else {
            #[allow(clippy::cast_precision_loss)] // a ratio
            let f = self.downloaded_bytes as f64 / self.bytes as f64;
            f.clamp(0.0, 1.0)
        }
    }

    /// Number of clips, all channels.
    pub fn clip_count(&self) -> usize {
        self.clips.len()
    }
}

/// Whether a clip in `state` counts as downloaded.
pub fn is_downloaded(state: ClipState) -> bool {
    matches!(
        state,
        ClipState::Downloaded | ClipState::Done | ClipState::Pruned
    )
}

/// The journeys among `clips` (any order), oldest first. `places` name the
/// ends (the first place in the list that contains a point wins).
pub fn detect(clips: &[JourneyClip], places: &[Place], opts: &JourneyOptions) -> Vec<Journey> {
    let moments = moments::moments(clips, opts.clock);
    let gap_ms = i64::try_from(opts.gap.as_millis()).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let mut run: Vec<&moments::Moment<'_>> = Vec::new();
    let mut run_end = i64::MIN;
    for m in &moments {
        let continues = !run.is_empty() && m.start_ms.saturating_sub(run_end) <= gap_ms;
        if m.parking || !continues {
            if !run.is_empty() {
                out.push(stats::journey(&run, places, opts, gap_ms));
                run.clear();
            }
            if m.parking {
                continue;
            }
        }
        run_end = if run.is_empty() {
            m.end_ms
        } else {
            run_end.max(m.end_ms)
        };
        run.push(m);
    }
    if !run.is_empty() {
        out.push(stats::journey(&run, places, opts, gap_ms));
    }
    out
}

/// The merged track of one journey's clips (any order): for each moment
/// (the clips of one recording time) the fixes of one channel (front
/// first), fixes with a non-finite position left out, in time order. The
/// same track [`detect`] gives the journey ([`Journey::points`]), without
/// detecting anything: for the clips of a stored journey.
pub fn merge_tracks(clips: &[JourneyClip]) -> Vec<TrackPoint> {
    // The clock only dates clips without a fix, which add no point.
    moments::merged(&moments::moments(clips, CameraClock::default()))
}
