//! Is the device answering at the camera's address the camera this camera
//! id names? Checked on a cycle's first listing, before the listing
//! touches the store: another device's clips must never be reconciled into
//! this camera's history (marked gone, queued, deleted).
//!
//! The evidence, in order: the model read from the firmware string (a
//! different model is a different device), then the clips. A camera
//! records in a loop, so its card holds a window of time that moves
//! forward; every clip the store believes is still on the camera and whose
//! time falls inside the listed window should be listed. When several such
//! clips are all missing and not one listed clip matches a known one by
//! name and size, or several listed names are known with other sizes, the
//! device is another one. A firmware change alone is an upgrade, logged.
//! A formatted card lists only clips newer than the known ones: no clip
//! falls inside its window, so it is accepted.
//!
//! Accepting a device is not enough to delete from it (issue 18): with
//! deletes on, the store knows no clip still on the card, and any device
//! of the same model is accepted. A camera deletes only once its identity
//! is *proved* at the address in use: a listing there showed a clip the
//! store knew with the same size (checked with the first listing), or a
//! clip this camera archived at the same path with the same size
//! ([`listing_proves`], checked before the deletes are decided; a new
//! camera's first cycle proves it so with the clips it just archived).
//! The proof lasts for the syncer's life and ends when the address in use
//! changes; until then every delete waits
//! ([`KeepReason::IdentityNotProved`](super::delete::KeepReason)).
//!
//! A fallback address is only a guess at where the camera may be: another
//! camera of the same model may answer there, and once this camera's
//! clips are all deleted from its card nothing the device lists can tell
//! the two apart. Clips archived there prove nothing (they may be the
//! other camera's). So at a fallback address the only proof is the
//! camera's *anchor* ([`viofo_store::Anchor`]): the newest clip archived
//! while the identity was certain (at the primary address, or proved),
//! recorded at each cycle's end, and left on the card by the deletes
//! whenever fallback addresses are configured ([`pick_anchor`]). Each
//! cycle's first listing at a fallback address must show it, or the
//! device is refused ([`at_fallback`]); only a camera with nothing known
//! (a first sync ever) is synced there without one, deleting nothing.

use std::collections::{HashMap, HashSet};

use viofo_client::CameraInfo;
use viofo_store::{Anchor, CameraRow, CameraSeen, KnownClip, ListedClip};

use super::{Syncer, lock};
use crate::{Error, Result};

/// Clips of evidence needed before a device is refused by its clips.
const MIN_EVIDENCE: usize = 3;

/// What [`judge`] concluded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The camera the store knows (or nothing says otherwise).
    Same,
    /// The same camera with another firmware string.
    FirmwareChanged { from: String, to: String },
    /// Another device; why, in words.
    Refuse(String),
}

/// Judges the device: `model` and `firmware` as it answered now, `listed`
/// its listing (`complete`: it ended as a whole document), `stored` the
/// identity on record, `known` the clips the store believes are still on
/// the camera. A listing cut short proves nothing by what it lacks (a
/// folder may be missing from it), so only its names with other sizes
/// count then.
pub(crate) fn judge(
    stored: Option<&CameraRow>,
    model: Option<&str>,
    firmware: Option<&str>,
    listed: &[ListedClip],
    complete: bool,
    known: &[KnownClip],
) -> Verdict {
    let was = stored.map(|r| &r.seen);
    if let (Some(was_model), Some(now)) = (was.and_then(|w| w.model.as_deref()), model)
        && !was_model.eq_ignore_ascii_case(now)
    {
        return Verdict::Refuse(format!(
            "it is an {now}, and this camera id was an {was_model}"
        ));
    }
    if let Some(why) = clips_disagree(listed, complete, known) {
        return Verdict::Refuse(why);
    }
    match (was.and_then(|w| w.firmware.as_deref()), firmware) {
        (Some(from), Some(to)) if from != to => Verdict::FirmwareChanged {
            from: from.to_owned(),
            to: to.to_owned(),
        },
        _ => Verdict::Same,
    }
}

/// One clip as a listing shows it, or as this camera archived it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shown<'a> {
    pub(crate) name: &'a str,
    pub(crate) remote_path: &'a str,
    pub(crate) size: u64,
    /// `false` for an HTML page's rounded size.
    pub(crate) exact: bool,
}

/// Is `listed` the clip `archived` is a copy of: the same name at the same
/// path with the same size (a rounded size within 1 %, as the delete rule
/// takes it)?
pub(crate) fn same_clip(listed: &Shown<'_>, archived: &Shown<'_>) -> bool {
    listed.name == archived.name
        && listed.remote_path == archived.remote_path
        && sizes_match(listed.size, listed.exact, archived.size)
}

fn sizes_match(listed: u64, exact: bool, known: u64) -> bool {
    if exact {
        listed == known
    } else {
        listed.abs_diff(known) <= listed / 100
    }
}

/// Does a listing prove the device is this camera: does it show one of
/// the clips this camera archived (see [`same_clip`])?
pub(crate) fn listing_proves(listed: &[Shown<'_>], archived: &[Shown<'_>]) -> bool {
    // The first entry of a name, as the store keeps it.
    let mut by_name: HashMap<&str, &Shown<'_>> = HashMap::new();
    for l in listed {
        by_name.entry(l.name).or_insert(l);
    }
    archived
        .iter()
        .any(|a| by_name.get(a.name).is_some_and(|l| same_clip(l, a)))
}

/// Do the clips the store knows on the camera prove the device is this
/// camera: is one of them listed under its name with its size?
pub(crate) fn known_clips_prove(listed: &[ListedClip], known: &[KnownClip]) -> bool {
    let sizes: HashMap<&str, u64> = known.iter().map(|k| (k.name.as_str(), k.size)).collect();
    listed.iter().any(|l| {
        sizes
            .get(l.name.as_str())
            .is_some_and(|&k| sizes_match(l.size, l.size_exact, k))
    })
}

/// Does the listing show the camera's anchor: its name at its path with
/// its size (exactly, or an HTML page's rounded size within 1 %)?
pub(crate) fn anchor_listed(listed: &[ListedClip], anchor: &Anchor) -> bool {
    listed.iter().any(|l| {
        l.name == anchor.name
            && l.remote_path == anchor.remote_path
            && sizes_match(l.size, l.size_exact, anchor.size)
    })
}

/// What a listing at a fallback address says of the device there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// It lists the camera's anchor: it is this camera.
    Proved,
    /// The camera has no anchor and nothing is known on it (a first sync
    /// at a fallback address): synced, but its deletes wait (only the
    /// anchor proves at a fallback address).
    NoAnchor,
    /// The camera left its anchor on its card and this device does not
    /// list it: another camera, or this one's card formatted. Not synced
    /// (a fallback address is a guess; the primary address is not).
    AnchorMissing(String),
}

/// Judges the device at a fallback address by the camera's `anchor`;
/// without one, only a camera with nothing `known` on it is synced there.
pub(crate) fn at_fallback(
    anchor: Option<&Anchor>,
    listed: &[ListedClip],
    known: &[KnownClip],
) -> Fallback {
    match anchor {
        None if known.is_empty() => Fallback::NoAnchor,
        // Clips known on the camera are no evidence here: some may have
        // been archived at this very address from another device.
        None => Fallback::AnchorMissing(
            "this camera has no anchor yet (a clip archived at its primary address, by which \
             it is recognised at a fallback address); it may be another camera (sync it once \
             at its primary address, or use --accept-camera)"
                .to_owned(),
        ),
        Some(a) if anchor_listed(listed, a) => Fallback::Proved,
        Some(a) => Fallback::AnchorMissing(format!(
            "it does not list {} ({} bytes), the clip this camera left on its card to be \
             recognised at a fallback address; it may be another camera (if this camera's card \
             was formatted, sync it once at its primary address, or use --accept-camera)",
            a.name, a.size
        )),
    }
}

/// Which of the clips about to be decided is the camera's anchor: the
/// newest archived (highest row id) of those `listed` shows as archived.
/// `candidates` are (row id, shown as archived); `None` when none is.
pub(crate) fn pick_anchor<I: Copy + Ord>(candidates: &[(I, bool)]) -> Option<I> {
    candidates
        .iter()
        .filter(|(_, shown)| *shown)
        .map(|(id, _)| *id)
        .max()
}

/// [`MIN_EVIDENCE`] as the store takes it.
const MIN_EVIDENCE_U32: u32 = 3;
const _: () = assert!(MIN_EVIDENCE_U32 as usize == MIN_EVIDENCE);

/// The first and last recording times a listing shows (inclusive): the
/// window in which every clip known on the camera should be listed.
pub(crate) fn listed_window(listed: &[ListedClip]) -> Option<(i64, i64)> {
    let times = listed.iter().filter_map(|l| l.recorded_at);
    Some((times.clone().min()?, times.max()?))
}

/// Why the listing cannot be this camera's, if the clips say so.
fn clips_disagree(listed: &[ListedClip], complete: bool, known: &[KnownClip]) -> Option<String> {
    if listed.is_empty() || known.is_empty() {
        return None;
    }
    let sizes: HashMap<&str, u64> = known.iter().map(|k| (k.name.as_str(), k.size)).collect();
    let mut matched = 0usize;
    let mut other_size = 0usize;
    for l in listed {
        match sizes.get(l.name.as_str()) {
            Some(&size) if size == l.size || !l.size_exact => matched += 1,
            Some(_) => other_size += 1,
            None => {}
        }
    }
    if matched > 0 {
        return None;
    }
    if other_size >= MIN_EVIDENCE {
        return Some(format!(
            "{other_size} of the clips it lists have names this camera's clips have, with \
             other sizes, and none matches"
        ));
    }
    if !complete {
        return None;
    }
    let (first, last) = listed_window(listed)?;
    let names: HashSet<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    let missing = known
        .iter()
        .filter(|k| k.recorded_at.is_some_and(|t| (first..=last).contains(&t)))
        .filter(|k| !names.contains(k.name.as_str()))
        .count();
    // The count said is the evidence needed, not all there is: the store
    // gives the judge no more than that (`Store::known_for_listing`).
    (missing >= MIN_EVIDENCE).then(|| {
        format!(
            "none of the clips this camera should still hold from the time its listing \
             covers is listed ({MIN_EVIDENCE} or more are missing)"
        )
    })
}

impl Syncer {
    /// Judges the device at the address in use against the store (see the
    /// module) and records its identity. A refused device is an
    /// [`Error::is_wrong_camera`] unless the configuration accepts it.
    pub(super) async fn check_identity(
        &self,
        info: Option<&CameraInfo>,
        listed: &[ListedClip],
        complete: bool,
    ) -> Result<()> {
        let s = &*self.inner;
        let id = &s.cfg.camera_id;
        let stored = s.store.camera(id).await?;
        // Not every clip known on the camera (a year of them): those the
        // judges look at: they decide on these as on all of them.
        let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
        let known = s
            .store
            .known_for_listing(id, &names, listed_window(listed), MIN_EVIDENCE_U32)
            .await?;
        let model = info.and_then(|i| i.model.as_deref());
        let firmware = info.map(|i| i.firmware.as_str());
        let address = s.client.address();
        match judge(stored.as_ref(), model, firmware, listed, complete, &known) {
            Verdict::Refuse(why) if !s.cfg.accept_camera => {
                tracing::error!(camera = %id, %address, "refusing the device: {why}");
                return Err(Error::wrong_camera(id, address, why));
            }
            Verdict::Refuse(why) => {
                tracing::warn!(camera = %id, %address, "accepting the device as asked: {why}");
            }
            Verdict::FirmwareChanged { from, to } => {
                tracing::info!(camera = %id, "firmware changed from {from} to {to}");
            }
            Verdict::Same => {}
        }
        if s.client.at_fallback() {
            // At a fallback address only the anchor proves, on each cycle's
            // first listing (another device may answer there next time).
            self.forget_proof();
            match at_fallback(
                stored.as_ref().and_then(|r| r.anchor.as_ref()),
                listed,
                &known,
            ) {
                Fallback::Proved => {
                    self.identity_proved_by("its anchor clip is listed at its path with its size");
                }
                Fallback::NoAnchor => {}
                Fallback::AnchorMissing(why) if !s.cfg.accept_camera => {
                    tracing::error!(camera = %id, %address, "not syncing the device at this fallback address: {why}");
                    return Err(Error::wrong_camera(id, address, why));
                }
                Fallback::AnchorMissing(why) => {
                    tracing::warn!(camera = %id, %address, "accepting the device as asked: {why}");
                }
            }
        } else if known_clips_prove(listed, &known) {
            self.identity_proved_by("a clip it held before is listed with its size");
        }
        if let Some(was) = stored.as_ref().map(|r| r.seen.address.as_str())
            && was != address
        {
            tracing::info!(camera = %id, from = %was, to = %address, "camera address changed");
        }
        s.store
            .saw_camera(CameraSeen {
                camera_id: id.clone(),
                model: model.map(str::to_owned),
                firmware: firmware.map(str::to_owned),
                address: address.to_owned(),
            })
            .await?;
        Ok(())
    }
}

/// Where the camera's identity was proved, for the syncer's life.
#[derive(Debug, Default)]
pub(crate) struct Proof {
    /// The address at which it was proved.
    proved_at: Option<String>,
    /// The address at which "not yet proved" was last said.
    said_at: Option<String>,
    /// The anchor last recorded in the store by this syncer.
    pub(super) anchor: Option<viofo_store::ClipId>,
}

impl Syncer {
    /// Is the camera's identity proved at the address in use?
    pub(super) fn identity_proved(&self) -> bool {
        let s = &*self.inner;
        lock(&s.proof).proved_at.as_deref() == Some(s.client.address())
    }

    /// The identity is no longer taken as proved (at a fallback address,
    /// each cycle proves it anew).
    fn forget_proof(&self) {
        lock(&self.inner.proof).proved_at = None;
    }

    /// The camera's identity is proved at the address in use (`how`).
    pub(super) fn identity_proved_by(&self, how: &str) {
        let s = &*self.inner;
        let address = s.client.address();
        let mut p = lock(&s.proof);
        if p.proved_at.as_deref() == Some(address) {
            return;
        }
        p.proved_at = Some(address.to_owned());
        let waited = p.said_at.as_deref() == Some(address);
        drop(p);
        if waited {
            tracing::info!(camera = %s.cfg.camera_id, %address, "camera identity proved ({how}): deleting resumes");
        } else {
            tracing::debug!(camera = %s.cfg.camera_id, %address, "camera identity proved ({how})");
        }
    }

    /// Before the pending deletes are decided on `listed`: proves the
    /// identity by the clips archived (`archived`), or says once per
    /// address (INFO) that no clip is deleted until a listing does.
    /// Returns whether the identity is proved.
    pub(super) fn prove_by_archived(&self, listed: &[Shown<'_>], archived: &[Shown<'_>]) -> bool {
        if self.identity_proved() {
            return true;
        }
        let fallback = self.inner.client.at_fallback();
        // At a fallback address the clips archived there prove nothing:
        // they may be another camera's (see the module).
        if !fallback && listing_proves(listed, archived) {
            self.identity_proved_by("a clip it archived is listed at its path with its size");
            return true;
        }
        let s = &*self.inner;
        let address = s.client.address();
        let mut p = lock(&s.proof);
        if p.said_at.as_deref() != Some(address) {
            p.said_at = Some(address.to_owned());
            drop(p);
            if fallback {
                tracing::info!(
                    camera = %s.cfg.camera_id,
                    %address,
                    "camera identity not proved at this fallback address: no clip is deleted \
                     here until a listing shows the clip this camera left on its card as its \
                     anchor"
                );
            } else {
                tracing::info!(
                    camera = %s.cfg.camera_id,
                    %address,
                    "camera identity not yet proved at this address: no clip is deleted until \
                     a listing shows one this camera archived (same name, path and size)"
                );
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;
