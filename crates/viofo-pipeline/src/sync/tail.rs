//! The tail stage: everything after a download (the durable record, GPS
//! sidecars, the camera delete, retention when the disk is full), run
//! behind a bounded queue so the camera link never waits for it.

use std::path::{Path, PathBuf};

use time::PrimitiveDateTime;
use tokio::sync::mpsc;
use viofo_client::Recording;
use viofo_gps::StreamExtractor;
use viofo_store::{ClipId, Stage, now_ms};

use super::convert::{gps_options, gps_summary};
use super::{Cycle, Syncer, lock};
use crate::Result;
use crate::config::GpsConfig;
use crate::events::{DeleteResult, Event};
use crate::shutdown::Shutdown;

/// One clip handed to the tail.
pub(super) struct TailJob {
    pub(super) id: ClipId,
    pub(super) name: String,
    pub(super) path: PathBuf,
    pub(super) bytes: u64,
    pub(super) locked: bool,
    /// The streamed GPS extractor (None: extract from the file, or GPS off).
    pub(super) gps: Option<StreamExtractor>,
    /// The archived state is already durable (a resumed tail).
    pub(super) recorded: bool,
    /// GPS already in the store (a resumed tail).
    pub(super) has_gps: bool,
    /// The delete outcome is already in the store (a resumed tail).
    pub(super) delete_done: bool,
}

impl Syncer {
    pub(super) async fn unfinished_tails(&self, cx: &Cycle) -> Result<Vec<TailJob>> {
        let s = &*self.inner;
        let rows = s.store.unfinished_tails(Some(&s.cfg.camera_id)).await?;
        let snap = Self::snapshot(cx);
        let mut jobs = Vec::new();
        for row in rows {
            let Some(path) = row.local_path.clone() else {
                continue;
            };
            tracing::info!("resuming the tail of {} (interrupted earlier)", row.name);
            jobs.push(TailJob {
                id: row.id,
                locked: snap
                    .recordings
                    .get(&row.name)
                    .map_or(row.locked, Recording::is_locked),
                bytes: row.local_size.unwrap_or(row.size),
                name: row.name,
                path,
                gps: None,
                recorded: true,
                has_gps: row.gps.is_some(),
                delete_done: row.delete_outcome.is_some() || row.deleted_from_camera_at.is_some(),
            });
        }
        Ok(jobs)
    }

    pub(super) async fn tail_loop(&self, cx: &Cycle, mut rx: mpsc::Receiver<TailJob>, shutdown: &Shutdown) {
        while let Some(job) = rx.recv().await {
            if shutdown.is_aborting() {
                // Left as it is in the store; the next run resumes it.
                continue;
            }
            self.run_tail(cx, job, shutdown).await;
        }
    }

    /// Everything after a download: the durable record, GPS sidecars, the
    /// camera delete, the store updates, retention when the disk is full.
    pub(super) async fn run_tail(&self, cx: &Cycle, mut job: TailJob, shutdown: &Shutdown) {
        let s = &*self.inner;
        let id = job.id;
        s.store.record_timing(id, Stage::TailStarted, now_ms());
        if !job.recorded {
            // Durable before anything else, above all before a delete.
            if let Err(e) = s.store.finish_download(id, &job.path, job.bytes).await {
                tracing::error!(
                    "{}: could not record the download ({e}); it is resumed next run",
                    job.name
                );
                return;
            }
        }
        let mut finished = true;
        if let (Some(g), false) = (s.cfg.gps, job.has_gps) {
            finished = self
                .tail_gps(&job.name, &job.path, id, job.gps.take(), g)
                .await;
            s.store.record_timing(id, Stage::GpsFinished, now_ms());
        }
        // A clip whose track could not be written (a full or failing disk)
        // stays on the camera too until a later run finishes its tail.
        if finished && s.cfg.delete_after_download && !job.delete_done {
            if shutdown.is_aborting() {
                return;
            }
            finished = self.tail_delete(cx, &job).await;
            s.store.record_timing(id, Stage::DeleteFinished, now_ms());
        }
        if finished {
            drop(s.store.finish_tail(id));
            s.store.record_timing(id, Stage::TailFinished, now_ms());
        }
        // Otherwise the clip is safe but its sidecar is not written yet:
        // the row stays `downloaded`, so the next run resumes the tail,
        // extracts the track again from the archived file, then deletes.
        if s.cfg.retention.max_used_percent.is_some() {
            let protect = lock(&cx.in_flight_times).values().min().copied();
            self.retention(cx, protect.or(Some(PrimitiveDateTime::MAX)))
                .await;
        }
    }

    /// Finishes the streamed extraction (or reads the file, for a resumed
    /// tail), writes the sidecars atomically and stores the summary.
    ///
    /// Returns `false` when the work failed in a way a later run can fix
    /// (an I/O error such as a full disk while writing the sidecar): the
    /// tail is then left unfinished. A clip whose bytes hold no readable
    /// track, or whose local file has gone, is finished without one.
    pub(super) async fn tail_gps(
        &self,
        name: &str,
        path: &Path,
        id: ClipId,
        extractor: Option<StreamExtractor>,
        g: GpsConfig,
    ) -> bool {
        let s = &*self.inner;
        let opts = gps_options(&g);
        let clip = path.to_path_buf();
        let work = move || -> Result<_, viofo_gps::Error> {
            let ex = match extractor {
                Some(x) => x.finish()?,
                None => {
                    // A resumed tail: a killed run may have left its
                    // sidecar's temporary file behind.
                    if let Ok(n @ 1..) = viofo_gps::remove_stale_sidecar_temps(&clip) {
                        tracing::info!("removed {n} leftover temporary sidecar file(s)");
                    }
                    viofo_gps::extract_file(&clip, &opts)?
                }
            };
            if !ex.points.is_empty() {
                viofo_gps::write_sidecar(&clip, &ex.points, viofo_gps::Format::Gpx)?;
                if g.geojson {
                    viofo_gps::write_sidecar(&clip, &ex.points, viofo_gps::Format::GeoJson)?;
                }
            }
            Ok(ex)
        };
        let ex = match tokio::task::spawn_blocking(work).await {
            Ok(Ok(ex)) => ex,
            Ok(Err(e)) if e.is_io() && !e.is_not_found() => {
                tracing::warn!("{name}: GPS track not written ({e}); retried next run");
                return false;
            }
            Ok(Err(e)) => {
                tracing::warn!("{name}: GPS extraction failed: {e}");
                return true;
            }
            Err(e) => {
                tracing::error!("{name}: GPS work failed ({e}); retried next run");
                return false;
            }
        };
        if ex.points.is_empty() {
            tracing::debug!("{name}: no GPS fixes ({:?})", ex.stats);
        }
        drop(s.store.set_gps(id, gps_summary(&ex.summary())));
        true
    }

    /// Decides and carries out the camera delete. Returns `false` when the
    /// request failed in a way worth another try (the camera went away, a
    /// reset, a timeout): the outcome is not stored, so the tail stays
    /// unfinished and a later run asks again. A refusal, a reasoned skip or
    /// a request error that will not change is final and stored.
    pub(super) async fn tail_delete(&self, cx: &Cycle, job: &TailJob) -> bool {
        let s = &*self.inner;
        let snap = Self::snapshot(cx);
        let mut retry_later = false;
        let outcome = if job.locked && !s.cfg.delete_locked {
            DeleteResult::Skipped {
                reason: "locked clip (deleting locked clips is off)".to_owned(),
            }
        } else if snap.held_back.contains(&job.name) {
            DeleteResult::Skipped {
                reason: "may still be recording".to_owned(),
            }
        } else if let Some(rec) = snap.recordings.get(&job.name) {
            match verify_local(&job.path, job.bytes).await {
                Err(reason) => DeleteResult::Skipped { reason },
                Ok(()) => match s.client.delete(rec).await {
                    Ok(viofo_client::DeleteOutcome::Refused { status }) => {
                        DeleteResult::Refused { status }
                    }
                    Ok(_) => DeleteResult::Confirmed,
                    Err(e) => {
                        retry_later = e.is_retryable();
                        DeleteResult::Failed {
                            error: e.to_string(),
                        }
                    }
                },
            }
        } else {
            DeleteResult::Skipped {
                reason: "not in the camera's listing".to_owned(),
            }
        };
        let stored = match &outcome {
            DeleteResult::Confirmed => viofo_store::DeleteOutcome::Confirmed,
            DeleteResult::Refused { status } => {
                viofo_store::DeleteOutcome::Refused { status: *status }
            }
            DeleteResult::Skipped { reason } => viofo_store::DeleteOutcome::Skipped {
                reason: reason.clone(),
            },
            DeleteResult::Failed { error } if !retry_later => viofo_store::DeleteOutcome::Skipped {
                reason: format!("delete request failed: {error}"),
            },
            DeleteResult::Failed { error } => {
                tracing::warn!(
                    "{}: delete request failed ({error}); asked again next run",
                    job.name
                );
                s.events.emit(Event::Delete {
                    name: job.name.clone(),
                    outcome,
                });
                return false;
            }
        };
        if let Err(e) = s.store.record_delete(job.id, stored).await {
            tracing::warn!("{}: could not record the delete outcome: {e}", job.name);
        }
        match &outcome {
            DeleteResult::Confirmed => {
                lock(&cx.counters).deleted += 1;
                tracing::info!("{}: deleted from the camera", job.name);
            }
            other => tracing::info!("{}: not deleted from the camera: {other:?}", job.name),
        }
        s.events.emit(Event::Delete {
            name: job.name.clone(),
            outcome,
        });
        true
    }

}

/// Checks the archived copy is there with the size that was downloaded.
pub(super) async fn verify_local(path: &Path, bytes: u64) -> std::result::Result<(), String> {
    match fs_err::tokio::metadata(path).await {
        Ok(m) if m.len() == bytes => Ok(()),
        Ok(m) => Err(format!(
            "local copy has {} bytes, expected {bytes}; not deleting",
            m.len()
        )),
        Err(e) => Err(format!("local copy unreadable ({e}); not deleting")),
    }
}
