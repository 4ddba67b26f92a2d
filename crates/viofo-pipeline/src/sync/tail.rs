//! The tail stage: everything after a download (the durable record, GPS
//! sidecars, the camera delete, retention when the disk is full), run
//! behind a bounded queue so the camera link never waits for it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use time::PrimitiveDateTime;
use viofo_gps::StreamExtractor;
use viofo_store::{ClipId, Stage, TrackSource, now_ms};

use super::convert::{gps_options, gps_summary};
use super::delete::{Archived, CameraState, Decision, KeepReason, Listed, may_delete};
use super::identity::Shown;
use super::listing::Snapshot;
use super::triage::stored_track;
use super::{Cycle, Syncer};
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
    /// The camera path it was downloaded from.
    pub(super) remote_path: String,
    /// A still photo: no GPS track to extract.
    pub(super) photo: bool,
    /// The streamed GPS extractor (None: extract from the file, or GPS off).
    pub(super) gps: Option<StreamExtractor>,
    /// The archived state is already durable (a resumed tail).
    pub(super) recorded: bool,
    /// GPS already in the store (a resumed tail).
    pub(super) has_gps: bool,
    /// The delete outcome is already in the store (a resumed tail).
    pub(super) delete_done: bool,
    /// Bytes reserved under the quota when it was picked (0: none).
    pub(super) reserved: u64,
    /// The complete `.part` still to be made durable and renamed onto
    /// `path` (a staged download; see `durable`). `None`: the file is at
    /// `path` already.
    pub(super) staged: Option<PathBuf>,
    /// When the batch that made it durable recorded it (see `batch`).
    pub(super) durable_at: Option<Instant>,
}

impl Syncer {
    pub(super) async fn unfinished_tails(&self) -> Result<Vec<TailJob>> {
        let s = &*self.inner;
        let rows = s.store.unfinished_tails(Some(&s.cfg.camera_id)).await?;
        let mut jobs = Vec::new();
        for row in rows {
            let Some(path) = row.local_path.clone() else {
                continue;
            };
            tracing::info!("resuming the tail of {} (interrupted earlier)", row.name);
            let delete_done = row.delete_decided();
            jobs.push(TailJob {
                id: row.id,
                remote_path: row.remote_path.clone(),
                photo: is_photo_name(&row.name),
                bytes: row.local_size.unwrap_or(row.size),
                name: row.name,
                path,
                gps: None,
                recorded: true,
                has_gps: row.gps.is_some(),
                delete_done,
                reserved: 0,
                staged: None,
                durable_at: None,
            });
        }
        Ok(jobs)
    }

    /// Everything after a download: the durable record, GPS sidecars, the
    /// camera delete, the store updates, retention when the disk is full.
    pub(super) async fn run_tail(&self, cx: &Cycle, mut job: TailJob) {
        let s = &*self.inner;
        let id = job.id;
        s.store.record_timing(id, Stage::TailStarted, now_ms());
        if !job.recorded {
            // Durable before anything else, above all before a delete.
            let recorded = s.store.finish_download(id, &job.path, job.bytes).await;
            // The store counts it from now on (or not at all): the quota
            // reservation made when it was picked ends.
            cx.release_quota(job.reserved);
            if let Err(e) = recorded {
                tracing::error!(
                    "{}: could not record the download ({e}); it is resumed next run",
                    job.name
                );
                return;
            }
        }
        // A resumed tail's record was durable before this cycle started;
        // a batch's, when the batch recorded it.
        let recorded = match job.durable_at {
            Some(t) => t,
            None if job.recorded => cx.started,
            None => Instant::now(),
        };
        let mut finished = true;
        if let Some(g) = s.cfg.gps
            && !job.has_gps
            && !job.photo
        {
            let streamed = job.gps.take();
            finished = self.tail_gps(cx, &job, id, streamed, g).await;
            s.store.record_timing(id, Stage::GpsFinished, now_ms());
        }
        // With an object archive, the clip must be complete in the bucket
        // before it may be deleted from the camera.
        if finished && !job.delete_done {
            finished = self.tail_upload(cx, &job).await;
        }
        // A clip whose track could not be written (a full or failing disk)
        // stays on the camera too until a later run finishes its tail.
        if finished && s.cfg.delete_after_download && !job.delete_done {
            // Decided on a listing taken after the record was durable (the
            // re-lister's next one, or the cycle's last): until then the
            // tail stays unfinished.
            cx.st().deletes.push(PendingDelete {
                id,
                name: job.name.clone(),
                path: job.path.clone(),
                bytes: job.bytes,
                remote_path: job.remote_path.clone(),
                recorded,
                asked: false,
                last_keep: None,
                open_tail: true,
            });
            cx.deletes_added.notify_one();
            finished = false;
        }
        if finished {
            let done = s.store.finish_tail(id);
            s.store.record_timing(id, Stage::TailFinished, now_ms());
            self.unstage(done, &job.path).await;
        }
        // Otherwise the clip is safe but its sidecar is not written yet:
        // the row stays `downloaded`, so the next run resumes the tail,
        // extracts the track again from the archived file, then deletes.
        if s.cfg.retention.max_used_percent.is_some() || s.cfg.retention.quota.is_some() {
            let protect = cx.st().in_flight_times.values().min().copied();
            self.retention(cx, protect.or(Some(PrimitiveDateTime::MAX)))
                .await;
        }
    }

    /// Finishes the streamed extraction (or reads the file, for a resumed
    /// tail), writes the sidecars atomically and stores the summary and the
    /// track (source `file`: it replaces a triage track).
    ///
    /// Returns `false` when the work failed in a way a later run can fix
    /// (an I/O error such as a full disk while writing the sidecar): the
    /// tail is then left unfinished. A clip whose bytes hold no readable
    /// track, or whose local file has gone, is finished without one.
    pub(super) async fn tail_gps(
        &self,
        cx: &Cycle,
        job: &TailJob,
        id: ClipId,
        extractor: Option<StreamExtractor>,
        g: GpsConfig,
    ) -> bool {
        let s = &*self.inner;
        let (name, path) = (job.name.as_str(), job.path.as_path());
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
                let formats: &[viofo_gps::Format] = if g.geojson {
                    &[viofo_gps::Format::Gpx, viofo_gps::Format::GeoJson]
                } else {
                    &[viofo_gps::Format::Gpx]
                };
                crate::archive::write_sidecars(&clip, &ex.points, formats)?;
            }
            Ok(ex)
        };
        let ex = match tokio::task::spawn_blocking(work).await {
            Ok(Ok(ex)) => ex,
            Ok(Err(e)) if e.is_io() && !e.is_not_found() => {
                tracing::warn!("{name}: GPS track not written ({e:#}); retried next run");
                cx.st().counters.sidecar_failures += 1;
                return false;
            }
            Ok(Err(e)) => {
                tracing::warn!("{name}: GPS extraction failed: {e}");
                return true;
            }
            Err(e) => {
                tracing::error!("{name}: GPS work failed ({e}); retried next run");
                cx.st().counters.sidecar_failures += 1;
                return false;
            }
        };
        if ex.points.is_empty() {
            tracing::debug!("{name}: no GPS fixes ({:?})", ex.stats);
        }
        s.store.set_gps(id, gps_summary(&ex.summary())).submit();
        let track = stored_track(
            TrackSource::File,
            None,
            job.bytes,
            &ex,
            "no GPS fixes in the file",
        );
        s.store.set_track(id, track).submit();
        // Queued after the track: the journeys task sees it committed.
        s.journeys.track_stored(&s.store, &s.cfg, id);
        true
    }
}

/// The local file's size now (`None`: missing or unreadable).
async fn local_size(path: &Path) -> Option<u64> {
    fs_err::tokio::metadata(path).await.ok().map(|m| m.len())
}

/// The longest a cycle waits at its end for the clips' sizes to settle
/// before deciding its delete; with a longer `delete_settle`, the next run
/// decides.
const MAX_END_OF_CYCLE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// An archived clip waiting for the listing that decides its delete.
pub(crate) struct PendingDelete {
    pub(super) id: ClipId,
    pub(super) name: String,
    path: PathBuf,
    pub(super) bytes: u64,
    pub(super) remote_path: String,
    /// When its archived record was durable.
    recorded: Instant,
    /// A delete was sent and answered ambiguously (an empty 200).
    asked: bool,
    /// Why it was kept at the last decision.
    last_keep: Option<KeepReason>,
    /// Its tail is open (a clip archived this run or resumed); `false` for
    /// a clip archived earlier and done (`delete_archived`).
    open_tail: bool,
}

impl PendingDelete {
    /// Does its decision need a listing newer than one taken at `taken`?
    pub(super) fn needs_listing_after(&self, taken: Option<Instant>) -> bool {
        taken.is_none_or(|t| t < self.recorded)
    }
}

impl Syncer {
    /// With `delete_archived`: the clips archived by earlier runs (done)
    /// that the camera still lists join the pending deletes, decided by the
    /// same rule as fresh ones (their records are durable since before this
    /// cycle).
    pub(super) async fn queue_archived_deletes(&self, cx: &Cycle) -> Result<()> {
        let s = &*self.inner;
        let snap = cx.snapshot();
        let rows = s
            .store
            .list(
                Some(&s.cfg.camera_id),
                &[viofo_store::ClipState::Done],
                u32::MAX,
            )
            .await?;
        let mut queued = 0usize;
        let mut st = cx.st();
        for row in rows {
            let (Some(path), Some(bytes)) = (row.local_path, row.local_size) else {
                continue;
            };
            if row.deleted_from_camera_at.is_some()
                || row.superseded_at.is_some()
                || !snap.recordings.contains_key(&row.name)
                || st.deletes.iter().any(|d| d.id == row.id)
            {
                continue;
            }
            st.deletes.push(PendingDelete {
                id: row.id,
                name: row.name,
                path,
                bytes,
                remote_path: row.remote_path,
                recorded: cx.started,
                asked: false,
                last_keep: None,
                open_tail: false,
            });
            queued += 1;
        }
        drop(st);
        if queued > 0 {
            tracing::info!(
                "{queued} clip(s) archived earlier and still on the camera: deleting them under the delete rule"
            );
            cx.deletes_added.notify_one();
        }
        Ok(())
    }

    /// Decides the pending deletes on the newest listing and carries out
    /// the deletes it allows. Lasting reasons to keep a clip are stored as
    /// its delete outcome (its tail finishes); passing ones keep it pending.
    /// No lock is held across a camera request.
    pub(super) async fn decide_deletes(&self, cx: &Cycle) {
        let s = &*self.inner;
        let pending = std::mem::take(&mut cx.st().deletes);
        if pending.is_empty() {
            return;
        }
        let snap = cx.snapshot();
        let proved =
            self.prove_by_archived(&shown_listed(&snap, &pending), &shown_archived(&pending));
        let anchor = if proved && s.client.has_fallbacks() {
            self.keep_anchor(&snap, &pending)
        } else {
            None
        };
        let mut still = Vec::new();
        for mut d in pending {
            if cx.halt.is_cancelled() {
                still.push(d);
                continue;
            }
            let rec = snap.recordings.get(&d.name);
            let listed = rec.map(|r| Listed {
                remote_path: r.remote_path(),
                size: r.size().bytes(),
                exact: r.size().exact().is_some(),
                locked: r.is_locked(),
            });
            let archived = Archived {
                remote_path: &d.remote_path,
                size: d.bytes,
                local_size: local_size(&d.path).await,
            };
            let cam = CameraState {
                listed_after_record: snap.taken_at.is_some_and(|t| t >= d.recorded),
                listing_complete: snap.complete,
                recording: snap.recording,
                newest_of_channel: snap.newest.contains(&d.name),
                size_settled: snap.settled.contains(&d.name),
                duplicate_name: snap.duplicates.contains(&d.name),
                delete_locked: s.cfg.delete_locked,
                identity_proved: proved,
                anchor: anchor == Some(d.id),
            };
            let mut decision = may_delete(&archived, listed.as_ref(), &cam);
            if let (Decision::Delete, Some(r)) = (&decision, rec) {
                // The same name and size are not the same bytes (a card
                // formatted, a clock reset): the camera's clip must end
                // with the archived copy's last bytes.
                match super::same_bytes::check(&s.client, r, &d.path, d.bytes).await {
                    Ok(Some(false)) => {
                        tracing::warn!(
                            "{}: the camera's clip is another recording than the archived one \
                             (same name and size, other bytes): kept, and archived beside it",
                            d.name
                        );
                        // Its row keeps the archived copy; the next listing
                        // makes the camera's clip a new row to download.
                        if let Err(e) = s.store.supersede(d.id).await {
                            tracing::error!("{}: could not record it: {e}", d.name);
                        }
                        decision = Decision::Keep(KeepReason::OtherRecording);
                    }
                    Ok(Some(true)) => {}
                    // The camera answers Range with the whole clip: its
                    // bytes cannot be compared, so it is not deleted (a
                    // same-size recording under the name would be lost).
                    Ok(None) => decision = Decision::Keep(KeepReason::CannotCompare),
                    Err(e) => {
                        tracing::warn!(
                            "{}: could not compare the camera's bytes ({e}); asked again later",
                            d.name
                        );
                        still.push(d);
                        continue;
                    }
                }
            }
            let outcome = match (decision, rec) {
                (Decision::Delete, Some(rec)) => match s.client.delete(rec).await {
                    Ok(o) if o.is_confirmed() => DeleteResult::Confirmed,
                    Ok(viofo_client::DeleteAnswer::Refused { status }) => {
                        DeleteResult::Refused { status }
                    }
                    Ok(_) => {
                        // An empty 200: maybe deleted, maybe not. The next
                        // listing tells.
                        tracing::info!(
                            "{}: the camera's answer to the delete was empty; checked on the next listing",
                            d.name
                        );
                        d.asked = true;
                        still.push(d);
                        continue;
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(
                            "{}: delete request failed ({e:#}); asked again later",
                            d.name
                        );
                        s.events.emit(Event::DeleteRetried {
                            name: d.name.clone(),
                            error: format!("{e:#}"),
                        });
                        still.push(d);
                        continue;
                    }
                    Err(e) => DeleteResult::Skipped {
                        reason: format!("delete request failed: {e:#}"),
                    },
                },
                (Decision::Keep(KeepReason::NotListed), _) if d.asked => {
                    tracing::info!("{}: gone from the camera after the delete", d.name);
                    DeleteResult::Confirmed
                }
                (Decision::Keep(r), _) if r.is_passing() => {
                    if d.last_keep.as_ref() != Some(&r) {
                        // Stored (once per change) so `queue` says why the
                        // clip is still on the camera; the tail stays open.
                        tracing::info!("{}: kept on the camera for now: {r}", d.name);
                        let waiting = DeleteResult::Waiting {
                            reason: r.to_string(),
                        };
                        s.store.record_delete(d.id, waiting.clone()).submit();
                        s.events.emit(Event::Delete {
                            name: d.name.clone(),
                            outcome: waiting,
                        });
                    }
                    d.last_keep = Some(r);
                    still.push(d);
                    continue;
                }
                (Decision::Keep(r), _) => DeleteResult::Skipped {
                    reason: r.to_string(),
                },
                (Decision::Delete, None) => DeleteResult::Skipped {
                    reason: KeepReason::NotListed.to_string(),
                },
            };
            self.finish_delete(cx, &d, outcome).await;
        }
        cx.st().deletes.extend(still);
    }

    /// Stores a final delete outcome and finishes the clip's tail.
    async fn finish_delete(&self, cx: &Cycle, d: &PendingDelete, outcome: DeleteResult) {
        let s = &*self.inner;
        match &outcome {
            DeleteResult::Confirmed => {
                cx.st().counters.deleted += 1;
                tracing::info!("{}: deleted from the camera", d.name);
            }
            DeleteResult::Skipped { reason } => {
                tracing::info!("{}: kept on the camera: {reason}", d.name);
            }
            other => tracing::info!("{}: not deleted from the camera: {other:?}", d.name),
        }
        // The outcome first, then the tail's end: a crash between them
        // resumes a tail whose delete is already decided.
        s.store.record_delete(d.id, outcome.clone()).submit();
        s.store.record_timing(d.id, Stage::DeleteFinished, now_ms());
        if d.open_tail {
            let done = s.store.finish_tail(d.id);
            s.store.record_timing(d.id, Stage::TailFinished, now_ms());
            self.unstage(done, &d.path).await;
        }
        s.events.emit(Event::Delete {
            name: d.name.clone(),
            outcome,
        });
    }

    /// At the end of a cycle: lists once more for the clips still waiting
    /// for their delete decision, and once again after the settle time for
    /// the clips whose size was not seen settled yet. What is still
    /// undecided stays so (its tail unfinished) for the next run.
    pub(super) async fn final_deletes(&self, cx: &Cycle, shutdown: &Shutdown) -> Result<()> {
        // At most: the first listing, one after the settle time, one to
        // check the last ambiguous answers.
        let mut slept = false;
        for round in 0..3 {
            if cx.st().deletes.is_empty() || shutdown.is_stopping() || cx.halt.is_cancelled() {
                break;
            }
            if round > 0 {
                let (settling, asked) = {
                    let st = cx.st();
                    let d = &st.deletes;
                    (
                        d.iter()
                            .any(|d| d.last_keep == Some(KeepReason::NotSettled)),
                        d.iter().any(|d| d.asked),
                    )
                };
                // A settle time longer than this is not waited for at the
                // end of a cycle: the next run decides.
                let wait = self.inner.cfg.delete_settle;
                if settling && !slept && wait <= MAX_END_OF_CYCLE_WAIT {
                    slept = true;
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = shutdown.stopped() => break,
                    }
                } else if !asked {
                    break;
                }
            }
            self.refresh(cx).await?;
            self.decide_deletes(cx).await;
        }
        let left = cx.st().deletes.len();
        if left > 0 {
            tracing::info!(
                "{left} archived clip(s) kept on the camera for now (not yet safe to delete); decided again next run"
            );
        }
        Ok(())
    }
}

/// The pending clips as the listing shows them (those it shows).
fn shown_listed<'a>(snap: &'a Snapshot, pending: &[PendingDelete]) -> Vec<Shown<'a>> {
    pending
        .iter()
        .filter_map(|d| snap.recordings.get_key_value(&d.name))
        .map(|(name, r)| Shown {
            name,
            remote_path: r.remote_path(),
            size: r.size().bytes(),
            exact: r.size().exact().is_some(),
        })
        .collect()
}

/// The pending clips as this camera archived them.
pub(super) fn shown_archived(pending: &[PendingDelete]) -> Vec<Shown<'_>> {
    pending
        .iter()
        .map(|d| Shown {
            name: &d.name,
            remote_path: &d.remote_path,
            size: d.bytes,
            exact: true,
        })
        .collect()
}

/// A photo by its name (`.JPG`): no GPS track in it.
fn is_photo_name(name: &str) -> bool {
    viofo_client::RecordingName::new(name).is_ok_and(|n| n.is_photo())
}
