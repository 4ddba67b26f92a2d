//! The status as data: the stable JSON document of `/api/status` (and of
//! `viofosync status --json`). Field names are part of the interface
//! (docs/STATUS.md); new fields may be added, none renamed or removed
//! without raising [`SCHEMA`].

use serde::{Deserialize, Serialize};

use crate::sticky::StickyError;

/// Version of the JSON document's shape.
pub const SCHEMA: u32 = 1;

/// What the sync is doing, as the Python tool's users know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// A cycle is running (listing, downloading, finishing tails).
    Downloading,
    /// Idle between cycles, or the camera is away (not an error).
    Waiting,
    /// Paused by the user.
    Paused,
    /// A sticky error stands (see [`StatusSnapshot::errors`]).
    Error,
}

impl SyncState {
    /// `downloading`, `waiting`, `paused` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Downloading => "downloading",
            SyncState::Waiting => "waiting",
            SyncState::Paused => "paused",
            SyncState::Error => "error",
        }
    }
}

/// The whole status at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSnapshot {
    /// [`SCHEMA`].
    pub schema: u32,
    /// When this snapshot was taken (RFC 3339, UTC).
    pub generated_at: String,
    /// What the sync is doing.
    pub state: SyncState,
    /// The camera.
    pub camera: CameraStatus,
    /// Downloads in flight (one per download worker, usually one).
    pub downloads: Vec<DownloadStatus>,
    /// The running cycle's progress; `null` between cycles.
    pub cycle: Option<CycleProgress>,
    /// When the next cycle starts; `null` while one runs or before the
    /// first wait.
    pub next_cycle: Option<NextCycle>,
    /// Clips per state in the store.
    pub queue: QueueCounts,
    /// Failed clips with their reasons (at most the configured number; the
    /// count of all of them is `queue.failed`).
    pub failed: Vec<FailedClip>,
    /// The camera's last cycles, newest first.
    pub last_cycles: Vec<CycleReport>,
    /// The archive's filesystem; `null` until it was first read.
    pub disk: Option<DiskStatus>,
    /// The archive.
    pub archive: ArchiveStatus,
    /// Sticky errors, oldest first: each stays until its condition clears,
    /// across restarts.
    pub errors: Vec<StickyError>,
    /// The camera's newest journey; `null` until the store was read or
    /// while it has none.
    #[serde(default)]
    pub last_journey: Option<JourneySummary>,
    /// The last clips archived, skipped or failed by this process, newest
    /// first (at most 20).
    #[serde(default)]
    pub recent: Vec<RecentClip>,
}

/// A journey in brief (the newest one, for Home Assistant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneySummary {
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended (RFC 3339, UTC).
    pub ended_at: String,
    /// Metres driven.
    pub distance_m: f64,
    /// The place it started in, if any.
    pub from_place: Option<String>,
    /// The place it ended in, if any.
    pub to_place: Option<String>,
}

/// A clip the sync just archived, skipped or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentClip {
    /// When (RFC 3339).
    pub at: String,
    /// `archived`, `skipped`, `failed` (for good, until retried) or
    /// `retrying` (failed, back in the queue).
    pub outcome: String,
    /// Clip name.
    pub clip: String,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
}

/// The camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraStatus {
    /// The camera id the store knows it by.
    pub id: String,
    /// It answered the last probe.
    pub online: bool,
    /// Model, when known (e.g. `A329S`).
    pub model: Option<String>,
    /// Firmware string, when known.
    pub firmware: Option<String>,
    /// When it last answered (RFC 3339).
    pub last_seen_at: Option<String>,
    /// Why the last probe failed, while it is offline.
    pub offline_reason: Option<String>,
    /// The address it is reached at, when the program said.
    #[serde(default)]
    pub address: Option<String>,
}

/// One download in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadStatus {
    /// Clip name, as the camera gave it.
    pub clip: String,
    /// Bytes received so far.
    pub bytes: u64,
    /// Expected size, when known.
    pub total: Option<u64>,
    /// `bytes / total` × 100, when the size is known.
    pub percent: Option<f64>,
    /// Average speed since the download started, bytes per second.
    pub speed_bps: Option<f64>,
    /// Seconds left at that speed.
    pub eta_secs: Option<u64>,
    /// When it started (RFC 3339).
    pub started_at: String,
}

/// The running cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleProgress {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// `pipelined` or `inline`.
    pub mode: String,
    /// Clips archived so far.
    pub clips_done: u64,
    /// Clips failed so far (attempts that failed for good or were deferred).
    pub clips_failed: u64,
    /// Bytes archived so far, plus the bytes of the downloads in flight.
    pub bytes_done: u64,
    /// `bytes_done` plus what is still to download: an estimate from the
    /// clips pending when the camera was listed; `null` before the listing.
    pub bytes_total: Option<u64>,
    /// `bytes_done / bytes_total` × 100.
    pub percent: Option<f64>,
    /// Bytes per second since the cycle's first download started.
    pub speed_bps: Option<f64>,
    /// Seconds left at that speed.
    pub eta_secs: Option<u64>,
}

/// The wait before the next cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextCycle {
    /// When it starts (RFC 3339).
    pub at: String,
    /// The wait is the back-off for an absent camera.
    pub camera_away: bool,
}

/// Clips per state (the store's states).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// Waiting to be downloaded.
    pub pending: u64,
    /// Being downloaded.
    pub downloading: u64,
    /// Archived, tail (GPS, delete) unfinished.
    pub downloaded: u64,
    /// Archived and finished.
    pub done: u64,
    /// Failed for good until retried.
    pub failed: u64,
    /// Left the camera before they were archived.
    pub gone: u64,
    /// Removed from the archive by retention.
    pub pruned: u64,
    /// Pending clips skipped, not downloaded ("parked at Home": a parking
    /// clip recorded at a place flagged `skip_parking`).
    #[serde(default)]
    pub skipped: u64,
}

impl From<viofo_store::StateCounts> for QueueCounts {
    fn from(c: viofo_store::StateCounts) -> Self {
        Self {
            pending: c.pending,
            downloading: c.downloading,
            downloaded: c.downloaded,
            done: c.done,
            failed: c.failed,
            gone: c.gone,
            pruned: c.pruned,
            skipped: c.skipped,
        }
    }
}

impl QueueCounts {
    /// `(state name, count)` in display order.
    pub fn by_state(&self) -> [(&'static str, u64); 8] {
        [
            ("pending", self.pending),
            ("downloading", self.downloading),
            ("downloaded", self.downloaded),
            ("done", self.done),
            ("failed", self.failed),
            ("gone", self.gone),
            ("pruned", self.pruned),
            ("skipped", self.skipped),
        ]
    }
}

/// A failed clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedClip {
    /// Clip name.
    pub clip: String,
    /// The last error, as stored.
    pub reason: Option<String>,
    /// Failed attempts since the last retry.
    pub attempts: u32,
}

/// One finished (or running) cycle, from the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleReport {
    /// Cycle id.
    pub id: i64,
    /// Start (RFC 3339).
    pub started_at: Option<String>,
    /// End (RFC 3339); `null` while it runs.
    pub finished_at: Option<String>,
    /// `pipelined` or `inline`.
    pub mode: String,
    /// `completed`, `completed_with_failures`, `camera_lost`, `cancelled`,
    /// `failed`; `null` while it runs.
    pub outcome: Option<String>,
    /// Clips downloaded.
    pub clips: Option<u64>,
    /// Bytes downloaded.
    pub bytes: Option<u64>,
    /// Clips left failed.
    pub failed: Option<u64>,
    /// Clips deferred to a later cycle.
    pub deferred: Option<u64>,
    /// Why it stopped early, when it did.
    pub note: Option<String>,
    /// Median download time, ms.
    pub download_p50_ms: Option<i64>,
    /// Median gap between downloads, ms.
    pub gap_p50_ms: Option<i64>,
}

/// The archive's filesystem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskStatus {
    /// Bytes usable in all (used + available), as `df` says.
    pub total_bytes: u64,
    /// Bytes in use.
    pub used_bytes: u64,
    /// Bytes available.
    pub available_bytes: u64,
    /// `used / total` × 100.
    pub used_percent: f64,
    /// When it was read (RFC 3339).
    pub read_at: String,
}

/// The archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveStatus {
    /// The archive folder.
    pub path: String,
    /// Bytes of the clips archived (states downloaded and done), as the
    /// store records them.
    pub bytes: u64,
    /// Clips archived (downloaded and done).
    pub clips: u64,
}
