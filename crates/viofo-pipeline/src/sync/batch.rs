//! The tail's batches: the clips downloaded while the tail was busy are
//! taken together, so that the cost of making a clip safe (the disk flush,
//! the folder sync, the store commit) is paid once per batch, not once per
//! clip. On a camera's Wi-Fi a batch is usually one clip; on a fast link,
//! or for a card of small clips, it is many.
//!
//! For a batch's staged downloads (complete `.part` files, see
//! [`crate::archive`]): each takes the first free name for its recording
//! (never the name of bytes already archived), their GPS tracks are finished and their sidecars
//! written under temporary names; then one durable point covers clips and
//! sidecars; then the clips are recorded archived in one store commit;
//! only then does each clip's tail go on (the delete decision needs a
//! listing taken after that record). A clip that could not be made durable
//! is left pending with its `.part` (resumed without a request next time)
//! and the downloads stop, as for any local write failure.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use viofo_gps::{Extraction, StreamExtractor};
use viofo_store::{Stage, TrackSource, now_ms};

use super::convert::gps_summary;
use super::tail::TailJob;
use super::triage::stored_track;
use super::{Cycle, Syncer};
use crate::Error;
use crate::archive::{Archive, Staged, commit, stage_sidecar};
use crate::shutdown::Shutdown;

/// Most clips one durable point covers.
const MAX_BATCH: usize = 64;

/// While downloads go on, a batch waits for more clips for as long as the
/// previous batch took (its durable point and commit), within these bounds:
/// when clips arrive faster than a durable point takes, one serves them
/// all, and a clip's time to safety at most doubles. The link never waits:
/// a full tail queue ends the wait, and so does the end of the downloads.
const MIN_LINGER: Duration = Duration::from_millis(10);
const MAX_LINGER: Duration = Duration::from_millis(250);

/// What happened to a staged clip's GPS track before the flush.
enum Track {
    /// Not this clip's business (GPS off, a photo).
    None,
    /// Extracted; the sidecars are staged (or failed to be written).
    Extracted {
        ex: Extraction,
        sidecars: Result<Vec<Staged>, String>,
    },
    /// The bytes hold no readable track.
    Unreadable(String),
}

impl Syncer {
    /// Runs the tail: batches of what the downloads sent, each as soon as
    /// its first job arrives.
    pub(super) async fn tail_loop(
        &self,
        cx: &Cycle,
        mut rx: mpsc::Receiver<TailJob>,
        shutdown: &Shutdown,
    ) {
        let mut took = MIN_LINGER;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            let until = Instant::now() + took.clamp(MIN_LINGER, MAX_LINGER);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    // Closed: the downloads are over.
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) if shutdown.is_stopping() => break,
                    Err(TryRecvError::Empty) => {
                        match tokio::time::timeout_at(until.into(), rx.recv()).await {
                            Ok(Some(job)) => batch.push(job),
                            Ok(None) | Err(_) => break,
                        }
                    }
                }
            }
            if shutdown.is_aborting() {
                // Left as they are in the store; the next run resumes them.
                continue;
            }
            let started = Instant::now();
            self.run_tails(cx, batch).await;
            took = started.elapsed();
        }
    }

    /// The tail of several clips: one durable point and one store commit
    /// for the staged ones, then each clip's own tail, in order.
    pub(super) async fn run_tails(&self, cx: &Cycle, jobs: Vec<TailJob>) {
        let s = &*self.inner;
        let (staged, mut ready): (Vec<TailJob>, Vec<TailJob>) =
            jobs.into_iter().partition(|j| j.staged.is_some());
        if !staged.is_empty() {
            let gps = s.cfg.gps;
            let work = move || make_durable(staged, gps);
            let done = match tokio::task::spawn_blocking(work).await {
                Ok(d) => d,
                Err(e) => {
                    // The jobs are lost with the task: their clips stay
                    // downloading in the store, and recovery returns them
                    // to pending next run (their .part is resumed).
                    tracing::error!("the tail's flush failed ({e}); downloads stop");
                    Self::halt(cx, Error::io(std::io::Error::other(e.to_string())));
                    return;
                }
            };
            let mut durable = Vec::new();
            for (job, committed, track) in done {
                match committed {
                    Ok(()) => durable.push((job, track)),
                    Err(e) => {
                        cx.release_quota(job.reserved);
                        s.store.release(job.id).submit();
                        tracing::error!(
                            "{}: cannot be made durable ({e}); downloads stop",
                            job.name
                        );
                        Self::halt(cx, Error::io(e));
                    }
                }
            }
            // One commit records them all (the writer takes every queued
            // write into one transaction).
            let acks: Vec<_> = durable
                .iter()
                .map(|(j, _)| s.store.finish_download(j.id, &j.path, j.bytes))
                .collect();
            let recorded = futures_util::future::join_all(acks).await;
            let at = Instant::now();
            for ((mut job, track), r) in durable.into_iter().zip(recorded) {
                cx.release_quota(job.reserved);
                job.reserved = 0;
                if let Err(e) = r {
                    tracing::error!(
                        "{}: could not record the download ({e}); it is resumed next run",
                        job.name
                    );
                    continue;
                }
                job.recorded = true;
                job.durable_at = Some(at);
                if self.store_track(cx, &mut job, track) {
                    ready.push(job);
                }
            }
        }
        for job in ready {
            self.run_tail(cx, job).await;
        }
    }

    /// Stores a batch-extracted track (summary, track, journeys) and marks
    /// the job's GPS done. `false`: its sidecar could not be written, so the
    /// clip's tail stays open for a later run (no delete before it).
    fn store_track(&self, cx: &Cycle, job: &mut TailJob, track: Track) -> bool {
        let s = &*self.inner;
        match track {
            Track::None => true,
            Track::Unreadable(e) => {
                tracing::warn!("{}: GPS extraction failed: {e}", job.name);
                job.has_gps = true;
                s.store.record_timing(job.id, Stage::GpsFinished, now_ms());
                true
            }
            Track::Extracted {
                sidecars: Err(e), ..
            } => {
                // Nothing of the track is stored: the resumed tail extracts
                // it again from the archived file and writes the sidecar.
                tracing::warn!(
                    "{}: GPS track not written ({e}); retried next run",
                    job.name
                );
                cx.st().counters.sidecar_failures += 1;
                false
            }
            Track::Extracted {
                ex,
                sidecars: Ok(_),
            } => {
                if ex.points.is_empty() {
                    tracing::debug!("{}: no GPS fixes ({:?})", job.name, ex.stats);
                }
                s.store.set_gps(job.id, gps_summary(&ex.summary())).submit();
                let t = stored_track(
                    TrackSource::File,
                    None,
                    job.bytes,
                    &ex,
                    "no GPS fixes in the file",
                );
                s.store.set_track(job.id, t).submit();
                s.journeys.track_stored(&s.store, &s.cfg, job.id);
                s.store.record_timing(job.id, Stage::GpsFinished, now_ms());
                job.has_gps = true;
                true
            }
        }
    }
}

/// Blocking: finishes each staged clip's streamed track and stages its
/// sidecars, then makes clips and sidecars durable under their final
/// names at one durable point. Returns each job with its clip's commit
/// result and its track.
fn make_durable(
    jobs: Vec<TailJob>,
    gps: Option<crate::config::GpsConfig>,
) -> Vec<(TailJob, std::io::Result<()>, Track)> {
    let mut items: Vec<Staged> = Vec::new();
    let mut prepared = Vec::with_capacity(jobs.len());
    for mut job in jobs {
        // The recording's name, or the next free version of it when the
        // archive already holds other bytes under that name (a card
        // formatted, a clock reset): the sidecars follow the clip's name.
        if job.staged.is_some() {
            job.path = Archive::free_name(&job.path);
        }
        let clip_item = items.len();
        items.push(Staged {
            tmp: job.staged.take().unwrap_or_else(|| job.path.clone()),
            dest: job.path.clone(),
        });
        let track = match (gps, job.gps.take()) {
            (Some(g), Some(x)) if !job.photo && !job.has_gps => {
                let sidecars = |ex: &Extraction| -> Result<Vec<Staged>, viofo_gps::Error> {
                    let mut out = Vec::new();
                    if !ex.points.is_empty() {
                        out.push(stage_sidecar(
                            &job.path,
                            &ex.points,
                            viofo_gps::Format::Gpx,
                        )?);
                        if g.geojson {
                            out.push(stage_sidecar(
                                &job.path,
                                &ex.points,
                                viofo_gps::Format::GeoJson,
                            )?);
                        }
                    }
                    Ok(out)
                };
                finish_track(x, sidecars)
            }
            _ => Track::None,
        };
        let sidecar_items = match &track {
            Track::Extracted {
                sidecars: Ok(s), ..
            } => {
                let range = items.len()..items.len() + s.len();
                items.extend(s.iter().cloned());
                range
            }
            _ => items.len()..items.len(),
        };
        prepared.push((job, clip_item, sidecar_items, track));
    }
    let results = commit(&items);
    // A sidecar that did not take its name leaves no temporary file (the
    // clip's own `.part` stays: it is resumed); one that took its name
    // beside a clip that did not is removed (unrecorded, it would stand in
    // the way of the clip's own sidecar when the clip takes that name).
    for p in &prepared {
        let clip_failed = !matches!(results.get(p.1), Some(Ok(())));
        for i in p.2.clone() {
            match (results.get(i), items.get(i)) {
                (Some(Err(_)), Some(item)) => {
                    crate::archive::discard(&item.tmp);
                }
                (Some(Ok(())), Some(item)) if clip_failed => {
                    let _ = crate::archive::remove_file(&item.dest);
                }
                _ => {}
            }
        }
    }
    prepared
        .into_iter()
        .map(|(job, clip_item, sidecar_items, mut track)| {
            let clip = match results.get(clip_item) {
                Some(Ok(())) => Ok(()),
                Some(Err(e)) => Err(std::io::Error::new(e.kind(), e.to_string())),
                None => Err(std::io::Error::other("not committed")),
            };
            if let Track::Extracted { sidecars, .. } = &mut track
                && let Some(e) = results
                    .get(sidecar_items)
                    .into_iter()
                    .flatten()
                    .find_map(|r| r.as_ref().err())
            {
                *sidecars = Err(e.to_string());
            }
            (job, clip, track)
        })
        .collect()
}

/// Finishes a streamed extraction and stages its sidecars.
fn finish_track(
    x: StreamExtractor,
    sidecars: impl Fn(&Extraction) -> Result<Vec<Staged>, viofo_gps::Error>,
) -> Track {
    match x.finish() {
        Ok(ex) => {
            let staged = sidecars(&ex).map_err(|e| format!("{e:#}"));
            Track::Extracted {
                ex,
                sidecars: staged,
            }
        }
        Err(e) => Track::Unreadable(e.to_string()),
    }
}
