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
