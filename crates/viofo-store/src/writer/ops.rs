//! The commands the writer takes ([`Op`], in a [`Msg`]), their answers
//! ([`Out`]), and the count of failures nobody awaited ([`Unawaited`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::types::{
    ArchivedFile, CameraSeen, ClipId, CycleId, CycleMode, CycleRow, CycleStats, DeleteOutcome,
    FailOutcome, GpsSummary, ListedClip, ReconcileReport, SetTrack, Stage, Track,
};

/// One write command.
#[derive(Debug)]
pub(crate) enum Op {
    Reconcile(Box<ReconcileInput>),
    StartDownload {
        id: ClipId,
        cycle: Option<CycleId>,
    },
    FinishDownload {
        id: ClipId,
        local_path: String,
        size: i64,
    },
    Fail {
        id: ClipId,
        error: String,
        retryable: bool,
    },
    Release {
        id: ClipId,
    },
    SetGps {
        id: ClipId,
        gps: GpsSummary,
    },
    RecordDelete {
        id: ClipId,
        outcome: DeleteOutcome,
        at: i64,
    },
    FinishTail {
        id: ClipId,
    },
    MarkPruned {
        id: ClipId,
        at: i64,
    },
    Supersede {
        id: ClipId,
        at: i64,
    },
    RetryFailed {
        camera_id: Option<String>,
    },
    SetPriority {
        id: ClipId,
        priority: i64,
    },
    Timing {
        id: ClipId,
        stage: Stage,
        at: i64,
    },
    BeginCycle {
        camera_id: String,
        mode: CycleMode,
        at: i64,
    },
    FinishCycle {
        id: CycleId,
        stats: CycleStats,
        at: i64,
    },
    SetTrack {
        id: ClipId,
        track: Box<Track>,
        /// The fixes, encoded.
        data: Vec<u8>,
        at: i64,
    },
    SawCamera {
        seen: Box<CameraSeen>,
        at: i64,
    },
    SetAnchor {
        camera_id: String,
        anchor: Box<crate::types::Anchor>,
    },
    RecordImports(Box<super::ImportInput>),
    SetSkip {
        id: ClipId,
        reason: Option<String>,
    },
    ReplaceJourneys(Box<super::ReplaceInput>),
    /// `PRAGMA max_page_count` on the writer's connection (tests of a
    /// full disk): `None` lifts the limit.
    PageLimit(Option<u32>),
    Flush,
}

impl Op {
    /// The clip the command is about, if it is about one.
    pub(crate) fn clip(&self) -> Option<ClipId> {
        match self {
            Op::StartDownload { id, .. }
            | Op::FinishDownload { id, .. }
            | Op::Fail { id, .. }
            | Op::Release { id }
            | Op::SetGps { id, .. }
            | Op::RecordDelete { id, .. }
            | Op::FinishTail { id }
            | Op::MarkPruned { id, .. }
            | Op::Supersede { id, .. }
            | Op::SetPriority { id, .. }
            | Op::SetTrack { id, .. }
            | Op::SetSkip { id, .. }
            | Op::Timing { id, .. } => Some(*id),
            Op::Reconcile(_)
            | Op::RetryFailed { .. }
            | Op::BeginCycle { .. }
            | Op::FinishCycle { .. }
            | Op::SawCamera { .. }
            | Op::SetAnchor { .. }
            | Op::RecordImports(_)
            | Op::ReplaceJourneys(_)
            | Op::PageLimit(_)
            | Op::Flush => None,
        }
    }

    /// What the command does, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::Reconcile(_) => "reconciling a listing",
            Op::StartDownload { .. } => "starting a download",
            Op::FinishDownload { .. } => "recording a download",
            Op::Fail { .. } => "recording a failure",
            Op::Release { .. } => "releasing a clip",
            Op::SetGps { .. } => "recording a GPS summary",
            Op::RecordDelete { .. } => "recording a delete",
            Op::FinishTail { .. } => "finishing a tail",
            Op::MarkPruned { .. } => "recording a pruned clip",
            Op::Supersede { .. } => "recording a clip superseded by another recording",
            Op::RetryFailed { .. } => "retrying failed clips",
            Op::SetPriority { .. } => "setting a priority",
            Op::Timing { .. } => "recording a timing",
            Op::BeginCycle { .. } => "starting a cycle",
            Op::FinishCycle { .. } => "finishing a cycle",
            Op::SetTrack { .. } => "recording a GPS track",
            Op::SawCamera { .. } => "recording a camera's identity",
            Op::SetAnchor { .. } => "recording a camera's anchor",
            Op::RecordImports(_) => "recording imported clips",
            Op::SetSkip { .. } => "recording a skip",
            Op::ReplaceJourneys(_) => "replacing journeys",
            Op::PageLimit(_) => "setting the database's page limit",
            Op::Flush => "flushing",
        }
    }
}

/// Counts (and logs) the failures of writes whose result nobody reads:
/// fire-and-forget timings, [`Ack::submit`](crate::Ack::submit), a dropped
/// [`Ack`](crate::Ack).
#[derive(Debug, Default)]
pub(crate) struct Unawaited {
    failures: AtomicU64,
}

impl Unawaited {
    /// Logs one such failure with the clip and the command, and counts it.
    pub(crate) fn failed(&self, command: &'static str, clip: Option<ClipId>, error: &Error) {
        self.count();
        match clip {
            Some(clip) => tracing::warn!(
                %clip,
                command,
                %error,
                "state write for clip {clip} failed ({command}) and nobody was waiting for it: {error}"
            ),
            None => tracing::warn!(
                command,
                %error,
                "state write failed ({command}) and nobody was waiting for it: {error}"
            ),
        }
    }

    pub(crate) fn count(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub(crate) struct ReconcileInput {
    pub(crate) camera_id: String,
    pub(crate) listing: Vec<ListedClip>,
    pub(crate) archived: HashMap<String, ArchivedFile>,
    pub(crate) now: i64,
}

/// A command's result.
#[derive(Debug)]
pub(crate) enum Out {
    Unit,
    Reconcile(ReconcileReport),
    Fail(FailOutcome),
    CycleRow(Box<CycleRow>),
    Count(u64),
    Cycle(CycleId),
    Track(SetTrack),
}

pub(crate) type Reply = oneshot::Sender<Result<Out>>;

#[derive(Debug)]
pub(crate) enum Msg {
    Cmd { op: Op, reply: Option<Reply> },
    Close(oneshot::Sender<()>),
}
