//! The identity judge's and the proof's table and property tests.

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
        anchor: None,
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
        matches!(v, Verdict::Refuse(ref w) if w.contains("3 or more are missing")),
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

fn anchor_of(l: &ListedClip) -> Anchor {
    Anchor {
        name: l.name.clone(),
        remote_path: l.remote_path.clone(),
        size: l.size,
    }
}

/// At a fallback address only the anchor proves (issue 18, item 4).
#[test]
fn the_anchor_is_listed_only_at_its_path_with_its_size() {
    let a = listed(7, 7, 1000);
    let anchor = anchor_of(&a);
    let others: Vec<ListedClip> = (1..5).map(|i| listed(i, i, 1000)).collect();
    let with = |l: ListedClip| {
        let mut v = others.clone();
        v.push(l);
        v
    };
    let cases: Vec<(&str, Vec<ListedClip>, bool)> = vec![
        ("listed as it was", with(a.clone()), true),
        ("not listed", others.clone(), false),
        ("another size", with(listed(7, 7, 999)), false),
        (
            "moved to RO",
            with(ListedClip {
                remote_path: format!("/DCIM/Movie/RO/{}", a.name),
                ..a.clone()
            }),
            false,
        ),
        (
            "a rounded size within 1 %",
            with(ListedClip {
                size: 1005,
                size_exact: false,
                ..a.clone()
            }),
            true,
        ),
        ("an empty card", vec![], false),
    ];
    for (what, l, want) in cases {
        assert_eq!(anchor_listed(&l, &anchor), want, "{what}");
    }
}

#[test]
fn the_anchor_is_the_newest_archived_clip_shown() {
    type Case = (&'static str, Vec<(i64, bool)>, Option<i64>);
    let cases: Vec<Case> = vec![
        ("none", vec![], None),
        ("none shown", vec![(1, false), (2, false)], None),
        (
            "the newest shown",
            vec![(1, true), (3, true), (2, true)],
            Some(3),
        ),
        ("the newest not shown", vec![(1, true), (3, false)], Some(1)),
    ];
    for (what, c, want) in cases {
        assert_eq!(pick_anchor(&c), want, "{what}");
    }
}

proptest! {
    /// The anchor is one of the clips shown, and no clip shown is newer.
    #[test]
    fn the_anchor_is_shown_and_newest(c in prop::collection::vec((0i64..50, any::<bool>()), 0..20)) {
        match pick_anchor(&c) {
            Some(id) => {
                prop_assert!(c.iter().any(|&(i, shown)| i == id && shown));
                prop_assert!(c.iter().all(|&(i, shown)| !shown || i <= id));
            }
            None => prop_assert!(c.iter().all(|&(_, shown)| !shown)),
        }
    }

    /// Whatever else a device lists, it proves nothing at a fallback
    /// address unless one entry is the anchor itself.
    #[test]
    fn only_the_anchor_proves_at_a_fallback(
        entries in prop::collection::vec((0i64..20, 0i64..30, 990u64..1010, any::<bool>()), 0..12),
    ) {
        let anchor = anchor_of(&listed(7, 7, 1000));
        let l: Vec<ListedClip> = entries
            .iter()
            .map(|&(seq, minute, size, exact)| ListedClip { size_exact: exact, ..listed(seq, minute, size) })
            .collect();
        let shows = l.iter().any(|x| {
            x.name == anchor.name
                && x.remote_path == anchor.remote_path
                && (if x.size_exact { x.size == 1000 } else { x.size.abs_diff(1000) <= x.size / 100 })
        });
        prop_assert_eq!(anchor_listed(&l, &anchor), shows);
    }
}

#[test]
fn a_fallback_device_without_the_anchor_is_not_synced() {
    let a = listed(7, 7, 1000);
    let anchor = anchor_of(&a);
    let others: Vec<ListedClip> = (1..5).map(|i| listed(i, i, 1000)).collect();
    let ours: Vec<KnownClip> = others[..2].iter().map(known).collect();
    let theirs: Vec<ListedClip> = (1..5).map(|i| listed(i, i, 1234)).collect();
    assert_eq!(at_fallback(None, &others, &[]), Fallback::NoAnchor);
    // Without an anchor, known clips are no evidence at a fallback (they
    // may have been archived there from another device).
    assert!(matches!(
        at_fallback(None, &others, &ours),
        Fallback::AnchorMissing(_)
    ));
    assert!(matches!(
        at_fallback(None, &theirs, &ours),
        Fallback::AnchorMissing(_)
    ));
    let with_anchor = [others.clone(), vec![a]].concat();
    assert_eq!(
        at_fallback(Some(&anchor), &with_anchor, &ours),
        Fallback::Proved
    );
    let Fallback::AnchorMissing(why) = at_fallback(Some(&anchor), &others, &ours) else {
        panic!("the anchor is not listed")
    };
    assert!(why.contains(&anchor.name), "{why}");
    assert!(matches!(
        at_fallback(Some(&anchor), &[], &[]),
        Fallback::AnchorMissing(_)
    ));
}

/// What the store gives the judges (`Store::known_for_listing`): the
/// known clips listed by name, `pick` chosen among those of the listing's
/// window it does not list (at most `MIN_EVIDENCE`, any of them), and one
/// known clip, any.
fn known_given(
    listed: &[ListedClip],
    known: &[KnownClip],
    rotate: usize,
    any: usize,
) -> Vec<KnownClip> {
    let names: HashSet<&str> = listed.iter().map(|l| l.name.as_str()).collect();
    let mut out: Vec<KnownClip> = known
        .iter()
        .filter(|k| names.contains(k.name.as_str()))
        .cloned()
        .collect();
    if let Some((first, last)) = listed_window(listed) {
        let mut missing: Vec<&KnownClip> = known
            .iter()
            .filter(|k| k.recorded_at.is_some_and(|t| (first..=last).contains(&t)))
            .filter(|k| !names.contains(k.name.as_str()))
            .collect();
        if !missing.is_empty() {
            let n = missing.len();
            missing.rotate_left(rotate % n);
        }
        out.extend(missing.into_iter().take(MIN_EVIDENCE).cloned());
    }
    if !known.is_empty() {
        out.extend(known.get(any % known.len()).cloned());
    }
    // Each once, as the store gives them.
    let mut seen = HashSet::new();
    out.retain(|k| seen.insert(k.name.clone()));
    out
}

proptest! {
    /// The judges decide on the few known clips the store gives them as
    /// on every clip known on the camera (a year of them): the verdict,
    /// the proof by known clips and the fallback's judgement.
    #[test]
    fn the_known_clips_of_the_listing_judge_as_all_of_them(
        known_clips in prop::collection::vec((0i64..30, 0i64..40, 1u64..3, any::<bool>()), 0..30),
        listing in prop::collection::vec((0i64..30, 0i64..40, 1u64..3, any::<bool>()), 0..15),
        complete in any::<bool>(),
        rotate in any::<usize>(),
        any_one in any::<usize>(),
    ) {
        let mut known_all: Vec<KnownClip> = Vec::new();
        for &(seq, minute, size, timed) in &known_clips {
            let k = KnownClip { recorded_at: timed.then_some(T0 + minute * MIN), ..known(&listed(seq, minute, size)) };
            if !known_all.iter().any(|o| o.name == k.name) {
                known_all.push(k);
            }
        }
        let l: Vec<ListedClip> = listing
            .iter()
            .map(|&(seq, minute, size, exact)| ListedClip { size_exact: exact, ..listed(seq, minute, size) })
            .collect();
        let given = known_given(&l, &known_all, rotate, any_one);
        prop_assert_eq!(
            judge(None, Some("A329S"), None, &l, complete, &known_all),
            judge(None, Some("A329S"), None, &l, complete, &given)
        );
        prop_assert_eq!(known_clips_prove(&l, &known_all), known_clips_prove(&l, &given));
        let anchor = anchor_of(&listed(7, 7, 1));
        for a in [None, Some(&anchor)] {
            prop_assert_eq!(at_fallback(a, &l, &known_all), at_fallback(a, &l, &given));
        }
    }
}
