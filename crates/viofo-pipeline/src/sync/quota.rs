//! The quota before a download: which clips the quota keeps (the newest
//! that fit, [`crate::retention::quota_keep`]), skipping a clip older than
//! all of them instead of downloading it only to prune it, and making room
//! for a kept one by removing older archived clips.

use std::collections::HashSet;
use std::path::PathBuf;

use time::PrimitiveDateTime;
use viofo_client::Recording;
use viofo_store::{ClipId, ClipRow, ClipState};

use super::convert::recorded_at_from_name;
use super::skips::filter_reason;
use super::{Cycle, Syncer};
use crate::retention::{
    OLDER_THAN_QUOTA_KEEPS, QuotaItem, QuotaKeep, QuotaVerdict, quota_keep, scan_to_depth,
};
use crate::{Error, Result};

/// The quota's view of the archive and the camera now.
pub(super) struct QuotaView {
    items: Vec<QuotaItem>,
    /// The store id of each waiting item (`None` for archived ones).
    ids: Vec<Option<ClipId>>,
    keep: QuotaKeep,
    /// Bytes of the archive's files and sidecars, those of clips not yet
    /// recorded left out (their reservations count them).
    archived: u64,
    /// Bytes of files in the archive that a reservation counts already.
    unrecorded: u64,
    reserved: u64,
}

/// What the quota says about the next download.
pub(super) enum Admit {
    /// Download it, these bytes reserved (0 without a quota).
    Go(u64),
    /// Skipped, with this reason.
    Skip(String),
}

impl Syncer {
    /// The quota's view now (`None` without a quota): the archive's files
    /// (every camera's, in a shared archive), this camera's clips waiting
    /// that the sync would download, and what the quota keeps. `current`
    /// is the clip about to be downloaded (it counts as waiting although
    /// it is marked in flight).
    pub(super) async fn quota_view(
        &self,
        cx: &Cycle,
        current: Option<ClipId>,
    ) -> Result<Option<QuotaView>> {
        let s = &*self.inner;
        let Some(quota) = s.cfg.retention.quota else {
            return Ok(None);
        };
        let snap = cx.snapshot();
        let locked: HashSet<String> = snap.locked_names();
        let (root, shared, clock) = (
            s.cfg.archive.clone(),
            s.cfg.shared_archive.clone(),
            s.cfg.camera_clock,
        );
        let scanned = tokio::task::spawn_blocking(move || {
            let is_locked = |n: &str| locked.contains(n);
            match &shared {
                Some(sh) => scan_to_depth(sh, 2, clock, &recorded_at_from_name, &is_locked),
                None => scan_to_depth(&root, 1, clock, &recorded_at_from_name, &is_locked),
            }
        })
        .await
        .map_err(|e| Error::io(std::io::Error::other(e)))?
        .map_err(Error::io)?;
        let cam = Some(s.cfg.camera_id.as_str());
        let unrecorded: HashSet<String> = s
            .store
            .list(cam, &[ClipState::Downloading], u32::MAX)
            .await?
            .into_iter()
            .map(|r| r.name)
            .collect();
        let waiting = s.store.list(cam, &[ClipState::Pending], u32::MAX).await?;
        let (in_flight, reserved, gone): (Vec<ClipId>, u64, Vec<PathBuf>) = {
            let st = cx.st();
            (
                st.picks.in_flight.clone(),
                st.quota_reserved,
                st.dry_pruned
                    .iter()
                    .flatten()
                    .map(|(p, _)| p.clone())
                    .collect(),
            )
        };
        let mut view = QuotaView {
            items: Vec::new(),
            ids: Vec::new(),
            keep: QuotaKeep {
                keep: Vec::new(),
                pinned: Vec::new(),
                locked_bytes: 0,
                newest_day_bytes: 0,
                newest: None,
                floor: None,
            },
            archived: 0,
            unrecorded: 0,
            reserved,
        };
        for c in scanned {
            let bytes = c.size.saturating_add(c.sidecar_bytes);
            if gone.contains(&c.path) {
                continue;
            }
            let name = c
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if unrecorded.contains(&name) && c.path.starts_with(&s.cfg.archive) {
                view.unrecorded = view.unrecorded.saturating_add(bytes);
                continue;
            }
            view.archived = view.archived.saturating_add(bytes);
            view.items.push(QuotaItem {
                name,
                recorded_at: c.recorded_at,
                bytes,
                archived: true,
                locked: c.locked,
            });
            view.ids.push(None);
        }
        for r in waiting {
            if Some(r.id) != current && in_flight.contains(&r.id) {
                continue;
            }
            if r.skip_reason
                .as_deref()
                .is_some_and(|w| w != OLDER_THAN_QUOTA_KEEPS)
                || filter_reason(&s.cfg, &r).is_some()
            {
                continue;
            }
            let Some(rec) = snap.recordings.get(&r.name) else {
                continue;
            };
            let Some(at) = rec.start().or_else(|| recorded_at_from_name(&r.name)) else {
                continue;
            };
            if self.too_old(rec) {
                continue;
            }
            view.items.push(QuotaItem {
                name: r.name.clone(),
                recorded_at: at,
                bytes: rec.size().bytes(),
                archived: false,
                locked: r.locked,
            });
            view.ids.push(Some(r.id));
        }
        view.keep = quota_keep(&view.items, quota, reserved, s.cfg.retention.protect_locked);
        Ok(Some(view))
    }

    /// The quota's verdict on each clip waiting: `Some(reason)` to skip
    /// it (older than what the quota keeps), `None` to download it; for
    /// the skips decided at a cycle's start.
    pub(super) async fn quota_skips(&self, cx: &Cycle) -> Vec<(ClipId, Option<String>)> {
        let view = match self.quota_view(cx, None).await {
            Ok(Some(v)) => v,
            Ok(None) => return Vec::new(),
            Err(e) => {
                tracing::warn!("the quota's skips not decided: {e:#}");
                return Vec::new();
            }
        };
        (0..view.items.len())
            .filter_map(|i| {
                let id = view.ids.get(i).copied().flatten()?;
                let skip = matches!(view.keep.verdict(&view.items, i), QuotaVerdict::Older);
                Some((id, skip.then(|| OLDER_THAN_QUOTA_KEEPS.to_owned())))
            })
            .collect()
    }

    /// With a quota: the next clip is downloaded only if the quota keeps
    /// it; room is made for it by removing older archived clips (never
    /// one newer than it, nor the newest day, nor a locked one), counting
    /// what the archive holds and what this cycle downloaded but has not
    /// recorded yet. A clip older than everything the quota keeps is
    /// skipped; one the quota would keep but cannot make room for stops
    /// the cycle with the true reason.
    pub(super) async fn quota_guard(
        &self,
        cx: &Cycle,
        row: &ClipRow,
        rec: &Recording,
    ) -> Result<Admit> {
        let s = &*self.inner;
        let Some(quota) = s.cfg.retention.quota else {
            return Ok(Admit::Go(0));
        };
        let need = rec.size().bytes();
        let Some(view) = self.quota_view(cx, Some(row.id)).await? else {
            return Ok(Admit::Go(0));
        };
        let me = view.ids.iter().position(|i| *i == Some(row.id));
        let verdict = me.map(|i| view.keep.verdict(&view.items, i));
        match verdict {
            Some(QuotaVerdict::Older) => {
                let reason = OLDER_THAN_QUOTA_KEEPS.to_owned();
                self.apply_skip(row, Some(reason.clone())).await;
                return Ok(Admit::Skip(reason));
            }
            Some(QuotaVerdict::Full { locked, newest_day }) => {
                return Err(Error::quota_because(
                    view.archived.saturating_add(view.reserved),
                    need,
                    quota,
                    left_reason(locked, newest_day, 0),
                ));
            }
            _ => {}
        }
        let mut view = view;
        if view.archived + view.reserved + need > quota {
            // Room down to what the quota leaves for the reservations and
            // this clip (files a reservation counts are in the archive's
            // scan that retention plans on).
            let target = quota
                .saturating_add(view.unrecorded)
                .saturating_sub(view.reserved)
                .saturating_sub(need);
            self.make_room(cx, rec, target, view.keep.newest).await;
            s.store.flush().await?;
            if let Some(v) = self.quota_view(cx, Some(row.id)).await? {
                view = v;
            }
        }
        let have = view.archived.saturating_add(view.reserved);
        if have.saturating_add(need) > quota {
            let start = rec.start().unwrap_or(PrimitiveDateTime::MAX);
            let newer: u64 = view
                .items
                .iter()
                .filter(|c| c.archived && c.recorded_at >= start)
                .map(|c| c.bytes)
                .sum();
            return Err(Error::quota_because(
                have,
                need,
                quota,
                left_reason(view.keep.locked_bytes, view.keep.newest_day_bytes, newer),
            ));
        }
        cx.st().quota_reserved += need;
        Ok(Admit::Go(need))
    }

    /// Removes the oldest archived clips retention may remove until the
    /// archive is at most `target` bytes (a dry run only notes them).
    async fn make_room(
        &self,
        cx: &Cycle,
        rec: &Recording,
        target: u64,
        newest_known: Option<PrimitiveDateTime>,
    ) {
        let s = &*self.inner;
        let policy = crate::retention::RetentionPolicy {
            keep: None,
            max_used_percent: None,
            quota: Some(target),
            protect_locked: s.cfg.retention.protect_locked,
        };
        let protect_from = Some(rec.start().unwrap_or(PrimitiveDateTime::MAX));
        let dry = cx.st().dry_pruned.is_some();
        if dry {
            self.note_room(cx, &policy, protect_from, newest_known)
                .await;
            return;
        }
        self.apply_retention(cx, &policy, protect_from, newest_known)
            .await;
    }

    /// A dry run's [`make_room`](Self::make_room): the same plan, noted in
    /// the cycle, nothing removed.
    async fn note_room(
        &self,
        cx: &Cycle,
        policy: &crate::retention::RetentionPolicy,
        protect_from: Option<PrimitiveDateTime>,
        newest_known: Option<PrimitiveDateTime>,
    ) {
        let s = &*self.inner;
        let locked: HashSet<String> = cx.snapshot().locked_names();
        let gone: Vec<PathBuf> = cx
            .st()
            .dry_pruned
            .iter()
            .flatten()
            .map(|(p, _)| p.clone())
            .collect();
        let (root, shared, clock, policy) = (
            s.cfg.archive.clone(),
            s.cfg.shared_archive.clone(),
            s.cfg.camera_clock,
            policy.clone(),
        );
        let planned = tokio::task::spawn_blocking(move || {
            let is_locked = |n: &str| locked.contains(n);
            let clips = match &shared {
                Some(sh) => scan_to_depth(sh, 2, clock, &recorded_at_from_name, &is_locked),
                None => scan_to_depth(&root, 1, clock, &recorded_at_from_name, &is_locked),
            }?;
            let clips: Vec<_> = clips
                .into_iter()
                .filter(|c| !gone.contains(&c.path))
                .collect();
            let plan = crate::retention::plan_around(
                &clips,
                &policy,
                clock.now(),
                None,
                protect_from,
                newest_known,
            );
            Ok::<_, std::io::Error>(
                plan.evictions
                    .iter()
                    .filter_map(|e| clips.get(e.index))
                    .map(|c| (c.path.clone(), c.size.saturating_add(c.sidecar_bytes)))
                    .collect::<Vec<_>>(),
            )
        })
        .await;
        if let Ok(Ok(evicted)) = planned
            && let Some(list) = cx.st().dry_pruned.as_mut()
        {
            list.extend(evicted);
        }
    }
}

/// Why retention can free no more for the next clip, in numbers.
fn left_reason(locked: u64, newest_day: u64, newer: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a size in MB for a message
    let mb = |b: u64| b as f64 / 1e6;
    format!(
        "what is left is {:.1} MB of locked clips, {:.1} MB of the newest day and {:.1} MB \
         newer than the clip",
        mb(locked),
        mb(newest_day),
        mb(newer)
    )
}
