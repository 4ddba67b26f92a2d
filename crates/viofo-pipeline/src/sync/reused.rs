//! Finds a card reused under archived names (formatted, or its clock reset)
//! while the archived clips were still listed: with deletes off nothing
//! else compares their bytes, and the new recordings would be taken for
//! the archived ones and never downloaded.
//!
//! Each cycle's first listing compares the oldest listed clip that the
//! archive holds under its name and size (its last 64 KiB, one Range
//! request: see [`same_bytes`](super::same_bytes); its first 64 KiB where
//! the camera ignores `Range`, the rest of the body left unread). Only when that one
//! differs is every other such clip compared, once: each recording found
//! to differ supersedes the archived row, and the listing is reconciled
//! again, so the camera's clip is a new row downloaded this cycle beside
//! the archived one (append-only: the archived file is never replaced).

use viofo_client::Recording;
use viofo_store::{ClipRow, ClipState};

use super::Syncer;
use crate::Result;

/// How many of the oldest listed clips are looked up for the one to
/// compare (a first sync lists thousands of clips the archive lacks).
const LOOKUPS: usize = 8;

/// The archived row that the listed `rec` would be taken for: the current
/// row of its name, archived (its file in place) at the listed size.
fn taken_for(row: Option<ClipRow>, rec: &Recording) -> Option<ClipRow> {
    let row = row?;
    let size = rec.size().bytes();
    let archived = matches!(row.state, ClipState::Done | ClipState::Downloaded)
        && row.local_path.is_some()
        && row.local_size == Some(size)
        && row.size == size;
    archived.then_some(row)
}

impl Syncer {
    /// Compares the oldest listed clip the archive holds with the archived
    /// copy and, when they differ, every other one (see the module).
    /// Returns how many rows it superseded.
    pub(super) async fn find_reused(&self, recordings: &[Recording]) -> Result<usize> {
        let s = &*self.inner;
        let id = &s.cfg.camera_id;
        let mut oldest: Vec<&Recording> = recordings.iter().collect();
        oldest.sort_by(|a, b| a.file_name().as_str().cmp(b.file_name().as_str()));
        let mut sentinel = None;
        for rec in oldest.iter().take(LOOKUPS) {
            let row = s.store.get_by_name(id, rec.file_name().as_str()).await?;
            if let Some(row) = taken_for(row, rec) {
                sentinel = Some((*rec, row));
                break;
            }
        }
        let Some((rec, row)) = sentinel else {
            return Ok(0);
        };
        if !self.differs(rec, &row).await {
            return Ok(0);
        }
        // The card was reused: every clip taken for an archived one is
        // compared (once: the rows found to differ are superseded).
        let mut superseded = 0;
        for rec in oldest {
            let row = s.store.get_by_name(id, rec.file_name().as_str()).await?;
            if let Some(row) = taken_for(row, rec)
                && self.differs(rec, &row).await
            {
                s.store.supersede(row.id).await?;
                superseded += 1;
            }
        }
        tracing::warn!(
            "the camera's card was reused (formatted, or its clock reset): {superseded} new \
             recording(s) under archived names and sizes with other bytes; archived beside \
             the old ones"
        );
        Ok(superseded)
    }

    /// The camera's `rec` is another recording than `row`'s archived file:
    /// its last bytes differ, or its first where the camera ignores
    /// `Range`. Not known (a read failed): not taken as different.
    async fn differs(&self, rec: &Recording, row: &ClipRow) -> bool {
        let Some(path) = row.local_path.as_deref() else {
            return false;
        };
        let client = &self.inner.client;
        let size = rec.size().bytes();
        let same = match super::same_bytes::check(client, rec, path, size).await {
            Ok(Some(same)) => Ok(same),
            Ok(None) => super::same_bytes::check_head(client, rec, path, size).await,
            Err(e) => Err(e),
        };
        match same {
            Ok(same) => !same,
            Err(e) => {
                tracing::debug!("{}: not compared with the archive ({e})", row.name);
                false
            }
        }
    }
}
