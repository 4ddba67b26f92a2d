//! The cycle: probe → list → reconcile → download loop (+ tail) → retention.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use time::PrimitiveDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use viofo_client::{ChunkObserver, Client, DownloadOptions, Progress, Recording};
use viofo_gps::StreamExtractor;
use viofo_store::{
    ArchivedFile, ClipId, ClipRow, ClipState, CycleId, CycleMode, CycleOutcome, CycleStats, Filter,
    ListedClip, Stage, Store, now_ms,
};

use crate::config::{GpsConfig, OnInterrupt, SyncConfig};
use crate::disk::DiskSpace;
use crate::events::{CycleSummary, DeleteResult, Event, EventSink, TailMode};
use crate::retention::{self, EvictReason};
use crate::shutdown::Shutdown;
use crate::{Error, Result};

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

struct Inner {
    client: Client,
    store: Store,
    cfg: SyncConfig,
    events: Box<dyn EventSink>,
    /// Skip tokens of the downloads in flight.
    skips: Mutex<HashMap<ClipId, CancellationToken>>,
}

/// What the camera listing looked like last time, shared by the download
/// workers, the tail and the re-lister.
#[derive(Default)]
struct Snapshot {
    recordings: HashMap<String, Recording>,
    /// Clips that may still be growing (the newest of each channel while
    /// the camera records).
    held_back: HashSet<String>,
}

/// State of one cycle.
struct Cycle {
    id: CycleId,
    snapshot: RwLock<Arc<Snapshot>>,
    picks: tokio::sync::Mutex<Picks>,
    /// Cancelled to stop the download workers (abort, or interrupt with
    /// `OnInterrupt::Cancel`); each download's token is a child of it.
    cancel_downloads: CancellationToken,
    /// Set when downloading must stop (camera gone, disk full): workers
    /// finish, the tail drains.
    halt: CancellationToken,
    halt_reason: Mutex<Option<Error>>,
    counters: Mutex<Counters>,
    /// Recording times of the clips in flight (retention never evicts a
    /// clip newer than one being downloaded).
    in_flight_times: Mutex<HashMap<ClipId, PrimitiveDateTime>>,
    last_listing: Mutex<Instant>,
    /// Downloads finished since the last listing: when the queue runs dry
    /// and this is non-zero, the camera is listed once more before the
    /// cycle ends, so clips recorded meanwhile are taken too.
    since_listing: AtomicU64,
}

#[derive(Default)]
struct Picks {
    in_flight: Vec<ClipId>,
    /// Passed over for the rest of this cycle (skipped by the user, held
    /// back, not listed, too old).
    passed: Vec<ClipId>,
}

#[derive(Default)]
struct Counters {
    clips: u64,
    bytes: u64,
    failed: u64,
    deleted: u64,
    pruned: u64,
    listing: Duration,
}

/// One clip handed to the tail.
struct TailJob {
    id: ClipId,
    name: String,
    path: PathBuf,
    bytes: u64,
    locked: bool,
    /// The streamed GPS extractor (None: extract from the file, or GPS off).
    gps: Option<StreamExtractor>,
    /// The archived state is already durable (a resumed tail).
    recorded: bool,
    /// GPS already in the store (a resumed tail).
    has_gps: bool,
    /// The delete outcome is already in the store (a resumed tail).
    delete_done: bool,
}

/// What a dry run would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DryRun {
    /// Clips that would be downloaded, in order: name and size.
    pub download: Vec<(String, u64)>,
    /// Clips that would be deleted from the camera once archived.
    pub delete: Vec<String>,
    /// Clips held back (still being recorded) or filtered out, with why.
    pub skip: Vec<(String, String)>,
    /// Archive files retention would remove.
    pub prune: Vec<PathBuf>,
}

/// Feeds a download's bytes to the GPS streaming extractor.
struct GpsObserver {
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

fn gps_options(g: &GpsConfig) -> viofo_gps::Options {
    viofo_gps::Options::default()
        .utc_offset(g.utc_offset)
        .spike_filter(g.spike_filter)
}

/// Camera-local time as stored: the wall-clock reading taken as UTC.
fn local_ms(t: PrimitiveDateTime) -> i64 {
    let ms = t.assume_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn store_channel(c: viofo_client::Channel) -> viofo_store::Channel {
    match c {
        viofo_client::Channel::Front => viofo_store::Channel::Front,
        viofo_client::Channel::Rear => viofo_store::Channel::Rear,
        viofo_client::Channel::Interior => viofo_store::Channel::Interior,
        viofo_client::Channel::Telephoto => viofo_store::Channel::Telephoto,
        _ => viofo_store::Channel::Unknown,
    }
}

fn listed_clip(rec: &Recording) -> ListedClip {
    ListedClip {
        name: rec.file_name().as_str().to_owned(),
        remote_path: rec.remote_path().to_owned(),
        size: rec.size().bytes(),
        size_exact: rec.size().exact().is_some(),
        locked: rec.is_locked(),
        parking: rec.is_parking(),
        channel: store_channel(rec.channel()),
        recorded_at: rec.start().map(local_ms),
    }
}

/// When a clip was recorded, from its name (camera-local time).
pub fn recorded_at_from_name(name: &str) -> Option<PrimitiveDateTime> {
    let rec = Recording::from_listed_path(
        &format!("/DCIM/Movie/{name}"),
        viofo_client::Size::Approx(0),
    )
    .ok()?;
    rec.start()
}

/// Clips that may still be growing: the newest of each channel.
fn newest_per_channel(recs: &[Recording]) -> HashSet<String> {
    let mut newest: HashMap<viofo_client::Channel, &Recording> = HashMap::new();
    for r in recs {
        let key = (r.start(), r.sequence());
        match newest.get(&r.channel()) {
            Some(cur) if (cur.start(), cur.sequence()) >= key => {}
            _ => {
                newest.insert(r.channel(), r);
            }
        }
    }
    newest
        .values()
        .map(|r| r.file_name().as_str().to_owned())
        .collect()
}

fn now_utc_naive() -> PrimitiveDateTime {
    let n = time::OffsetDateTime::now_utc();
    PrimitiveDateTime::new(n.date(), n.time())
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
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                store,
                cfg,
                events: Box::new(events),
                skips: Mutex::new(HashMap::new()),
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

    /// Runs cycles until shutdown: after a cycle, waits `interval`; while
    /// the camera is away, backs off 10 s, 30 s, 2 min, then 10 min, and
    /// resets on success. Returns on shutdown or on an error that a later
    /// cycle cannot fix (store, configuration).
    pub async fn watch(&self, interval: Duration, shutdown: &Shutdown) -> Result<()> {
        let mut backoff = self.inner.cfg.backoff.clone();
        backoff.reset();
        loop {
            if shutdown.is_stopping() {
                return Ok(());
            }
            let (delay, camera_away) = match self.run_cycle(shutdown).await {
                Ok(_) => {
                    backoff.reset();
                    (interval, false)
                }
                Err(e) if e.is_interrupted() => return Ok(()),
                Err(e) if e.is_offline() => {
                    let d = backoff.next_delay();
                    tracing::info!("camera away; next try in {}s", d.as_secs());
                    (d, true)
                }
                Err(e) if e.is_store() || e.is_config() => return Err(e),
                Err(e) => {
                    tracing::warn!("cycle failed: {e}; next try in {}s", interval.as_secs());
                    backoff.reset();
                    (interval, false)
                }
            };
            self.inner
                .events
                .emit(Event::NextCycle { delay, camera_away });
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown.stopped() => return Ok(()),
            }
        }
    }

    /// Runs one cycle: probe, list, reconcile, download everything pending
    /// (tail stage behind), retention. Waits for the tail to drain before it
    /// returns. Emits [`Event::CycleDone`] and logs one line whatever the
    /// outcome; errors say why the cycle stopped early
    /// ([`Error::is_offline`], [`Error::is_disk_full`],
    /// [`Error::is_interrupted`]).
    pub async fn run_cycle(&self, shutdown: &Shutdown) -> Result<CycleSummary> {
        let s = &*self.inner;
        let started = Instant::now();
        let mode = s.cfg.tail;
        s.events.emit(Event::CycleStarted { mode });
        let store_mode = match mode {
            TailMode::Pipelined => CycleMode::Pipelined,
            TailMode::Inline => CycleMode::Inline,
        };
        let id = s.store.begin_cycle(&s.cfg.camera_id, store_mode).await?;
        let cx = Cycle {
            id,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            picks: tokio::sync::Mutex::new(Picks::default()),
            cancel_downloads: CancellationToken::new(),
            halt: CancellationToken::new(),
            halt_reason: Mutex::new(None),
            counters: Mutex::new(Counters::default()),
            in_flight_times: Mutex::new(HashMap::new()),
            last_listing: Mutex::new(Instant::now()),
            since_listing: AtomicU64::new(0),
        };
        let result = self.cycle(&cx, shutdown).await;
        let result = match result {
            Ok(()) if shutdown.is_stopping() => Err(Error::interrupted()),
            other => other,
        };
        let summary = {
            let c = lock(&cx.counters);
            CycleSummary {
                mode,
                clips: c.clips,
                bytes: c.bytes,
                failed: c.failed,
                deleted: c.deleted,
                pruned: c.pruned,
                duration: started.elapsed(),
                listing: c.listing,
                outcome: match &result {
                    Ok(()) => "ok".to_owned(),
                    Err(e) => e.outcome().to_owned(),
                },
            }
        };
        let outcome = match &result {
            Ok(()) => CycleOutcome::Completed,
            Err(e) if e.is_offline() => CycleOutcome::CameraLost,
            Err(e) if e.is_interrupted() => CycleOutcome::Cancelled,
            Err(_) => CycleOutcome::Failed,
        };
        let stats = CycleStats {
            clips: summary.clips,
            bytes: summary.bytes,
            outcome,
            note: result.as_ref().err().map(ToString::to_string),
        };
        if let Err(e) = s.store.finish_cycle(id, stats).await {
            tracing::warn!("could not record the end of cycle {}: {e}", id.0);
        }
        #[allow(clippy::cast_precision_loss)]
        let mb = summary.bytes as f64 / 1e6;
        let secs = summary.duration.as_secs_f64();
        tracing::info!(
            cycle = id.0,
            mode = %mode,
            clips = summary.clips,
            bytes = summary.bytes,
            failed = summary.failed,
            deleted = summary.deleted,
            pruned = summary.pruned,
            secs,
            outcome = %summary.outcome,
            "cycle done: {} clips, {mb:.1} MB in {secs:.1}s ({mode}), {} failed, {} deleted, {} pruned: {}",
            summary.clips,
            summary.failed,
            summary.deleted,
            summary.pruned,
            summary.outcome,
        );
        s.events.emit(Event::CycleDone(summary.clone()));
        result.map(|()| summary)
    }

    async fn cycle(&self, cx: &Cycle, shutdown: &Shutdown) -> Result<()> {
        let s = &*self.inner;
        if let Err(e) = s.client.probe().await {
            s.events.emit(Event::CameraOffline {
                reason: e.to_string(),
            });
            return Err(Error::offline(e));
        }
        let firmware = s.client.info().await.ok().map(|i| i.firmware);
        s.events.emit(Event::CameraOnline { firmware });
        self.refresh(cx).await?;
        fs_err::tokio::create_dir_all(&s.cfg.archive)
            .await
            .map_err(Error::io)?;

        let (tx, rx) = mpsc::channel::<TailJob>(s.cfg.tail_queue);
        // Tails left unfinished by an earlier run go first.
        let resumed = self.unfinished_tails(cx).await?;

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
            let (d, (), ()) = tokio::join!(downloads, tail, relist);
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
        if let Some(e) = lock(&cx.halt_reason).take() {
            return Err(e);
        }
        if !shutdown.is_aborting() {
            self.retention(cx, None).await;
        }
        Ok(())
    }

    /// Lists the camera, reconciles the store and refreshes the snapshot.
    async fn refresh(&self, cx: &Cycle) -> Result<()> {
        let s = &*self.inner;
        let t = Instant::now();
        cx.since_listing.store(0, Ordering::SeqCst);
        let listing = s
            .client
            .list(s.cfg.list_source)
            .await
            .map_err(Error::camera)?;
        let recording = match s.client.recording_state().await {
            Ok(r) => r,
            Err(e) if e.is_offline() => return Err(Error::offline(e)),
            Err(e) => {
                tracing::warn!(
                    "could not read the recording state ({e}); holding back the newest clips"
                );
                true
            }
        };
        let listing_time = t.elapsed();
        let held_back = if recording {
            newest_per_channel(&listing.recordings)
        } else {
            HashSet::new()
        };
        let listed: Vec<ListedClip> = listing.recordings.iter().map(listed_clip).collect();
        let archive_root = s.cfg.archive.clone();
        let archived = tokio::task::spawn_blocking(move || archive_index(&archive_root))
            .await
            .unwrap_or_default();
        let report = s
            .store
            .reconcile(&s.cfg.camera_id, &listed, |name| {
                archived.get(name).cloned()
            })
            .await?;
        tracing::debug!(?report, "reconciled the listing");
        let recordings: HashMap<String, Recording> = listing
            .recordings
            .into_iter()
            .map(|r| (r.file_name().as_str().to_owned(), r))
            .collect();
        let counts = s.store.counts(Some(&s.cfg.camera_id)).await?;
        s.events.emit(Event::Listed {
            clips: recordings.len(),
            pending: usize::try_from(counts.pending).unwrap_or(usize::MAX),
        });
        *cx.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Snapshot {
            recordings,
            held_back,
        });
        lock(&cx.counters).listing += listing_time;
        *lock(&cx.last_listing) = Instant::now();
        Ok(())
    }

    fn snapshot(cx: &Cycle) -> Arc<Snapshot> {
        cx.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-lists on an interval while downloads run, so clips recorded
    /// meanwhile are queued and moved clips' paths refreshed. Runs beside
    /// the downloads: it never pauses them.
    async fn relist_loop(&self, cx: &Cycle, done: &CancellationToken) {
        let every = self.inner.cfg.relist_every;
        loop {
            let since = lock(&cx.last_listing).elapsed();
            let wait = every.saturating_sub(since);
            tokio::select! {
                () = done.cancelled() => return,
                () = cx.halt.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            if lock(&cx.last_listing).elapsed() < every {
                continue;
            }
            if let Err(e) = self.refresh(cx).await {
                tracing::warn!("re-listing failed: {e}");
                *lock(&cx.last_listing) = Instant::now();
            }
        }
    }

    async fn unfinished_tails(&self, cx: &Cycle) -> Result<Vec<TailJob>> {
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

    fn halt(cx: &Cycle, e: Error) {
        let mut r = lock(&cx.halt_reason);
        if r.is_none() {
            *r = Some(e);
        }
        cx.halt.cancel();
    }

    /// Picks the next clip to download, passing over what cannot be taken.
    async fn pick(&self, cx: &Cycle) -> Result<Option<(ClipRow, Recording)>> {
        let s = &*self.inner;
        let mut picks = cx.picks.lock().await;
        loop {
            let exclude: Vec<ClipId> = picks
                .in_flight
                .iter()
                .chain(&picks.passed)
                .copied()
                .collect();
            let filter = Filter {
                locked_only: s.cfg.locked_only,
                channels: &s.cfg.channels,
                include_parking: s.cfg.include_parking,
                exclude: &exclude,
            };
            let Some(row) = s
                .store
                .next_pending(&s.cfg.camera_id, s.cfg.policy, &filter)
                .await?
            else {
                if cx.since_listing.load(Ordering::SeqCst) > 0 && !cx.halt.is_cancelled() {
                    // Drained: look once more for clips recorded meanwhile.
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
            };
            let snap = Self::snapshot(cx);
            let why = match snap.recordings.get(&row.name) {
                None => Some("not in the camera's current listing".to_owned()),
                Some(_) if snap.held_back.contains(&row.name) => {
                    Some("may still be recording (the camera is recording)".to_owned())
                }
                Some(rec) if self.too_old(rec) => Some("older than the keep period".to_owned()),
                Some(rec) => {
                    picks.in_flight.push(row.id);
                    return Ok(Some((row, rec.clone())));
                }
            };
            picks.passed.push(row.id);
            if let Some(reason) = why {
                s.events.emit(Event::ItemSkipped {
                    name: row.name.clone(),
                    reason,
                });
            }
        }
    }

    fn too_old(&self, rec: &Recording) -> bool {
        let (Some(keep), Some(start)) = (self.inner.cfg.retention.keep, rec.start()) else {
            return false;
        };
        let keep = time::Duration::try_from(keep).unwrap_or(time::Duration::MAX);
        now_utc_naive()
            .checked_sub(keep)
            .is_some_and(|cut| start < cut)
    }

    fn disk_guard(&self) -> Result<()> {
        let s = &*self.inner;
        let Some(limit) = s.cfg.max_used_disk else {
            return Ok(());
        };
        let d = DiskSpace::of(&s.cfg.archive).map_err(Error::io)?;
        let used = d.used_percent();
        if used >= limit {
            return Err(Error::disk_guard(s.cfg.archive.clone(), used, limit));
        }
        Ok(())
    }

    fn dest_for(&self, rec: &Recording) -> PathBuf {
        let cfg = &self.inner.cfg;
        let date = rec
            .start()
            .or_else(|| rec.end())
            .map(PrimitiveDateTime::date);
        let mut dir = cfg.archive.clone();
        if let Some(folder) = date.and_then(|d| cfg.grouping.folder(d)) {
            dir.push(folder);
        }
        dir.join(rec.file_name().as_str())
    }

    async fn download_worker(
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
            if let Err(e) = self.disk_guard() {
                Self::halt(cx, e);
                return Ok(());
            }
            let Some((row, rec)) = self.pick(cx).await? else {
                return Ok(());
            };
            let outcome = self.download_one(cx, &row, &rec).await;
            {
                let mut picks = cx.picks.lock().await;
                picks.in_flight.retain(|i| *i != row.id);
                // Passed over for the rest of the cycle, downloaded ones
                // too: their state writes are not awaited, so the store may
                // still call them pending.
                picks.passed.push(row.id);
            }
            lock(&cx.in_flight_times).remove(&row.id);
            match outcome {
                Step::Downloaded(job) => {
                    if s.cfg.tail == TailMode::Inline {
                        self.run_tail(cx, *job, shutdown).await;
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
                    let mut picks = cx.picks.lock().await;
                    picks.passed.retain(|i| *i != row.id);
                }
                Step::Stop => return Ok(()),
            }
        }
    }

    async fn download_one(&self, cx: &Cycle, row: &ClipRow, rec: &Recording) -> Step {
        let s = &*self.inner;
        let name = rec.file_name().as_str().to_owned();
        let dest = self.dest_for(rec);
        if let Some(dir) = dest.parent()
            && let Err(e) = fs_err::tokio::create_dir_all(dir).await
        {
            Self::halt(cx, Error::io(e));
            return Step::Stop;
        }
        if let Some(t) = rec.start() {
            lock(&cx.in_flight_times).insert(row.id, t);
        }
        let token = cx.cancel_downloads.child_token();
        lock(&s.skips).insert(row.id, token.clone());
        // Neither write is awaited: the camera link waits for nothing local.
        drop(s.store.start_download(row.id, Some(cx.id)));
        s.store
            .record_timing(row.id, Stage::DownloadStarted, now_ms());
        s.events.emit(Event::ItemStarted {
            name: name.clone(),
            size: Some(rec.size().bytes()),
        });
        let mut gps = s.cfg.gps.as_ref().map(|g| {
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
        let mut opts = DownloadOptions::new()
            .progress(&mut progress)
            .cancel(token.clone());
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
                    let mut c = lock(&cx.counters);
                    c.clips += 1;
                    c.bytes += d.bytes;
                }
                cx.since_listing.fetch_add(1, Ordering::SeqCst);
                s.events.emit(Event::ItemDone {
                    name: name.clone(),
                    bytes: d.bytes,
                    duration: d.duration,
                });
                Step::Downloaded(Box::new(TailJob {
                    id: row.id,
                    name,
                    path: d.path,
                    bytes: d.bytes,
                    locked: rec.is_locked(),
                    gps: gps.map(|g| g.extractor),
                    recorded: false,
                    has_gps: false,
                    delete_done: false,
                }))
            }
            Err(e) if e.is_cancelled() => {
                drop(s.store.release(row.id));
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
            Err(e) if e.is_disk_full() => {
                drop(s.store.release(row.id));
                self.failed_event(cx, &name, &e.to_string(), false);
                Self::halt(cx, Error::camera(e));
                Step::Stop
            }
            Err(e) if e.is_not_found() => {
                // A clip locked on the camera moves to RO: its path is stale.
                // Re-list, then try it once more with the fresh path; a clip
                // that is really gone is marked so by the reconcile.
                drop(s.store.fail(row.id, &e.to_string(), true));
                self.failed_event(cx, &name, &e.to_string(), true);
                match self.refresh(cx).await {
                    Ok(()) => {
                        let moved = Self::snapshot(cx)
                            .recordings
                            .get(&name)
                            .is_some_and(|r| r.remote_path() != rec.remote_path());
                        if moved { Step::Retry } else { Step::Next }
                    }
                    Err(e) if e.is_offline() => {
                        Self::halt(cx, e);
                        Step::Stop
                    }
                    Err(_) => Step::Next,
                }
            }
            Err(e) if e.is_retryable() => {
                // Dropped mid-body, stalled, 5xx, a connection refused or
                // reset: is the camera still there? (A camera may reset one
                // connection and answer the next; only a failed probe
                // ends the cycle.)
                if let Err(p) = s.client.probe().await {
                    drop(s.store.release(row.id));
                    self.camera_gone(cx, p);
                    return Step::Stop;
                }
                let state = s.store.fail(row.id, &e.to_string(), true).await;
                self.failed_event(cx, &name, &e.to_string(), true);
                if matches!(state, Ok(ClipState::Pending)) {
                    Step::Retry
                } else {
                    Step::Next
                }
            }
            Err(e) => {
                drop(s.store.fail(row.id, &e.to_string(), false));
                self.failed_event(cx, &name, &e.to_string(), false);
                Step::Next
            }
        }
    }

    fn failed_event(&self, cx: &Cycle, name: &str, error: &str, retryable: bool) {
        tracing::warn!("{name}: {error}");
        lock(&cx.counters).failed += 1;
        self.inner.events.emit(Event::ItemFailed {
            name: name.to_owned(),
            error: error.to_owned(),
            retryable,
        });
    }

    fn camera_gone(&self, cx: &Cycle, e: viofo_client::Error) {
        self.inner.events.emit(Event::CameraOffline {
            reason: e.to_string(),
        });
        Self::halt(cx, Error::offline(e));
    }

    async fn tail_loop(&self, cx: &Cycle, mut rx: mpsc::Receiver<TailJob>, shutdown: &Shutdown) {
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
    async fn run_tail(&self, cx: &Cycle, mut job: TailJob, shutdown: &Shutdown) {
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
    async fn tail_gps(
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
    async fn tail_delete(&self, cx: &Cycle, job: &TailJob) -> bool {
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

    /// Applies retention; `protect_from` set means "space only, and never a
    /// clip recorded at or after it" (a download is in flight).
    async fn retention(&self, cx: &Cycle, protect_from: Option<PrimitiveDateTime>) {
        let s = &*self.inner;
        let policy = s.cfg.retention.clone();
        if policy.is_noop() {
            return;
        }
        let root = s.cfg.archive.clone();
        let snap = Self::snapshot(cx);
        let locked: HashSet<String> = snap
            .recordings
            .values()
            .filter(|r| r.is_locked())
            .map(|r| r.file_name().as_str().to_owned())
            .collect();
        let store = s.store.clone();
        let camera = s.cfg.camera_id.clone();
        let during_downloads = protect_from.is_some();
        let planned = blocking(move || {
            let disk = DiskSpace::of(&root).ok();
            if during_downloads {
                let over = match (disk, policy.max_used_percent) {
                    (Some(d), Some(limit)) => d.used_percent() > limit,
                    _ => false,
                };
                if !over {
                    return Ok((Vec::new(), retention::Plan::default()));
                }
            }
            let clips =
                retention::scan_archive(&root, &recorded_at_from_name, &|n| locked.contains(n))?;
            let mut policy = policy;
            if during_downloads {
                policy.keep = None;
            }
            let plan = retention::plan(&clips, &policy, now_utc_naive(), disk, protect_from);
            Ok::<_, std::io::Error>((clips, plan))
        })
        .await;
        let (clips, plan) = match planned {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("retention: cannot read the archive: {e}");
                return;
            }
        };
        for ev in &plan.evictions {
            let Some(clip) = clips.get(ev.index) else {
                continue;
            };
            let name = clip
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            // A clip the store knows as locked is protected too.
            if s.cfg.retention.protect_locked
                && let Ok(Some(row)) = store.get_by_name(&camera, &name).await
                && row.locked
            {
                continue;
            }
            let reason = match ev.reason {
                EvictReason::Age => "older than the keep period",
                EvictReason::Space => "disk above the retention limit",
            };
            let c = clip.clone();
            match blocking(move || retention::remove(&c)).await {
                Ok(()) => {
                    tracing::info!("retention: removed {} ({reason})", clip.path.display());
                    lock(&cx.counters).pruned += 1;
                    s.events.emit(Event::Pruned {
                        path: clip.path.clone(),
                        reason: reason.to_owned(),
                    });
                }
                Err(e) => tracing::warn!("retention: {e}"),
            }
        }
        if plan.still_over_limit {
            tracing::warn!(
                "retention: the disk stays above the limit; what is left is locked or newer than the clip being downloaded"
            );
        }
    }

    /// Lists what a sync would do, touching nothing: no store write, no
    /// download, no delete, no file removed.
    pub async fn dry_run(&self) -> Result<DryRun> {
        let s = &*self.inner;
        s.client.probe().await.map_err(Error::offline)?;
        let listing = s
            .client
            .list(s.cfg.list_source)
            .await
            .map_err(Error::camera)?;
        let recording = s.client.recording_state().await.unwrap_or(true);
        let held = if recording {
            newest_per_channel(&listing.recordings)
        } else {
            HashSet::new()
        };
        let archived = {
            let root = s.cfg.archive.clone();
            tokio::task::spawn_blocking(move || archive_index(&root))
                .await
                .unwrap_or_default()
        };
        let mut out = DryRun::default();
        let mut recs: Vec<&Recording> = listing.recordings.iter().collect();
        recs.sort_by_key(|r| (r.start(), r.file_name().as_str().to_owned()));
        if matches!(s.cfg.policy, viofo_store::Policy::NewestFirst) {
            recs.reverse();
        }
        if matches!(s.cfg.policy, viofo_store::Policy::LockedFirst) {
            recs.sort_by_key(|r| !r.is_locked());
        }
        for rec in recs {
            let name = rec.file_name().as_str().to_owned();
            let row = s.store.get_by_name(&s.cfg.camera_id, &name).await?;
            let state = row.as_ref().map(|r| r.state);
            let archived_already = archived
                .get(&name)
                .is_some_and(|a| a.size == rec.size().bytes());
            let skip = if held.contains(&name) {
                Some("may still be recording")
            } else if s.cfg.locked_only && !rec.is_locked() {
                Some("not locked (locked_only)")
            } else if !s.cfg.include_parking && rec.is_parking() {
                Some("parking clip")
            } else if !s.cfg.channels.is_empty()
                && !s.cfg.channels.contains(&store_channel(rec.channel()))
            {
                Some("channel not selected")
            } else if self.too_old(rec) {
                Some("older than the keep period")
            } else {
                None
            };
            let needs_download = !archived_already
                && matches!(
                    state,
                    None | Some(
                        ClipState::Pending
                            | ClipState::Failed
                            | ClipState::Gone
                            | ClipState::Downloading
                    )
                );
            if let Some(why) = skip {
                if needs_download {
                    out.skip.push((name, why.to_owned()));
                }
                continue;
            }
            if needs_download {
                out.download.push((name.clone(), rec.size().bytes()));
            }
            let deletable = s.cfg.delete_after_download
                && (!rec.is_locked() || s.cfg.delete_locked)
                && row
                    .as_ref()
                    .is_none_or(|r| r.deleted_from_camera_at.is_none());
            if deletable {
                out.delete.push(name);
            }
        }
        if !s.cfg.retention.is_noop() {
            let root = s.cfg.archive.clone();
            let policy = s.cfg.retention.clone();
            let locked: HashSet<String> = listing
                .recordings
                .iter()
                .filter(|r| r.is_locked())
                .map(|r| r.file_name().as_str().to_owned())
                .collect();
            let pruned = tokio::task::spawn_blocking(move || {
                let clips =
                    retention::scan_archive(&root, &recorded_at_from_name, &|n| locked.contains(n))
                        .unwrap_or_default();
                let disk = DiskSpace::of(&root).ok();
                let plan = retention::plan(&clips, &policy, now_utc_naive(), disk, None);
                plan.evictions
                    .iter()
                    .filter_map(|e| clips.get(e.index).map(|c| c.path.clone()))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            out.prune = pruned;
        }
        Ok(out)
    }
}

enum Step {
    Downloaded(Box<TailJob>),
    /// Move on to the next clip.
    Next,
    /// The same clip may be picked again this cycle.
    Retry,
    /// Stop this worker.
    Stop,
}

fn unreachable_ok() -> Result<()> {
    Ok(())
}

/// Runs blocking file work (fsyncs, directory walks) on the blocking pool,
/// off the runtime threads the downloads run on.
async fn blocking<T, E>(
    f: impl FnOnce() -> std::result::Result<T, E> + Send + 'static,
) -> std::result::Result<T, String>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("background task failed: {e}")),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Checks the archived copy is there with the size that was downloaded.
async fn verify_local(path: &Path, bytes: u64) -> std::result::Result<(), String> {
    match fs_err::tokio::metadata(path).await {
        Ok(m) if m.len() == bytes => Ok(()),
        Ok(m) => Err(format!(
            "local copy has {} bytes, expected {bytes}; not deleting",
            m.len()
        )),
        Err(e) => Err(format!("local copy unreadable ({e}); not deleting")),
    }
}

/// Clips already in the archive by name (root and grouping folders).
fn archive_index(root: &Path) -> HashMap<String, ArchivedFile> {
    let clips = retention::scan_archive(root, &|_| None, &|_| false).unwrap_or_default();
    clips
        .into_iter()
        .filter_map(|c| {
            let name = c.path.file_name()?.to_str()?.to_owned();
            Some((
                name,
                ArchivedFile {
                    path: c.path,
                    size: c.size,
                },
            ))
        })
        .collect()
}

fn gps_summary(s: &viofo_gps::Summary) -> viofo_store::GpsSummary {
    let ms = |t: time::OffsetDateTime| {
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    };
    viofo_store::GpsSummary {
        points: u32::try_from(s.points).unwrap_or(u32::MAX),
        first_fix_ms: s.first_fix.map(ms),
        last_fix_ms: s.last_fix.map(ms),
        distance_m: s.distance_m,
        bbox: s
            .bbox
            .as_ref()
            .map(|b| [b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
        max_speed_mps: s.max_speed_mps,
    }
}
