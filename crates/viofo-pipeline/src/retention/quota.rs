//! Which clips a quota keeps: the newest that fit, pure over the archive's
//! clips and the camera's clips waiting to be downloaded, so a cycle under
//! a quota downloads only what it will keep and makes room for it by
//! removing older archived clips.

use time::PrimitiveDateTime;

use super::SPACE_FLOOR;

/// The skip reason of a clip older than everything the quota keeps.
pub const OLDER_THAN_QUOTA_KEEPS: &str = "older than what the quota keeps";

/// One clip a quota weighs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaItem {
    /// Its file name (orders clips of the same time).
    pub name: String,
    /// When it was recorded, on the camera's clock.
    pub recorded_at: PrimitiveDateTime,
    /// Archived: its file and sidecars; waiting: its listed size.
    pub bytes: u64,
    /// In the archive (else waiting on the camera).
    pub archived: bool,
    /// Locked (an event clip).
    pub locked: bool,
}

/// What a clip waiting on the camera is to the quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaVerdict {
    /// Kept: download it (making room by removing older archived clips).
    Keep,
    /// Newer clips fill the quota: skipped, never downloaded only to be
    /// pruned ([`OLDER_THAN_QUOTA_KEEPS`]).
    Older,
    /// It is among the newest, yet what the quota holds cannot be
    /// removed: locked clips and the newest day's, in bytes.
    Full {
        /// Bytes of locked archived clips (kept when locked clips are
        /// protected).
        locked: u64,
        /// Bytes of unlocked archived clips of the newest day.
        newest_day: u64,
    },
}

/// The quota's decision over `items`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaKeep {
    /// Per item: kept.
    pub keep: Vec<bool>,
    /// Per item: an archived clip retention may not remove for space
    /// (locked and protected, or of the newest day).
    pub pinned: Vec<bool>,
    /// Bytes of locked, protected archived clips.
    pub locked_bytes: u64,
    /// Bytes of unlocked archived clips of the newest day.
    pub newest_day_bytes: u64,
    /// The newest recording among the items: the space rules' newest day
    /// ends there.
    pub newest: Option<PrimitiveDateTime>,
    /// The newest day begins after this.
    pub floor: Option<PrimitiveDateTime>,
}

impl QuotaKeep {
    /// What item `i` (a clip waiting on the camera) is to the quota: kept;
    /// older than what is kept (newer clips are kept instead, and it is
    /// not of the newest day, which is kept whole, so taken while there is
    /// room); or nothing newer is kept and what the quota holds cannot go.
    pub fn verdict(&self, items: &[QuotaItem], i: usize) -> QuotaVerdict {
        if self.keep.get(i).copied().unwrap_or(false) {
            return QuotaVerdict::Keep;
        }
        let Some(me) = items.get(i) else {
            return QuotaVerdict::Keep;
        };
        let key = |c: &QuotaItem| (c.recorded_at, c.name.clone());
        // Newer clips are kept instead (locked clips aside, which are kept
        // whatever their age): this one is older than what the quota keeps.
        let newer_kept = items.iter().enumerate().any(|(j, c)| {
            self.keep.get(j).copied().unwrap_or(false)
                && !(c.locked && self.pinned.get(j).copied().unwrap_or(false))
                && key(c) > key(me)
        });
        let newest_day = self.floor.is_none_or(|f| me.recorded_at > f);
        if newer_kept && newest_day {
            // The newest day is kept whole (retention never removes it):
            // not skipped as older; taken while there is room.
            QuotaVerdict::Keep
        } else if newer_kept {
            QuotaVerdict::Older
        } else {
            QuotaVerdict::Full {
                locked: self.locked_bytes,
                newest_day: self.newest_day_bytes,
            }
        }
    }
}

/// Which clips a quota of `quota` bytes keeps: first every archived clip
/// retention may not remove for space (locked ones when
/// `protect_locked`, and the newest day's — the day before the newest
/// recording among all the items, archived or waiting, as retention's
/// space floor reckons it) and `reserved` bytes (downloads not yet in the
/// archive); then the others newest first (by time, then name) while
/// they fit. The first that does not fit ends it: everything older is
/// not kept, so the archive holds the newest clips that fit.
pub fn quota_keep(
    items: &[QuotaItem],
    quota: u64,
    reserved: u64,
    protect_locked: bool,
) -> QuotaKeep {
    let newest = items.iter().map(|c| c.recorded_at).max();
    let floor = newest.and_then(|n| {
        n.checked_sub(time::Duration::try_from(SPACE_FLOOR).unwrap_or(time::Duration::DAY))
    });
    let mut out = QuotaKeep {
        keep: vec![false; items.len()],
        pinned: vec![false; items.len()],
        locked_bytes: 0,
        newest_day_bytes: 0,
        newest,
        floor,
    };
    let mut used = reserved;
    for (i, c) in items.iter().enumerate() {
        if !c.archived {
            continue;
        }
        let locked = protect_locked && c.locked;
        let newest_day = floor.is_none_or(|f| c.recorded_at > f);
        if locked || newest_day {
            if locked {
                out.locked_bytes = out.locked_bytes.saturating_add(c.bytes);
            } else {
                out.newest_day_bytes = out.newest_day_bytes.saturating_add(c.bytes);
            }
            used = used.saturating_add(c.bytes);
            if let (Some(k), Some(p)) = (out.keep.get_mut(i), out.pinned.get_mut(i)) {
                *k = true;
                *p = true;
            }
        }
    }
    let mut rest: Vec<usize> = (0..items.len())
        .filter(|&i| !out.pinned.get(i).copied().unwrap_or(true))
        .collect();
    rest.sort_by(|&a, &b| {
        let key = |i: usize| items.get(i).map(|c| (c.recorded_at, c.name.as_str()));
        key(b).cmp(&key(a))
    });
    for i in rest {
        let Some(c) = items.get(i) else { continue };
        match used.checked_add(c.bytes) {
            Some(u) if u <= quota => {
                used = u;
                if let Some(k) = out.keep.get_mut(i) {
                    *k = true;
                }
            }
            _ => break,
        }
    }
    out
}
