//! Carrying a retention plan out in a running sync: planning off the
//! async threads, removing each evicted clip with its sidecars, recording
//! it as pruned in the store. With a shared archive (several cameras, each
//! in `<root>/<camera id>`) the space and quota rules weigh every camera's
//! clips, oldest first whichever camera recorded them, and the age rule
//! only this camera's.

use std::path::{Path, PathBuf};

use time::PrimitiveDateTime;

use super::{ArchivedClip, EvictReason, Plan, RetentionPolicy, plan_around, remove, scan_to_depth};
use crate::disk::DiskSpace;

/// What [`apply`] needs from the running sync.
pub(crate) struct Apply<'a> {
    pub(crate) store: &'a viofo_store::Store,
    pub(crate) camera_id: &'a str,
    pub(crate) policy: &'a RetentionPolicy,
    pub(crate) root: PathBuf,
    /// Names the camera lists as locked now.
    pub(crate) locked: std::collections::HashSet<String>,
    /// Space only, and never a clip recorded at or after this (a download
    /// is in flight).
    pub(crate) protect_from: Option<PrimitiveDateTime>,
    /// The camera's clock: clip times are its readings.
    pub(crate) clock: crate::CameraClock,
    pub(crate) events: &'a dyn crate::events::EventSink,
    /// The folder holding every camera's archive folder when several
    /// cameras share the archive (`root` is then `<shared>/<camera id>`).
    pub(crate) shared_root: Option<PathBuf>,
    /// The newest recording known beyond the archive (the newest clip the
    /// quota keeps, on the camera): the newest day the space rules keep
    /// ends there.
    pub(crate) newest_known: Option<PrimitiveDateTime>,
}

/// Applies retention to the archive: plans (off the async threads),
/// removes each evicted clip with its sidecars, and records it as pruned
/// in the store so `status` and `queue` stop calling it archived. Returns
/// how many clips were removed. Problems are logged, never fatal.
pub(crate) async fn apply(a: Apply<'_>) -> u64 {
    let policy = a.policy.clone();
    if policy.is_noop() {
        return 0;
    }
    let root = a.root.clone();
    let shared = a.shared_root.clone();
    let locked = a.locked;
    let protect_from = a.protect_from;
    let clock = a.clock;
    let newest_known = a.newest_known;
    let during_downloads = protect_from.is_some();
    let planned = tokio::task::spawn_blocking(move || {
        let disk = DiskSpace::of(&root).ok();
        if during_downloads {
            let over = policy.quota.is_some()
                || match (disk, policy.max_used_percent) {
                    (Some(d), Some(limit)) => d.used_percent() > limit,
                    _ => false,
                };
            if !over {
                return Ok((Vec::new(), Plan::default()));
            }
        }
        let mut policy = policy;
        if during_downloads {
            policy.keep = None;
        }
        let is_locked = |n: &str| locked.contains(n);
        if let Some(shared) = &shared {
            let clips = scan_to_depth(shared, 2, clock, &crate::recorded_at_from_name, &is_locked)?;
            let plan = plan_shared(
                &clips,
                &root,
                &policy,
                clock.now(),
                disk,
                (protect_from, newest_known),
            );
            return Ok((clips, plan));
        }
        let clips = scan_to_depth(&root, 1, clock, &crate::recorded_at_from_name, &is_locked)?;
        let plan = plan_around(
            &clips,
            &policy,
            clock.now(),
            disk,
            protect_from,
            newest_known,
        );
        Ok::<_, std::io::Error>((clips, plan))
    })
    .await;
    let (clips, plan) = match planned {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::warn!("retention: cannot read the archive: {e}");
            return 0;
        }
        Err(e) => {
            tracing::warn!("retention: planning failed: {e}");
            return 0;
        }
    };
    let mut pruned = 0;
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
        let camera = a
            .shared_root
            .as_deref()
            .and_then(|s| camera_of(s, &clip.path))
            .unwrap_or(a.camera_id);
        // The row whose archived copy this file is: by its path (a name may
        // belong to several recordings, each archived under a name of its
        // own), else by name when the archive was reached by another
        // spelling of its path and the row's file has this name.
        let row = match a.store.get_by_local_path(&clip.path).await.ok().flatten() {
            Some(r) => Some(r),
            None => a
                .store
                .get_by_name(camera, &name)
                .await
                .ok()
                .flatten()
                .filter(|r| {
                    r.local_path
                        .as_deref()
                        .and_then(Path::file_name)
                        .is_some_and(|f| f == clip.path.file_name().unwrap_or_default())
                }),
        };
        // A clip the store knows as locked is protected too.
        if a.policy.protect_locked && row.as_ref().is_some_and(|r| r.locked) {
            continue;
        }
        let reason = match ev.reason {
            EvictReason::Age => "older than the keep period",
            EvictReason::Space => "disk above the retention limit",
            EvictReason::Quota => "archive above its quota",
        };
        let c = clip.clone();
        match tokio::task::spawn_blocking(move || remove(&c)).await {
            Ok(Ok(())) => {
                tracing::info!("retention: removed {} ({reason})", clip.path.display());
                pruned += 1;
                if let Some(row) = row
                    && matches!(
                        row.state,
                        viofo_store::ClipState::Done | viofo_store::ClipState::Downloaded
                    )
                {
                    a.store.mark_pruned(row.id).submit();
                }
                a.events.emit(crate::events::Event::Pruned {
                    path: clip.path.clone(),
                    reason: reason.to_owned(),
                });
            }
            Ok(Err(e)) => tracing::warn!("retention: {}: {e}", clip.path.display()),
            Err(e) => tracing::warn!("retention: removal failed: {e}"),
        }
    }
    if plan.still_over_limit {
        tracing::warn!(
            archive_bytes = plan.archive_bytes,
            freed = plan.freed,
            "retention: the disk stays above {}% after removing {} MB of the archive's {} MB: what is \
             left is the newest day, locked clips or newer than the clip being downloaded; the rest \
             of the disk is other data, which pruning the archive cannot free",
            a.policy.max_used_percent.unwrap_or(100.0),
            plan.freed / 1_000_000,
            plan.archive_bytes / 1_000_000,
        );
    }
    if plan.still_over_quota {
        tracing::warn!(
            archive_bytes = plan.archive_bytes,
            freed = plan.freed,
            "retention: the archive stays above its quota of {} MB after removing {} MB of {} MB: \
             what is left is the newest day, locked clips or newer than the clip being downloaded",
            a.policy.quota.unwrap_or(0) / 1_000_000,
            plan.freed / 1_000_000,
            plan.archive_bytes / 1_000_000,
        );
    }
    pruned
}

/// The camera id of a clip in a shared archive: its first folder under
/// `shared`.
fn camera_of<'p>(shared: &Path, clip: &'p Path) -> Option<&'p str> {
    clip.strip_prefix(shared)
        .ok()?
        .components()
        .next()?
        .as_os_str()
        .to_str()
}

/// Plans retention over a shared archive: the age rule on this camera's
/// clips (those under `own`), then the space and quota rules on every
/// camera's clips that are left, on the disk as it will be after the age
/// removals. Indices in the plan are into `all`.
pub(crate) fn plan_shared(
    all: &[ArchivedClip],
    own: &Path,
    policy: &RetentionPolicy,
    now: PrimitiveDateTime,
    disk: Option<DiskSpace>,
    (protect_from, newest_known): (Option<PrimitiveDateTime>, Option<PrimitiveDateTime>),
) -> Plan {
    let own_idx: Vec<usize> = (0..all.len())
        .filter(|&i| all.get(i).is_some_and(|c| c.path.starts_with(own)))
        .collect();
    let pick = |idx: &[usize]| -> Vec<ArchivedClip> {
        idx.iter().filter_map(|&i| all.get(i).cloned()).collect()
    };
    let age_policy = RetentionPolicy {
        max_used_percent: None,
        quota: None,
        ..policy.clone()
    };
    let age = plan_around(&pick(&own_idx), &age_policy, now, None, None, None);
    let aged: std::collections::HashSet<usize> = age
        .evictions
        .iter()
        .filter_map(|e| own_idx.get(e.index).copied())
        .collect();
    let rest_idx: Vec<usize> = (0..all.len()).filter(|i| !aged.contains(i)).collect();
    let space_policy = RetentionPolicy {
        keep: None,
        ..policy.clone()
    };
    let space = plan_around(
        &pick(&rest_idx),
        &space_policy,
        now,
        disk.map(|d| d.after_freeing(age.freed)),
        protect_from,
        newest_known,
    );
    let mut out = Plan {
        freed: age.freed.saturating_add(space.freed),
        still_over_limit: space.still_over_limit,
        still_over_quota: space.still_over_quota,
        archive_bytes: all
            .iter()
            .map(|c| c.size.saturating_add(c.sidecar_bytes))
            .sum(),
        evictions: Vec::new(),
    };
    for (e, idx) in age
        .evictions
        .iter()
        .map(|e| (e, &own_idx))
        .chain(space.evictions.iter().map(|e| (e, &rest_idx)))
    {
        if let Some(&index) = idx.get(e.index) {
            out.evictions.push(super::Eviction {
                index,
                reason: e.reason,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use time::macros::datetime;

    use super::*;

    fn clip(path: &str, day: u8, size: u64) -> ArchivedClip {
        ArchivedClip {
            path: PathBuf::from(path),
            size,
            recorded_at: datetime!(2026-11-01 08:00) + time::Duration::days(i64::from(day)),
            locked: false,
            sidecars: Vec::new(),
            sidecar_bytes: 0,
        }
    }

    fn evicted(all: &[ArchivedClip], p: &Plan) -> Vec<(String, EvictReason)> {
        p.evictions
            .iter()
            .map(|e| (all[e.index].path.display().to_string(), e.reason))
            .collect()
    }

    fn archive() -> Vec<ArchivedClip> {
        vec![
            clip("/s/a/a1.MP4", 1, 100),
            clip("/s/b/b0.MP4", 0, 100),
            clip("/s/a/a5.MP4", 5, 100),
            clip("/s/b/2026-11-07/b6.MP4", 6, 100),
            clip("/s/a/a10.MP4", 10, 100),
        ]
    }

    #[test]
    fn the_quota_takes_the_oldest_clips_whichever_camera_recorded_them() {
        let all = archive();
        let policy = RetentionPolicy {
            quota: Some(300),
            ..RetentionPolicy::default()
        };
        let now = datetime!(2026-11-11 09:00);
        let p = plan_shared(&all, Path::new("/s/a"), &policy, now, None, (None, None));
        assert_eq!(
            evicted(&all, &p),
            vec![
                ("/s/b/b0.MP4".to_owned(), EvictReason::Quota),
                ("/s/a/a1.MP4".to_owned(), EvictReason::Quota),
            ]
        );
        assert_eq!(p.archive_bytes, 500);
        assert!(!p.still_over_quota);
    }

    #[test]
    fn the_age_rule_is_this_cameras_own() {
        let all = archive();
        let policy = RetentionPolicy {
            keep: Some(std::time::Duration::from_secs(3 * 86_400)),
            ..RetentionPolicy::default()
        };
        let now = datetime!(2026-11-11 09:00);
        let p = plan_shared(&all, Path::new("/s/a"), &policy, now, None, (None, None));
        assert_eq!(
            evicted(&all, &p),
            vec![
                ("/s/a/a1.MP4".to_owned(), EvictReason::Age),
                ("/s/a/a5.MP4".to_owned(), EvictReason::Age),
            ]
        );
        // From the other camera's side: only its clips.
        let p = plan_shared(&all, Path::new("/s/b"), &policy, now, None, (None, None));
        assert_eq!(evicted(&all, &p).len(), 2);
        assert!(
            evicted(&all, &p)
                .iter()
                .all(|(path, _)| path.starts_with("/s/b/"))
        );
    }

    #[test]
    fn a_clip_names_its_camera_by_its_first_folder() {
        let shared = Path::new("/s");
        assert_eq!(
            camera_of(shared, Path::new("/s/car-b/2026-11-07/x.MP4")),
            Some("car-b")
        );
        assert_eq!(camera_of(shared, Path::new("/elsewhere/x.MP4")), None);
    }
}
