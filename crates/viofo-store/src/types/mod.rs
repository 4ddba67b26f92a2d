//! Plain data types of the store's API: ids, clip states and rows,
//! listings, outcomes; the cycle types are in `cycle`, the track types in
//! `track`.

mod camera;
mod cycle;
mod journey;
mod open;
mod track;

pub use camera::{Anchor, CameraRow, CameraSeen, KnownClip};
pub use cycle::{CycleMode, CycleOutcome, CycleRow, CycleStats};
pub use journey::{
    ClipPoints, ClipTrack, JourneyId, JourneyLink, JourneyRow, LinkFacts, NewJourney,
};
pub(crate) use journey::{channels_from_json, channels_json};
pub use open::{LegacyOutcome, LegacyReport, RecoveryReport};
pub use track::{
    MAX_NO_TRACK_LEN, MAX_TRACK_MODE_LEN, MAX_TRACK_POINTS, SetTrack, Track, TrackPoint, TrackRow,
    TrackSource,
};
pub(crate) use track::{cut, decode_points, encode_points};

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Row id of a clip. Stable for the life of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClipId(pub i64);

impl fmt::Display for ClipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Row id of a sync cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CycleId(pub i64);

impl fmt::Display for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cycle {}", self.0)
    }
}

/// Where a clip is in its life. See the crate docs for the legal moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClipState {
    /// Listed by the camera, waiting to be downloaded.
    Pending,
    /// A download is in flight.
    Downloading,
    /// The file is safe in the archive under its final name; its tail (GPS
    /// extraction, optional camera delete) has not finished.
    Downloaded,
    /// Archived and tail finished. Terminal.
    Done,
    /// Download attempts exhausted (or a permanent error). `retry_failed`
    /// returns it to pending.
    Failed,
    /// No longer on the camera before it was archived. Comes back to
    /// pending if a later listing shows it again.
    Gone,
    /// Archived, then removed from the archive by retention
    /// ([`Store::mark_pruned`](crate::Store::mark_pruned)). Terminal: never
    /// downloaded again (even if the camera still lists it), never deleted
    /// from the camera again, not counted as archived.
    Pruned,
}

impl ClipState {
    /// Every state, in display order.
    pub const ALL: [ClipState; 7] = [
        ClipState::Pending,
        ClipState::Downloading,
        ClipState::Downloaded,
        ClipState::Done,
        ClipState::Failed,
        ClipState::Gone,
        ClipState::Pruned,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ClipState::Pending => "pending",
            ClipState::Downloading => "downloading",
            ClipState::Downloaded => "downloaded",
            ClipState::Done => "done",
            ClipState::Failed => "failed",
            ClipState::Gone => "gone",
            ClipState::Pruned => "pruned",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => ClipState::Pending,
            "downloading" => ClipState::Downloading,
            "downloaded" => ClipState::Downloaded,
            "done" => ClipState::Done,
            "failed" => ClipState::Failed,
            "gone" => ClipState::Gone,
            "pruned" => ClipState::Pruned,
            other => return Err(Error::corrupt(format!("clip state {other:?}"))),
        })
    }

    /// Is `self -> to` a legal move for an explicit API call? (Reconcile and
    /// recovery apply their own documented rules on top.)
    pub fn can_become(self, to: ClipState) -> bool {
        use ClipState::*;
        matches!(
            (self, to),
            (Pending, Downloading)
                | (Pending, Gone)
                | (Pending, Downloaded)
                | (Downloading, Downloaded)
                | (Downloading, Pending)
                | (Downloading, Failed)
                | (Downloaded, Done)
                | (Failed, Pending)
                | (Failed, Gone)
                | (Failed, Downloaded)
                | (Gone, Pending)
                | (Gone, Downloaded)
                | (Downloaded, Pruned)
                | (Done, Pruned)
        )
    }
}

impl fmt::Display for ClipState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which camera of a multi-channel dashcam recorded a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Front camera (`F`).
    Front,
    /// Rear camera (`R`).
    Rear,
    /// Interior camera (`I`).
    Interior,
    /// Telephoto camera (`T`).
    Telephoto,
    /// Not known from the name.
    Unknown,
}

impl Channel {
    /// The one-letter code stored in the database (`?` for unknown).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Front => "F",
            Channel::Rear => "R",
            Channel::Interior => "I",
            Channel::Telephoto => "T",
            Channel::Unknown => "?",
        }
    }

    /// Parses the stored code; anything else is `Unknown`.
    pub fn from_code(s: &str) -> Self {
        match s {
            "F" | "f" => Channel::Front,
            "R" | "r" => Channel::Rear,
            "I" | "i" => Channel::Interior,
            "T" | "t" => Channel::Telephoto,
            _ => Channel::Unknown,
        }
    }
}

/// One clip as the camera listed it; the pipeline converts its client's
/// listing into these.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedClip {
    /// File name, e.g. `2025_1224_120324_000002PF.MP4` (the identity, with
    /// the camera id).
    pub name: String,
    /// Path to download / delete it by, as the camera gave it.
    pub remote_path: String,
    /// Size in bytes.
    pub size: u64,
    /// `false` when the size is rounded (HTML directory pages).
    pub size_exact: bool,
    /// Read-only / event clip (kept in `RO`).
    pub locked: bool,
    /// Parking-mode clip.
    pub parking: bool,
    /// Which camera channel.
    pub channel: Channel,
    /// Start of the recording, ms since the epoch, on the same clock as
    /// the `now` used by [`Policy::RecentFirst`].
    pub recorded_at: Option<i64>,
}

/// A file already present in the archive, as reported by the caller's
/// `archived` lookup during [`Store::reconcile`](crate::Store::reconcile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size on disk.
    pub size: u64,
}

/// What [`Store::reconcile`](crate::Store::reconcile) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Clips inserted as pending.
    pub new: u64,
    /// Known clips whose remote path, lock flag or other listed metadata
    /// changed (e.g. moved to `RO`).
    pub refreshed_paths: u64,
    /// Pending / failed clips no longer listed, now gone.
    pub gone: u64,
    /// Gone clips listed again, back to pending.
    pub reappeared: u64,
    /// Clips (new or pending / failed / gone) found in the archive with a
    /// matching size, now `downloaded` with their local path.
    pub healed: u64,
    /// Archived rows whose name the camera now lists for another recording
    /// (another size than the archived copy, or listed again after the
    /// camera deleted it, or a pruned clip back with another size): each
    /// keeps its archived file and is marked superseded, and the listed
    /// clip is inserted as a new `pending` row of that name (counted here,
    /// not in `new`). Bytes recorded as archived are never replaced.
    pub superseded: u64,
    /// Listed clips that needed no change.
    pub unchanged: u64,
    /// Listing entries refused (empty name, NUL, size out of range) or
    /// duplicated; each is logged.
    pub invalid: u64,
}

/// Order in which [`Store::next_pending`](crate::Store::next_pending) picks.
/// Every policy puts a higher `priority` first, then applies its order; ties
/// break on name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Oldest recording first (clips rotate off the card oldest first).
    OldestFirst,
    /// Newest recording first.
    NewestFirst,
    /// Locked (RO) clips first, each group oldest first.
    LockedFirst,
    /// Clips recorded in the last `hours` first (oldest of them first, so
    /// a drive arrives in order), then the rest oldest first.
    RecentFirst {
        /// Window length.
        hours: u32,
    },
    /// The newest journey's clips first (every channel, locked before
    /// unlocked, then oldest first), then the next newest journey's; clips
    /// in no journey after them, oldest first.
    Journeys,
}

/// Which pending clips [`Store::next_pending`](crate::Store::next_pending)
/// may return.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    /// Only locked (RO) clips.
    pub locked_only: bool,
    /// Only these channels; empty means all.
    pub channels: &'a [Channel],
    /// Include parking-mode clips.
    pub include_parking: bool,
    /// Clips to pass over (e.g. already skipped this cycle).
    pub exclude: &'a [ClipId],
}

impl Default for Filter<'_> {
    fn default() -> Self {
        Self {
            locked_only: false,
            channels: &[],
            include_parking: true,
            exclude: &[],
        }
    }
}

/// GPS track summary of one clip (converted by the pipeline from its GPS
/// parser's output).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GpsSummary {
    /// Number of fixes.
    pub points: u32,
    /// Time of the first fix, ms since the epoch.
    pub first_fix_ms: Option<i64>,
    /// Time of the last fix, ms since the epoch.
    pub last_fix_ms: Option<i64>,
    /// Track length in metres.
    pub distance_m: f64,
    /// `[min_lon, min_lat, max_lon, max_lat]` (GeoJSON order).
    pub bbox: Option<[f64; 4]>,
    /// Highest speed, m/s.
    pub max_speed_mps: f64,
}

/// What happened when the pipeline asked the camera to delete a clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The camera confirmed the delete; sets `deleted_from_camera_at`.
    Confirmed,
    /// The camera refused (non-zero status).
    Refused {
        /// The status the camera answered.
        status: i64,
    },
    /// The pipeline chose not to delete, for a lasting reason (locked, size
    /// differs, moved, ...): decided.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not deleted yet, for a passing reason (possibly still recording, its
    /// size not yet seen settled, a listing cut off): the clip's tail stays
    /// open and a later listing decides. Stored so `queue` can say why a
    /// clip is still on the camera.
    Waiting {
        /// Why.
        reason: String,
    },
}

/// The text prefix of [`DeleteOutcome::Waiting`] in `delete_outcome`.
const WAITING: &str = "waiting: ";

impl DeleteOutcome {
    pub(crate) fn to_text(&self) -> String {
        match self {
            DeleteOutcome::Confirmed => "confirmed".to_owned(),
            DeleteOutcome::Refused { status } => format!("refused: status {status}"),
            DeleteOutcome::Skipped { reason } => format!("skipped: {reason}"),
            DeleteOutcome::Waiting { reason } => format!("{WAITING}{reason}"),
        }
    }

    /// Is this outcome final (the delete question is settled)? Only
    /// [`Waiting`](Self::Waiting) is not.
    pub fn is_decided(&self) -> bool {
        !matches!(self, DeleteOutcome::Waiting { .. })
    }
}

/// The per-stage timing columns, set by
/// [`Store::record_timing`](crate::Store::record_timing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// First seen in a listing (set by reconcile on insert too).
    Listed,
    /// Download request started.
    DownloadStarted,
    /// Download finished (file under its final name).
    DownloadFinished,
    /// Handed to the tail worker.
    TailSubmitted,
    /// Tail worker picked it up.
    TailStarted,
    /// GPS extraction finished.
    GpsFinished,
    /// Camera delete finished (whatever its outcome).
    DeleteFinished,
    /// Tail finished.
    TailFinished,
}

/// The stage timestamps of one clip, ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageTimes {
    /// [`Stage::Listed`].
    pub listed_at: Option<i64>,
    /// [`Stage::DownloadStarted`].
    pub download_started_at: Option<i64>,
    /// [`Stage::DownloadFinished`].
    pub download_finished_at: Option<i64>,
    /// [`Stage::TailSubmitted`].
    pub tail_submitted_at: Option<i64>,
    /// [`Stage::TailStarted`].
    pub tail_started_at: Option<i64>,
    /// [`Stage::GpsFinished`].
    pub gps_finished_at: Option<i64>,
    /// [`Stage::DeleteFinished`].
    pub delete_finished_at: Option<i64>,
    /// [`Stage::TailFinished`].
    pub tail_finished_at: Option<i64>,
}

/// One clip row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRow {
    /// Row id.
    pub id: ClipId,
    /// Camera identity (as passed by the pipeline).
    pub camera_id: String,
    /// File name on the camera.
    pub name: String,
    /// Current remote path.
    pub remote_path: String,
    /// Listed size in bytes.
    pub size: u64,
    /// Whether `size` is exact.
    pub size_exact: bool,
    /// Locked / RO clip.
    pub locked: bool,
    /// Parking-mode clip.
    pub parking: bool,
    /// Channel.
    pub channel: Channel,
    /// Recording start, ms since the epoch.
    pub recorded_at: Option<i64>,
    /// Life-cycle state.
    pub state: ClipState,
    /// Failed download attempts since the last retry reset.
    pub attempts: u32,
    /// Last error text.
    pub last_error: Option<String>,
    /// Times the clip ran out of attempts on transient errors and was
    /// deferred to a later cycle (see [`FailOutcome::Deferred`]). Kept as
    /// history once the clip is downloaded.
    pub deferrals: u32,
    /// The cycle it was last deferred in, while it is deferred (cleared
    /// when it is downloaded). `None` also when it was deferred before any
    /// cycle existed.
    pub deferred_in: Option<CycleId>,
    /// Queue priority (higher first).
    pub priority: i64,
    /// Archive path once downloaded.
    pub local_path: Option<PathBuf>,
    /// Archive size once downloaded.
    pub local_size: Option<u64>,
    /// GPS summary once extracted.
    pub gps: Option<GpsSummary>,
    /// When the camera confirmed deleting it.
    pub deleted_from_camera_at: Option<i64>,
    /// When retention removed it from the archive (state `pruned`).
    pub pruned_at: Option<i64>,
    /// Last delete outcome, as text (`confirmed`, `refused: status N`,
    /// `skipped: reason`, `waiting: reason`).
    pub delete_outcome: Option<String>,
    /// The cycle that downloaded it.
    pub cycle_id: Option<CycleId>,
    /// Why a pending clip is skipped, not downloaded ("parked at Home"):
    /// see [`Store::set_skip`](crate::Store::set_skip). `None` otherwise.
    pub skip_reason: Option<String>,
    /// When the camera was first seen listing another recording under this
    /// clip's name (ms since the epoch): the row keeps its archived file
    /// and is matched to no listing again; the newer recording has a row
    /// of its own. `None` for the current row of a name.
    pub superseded_at: Option<i64>,
    /// Stage timestamps.
    pub times: StageTimes,
}

impl ClipRow {
    /// Is the camera-delete question settled for this clip (deleted,
    /// refused, or skipped for a lasting reason)? A clip still
    /// [waiting](DeleteOutcome::Waiting), or never asked about, is not.
    pub fn delete_decided(&self) -> bool {
        self.deleted_from_camera_at.is_some()
            || self
                .delete_outcome
                .as_deref()
                .is_some_and(|o| !o.starts_with(WAITING))
    }
}

/// What [`Store::fail_with_outcome`](crate::Store::fail_with_outcome) did
/// with a failed download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailOutcome {
    /// Retryable and attempts are left: the clip is `pending` and may be
    /// tried again in this cycle.
    RetryNow {
        /// Failed attempts so far (since the last deferral or retry).
        attempts: u32,
    },
    /// Retryable but its attempts ran out: the clip is `pending` again with
    /// its attempts reset, and
    /// [`next_pending`](crate::Store::next_pending) passes it over until a
    /// later cycle (or until this cycle is finished). The error is kept in
    /// `last_error`.
    Deferred {
        /// How many times it has been deferred, this time included.
        deferrals: u32,
    },
    /// A permanent failure: the clip is `failed` with its reason
    /// ([`Store::retry_failed`](crate::Store::retry_failed) requeues it).
    Failed,
}

impl FailOutcome {
    /// The clip's state after the failure (`pending` or `failed`).
    pub fn state(self) -> ClipState {
        match self {
            FailOutcome::RetryNow { .. } | FailOutcome::Deferred { .. } => ClipState::Pending,
            FailOutcome::Failed => ClipState::Failed,
        }
    }

    /// May the clip be tried again within this cycle?
    pub fn retry_now(self) -> bool {
        matches!(self, FailOutcome::RetryNow { .. })
    }
}

/// Rows per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateCounts {
    /// Pending.
    pub pending: u64,
    /// Downloading.
    pub downloading: u64,
    /// Downloaded, tail unfinished.
    pub downloaded: u64,
    /// Done.
    pub done: u64,
    /// Failed.
    pub failed: u64,
    /// Gone.
    pub gone: u64,
    /// Removed from the archive by retention (not archived any more).
    pub pruned: u64,
    /// Pending clips with a skip reason ("parked at Home"): not downloaded
    /// while it holds; not counted in `pending`.
    pub skipped: u64,
}

impl StateCounts {
    /// Count for one state.
    pub fn get(&self, s: ClipState) -> u64 {
        match s {
            ClipState::Pending => self.pending,
            ClipState::Downloading => self.downloading,
            ClipState::Downloaded => self.downloaded,
            ClipState::Done => self.done,
            ClipState::Failed => self.failed,
            ClipState::Gone => self.gone,
            ClipState::Pruned => self.pruned,
        }
    }

    pub(crate) fn slot(&mut self, s: ClipState) -> &mut u64 {
        match s {
            ClipState::Pending => &mut self.pending,
            ClipState::Downloading => &mut self.downloading,
            ClipState::Downloaded => &mut self.downloaded,
            ClipState::Done => &mut self.done,
            ClipState::Failed => &mut self.failed,
            ClipState::Gone => &mut self.gone,
            ClipState::Pruned => &mut self.pruned,
        }
    }

    /// Sum over all states, skipped clips included.
    pub fn total(&self) -> u64 {
        ClipState::ALL.iter().map(|s| self.get(*s)).sum::<u64>() + self.skipped
    }
}
