//! A cycle in words for people: its outcome, and what one that did not end
//! ok left behind with the commands that show and retry it (the CLI's
//! closing line; a status page or MQTT can say the same).

use crate::{CycleOutcome, CycleSummary};

/// The outcome in words: `completed with failures`, `camera lost`, ...
pub fn outcome_words(o: CycleOutcome) -> &'static str {
    match o {
        CycleOutcome::Completed => "completed",
        CycleOutcome::CompletedWithFailures => "completed with failures",
        CycleOutcome::CameraLost => "camera lost",
        CycleOutcome::Cancelled => "cancelled",
        CycleOutcome::Failed => "failed",
        other => other.as_str(),
    }
}

impl CycleSummary {
    /// What a cycle that did not end ok left behind, with the commands to
    /// see and retry it: `finished with failures: 1 clip failed; see them
    /// with ...`.
    pub fn left_undone(&self) -> String {
        let clips = |n: u64| {
            if n == 1 {
                "1 clip".to_owned()
            } else {
                format!("{n} clips")
            }
        };
        let mut what = Vec::new();
        if self.failed > 0 {
            what.push(format!("{} failed", clips(self.failed)));
        }
        if self.deferred > 0 {
            what.push(format!("{} deferred to the next run", clips(self.deferred)));
        }
        if self.write_failures > 0 {
            what.push(format!(
                "{} state database writes failed",
                self.write_failures
            ));
        }
        if let Some(note) = &self.note {
            what.push(note.clone());
        }
        if what.is_empty() {
            what.push(outcome_words(self.outcome).to_owned());
        }
        let mut line = format!("finished with failures: {}", what.join(", "));
        if self.failed > 0 {
            line.push_str(
                "; see them with `viofosync queue --state failed`, \
                 retry them with `viofosync retry-failed`",
            );
        }
        if self.deferred > 0 {
            line.push_str(
                "; deferred clips are tried again on the next run \
                 (`viofosync queue --state pending`)",
            );
        }
        line
    }
}
