//! README's walkthrough against `viofosync sim` (issue 21): its commands,
//! read from README.md's section as written, run against the simulator on
//! 127.0.0.1 (port 0) in a fresh HOME; each exits 0 and logs no WARN or
//! ERROR line.

use std::time::Duration;

use crate::{Env, Running, stderr, stdout};

const SECTION: &str = "## A walkthrough against the simulated camera";

/// The `viofosync ...` lines of README's walkthrough, in order.
fn walkthrough() -> Vec<Vec<String>> {
    let readme = include_str!("../../../../README.md");
    let start = readme.find(SECTION).expect("README has the walkthrough");
    let body = &readme[start + SECTION.len()..];
    let body = &body[..body.find("\n#").unwrap_or(body.len())];
    body.lines()
        .filter(|l| l.starts_with("    viofosync "))
        .map(|l| l.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect()
}

#[test]
fn readme_walkthrough_against_the_simulator_warns_of_nothing() {
    let env = Env::new();
    let steps = walkthrough();
    let (sim, steps) = steps.split_first().expect("commands in the walkthrough");
    assert_eq!(sim[0], "sim", "the walkthrough starts the simulator");
    assert!(steps.len() >= 5, "{steps:?}");

    let mut cmd = env.std_cmd();
    cmd.args(sim).args(["--port", "0"]);
    let mut running = Running::spawn(cmd, true);
    let line = running.expect_line("listening on http://127.0.0.1:", Duration::from_secs(30));
    let address = line.trim().trim_start_matches("listening on http://");
    assert!(address.starts_with("127.0.0.1:"), "{line}");
    let archive = env.path("dashcam");

    for step in steps {
        let args: Vec<String> = step
            .iter()
            .map(|a| {
                a.replace("127.0.0.1:PORT", address)
                    .replace("/tmp/dashcam", &archive.display().to_string())
            })
            .collect();
        let o = env.cmd().args(&args).output().unwrap();
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{args:?}\n{out}{err}");
        let alarms: Vec<&str> = err
            .lines()
            .filter(|l| {
                l.contains(" WARN ") || l.contains(" ERROR ") || l.starts_with("viofosync:")
            })
            .collect();
        assert!(alarms.is_empty(), "{args:?}: {alarms:#?}\n{err}");
        if args[0] == "sync" && !args.iter().any(|a| a == "--dry-run") {
            assert!(out.contains("synced 4 clips"), "{args:?}: {out}");
        }
    }
    let clips = crate::files(&archive)
        .into_iter()
        .filter(|f| f.ends_with(".MP4"))
        .count();
    assert_eq!(clips, 4, "{:?}", crate::files(&archive));
}
