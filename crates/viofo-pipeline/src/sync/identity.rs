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

use std::collections::{HashMap, HashSet};

use viofo_client::CameraInfo;
use viofo_store::{CameraRow, CameraSeen, KnownClip, ListedClip};

use super::Syncer;
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
    let times = listed.iter().filter_map(|l| l.recorded_at);
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return None;
    };
    let names: HashSet<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    let missing = known
        .iter()
        .filter(|k| k.recorded_at.is_some_and(|t| (first..=last).contains(&t)))
        .filter(|k| !names.contains(k.name.as_str()))
        .count();
    (missing >= MIN_EVIDENCE).then(|| {
        format!(
            "none of the {missing} clips this camera should still hold from the time its \
             listing covers is listed"
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
        let known = s.store.known_on_camera(id).await?;
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

#[cfg(test)]
mod tests {
    use viofo_store::Channel;

    use super::*;

    const T0: i64 = 1_766_577_600_000;
    const MIN: i64 = 60_000;

    fn listed(seq: i64, minute: i64, size: u64) -> ListedClip {
        let name = format!("2025_1224_12{minute:02}00_{seq:06}F.MP4");
        ListedClip {
            remote_path: format!("/DCIM/Movie/{name}"),
            name,
            size,
            size_exact: true,
            locked: false,
            parking: false,
            channel: Channel::Front,
            recorded_at: Some(T0 + minute * MIN),
        }
    }

    fn known(l: &ListedClip) -> KnownClip {
        KnownClip {
            name: l.name.clone(),
            size: l.size,
            recorded_at: l.recorded_at,
        }
    }

    fn row(model: Option<&str>, firmware: Option<&str>) -> CameraRow {
        CameraRow {
            seen: CameraSeen {
                camera_id: "car".into(),
                model: model.map(str::to_owned),
                firmware: firmware.map(str::to_owned),
                address: "http://127.0.0.1:1".into(),
            },
            first_seen_at: 0,
            last_seen_at: 0,
        }
    }

    #[test]
    fn another_model_is_another_device() {
        let r = row(Some("A129"), Some("VIOFO_A129_V1"));
        let v = judge(
            Some(&r),
            Some("A329S"),
            Some("VIOFO_A329S_V2"),
            &[],
            true,
            &[],
        );
        assert!(matches!(v, Verdict::Refuse(ref w) if w.contains("A329S") && w.contains("A129")));
        // Case differences are not a different model; an unknown model
        // proves nothing.
        assert_eq!(
            judge(
                Some(&r),
                Some("a129"),
                Some("VIOFO_A129_V1"),
                &[],
                true,
                &[]
            ),
            Verdict::Same
        );
        assert_eq!(judge(Some(&r), None, None, &[], true, &[]), Verdict::Same);
    }

    #[test]
    fn a_firmware_upgrade_is_the_same_camera() {
        let r = row(Some("A329S"), Some("VIOFO_A329S_V1.0"));
        let v = judge(
            Some(&r),
            Some("A329S"),
            Some("VIOFO_A329S_V2.0"),
            &[],
            true,
            &[],
        );
        assert_eq!(
            v,
            Verdict::FirmwareChanged {
                from: "VIOFO_A329S_V1.0".into(),
                to: "VIOFO_A329S_V2.0".into()
            }
        );
    }

    #[test]
    fn the_same_card_later_is_the_same_camera() {
        // Known: minutes 0..10. The card now holds 5..20 (0..4 looped off).
        let old: Vec<ListedClip> = (0..10)
            .map(|m| listed(m, m, 1_000 + m.unsigned_abs()))
            .collect();
        let known: Vec<KnownClip> = old.iter().map(known).collect();
        let now: Vec<ListedClip> = (5..20)
            .map(|m| listed(m, m, 1_000 + m.unsigned_abs()))
            .collect();
        assert_eq!(judge(None, None, None, &now, true, &known), Verdict::Same);
    }

    #[test]
    fn a_formatted_card_is_the_same_camera() {
        let known: Vec<KnownClip> = (0..10).map(|m| known(&listed(m, m, 1_000))).collect();
        let now: Vec<ListedClip> = (30..35).map(|m| listed(900 + m, m, 5)).collect();
        assert_eq!(judge(None, None, None, &now, true, &known), Verdict::Same);
    }

    #[test]
    fn a_card_missing_every_clip_of_its_window_is_another_device() {
        // The other car of the same model recorded over the same hour.
        let known: Vec<KnownClip> = (0..10).map(|m| known(&listed(m, m, 1_000))).collect();
        let now: Vec<ListedClip> = (2..8).map(|m| listed(500 + m, m, 7)).collect();
        let v = judge(None, Some("A329S"), None, &now, true, &known);
        assert!(
            matches!(v, Verdict::Refuse(ref w) if w.contains("6 clips")),
            "{v:?}"
        );
    }

    #[test]
    fn a_listing_cut_short_proves_nothing_by_what_it_lacks() {
        let known: Vec<KnownClip> = (0..10).map(|m| known(&listed(m, m, 1_000))).collect();
        let now: Vec<ListedClip> = (2..8).map(|m| listed(500 + m, m, 7)).collect();
        assert_eq!(judge(None, None, None, &now, false, &known), Verdict::Same);
        // Names it does list with other sizes still count.
        let now: Vec<ListedClip> = (0..5).map(|m| listed(m, m, 2_000)).collect();
        assert!(matches!(
            judge(None, None, None, &now, false, &known),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn names_known_with_other_sizes_are_another_device() {
        let known: Vec<KnownClip> = (0..5).map(|m| known(&listed(m, m, 1_000))).collect();
        let now: Vec<ListedClip> = (0..5).map(|m| listed(m, m, 2_000)).collect();
        assert!(matches!(
            judge(None, None, None, &now, true, &known),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn one_matching_clip_or_thin_evidence_accepts() {
        let known: Vec<KnownClip> = (0..10).map(|m| known(&listed(m, m, 1_000))).collect();
        // Everything else deleted in the app, one clip left: the same card.
        let now = vec![listed(3, 3, 1_000), listed(700, 9, 5)];
        assert_eq!(judge(None, None, None, &now, true, &known), Verdict::Same);
        // Two missing clips in the window are not enough to refuse.
        let now = vec![listed(800, 4, 5), listed(801, 5, 5)];
        assert_eq!(judge(None, None, None, &now, true, &known), Verdict::Same);
        // The newest clip grew (another size): not evidence on its own.
        let now = vec![listed(9, 9, 4_000)];
        assert_eq!(judge(None, None, None, &now, true, &known), Verdict::Same);
        // Nothing known, or nothing listed: nothing to compare.
        assert_eq!(judge(None, None, None, &now, true, &[]), Verdict::Same);
        assert_eq!(judge(None, None, None, &[], true, &known), Verdict::Same);
    }
}
