//! sync, watch, dry run, status, queue, retry-failed, timings against the
//! simulator; the camera-unreachable, disk-full and interrupted exits.

use std::time::Duration;

use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::StoreCheck;

use crate::{Camera, Env, Running, closed_port, files, ok, signal, stderr, stdout};

#[test]
fn sync_then_status_queue_timings_retry_failed() {
    let cam = Camera::with_clips(3, 150_000);
    let catalog = cam.catalog();
    let env = Env::new();
    let out = env.sync_ok(&cam, &["sync", "--grouping", "daily"]);
    assert!(out.contains("synced 3 clips"), "{out}");
    let landed = files(&env.archive());
    for clip in cam.sim().clips() {
        let day = "2025-12-24";
        assert!(
            landed.contains(&format!("{day}/{}", clip.name)),
            "{landed:?}"
        );
        assert!(
            landed.contains(&format!("{day}/{}.gpx", clip.name)),
            "{landed:?}"
        );
    }
    assert!(env.default_db().is_file(), "state in $XDG_STATE_HOME");
    assert!(cam.sim().deleted().is_empty(), "no deletes unless asked");

    let out = env.sync_ok(&cam, &["status"]);
    assert!(out.contains("online") && out.contains("A329S"), "{out}");
    assert!(out.contains("3 done"), "{out}");
    assert!(
        out.contains("last cycle: #1") && out.contains("completed"),
        "{out}"
    );

    let out = env.sync_ok(&cam, &["queue"]);
    for clip in cam.sim().clips() {
        assert!(out.contains(&clip.name), "{out}");
    }
    assert!(out.contains("3 clips"), "{out}");
    let out = env.sync_ok(&cam, &["queue", "--state", "failed,pending"]);
    assert!(out.contains("0 clips"), "{out}");
    let o = env
        .sync_cmd(&cam)
        .args(["queue", "--state", "bogus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));

    let out = env.sync_ok(&cam, &["retry-failed"]);
    assert!(out.contains("0 failed clips returned"), "{out}");

    // A second, inline cycle: nothing new, but both modes are now recorded.
    let out = env.sync_ok(&cam, &["sync", "--tail", "inline"]);
    assert!(out.contains("synced 0 clips"), "{out}");

    let out = env.sync_ok(&cam, &["timings"]);
    assert!(
        out.contains("cycle #1") && out.contains("cycle #2"),
        "{out}"
    );
    assert!(out.contains("download        3"), "{out}");
    assert!(out.contains("gap             2"), "{out}");
    assert!(
        out.contains("last pipelined (#1) vs last inline (#2)"),
        "{out}"
    );
    // Every clip archived byte-identical with its GPX, recorded done.
    let report = cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
    assert_eq!(report.archived.len(), 3, "{report:?}");
}

#[test]
fn dry_run_lists_and_touches_nothing() {
    let cam = Camera::with_clips(2, 50_000);
    let env = Env::new();
    let out = env.sync_ok(&cam, &["sync", "--dry-run", "--delete-after-download"]);
    assert!(out.contains("would download 2 clips"), "{out}");
    assert!(out.contains("would delete 2 clips"), "{out}");
    for clip in cam.sim().clips() {
        assert!(out.contains(&format!("download  {}", clip.name)), "{out}");
    }
    assert!(files(&env.archive()).is_empty(), "archive untouched");
    assert!(!out.contains("note: the archive"), "{out}");
    assert!(!env.default_db().exists(), "no state database created");
    assert!(cam.sim().downloaded().is_empty() && cam.sim().deleted().is_empty());

    // The Python tool's DRY_RUN and ADDRESS work the same way; a dry run
    // needs no archive and creates none, but says a sync would stop.
    let missing = env.path("not-mounted");
    let out = ok(env
        .cmd()
        .env("ADDRESS", &cam.url)
        .env("DRY_RUN", "1")
        .env("VIOFOSYNC_ARCHIVE", &missing)
        .arg("sync"));
    assert!(out.contains("would download 2 clips"), "{out}");
    assert!(
        out.contains(&format!("note: the archive {}", missing.display()))
            && out.contains("create_archive"),
        "{out}"
    );
    assert!(!missing.exists());
    assert!(!env.default_db().exists());
}

#[test]
fn legacy_env_names_drive_a_real_sync() {
    let cam = Camera::with_clips(2, 60_000);
    let env = Env::new();
    env.make_archive();
    ok(env
        .cmd()
        .env("ADDRESS", &cam.url)
        .env("GROUPING", "monthly")
        .env("GPS_EXTRACT", "false")
        .env("MAX_USED_DISK", "100")
        .env("VIOFOSYNC_ARCHIVE", env.archive())
        .arg("sync"));
    let landed = files(&env.archive());
    assert_eq!(landed.len(), 2, "clips only, no GPX: {landed:?}");
    assert!(
        landed.iter().all(|f| f.starts_with("2025-12/")),
        "{landed:?}"
    );
}

#[test]
fn delete_after_download_and_json_logs() {
    let cam = Camera::with_clips(2, 40_000);
    let catalog = cam.catalog();
    let env = Env::new();
    let names = catalog.names();
    let o = env
        .sync_cmd(&cam)
        .args(["--log-format", "json", "sync", "--delete-after-download"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut deleted = cam.sim().deleted();
    deleted.sort();
    assert_eq!(deleted, names);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v.get("level").is_some(), "{l}");
    }
    // Each deleted clip has an identical local copy, recorded done.
    let report = cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
    assert_eq!(report.deleted.len(), 2, "{report:?}");
    assert_eq!(report.archived.len(), 2, "{report:?}");
}

#[test]
fn camera_unreachable_exits_3() {
    let env = Env::new();
    env.make_archive();
    let addr = format!("127.0.0.1:{}", closed_port());
    for sub in ["sync", "status", "doctor"] {
        let o = env
            .cmd()
            .args([sub, "--address", &addr, "--archive"])
            .arg(env.archive())
            .args(["--connect-timeout", "2s", "--max-used-disk", "100"])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(3),
            "{sub}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.contains("cannot reach the camera"), "{sub}: {all}");
        // The line that reports it names each cause once.
        let line = all
            .lines()
            .find(|l| {
                l.starts_with("viofosync: ")
                    || l.starts_with("camera: ")
                    || l.starts_with("FAIL  camera")
            })
            .unwrap_or_else(|| panic!("{sub}: no error line in {all}"));
        assert_each_cause_once(sub, line);
        // One line for people: the cause once and what to try (issue 21).
        assert!(
            line.ends_with(&format!(
                "cannot reach the camera at {addr} (connection refused): is this machine on the camera's Wi-Fi?"
            )),
            "{sub}: {line}"
        );
    }

    // With JSON logs the error is a JSON line too (no plain text on stderr).
    let o = env
        .cmd()
        .args([
            "--log-format",
            "json",
            "sync",
            "--address",
            &addr,
            "--archive",
        ])
        .arg(env.archive())
        .args(["--connect-timeout", "2s", "--max-used-disk", "100"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    let mut errors = 0;
    for l in err.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        if v["level"] == "ERROR" {
            errors += 1;
            assert!(
                l.contains("cannot reach the camera") && v["fields"]["exit_code"] == 3,
                "{l}"
            );
        }
    }
    assert_eq!(errors, 1, "{err}");
}

/// No cause is printed twice: neither a repeated segment nor a phrase
/// ("camera unreachable") said by two layers.
fn assert_each_cause_once(what: &str, line: &str) {
    let parts: Vec<&str> = line.split(": ").collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(
            !parts.iter().skip(i + 1).any(|q| q == p),
            "{what}: {p:?} repeats in {line}"
        );
    }
    assert_eq!(line.matches("reach").count(), 1, "{what}: {line}");
}

#[test]
fn disk_guard_exits_4() {
    let cam = Camera::with_clips(2, 40_000);
    let env = Env::new();
    let o = env
        .sync_cmd(&cam)
        .args(["sync", "--max-used-disk", "0.0001"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("disk full"), "{}", stderr(&o));
    assert!(
        cam.sim().downloaded().is_empty(),
        "nothing downloaded above the limit"
    );
}

#[test]
fn sigint_interrupts_sync_with_130_and_a_second_run_finishes() {
    // 4 clips of 400 kB over 400 kB/s: several seconds of downloading.
    let cam = Camera::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(4).size(400_000))
            .bandwidth(400_000),
    );
    let catalog = cam.catalog();
    let env = Env::new();
    let mut cmd = env.sync_std_cmd(&cam);
    cmd.args(["sync", "--on-interrupt", "cancel"]);
    let mut run = Running::spawn(cmd, false);
    run.expect_line("to download", Duration::from_secs(20));
    signal(&run.child, rustix::process::Signal::INT);
    let code = run.wait(Duration::from_secs(20));
    assert_eq!(code, Some(130), "{:#?}", run.seen);
    let landed = files(&env.archive());
    let clips = landed.iter().filter(|f| f.ends_with(".MP4")).count();
    assert!(clips < 4, "interrupted before the end: {landed:?}");
    // What the interrupted run left (checked on a copy of its database).
    cam.assert_no_loss_on_copy(&catalog, &env);

    // Nothing lost: the next run takes the rest.
    cam.sim().set_bandwidth(None);
    env.sync_ok(&cam, &["sync"]);
    let report = cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
    assert_eq!(report.archived.len(), 4, "{report:?}");
}

#[test]
fn watch_syncs_until_sigterm_then_exits_0() {
    let cam = Camera::with_clips(2, 30_000);
    let env = Env::new();
    let mut cmd = env.sync_std_cmd(&cam);
    cmd.args(["watch", "--interval", "1s"]);
    let mut run = Running::spawn(cmd, false);
    run.expect_line("cycle done: 2 clips", Duration::from_secs(20));
    // A clip recorded meanwhile is picked up by a later cycle.
    cam.sim()
        .add_clip(viofo_sim::ClipDef::synthetic(
            "2025_1224_130000_000009F.MP4",
            viofo_sim::Folder::Movie,
            20_000,
        ))
        .unwrap();
    run.expect_line("cycle done: 1 clips", Duration::from_secs(20));
    signal(&run.child, rustix::process::Signal::TERM);
    assert_eq!(
        run.wait(Duration::from_secs(20)),
        Some(0),
        "{:#?}",
        run.seen
    );
    assert!(files(&env.archive()).contains(&"2025_1224_130000_000009F.MP4".to_owned()));
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &std::path::Path) -> Vec<(String, u64, std::time::SystemTime)> {
    files(dir)
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(dir.join(&f)).unwrap();
            (f, m.len(), m.modified().unwrap())
        })
        .collect()
}

#[test]
fn dry_run_over_an_existing_archive_lists_prunes_and_changes_nothing() {
    let cam = Camera::with_clips(2, 30_000);
    let env = Env::new();
    env.sync_ok(&cam, &["sync"]);
    let before = snapshot(&env.archive());
    assert_eq!(
        before.iter().filter(|f| f.0.ends_with(".MP4")).count(),
        2,
        "{before:?}"
    );
    let downloads = cam.sim().downloaded().len();
    let ranged_before = cam
        .sim()
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.clip.is_some() && r.status == Some(206))
        .count();

    // The clips were recorded in 2025: a keep of one day prunes them all.
    let out = env.sync_ok(
        &cam,
        &[
            "sync",
            "--dry-run",
            "--keep",
            "1d",
            "--delete-after-download",
        ],
    );
    assert!(out.contains("would download 0 clips"), "{out}");
    assert!(out.contains("would prune 2 archived clips"), "{out}");
    for clip in cam.sim().clips() {
        assert!(
            out.lines()
                .any(|l| l.starts_with("  prune") && l.ends_with(&clip.name)),
            "{out}"
        );
    }
    assert_eq!(snapshot(&env.archive()), before, "the archive is untouched");
    // Nothing downloaded: the one read is the cycle's comparison of the
    // oldest archived clip still listed with its archived copy (a Range
    // request for its last 64 KiB, here the whole 30 kB clip), which the
    // real run makes too.
    let ranged = |sim: &viofo_sim::Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.clip.is_some() && r.status == Some(206))
            .count()
    };
    assert_eq!(
        cam.sim().downloaded().len() - ranged(cam.sim()),
        downloads - ranged_before,
        "nothing downloaded"
    );
    assert!(ranged(cam.sim()) - ranged_before <= 1);
    assert!(cam.sim().deleted().is_empty(), "nothing deleted");
    assert_eq!(cam.sim().clips().len(), 2);
}

#[test]
fn quiet_and_verbose_set_the_log_level_and_pipes_get_plain_lines() {
    let cam = Camera::with_clips(1, 20_000);
    let env = Env::new();
    let o = env.sync_cmd(&cam).args(["sync", "-q"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim(), "", "-q: warnings only");
    assert!(
        stdout(&o).contains("synced 1 clips"),
        "the report still prints"
    );

    cam.sim()
        .add_clip(viofo_sim::ClipDef::synthetic(
            "2025_1224_130000_000009F.MP4",
            viofo_sim::Folder::Movie,
            20_000,
        ))
        .unwrap();
    let o = env.sync_cmd(&cam).args(["sync", "-v"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(" INFO ") && err.contains("DEBUG"), "{err}");
    assert!(
        err.contains("archived 2025_1224_130000_000009F.MP4"),
        "{err}"
    );
    // Not a terminal: plain lines, no colours, no progress bars.
    assert!(
        !err.contains('\u{1b}'),
        "escape codes in piped logs: {err:?}"
    );
    assert!(!err.contains('\r'), "{err:?}");
}

#[test]
fn a_failing_clip_shows_in_queue_and_retry_failed_brings_it_back() {
    use viofo_sim::{Fault, Target};
    let cam = Camera::with_clips(2, 20_000);
    let env = Env::new();
    let bad = cam.sim().clips()[1].name.clone();
    cam.sim().inject(
        Fault::status(403)
            .on(Target::PathContains(bad.clone()))
            .always(),
    );
    // A refused download (403) is not retried: the clip is failed at once,
    // the other one is archived, and the run says so: exit 5 and a closing
    // line naming the failed clip and the commands to see and retry it.
    let o = env.sync_cmd(&cam).arg("sync").output().unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 failed"), "{}", stdout(&o));
    let last = stderr(&o);
    let last = last.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("viofosync: finished with failures: 1 clip failed")
            && last.contains("viofosync queue --state failed")
            && last.contains("viofosync retry-failed"),
        "{last}"
    );
    let out = env.sync_ok(&cam, &["queue", "--state", "failed"]);
    assert!(out.contains("1 clips") && out.contains("failed"), "{out}");
    let out = env.sync_ok(&cam, &["queue", "--state", "done"]);
    assert!(out.contains("1 clips") && !out.contains(&bad), "{out}");

    cam.sim().clear_faults();
    let out = env.sync_ok(&cam, &["retry-failed"]);
    assert!(out.contains("1 failed clips returned"), "{out}");
    let out = env.sync_ok(&cam, &["queue", "--state", "pending"]);
    assert!(out.contains(&bad), "{out}");
    env.sync_ok(&cam, &["sync"]);
    assert!(env.archive().join(&bad).is_file());
}

#[test]
fn status_and_queue_beside_a_running_sync_disturb_nothing_and_a_second_sync_is_refused() {
    // 3 clips of 300 kB over 300 kB/s: a few seconds of downloading.
    let cam = Camera::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(300_000))
            .bandwidth(300_000)
            .delete_delay(Duration::from_millis(10)),
    );
    let env = Env::new();
    let mut cmd = env.sync_std_cmd(&cam);
    cmd.arg("sync");
    let mut run = Running::spawn(cmd, false);
    run.expect_line("to download", Duration::from_secs(20));

    // The clip being downloaded shows as such, and looking does not
    // "recover" it from under the running sync.
    // The worker's state change is queued to the store's writer, not
    // awaited: poll (bounded) until it is committed.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let out = loop {
        let out = env.sync_ok(&cam, &["status"]);
        if out.contains("1 downloading") || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(out.contains("1 downloading"), "{out}");
    let out = env.sync_ok(&cam, &["queue", "--state", "downloading"]);
    assert!(out.contains("1 clips"), "{out}");

    // A second sync on the same state database is refused, naming why.
    let o = env.sync_cmd(&cam).arg("sync").output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("in use by another viofosync process"),
        "{}",
        stderr(&o)
    );

    assert_eq!(
        run.wait(Duration::from_secs(30)),
        Some(0),
        "{:#?}",
        run.seen
    );
    assert!(
        !run.seen.iter().any(|l| l.contains("ERROR")),
        "{:#?}",
        run.seen
    );
    let landed = files(&env.archive());
    assert_eq!(
        landed.iter().filter(|f| f.ends_with(".MP4")).count(),
        3,
        "{landed:?}"
    );
    let o = env.sync_cmd(&cam).arg("status").output().unwrap();
    assert!(stdout(&o).contains("3 done"), "{}", stdout(&o));
}
