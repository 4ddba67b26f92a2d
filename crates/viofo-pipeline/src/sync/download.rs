//! The download stage: picking the next clip and fetching it, with the GPS
//! track computed from the bytes as they stream in.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use viofo_client::{ChunkObserver, DownloadOptions, Progress, Recording};
use viofo_gps::StreamExtractor;
use viofo_store::{ClipId, ClipRow, FailOutcome, Filter, Stage, now_ms};

use super::convert::gps_options;
use super::convert::local_ms;
use super::listing::Snapshot;
use super::tail::TailJob;
use super::{Cycle, Syncer, lock};
use crate::disk::DiskSpace;
use crate::events::{CycleMode, Event};
use crate::shutdown::Shutdown;
use crate::{Error, Result};

/// Why a clip is not downloaded while its listed size changes; such a clip
/// is looked at again after the next listing.
const SIZE_CHANGING: &str = "its size is still changing on the camera";

/// Listings a cycle takes only to look again at clips whose size was still
/// changing (a clip that grows at every listing waits for a later cycle).
const MAX_RELISTS_FOR_CHANGING: u32 = 2;

/// Feeds a download's bytes to the GPS streaming extractor.
pub(super) struct GpsObserver {
    opts: viofo_gps::Options,
    extractor: StreamExtractor,
}

impl ChunkObserver for GpsObserver {
    fn reset(&mut self) {
        self.extractor = StreamExtractor::new(self.opts);
    }
    fn chunk(&mut self, bytes: &[u8]) {
        self.extractor.push(bytes);
    }
}

impl Syncer {
    /// Picks the next clip to download, passing over what cannot be taken.
    /// No lock is held across the store query or a camera request: when the
    /// queue runs dry the camera is listed once more.
    pub(super) async fn pick(&self, cx: &Cycle) -> Result<Option<(ClipRow, Recording)>> {
        let s = &*self.inner;
        loop {
            let exclude: Vec<ClipId> = {
                let st = cx.st();
                st.picks
                    .in_flight
                    .iter()
                    .chain(&st.picks.passed)
                    .chain(&st.picks.changing)
                    .copied()
                    .collect()
            };
            let filter = Filter {
                locked_only: s.cfg.locked_only,
                channels: &s.cfg.channels,
                include_parking: s.cfg.include_parking,
                exclude: &exclude,
            };
            if let Some(row) = s
                .store
                .next_pending_at(
                    &s.cfg.camera_id,
                    s.cfg.policy,
                    &filter,
                    // Recording times are stored as the camera's clock
                    // reads: "now" on the same clock.
                    local_ms(s.cfg.camera_clock.now()),
                )
                .await?
            {
                let snap = cx.snapshot();
                let verdict = self.eligibility(&snap, &row).cloned();
                {
                    let mut st = cx.st();
                    // Another worker may have taken it meanwhile: ask again.
                    if st.picks.in_flight.contains(&row.id)
                        || st.picks.passed.contains(&row.id)
                        || st.picks.changing.contains(&row.id)
                    {
                        continue;
                    }
                    match &verdict {
                        Ok(_) => st.picks.in_flight.push(row.id),
                        // Looked at again after the next listing.
                        Err(reason) if reason == SIZE_CHANGING => st.picks.changing.push(row.id),
                        Err(_) => st.picks.passed.push(row.id),
                    }
                }
                match verdict {
                    Ok(rec) => {
                        if let Some(reason) = self.parked_skip(&row, &rec).await {
                            self.pass_over(cx, &row, reason);
                            continue;
                        }
                        return Ok(Some((row, rec)));
                    }
                    Err(reason) => {
                        s.events.emit(Event::ItemSkipped {
                            name: row.name.clone(),
                            reason,
                        });
                        continue;
                    }
                }
            }
            let relist = {
                let mut st = cx.st();
                let for_changing = !st.picks.changing.is_empty()
                    && st.picks.relists_for_changing < MAX_RELISTS_FOR_CHANGING;
                if for_changing {
                    st.picks.relists_for_changing += 1;
                    st.picks.changing.clear();
                }
                (st.since_listing > 0 || for_changing) && !cx.halt.is_cancelled()
            };
            if relist {
                // Drained: look once more for clips recorded meanwhile, and
                // at the clips whose size was still changing.
                match self.refresh(cx).await {
                    Ok(()) => continue,
                    Err(e) if e.is_offline() => {
                        Self::halt(cx, e);
                        return Ok(None);
                    }
                    Err(e) => {
                        tracing::warn!("re-listing failed: {e}");
                        return Ok(None);
                    }
                }
            }
            return Ok(None);
        }
    }

    /// A clip picked, then not taken after all: passed over for the rest of
    /// the cycle, with why.
    fn pass_over(&self, cx: &Cycle, row: &ClipRow, reason: String) {
        {
            let mut st = cx.st();
            st.picks.in_flight.retain(|i| *i != row.id);
            st.picks.passed.push(row.id);
        }
        self.inner.events.emit(Event::ItemSkipped {
            name: row.name.clone(),
            reason,
        });
    }

    /// May this pending clip be downloaded now? The one rule, used by the
    /// download workers and the dry run: it must be in the listing (the
    /// first entry of its name, at the path the store knows), not possibly
    /// still recording (the camera says so, or the latest listing showed
    /// another size than the one before), and not older than the keep
    /// period.
    pub(super) fn eligibility<'a>(
        &self,
        snap: &'a Snapshot,
        row: &ClipRow,
    ) -> std::result::Result<&'a Recording, String> {
        match snap.recordings.get(&row.name) {
            None => Err("not in the camera's current listing".to_owned()),
            Some(_) if snap.held_back.contains(&row.name) => {
                Err("may still be recording (the camera is recording)".to_owned())
            }
            Some(_) if lock(&self.inner.sizes).changing(&row.name) => Err(SIZE_CHANGING.to_owned()),
            Some(rec) if self.too_old(rec) => Err("older than the keep period".to_owned()),
            Some(rec) => Ok(rec),
        }
    }

    /// Recorded (on the camera's clock, converted to a real instant) before
    /// the keep period?
    pub(super) fn too_old(&self, rec: &Recording) -> bool {
        let cfg = &self.inner.cfg;
        let (Some(keep), Some(start)) = (cfg.retention.keep, rec.start()) else {
            return false;
        };
        let keep = time::Duration::try_from(keep).unwrap_or(time::Duration::MAX);
        time::OffsetDateTime::now_utc()
            .checked_sub(keep)
            .is_some_and(|cut| cfg.camera_clock.reading(start).to_utc() < cut)
    }

    /// Stops downloads when the archive's disk is fuller than
    /// `max_used_disk` (statvfs off the async threads: a stalled share
    /// must not stall the runtime).
    pub(super) async fn disk_guard(&self) -> Result<()> {
        let s = &*self.inner;
        let Some(limit) = s.cfg.max_used_disk else {
            return Ok(());
        };
        let root = s.cfg.archive.clone();
        let d = tokio::task::spawn_blocking(move || DiskSpace::of(&root))
            .await
            .map_err(|e| Error::io(std::io::Error::other(e)))?
            .map_err(Error::io)?;
        let used = d.used_percent();
        if used >= limit {
            return Err(Error::disk_guard(s.cfg.archive.clone(), used, limit));
        }
        Ok(())
    }

    pub(super) fn dest_for(&self, rec: &Recording) -> PathBuf {
        let cfg = &self.inner.cfg;
        crate::archive::Archive::recording_path(&cfg.archive, cfg.grouping, rec)
    }

    pub(super) async fn download_worker(
        &self,
        cx: &Cycle,
        tail: &mpsc::Sender<TailJob>,
        shutdown: &Shutdown,
    ) -> Result<()> {
        let s = &*self.inner;
        loop {
            if shutdown.is_stopping() || cx.halt.is_cancelled() {
                return Ok(());
            }
            if let Err(e) = self.disk_guard().await {
                Self::halt(cx, e);
                return Ok(());
            }
            let Some((row, rec)) = self.pick(cx).await? else {
                return Ok(());
            };
            let reserved = match self.quota_guard(cx, &row, &rec).await {
                Ok(super::quota::Admit::Go(r)) => r,
                Ok(super::quota::Admit::Skip(reason)) => {
                    self.pass_over(cx, &row, reason);
                    continue;
                }
                Err(e) => {
                    cx.st().picks.in_flight.retain(|i| *i != row.id);
                    Self::halt(cx, e);
                    return Ok(());
                }
            };
            let mut outcome = self.download_one(cx, &row, &rec).await;
            match &mut outcome {
                // Released by the tail once the store counts the clip.
                Step::Downloaded(job) => job.reserved = reserved,
                _ => cx.release_quota(reserved),
            }
            {
                let mut st = cx.st();
                st.picks.in_flight.retain(|i| *i != row.id);
                // Passed over for the rest of the cycle, downloaded ones
                // too: their state writes are not awaited, so the store may
                // still call them pending.
                st.picks.passed.push(row.id);
                st.in_flight_times.remove(&row.id);
            }
            match outcome {
                Step::Downloaded(job) => {
                    if s.cfg.tail == CycleMode::Inline {
                        // The old way: all of the tail between downloads,
                        // the delete's listing and request included.
                        self.run_tails(cx, vec![*job]).await;
                        if !cx.st().deletes.is_empty() {
                            match self.refresh(cx).await {
                                Ok(()) => self.decide_deletes(cx).await,
                                Err(e) => tracing::warn!("re-listing failed: {e:#}"),
                            }
                        }
                    } else {
                        s.store
                            .record_timing(job.id, Stage::TailSubmitted, now_ms());
                        if tail.send(*job).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Step::Next => {
                    // A retryable failure leaves the clip pending: allow it
                    // again in this cycle (it resumes from its .part).
                }
                Step::Retry => {
                    cx.st().picks.passed.retain(|i| *i != row.id);
                }
                Step::Stop => return Ok(()),
            }
        }
    }

    pub(super) async fn download_one(&self, cx: &Cycle, row: &ClipRow, rec: &Recording) -> Step {
        let s = &*self.inner;
        let name = rec.file_name().as_str().to_owned();
        let dest = self.dest_for(rec);
        if let Some(dir) = dest.parent()
            && let Err(e) = crate::archive::create_folder(dir).await
        {
            Self::halt(cx, Error::io(e));
            return Step::Stop;
        }
        if let Some(t) = rec.start() {
            cx.st().in_flight_times.insert(row.id, t);
        }
        let token = cx.cancel_downloads.child_token();
        lock(&s.skips).insert(row.id, token.clone());
        // Neither write is awaited: the camera link waits for nothing local.
        s.store.start_download(row.id, Some(cx.id)).submit();
        s.store
            .record_timing(row.id, Stage::DownloadStarted, now_ms());
        s.events.emit(Event::ItemStarted {
            name: name.clone(),
            size: Some(rec.size().bytes()),
        });
        if s.cfg.triage.is_some() {
            cx.triage_turn();
        }
        let mut gps = s.cfg.gps.as_ref().filter(|_| !rec.is_photo()).map(|g| {
            let opts = gps_options(g);
            GpsObserver {
                opts,
                extractor: StreamExtractor::new(opts),
            }
        });
        let mut last_progress = Instant::now();
        let events = &s.events;
        let mut progress = |p: Progress| {
            if last_progress.elapsed() >= Duration::from_millis(250) || Some(p.done) == p.total {
                last_progress = Instant::now();
                events.emit(Event::ItemProgress {
                    name: name.clone(),
                    bytes: p.done,
                    total: p.total,
                });
            }
        };
        // Staged: the tail makes it durable with the others finished close
        // to it (one flush), so the link never waits for the disk.
        let mut opts = DownloadOptions::new()
            .progress(&mut progress)
            .cancel(token.clone())
            .staged();
        if let Some(g) = gps.as_mut() {
            opts = opts.observer(g);
        }
        let result = s.client.download(rec, &dest, opts).await;
        lock(&s.skips).remove(&row.id);
        match result {
            Ok(d) => {
                s.store
                    .record_timing(row.id, Stage::DownloadFinished, now_ms());
                {
                    let mut st = cx.st();
                    st.counters.clips += 1;
                    st.counters.bytes += d.bytes;
                    st.since_listing += 1;
                }
                s.events.emit(Event::ItemDone {
                    name: name.clone(),
                    bytes: d.bytes,
                    duration: d.duration,
                });
                Step::Downloaded(Box::new(TailJob {
                    id: row.id,
                    name,
                    staged: d.staged.then(|| d.path.clone()),
                    path: if d.staged { dest.clone() } else { d.path },
                    durable_at: None,
                    bytes: d.bytes,
                    remote_path: rec.remote_path().to_owned(),
                    photo: rec.is_photo(),
                    gps: gps.map(|g| g.extractor),
                    recorded: false,
                    has_gps: false,
                    delete_done: false,
                    reserved: 0,
                }))
            }
            Err(e) if e.is_cancelled() => {
                s.store.release(row.id).submit();
                if cx.cancel_downloads.is_cancelled() {
                    Step::Stop
                } else {
                    s.events.emit(Event::ItemSkipped {
                        name,
                        reason: "skipped by the user".to_owned(),
                    });
                    Step::Next
                }
            }
            Err(e) if e.is_disk_full() || e.is_local_io() => {
                // The archive cannot be written (full, read only, gone): not
                // the clip's fault. It stays pending; the cycle stops.
                s.store.release(row.id).submit();
                tracing::error!("{name}: {e:#}; downloads stop");
                Self::halt(cx, Error::camera(e));
                Step::Stop
            }
            Err(e) if e.is_not_found() => {
                // A clip locked on the camera moves to RO: its path is stale.
                // Re-list, then try it once more with the fresh path; a clip
                // that is really gone is marked so by the reconcile.
                let now = match self.refresh(cx).await {
                    Ok(()) => cx
                        .snapshot()
                        .recordings
                        .get(&name)
                        .map(|r| r.remote_path() == rec.remote_path()),
                    Err(p) if p.is_offline() => {
                        s.store.release(row.id).submit();
                        Self::halt(cx, p);
                        return Step::Stop;
                    }
                    Err(_) => Some(true),
                };
                match now {
                    // Moved (locked into RO): try the fresh path.
                    Some(false) => {
                        // Awaited: the next pick must see it pending.
                        if let Err(w) = s.store.release(row.id).await {
                            tracing::warn!("{name}: could not release the clip: {w}");
                        }
                        Step::Retry
                    }
                    // Gone from the camera: the next reconcile says so.
                    None => {
                        s.store.release(row.id).submit();
                        s.events.emit(Event::ItemSkipped {
                            name,
                            reason: "gone from the camera".to_owned(),
                        });
                        Step::Next
                    }
                    // Listed at that path, yet 404: a permanent failure.
                    Some(true) => self.record_failure(cx, row, &name, &e, false).await,
                }
            }
            Err(e) if e.is_retryable() => {
                // Dropped mid-body, stalled, 5xx, a connection refused or
                // reset: is the camera still there? (A camera may reset one
                // connection and answer the next; only a failed probe
                // ends the cycle.)
                if let Err(p) = s.client.probe().await {
                    s.store.release(row.id).submit();
                    self.camera_gone(cx, p);
                    return Step::Stop;
                }
                self.record_failure(cx, row, &name, &e, true).await
            }
            Err(e) => self.record_failure(cx, row, &name, &e, false).await,
        }
    }

    /// Records a failed attempt. A transient one is retried after a
    /// back-off (1×, 2×, 4×, 8× `retry_base`) until the store's attempts run
    /// out; then the clip is deferred to the next cycle, not failed. Only a
    /// permanent failure leaves it failed.
    async fn record_failure(
        &self,
        cx: &Cycle,
        row: &ClipRow,
        name: &str,
        e: &viofo_client::Error,
        retryable: bool,
    ) -> Step {
        let s = &*self.inner;
        let error = format!("{e:#}");
        tracing::warn!("{name}: {error}");
        let outcome = s.store.fail_with_outcome(row.id, &error, retryable).await;
        s.events.emit(Event::ItemFailed {
            name: name.to_owned(),
            error: error.clone(),
            retryable,
        });
        match outcome {
            Ok(FailOutcome::RetryNow { attempts }) => {
                let shift = attempts.saturating_sub(1).min(3);
                let wait = s.cfg.retry_base.saturating_mul(1 << shift);
                tokio::select! {
                    () = tokio::time::sleep(wait) => Step::Retry,
                    () = cx.halt.cancelled() => Step::Stop,
                    () = cx.cancel_downloads.cancelled() => Step::Stop,
                }
            }
            Ok(FailOutcome::Deferred { deferrals }) => {
                tracing::warn!(
                    "{name}: still failing after its attempts; offered again next cycle (deferred {deferrals}×)"
                );
                cx.st().counters.deferred += 1;
                Step::Next
            }
            Ok(FailOutcome::Failed) => {
                cx.st().counters.failed += 1;
                Step::Next
            }
            Ok(other) => {
                tracing::debug!("{name}: failure recorded as {other:?}");
                Step::Next
            }
            Err(w) => {
                tracing::error!("{name}: could not record the failure: {w}");
                Step::Next
            }
        }
    }
}

pub(super) enum Step {
    Downloaded(Box<TailJob>),
    /// Move on to the next clip.
    Next,
    /// The same clip may be picked again this cycle.
    Retry,
    /// Stop this worker.
    Stop,
}
