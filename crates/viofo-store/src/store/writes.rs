//! The write API: every method queues one command for the writer and
//! returns its [`Ack`](crate::Ack) (`record_timing` returns nothing).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;

use super::Store;
use super::ack::{
    Ack, out_count, out_cycle, out_cycle_done, out_cycle_row, out_fail, out_fail_state,
    out_reconcile, out_unit,
};
use super::now_ms;
use crate::error::{Error, Result};
use crate::types::{
    ArchivedFile, ClipId, ClipState, CycleId, CycleMode, CycleRow, CycleStats, DeleteOutcome,
    FailOutcome, GpsSummary, ListedClip, ReconcileReport, Stage,
};
use crate::writer::{Msg, Op, ReconcileInput};

/// The camera's (`?1`) current rows of the names of the JSON array `?2`
/// that are archived or in flight, as a JSON array of names. Only current
/// rows: a superseded row's file is recorded, so the writer never heals
/// onto it anyway.
pub(super) const SETTLED_NAMES: &str = "SELECT json_group_array(name) FROM clips \
     WHERE camera_id = ?1 AND name IN (SELECT value FROM json_each(?2)) \
     AND superseded_at IS NULL AND state NOT IN ('pending', 'failed', 'gone')";

impl Store {
    /// Folds a camera listing into the queue, in one transaction:
    ///
    /// - names not yet known are inserted `pending` (with `listed_at`);
    /// - known clips get their remote path, size, lock / parking flags
    ///   refreshed (a clip locked on the camera moves to `RO`);
    /// - `pending` / `failed` clips no longer listed become `gone`;
    ///   `downloading`, `downloaded`, `done` and `gone` rows are left alone
    ///   (an archived clip is expected to leave the camera);
    /// - `gone` clips listed again return to `pending`;
    /// - an archived row (`done`, `downloaded`, `pruned`) whose name is
    ///   listed for another recording (another size than its archived copy,
    ///   a pruned clip back with another size, or a clip listed again after
    ///   the camera deleted it) is marked superseded, keeping its archived
    ///   file, and the listed clip becomes a new `pending` row of that name
    ///   ([`ReconcileReport::superseded`](crate::ReconcileReport::superseded));
    ///   superseded rows are never matched to a listing again;
    /// - new, `pending`, `failed` or `gone` clips that `archived(name)` finds
    ///   in the archive with a matching size become `downloaded` with their
    ///   local path, so [`unfinished_tails`](Self::unfinished_tails) resumes
    ///   their tail instead of downloading them again.
    ///
    /// `archived` is called (on the caller's task, before the write) only
    /// for listed clips that could heal; keep it cheap (look names up in a
    /// pre-scanned map).
    pub async fn reconcile<F>(
        &self,
        camera_id: &str,
        listing: &[ListedClip],
        mut archived: F,
    ) -> Result<ReconcileReport>
    where
        F: FnMut(&str) -> Option<ArchivedFile>,
    {
        let settled = self.settled_names(camera_id, listing).await?;
        let mut found = HashMap::new();
        for clip in listing {
            if settled.contains(&clip.name) || found.contains_key(&clip.name) {
                continue;
            }
            if let Some(a) = archived(&clip.name) {
                found.insert(clip.name.clone(), a);
            }
        }
        let input = ReconcileInput {
            camera_id: camera_id.to_owned(),
            listing: listing.to_vec(),
            archived: found,
            now: now_ms(),
        };
        self.send(Op::Reconcile(Box::new(input)), out_reconcile)
            .await
    }

    /// The names of `listing` past the point of healing (the camera's
    /// current row of the name is archived or in flight): the clips
    /// [`reconcile`](Self::reconcile) never looks up in the archive. When
    /// it is every listed name, a caller need not scan the archive for it.
    /// One JSON row, a lookup of `clips_current_name` per name.
    pub async fn settled_names(
        &self,
        camera_id: &str,
        listing: &[ListedClip],
    ) -> Result<HashSet<String>> {
        let names: Vec<&str> = listing.iter().map(|c| c.name.as_str()).collect();
        let names_json = serde_json::to_string(&names)
            .map_err(|e| Error::invalid(format!("listing names: {e}")))?;
        let settled_json: String = sqlx::query_scalar(SETTLED_NAMES)
            .bind(camera_id)
            .bind(&names_json)
            .fetch_one(&self.inner.read)
            .await
            .map_err(Error::db)?;
        Ok(serde_json::from_str::<Vec<String>>(&settled_json)
            .map_err(|e| Error::corrupt(format!("settled names: {e}")))?
            .into_iter()
            .collect())
    }

    /// `pending` → `downloading`, recording the cycle that downloads it.
    pub fn start_download(&self, id: ClipId, cycle: Option<CycleId>) -> Ack<()> {
        self.send(Op::StartDownload { id, cycle }, out_unit)
    }

    /// `downloading` → `downloaded`: the file is in the archive under its
    /// final name. Durable when the Ack resolves; only then may the camera
    /// copy be deleted.
    pub fn finish_download(&self, id: ClipId, local_path: &Path, size: u64) -> Ack<()> {
        let local_path = match crate::writer::path_text(local_path) {
            Ok(p) => p,
            Err(e) => return self.refuse_as(e, "recording a download", Some(id), out_unit),
        };
        let Ok(size) = i64::try_from(size) else {
            let e = Error::invalid("size out of range");
            return self.refuse_as(e, "recording a download", Some(id), out_unit);
        };
        self.send(
            Op::FinishDownload {
                id,
                local_path,
                size,
            },
            out_unit,
        )
    }

    /// A download failed. Resolves to the new state (`pending` or
    /// `failed`); see [`fail_with_outcome`](Self::fail_with_outcome) for
    /// the rule and for telling a deferral from a retry.
    pub fn fail(&self, id: ClipId, error: &str, retryable: bool) -> Ack<ClipState> {
        self.send(
            Op::Fail {
                id,
                error: error.to_owned(),
                retryable,
            },
            out_fail_state,
        )
    }

    /// A download failed (`downloading` → `pending` or `failed`), keeping
    /// `error` as `last_error`:
    ///
    /// - not `retryable`: `failed`, `attempts + 1` ([`FailOutcome::Failed`](crate::FailOutcome::Failed));
    /// - retryable with attempts left: `pending`, `attempts + 1`
    ///   ([`FailOutcome::RetryNow`](crate::FailOutcome::RetryNow));
    /// - retryable and [`StoreOptions::max_attempts`](crate::StoreOptions::max_attempts) reached: `pending`,
    ///   attempts reset, `deferrals + 1`, and passed over by
    ///   [`next_pending`](Self::next_pending) until a later cycle
    ///   ([`FailOutcome::Deferred`](crate::FailOutcome::Deferred)).
    pub fn fail_with_outcome(&self, id: ClipId, error: &str, retryable: bool) -> Ack<FailOutcome> {
        self.send(
            Op::Fail {
                id,
                error: error.to_owned(),
                retryable,
            },
            out_fail,
        )
    }

    /// `downloading` → `pending` without counting an attempt (download
    /// interrupted by shutdown, not failed).
    pub fn release(&self, id: ClipId) -> Ack<()> {
        self.send(Op::Release { id }, out_unit)
    }

    /// Records the GPS summary (clip `downloaded` or `done`).
    pub fn set_gps(&self, id: ClipId, gps: GpsSummary) -> Ack<()> {
        self.send(Op::SetGps { id, gps }, out_unit)
    }

    /// Records a camera delete's outcome (clip `downloaded` or `done`);
    /// `Confirmed` sets `deleted_from_camera_at`. Durable when the Ack
    /// resolves.
    pub fn record_delete(&self, id: ClipId, outcome: DeleteOutcome) -> Ack<()> {
        self.send(
            Op::RecordDelete {
                id,
                outcome,
                at: now_ms(),
            },
            out_unit,
        )
    }

    /// `downloaded` → `done`.
    pub fn finish_tail(&self, id: ClipId) -> Ack<()> {
        self.send(Op::FinishTail { id }, out_unit)
    }

    /// `downloaded` or `done` → `pruned`: retention removed the archive
    /// copy. The clip is then never downloaded again (reconcile leaves it
    /// alone even while the camera still lists it), never deleted from the
    /// camera again ([`record_delete`](Self::record_delete) is refused) and
    /// counted as [`StateCounts::pruned`](crate::StateCounts::pruned), not as archived.
    pub fn mark_pruned(&self, id: ClipId) -> Ack<()> {
        self.send(Op::MarkPruned { id, at: now_ms() }, out_unit)
    }

    /// The camera holds another recording under this archived clip's name
    /// (found by comparing bytes before a delete): the row keeps its
    /// archived file and is marked superseded, so the next listing inserts
    /// the camera's clip as a new row of that name (see
    /// [`reconcile`](Self::reconcile)).
    pub fn supersede(&self, id: ClipId) -> Ack<()> {
        self.send(Op::Supersede { id, at: now_ms() }, out_unit)
    }

    /// `failed` → `pending` with attempts reset, for one camera or all.
    /// Resolves to the number of clips requeued.
    pub fn retry_failed(&self, camera_id: Option<&str>) -> Ack<u64> {
        self.send(
            Op::RetryFailed {
                camera_id: camera_id.map(str::to_owned),
            },
            out_count,
        )
    }

    /// Sets a clip's queue priority (higher first, under every policy).
    pub fn set_priority(&self, id: ClipId, priority: i64) -> Ack<()> {
        self.send(Op::SetPriority { id, priority }, out_unit)
    }

    /// Records a stage timestamp. Fire-and-forget: queued without waiting
    /// (an unbounded channel send; it never blocks). If more than
    /// [`StoreOptions::max_queued_timings`](crate::StoreOptions::max_queued_timings) are already waiting for the
    /// writer (the database has been locked for a long time), this one is
    /// dropped and counted in [`dropped_timings`](Self::dropped_timings):
    /// timings are diagnostics, never worth stalling a download for.
    pub fn record_timing(&self, id: ClipId, stage: Stage, at_ms: i64) {
        let inner = &self.inner;
        if inner.queued_ff.load(Ordering::Relaxed) >= inner.max_queued {
            let n = inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "timing queue full; dropping stage timings");
            }
            return;
        }
        inner.queued_ff.fetch_add(1, Ordering::Relaxed);
        let sent = inner.tx.send(Msg::Cmd {
            op: Op::Timing {
                id,
                stage,
                at: at_ms,
            },
            reply: None,
        });
        if sent.is_err() {
            inner.queued_ff.fetch_sub(1, Ordering::Relaxed);
            inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Starts a cycle row.
    pub fn begin_cycle(&self, camera_id: &str, mode: CycleMode) -> Ack<CycleId> {
        self.send(
            Op::BeginCycle {
                camera_id: camera_id.to_owned(),
                mode,
                at: now_ms(),
            },
            out_cycle,
        )
    }

    /// Finishes a cycle row. See
    /// [`finish_cycle_report`](Self::finish_cycle_report) for what the
    /// store adds.
    pub fn finish_cycle(&self, id: CycleId, stats: CycleStats) -> Ack<()> {
        self.send(
            Op::FinishCycle {
                id,
                stats,
                at: now_ms(),
            },
            out_cycle_done,
        )
    }

    /// Finishes a cycle row and resolves to it as stored. The store counts
    /// what the cycle left behind: [`CycleRow::failed`](crate::CycleRow::failed) (clips it downloaded
    /// that ended `failed`: clips, not attempts), [`CycleRow::deferred`](crate::CycleRow::deferred)
    /// (clips deferred in it, still pending) and
    /// [`CycleRow::write_failures`](crate::CycleRow::write_failures) (unawaited writes that failed while it
    /// ran, see [`unawaited_write_failures`](Self::unawaited_write_failures)).
    /// If any of them is non-zero, a [`CycleOutcome::Completed`](crate::CycleOutcome::Completed) is
    /// recorded as [`CycleOutcome::CompletedWithFailures`](crate::CycleOutcome::CompletedWithFailures); other outcomes
    /// are kept.
    pub fn finish_cycle_report(&self, id: CycleId, stats: CycleStats) -> Ack<CycleRow> {
        self.send(
            Op::FinishCycle {
                id,
                stats,
                at: now_ms(),
            },
            out_cycle_row,
        )
    }

    /// Resolves once every command queued before it has committed.
    pub fn flush(&self) -> Ack<()> {
        self.send(Op::Flush, out_unit)
    }

    /// Caps the database at `pages` pages (SQLite `max_page_count`, never
    /// below its size now), or lifts the cap: past it a write fails as on
    /// a full disk, while the store stays open. For tests of a full disk
    /// that comes and goes (see [`StoreOptions::max_page_count`](crate::StoreOptions)).
    #[doc(hidden)]
    pub fn set_page_limit(&self, pages: Option<u32>) -> Ack<()> {
        self.send(Op::PageLimit(pages), out_unit)
    }
}
