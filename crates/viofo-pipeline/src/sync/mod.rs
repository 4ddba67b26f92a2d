//! The sync cycle of one camera: probe → list → reconcile → downloads
//! (with the tail behind them) → retention. This module owns the cycle's
//! shared state and the outer loop; each stage lives in its own file.

mod anchor;
mod batch;
mod convert;
mod delete;
mod download;
mod dry_run;
mod identity;
mod listing;
mod quota;
mod reused;
mod same_bytes;
mod skips;
mod tail;
mod triage;
mod upload;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::PrimitiveDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use viofo_client::Client;
use viofo_store::{ClipId, CycleId, CycleOutcome, CycleStats, Store};

use crate::config::{OnInterrupt, SyncConfig};
use crate::events::{CycleSummary, Event, EventSink, StopReason};
use crate::shutdown::Shutdown;
use crate::{Error, Result};

pub use convert::recorded_at_from_name;
pub(crate) use convert::{gps_options, gps_summary, listed_clip};
pub use delete::{Archived, CameraState, Decision, KeepReason, Listed, may_delete};
pub use dry_run::DryRun;
pub use listing::SizeHistory;
use listing::Snapshot;
use tail::TailJob;
pub(crate) use triage::stored_track;

/// Runs sync cycles for one camera. Cheap to clone.
#[derive(Clone)]
pub struct Syncer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("camera_id", &self.inner.cfg.camera_id)
            .field("archive", &self.inner.cfg.archive)
            .finish_non_exhaustive()
    }
}

pub(super) struct Inner {
    pub(super) client: Client,
    pub(super) store: Store,
    pub(super) cfg: SyncConfig,
    /// The archive folder: the one writer into it.
    pub(super) archive: Arc<crate::archive::Archive>,
    pub(super) events: Box<dyn EventSink>,
    /// Skip tokens of the downloads in flight.
    pub(super) skips: Mutex<HashMap<ClipId, CancellationToken>>,
    /// Listed sizes across listings (and cycles), for the delete rule.
    pub(super) sizes: Mutex<SizeHistory>,
    /// The camera answered a ranged read with the whole clip: no GPS
    /// triage with it for the life of this syncer.
    pub(super) range_ignored: AtomicBool,
    /// The journeys task, told of every track stored.
    pub(super) journeys: crate::journeys::updater::Updater,
    /// Where the camera's identity was proved (no delete before).
    pub(super) proof: Mutex<identity::Proof>,
}

/// One cycle. Its mutable state is one [`CycleState`] behind one lock
/// ([`Cycle::st`]), taken briefly and never held across an `.await`, so
/// never across a camera request or a store call, and never while taking
/// another lock. Besides it: `listing`, an async turnstile that lets one
/// listing run at a time (held across the listing request; the state lock
/// may be taken inside it, never the other way round), and two
/// cancellation tokens, which need no lock.
pub(super) struct Cycle {
    pub(super) id: CycleId,
    /// When the cycle started (tails resumed from earlier runs were
    /// recorded before it).
    pub(super) started: Instant,
    /// Held while listing: one listing at a time.
    pub(super) listing: tokio::sync::Mutex<()>,
    /// Woken when a clip starts waiting for its delete decision.
    pub(super) deletes_added: tokio::sync::Notify,
    /// Woken when a download starts: the triage stage's turn.
    pub(super) triage_wake: tokio::sync::Notify,
    /// Cancelled to stop the download workers (abort, or interrupt with
    /// `OnInterrupt::Cancel`); each download's token is a child of it.
    pub(super) cancel_downloads: CancellationToken,
    /// Set when downloading must stop (camera gone, disk full): workers
    /// finish, the tail drains.
    pub(super) halt: CancellationToken,
    /// The camera's answer to the info command, taken by the cycle's
    /// first listing to check the device's identity before the listing
    /// touches the store (`Some` until then).
    pub(super) identity: Mutex<Option<Option<viofo_client::CameraInfo>>>,
    state: Mutex<CycleState>,
}

/// The mutable state of a cycle.
pub(super) struct CycleState {
    /// The latest listing, shared by the workers, the tail and the deletes.
    pub(super) snapshot: Arc<Snapshot>,
    pub(super) picks: Picks,
    /// Clips archived and waiting for a listing that decides their delete.
    pub(super) deletes: Vec<tail::PendingDelete>,
    /// Why downloading stopped, when it did.
    pub(super) halt_reason: Option<Error>,
    pub(super) counters: Counters,
    /// Recording times of the clips in flight (retention never evicts a
    /// clip newer than one being downloaded).
    pub(super) in_flight_times: HashMap<ClipId, PrimitiveDateTime>,
    /// When the last listing ended.
    pub(super) last_listing: Instant,
    /// Bytes of clips picked under a quota that the store does not count
    /// yet (downloading, or downloaded and waiting for their record).
    pub(super) quota_reserved: u64,
    /// Downloads finished since the last listing: when the queue runs dry
    /// and this is non-zero, the camera is listed once more before the
    /// cycle ends, so clips recorded meanwhile are taken too.
    pub(super) since_listing: u64,
    /// Clips the triage stage may triage before the next download starts
    /// (one per download started).
    pub(super) triage_turns: u64,
    /// A dry run's: archive files retention would have removed (and
    /// their bytes), so the quota counts them gone. `None` in a real run.
    pub(super) dry_pruned: Option<Vec<(std::path::PathBuf, u64)>>,
}

#[derive(Default)]
pub(super) struct Picks {
    pub(super) in_flight: Vec<ClipId>,
    /// Passed over for the rest of this cycle (skipped by the user, held
    /// back, not listed, too old).
    pub(super) passed: Vec<ClipId>,
    /// Passed over until the next listing: their size was still changing.
    pub(super) changing: Vec<ClipId>,
    /// Listings taken only to look at those again (bounded per cycle).
    pub(super) relists_for_changing: u32,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) clips: u64,
    pub(super) bytes: u64,
    /// Clips left failed (clips, not attempts).
    pub(super) failed: u64,
    /// Clips deferred to the next cycle.
    pub(super) deferred: u64,
    /// Sidecars that could not be written (their tails stay unfinished).
    pub(super) sidecar_failures: u64,
    /// Clips not (yet) complete in an object archive's bucket (their
    /// tails stay unfinished).
    pub(super) upload_failures: u64,
    pub(super) deleted: u64,
    pub(super) pruned: u64,
    pub(super) listing: Duration,
}

impl Cycle {
    pub(super) fn new(id: CycleId, started: Instant) -> Self {
        Self {
            id,
            started,
            listing: tokio::sync::Mutex::new(()),
            deletes_added: tokio::sync::Notify::new(),
            triage_wake: tokio::sync::Notify::new(),
            cancel_downloads: CancellationToken::new(),
            halt: CancellationToken::new(),
            identity: Mutex::new(None),
            state: Mutex::new(CycleState {
                snapshot: Arc::new(Snapshot::default()),
                picks: Picks::default(),
                deletes: Vec::new(),
                halt_reason: None,
                counters: Counters::default(),
                in_flight_times: HashMap::new(),
                last_listing: Instant::now(),
                quota_reserved: 0,
                since_listing: 0,
                triage_turns: 0,
                dry_pruned: None,
            }),
        }
    }

    /// The cycle's state, locked. Never hold the guard across an `.await`.
    pub(super) fn st(&self) -> std::sync::MutexGuard<'_, CycleState> {
        lock(&self.state)
    }

    /// A download started: the triage stage may triage one more clip.
    pub(super) fn triage_turn(&self) {
        self.st().triage_turns += 1;
        self.triage_wake.notify_one();
    }

    /// Ends a quota reservation.
    pub(super) fn release_quota(&self, bytes: u64) {
        let mut st = self.st();
        st.quota_reserved = st.quota_reserved.saturating_sub(bytes);
    }

    /// The latest listing.
    pub(super) fn snapshot(&self) -> Arc<Snapshot> {
        self.st().snapshot.clone()
    }
}

impl Syncer {
    /// A syncer for one camera. Checks the configuration.
    pub fn new(
        client: Client,
        store: Store,
        cfg: SyncConfig,
        events: impl EventSink,
    ) -> Result<Self> {
        cfg.validate()?;
        #[cfg(feature = "s3")]
        let archive = match &cfg.object {
            Some(o) => crate::archive::Archive::with_object(
                cfg.archive.clone(),
                crate::archive::ObjectArchive::open(o).map_err(|e| Error::config(e.to_string()))?,
            ),
            None => crate::archive::Archive::new(cfg.archive.clone()),
        };
        #[cfg(not(feature = "s3"))]
        let archive = crate::archive::Archive::new(cfg.archive.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                store,
                archive: Arc::new(archive),
                cfg,
                events: Box::new(events),
                skips: Mutex::new(HashMap::new()),
                sizes: Mutex::new(SizeHistory::default()),
                range_ignored: AtomicBool::new(false),
                journeys: crate::journeys::updater::Updater::default(),
                proof: Mutex::new(identity::Proof::default()),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SyncConfig {
        &self.inner.cfg
    }

    /// Skips the download(s) in flight: each is cancelled (its `.part` kept)
    /// and the cycle moves on to the next clip instead of restarting it.
    pub fn skip_current(&self) {
        let skips = self.inner.skips.lock().unwrap_or_else(|p| p.into_inner());
        for t in skips.values() {
            t.cancel();
        }
    }

    /// Where its events go (the watch loop announces its waits there).
    pub(crate) fn events(&self) -> &dyn EventSink {
        &*self.inner.events
    }

    /// Runs one cycle: probe, list, reconcile, download everything pending
    /// (tail stage behind), retention. Waits for the tail to drain before it
    /// returns. Emits [`Event::CycleDone`] and logs one line whatever the
    /// outcome; errors say why the cycle stopped early
    /// ([`Error::is_offline`], [`Error::is_disk_full`],
    /// [`Error::is_interrupted`]).
    pub async fn run_cycle(&self, shutdown: &Shutdown) -> Result<CycleSummary> {
        let s = &*self.inner;
        // Before the camera and before the cycle row: an unusable archive,
        // or one another process writes into, leaves every clip as it was.
        let archive = s.archive.clone();
        tokio::task::spawn_blocking(move || {
            crate::archive::check_archive(archive.root())?;
            archive.claim()
        })
        .await
        .map_err(|e| Error::config(format!("archive check did not run: {e}")))??;
        let started = Instant::now();
        let mode = s.cfg.tail;
        s.events.emit(Event::CycleStarted { mode });
        let write_failures_before = s.store.unawaited_write_failures();
        let id = s.store.begin_cycle(&s.cfg.camera_id, mode).await?;
        let cx = Cycle::new(id, started);
        // Boxed: the cycle's state machine is large, and callers hold
        // this future on their own stacks.
        let result = Box::pin(self.cycle(&cx, shutdown)).await;
        // The journeys of this cycle's tracks are current when it returns.
        s.journeys.settle().await;
        let result = match result {
            Ok(()) if shutdown.is_stopping() => Err(Error::interrupted()),
            other => other,
        };
        let c = std::mem::take(&mut cx.st().counters);
        let outcome = match &result {
            Ok(())
                if c.sidecar_failures > 0
                    || c.upload_failures > 0
                    || c.failed > 0
                    || c.deferred > 0 =>
            {
                CycleOutcome::CompletedWithFailures
            }
            Ok(()) => CycleOutcome::Completed,
            Err(e) if e.is_offline() => CycleOutcome::CameraLost,
            Err(e) if e.is_interrupted() => CycleOutcome::Cancelled,
            Err(_) => CycleOutcome::Failed,
        };
        let note = match &result {
            Err(e) => Some(format!("{e:#}")),
            Ok(()) if c.sidecar_failures > 0 => Some(format!(
                "{} GPS sidecar(s) could not be written; retried next run",
                c.sidecar_failures
            )),
            Ok(()) if c.upload_failures > 0 => Some(format!(
                "{} clip(s) not yet uploaded to the object archive; they stay staged and on \
                 the camera, uploaded next run",
                c.upload_failures
            )),
            Ok(()) => None,
        };
        let stats = CycleStats {
            clips: c.clips,
            bytes: c.bytes,
            outcome,
            note: note.clone(),
        };
        let mut summary = CycleSummary {
            mode,
            clips: c.clips,
            bytes: c.bytes,
            failed: c.failed,
            deferred: c.deferred,
            write_failures: s
                .store
                .unawaited_write_failures()
                .saturating_sub(write_failures_before)
                + c.sidecar_failures
                + c.upload_failures,
            deleted: c.deleted,
            pruned: c.pruned,
            duration: started.elapsed(),
            listing: c.listing,
            outcome,
            note,
            stop: result.as_ref().err().map(StopReason::of),
        };
        match s.store.finish_cycle_report(id, stats).await {
            Ok(row) => {
                // The store's counts are the truth (clips, not attempts).
                summary.failed = row.failed.unwrap_or(summary.failed);
                summary.deferred = row.deferred.unwrap_or(summary.deferred);
                if let Some(outcome) = row.outcome {
                    summary.outcome = outcome;
                }
            }
            Err(e) => {
                tracing::warn!("could not record the end of cycle {}: {e:#}", id.0);
                summary.write_failures += 1;
                if summary.outcome.is_ok() {
                    summary.outcome = CycleOutcome::CompletedWithFailures;
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let mb = summary.bytes as f64 / 1e6;
        let secs = summary.duration.as_secs_f64();
        // A cycle that found nothing to do is news once, which the
        // embedding program says; this line is then DEBUG.
        macro_rules! cycle_line {
            ($level:ident) => {
                tracing::$level!(
                    cycle = id.0,
                    mode = %mode,
                    clips = summary.clips,
                    bytes = summary.bytes,
                    failed = summary.failed,
                    deferred = summary.deferred,
                    deleted = summary.deleted,
                    pruned = summary.pruned,
                    secs,
                    outcome = %summary.outcome,
                    reason = summary.note.as_deref(),
                    stop = summary.stop.map(StopReason::as_str),
                    "cycle done: {} clips, {mb:.1} MB in {secs:.1}s ({mode}), {} failed, {} deferred, {} deleted, {} pruned: {}",
                    summary.clips,
                    summary.failed,
                    summary.deferred,
                    summary.deleted,
                    summary.pruned,
                    summary.outcome,
                )
            };
        }
        if summary.is_idle() {
            cycle_line!(debug);
        } else {
            cycle_line!(info);
        }
        s.events.emit(Event::CycleDone(summary.clone()));
        result.map(|()| summary)
    }

    pub(super) async fn cycle(&self, cx: &Cycle, shutdown: &Shutdown) -> Result<()> {
        let s = &*self.inner;
        match s.client.connect().await {
            Ok(c) if c.changed => {
                tracing::info!(
                    camera = %s.cfg.camera_id,
                    address = %c.address,
                    "the camera answers at another of its addresses"
                );
            }
            Ok(_) => {}
            Err(e) => {
                s.events.emit(Event::CameraOffline {
                    reason: format!("{e:#}"),
                });
                return Err(Error::offline(e));
            }
        }
        let info = s.client.info().await.ok();
        let firmware = info.as_ref().map(|i| i.firmware.clone());
        let model = info.as_ref().and_then(|i| i.model.clone());
        *lock(&cx.identity) = Some(info);
        s.events.emit(Event::CameraOnline { firmware, model });
        self.refresh(cx).await?;
        // The places may have changed since the clips were last decided.
        self.recheck_skips(cx).await;

        let (tx, rx) = mpsc::channel::<TailJob>(s.cfg.tail_queue);
        // Tails left unfinished by an earlier run go first.
        let resumed = self.unfinished_tails().await?;
        if s.cfg.delete_archived {
            self.queue_archived_deletes(cx).await?;
        }

        let downloads_done = CancellationToken::new();
        let work = async {
            let tail = self.tail_loop(cx, rx, shutdown);
            let downloads = async {
                for job in resumed {
                    if tx.send(job).await.is_err() {
                        break;
                    }
                }
                let workers = (0..s.cfg.downloads).map(|_| self.download_worker(cx, &tx, shutdown));
                let results = futures_util::future::join_all(workers).await;
                drop(tx);
                downloads_done.cancel();
                results.into_iter().collect::<Result<Vec<()>>>().map(drop)
            };
            let relist = self.relist_loop(cx, &downloads_done);
            let triage = self.triage_loop(cx, &downloads_done, shutdown);
            let (d, (), (), ()) = tokio::join!(downloads, tail, relist, triage);
            d
        };
        let watcher = async {
            shutdown.stopped().await;
            if s.cfg.on_interrupt == OnInterrupt::Cancel {
                cx.cancel_downloads.cancel();
            }
            shutdown.aborted().await;
            cx.cancel_downloads.cancel();
            std::future::pending::<()>().await;
        };
        let worked = tokio::select! {
            r = work => r,
            () = watcher => unreachable_ok(),
        };
        worked?;
        if let Some(e) = cx.st().halt_reason.take() {
            return Err(e);
        }
        // The deletes wait for a listing taken after each clip's record.
        if let Err(e) = self.final_deletes(cx, shutdown).await {
            if e.is_offline() {
                return Err(e);
            }
            tracing::warn!("last listing for the deletes failed: {e:#}");
        }
        self.record_anchor(cx).await;
        if !shutdown.is_aborting() {
            self.retention(cx, None).await;
        }
        Ok(())
    }

    /// Applies retention (see [`crate::retention`]): `protect_from` set
    /// means "space only, and never a clip recorded at or after it" (a
    /// download is in flight).
    pub(super) async fn retention(&self, cx: &Cycle, protect_from: Option<PrimitiveDateTime>) {
        let s = &*self.inner;
        if s.cfg.retention.is_noop() {
            return;
        }
        self.apply_retention(cx, &s.cfg.retention, protect_from, None)
            .await;
    }

    /// Retention under `policy` (the configured one, or the quota's room
    /// for the next clip), counted in the cycle.
    pub(super) async fn apply_retention(
        &self,
        cx: &Cycle,
        policy: &crate::retention::RetentionPolicy,
        protect_from: Option<PrimitiveDateTime>,
        newest_known: Option<PrimitiveDateTime>,
    ) {
        let s = &*self.inner;
        let pruned = crate::retention::apply(crate::retention::Apply {
            store: &s.store,
            camera_id: &s.cfg.camera_id,
            policy,
            root: s.cfg.archive.clone(),
            locked: cx.snapshot().locked_names(),
            protect_from,
            clock: s.cfg.camera_clock,
            events: &*s.events,
            shared_root: s.cfg.shared_archive.clone(),
            newest_known,
        })
        .await;
        cx.st().counters.pruned += pruned;
    }

    pub(super) fn halt(cx: &Cycle, e: Error) {
        let mut st = cx.st();
        if st.halt_reason.is_none() {
            st.halt_reason = Some(e);
        }
        drop(st);
        cx.halt.cancel();
    }

    pub(super) fn camera_gone(&self, cx: &Cycle, e: viofo_client::Error) {
        self.inner.events.emit(Event::CameraOffline {
            reason: format!("{e:#}"),
        });
        Self::halt(cx, Error::offline(e));
    }
}

pub(super) fn unreachable_ok() -> Result<()> {
    Ok(())
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
