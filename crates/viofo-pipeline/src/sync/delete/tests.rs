//! Every branch of the delete decision, and a property over sequences of
//! listings: no delete of a clip whose latest listing differs from the copy.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::super::listing::SizeHistory;
use super::*;

const PATH: &str = "/DCIM/Movie/2026_1101_101010_000001F.MP4";
const RO: &str = "/DCIM/Movie/RO/2026_1101_101010_000001F.MP4";

fn archived(size: u64) -> Archived<'static> {
    Archived {
        remote_path: PATH,
        size,
        local_size: Some(size),
    }
}

fn listed(size: u64) -> Listed<'static> {
    Listed {
        remote_path: PATH,
        size,
        exact: true,
        locked: false,
    }
}

fn cam() -> CameraState {
    CameraState {
        listed_after_record: true,
        listing_complete: true,
        recording: false,
        newest_of_channel: false,
        size_settled: true,
        duplicate_name: false,
        delete_locked: false,
        identity_proved: true,
        anchor: false,
    }
}

#[test]
fn table() {
    use Decision::{Delete, Keep};
    use KeepReason as K;
    let a = archived(1000);
    let l = listed(1000);
    type Case = (
        &'static str,
        Archived<'static>,
        Option<Listed<'static>>,
        CameraState,
        Decision,
    );
    let mut cases: Vec<Case> = vec![
        ("plain", a.clone(), Some(l.clone()), cam(), Delete),
        (
            "listing taken before the record",
            a.clone(),
            Some(l.clone()),
            CameraState {
                listed_after_record: false,
                ..cam()
            },
            Keep(K::ListingTooOld),
        ),
        (
            "not listed, complete listing",
            a.clone(),
            None,
            cam(),
            Keep(K::NotListed),
        ),
        (
            "not listed, cut listing",
            a.clone(),
            None,
            CameraState {
                listing_complete: false,
                ..cam()
            },
            Keep(K::ListingIncomplete),
        ),
        (
            "listed in a cut listing, all else fine",
            a.clone(),
            Some(l.clone()),
            CameraState {
                listing_complete: false,
                ..cam()
            },
            Delete,
        ),
        (
            "duplicate name",
            a.clone(),
            Some(l.clone()),
            CameraState {
                duplicate_name: true,
                ..cam()
            },
            Keep(K::DuplicateName),
        ),
        (
            "locked now",
            a.clone(),
            Some(Listed {
                locked: true,
                ..l.clone()
            }),
            cam(),
            Keep(K::Locked),
        ),
        (
            "locked now and moved to RO",
            a.clone(),
            Some(Listed {
                locked: true,
                remote_path: RO,
                ..l.clone()
            }),
            cam(),
            Keep(K::Locked),
        ),
        (
            "locked now, deleting locked clips on",
            a.clone(),
            Some(Listed {
                locked: true,
                ..l.clone()
            }),
            CameraState {
                delete_locked: true,
                ..cam()
            },
            Delete,
        ),
        (
            "moved to RO, deleting locked clips on",
            a.clone(),
            Some(Listed {
                locked: true,
                remote_path: RO,
                ..l.clone()
            }),
            CameraState {
                delete_locked: true,
                ..cam()
            },
            Keep(K::PathMoved {
                from: PATH.into(),
                to: RO.into(),
            }),
        ),
        (
            "moved, not locked",
            a.clone(),
            Some(Listed {
                remote_path: RO,
                ..l.clone()
            }),
            cam(),
            Keep(K::PathMoved {
                from: PATH.into(),
                to: RO.into(),
            }),
        ),
        (
            "local copy shrank",
            Archived {
                local_size: Some(10),
                ..a.clone()
            },
            Some(l.clone()),
            cam(),
            Keep(K::ArchiveChanged {
                expected: 1000,
                found: Some(10),
            }),
        ),
        (
            "local copy gone",
            Archived {
                local_size: None,
                ..a.clone()
            },
            Some(l.clone()),
            cam(),
            Keep(K::ArchiveChanged {
                expected: 1000,
                found: None,
            }),
        ),
        (
            "camera lists more bytes",
            a.clone(),
            Some(listed(1001)),
            cam(),
            Keep(K::SizeDiffers {
                archived: 1000,
                listed: 1001,
            }),
        ),
        (
            "camera lists fewer bytes",
            a.clone(),
            Some(listed(999)),
            cam(),
            Keep(K::SizeDiffers {
                archived: 1000,
                listed: 999,
            }),
        ),
        (
            "rounded size within 1 %",
            a.clone(),
            Some(Listed {
                exact: false,
                size: 1005,
                ..l.clone()
            }),
            cam(),
            Delete,
        ),
        (
            "rounded size off by more than 1 %",
            a.clone(),
            Some(Listed {
                exact: false,
                size: 1100,
                ..l.clone()
            }),
            cam(),
            Keep(K::SizeDiffers {
                archived: 1000,
                listed: 1100,
            }),
        ),
        (
            "newest while recording",
            a.clone(),
            Some(l.clone()),
            CameraState {
                newest_of_channel: true,
                recording: true,
                size_settled: true,
                ..cam()
            },
            Keep(K::PossiblyRecording),
        ),
        (
            "newest, not settled",
            a.clone(),
            Some(l.clone()),
            CameraState {
                newest_of_channel: true,
                size_settled: false,
                ..cam()
            },
            Keep(K::NotSettled),
        ),
        (
            "an older clip, not settled (issue 18)",
            a.clone(),
            Some(l.clone()),
            CameraState {
                size_settled: false,
                ..cam()
            },
            Keep(K::NotSettled),
        ),
        (
            "an older clip, rounded size, not settled",
            a.clone(),
            Some(Listed {
                exact: false,
                size: 1005,
                ..l.clone()
            }),
            CameraState {
                size_settled: false,
                ..cam()
            },
            Keep(K::NotSettled),
        ),
        (
            "not settled and another size: the size is the lasting reason",
            a.clone(),
            Some(listed(2000)),
            CameraState {
                size_settled: false,
                ..cam()
            },
            Keep(K::SizeDiffers {
                archived: 1000,
                listed: 2000,
            }),
        ),
        (
            "newest, settled",
            a.clone(),
            Some(l.clone()),
            CameraState {
                newest_of_channel: true,
                size_settled: true,
                ..cam()
            },
            Delete,
        ),
        (
            "newest, settled, rounded size only",
            a.clone(),
            Some(Listed {
                exact: false,
                ..l.clone()
            }),
            CameraState {
                newest_of_channel: true,
                size_settled: true,
                ..cam()
            },
            Keep(K::NotSettled),
        ),
        (
            "identity not proved (issue 18)",
            a.clone(),
            Some(l.clone()),
            CameraState {
                identity_proved: false,
                ..cam()
            },
            Keep(K::IdentityNotProved),
        ),
        (
            "identity not proved, locked: the lasting reason first",
            a.clone(),
            Some(Listed {
                locked: true,
                ..l.clone()
            }),
            CameraState {
                identity_proved: false,
                ..cam()
            },
            Keep(K::Locked),
        ),
        (
            "newest, grown (size first)",
            a.clone(),
            Some(listed(2000)),
            CameraState {
                newest_of_channel: true,
                size_settled: true,
                ..cam()
            },
            Keep(K::SizeDiffers {
                archived: 1000,
                listed: 2000,
            }),
        ),
    ];
    cases.push((
        "the camera's anchor (issue 18, item 4)",
        a.clone(),
        Some(l.clone()),
        CameraState {
            anchor: true,
            ..cam()
        },
        Keep(K::Anchor),
    ));
    cases.push((
        "the anchor, not proved: the identity first",
        a.clone(),
        Some(l.clone()),
        CameraState {
            anchor: true,
            identity_proved: false,
            ..cam()
        },
        Keep(K::IdentityNotProved),
    ));
    for (what, a, l, c, want) in cases {
        assert_eq!(may_delete(&a, l.as_ref(), &c), want, "{what}");
    }
}

#[test]
fn passing_and_lasting_reasons() {
    assert!(KeepReason::NotSettled.is_passing());
    assert!(KeepReason::PossiblyRecording.is_passing());
    assert!(KeepReason::ListingIncomplete.is_passing());
    assert!(KeepReason::ListingTooOld.is_passing());
    assert!(KeepReason::IdentityNotProved.is_passing());
    assert!(KeepReason::Anchor.is_passing());
    assert!(!KeepReason::Locked.is_passing());
    assert!(!KeepReason::NotListed.is_passing());
    assert!(!KeepReason::DuplicateName.is_passing());
    assert!(
        !KeepReason::SizeDiffers {
            archived: 1,
            listed: 2
        }
        .is_passing()
    );
}

/// One listing of the clip: what the camera shows and how long after the
/// previous listing it started (ms).
#[derive(Clone, Debug)]
struct Step {
    gap_ms: u64,
    size: u64,
    locked: bool,
    moved: bool,
    recording: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0u64..4000,
        prop_oneof![Just(1000u64), Just(1000), Just(1500), 0u64..3000],
        any::<bool>(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(gap_ms, size, locked, moved, recording)| Step {
            gap_ms,
            size,
            locked,
            moved,
            recording,
        })
}

proptest! {
    /// However the listings change, a delete is only ever decided on a
    /// listing that shows the archived size, unlocked, at the downloaded
    /// path, that size also shown by an earlier listing at least the settle
    /// time before (every clip), and for the newest clip the camera not
    /// recording.
    #[test]
    fn never_deletes_what_the_latest_listing_contradicts(
        steps in prop::collection::vec(step(), 1..12),
        newest in any::<bool>(),
        proved in prop::bool::weighted(0.8),
        anchor in prop::bool::weighted(0.2),
    ) {
        let settle = Duration::from_secs(2);
        let t0 = Instant::now();
        let mut at = t0;
        let mut history = SizeHistory::default();
        let name = "2026_1101_101010_000001F.MP4";
        let a = archived(1000);
        let mut seen: Vec<(Instant, u64)> = Vec::new();
        for s in &steps {
            at += Duration::from_millis(s.gap_ms);
            history.observe(at, true, [(name, s.size)]);
            seen.push((at, s.size));
            let l = Listed {
                remote_path: if s.moved { RO } else { PATH },
                size: s.size,
                exact: true,
                locked: s.locked,
            };
            let c = CameraState {
                newest_of_channel: newest,
                recording: s.recording,
                size_settled: history.settled(name, at, settle),
                identity_proved: proved,
                anchor,
                ..cam()
            };
            if may_delete(&a, Some(&l), &c) == Decision::Delete {
                prop_assert!(proved);
                prop_assert!(!anchor);
                prop_assert_eq!(s.size, 1000);
                prop_assert!(!s.locked);
                prop_assert!(!s.moved);
                if newest {
                    prop_assert!(!s.recording);
                }
                // For every clip, newest or not (issue 18): every listing
                // since `settle` before this one showed the archived size,
                // and an earlier listing at least `settle` before did.
                let earlier: Vec<_> = seen.iter().rev().skip(1).collect();
                prop_assert!(earlier.iter().any(|(t, _)| at.duration_since(*t) >= settle));
                let since_unchanged = seen
                    .iter()
                    .rev()
                    .take_while(|(_, sz)| *sz == 1000)
                    .last()
                    .map(|(t, _)| *t);
                prop_assert!(since_unchanged.is_some_and(|t| at.duration_since(t) >= settle));
            }
        }
    }
}
