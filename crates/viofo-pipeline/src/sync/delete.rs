//! The camera-delete decision: one pure function over what is archived and
//! what a listing taken after the archived record was durable shows now.
//!
//! Every reason not to delete is a [`KeepReason`]; a lasting one is stored
//! as the clip's delete outcome, a passing one leaves the clip's tail
//! unfinished so a later listing decides again.
//!
//! Public (issue 19): an embedder that downloads with `viofo-client` can
//! decide its deletes by the same rule; see the crate documentation for a
//! download-then-delete loop built on [`may_delete`] and [`SizeHistory`](super::SizeHistory).

use std::fmt;

/// What the archive holds of a clip, as recorded when it was downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archived<'a> {
    /// The camera path it was downloaded from.
    pub remote_path: &'a str,
    /// The bytes downloaded (and recorded in the store).
    pub size: u64,
    /// The local file's size now (`None`: missing or unreadable).
    pub local_size: Option<u64>,
}

/// How a listing shows the clip now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed<'a> {
    /// The camera path it is listed at now.
    pub remote_path: &'a str,
    /// The listed size.
    pub size: u64,
    /// `false` for an HTML page's rounded size.
    pub exact: bool,
    /// Locked on the camera (the `RO` folder, or the locked attribute).
    pub locked: bool,
}

/// What is known about the camera and the listing the decision is made on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct CameraState {
    /// The listing started after the clip's archived record was durable.
    pub listed_after_record: bool,
    /// The listing was complete (not cut off before its end).
    pub listing_complete: bool,
    /// The camera says it is recording (or could not say).
    pub recording: bool,
    /// The clip is the newest of its channel in this listing.
    pub newest_of_channel: bool,
    /// The clip's listed size has been the same on two listings at least
    /// the settle time apart, the later one being this one.
    pub size_settled: bool,
    /// Another listed entry has the same file name.
    pub duplicate_name: bool,
    /// The user allows deleting locked clips.
    pub delete_locked: bool,
    /// The device was proved to be this camera at the address in use (a
    /// listing there showed a clip it archived; see `identity`).
    pub identity_proved: bool,
    /// The clip is the camera's anchor: the newest clip it archived while
    /// its identity was certain, left on the card (when fallback
    /// addresses are configured) so a listing at a fallback address can
    /// prove the device there is this camera.
    pub anchor: bool,
}

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The clip may be deleted from the camera now.
    Delete,
    /// The clip stays on the camera, and why.
    Keep(KeepReason),
}

/// Why a clip stays on the camera. A passing reason
/// ([`is_passing`](Self::is_passing)) means "ask again on a later
/// listing"; a lasting one means "keep it for good".
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepReason {
    /// The listing predates the durable record: wait for a later one.
    ListingTooOld,
    /// Not in a listing that was cut off: no proof it is gone or unchanged.
    ListingIncomplete,
    /// Not in a complete listing: nothing to delete.
    NotListed,
    /// The same name is listed twice (two folders): which one is ours is
    /// not certain enough to delete either.
    DuplicateName,
    /// Locked on the camera now, and deleting locked clips is off.
    Locked,
    /// Listed at another path than the one downloaded.
    PathMoved {
        /// The path it was downloaded from.
        from: String,
        /// The path it is listed at now.
        to: String,
    },
    /// The camera lists another size than the archived copy's.
    SizeDiffers {
        /// The archived copy's size.
        archived: u64,
        /// The listed size.
        listed: u64,
    },
    /// The archived file is gone or has another size than downloaded.
    ArchiveChanged {
        /// The size downloaded and recorded.
        expected: u64,
        /// The local file's size now (`None`: missing or unreadable).
        found: Option<u64>,
    },
    /// The newest clip of its channel while the camera records.
    PossiblyRecording,
    /// Its size not yet seen unchanged on two listings the settle time
    /// apart (or, for the newest clip of its channel, only a rounded size
    /// known).
    NotSettled,
    /// The device at the address in use is not yet proved to be this
    /// camera: no listing there showed a clip it archived (issue 18).
    IdentityNotProved,
    /// The camera's clip of this name and size is another recording: its
    /// last bytes are not the archived copy's (found after the rule said
    /// delete, by reading them; the camera's clip is archived beside).
    OtherRecording,
    /// The camera answers a ranged read with the whole clip, so its bytes
    /// cannot be compared with the archived copy's before a delete: kept.
    CannotCompare,
    /// The camera's anchor: the newest clip archived while its identity
    /// was certain stays on the card, the evidence a fallback address
    /// needs; it is deleted once a newer clip takes its place.
    Anchor,
}

impl KeepReason {
    /// Passing reasons leave the tail unfinished: a later listing decides.
    pub fn is_passing(&self) -> bool {
        matches!(
            self,
            Self::ListingTooOld
                | Self::ListingIncomplete
                | Self::PossiblyRecording
                | Self::NotSettled
                | Self::IdentityNotProved
                | Self::Anchor
        )
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ListingTooOld => f.write_str("no listing since the copy was recorded yet"),
            Self::ListingIncomplete => {
                f.write_str("not in the camera's listing, which was cut off")
            }
            Self::NotListed => f.write_str("not in the camera's listing"),
            Self::DuplicateName => {
                f.write_str("the camera lists this name in two folders; both kept")
            }
            Self::Locked => f.write_str("locked clip (deleting locked clips is off)"),
            Self::PathMoved { from, to } => write!(f, "moved on the camera from {from} to {to}"),
            Self::SizeDiffers { archived, listed } => write!(
                f,
                "the camera lists {listed} bytes, the archived copy has {archived}"
            ),
            Self::ArchiveChanged { expected, found } => match found {
                Some(n) => write!(f, "local copy has {n} bytes, expected {expected}"),
                None => f.write_str("local copy is missing or unreadable"),
            },
            Self::PossiblyRecording => f.write_str("may still be recording"),
            Self::NotSettled => f.write_str("its size not yet seen settled"),
            Self::IdentityNotProved => f.write_str("camera identity not yet proved"),
            Self::Anchor => f.write_str(
                "the newest archived clip stays on the card until a newer one is archived \
                 (it proves the camera at a fallback address)",
            ),
            Self::CannotCompare => f.write_str(
                "the camera ignores Range, so its bytes cannot be compared with the archived copy",
            ),
            Self::OtherRecording => f.write_str(
                "the camera's clip under this name is another recording (other bytes); \
                 archived beside the old one",
            ),
        }
    }
}

/// May the clip be deleted from the camera? Uses nothing but its inputs:
/// the archived record, the clip as listed now (`None`: not listed), and
/// the camera's state at that listing.
///
/// [`Decision::Delete`] only when the listing started after the clip's
/// archived record was durable, shows it once, at the path it was
/// downloaded from, unlocked (unless `delete_locked`), with exactly the
/// archived size (an HTML page's rounded size within 1 %), the local copy
/// still that size, that size seen on two listings the settle time apart
/// ([`SizeHistory::settled`](super::SizeHistory::settled)), for the newest
/// clip of its channel the camera not recording and the size exact, and
/// the device proved to be this camera, and the clip not the camera's
/// anchor. Otherwise the first reason to
/// keep it, lasting reasons before passing ones where both hold.
///
/// ```
/// use viofo_pipeline::{Archived, CameraState, Decision, KeepReason, Listed, may_delete};
///
/// let path = "/DCIM/Movie/2026_1101_101010_000001F.MP4";
/// let archived = Archived { remote_path: path, size: 1000, local_size: Some(1000) };
/// let listed = Listed { remote_path: path, size: 1000, exact: true, locked: false };
/// let cam = CameraState {
///     listed_after_record: true,
///     listing_complete: true,
///     recording: false,
///     newest_of_channel: false,
///     size_settled: true,
///     duplicate_name: false,
///     delete_locked: false,
///     identity_proved: true,
///     anchor: false,
/// };
/// assert_eq!(may_delete(&archived, Some(&listed), &cam), Decision::Delete);
/// // Locked on the camera since: kept for good.
/// let locked = Listed { locked: true, ..listed.clone() };
/// assert_eq!(may_delete(&archived, Some(&locked), &cam), Decision::Keep(KeepReason::Locked));
/// // Seen at this size only once so far: ask again on a later listing.
/// let once = CameraState { size_settled: false, ..cam };
/// let Decision::Keep(why) = may_delete(&archived, Some(&listed), &once) else { panic!() };
/// assert!(why.is_passing());
/// ```
pub fn may_delete(
    archived: &Archived<'_>,
    listed: Option<&Listed<'_>>,
    cam: &CameraState,
) -> Decision {
    use KeepReason as K;
    let keep = |r| Decision::Keep(r);
    if !cam.listed_after_record {
        return keep(K::ListingTooOld);
    }
    let Some(l) = listed else {
        return keep(if cam.listing_complete {
            K::NotListed
        } else {
            K::ListingIncomplete
        });
    };
    if cam.duplicate_name {
        return keep(K::DuplicateName);
    }
    if l.locked && !cam.delete_locked {
        return keep(K::Locked);
    }
    if l.remote_path != archived.remote_path {
        return keep(K::PathMoved {
            from: archived.remote_path.to_owned(),
            to: l.remote_path.to_owned(),
        });
    }
    if archived.local_size != Some(archived.size) {
        return keep(K::ArchiveChanged {
            expected: archived.size,
            found: archived.local_size,
        });
    }
    let size_ok = if l.exact {
        l.size == archived.size
    } else {
        // An HTML page's rounded size: within 1 % (as the store matches).
        l.size.abs_diff(archived.size) <= l.size / 100
    };
    if !size_ok {
        return keep(K::SizeDiffers {
            archived: archived.size,
            listed: l.size,
        });
    }
    if cam.newest_of_channel && cam.recording {
        return keep(K::PossiblyRecording);
    }
    // Every clip, not only the newest: a clip still being written (a
    // channel finishing late, a camera that lists an older clip before it
    // is closed) shows one size once; two listings the settle time apart
    // must show the archived size. The newest also needs an exact size.
    if !cam.size_settled || (cam.newest_of_channel && !l.exact) {
        return keep(K::NotSettled);
    }
    if !cam.identity_proved {
        return keep(K::IdentityNotProved);
    }
    if cam.anchor {
        return keep(K::Anchor);
    }
    Decision::Delete
}

#[cfg(test)]
mod tests;
