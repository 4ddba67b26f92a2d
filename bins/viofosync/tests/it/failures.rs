//! A sync that leaves clips failed does not exit 0: exit 5 ("finished
//! with failures") and a closing line with the commands to see and retry
//! them, for `watch` too; a clean run after `retry-failed` exits 0.

use std::time::Duration;

use viofo_sim::{Fault, Target};

use crate::{Camera, Env, Running, signal, stderr};

#[test]
fn watch_stopped_after_a_cycle_with_failures_exits_5_and_says_why() {
    let cam = Camera::with_clips(2, 20_000);
    let env = Env::new();
    let bad = cam.sim().clips()[0].name.clone();
    cam.sim().inject(
        Fault::status(403)
            .on(Target::PathContains(bad.clone()))
            .always(),
    );
    let mut cmd = env.sync_std_cmd(&cam);
    cmd.args(["watch", "--interval", "1h"]);
    let mut run = Running::spawn(cmd, false);
    // Each such cycle is announced as it ends, the daemon keeps going.
    let warn = run.expect_line("finished with failures", Duration::from_secs(20));
    assert!(
        warn.contains("1 clip failed") && warn.contains("viofosync queue --state failed"),
        "{warn}"
    );
    signal(&run.child, rustix::process::Signal::TERM);
    assert_eq!(
        run.wait(Duration::from_secs(20)),
        Some(5),
        "{:#?}",
        run.seen
    );
    let last = run.seen.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("viofosync: finished with failures: 1 clip failed")
            && last.contains("viofosync retry-failed"),
        "{:#?}",
        run.seen
    );

    // Retried against a camera that now serves it: a clean run, exit 0.
    cam.sim().clear_faults();
    let out = env.sync_ok(&cam, &["retry-failed"]);
    assert!(out.contains("1 failed clips returned"), "{out}");
    let o = env.sync_cmd(&cam).arg("sync").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("finished with failures"),
        "{}",
        stderr(&o)
    );
    assert!(env.archive().join(&bad).is_file());
}

#[test]
fn json_logs_get_the_closing_line_as_one_error_object() {
    let cam = Camera::with_clips(1, 20_000);
    let env = Env::new();
    let bad = cam.sim().clips()[0].name.clone();
    cam.sim()
        .inject(Fault::status(403).on(Target::PathContains(bad)).always());
    let o = env
        .sync_cmd(&cam)
        .args(["--log-format", "json", "sync"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let err = stderr(&o);
    let errors: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v: &serde_json::Value| v["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert_eq!(errors[0]["fields"]["exit_code"], 5, "{err}");
    assert!(
        errors[0].to_string().contains("finished with failures"),
        "{err}"
    );
}
