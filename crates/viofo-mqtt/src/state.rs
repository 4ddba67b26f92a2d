//! The state JSON published on the state topic ([`StatePayload`], made from
//! a status snapshot) and when a new one is due (`Throttle`).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use viofo_status::{StatusSnapshot, SyncState};

/// The retained state document the entities read their values from.
/// Figures are rounded (percentages to 0.1, speeds to whole bytes per
/// second) so that noise does not count as a change. What nothing runs
/// for is 0 (progress, speeds); what is not known yet is `null`, which
/// the entities ignore (they keep the value they have).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatePayload {
    /// `downloading`, `waiting`, `paused` or `error`.
    pub state: String,
    /// Paused by the user (the "Paused" switch).
    pub paused: bool,
    /// The camera answered its last probe; `null` until it was first
    /// asked (a restart never shows it offline before it knows).
    pub camera_online: Option<bool>,
    /// Clips waiting to be downloaded.
    pub queue_pending: u64,
    /// Clips failed until retried.
    pub failed_clips: u64,
    /// When the last cycle that completed (with or without failed clips)
    /// finished, RFC 3339; `null` when none is known. Also on its own
    /// topic, published once known (what the timestamp entity reads).
    pub last_sync: Option<String>,
    /// Percentage of the archive's filesystem in use; `null` until read.
    pub disk_used_percent: Option<f64>,
    /// Percentage received of the current download; 0 when none runs.
    pub download_progress: f64,
    /// Bytes per second of the downloads in flight; 0 when none runs.
    pub download_speed: u64,
    /// The clip being downloaded.
    pub current_clip: Option<String>,
    /// Percentage done of the running cycle; 0 between cycles.
    pub cycle_progress: f64,
    /// Seconds left in the running cycle; 0 between cycles, `null` while
    /// not known.
    pub cycle_eta_secs: Option<u64>,
    /// Bytes per second of the running cycle so far; 0 between cycles.
    pub cycle_speed: u64,
    /// Kinds of the standing sticky errors (`disk_full`, …).
    pub errors: Vec<String>,
}

/// The newest journey, on its own retained topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyPayload {
    /// When it started (RFC 3339).
    pub start: String,
    /// When it ended (RFC 3339).
    pub end: String,
    /// Kilometres driven (to 0.01).
    pub distance_km: f64,
    /// The place it started in.
    pub from: Option<String>,
    /// The place it ended in.
    pub to: Option<String>,
}

impl JourneyPayload {
    /// The newest journey of `snapshot`, if it has one.
    pub fn from_snapshot(snapshot: &StatusSnapshot) -> Option<Self> {
        snapshot.last_journey.as_ref().map(|j| Self {
            start: j.started_at.clone(),
            end: j.ended_at.clone(),
            distance_km: (j.distance_m.max(0.0) / 10.0).round() / 100.0,
            from: j.from_place.clone(),
            to: j.to_place.clone(),
        })
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole(bps: f64) -> u64 {
    bps.max(0.0).round() as u64
}

/// Whether the camera was asked since the start: it answered, or a probe
/// failed with a reason.
pub(crate) fn probed(snapshot: &StatusSnapshot) -> bool {
    snapshot.camera.online || snapshot.camera.offline_reason.is_some()
}

impl StatePayload {
    /// The payload for `snapshot`; `remembered_last_sync` is the latest
    /// successful sync seen earlier (the snapshot lists only the last few
    /// cycles).
    pub fn from_snapshot(snapshot: &StatusSnapshot, remembered_last_sync: Option<&str>) -> Self {
        let from_cycles = snapshot
            .last_cycles
            .iter()
            .filter(|c| {
                matches!(
                    c.outcome.as_deref(),
                    Some("completed" | "completed_with_failures")
                )
            })
            .filter_map(|c| c.finished_at.as_deref())
            .max();
        let last_sync = match (from_cycles, remembered_last_sync) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
        .map(str::to_owned);
        let first = snapshot.downloads.first();
        let speed: f64 = snapshot.downloads.iter().filter_map(|d| d.speed_bps).sum();
        let cycle = snapshot.cycle.as_ref();
        Self {
            state: snapshot.state.as_str().to_owned(),
            paused: snapshot.state == SyncState::Paused,
            camera_online: probed(snapshot).then_some(snapshot.camera.online),
            queue_pending: snapshot.queue.pending,
            failed_clips: snapshot.queue.failed,
            last_sync,
            disk_used_percent: snapshot.disk.as_ref().map(|d| round1(d.used_percent)),
            download_progress: first.and_then(|d| d.percent).map_or(0.0, round1),
            download_speed: whole(speed),
            current_clip: first.map(|d| d.clip.clone()),
            cycle_progress: cycle.and_then(|c| c.percent).map_or(0.0, round1),
            cycle_eta_secs: match cycle {
                None => Some(0),
                Some(c) => c.eta_secs,
            },
            cycle_speed: whole(cycle.and_then(|c| c.speed_bps).unwrap_or(0.0)),
            errors: snapshot
                .errors
                .iter()
                .map(|e| e.kind.as_str().to_owned())
                .collect(),
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Decides when a new state is published: every change at once, except
/// that while downloading a change of figures only (progress, speed,
/// counts) waits until `min_gap` has passed since the last publication.
#[derive(Debug)]
pub(crate) struct Throttle {
    min_gap: Duration,
    last: Option<(StatePayload, Instant)>,
}

impl Throttle {
    pub(crate) fn new(min_gap: Duration) -> Self {
        Self {
            min_gap,
            last: None,
        }
    }

    /// Forgets what was published (a new connection publishes at once).
    pub(crate) fn reset(&mut self) {
        self.last = None;
    }

    /// Whether `next` should be published now.
    pub(crate) fn due(&self, next: &StatePayload, now: Instant) -> bool {
        let Some((last, at)) = &self.last else {
            return true;
        };
        if last == next {
            return false;
        }
        let significant = last.state != next.state
            || last.paused != next.paused
            || last.camera_online != next.camera_online
            || last.errors != next.errors;
        significant
            || next.state != SyncState::Downloading.as_str()
            || now.saturating_duration_since(*at) >= self.min_gap
    }

    /// `payload` was handed to the client at `now`.
    pub(crate) fn sent(&mut self, payload: StatePayload, now: Instant) {
        self.last = Some((payload, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(state: &str, progress: f64) -> StatePayload {
        StatePayload {
            state: state.into(),
            paused: false,
            camera_online: Some(true),
            queue_pending: 3,
            failed_clips: 0,
            last_sync: None,
            disk_used_percent: Some(41.2),
            download_progress: progress,
            download_speed: 1_000,
            current_clip: Some("a.MP4".into()),
            cycle_progress: 0.0,
            cycle_eta_secs: None,
            cycle_speed: 0,
            errors: vec![],
        }
    }

    #[test]
    fn progress_while_downloading_is_published_at_most_once_per_gap() {
        let t0 = Instant::now();
        let mut t = Throttle::new(Duration::from_secs(1));
        assert!(t.due(&payload("downloading", 1.0), t0));
        t.sent(payload("downloading", 1.0), t0);
        assert!(
            !t.due(&payload("downloading", 1.0), t0 + Duration::from_secs(5)),
            "unchanged"
        );
        assert!(!t.due(
            &payload("downloading", 2.0),
            t0 + Duration::from_millis(250)
        ));
        assert!(!t.due(
            &payload("downloading", 3.0),
            t0 + Duration::from_millis(999)
        ));
        assert!(t.due(&payload("downloading", 3.0), t0 + Duration::from_secs(1)));
    }

    #[test]
    fn a_change_of_state_or_a_change_while_idle_is_published_at_once() {
        let t0 = Instant::now();
        let mut t = Throttle::new(Duration::from_secs(1));
        t.sent(payload("downloading", 1.0), t0);
        assert!(t.due(&payload("paused", 1.0), t0 + Duration::from_millis(10)));
        t.sent(payload("waiting", 1.0), t0);
        assert!(t.due(&payload("waiting", 2.0), t0 + Duration::from_millis(10)));
        t.reset();
        assert!(t.due(&payload("waiting", 2.0), t0));
    }
}
