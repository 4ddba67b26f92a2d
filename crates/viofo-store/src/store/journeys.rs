//! The journey API: replacing a camera's journeys over a time range (one
//! writer transaction), listing them, one journey's clips, and the clips
//! with their tracks that journeys are computed from.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::ack::{Ack, out_count};
use super::rows::{CLIP_COLUMNS, clip_from_row, to_u64};
use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::types::{
    Channel, ClipId, ClipPoints, ClipRow, ClipState, ClipTrack, JourneyId, JourneyLink, JourneyRow,
    LinkFacts, NewJourney, channels_from_json, decode_points,
};
use crate::writer::{Op, ReplaceInput};

/// Widest camera clock offset from UTC a recording time may carry, ms
/// (UTC−12 to UTC+14 with a margin).
const MAX_CLOCK_OFFSET_MS: i64 = 15 * 3_600_000;

/// The journey columns, with the downloaded bytes read from the clips.
/// Longest span of one clip's fixes that [`Store::clip_tracks`] finds by
/// the fixes (a day: a clip lasts minutes).
const MAX_TRACK_SPAN_MS: i64 = 86_400_000;

/// The clips [`Store::clip_tracks`] reads: ?1 the camera, ?2..?3 the
/// recording times, ?4..?5 the fixes, ?6 the earliest first fix.
const CLIPS_AROUND: &str = "camera_id = ?1 AND id IN (SELECT id FROM clips \
    WHERE camera_id = ?1 AND recorded_at BETWEEN ?2 AND ?3 \
    UNION SELECT clip_id FROM tracks WHERE first_fix_ms BETWEEN ?6 AND ?5 AND last_fix_ms >= ?4)";

const JOURNEY_SELECT: &str = "SELECT j.*, (SELECT COALESCE(SUM(c.size), 0) FROM journey_clips jc \
    JOIN clips c ON c.id = jc.clip_id WHERE jc.journey_id = j.id \
    AND c.state IN ('downloaded', 'done', 'pruned')) AS downloaded_bytes FROM journeys j";

/// A link as [`Store::journey_links`] reads it: clip, journey, fixes and
/// size then, size now, fixes now.
type LinkRow = (i64, i64, Option<i64>, Option<i64>, i64, bool);

fn pos(r: &SqliteRow, lat: &str, lon: &str) -> Result<Option<(f64, f64)>> {
    let g = |e: sqlx::Error| Error::db(e);
    let a: Option<f64> = r.try_get(lat).map_err(g)?;
    let b: Option<f64> = r.try_get(lon).map_err(g)?;
    Ok(a.zip(b))
}

fn journey_from_row(r: &SqliteRow) -> Result<JourneyRow> {
    let g = |e: sqlx::Error| Error::db(e);
    let clips: i64 = r.try_get("clips").map_err(g)?;
    let channels: String = r.try_get("channels").map_err(g)?;
    Ok(JourneyRow {
        id: JourneyId(r.try_get("id").map_err(g)?),
        camera_id: r.try_get("camera_id").map_err(g)?,
        start_ms: r.try_get("start_ms").map_err(g)?,
        end_ms: r.try_get("end_ms").map_err(g)?,
        start_pos: pos(r, "start_lat", "start_lon")?,
        end_pos: pos(r, "end_lat", "end_lon")?,
        from_place: r.try_get("from_place").map_err(g)?,
        to_place: r.try_get("to_place").map_err(g)?,
        distance_m: r.try_get("distance_m").map_err(g)?,
        moving_ms: r.try_get("moving_ms").map_err(g)?,
        max_speed_mps: r.try_get("max_speed_mps").map_err(g)?,
        clips: u32::try_from(clips.max(0)).unwrap_or(u32::MAX),
        channels: channels_from_json(&channels),
        bytes: to_u64(r.try_get("bytes").map_err(g)?),
        downloaded_bytes: to_u64(r.try_get("downloaded_bytes").map_err(g)?),
        gpx_path: r.try_get("gpx_path").map_err(g)?,
        updated_at: r.try_get("updated_at").map_err(g)?,
    })
}

impl Store {
    /// Replaces `camera_id`'s journeys that overlap `from_ms..=to_ms` (UTC
    /// ms) with `journeys`, in one transaction: the old ones and their
    /// clips' links go, the new ones are inserted and each of their clips
    /// linked to them (a clip of another camera is not linked). A new
    /// journey keeps the id of the old one it shares the most clips with
    /// (each old id goes to one new journey), so a journey keeps its id as
    /// it grows; the others get new ids. Resolves to the number inserted.
    pub fn replace_journeys(
        &self,
        camera_id: &str,
        from_ms: i64,
        to_ms: i64,
        journeys: Vec<NewJourney>,
    ) -> Ack<u64> {
        self.send(
            Op::ReplaceJourneys(Box::new(ReplaceInput {
                camera_id: camera_id.to_owned(),
                from_ms,
                to_ms,
                journeys,
                at: now_ms(),
            })),
            out_count,
        )
    }

    /// Journeys of one camera (or all), newest first: those ending at or
    /// after `since_ms` (UTC ms) when given, at most `limit`.
    pub async fn journeys(
        &self,
        camera_id: Option<&str>,
        since_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<JourneyRow>> {
        let sql = format!(
            "{JOURNEY_SELECT} WHERE (?1 IS NULL OR j.camera_id = ?1) \
             AND (?2 IS NULL OR j.end_ms >= ?2) ORDER BY j.start_ms DESC, j.id DESC LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(camera_id)
            .bind(since_ms)
            .bind(i64::from(limit))
            .fetch_all(self.read_pool())
            .await
            .map_err(Error::db)?;
        rows.iter().map(journey_from_row).collect()
    }

    /// `camera_id`'s journeys overlapping `from_ms..=to_ms` (UTC ms),
    /// oldest first.
    pub async fn journeys_between(
        &self,
        camera_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<JourneyRow>> {
        let sql = format!(
            "{JOURNEY_SELECT} WHERE j.camera_id = ?1 AND j.start_ms <= ?3 AND j.end_ms >= ?2 \
             ORDER BY j.start_ms ASC, j.id ASC"
        );
        let rows = sqlx::query(&sql)
            .bind(camera_id)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(self.read_pool())
            .await
            .map_err(Error::db)?;
        rows.iter().map(journey_from_row).collect()
    }

    /// One journey by id.
    pub async fn journey(&self, id: JourneyId) -> Result<Option<JourneyRow>> {
        let sql = format!("{JOURNEY_SELECT} WHERE j.id = ?");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.read_pool())
            .await
            .map_err(Error::db)?;
        row.as_ref().map(journey_from_row).transpose()
    }

    /// A journey's clips with their states, in recording order (channels
    /// of one moment together).
    pub async fn journey_clips(&self, id: JourneyId) -> Result<Vec<ClipRow>> {
        let sql = format!(
            "SELECT {CLIP_COLUMNS} FROM clips WHERE id IN \
             (SELECT clip_id FROM journey_clips WHERE journey_id = ?) \
             ORDER BY recorded_at ASC NULLS LAST, channel ASC, name ASC"
        );
        let rows = sqlx::query(&sql)
            .bind(id.0)
            .fetch_all(self.read_pool())
            .await
            .map_err(Error::db)?;
        rows.iter().map(clip_from_row).collect()
    }

    /// The links of those of `ids` that are in a journey, with what each
    /// was taken in with and what it has now (a stored track with fixes,
    /// its size): one indexed lookup per clip, whatever the journey's
    /// length.
    pub async fn journey_links(&self, ids: &[ClipId]) -> Result<Vec<JourneyLink>> {
        let list = serde_json::Value::from(ids.iter().map(|c| c.0).collect::<Vec<_>>());
        let rows: Vec<LinkRow> = sqlx::query_as(
            "SELECT jc.clip_id, jc.journey_id, jc.fixes, jc.size, c.size, \
             EXISTS (SELECT 1 FROM tracks t WHERE t.clip_id = c.id AND t.no_track IS NULL \
             AND length(t.data) > 0) \
             FROM journey_clips jc JOIN clips c ON c.id = jc.clip_id \
             WHERE jc.clip_id IN (SELECT value FROM json_each(?))",
        )
        .bind(list.to_string())
        .fetch_all(self.read_pool())
        .await
        .map_err(Error::db)?;
        Ok(rows
            .into_iter()
            .map(
                |(clip, journey, fixes, size, size_now, fixes_now)| JourneyLink {
                    clip: ClipId(clip),
                    journey: JourneyId(journey),
                    then: fixes.zip(size).map(|(f, s)| LinkFacts {
                        fixes: f != 0,
                        size: to_u64(s),
                    }),
                    now: LinkFacts {
                        fixes: fixes_now,
                        size: to_u64(size_now),
                    },
                },
            )
            .collect())
    }

    /// `columns` and the stored fixes (`track_data`) of `camera_id`'s
    /// clips that may fall within `from_ms..=to_ms` (see
    /// [`clip_tracks`](Self::clip_tracks)), oldest recording first.
    async fn clips_around(
        &self,
        columns: &str,
        camera_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SqliteRow>> {
        let sql = format!(
            "SELECT {columns}, (SELECT t.data FROM tracks t WHERE t.clip_id = clips.id \
             AND t.no_track IS NULL) AS track_data FROM clips WHERE {CLIPS_AROUND} \
             ORDER BY recorded_at ASC NULLS LAST, name ASC"
        );
        sqlx::query(&sql)
            .bind(camera_id)
            .bind(from_ms.saturating_sub(MAX_CLOCK_OFFSET_MS))
            .bind(to_ms.saturating_add(MAX_CLOCK_OFFSET_MS))
            .bind(from_ms)
            .bind(to_ms)
            .bind(from_ms.saturating_sub(MAX_TRACK_SPAN_MS))
            .fetch_all(self.read_pool())
            .await
            .map_err(Error::db)
    }

    /// [`clip_tracks`](Self::clip_tracks) with only what journey
    /// detection reads of each clip ([`ClipPoints`]): the same clips, in
    /// the same order.
    pub async fn clip_points(
        &self,
        camera_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ClipPoints>> {
        let rows = self
            .clips_around(
                "id, name, channel, parking, recorded_at, size, state",
                camera_id,
                from_ms,
                to_ms,
            )
            .await?;
        let g = |e: sqlx::Error| Error::db(e);
        rows.iter()
            .map(|r| {
                let data: Option<Vec<u8>> = r.try_get("track_data").map_err(g)?;
                let channel: String = r.try_get("channel").map_err(g)?;
                let state: String = r.try_get("state").map_err(g)?;
                Ok(ClipPoints {
                    id: ClipId(r.try_get("id").map_err(g)?),
                    name: r.try_get("name").map_err(g)?,
                    channel: Channel::from_code(&channel),
                    parking: r.try_get("parking").map_err(g)?,
                    recorded_at: r.try_get("recorded_at").map_err(g)?,
                    size: u64::try_from(r.try_get::<i64, _>("size").map_err(g)?).unwrap_or(0),
                    state: ClipState::parse(&state)?,
                    points: data
                        .as_deref()
                        .map(decode_points)
                        .transpose()?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// `camera_id`'s clips that may fall within `from_ms..=to_ms` (UTC
    /// ms), with their stored fixes (empty without a track): those whose
    /// track overlaps the range, and those whose recording time (the
    /// camera's wall clock, in an offset not known here) lies within the
    /// range widened by 15 hours each way. Oldest recording first. The
    /// caller places clips without a fix itself. Both are ranges of an
    /// index (migration 0012): the cost follows the range, not the store.
    /// A track is found by its first fix, so one whose fixes span more than
    /// a day (a clip lasts minutes) is found by its
    /// recording time only.
    pub async fn clip_tracks(
        &self,
        camera_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ClipTrack>> {
        let rows = self
            .clips_around(CLIP_COLUMNS, camera_id, from_ms, to_ms)
            .await?;
        rows.iter()
            .map(|r| {
                let data: Option<Vec<u8>> = r.try_get("track_data").map_err(Error::db)?;
                Ok(ClipTrack {
                    clip: clip_from_row(r)?,
                    points: data
                        .as_deref()
                        .map(decode_points)
                        .transpose()?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}
