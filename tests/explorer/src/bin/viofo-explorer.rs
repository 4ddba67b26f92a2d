//! `viofo-explorer`: runs the whole-system explorer over seeds.
//!
//! ```text
//! viofo-explorer --seed N [--keep 0,3,7]      one seed (or some of its steps)
//! viofo-explorer --seeds A..B                 seeds A to B-1
//! viofo-explorer --budget-secs S [--from A]   seeds from A until S seconds pass
//!   --steps L          steps per seed (default 30)
//!   --kinds a,b,...    generate only these kinds (default all)
//!   --without a,b,...  generate all kinds but these
//!   --ci-kinds         generate the CI test's kinds
//!   --no-shrink        report failures unshrunk
//! ```
//! Exit code 0 when every seed held every invariant, 1 when one did not,
//! 2 on bad arguments.

use std::io::Write as _;
use std::time::Instant;

use viofo_explorer::{ALL_KINDS, CI_KINDS, Kind, Plan, generate, run_generated, run_seed};

enum Seeds {
    One(u64, Option<Vec<usize>>),
    Range(u64, u64),
    Budget(u64, u64),
}

fn parse() -> Result<(Seeds, Plan), String> {
    let mut plan = Plan::default();
    let mut seeds = None;
    let mut keep = None;
    let mut from = 0u64;
    let mut budget = None;
    let mut args = std::env::args().skip(1);
    let num = |s: Option<String>, what: &str| -> Result<u64, String> {
        s.ok_or(format!("{what} needs a value"))?
            .parse::<u64>()
            .map_err(|e| format!("{what}: {e}"))
    };
    let kinds = |s: Option<String>| -> Result<Vec<Kind>, String> {
        s.ok_or("--kinds needs a list")?
            .split(',')
            .map(|k| Kind::parse(k.trim()).ok_or(format!("unknown kind {k:?}")))
            .collect()
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seeds = Some(Seeds::One(num(args.next(), "--seed")?, None)),
            "--seeds" => {
                let r = args.next().ok_or("--seeds needs A..B")?;
                let (a, b) = r.split_once("..").ok_or("--seeds needs A..B")?;
                seeds = Some(Seeds::Range(
                    num(Some(a.to_owned()), "--seeds")?,
                    num(Some(b.to_owned()), "--seeds")?,
                ));
            }
            "--budget-secs" => budget = Some(num(args.next(), "--budget-secs")?),
            "--from" => from = num(args.next(), "--from")?,
            "--steps" => plan.steps = usize::try_from(num(args.next(), "--steps")?).unwrap_or(30),
            "--kinds" => plan.kinds = kinds(args.next())?,
            "--without" => {
                let out = kinds(args.next())?;
                plan.kinds = ALL_KINDS
                    .iter()
                    .copied()
                    .filter(|k| !out.contains(k))
                    .collect();
            }
            "--ci-kinds" => plan.kinds = CI_KINDS.to_vec(),
            "--no-shrink" => plan.shrink_runs = 0,
            "--keep" => {
                let list = args.next().ok_or("--keep needs a list")?;
                keep = Some(
                    list.split(',')
                        .map(|i| {
                            i.trim()
                                .parse::<usize>()
                                .map_err(|e| format!("--keep: {e}"))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let seeds = match (seeds, budget) {
        (Some(Seeds::One(s, _)), _) => Seeds::One(s, keep),
        (Some(s), None) => s,
        (None, Some(b)) => Seeds::Budget(from, b),
        (Some(_), Some(_)) => return Err("--budget-secs goes with --from, not --seeds".into()),
        (None, None) => return Err("give --seed N, --seeds A..B or --budget-secs S".into()),
    };
    Ok((seeds, plan))
}

fn main() {
    let mut out = std::io::stdout().lock();
    let (seeds, plan) = match parse() {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(out, "viofo-explorer: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let (mut runs, mut steps, mut failures) = (0u64, 0usize, Vec::new());
    let mut one = |seed: u64, keep: Option<Vec<usize>>, out: &mut std::io::StdoutLock<'_>| {
        let r = match keep {
            Some(k) => run_generated(
                seed,
                &plan,
                generate(seed, plan.steps, &plan.kinds),
                Some(k),
            ),
            None => run_seed(seed, &plan),
        };
        runs += 1;
        steps += r.steps_run;
        match &r.failure {
            None => {
                let _ = writeln!(out, "seed {seed}: ok ({} steps)", r.steps_run);
            }
            Some(f) => {
                let _ = write!(out, "{}", f.trace());
                failures.push(f.clone());
            }
        }
        let _ = out.flush();
    };
    match seeds {
        Seeds::One(s, keep) => one(s, keep, &mut out),
        Seeds::Range(a, b) => (a..b).for_each(|s| one(s, None, &mut out)),
        Seeds::Budget(from, secs) => {
            let mut s = from;
            while started.elapsed().as_secs() < secs {
                one(s, None, &mut out);
                s += 1;
            }
        }
    }
    let _ = writeln!(
        out,
        "{runs} seeds, {steps} steps, {:.0} s, {} failing",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    let mut by: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
    for f in &failures {
        by.entry(f.invariant().map_or("?", |i| i.name()))
            .or_default()
            .push(f.seed);
    }
    for (inv, seeds) in by {
        let _ = writeln!(out, "  {inv}: seeds {seeds:?}");
    }
    std::process::exit(i32::from(!failures.is_empty()));
}
