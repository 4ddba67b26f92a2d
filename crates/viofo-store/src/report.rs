//! The queries behind the `timings` report.

use sqlx::Row;

use crate::error::{Error, Result};
use crate::store::{Store, cycle_from_row};
use crate::types::{CycleId, CycleMode, CycleRow, StageTimes};

/// Distribution of one stage's durations (ms) within a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageStats {
    /// Samples (clips with both timestamps of the stage).
    pub count: usize,
    /// Median, nearest-rank.
    pub p50_ms: Option<i64>,
    /// 95th percentile, nearest-rank.
    pub p95_ms: Option<i64>,
    /// Largest sample.
    pub max_ms: Option<i64>,
}

impl StageStats {
    /// Stats over unsorted samples.
    pub fn from_samples(mut v: Vec<i64>) -> Self {
        v.sort_unstable();
        Self {
            count: v.len(),
            p50_ms: percentile(&v, 50.0),
            p95_ms: percentile(&v, 95.0),
            max_ms: v.last().copied(),
        }
    }
}

/// Nearest-rank percentile of sorted samples: the value at rank
/// `ceil(p / 100 * n)` (1-based). `None` when empty.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (p / 100.0 * n as f64).ceil();
    let idx = if rank.is_nan() || rank < 1.0 {
        0
    } else if rank >= n as f64 {
        n - 1
    } else {
        // In range 1..n: fits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let r = rank as usize;
        r - 1
    };
    sorted.get(idx).copied()
}

/// Per-cycle timing summary. Durations in ms:
///
/// | field | from | to |
/// |---|---|---|
/// | `download` | download_started_at | download_finished_at |
/// | `tail_wait` | tail_submitted_at | tail_started_at |
/// | `gps` | tail_started_at | gps_finished_at |
/// | `delete` | gps_finished_at (else tail_started_at) | delete_finished_at |
/// | `tail_run` | tail_started_at | tail_finished_at |
/// | `tail_total` | tail_submitted_at | tail_finished_at |
/// | `gap` | one download's finish | the next download's start (clips ordered by start) |
///
/// `tail_busy_ms` sums `tail_run`; `tail_overlap_ms` is the part of it
/// that overlapped the union of the cycle's download intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleTimings {
    /// The cycle.
    pub cycle: CycleRow,
    /// Clips that record this cycle as theirs.
    pub clips: usize,
    /// Download durations.
    pub download: StageStats,
    /// Wait for a tail worker.
    pub tail_wait: StageStats,
    /// GPS extraction.
    pub gps: StageStats,
    /// Camera delete.
    pub delete: StageStats,
    /// Tail work, started to finished.
    pub tail_run: StageStats,
    /// Tail, submitted to finished.
    pub tail_total: StageStats,
    /// Idle link time between consecutive downloads.
    pub gap: StageStats,
    /// Total tail work time.
    pub tail_busy_ms: i64,
    /// Tail work time that overlapped a download.
    pub tail_overlap_ms: i64,
}

impl CycleTimings {
    /// `tail_overlap_ms / tail_busy_ms`, if there was tail work.
    pub fn overlap_fraction(&self) -> Option<f64> {
        (self.tail_busy_ms > 0).then(|| self.tail_overlap_ms as f64 / self.tail_busy_ms as f64)
    }

    /// Computes the summary from the cycle's clips' timestamps. Pure.
    pub fn compute(cycle: CycleRow, times: &[StageTimes]) -> Self {
        let span = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let collect = |f: &dyn Fn(&StageTimes) -> Option<i64>| {
            StageStats::from_samples(times.iter().filter_map(f).collect())
        };
        let download = collect(&|t| span(t.download_started_at, t.download_finished_at));
        let tail_wait = collect(&|t| span(t.tail_submitted_at, t.tail_started_at));
        let gps = collect(&|t| span(t.tail_started_at, t.gps_finished_at));
        let delete = collect(&|t| {
            span(
                t.gps_finished_at.or(t.tail_started_at),
                t.delete_finished_at,
            )
        });
        let tail_run = collect(&|t| span(t.tail_started_at, t.tail_finished_at));
        let tail_total = collect(&|t| span(t.tail_submitted_at, t.tail_finished_at));

        let mut downloads: Vec<(i64, i64)> = times
            .iter()
            .filter_map(|t| Some((t.download_started_at?, t.download_finished_at?)))
            .collect();
        downloads.sort_unstable();
        let gaps: Vec<i64> = downloads
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => Some(b.0.saturating_sub(a.1)),
                _ => None,
            })
            .collect();
        let gap = StageStats::from_samples(gaps);

        // Union of download intervals, disjoint and sorted.
        let mut union: Vec<(i64, i64)> = Vec::with_capacity(downloads.len());
        for &(s, f) in &downloads {
            if f < s {
                continue;
            }
            match union.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(f),
                _ => union.push((s, f)),
            }
        }
        let mut busy = 0i64;
        let mut overlap = 0i64;
        for t in times {
            let (Some(ts), Some(tf)) = (t.tail_started_at, t.tail_finished_at) else {
                continue;
            };
            if tf < ts {
                continue;
            }
            busy = busy.saturating_add(tf - ts);
            let first = union.partition_point(|&(_, f)| f <= ts);
            for &(s, f) in union.iter().skip(first) {
                if s >= tf {
                    break;
                }
                overlap = overlap.saturating_add(tf.min(f) - ts.max(s));
            }
        }
        CycleTimings {
            cycle,
            clips: times.len(),
            download,
            tail_wait,
            gps,
            delete,
            tail_run,
            tail_total,
            gap,
            tail_busy_ms: busy,
            tail_overlap_ms: overlap,
        }
    }
}

impl Store {
    /// Timing summary of one cycle.
    pub async fn cycle_timings(&self, id: CycleId) -> Result<Option<CycleTimings>> {
        let Some(cycle) = self.cycle(id).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT listed_at, download_started_at, download_finished_at, tail_submitted_at, \
             tail_started_at, gps_finished_at, delete_finished_at, tail_finished_at \
             FROM clips WHERE cycle_id = ?",
        )
        .bind(id.0)
        .fetch_all(self.read_pool())
        .await
        .map_err(Error::db)?;
        let mut times = Vec::with_capacity(rows.len());
        for r in rows {
            let g = |c: &str| r.try_get::<Option<i64>, _>(c).map_err(Error::db);
            times.push(StageTimes {
                listed_at: g("listed_at")?,
                download_started_at: g("download_started_at")?,
                download_finished_at: g("download_finished_at")?,
                tail_submitted_at: g("tail_submitted_at")?,
                tail_started_at: g("tail_started_at")?,
                gps_finished_at: g("gps_finished_at")?,
                delete_finished_at: g("delete_finished_at")?,
                tail_finished_at: g("tail_finished_at")?,
            });
        }
        Ok(Some(CycleTimings::compute(cycle, &times)))
    }

    /// The last `n` cycles (newest first), with their timing summaries.
    pub async fn last_cycles(&self, n: u32) -> Result<Vec<CycleTimings>> {
        self.last_cycles_where(None, n).await
    }

    /// The last `n` cycles of one camera (newest first), with their timing
    /// summaries: what `status` and the status page show for the camera
    /// asked about, whatever other cameras ran since.
    pub async fn last_cycles_of(&self, camera_id: &str, n: u32) -> Result<Vec<CycleTimings>> {
        self.last_cycles_where(Some(camera_id), n).await
    }

    /// The last `n` cycles of `camera_id`, or of every camera.
    async fn last_cycles_where(
        &self,
        camera_id: Option<&str>,
        n: u32,
    ) -> Result<Vec<CycleTimings>> {
        let rows = sqlx::query(
            "SELECT * FROM cycles WHERE (?1 IS NULL OR camera_id = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .bind(camera_id)
        .bind(i64::from(n))
        .fetch_all(self.read_pool())
        .await
        .map_err(Error::db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let c = cycle_from_row(&r)?;
            if let Some(t) = self.cycle_timings(c.id).await? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The most recent cycle run in `mode` (compare the last pipelined and
    /// the last inline cycle).
    pub async fn last_cycle_of_mode(&self, mode: CycleMode) -> Result<Option<CycleTimings>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM cycles WHERE mode = ? ORDER BY id DESC LIMIT 1")
                .bind(mode.as_str())
                .fetch_optional(self.read_pool())
                .await
                .map_err(Error::db)?;
        match id {
            Some(id) => self.cycle_timings(CycleId(id)).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<i64> = (1..=20).map(|x| x * 10).collect();
        assert_eq!(percentile(&v, 50.0), Some(100));
        assert_eq!(percentile(&v, 95.0), Some(190));
        assert_eq!(percentile(&v, 100.0), Some(200));
        assert_eq!(percentile(&[7], 95.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }
}
