//! The runner: one run of steps on a fresh world, checked after each step;
//! a seed's run; the shrinker (delta debugging over the steps kept).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::check::{Invariant, Violation, check};
use crate::step::{ALL_KINDS, Kind, Step, generate};
use crate::world::World;

/// What one run of steps found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every invariant held after every step.
    Pass,
    /// After step `at` (an index into the steps run), these broke.
    Fail {
        /// The failing step's index.
        at: usize,
        /// What broke.
        violations: Vec<Violation>,
    },
}

impl Verdict {
    /// The first broken invariant, if any.
    pub fn invariant(&self) -> Option<Invariant> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail { violations, .. } => violations.first().map(|v| v.invariant),
        }
    }
}

/// Runs `steps` on a fresh world (its own current-thread runtime), checking
/// the invariants after each; stops at the first step that breaks one.
pub fn run_steps(steps: &[Step]) -> Verdict {
    let labels: Vec<usize> = (0..steps.len()).collect();
    run_labelled(steps, &labels)
}

/// [`run_steps`], the violations naming each step by its label (its index
/// among the seed's generated steps, as the trace shows it).
pub fn run_labelled(steps: &[Step], labels: &[usize]) -> Verdict {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Verdict::Fail {
                at: 0,
                violations: vec![Violation {
                    invariant: Invariant::Panic,
                    detail: format!("no runtime: {e}"),
                }],
            };
        }
    };
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let mut w = World::start().await;
            let mut verdict = Verdict::Pass;
            for (i, step) in steps.iter().enumerate() {
                w.step = labels.get(i).copied().unwrap_or(i);
                let ran = Box::pin(w.apply(step)).await;
                let violations = check(&mut w, step, &ran).await;
                if !violations.is_empty() {
                    verdict = Verdict::Fail { at: i, violations };
                    break;
                }
            }
            w.close().await;
            verdict
        })
    }));
    match run {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Verdict::Fail {
                at: usize::MAX,
                violations: vec![Violation {
                    invariant: Invariant::Panic,
                    detail: format!("panicked: {msg}"),
                }],
            }
        }
    }
}

/// How seeds are run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Steps generated per seed.
    pub steps: usize,
    /// The kinds generated.
    pub kinds: Vec<Kind>,
    /// Shrink failures, at most this many extra runs each.
    pub shrink_runs: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            steps: 30,
            kinds: ALL_KINDS.to_vec(),
            shrink_runs: 40,
        }
    }
}

/// A seed whose run broke an invariant.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The plan it ran under.
    pub plan: Plan,
    /// Indices of the generated steps kept by shrinking (the whole prefix
    /// up to the failing step if not shrunk).
    pub kept: Vec<usize>,
    /// The generated steps.
    pub steps: Vec<Step>,
    /// What broke (on the shrunk run).
    pub violations: Vec<Violation>,
}

impl Failure {
    /// The first broken invariant.
    pub fn invariant(&self) -> Option<Invariant> {
        self.violations.first().map(|v| v.invariant)
    }

    /// A short replayable trace: the violations, the command that replays
    /// it, and the steps kept.
    pub fn trace(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "seed {} broke an invariant:", self.seed);
        for v in &self.violations {
            let _ = writeln!(s, "  {v}");
        }
        let kept: Vec<String> = self.kept.iter().map(usize::to_string).collect();
        let mut cmd = format!(
            "cargo run -p viofo-explorer -- --seed {} --steps {}",
            self.seed, self.plan.steps
        );
        if self.plan.kinds != ALL_KINDS {
            let k: Vec<&str> = self.plan.kinds.iter().map(|k| k.name()).collect();
            let _ = write!(cmd, " --kinds {}", k.join(","));
        }
        let _ = writeln!(s, "replay: {cmd} --keep {}", kept.join(","));
        let _ = writeln!(s, "steps ({} kept):", self.kept.len());
        for &i in &self.kept {
            if let Some(step) = self.steps.get(i) {
                let _ = writeln!(s, "  #{i:<3} {step}");
            }
        }
        s
    }
}

/// What a seed's run came to.
#[derive(Debug, Clone)]
pub struct SeedRun {
    /// Steps run (up to and including a failing one).
    pub steps_run: usize,
    /// The failure, shrunk, if any.
    pub failure: Option<Failure>,
}

/// Runs seed `seed` under `plan`; a failure is shrunk.
pub fn run_seed(seed: u64, plan: &Plan) -> SeedRun {
    let steps = generate(seed, plan.steps, &plan.kinds);
    run_generated(seed, plan, steps, None)
}

/// Runs the steps of `seed` kept by `keep` (all if `None`); a failure is
/// shrunk further.
pub fn run_generated(
    seed: u64,
    plan: &Plan,
    steps: Vec<Step>,
    keep: Option<Vec<usize>>,
) -> SeedRun {
    let kept: Vec<usize> = keep.unwrap_or_else(|| (0..steps.len()).collect());
    let chosen = select(&steps, &kept);
    match run_labelled(&chosen, &kept) {
        Verdict::Pass => SeedRun {
            steps_run: chosen.len(),
            failure: None,
        },
        Verdict::Fail { at, violations } => {
            let upto = kept
                .get(..=at.min(kept.len().saturating_sub(1)))
                .unwrap_or(&kept)
                .to_vec();
            let steps_run = upto.len();
            let first = violations.first().map(|v| v.invariant);
            let (kept, violations) = if plan.shrink_runs > 0 && first != Some(Invariant::Panic) {
                shrink(&steps, upto, violations, plan.shrink_runs)
            } else {
                (upto, violations)
            };
            SeedRun {
                steps_run,
                failure: Some(Failure {
                    seed,
                    plan: plan.clone(),
                    kept,
                    steps,
                    violations,
                }),
            }
        }
    }
}

fn select(steps: &[Step], kept: &[usize]) -> Vec<Step> {
    kept.iter().filter_map(|&i| steps.get(i).cloned()).collect()
}

/// Delta debugging: drops chunks of the kept steps (halves, quarters, ...,
/// single steps) while the run still breaks the same invariant, in at most
/// `budget` runs. Returns the steps kept and the last failure's violations.
pub fn shrink(
    steps: &[Step],
    mut kept: Vec<usize>,
    mut violations: Vec<Violation>,
    budget: usize,
) -> (Vec<usize>, Vec<Violation>) {
    let target = violations.first().map(|v| v.invariant);
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut runs = 0usize;
    let mut chunk = kept.len() / 2;
    while chunk >= 1 && runs < budget && Instant::now() < deadline {
        let mut i = 0usize;
        let mut progress = false;
        // The failing step itself (the last) is always kept.
        while i + 1 < kept.len() && runs < budget {
            let end = (i + chunk).min(kept.len() - 1);
            let mut candidate = kept.clone();
            candidate.drain(i..end);
            runs += 1;
            match run_labelled(&select(steps, &candidate), &candidate) {
                Verdict::Fail { at, violations: vs }
                    if vs.first().map(|v| v.invariant) == target =>
                {
                    candidate.truncate(at.saturating_add(1).min(candidate.len()));
                    kept = candidate;
                    violations = vs;
                    progress = true;
                }
                _ => i += chunk,
            }
        }
        if !progress {
            chunk /= 2;
        }
    }
    (kept, violations)
}
