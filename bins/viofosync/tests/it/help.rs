//! Every command's `--help`, pinned by snapshots (insta): a change to what
//! a command says about itself shows up as a reviewed diff
//! (`cargo insta review`, or `INSTA_UPDATE=always` then `git diff`), not as
//! a `contains` that still passes.

use crate::Env;

/// Each command of the binary (and the top level).
const COMMANDS: &[&[&str]] = &[
    &[],
    &["sync"],
    &["watch"],
    &["status"],
    &["queue"],
    &["retry-failed"],
    &["timings"],
    &["gpx"],
    &["import"],
    &["sim"],
    &["doctor"],
    &["config"],
    &["trips"],
    &["places"],
    &["demo"],
    &["health"],
];

#[test]
fn every_commands_help_is_pinned() {
    let env = Env::new();
    for cmd in COMMANDS {
        let mut args: Vec<&str> = cmd.to_vec();
        args.push("--help");
        let out = env.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let name = if cmd.is_empty() {
            "top".to_owned()
        } else {
            cmd.join("_")
        };
        insta::assert_snapshot!(format!("help_{name}"), text);
    }
}

/// A command takes only the settings it uses (issue 21): a sync setting on
/// `queue` (and the like) is a usage error naming the flag, exit code 2,
/// instead of being accepted and ignored. The global ones (archive, state
/// database, log format, configuration file) are taken everywhere.
#[test]
fn a_setting_a_command_does_not_use_is_a_usage_error() {
    let env = Env::new();
    let refused: &[&[&str]] = &[
        &["queue", "--dry-run", "--mqtt-url", "x"],
        &["queue", "--downloads", "2"],
        &["places", "--keep", "30d"],
        &["trips", "--delete-after-download"],
        &["retry-failed", "--grouping", "daily"],
        &["timings", "--listen", "off"],
        &["health", "--downloads", "1"],
        &["sync", "--mqtt-url", "mqtt://127.0.0.1:1"],
    ];
    for args in refused {
        let o = env.cmd().args(*args).output().unwrap();
        let err = crate::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("unexpected argument") && err.contains(args[1]),
            "{args:?}: {err}"
        );
    }
    let db = env.path("state.db");
    let archive = env.make_archive();
    for cmd in ["queue", "places", "trips", "retry-failed", "timings"] {
        let o = env
            .cmd()
            .args([cmd, "--log-format", "text", "--state-db"])
            .arg(&db)
            .arg("--archive")
            .arg(&archive)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", crate::stderr(&o));
    }
}
