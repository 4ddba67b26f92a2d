//! The dry run: what a sync would do, touching nothing.

use std::collections::HashSet;
use std::path::PathBuf;

use viofo_client::Recording;
use viofo_store::ClipState;

use super::convert::{archive_index, recorded_at_from_name, store_channel};
use super::listing::newest_per_channel;
use super::{Syncer, now_utc_naive};
use crate::disk::DiskSpace;
use crate::retention;
use crate::{Error, Result};

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

impl Syncer {
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
