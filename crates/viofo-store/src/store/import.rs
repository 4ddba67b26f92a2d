//! The import API: clips copied into the archive from an SD card or a
//! folder (not downloaded from the camera), recorded `done` with source
//! `import` in one transaction per batch.

use std::path::PathBuf;

use super::ack::{Ack, out_count};
use super::{Store, now_ms};
use crate::error::{Error, Result};
use crate::types::{
    ClipId, GpsSummary, ListedClip, MAX_NO_TRACK_LEN, MAX_TRACK_MODE_LEN, Track, cut, encode_points,
};
use crate::writer::{ImportInput, ImportRow, Op};

/// One clip copied into the archive by an import, durable under its final
/// name before it is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedClip {
    /// The clip as a listing would describe it (name, the camera path it
    /// had on the card, size, locked, parking, channel, recording time).
    pub clip: ListedClip,
    /// Where it is in the archive.
    pub local_path: PathBuf,
    /// Its size there (the verified copy's).
    pub local_size: u64,
    /// The GPS summary, when a track was extracted.
    pub gps: Option<GpsSummary>,
    /// The track to store (source `file`), if any.
    pub track: Option<Track>,
}

impl Store {
    /// Records a batch of imported clips for `camera_id` in one
    /// transaction: each is inserted, or its row (whatever its state)
    /// updated, as `done` with source `import`, its archive path and size,
    /// its GPS summary and track. All or none: one clip refused (a path
    /// that is not UTF-8, a track with too many fixes) refuses the batch.
    /// Resolves to the number of clips recorded, once durable.
    pub fn record_imports(&self, camera_id: &str, clips: Vec<ImportedClip>) -> Ack<u64> {
        let mut rows = Vec::with_capacity(clips.len());
        for mut clip in clips {
            let path = match crate::writer::path_text(&clip.local_path) {
                Ok(p) => p,
                Err(e) => return self.refuse_as(e, "recording imported clips", None, out_count),
            };
            let track = match clip.track.take() {
                None => None,
                Some(mut t) => match encode_points(&t.points) {
                    Ok(data) => {
                        t.mode = t.mode.map(|m| cut(m, MAX_TRACK_MODE_LEN));
                        t.no_track = t.no_track.map(|r| cut(r, MAX_NO_TRACK_LEN));
                        Some((t, data))
                    }
                    Err(e) => {
                        return self.refuse_as(e, "recording imported clips", None, out_count);
                    }
                },
            };
            rows.push(ImportRow {
                clip,
                local_path: path,
                track,
            });
        }
        let input = ImportInput {
            camera_id: camera_id.to_owned(),
            clips: rows,
            now: now_ms(),
        };
        self.send(Op::RecordImports(Box::new(input)), out_count)
    }

    /// Where a clip's archived copy came from: `"camera"` (a sync) or
    /// `"import"`; `None` for an unknown clip.
    pub async fn clip_source(&self, id: ClipId) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT source FROM clips WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.inner.read)
            .await
            .map_err(Error::db)
    }
}
