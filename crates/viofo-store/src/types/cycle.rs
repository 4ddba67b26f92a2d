//! The types of a sync cycle: how it ran, how it ended, what it counted.

use std::fmt;

use super::CycleId;
use crate::error::{Error, Result};

/// How a cycle ran its tails (the pipeline's tail mode: one type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CycleMode {
    /// Tails run beside the next downloads.
    #[default]
    Pipelined,
    /// Each clip's tail runs before the next download.
    Inline,
}

impl CycleMode {
    /// `pipelined` or `inline`.
    pub fn as_str(self) -> &'static str {
        match self {
            CycleMode::Pipelined => "pipelined",
            CycleMode::Inline => "inline",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "pipelined" => Ok(CycleMode::Pipelined),
            "inline" => Ok(CycleMode::Inline),
            other => Err(Error::corrupt(format!("cycle mode {other:?}"))),
        }
    }
}

impl fmt::Display for CycleMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CycleMode {
    type Err = String;
    /// `pipelined` or `inline`, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pipelined" => Ok(CycleMode::Pipelined),
            "inline" => Ok(CycleMode::Inline),
            _ => Err(format!(
                "unknown tail mode {s:?}: expected pipelined or inline"
            )),
        }
    }
}

/// How a cycle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CycleOutcome {
    /// Queue drained.
    Completed,
    /// Queue drained, but clips were left failed or deferred, or state
    /// writes nobody awaited failed (see
    /// [`Store::finish_cycle_report`](crate::Store::finish_cycle_report)).
    CompletedWithFailures,
    /// The camera went away mid-cycle.
    CameraLost,
    /// Shut down on request.
    Cancelled,
    /// Stopped by an error.
    Failed,
}

impl CycleOutcome {
    /// The stable name stored in the database and printed in reports:
    /// `completed`, `completed_with_failures`, `camera_lost`, `cancelled`,
    /// `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            CycleOutcome::Completed => "completed",
            CycleOutcome::CompletedWithFailures => "completed_with_failures",
            CycleOutcome::CameraLost => "camera_lost",
            CycleOutcome::Cancelled => "cancelled",
            CycleOutcome::Failed => "failed",
        }
    }

    /// Did the cycle do everything it set out to do? Only
    /// [`Completed`](Self::Completed) is ok.
    pub fn is_ok(self) -> bool {
        matches!(self, CycleOutcome::Completed)
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "completed" => CycleOutcome::Completed,
            "completed_with_failures" => CycleOutcome::CompletedWithFailures,
            "camera_lost" => CycleOutcome::CameraLost,
            "cancelled" => CycleOutcome::Cancelled,
            "failed" => CycleOutcome::Failed,
            other => return Err(Error::corrupt(format!("cycle outcome {other:?}"))),
        })
    }
}

impl fmt::Display for CycleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Totals the pipeline reports when a cycle ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleStats {
    /// Clips downloaded.
    pub clips: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// How it ended.
    pub outcome: CycleOutcome,
    /// Free text (error message, reason).
    pub note: Option<String>,
}

/// One cycles row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleRow {
    /// Id.
    pub id: CycleId,
    /// Camera.
    pub camera_id: String,
    /// Mode.
    pub mode: CycleMode,
    /// Start, ms since the epoch.
    pub started_at: i64,
    /// End, if finished.
    pub finished_at: Option<i64>,
    /// Clips drained (from `finish_cycle`).
    pub clips: Option<u64>,
    /// Bytes (from `finish_cycle`).
    pub bytes: Option<u64>,
    /// Outcome (from `finish_cycle`).
    pub outcome: Option<CycleOutcome>,
    /// Note.
    pub note: Option<String>,
    /// Clips this cycle downloaded that ended `failed` (clips, not
    /// attempts), counted when it finished.
    pub failed: Option<u64>,
    /// Clips deferred in this cycle and still waiting for a later one,
    /// counted when it finished.
    pub deferred: Option<u64>,
    /// State writes nobody awaited that failed while the cycle ran (`None`
    /// if it began in another process or has not finished).
    pub write_failures: Option<u64>,
}
