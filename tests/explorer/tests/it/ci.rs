//! The CI budget: a fixed set of seeds over the kinds in `CI_KINDS`, every
//! invariant holding after every step. A longer run is one command:
//! `cargo run --release -p viofo-explorer -- --budget-secs 3600`.

use std::time::Instant;

use viofo_explorer::{CI_KINDS, Plan, run_seed};

/// Seeds and steps per seed the CI test runs (a few minutes on 2 cores).
const SEEDS: u64 = 60;
const STEPS: usize = 40;

#[test]
fn a_fixed_budget_of_seeds_holds_every_invariant() {
    let plan = Plan {
        steps: STEPS,
        kinds: CI_KINDS.to_vec(),
        shrink_runs: 20,
    };
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut steps = 0;
    for seed in 0..SEEDS {
        let r = run_seed(seed, &plan);
        steps += r.steps_run;
        if let Some(f) = r.failure {
            failures.push(f.trace());
        }
    }
    viofo_testkit::note(&format!(
        "explorer: {SEEDS} seeds, {steps} steps in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
