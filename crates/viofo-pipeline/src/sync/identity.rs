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

use std::collections::{HashMap, HashSet};

use viofo_client::CameraInfo;
use viofo_store::{CameraRow, CameraSeen, KnownClip, ListedClip};

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
        if known_clips_prove(listed, &known) {
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
}

impl Syncer {
    /// Is the camera's identity proved at the address in use?
    pub(super) fn identity_proved(&self) -> bool {
        let s = &*self.inner;
        lock(&s.proof).proved_at.as_deref() == Some(s.client.address())
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
        if listing_proves(listed, archived) {
            self.identity_proved_by("a clip it archived is listed at its path with its size");
            return true;
        }
        let s = &*self.inner;
        let address = s.client.address();
        let mut p = lock(&s.proof);
        if p.said_at.as_deref() != Some(address) {
            p.said_at = Some(address.to_owned());
            drop(p);
            tracing::info!(
                camera = %s.cfg.camera_id,
                %address,
                "camera identity not yet proved at this address: no clip is deleted until a \
                 listing shows one this camera archived (same name, path and size)"
            );
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
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

    fn shown(name: &'static str, path: &'static str, size: u64) -> Shown<'static> {
        Shown {
            name,
            remote_path: path,
            size,
            exact: true,
        }
    }

    const A: &str = "2025_1224_120000_000001F.MP4";
    const B: &str = "2025_1224_120100_000002F.MP4";
    const PA: &str = "/DCIM/Movie/2025_1224_120000_000001F.MP4";
    const PB: &str = "/DCIM/Movie/2025_1224_120100_000002F.MP4";
    const RO: &str = "/DCIM/Movie/RO/2025_1224_120000_000001F.MP4";

    #[test]
    fn what_proves_the_identity() {
        let a = shown(A, PA, 1_000);
        let b = shown(B, PB, 2_000);
        let cases: Vec<(&str, Vec<Shown<'static>>, Vec<Shown<'static>>, bool)> = vec![
            (
                "an archived clip listed as archived",
                vec![a, b],
                vec![a],
                true,
            ),
            ("one of several is enough", vec![b], vec![a, b], true),
            (
                "nothing archived (deletes on, a new card)",
                vec![a, b],
                vec![],
                false,
            ),
            ("nothing listed", vec![], vec![a], false),
            ("another size", vec![shown(A, PA, 1_001)], vec![a], false),
            (
                "another path (moved to RO)",
                vec![shown(A, RO, 1_000)],
                vec![a],
                false,
            ),
            ("other names only", vec![b], vec![a], false),
            (
                "a rounded size within 1 %",
                vec![Shown {
                    exact: false,
                    size: 1_005,
                    ..a
                }],
                vec![a],
                true,
            ),
            (
                "a rounded size off by more",
                vec![Shown {
                    exact: false,
                    size: 1_100,
                    ..a
                }],
                vec![a],
                false,
            ),
        ];
        for (what, listed, archived, want) in cases {
            assert_eq!(listing_proves(&listed, &archived), want, "{what}");
        }
    }

    #[test]
    fn known_clips_prove_by_name_and_size() {
        let known: Vec<KnownClip> = (0..3).map(|m| known(&listed(m, m, 1_000))).collect();
        assert!(known_clips_prove(&[listed(1, 1, 1_000)], &known));
        assert!(!known_clips_prove(&[listed(1, 1, 1_001)], &known));
        assert!(!known_clips_prove(&[listed(9, 9, 1_000)], &known));
        assert!(!known_clips_prove(&[listed(1, 1, 1_000)], &[]));
        assert!(!known_clips_prove(&[], &known));
    }

    fn arb_shown() -> impl Strategy<Value = (u8, bool, u64, bool)> {
        // name index, moved, size, exact
        (
            0u8..6,
            prop::bool::weighted(0.2),
            990u64..1_020,
            prop::bool::weighted(0.8),
        )
    }

    const NAMES: [&str; 6] = [
        "2025_1224_120000_000001F.MP4",
        "2025_1224_120100_000002F.MP4",
        "2025_1224_120200_000003F.MP4",
        "2025_1224_120300_000004F.MP4",
        "2025_1224_120400_000005F.MP4",
        "2025_1224_120500_000006F.MP4",
    ];

    fn make(v: &[(u8, bool, u64, bool)], owned: &mut Vec<(String, String)>) {
        for &(n, moved, _, _) in v {
            let name = NAMES[usize::from(n)];
            let path = if moved {
                format!("/DCIM/Movie/RO/{name}")
            } else {
                format!("/DCIM/Movie/{name}")
            };
            owned.push((name.to_owned(), path));
        }
    }

    proptest! {
        /// The identity is proved exactly when some archived clip is listed
        /// under its name at its path with its size (a rounded size within
        /// 1 %); a listing of other clips only never proves it.
        #[test]
        fn proved_only_by_an_archived_clip_listed_as_archived(
            listed in prop::collection::vec(arb_shown(), 0..6),
            archived in prop::collection::vec(arb_shown(), 0..6),
        ) {
            let (mut lo, mut ao) = (Vec::new(), Vec::new());
            make(&listed, &mut lo);
            make(&archived, &mut ao);
            let l: Vec<Shown<'_>> = listed.iter().zip(&lo).map(|(&(_, _, size, exact), (n, p))| Shown {
                name: n, remote_path: p, size, exact,
            }).collect();
            // Archived sizes are exact: what was downloaded.
            let a: Vec<Shown<'_>> = archived.iter().zip(&ao).map(|(&(_, _, size, _), (n, p))| Shown {
                name: n, remote_path: p, size, exact: true,
            }).collect();
            let proved = listing_proves(&l, &a);
            // The first listed entry of a name is the one compared.
            let mut first: HashMap<&str, &Shown<'_>> = HashMap::new();
            for x in &l {
                first.entry(x.name).or_insert(x);
            }
            let want = a.iter().any(|a| first.get(a.name).is_some_and(|x| {
                x.remote_path == a.remote_path
                    && if x.exact { x.size == a.size } else { x.size.abs_diff(a.size) <= x.size / 100 }
            }));
            prop_assert_eq!(proved, want);
            if proved {
                prop_assert!(!a.is_empty() && !l.is_empty());
            }
            let names: HashSet<&str> = a.iter().map(|a| a.name).collect();
            let others: Vec<Shown<'_>> = l.iter().copied().filter(|x| !names.contains(x.name)).collect();
            prop_assert!(!listing_proves(&others, &a));
        }
    }
}
