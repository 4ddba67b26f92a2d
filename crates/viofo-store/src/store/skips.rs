//! Skipped clips: a pending clip with a skip reason ("parked at Home") is
//! passed over by the download and triage queues until the reason is
//! cleared. The store keeps the reason; the pipeline decides it.

use sqlx::Row;

use super::Store;
use super::ack::{Ack, out_count};
use super::rows::{CLIP_COLUMNS, clip_from_row, to_u64};
use crate::error::{Error, Result};
use crate::types::{ClipId, ClipRow, MAX_NO_TRACK_LEN, cut};
use crate::writer::Op;

impl Store {
    /// Marks a pending clip skipped with `reason` (cut to
    /// [`MAX_NO_TRACK_LEN`] bytes), or clears a clip's reason (`None`, any
    /// state). Resolves to whether the clip has that reason now: `false`
    /// when a reason was not set because the clip is no longer pending (a
    /// download took it meanwhile). [`Error::is_not_found`] for an unknown
    /// clip. A skipped clip stays `pending` in [`ClipRow::state`], with
    /// [`ClipRow::skip_reason`] set, and is counted in
    /// [`StateCounts::skipped`](crate::StateCounts::skipped).
    pub fn set_skip(&self, id: ClipId, reason: Option<String>) -> Ack<bool> {
        self.send(
            Op::SetSkip {
                id,
                reason: reason.map(|r| cut(r, MAX_NO_TRACK_LEN)),
            },
            |o| out_count(o).map(|n| n > 0),
        )
    }

    /// The pending parking clips of `camera_id` whose skip is to be
    /// decided: those with a stored track with fixes, and those skipped
    /// now (whatever their track), oldest recording first.
    pub async fn skip_candidates(&self, camera_id: &str) -> Result<Vec<ClipRow>> {
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE camera_id = ? AND state = 'pending' \
             AND parking = 1 AND (skip_reason IS NOT NULL OR EXISTS (SELECT 1 FROM tracks t \
             WHERE t.clip_id = clips.id AND t.points > 0)) \
             ORDER BY recorded_at ASC NULLS LAST, name ASC"
        );
        let rows = sqlx::query(&sql)
            .bind(camera_id)
            .fetch_all(self.read_pool())
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// How many clips are skipped now, per reason, of one camera or all,
    /// most first (then by reason).
    pub async fn skipped_by_reason(&self, camera_id: Option<&str>) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT skip_reason, COUNT(*) AS n FROM clips WHERE state = 'pending' \
             AND skip_reason IS NOT NULL AND (?1 IS NULL OR camera_id = ?1) \
             GROUP BY skip_reason ORDER BY n DESC, skip_reason ASC",
        )
        .bind(camera_id)
        .fetch_all(self.read_pool())
        .await
        .map_err(Error::db)?;
        rows.iter()
            .map(|r| {
                let reason: String = r.try_get("skip_reason").map_err(Error::db)?;
                let n: i64 = r.try_get("n").map_err(Error::db)?;
                Ok((reason, to_u64(n)))
            })
            .collect()
    }

    /// The clips (of one camera or all, any state) whose stored track has
    /// fixes and a bounding box inside `[min_lon, min_lat, max_lon,
    /// max_lat]` (degrees, edges included): the candidates for "every fix
    /// lies in this place", to be checked fix by fix with
    /// [`track`](Self::track).
    pub async fn tracks_within(
        &self,
        camera_id: Option<&str>,
        bbox: [f64; 4],
    ) -> Result<Vec<ClipId>> {
        let [min_lon, min_lat, max_lon, max_lat] = bbox;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT t.clip_id FROM tracks t JOIN clips c ON c.id = t.clip_id \
             WHERE t.points > 0 AND (?1 IS NULL OR c.camera_id = ?1) \
             AND t.min_lon >= ?2 AND t.min_lat >= ?3 AND t.max_lon <= ?4 AND t.max_lat <= ?5 \
             ORDER BY t.clip_id",
        )
        .bind(camera_id)
        .bind(min_lon)
        .bind(min_lat)
        .bind(max_lon)
        .bind(max_lat)
        .fetch_all(self.read_pool())
        .await
        .map_err(Error::db)?;
        Ok(ids.into_iter().map(ClipId).collect())
    }
}
