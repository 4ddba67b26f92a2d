//! Journeys as the store keeps them ([`NewJourney`] in, [`JourneyRow`]
//! out) and a clip with its fixes ([`ClipTrack`]) for recomputing them.

use std::fmt;

use super::{Channel, ClipId, ClipRow, TrackPoint};

/// Row id of a journey. A recomputed journey keeps the id of the old one
/// it shares the most clips with (it grew, or was split or merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JourneyId(pub i64);

impl fmt::Display for JourneyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A journey to store (see
/// [`Store::replace_journeys`](crate::Store::replace_journeys)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewJourney {
    /// Start, UTC ms.
    pub start_ms: i64,
    /// End, UTC ms.
    pub end_ms: i64,
    /// First fix, `(lat, lon)` degrees.
    pub start_pos: Option<(f64, f64)>,
    /// Last fix, `(lat, lon)` degrees.
    pub end_pos: Option<(f64, f64)>,
    /// The place the first fix lies in.
    pub from_place: Option<String>,
    /// The place the last fix lies in.
    pub to_place: Option<String>,
    /// Metres driven.
    pub distance_m: f64,
    /// Time moving, ms.
    pub moving_ms: i64,
    /// Highest speed, m/s.
    pub max_speed_mps: f64,
    /// Clips per channel.
    pub channels: Vec<(Channel, u32)>,
    /// Its clips (each clip belongs to one journey at most).
    pub clips: Vec<ClipId>,
    /// What each clip was taken in with, in the order of `clips` (a clip
    /// without an entry is stored as not known): see [`JourneyLink`].
    pub facts: Vec<LinkFacts>,
    /// Bytes of its clips.
    pub bytes: u64,
    /// Its merged GPX file, if written.
    pub gpx_path: Option<String>,
}

/// What a clip was taken into its journey with (migration 0014).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkFacts {
    /// It had fixes.
    pub fixes: bool,
    /// Its size, bytes.
    pub size: u64,
}

/// A clip's link to its journey, with what it was taken in with and what
/// it has now (see
/// [`Store::journey_links`](crate::Store::journey_links)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JourneyLink {
    /// The clip.
    pub clip: ClipId,
    /// Its journey.
    pub journey: JourneyId,
    /// What it was taken in with; `None` for a link stored before
    /// migration 0014.
    pub then: Option<LinkFacts>,
    /// What it has now: a stored track with fixes, its size.
    pub now: LinkFacts,
}

/// A stored journey.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyRow {
    /// Its id.
    pub id: JourneyId,
    /// The camera.
    pub camera_id: String,
    /// Start, UTC ms.
    pub start_ms: i64,
    /// End, UTC ms.
    pub end_ms: i64,
    /// First fix, `(lat, lon)`.
    pub start_pos: Option<(f64, f64)>,
    /// Last fix, `(lat, lon)`.
    pub end_pos: Option<(f64, f64)>,
    /// The place the first fix lies in.
    pub from_place: Option<String>,
    /// The place the last fix lies in.
    pub to_place: Option<String>,
    /// Metres driven.
    pub distance_m: f64,
    /// Time moving, ms.
    pub moving_ms: i64,
    /// Highest speed, m/s.
    pub max_speed_mps: f64,
    /// Number of clips, all channels.
    pub clips: u32,
    /// Clips per channel.
    pub channels: Vec<(Channel, u32)>,
    /// Bytes of its clips.
    pub bytes: u64,
    /// Bytes of its clips now downloaded, done or pruned (read from the
    /// clips' states: always current).
    pub downloaded_bytes: u64,
    /// Its merged GPX file, if written.
    pub gpx_path: Option<String>,
    /// When it was stored, ms.
    pub updated_at: i64,
}

impl JourneyRow {
    /// Fraction of its bytes downloaded, 0 to 1 (1 when it has no bytes).
    pub fn downloaded_fraction(&self) -> f64 {
        if self.bytes == 0 {
            return 1.0;
        }
        #[allow(clippy::cast_precision_loss)] // a ratio
        let f = self.downloaded_bytes as f64 / self.bytes as f64;
        f.clamp(0.0, 1.0)
    }
}

/// A clip with its stored fixes (empty without a track), as
/// [`Store::clip_tracks`](crate::Store::clip_tracks) reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTrack {
    /// The clip.
    pub clip: ClipRow,
    /// Its fixes, UTC.
    pub points: Vec<TrackPoint>,
}

/// What journey detection reads of a clip, with its stored fixes (empty
/// without a track), as [`Store::clip_points`](crate::Store::clip_points)
/// reads them: a few columns, so the clips of a long drive stay small.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipPoints {
    /// The clip's id.
    pub id: ClipId,
    /// Its file name.
    pub name: String,
    /// Its channel.
    pub channel: Channel,
    /// A parking-mode clip.
    pub parking: bool,
    /// Its recording time (camera clock, ms).
    pub recorded_at: Option<i64>,
    /// Its listed size.
    pub size: u64,
    /// Its state.
    pub state: crate::ClipState,
    /// Its fixes, UTC.
    pub points: Vec<TrackPoint>,
}

/// `{"F": 3, "R": 3}`.
pub(crate) fn channels_json(channels: &[(Channel, u32)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = channels
        .iter()
        .map(|(c, n)| (c.as_str().to_owned(), serde_json::Value::from(*n)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// The stored channel counts (anything unreadable is left out).
pub(crate) fn channels_from_json(s: &str) -> Vec<(Channel, u32)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(s) else {
        return Vec::new();
    };
    let mut out: Vec<(Channel, u32)> = map
        .iter()
        .filter_map(|(k, v)| {
            let n = u32::try_from(v.as_u64()?).ok()?;
            Some((Channel::from_code(k), n))
        })
        .collect();
    let rank = |c: Channel| {
        ["F", "R", "I", "T", "?"]
            .iter()
            .position(|x| *x == c.as_str())
    };
    out.sort_by_key(|(c, _)| rank(*c));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_counts_round_trip() {
        let c = vec![(Channel::Front, 3), (Channel::Rear, 2)];
        assert_eq!(channels_from_json(&channels_json(&c)), c);
        assert!(channels_from_json("not json").is_empty());
    }
}
