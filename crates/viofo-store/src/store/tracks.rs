//! The track API: storing a clip's GPS track (from triage or from the
//! downloaded file), reading it back, and the next clip still to triage.

use sqlx::Row;

use super::ack::{Ack, out_track};
use super::rows::to_u64;
use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::types::{
    ClipId, ClipRow, Filter, GpsSummary, MAX_NO_TRACK_LEN, MAX_TRACK_MODE_LEN, Policy, SetTrack,
    Track, TrackRow, TrackSource, cut, decode_points, encode_points,
};
use crate::writer::Op;

impl Store {
    /// Stores a clip's track, one per clip (an upsert): a
    /// [`TrackSource::File`] track replaces whatever is stored; a
    /// [`TrackSource::Triage`] track replaces a triage track but never a
    /// file track (resolves to [`SetTrack::KeptFileTrack`] then). A track
    /// with no fixes and a [`Track::no_track`] reason records that none was
    /// found, so a triage is not tried again while the clip keeps its size.
    ///
    /// Refused with [`Error::is_invalid_input`] for more than
    /// [`MAX_TRACK_POINTS`](crate::MAX_TRACK_POINTS) fixes (before anything
    /// is queued), and with [`Error::is_not_found`] for an unknown clip.
    /// `mode` and `no_track` are cut to their caps. Any clip state.
    pub fn set_track(&self, id: ClipId, mut track: Track) -> Ack<SetTrack> {
        let data = match encode_points(&track.points) {
            Ok(d) => d,
            Err(e) => return self.refuse_as(e, "recording a GPS track", Some(id), out_track),
        };
        track.mode = track.mode.map(|m| cut(m, MAX_TRACK_MODE_LEN));
        track.no_track = track.no_track.map(|r| cut(r, MAX_NO_TRACK_LEN));
        self.send(
            Op::SetTrack {
                id,
                track: Box::new(track),
                data,
                at: now_ms(),
            },
            out_track,
        )
    }

    /// A clip's stored track, if it has one.
    pub async fn track(&self, id: ClipId) -> Result<Option<TrackRow>> {
        let row = sqlx::query("SELECT * FROM tracks WHERE clip_id = ?")
            .bind(id.0)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)?;
        let Some(r) = row else { return Ok(None) };
        let g = |e: sqlx::Error| Error::db(e);
        let source: String = r.try_get("source").map_err(g)?;
        let points: i64 = r.try_get("points").map_err(g)?;
        let bbox: [Option<f64>; 4] = [
            r.try_get("min_lon").map_err(g)?,
            r.try_get("min_lat").map_err(g)?,
            r.try_get("max_lon").map_err(g)?,
            r.try_get("max_lat").map_err(g)?,
        ];
        let data: Vec<u8> = r.try_get("data").map_err(g)?;
        let summary = GpsSummary {
            points: u32::try_from(points.max(0)).unwrap_or(u32::MAX),
            first_fix_ms: r.try_get("first_fix_ms").map_err(g)?,
            last_fix_ms: r.try_get("last_fix_ms").map_err(g)?,
            distance_m: r.try_get("distance_m").map_err(g)?,
            bbox: match bbox {
                [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
                _ => None,
            },
            max_speed_mps: r.try_get("max_speed_mps").map_err(g)?,
        };
        Ok(Some(TrackRow {
            clip_id: id,
            track: Track {
                source: TrackSource::parse(&source)?,
                mode: r.try_get("mode").map_err(g)?,
                clip_size: to_u64(r.try_get("clip_size").map_err(g)?),
                summary,
                points: decode_points(&data)?,
                no_track: r.try_get("no_track").map_err(g)?,
            },
            stored_at: r.try_get("stored_at").map_err(g)?,
        }))
    }

    /// The next pending clip of `camera_id` still to triage, in the order
    /// [`next_pending_at`](Self::next_pending_at) gives under the same
    /// `policy` and `filter`: one without a track, or with a triage track
    /// (or a "no track" record) taken when the clip had another size. A
    /// clip with a file track is never offered.
    pub async fn next_untriaged_at(
        &self,
        camera_id: &str,
        policy: Policy,
        filter: &Filter<'_>,
        now_ms: i64,
    ) -> Result<Option<ClipRow>> {
        self.first_pending(camera_id, policy, filter, now_ms, true)
            .await
    }
}
