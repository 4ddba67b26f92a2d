//! The generator: a pure function of the seed, covering every kind.

use std::collections::BTreeSet;

use viofo_explorer::{ALL_KINDS, Kind, generate};

#[test]
fn the_same_seed_gives_the_same_steps_and_others_differ() {
    let a = generate(7, 40, ALL_KINDS);
    assert_eq!(a, generate(7, 40, ALL_KINDS));
    assert_ne!(a, generate(8, 40, ALL_KINDS));
    assert_eq!(a.len(), 40);
}

#[test]
fn every_kind_is_generated_and_only_the_kinds_asked() {
    let mut seen = BTreeSet::new();
    for seed in 0..200 {
        seen.extend(generate(seed, 30, ALL_KINDS).iter().map(|s| s.kind()));
    }
    let all: BTreeSet<Kind> = ALL_KINDS.iter().copied().collect();
    assert_eq!(seen, all, "every kind appears in 200 seeds");
    let only = [Kind::Record, Kind::Sync];
    for seed in 0..20 {
        assert!(
            generate(seed, 30, &only)
                .iter()
                .all(|s| only.contains(&s.kind()))
        );
    }
}
