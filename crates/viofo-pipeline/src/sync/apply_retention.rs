//! Applying the retention plan to the archive during and after a cycle.

use std::collections::HashSet;

use time::PrimitiveDateTime;

use super::convert::recorded_at_from_name;
use super::{Cycle, Syncer, blocking, lock, now_utc_naive};
use crate::disk::DiskSpace;
use crate::events::Event;
use crate::retention::{self, EvictReason};

impl Syncer {
    /// Applies retention; `protect_from` set means "space only, and never a
    /// clip recorded at or after it" (a download is in flight).
    pub(super) async fn retention(&self, cx: &Cycle, protect_from: Option<PrimitiveDateTime>) {
        let s = &*self.inner;
        let policy = s.cfg.retention.clone();
        if policy.is_noop() {
            return;
        }
        let root = s.cfg.archive.clone();
        let snap = Self::snapshot(cx);
        let locked: HashSet<String> = snap
            .recordings
            .values()
            .filter(|r| r.is_locked())
            .map(|r| r.file_name().as_str().to_owned())
            .collect();
        let store = s.store.clone();
        let camera = s.cfg.camera_id.clone();
        let during_downloads = protect_from.is_some();
        let planned = blocking(move || {
            let disk = DiskSpace::of(&root).ok();
            if during_downloads {
                let over = match (disk, policy.max_used_percent) {
                    (Some(d), Some(limit)) => d.used_percent() > limit,
                    _ => false,
                };
                if !over {
                    return Ok((Vec::new(), retention::Plan::default()));
                }
            }
            let clips =
                retention::scan_archive(&root, &recorded_at_from_name, &|n| locked.contains(n))?;
            let mut policy = policy;
            if during_downloads {
                policy.keep = None;
            }
            let plan = retention::plan(&clips, &policy, now_utc_naive(), disk, protect_from);
            Ok::<_, std::io::Error>((clips, plan))
        })
        .await;
        let (clips, plan) = match planned {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("retention: cannot read the archive: {e}");
                return;
            }
        };
        for ev in &plan.evictions {
            let Some(clip) = clips.get(ev.index) else {
                continue;
            };
            let name = clip
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            // A clip the store knows as locked is protected too.
            if s.cfg.retention.protect_locked
                && let Ok(Some(row)) = store.get_by_name(&camera, &name).await
                && row.locked
            {
                continue;
            }
            let reason = match ev.reason {
                EvictReason::Age => "older than the keep period",
                EvictReason::Space => "disk above the retention limit",
            };
            let c = clip.clone();
            match blocking(move || retention::remove(&c)).await {
                Ok(()) => {
                    tracing::info!("retention: removed {} ({reason})", clip.path.display());
                    lock(&cx.counters).pruned += 1;
                    s.events.emit(Event::Pruned {
                        path: clip.path.clone(),
                        reason: reason.to_owned(),
                    });
                }
                Err(e) => tracing::warn!("retention: {e}"),
            }
        }
        if plan.still_over_limit {
            tracing::warn!(
                "retention: the disk stays above the limit; what is left is locked or newer than the clip being downloaded"
            );
        }
    }
}
