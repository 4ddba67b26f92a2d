//! The status model's data and how each pipeline event changes it: pure
//! bookkeeping under the model's lock (no I/O, no await), timed by the
//! instants the caller passes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use viofo_pipeline::{DeleteOutcome, Event};

use super::Throughput;
use crate::metrics::{KindLabel, Metrics, OutcomeLabel, gauge_value};
use crate::snapshot::{
    ArchiveStatus, CameraStatus, CycleProgress, CycleReport, DiskStatus, DownloadStatus,
    FailedClip, JourneySummary, NextCycle, QueueCounts, SCHEMA, StatusSnapshot, SyncState,
};
use crate::sticky::{StickyError, StickyKind};
use crate::time::rfc3339;

/// What the refresh task should read next time it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Wants {
    /// Counts and failed clips.
    pub(crate) queue: bool,
    /// The pending clips' sizes (the cycle's total).
    pub(crate) pending: bool,
    /// Archive size, last cycles, tail-stage timings.
    pub(crate) full: bool,
    /// The sticky errors changed: save them.
    pub(crate) persist: bool,
}

impl Wants {
    pub(crate) fn any(self) -> bool {
        self.queue || self.pending || self.full || self.persist
    }
}

#[derive(Debug, Clone)]
struct Download {
    name: String,
    bytes: u64,
    total: Option<u64>,
    started: Instant,
    started_ms: i64,
}

#[derive(Debug, Clone)]
struct RunningCycle {
    started_ms: i64,
    mode: &'static str,
    clips_done: u64,
    clips_failed: u64,
    bytes_done: u64,
    first_download: Option<Instant>,
}

/// Everything the model knows. Lives behind the model's mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) camera_id: String,
    pub(crate) archive: PathBuf,
    online: bool,
    model: Option<String>,
    firmware: Option<String>,
    last_seen_ms: Option<i64>,
    offline_reason: Option<String>,
    paused: bool,
    cycle: Option<RunningCycle>,
    downloads: Vec<Download>,
    last_download_end: Option<Instant>,
    next_cycle: Option<(i64, bool)>,
    pub(crate) queue: QueueCounts,
    pub(crate) failed: Vec<FailedClip>,
    pub(crate) last_cycles: Vec<CycleReport>,
    pub(crate) last_journey: Option<JourneySummary>,
    pub(crate) disk: Option<DiskStatus>,
    pub(crate) archive_bytes: u64,
    pub(crate) archive_clips: u64,
    /// Sizes of the clips pending when last read, less those started since.
    pending: HashMap<String, u64>,
    pending_bytes: u64,
    pending_known: bool,
    pub(crate) pending_read_at: Option<Instant>,
    /// The newest finished cycle whose tail stages were observed.
    pub(crate) observed_cycle: Option<viofo_store::CycleId>,
    /// The first full read happened: cycles finished before it are history
    /// (observed by an earlier process, or never), not observed.
    pub(crate) stages_primed: bool,
    sticky: Vec<StickyError>,
    pub(crate) wants: Wants,
    recent: super::activity::Recent,
    pub(crate) address: Option<String>,
}

/// How long a pending-size snapshot serves before a new listing re-reads it.
const PENDING_FRESH: Duration = Duration::from_secs(30);

impl State {
    pub(crate) fn new(camera_id: String, archive: PathBuf, sticky: Vec<StickyError>) -> Self {
        Self {
            camera_id,
            archive,
            online: false,
            model: None,
            firmware: None,
            last_seen_ms: None,
            offline_reason: None,
            paused: false,
            cycle: None,
            downloads: Vec::new(),
            last_download_end: None,
            next_cycle: None,
            queue: QueueCounts::default(),
            failed: Vec::new(),
            last_cycles: Vec::new(),
            last_journey: None,
            disk: None,
            archive_bytes: 0,
            archive_clips: 0,
            pending: HashMap::new(),
            pending_bytes: 0,
            pending_known: false,
            pending_read_at: None,
            observed_cycle: None,
            stages_primed: false,
            sticky,
            recent: super::activity::Recent::default(),
            address: None,
            wants: Wants {
                queue: true,
                pending: false,
                full: true,
                persist: false,
            },
        }
    }

    /// Applies one event. Returns whether the refresh task has work.
    pub(crate) fn apply(&mut self, event: &Event, now: Instant, wall_ms: i64, m: &Metrics) -> bool {
        self.recent.note(event, wall_ms);
        match event {
            Event::CycleStarted { mode } => {
                self.cycle = Some(RunningCycle {
                    started_ms: wall_ms,
                    mode: mode.as_str(),
                    clips_done: 0,
                    clips_failed: 0,
                    bytes_done: 0,
                    first_download: None,
                });
                self.next_cycle = None;
                self.downloads.clear();
                self.last_download_end = None;
                self.pending_known = false;
                // The cycle passed its archive check and its configuration
                // was accepted.
                self.clear_sticky(StickyKind::ArchiveUnwritable, m);
                self.clear_sticky(StickyKind::Configuration, m);
            }
            Event::CameraOnline { firmware, model } => {
                self.online = true;
                if firmware.is_some() {
                    self.firmware.clone_from(firmware);
                }
                if model.is_some() {
                    self.model.clone_from(model);
                }
                self.last_seen_ms = Some(wall_ms);
                self.offline_reason = None;
                m.camera_online.set(1);
            }
            Event::CameraOffline { reason } => {
                self.online = false;
                self.offline_reason = Some(reason.clone());
                m.camera_online.set(0);
            }
            Event::Listed { .. } => {
                self.last_seen_ms = Some(wall_ms);
                self.wants.queue = true;
                let stale = self
                    .pending_read_at
                    .is_none_or(|t| now.saturating_duration_since(t) >= PENDING_FRESH);
                if self.cycle.is_some() && (!self.pending_known || stale) {
                    self.wants.pending = true;
                }
            }
            Event::ItemStarted { name, size } => {
                if self.downloads.is_empty()
                    && self.cycle.is_some()
                    && let Some(end) = self.last_download_end
                {
                    m.download_gap
                        .observe(now.saturating_duration_since(end).as_secs_f64());
                }
                self.take_pending(name);
                if let Some(c) = &mut self.cycle {
                    c.first_download.get_or_insert(now);
                }
                self.downloads.retain(|d| d.name != *name);
                self.downloads.push(Download {
                    name: name.clone(),
                    bytes: 0,
                    total: *size,
                    started: now,
                    started_ms: wall_ms,
                });
                self.download_gauges(m);
            }
            Event::ItemProgress { name, bytes, total } => {
                if let Some(d) = self.downloads.iter_mut().find(|d| d.name == *name) {
                    d.bytes = *bytes;
                    if total.is_some() {
                        d.total = *total;
                    }
                }
                self.download_gauges(m);
            }
            Event::ItemDone {
                name,
                bytes,
                duration,
            } => {
                self.end_download(name, now);
                if let Some(c) = &mut self.cycle {
                    c.clips_done += 1;
                    c.bytes_done = c.bytes_done.saturating_add(*bytes);
                }
                self.archive_bytes = self.archive_bytes.saturating_add(*bytes);
                self.archive_clips += 1;
                m.archived.inc();
                m.downloaded_bytes.inc_by(*bytes);
                m.download_duration.observe(duration.as_secs_f64());
                m.archive_bytes.set(gauge_value(self.archive_bytes));
                // A clip was written: the disk takes files again.
                self.clear_sticky(StickyKind::DiskFull, m);
                self.download_gauges(m);
            }
            Event::ItemFailed {
                name, retryable, ..
            } => {
                let total = self.end_download(name, now);
                if *retryable {
                    // Back in the queue: still to do.
                    if let Some(size) = total {
                        self.put_pending(name, size);
                    }
                } else if let Some(c) = &mut self.cycle {
                    c.clips_failed += 1;
                }
                m.download_failures.inc();
                self.wants.queue = true;
                self.download_gauges(m);
            }
            Event::ItemSkipped { name, .. } => {
                self.end_download(name, now);
                self.take_pending(name);
                m.skipped.inc();
                self.download_gauges(m);
            }
            Event::Delete {
                outcome: DeleteOutcome::Confirmed,
                ..
            } => {
                m.deleted.inc();
            }
            Event::DeleteRetried { .. } => {
                m.delete_retries.inc();
            }
            Event::Pruned { .. } => {
                m.pruned.inc();
            }
            Event::CycleDone(summary) => {
                m.cycles
                    .get_or_create(&OutcomeLabel {
                        outcome: summary.outcome.as_str(),
                    })
                    .inc();
                m.failed.inc_by(summary.failed);
                self.cycle = None;
                self.downloads.clear();
                self.pending.clear();
                self.pending_bytes = 0;
                self.pending_known = false;
                self.download_gauges(m);
                if summary.outcome.is_ok() {
                    self.clear_sticky(StickyKind::DiskFull, m);
                }
                // The pipeline's note is its error's text ("disk full: ..."):
                // the event carries no error kind.
                if let Some(note) = summary
                    .note
                    .as_deref()
                    .filter(|n| n.starts_with("disk full"))
                {
                    self.set_sticky(StickyKind::DiskFull, note.to_owned(), wall_ms, m);
                }
                if summary.failed > 0 {
                    let msg = failed_message(summary.failed);
                    self.set_sticky(StickyKind::ClipsFailed, msg, wall_ms, m);
                }
                self.wants.queue = true;
                self.wants.full = true;
            }
            Event::NextCycle { delay, camera_away } => {
                let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                self.next_cycle = Some((wall_ms.saturating_add(ms), *camera_away));
            }
            // A newer pipeline's event this model does not know yet.
            _ => {}
        }
        self.wants.any()
    }

    fn end_download(&mut self, name: &str, now: Instant) -> Option<u64> {
        let pos = self.downloads.iter().position(|d| d.name == name)?;
        let d = self.downloads.remove(pos);
        if self.downloads.is_empty() {
            self.last_download_end = Some(now);
        }
        d.total.or(Some(d.bytes))
    }

    fn take_pending(&mut self, name: &str) {
        if let Some(size) = self.pending.remove(name) {
            self.pending_bytes = self.pending_bytes.saturating_sub(size);
        }
    }

    fn put_pending(&mut self, name: &str, size: u64) {
        if self.pending_known && !self.pending.contains_key(name) {
            self.pending.insert(name.to_owned(), size);
            self.pending_bytes = self.pending_bytes.saturating_add(size);
        }
    }

    /// Replaces the pending sizes with a fresh read of the store, less the
    /// clips in flight.
    pub(crate) fn set_pending(&mut self, clips: Vec<(String, u64)>, now: Instant) {
        self.pending.clear();
        self.pending_bytes = 0;
        for (name, size) in clips {
            if self.downloads.iter().any(|d| d.name == name) {
                continue;
            }
            self.pending_bytes = self.pending_bytes.saturating_add(size);
            self.pending.insert(name, size);
        }
        self.pending_known = self.cycle.is_some();
        self.pending_read_at = Some(now);
    }

    fn download_gauges(&self, m: &Metrics) {
        let bytes: u64 = self.downloads.iter().map(|d| d.bytes).sum();
        let sized = self
            .downloads
            .iter()
            .filter_map(|d| d.total.map(|t| (d.bytes, t)));
        let (done, size) = sized.fold((0u64, 0u64), |(a, b), (x, t)| (a + x, b + t));
        m.downloads_active
            .set(i64::try_from(self.downloads.len()).unwrap_or(i64::MAX));
        m.download_bytes.set(gauge_value(bytes));
        m.download_size.set(gauge_value(size));
        m.download_progress.set(ratio(done, size).unwrap_or(0.0));
        let (cdone, ctotal) = self.cycle_bytes();
        m.cycle_bytes_done.set(gauge_value(cdone));
        m.cycle_bytes_total.set(gauge_value(ctotal.unwrap_or(0)));
    }

    /// `(done, total)` of the running cycle's bytes.
    fn cycle_bytes(&self) -> (u64, Option<u64>) {
        let Some(c) = &self.cycle else {
            return (0, None);
        };
        super::cycle_bytes(
            c.bytes_done,
            self.downloads.iter().map(|d| (d.bytes, d.total)),
            self.pending_known.then_some(self.pending_bytes),
        )
    }

    pub(crate) fn set_camera(&mut self, model: Option<String>, firmware: Option<String>) {
        if model.is_some() {
            self.model = model;
        }
        if firmware.is_some() {
            self.firmware = firmware;
        }
    }

    pub(crate) fn set_paused(&mut self, paused: bool, m: &Metrics) {
        self.paused = paused;
        m.paused.set(i64::from(paused));
    }

    /// Sets (or keeps, with a newer message) the sticky error of `kind`.
    pub(crate) fn set_sticky(
        &mut self,
        kind: StickyKind,
        message: String,
        wall_ms: i64,
        m: &Metrics,
    ) {
        m.sticky
            .get_or_create(&KindLabel {
                kind: kind.as_str(),
            })
            .set(1);
        if let Some(e) = self.sticky.iter_mut().find(|e| e.kind == kind) {
            if e.message != message {
                e.message = message;
                self.wants.persist = true;
            }
            return;
        }
        self.sticky.push(StickyError {
            kind,
            message,
            since: rfc3339(wall_ms),
        });
        self.wants.persist = true;
    }

    /// Clears the sticky error of `kind`, if it stands.
    pub(crate) fn clear_sticky(&mut self, kind: StickyKind, m: &Metrics) {
        let before = self.sticky.len();
        self.sticky.retain(|e| e.kind != kind);
        if self.sticky.len() != before {
            m.sticky
                .get_or_create(&KindLabel {
                    kind: kind.as_str(),
                })
                .set(0);
            self.wants.persist = true;
        }
    }

    pub(crate) fn sticky(&self) -> &[StickyError] {
        &self.sticky
    }

    /// Re-exports the loaded sticky errors to the gauges.
    pub(crate) fn sticky_gauges(&self, m: &Metrics) {
        for e in &self.sticky {
            m.sticky
                .get_or_create(&KindLabel {
                    kind: e.kind.as_str(),
                })
                .set(1);
        }
    }

    /// The state word: paused, then a sticky error that stops every sync,
    /// then a running cycle, then any sticky error, else waiting.
    pub(crate) fn sync_state(&self) -> SyncState {
        if self.paused {
            SyncState::Paused
        } else if self.sticky.iter().any(|e| e.kind.blocks_sync()) {
            SyncState::Error
        } else if self.cycle.is_some() {
            SyncState::Downloading
        } else if !self.sticky.is_empty() {
            SyncState::Error
        } else {
            SyncState::Waiting
        }
    }

    /// The snapshot at `now` / `wall_ms`.
    pub(crate) fn snapshot(&self, now: Instant, wall_ms: i64) -> StatusSnapshot {
        let downloads = self
            .downloads
            .iter()
            .map(|d| {
                let rate =
                    Throughput::of(d.bytes, d.total, now.saturating_duration_since(d.started));
                DownloadStatus {
                    clip: d.name.clone(),
                    bytes: d.bytes,
                    total: d.total,
                    percent: d.total.and_then(|t| ratio(d.bytes, t)).map(|r| r * 100.0),
                    speed_bps: rate.bytes_per_sec,
                    eta_secs: rate.eta_secs,
                    started_at: rfc3339(d.started_ms),
                }
            })
            .collect();
        let cycle = self.cycle.as_ref().map(|c| {
            let (done, total) = self.cycle_bytes();
            let rate = c.first_download.map_or_else(Throughput::default, |t| {
                Throughput::of(done, total, now.saturating_duration_since(t))
            });
            CycleProgress {
                started_at: rfc3339(c.started_ms),
                mode: c.mode.to_owned(),
                clips_done: c.clips_done,
                clips_failed: c.clips_failed,
                bytes_done: done,
                bytes_total: total,
                percent: total.and_then(|t| ratio(done, t)).map(|r| r * 100.0),
                speed_bps: rate.bytes_per_sec,
                eta_secs: rate.eta_secs,
            }
        });
        StatusSnapshot {
            schema: SCHEMA,
            generated_at: rfc3339(wall_ms),
            state: self.sync_state(),
            camera: CameraStatus {
                id: self.camera_id.clone(),
                online: self.online,
                model: self.model.clone(),
                firmware: self.firmware.clone(),
                last_seen_at: self.last_seen_ms.map(rfc3339),
                address: self.address.clone(),
                offline_reason: if self.online {
                    None
                } else {
                    self.offline_reason.clone()
                },
            },
            downloads,
            cycle,
            next_cycle: match (&self.cycle, self.next_cycle) {
                (None, Some((at, camera_away))) => Some(NextCycle {
                    at: rfc3339(at),
                    camera_away,
                }),
                _ => None,
            },
            queue: self.queue,
            failed: self.failed.clone(),
            last_cycles: self.last_cycles.clone(),
            disk: self.disk.clone(),
            archive: ArchiveStatus {
                path: self.archive.display().to_string(),
                bytes: self.archive_bytes,
                clips: self.archive_clips,
            },
            errors: self.sticky.clone(),
            last_journey: self.last_journey.clone(),
            recent: self.recent.list(),
        }
    }
}

/// The text of a `clips_failed` sticky error.
pub(crate) fn failed_message(n: u64) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!(
        "{n} clip{s} left failed: see `viofosync queue --state failed`, \
         then `viofosync retry-failed` (or the page's retry button)"
    )
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64).min(1.0))
}
