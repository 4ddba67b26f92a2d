//! Archive retention: keep N days, keep the disk under N %, protect locked
//! clips, never evict a clip newer than the one being downloaded.
//!
//! Planning is a pure function over what is in the archive ([`plan`]), so
//! the policy is tested without touching a disk; [`scan_archive`] reads the
//! archive and [`remove`] carries a plan out, sidecars with their clip;
//! the sync applies a plan here too (removing and recording each evicted
//! clip as pruned in the store), next to the planning it carries out.

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::PrimitiveDateTime;

use crate::disk::DiskSpace;

/// One clip in the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedClip {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// When it was recorded (camera-local time from its name, or the file's
    /// modification time).
    pub recorded_at: PrimitiveDateTime,
    /// Locked on the camera (an event clip): protected unless the policy
    /// says otherwise.
    pub locked: bool,
    /// Sidecar files beside it (`<clip>.gpx`, `<clip>.geojson`).
    pub sidecars: Vec<PathBuf>,
    /// Their total size.
    pub sidecar_bytes: u64,
}

/// What retention keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionPolicy {
    /// Remove clips recorded longer ago than this.
    pub keep: Option<Duration>,
    /// Remove the oldest clips while the disk is fuller than this percentage.
    pub max_used_percent: Option<f64>,
    /// Remove the oldest clips while the archive itself (clips and their
    /// sidecars) is larger than this many bytes: a quota that works where
    /// the disk's percentage describes a whole pool or share.
    pub quota: Option<u64>,
    /// Never remove locked clips.
    pub protect_locked: bool,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            keep: None,
            max_used_percent: None,
            quota: None,
            protect_locked: true,
        }
    }
}

impl RetentionPolicy {
    /// True when the policy can never remove anything.
    pub fn is_noop(&self) -> bool {
        self.keep.is_none() && self.max_used_percent.is_none() && self.quota.is_none()
    }
}

/// The space rules (disk percentage, quota) never go below this: the
/// newest day of recordings is always kept (with every locked clip), so
/// a disk filled by other data cannot empty the archive.
pub const SPACE_FLOOR: Duration = Duration::from_secs(24 * 3600);

/// Why a clip is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictReason {
    /// Older than the keep period.
    Age,
    /// The disk is fuller than allowed.
    Space,
    /// The archive is larger than its quota.
    Quota,
}

/// A clip the plan removes: its index in the input and the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eviction {
    /// Index into the slice given to [`plan`].
    pub index: usize,
    /// Why.
    pub reason: EvictReason,
}

/// The outcome of planning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Clips to remove, oldest first.
    pub evictions: Vec<Eviction>,
    /// Bytes the plan frees.
    pub freed: u64,
    /// Set when the disk stays over the limit after every clip the policy
    /// may remove is gone (locked, too-new and the newest day's clips are
    /// left): the disk is full of something else.
    pub still_over_limit: bool,
    /// Set when the archive stays over its quota for the same reasons.
    pub still_over_quota: bool,
    /// The archive's size before the plan (clips and sidecars).
    pub archive_bytes: u64,
}

/// Plans what to remove.
///
/// `now` is compared with each clip's `recorded_at` for the keep period.
/// `protect_from`: clips recorded at or after it are never removed to make
/// space (the clip being downloaded: evicting something newer to make room
/// for something older would be a loss). `disk` is the current usage; when
/// `None`, the space rule is not applied.
pub fn plan(
    clips: &[ArchivedClip],
    policy: &RetentionPolicy,
    now: PrimitiveDateTime,
    disk: Option<DiskSpace>,
    protect_from: Option<PrimitiveDateTime>,
) -> Plan {
    plan_around(clips, policy, now, disk, protect_from, None)
}

/// [`plan`], with the newest recording known beyond the archive (a clip
/// waiting on the camera, about to be downloaded): the space rules' newest
/// day is the day before the newest of it and the archive's clips, so the
/// archive's last day can make room for the camera's newer clips.
pub fn plan_around(
    clips: &[ArchivedClip],
    policy: &RetentionPolicy,
    now: PrimitiveDateTime,
    disk: Option<DiskSpace>,
    protect_from: Option<PrimitiveDateTime>,
    newest_known: Option<PrimitiveDateTime>,
) -> Plan {
    let mut order: Vec<usize> = (0..clips.len())
        .filter(|&i| {
            clips
                .get(i)
                .is_some_and(|c| !(policy.protect_locked && c.locked))
        })
        .collect();
    order.sort_by_key(|&i| clips.get(i).map(|c| (c.recorded_at, c.path.clone())));

    let mut out = Plan::default();
    let mut taken = vec![false; clips.len()];
    if let Some(keep) = policy.keep {
        let keep = time::Duration::try_from(keep).unwrap_or(time::Duration::MAX);
        let cutoff = now.checked_sub(keep);
        for &i in &order {
            let Some(c) = clips.get(i) else { continue };
            if cutoff.is_some_and(|cut| c.recorded_at < cut) {
                out.evictions.push(Eviction {
                    index: i,
                    reason: EvictReason::Age,
                });
                out.freed = out.freed.saturating_add(c.size);
                if let Some(t) = taken.get_mut(i) {
                    *t = true;
                }
            }
        }
    }
    // The space rules never remove the newest day (nor what is newer than
    // the clip being downloaded).
    let newest = clips
        .iter()
        .map(|c| c.recorded_at)
        .chain(newest_known)
        .max();
    let floor = newest.and_then(|n| {
        n.checked_sub(time::Duration::try_from(SPACE_FLOOR).unwrap_or(time::Duration::DAY))
    });
    let removable_for_space = |c: &ArchivedClip| {
        protect_from.is_none_or(|p| c.recorded_at < p) && floor.is_none_or(|f| c.recorded_at <= f)
    };
    let footprint = |c: &ArchivedClip| c.size.saturating_add(c.sidecar_bytes);
    out.archive_bytes = clips.iter().map(footprint).sum();
    // The space rules' one walk: oldest first, the clips they may remove
    // (and no rule took yet), while `over(freed so far)` says the limit is
    // still passed; whether it still is after them all.
    let evict_while = |reason: EvictReason,
                       over: &dyn Fn(u64) -> bool,
                       out: &mut Plan,
                       taken: &mut [bool]|
     -> bool {
        for &i in &order {
            if !over(out.freed) {
                break;
            }
            let Some(c) = clips.get(i) else { continue };
            if taken.get(i).copied().unwrap_or(true) || !removable_for_space(c) {
                continue;
            }
            out.evictions.push(Eviction { index: i, reason });
            out.freed = out.freed.saturating_add(footprint(c));
            if let Some(t) = taken.get_mut(i) {
                *t = true;
            }
        }
        over(out.freed)
    };
    if let (Some(limit), Some(disk)) = (policy.max_used_percent, disk) {
        let over = |freed| disk.after_freeing(freed).used_percent() > limit;
        out.still_over_limit = evict_while(EvictReason::Space, &over, &mut out, &mut taken);
    }
    if let Some(quota) = policy.quota {
        let archive_bytes = out.archive_bytes;
        let over = |freed| archive_bytes.saturating_sub(freed) > quota;
        out.still_over_quota = evict_while(EvictReason::Quota, &over, &mut out, &mut taken);
    }
    out
}

/// Finds the clips in an archive: every file the sync downloads (the
/// client's extensions: videos and photos) in the root and in its grouping
/// folders (one level down), with their sidecars
/// ([`viofo_gps::sidecar_path`], the one naming rule).
///
/// `recorded_at` maps a file name to its recording time on the camera's
/// clock (`None` falls back to the file's modification time, read on
/// `clock` so all times compare like with like); `locked` says whether a
/// name is locked.
/// Unreadable entries are skipped with a logged reason.
pub fn scan_archive(
    root: &Path,
    clock: crate::CameraClock,
    recorded_at: &dyn Fn(&str) -> Option<PrimitiveDateTime>,
    locked: &dyn Fn(&str) -> bool,
) -> std::io::Result<Vec<ArchivedClip>> {
    scan_to_depth(root, 1, clock, recorded_at, locked)
}

/// [`scan_archive`] going `max_depth` folders down (1: the grouping
/// folders; 2: the camera folders of a shared archive and theirs).
pub(crate) fn scan_to_depth(
    root: &Path,
    max_depth: u8,
    clock: crate::CameraClock,
    recorded_at: &dyn Fn(&str) -> Option<PrimitiveDateTime>,
    locked: &dyn Fn(&str) -> bool,
) -> std::io::Result<Vec<ArchivedClip>> {
    let mut out = Vec::new();
    let mut dirs = vec![(root.to_path_buf(), 0u8)];
    while let Some((dir, depth)) = dirs.pop() {
        let entries = match fs_err::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if depth == 0 => return Err(e),
            Err(e) => {
                tracing::warn!("retention: skipping unreadable folder: {e}");
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!("retention: skipping an entry of {}: {e}", dir.display());
                    continue;
                }
            };
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if depth < max_depth {
                    dirs.push((path, depth + 1));
                }
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !is_clip_name(name) || !meta.is_file() {
                continue;
            }
            // A second recording under a name is archived as `<stem>~N.<ext>`:
            // its time and lock are the camera name's.
            let (camera_name, _) = crate::archive::unversioned_name(name);
            let when = recorded_at(&camera_name).or_else(|| {
                let m = meta.modified().ok()?;
                Some(clock.local_at(time::OffsetDateTime::from(m)))
            });
            let Some(when) = when else { continue };
            let sidecars: Vec<(PathBuf, u64)> = viofo_gps::Format::ALL
                .iter()
                .map(|f| viofo_gps::sidecar_path(&path, *f))
                .filter_map(|p| {
                    let m = std::fs::metadata(&p)
                        .ok()
                        .filter(std::fs::Metadata::is_file)?;
                    Some((p, m.len()))
                })
                .collect();
            out.push(ArchivedClip {
                size: meta.len(),
                recorded_at: when,
                locked: locked(&camera_name),
                sidecar_bytes: sidecars.iter().map(|(_, n)| n).sum(),
                sidecars: sidecars.into_iter().map(|(p, _)| p).collect(),
                path,
            });
        }
    }
    Ok(out)
}

/// A file the sync downloads (a video or a photo, by the client's one list
/// of extensions): retention's to consider.
fn is_clip_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        viofo_client::ALLOWED_EXTENSIONS
            .iter()
            .any(|e| e.eq_ignore_ascii_case(ext))
    })
}

/// Removes one clip, then its sidecars. A file already gone counts as removed.
pub fn remove(clip: &ArchivedClip) -> std::io::Result<()> {
    crate::archive::remove_file(&clip.path)?;
    for s in &clip.sidecars {
        crate::archive::remove_file(s)?;
    }
    Ok(())
}

mod apply;
pub(crate) use apply::{Apply, apply};

#[cfg(test)]
mod tests;

mod quota;
pub use quota::{OLDER_THAN_QUOTA_KEEPS, QuotaItem, QuotaKeep, QuotaVerdict, quota_keep};
