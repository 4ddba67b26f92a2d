//! Which stored tracks leave every journey as it was, so the journeys task
//! skips them instead of recomputing a journey that may hold a whole card.
//!
//! [`detect`](super::detect) reads of a clip its recording time, parking
//! flag, channel, name, size and fixes (its state only gives
//! `downloaded_bytes`, which the store reads live from the clips). A clip
//! whose journey was computed while it had no fixes, and whose track now
//! stored has none either, at the same size, gives `detect` the same
//! input as before: every journey stays the same (nothing else was
//! reported changed). A link of unknown facts (stored before migration
//! 0014) is never taken as unchanged.

use viofo_store::LinkFacts;

use super::JourneyClip;

/// What `clip` is taken into its journey with.
pub fn facts(clip: &JourneyClip) -> LinkFacts {
    LinkFacts {
        fixes: !clip.points.is_empty(),
        size: clip.size,
    }
}

/// Whether a clip taken into its journey with `then` and now standing at
/// `now` changes no journey: without fixes before and after, same size.
pub fn unchanged(then: Option<LinkFacts>, now: LinkFacts) -> bool {
    then.is_some_and(|t| !t.fixes && !now.fixes && t.size == now.size)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use viofo_store::{Channel, ClipId, ClipState, TrackPoint};

    use super::*;
    use crate::CameraClock;
    use crate::journeys::{Journey, JourneyOptions, detect};

    const MIN: i64 = 60_000;
    const T0: i64 = 1_774_742_400_000;

    fn f(fixes: bool, size: u64) -> LinkFacts {
        LinkFacts { fixes, size }
    }

    #[test]
    fn only_a_clip_without_fixes_before_and_after_at_its_size_is_unchanged() {
        for (then, now, want) in [
            (Some(f(false, 10)), f(false, 10), true),
            (Some(f(false, 10)), f(true, 10), false),
            (Some(f(true, 10)), f(false, 10), false),
            (Some(f(true, 10)), f(true, 10), false),
            (Some(f(false, 10)), f(false, 11), false),
            (None, f(false, 10), false),
        ] {
            assert_eq!(unchanged(then, now), want, "{then:?} {now:?}");
        }
    }

    /// Clip `id` of moment `k` (a minute after T0 each, named at
    /// `offset_min` past UTC), with 5 fixes when `fixes`.
    fn clip(
        id: usize,
        k: i64,
        rear: bool,
        parking: bool,
        offset_min: i64,
        fixes: bool,
    ) -> JourneyClip {
        let utc = T0 + k * MIN;
        JourneyClip {
            id: ClipId(i64::try_from(id).expect("small")),
            name: format!("{k:04}_{id}{}", if rear { 'R' } else { 'F' }),
            channel: if rear { Channel::Rear } else { Channel::Front },
            parking,
            recorded_at: Some(utc + offset_min * MIN),
            size: 1_000,
            state: ClipState::Pending,
            points: if fixes {
                (0..5)
                    .map(|i| TrackPoint {
                        time_ms: utc + i * 10_000,
                        lat: 48.0 + (k * 5 + i) as f64 * 1e-4,
                        lon: 2.0,
                        speed_mps: 12.0,
                        course_deg: 0.0,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The journeys as the store keeps them: `downloaded_bytes` is read
    /// live from the clips' states, not stored.
    fn stored(js: Vec<Journey>) -> Vec<Journey> {
        js.into_iter()
            .map(|j| Journey {
                downloaded_bytes: 0,
                ..j
            })
            .collect()
    }

    proptest! {
        /// The journeys task's model: the journeys computed over the clips
        /// as listed (no tracks yet), then each clip's track stored in a
        /// random order (with or without fixes, its size sometimes
        /// changed, its state downloaded): a track [`unchanged`] says
        /// changes nothing is skipped, any other recomputes; after every
        /// step the journeys kept equal those computed afresh over the
        /// clips as they are, and with tracks without fixes most steps
        /// are skipped.
        #[test]
        fn skipping_unchanged_tracks_keeps_the_journeys_of_a_recomputation(
            moments in proptest::collection::vec(
                (0i64..8, any::<bool>(), 0u8..10, any::<bool>(), any::<bool>(), any::<bool>()),
                1..24,
            ),
            order in proptest::collection::vec(any::<proptest::sample::Index>(), 48),
            offset_min in prop_oneof![Just(0i64), Just(60), Just(-300)],
        ) {
            // (minutes after the last moment, rear too, parking one in 10,
            // front fixes, rear fixes, size changes on download)
            let mut full = Vec::new();
            let mut resize = Vec::new();
            let mut k = 0;
            for &(step, rear, parking, ff, rf, grows) in &moments {
                k += step;
                let p = parking == 0;
                full.push(clip(full.len(), k, false, p, offset_min, ff));
                resize.push(grows);
                if rear {
                    full.push(clip(full.len(), k, true, p, offset_min, rf));
                    resize.push(false);
                }
            }
            let opts = JourneyOptions {
                clock: CameraClock::default(),
                ..JourneyOptions::default()
            };
            // As listed: no track yet.
            let mut now: Vec<JourneyClip> = full
                .iter()
                .map(|c| JourneyClip { points: Vec::new(), ..c.clone() })
                .collect();
            let link = |js: &[Journey], clips: &[JourneyClip]| {
                let mut m = std::collections::HashMap::new();
                for j in js {
                    for id in &j.clips {
                        let c = clips.iter().find(|c| c.id == *id).expect("its clip");
                        m.insert(*id, facts(c));
                    }
                }
                m
            };
            let mut kept = stored(detect(&now, &[], &opts));
            let mut links = link(&kept, &now);
            let mut left: Vec<usize> = (0..now.len()).collect();
            let (mut skipped, mut recomputed) = (0, 0);
            for ix in order {
                if left.is_empty() {
                    break;
                }
                let i = left.remove(ix.index(left.len()));
                let c = &mut now[i];
                c.points = full[i].points.clone();
                c.state = ClipState::Downloaded;
                if resize[i] {
                    c.size += 1;
                }
                let id = c.id;
                let fresh = stored(detect(&now, &[], &opts));
                if unchanged(links.get(&id).copied(), facts(&now[i])) {
                    skipped += 1;
                } else {
                    recomputed += 1;
                    kept = fresh.clone();
                    links = link(&kept, &now);
                }
                prop_assert_eq!(&kept, &fresh);
            }
            // Tracks without fixes at an unchanged size: skipped.
            let quiet = full
                .iter()
                .zip(&resize)
                .filter(|(c, r)| c.points.is_empty() && !**r && !c.parking)
                .count();
            prop_assert!(skipped + recomputed <= full.len());
            if quiet == full.len() {
                prop_assert_eq!(recomputed, 0);
            }
        }
    }
}
