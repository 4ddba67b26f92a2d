//! The refresh task: reads the store (counts, failed clips, pending sizes,
//! archive size, last cycles, tail-stage timings) and the archive's
//! filesystem (`statvfs`, writability) off the pipeline's path, and saves
//! the sticky errors when they change.

use std::future::Future;
use std::path::Path;
use std::time::Instant;

use viofo_pipeline::disk::DiskSpace;
use viofo_store::{ClipRow, ClipState, CycleId, Store};

use super::StatusModel;
use super::state::{Wants, failed_message};
use crate::error::Result;
use crate::metrics::{StageLabel, gauge_value};
use crate::snapshot::{CycleReport, DiskStatus, FailedClip, JourneySummary, QueueCounts};
use crate::sticky::StickyKind;
use crate::time::rfc3339;

/// What one refresh read, applied under the lock in one step.
#[derive(Default)]
struct Reading {
    queue: Option<QueueCounts>,
    failed: Option<Vec<FailedClip>>,
    pending: Option<Vec<(String, u64)>>,
    archive: Option<(u64, u64)>,
    cycles: Option<Vec<CycleReport>>,
    journey: Option<Option<JourneySummary>>,
    stages: Vec<(&'static str, f64)>,
    newest_cycle: Option<CycleId>,
    disk: Option<(Option<DiskStatus>, Option<String>)>,
}

impl StatusModel {
    /// Reads everything now: counts, failed clips, archive size, last
    /// cycles, the disk; saves the sticky errors if they changed. For a
    /// program that shows the status without running a sync (`status
    /// --json`: give the model a [`StickyFile::read_only`](crate::StickyFile::read_only)
    /// and a store opened read only), and for tests; a running program uses
    /// [`run_refresh`](Self::run_refresh).
    pub async fn refresh(&self, store: &Store) -> Result<()> {
        let wants = Wants {
            queue: true,
            pending: false,
            full: true,
            persist: false,
        };
        self.refresh_with(store, wants).await
    }

    /// Refreshes until `shutdown` completes: at once, then every
    /// [`refresh_every`](super::StatusConfig::refresh_every) and whenever
    /// an event asks (a listing, a failure, a cycle's end), never more
    /// often than [`min_refresh_gap`](super::StatusConfig::min_refresh_gap).
    /// Failures are logged and retried on the next round. Saves the sticky
    /// errors once more before it returns. Spawn it beside the sync.
    pub async fn run_refresh(&self, store: Store, shutdown: impl Future<Output = ()>) {
        let cfg = self.config().clone();
        tokio::pin!(shutdown);
        let mut first = true;
        loop {
            let wants = std::mem::take(&mut self.state().wants);
            let wants = Wants {
                queue: true,
                full: wants.full || first,
                ..wants
            };
            if let Err(e) = self.refresh_with(&store, wants).await {
                tracing::warn!("status refresh failed: {e}");
                // Asked again next round.
                let mut st = self.state();
                st.wants.full |= wants.full;
                st.wants.pending |= wants.pending;
                st.wants.persist |= wants.persist;
            }
            first = false;
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(cfg.refresh_every) => {}
                () = self.shared.wake.notified() => {}
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(cfg.min_refresh_gap) => {}
            }
        }
        if let Err(e) = self.persist().await {
            tracing::warn!("sticky errors not saved: {e}");
        }
    }

    /// Saves the sticky errors now (on the blocking pool).
    pub async fn persist(&self) -> Result<()> {
        let errors = self.state().sticky().to_vec();
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.shared.sticky_store.save(&errors))
            .await
            .map_err(|e| crate::Error::Config(format!("sticky save did not run: {e}")))?
    }

    async fn refresh_with(&self, store: &Store, wants: Wants) -> Result<()> {
        let cfg = self.config();
        let cam = cfg.camera_id.as_str();
        let mut r = Reading::default();
        if wants.queue {
            r.queue = Some(store.counts(Some(cam)).await?.into());
            let rows = store
                .list(Some(cam), &[ClipState::Failed], cfg.failed_limit)
                .await?;
            r.failed = Some(
                rows.into_iter()
                    .map(|c| FailedClip {
                        clip: c.name,
                        reason: c.last_error,
                        attempts: c.attempts,
                    })
                    .collect(),
            );
        }
        if wants.pending {
            let rows = store
                .list(Some(cam), &[ClipState::Pending], u32::MAX)
                .await?;
            r.pending = Some(rows.into_iter().map(|c| (c.name, c.size)).collect());
        }
        if wants.full {
            self.read_full(store, &mut r).await?;
        }
        let archive = cfg.archive.clone();
        r.disk = tokio::task::spawn_blocking(move || read_disk(&archive))
            .await
            .ok();
        self.apply_reading(r);
        let persist = std::mem::take(&mut self.state().wants.persist);
        if (persist || wants.persist)
            && let Err(e) = self.persist().await
        {
            self.state().wants.persist = true;
            return Err(e);
        }
        Ok(())
    }

    /// Archive size, last cycles and the tail stages of the cycles finished
    /// since the last read (none on the first: those were observed by an
    /// earlier process, or never).
    async fn read_full(&self, store: &Store, r: &mut Reading) -> Result<()> {
        let cfg = self.config();
        let cam = cfg.camera_id.as_str();
        // The store's kept sums, not a read of every archived row (a year
        // of clips, each cycle of a `watch`).
        let counts = store.counts(Some(cam)).await?;
        let bytes = store.archived_bytes(Some(cam)).await?;
        r.archive = Some((bytes, counts.downloaded + counts.done));
        // This camera's, however many other cameras ran since.
        let ours = store.last_cycles_of(cam, cfg.cycles_limit).await?;
        let finished = ours
            .iter()
            .filter(|t| t.cycle.finished_at.is_some())
            .map(|t| t.cycle.id);
        let newest = finished.clone().max();
        let (primed, seen) = {
            let st = self.state();
            (st.stages_primed, st.observed_cycle)
        };
        if primed {
            let fresh: Vec<CycleId> = finished.filter(|id| seen.is_none_or(|s| *id > s)).collect();
            if !fresh.is_empty() {
                let mut archived = Vec::new();
                for id in &fresh {
                    archived.extend(store.archived_in_cycle(cam, *id).await?);
                }
                r.stages = stage_samples(&archived, &fresh);
            }
        }
        r.newest_cycle = newest;
        r.journey =
            Some(
                store
                    .journeys(Some(cam), None, 1)
                    .await?
                    .first()
                    .map(|j| JourneySummary {
                        started_at: rfc3339(j.start_ms),
                        ended_at: rfc3339(j.end_ms),
                        distance_m: j.distance_m,
                        from_place: j.from_place.clone(),
                        to_place: j.to_place.clone(),
                    }),
            );
        r.cycles = Some(
            ours.iter()
                .map(|t| {
                    let c = &t.cycle;
                    CycleReport {
                        id: c.id.0,
                        started_at: Some(rfc3339(c.started_at)),
                        finished_at: c.finished_at.map(rfc3339),
                        mode: c.mode.as_str().to_owned(),
                        outcome: c.outcome.map(|o| o.as_str().to_owned()),
                        clips: c.clips,
                        bytes: c.bytes,
                        failed: c.failed,
                        deferred: c.deferred,
                        note: c.note.clone(),
                        download_p50_ms: t.download.p50_ms,
                        gap_p50_ms: t.gap.p50_ms,
                    }
                })
                .collect(),
        );
        Ok(())
    }

    fn apply_reading(&self, r: Reading) {
        let m = &self.shared.metrics;
        let mut st = self.state();
        let now_ms = viofo_store::now_ms();
        if let Some(q) = r.queue {
            st.queue = q;
            for (state, n) in q.by_state() {
                m.queue
                    .get_or_create(&crate::metrics::StateLabel { state })
                    .set(gauge_value(n));
            }
            if q.failed == 0 {
                st.clear_sticky(StickyKind::ClipsFailed, m);
            } else {
                st.set_sticky(StickyKind::ClipsFailed, failed_message(q.failed), now_ms, m);
            }
        }
        if let Some(f) = r.failed {
            st.failed = f;
        }
        if let Some(p) = r.pending {
            st.set_pending(p, Instant::now());
        }
        if let Some(c) = &r.cycles {
            st.last_cycles.clone_from(c);
        }
        if let Some(j) = r.journey {
            st.last_journey = j;
        }
        if let Some((bytes, clips)) = r.archive {
            st.archive_bytes = bytes;
            st.archive_clips = clips;
            m.archive_bytes.set(gauge_value(bytes));
        }
        if r.cycles.is_some() {
            // Observed once: a concurrent refresh that got here first took
            // these cycles already.
            if st.stages_primed && r.newest_cycle > st.observed_cycle {
                for (stage, secs) in r.stages {
                    m.tail_stage
                        .get_or_create(&StageLabel { stage })
                        .observe(secs);
                }
            }
            st.stages_primed = true;
            st.observed_cycle = st.observed_cycle.max(r.newest_cycle);
        }
        if let Some((disk, problem)) = r.disk {
            if let Some(d) = &disk {
                m.disk_used.set(gauge_value(d.used_bytes));
                m.disk_size.set(gauge_value(d.total_bytes));
            }
            st.disk = disk;
            match problem {
                Some(p) => {
                    let msg = format!("archive folder {} {p}", st.archive.display());
                    st.set_sticky(StickyKind::ArchiveUnwritable, msg, now_ms, m);
                }
                None => st.clear_sticky(StickyKind::ArchiveUnwritable, m),
            }
        }
    }
}

/// The tail-stage durations (seconds) of the clips downloaded by `cycles`,
/// as the store's `timings` report defines each stage.
fn stage_samples(rows: &[ClipRow], cycles: &[CycleId]) -> Vec<(&'static str, f64)> {
    let span = |a: Option<i64>, b: Option<i64>| match (a, b) {
        #[allow(clippy::cast_precision_loss)]
        (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 1000.0),
        _ => None,
    };
    let mut out = Vec::new();
    for c in rows
        .iter()
        .filter(|c| c.cycle_id.is_some_and(|id| cycles.contains(&id)))
    {
        let t = &c.times;
        let stages = [
            ("tail_wait", span(t.tail_submitted_at, t.tail_started_at)),
            ("gps", span(t.tail_started_at, t.gps_finished_at)),
            (
                "delete",
                span(
                    t.gps_finished_at.or(t.tail_started_at),
                    t.delete_finished_at,
                ),
            ),
            ("tail_run", span(t.tail_started_at, t.tail_finished_at)),
            ("tail_total", span(t.tail_submitted_at, t.tail_finished_at)),
        ];
        out.extend(stages.into_iter().filter_map(|(s, v)| Some((s, v?))));
    }
    out
}

/// The archive's filesystem and what keeps the archive from being written
/// (without writing to it: the pipeline's own check writes a probe file).
fn read_disk(archive: &Path) -> (Option<DiskStatus>, Option<String>) {
    let problem = match std::fs::metadata(archive) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("does not exist".to_owned()),
        Err(e) => Some(format!("cannot be read: {e}")),
        Ok(m) if !m.is_dir() => Some("is not a folder".to_owned()),
        Ok(_) => rustix::fs::access(archive, rustix::fs::Access::WRITE_OK)
            .err()
            .map(|e| format!("cannot be written: {}", std::io::Error::from(e))),
    };
    let disk = DiskSpace::of(archive).ok().map(|d| DiskStatus {
        total_bytes: d.total,
        used_bytes: d.used,
        available_bytes: d.available(),
        used_percent: d.used_percent(),
        read_at: rfc3339(viofo_store::now_ms()),
    });
    (disk, problem)
}
