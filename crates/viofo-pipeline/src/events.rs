//! Events for an embedding program (progress bars, logs, a UI).

use std::time::Duration;

/// Whether the tail ran behind a queue or between downloads: the store's
/// cycle mode, one type for both.
pub use viofo_store::CycleMode;
pub use viofo_store::CycleOutcome;

/// What became of a camera delete: the store's outcome type, one type and
/// one name for the store, the pipeline's events and the binary. (A
/// request that failed and is asked again later is
/// [`Event::DeleteRetried`], not an outcome.)
pub use viofo_store::DeleteOutcome;
/// The old name of [`DeleteOutcome`], kept inside the crate only until
/// `sync/tail.rs` (under another change this round) says the one name.
pub(crate) use viofo_store::DeleteOutcome as DeleteResult;

/// Numbers of one cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleSummary {
    /// How the tail ran.
    pub mode: CycleMode,
    /// Clips downloaded.
    pub clips: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Clips left failed this cycle (clips, not attempts): a permanent
    /// failure, listed by `queue --state failed`.
    pub failed: u64,
    /// Clips whose transient failures outlasted their attempts: pending
    /// again, offered on the next cycle.
    pub deferred: u64,
    /// State writes nobody awaited that failed during the cycle.
    pub write_failures: u64,
    /// Clips deleted from the camera.
    pub deleted: u64,
    /// Clips removed from the archive by retention.
    pub pruned: u64,
    /// Wall time of the cycle.
    pub duration: Duration,
    /// Time spent listing the camera.
    pub listing: Duration,
    /// How the cycle ended (as stored in its cycle row):
    /// [`CycleOutcome::Completed`] only when nothing was left behind.
    pub outcome: CycleOutcome,
    /// Why it stopped early, when it did.
    pub note: Option<String>,
    /// What kind of stop that was, when it stopped early (the `note` says
    /// it in words).
    pub stop: Option<StopReason>,
}

/// What stopped a cycle before its end: the kind of its error, for a
/// program that branches on it (the note is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The camera did not answer, or went away.
    CameraLost,
    /// The disk is full, fuller than `max_used_disk`, or the archive at
    /// its quota.
    DiskFull,
    /// A signal (or a pause) stopped it.
    Interrupted,
    /// The archive folder is missing or not writable.
    Archive,
    /// The device at the address is not this camera.
    WrongCamera,
    /// The configuration was refused.
    Config,
    /// The state database failed.
    Store,
    /// Anything else (a camera error, an I/O error).
    Other,
}

impl StopReason {
    /// The kind of `error`, by its predicates.
    pub fn of(error: &crate::Error) -> Self {
        if error.is_offline() {
            Self::CameraLost
        } else if error.is_disk_full() {
            Self::DiskFull
        } else if error.is_interrupted() {
            Self::Interrupted
        } else if error.is_archive() {
            Self::Archive
        } else if error.is_wrong_camera() {
            Self::WrongCamera
        } else if error.is_config() {
            Self::Config
        } else if error.is_store() {
            Self::Store
        } else {
            Self::Other
        }
    }

    /// `camera_lost`, `disk_full`, ...: the name logs and JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CameraLost => "camera_lost",
            Self::DiskFull => "disk_full",
            Self::Interrupted => "interrupted",
            Self::Archive => "archive",
            Self::WrongCamera => "wrong_camera",
            Self::Config => "config",
            Self::Store => "store",
            Self::Other => "other",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CycleSummary {
    /// Did the cycle do everything it set out to do?
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }

    /// Did the cycle find nothing to do: it completed with nothing
    /// downloaded, failed, deferred, deleted or pruned? (An idle `watch`
    /// logs such cycles at DEBUG.)
    pub fn is_idle(&self) -> bool {
        self.outcome == CycleOutcome::Completed
            && self.clips == 0
            && self.failed == 0
            && self.deferred == 0
            && self.write_failures == 0
            && self.deleted == 0
            && self.pruned == 0
    }
}

/// Something that happened during a sync.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A cycle began.
    CycleStarted {
        /// How its tail runs.
        mode: CycleMode,
    },
    /// The camera answered.
    CameraOnline {
        /// Firmware string, when it could be read.
        firmware: Option<String>,
        /// The camera's model (`A329S`), when its info names it.
        model: Option<String>,
    },
    /// The camera did not answer.
    CameraOffline {
        /// Why, as the client said it.
        reason: String,
    },
    /// The listing was read and reconciled.
    Listed {
        /// Clips listed.
        clips: usize,
        /// Clips waiting to be downloaded.
        pending: usize,
    },
    /// A download started.
    ItemStarted {
        /// Clip name.
        name: String,
        /// Expected size, when known.
        size: Option<u64>,
    },
    /// Download progress (throttled).
    ItemProgress {
        /// Clip name.
        name: String,
        /// Bytes so far.
        bytes: u64,
        /// Expected total, when known.
        total: Option<u64>,
    },
    /// A clip is safely in the archive.
    ItemDone {
        /// Clip name.
        name: String,
        /// Bytes.
        bytes: u64,
        /// Download time.
        duration: Duration,
    },
    /// A clip failed this cycle.
    ItemFailed {
        /// Clip name.
        name: String,
        /// The error.
        error: String,
        /// Whether a later attempt may succeed.
        retryable: bool,
    },
    /// A clip was skipped (by the user, a filter, or because it is still
    /// being recorded).
    ItemSkipped {
        /// Clip name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A camera delete was decided or carried out (the outcome stored).
    Delete {
        /// Clip name.
        name: String,
        /// What became of it.
        outcome: DeleteOutcome,
    },
    /// A delete request failed in a way worth another try (a reset, a
    /// timeout): the clip stays on the camera and is asked about again on
    /// a later listing.
    DeleteRetried {
        /// Clip name.
        name: String,
        /// The error, with its causes.
        error: String,
    },
    /// Retention removed a clip from the archive.
    Pruned {
        /// The clip's path.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// GPS triage found a pending clip's track (stored with source
    /// `triage`) from a few ranged reads.
    Triaged {
        /// Clip name.
        name: String,
        /// Fixes stored.
        points: u64,
        /// Ranged reads (requests) it took.
        reads: u64,
        /// Bytes those reads asked for.
        bytes: u64,
        /// The clip's size.
        clip_size: u64,
    },
    /// GPS triage found no track for a clip (no `gps ` index, no `moov`
    /// yet, boxes it cannot read): stored, not tried again while the clip
    /// keeps its size; its track is found when it is downloaded.
    TriageNone {
        /// Clip name.
        name: String,
        /// Why.
        reason: String,
        /// Ranged reads it took.
        reads: u64,
        /// Bytes those reads asked for.
        bytes: u64,
    },
    /// GPS triage of a clip failed on the link (reset, timeout, the clip
    /// changed): nothing stored, tried again next cycle; the clip and the
    /// cycle go on.
    TriageFailed {
        /// Clip name.
        name: String,
        /// The error, with its causes.
        error: String,
    },
    /// GPS triage stopped for this cycle (clips failing in a row) or for
    /// good (the camera ignores HTTP Range); downloads are not affected.
    TriageStopped {
        /// Why.
        reason: String,
    },
    /// A pending parking clip is skipped, not downloaded: its triaged
    /// track lies wholly inside a place with `skip_parking`
    /// ([`SyncConfig::places`](crate::SyncConfig::places)). Never deleted
    /// from the camera either.
    Skipped {
        /// Clip name.
        name: String,
        /// Why ("parked at Home").
        reason: String,
    },
    /// A skipped clip is downloadable again: the places changed and no
    /// longer skip it (or its track changed).
    SkipLifted {
        /// Clip name.
        name: String,
        /// The reason it had.
        was: String,
    },
    /// A cycle ended.
    CycleDone(CycleSummary),
    /// Watch mode: the next cycle starts after `delay` (the interval after
    /// a cycle, or the back-off of 10 s, 30 s, 2 min, then 10 min while the
    /// camera is away).
    NextCycle {
        /// How long the watch loop waits.
        delay: Duration,
        /// The wait is the back-off for an absent camera.
        camera_away: bool,
    },
}

/// Receives events; a closure `Fn(Event)` is one. Called inline from the pipeline's tasks, so an
/// implementation must return quickly and never block.
pub trait EventSink: Send + Sync + 'static {
    /// Takes one event.
    fn emit(&self, event: Event);
}

/// Discards every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: Event) {}
}

impl<F: Fn(Event) + Send + Sync + 'static> EventSink for F {
    fn emit(&self, event: Event) {
        self(event);
    }
}

#[cfg(test)]
mod tests {
    use super::StopReason;
    use crate::Error;

    #[test]
    fn stop_reasons_follow_the_error_predicates() {
        assert_eq!(
            StopReason::of(&Error::interrupted()),
            StopReason::Interrupted
        );
        assert_eq!(StopReason::of(&Error::config("bad")), StopReason::Config);
        assert_eq!(StopReason::CameraLost.to_string(), "camera_lost");
        assert_eq!(StopReason::DiskFull.as_str(), "disk_full");
    }
}
