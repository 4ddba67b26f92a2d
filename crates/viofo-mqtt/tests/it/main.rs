//! viofo-mqtt against a real Mosquitto (Debian's `mosquitto`), started by
//! the tests on a free 127.0.0.1 port.
//!
//! A custom harness (libtest-mimic, `harness = false`) that looks and takes
//! the same arguments as `cargo test`'s, so that without Mosquitto every
//! broker test is reported *ignored* with its reason, never passed.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

mod broker;
mod cases;
mod lifecycle;

use std::io::Write;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Trial};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let missing = broker::mosquitto().err();
    let needs = |name: &str, f: fn() -> Result<(), String>| {
        let why = missing.clone();
        Trial::test(name, move || match &why {
            // Asked to run it anyway (--include-ignored): fail, never pass.
            Some(why) => Err(why.clone().into()),
            None => f().map_err(Into::into),
        })
        .with_ignored_flag(missing.is_some())
    };
    let trials = vec![
        needs("broker::discovery_is_retained_and_complete", || {
            cases::on_runtime(cases::discovery_is_retained_and_complete())
        }),
        needs("broker::state_changes_are_published", || {
            cases::on_runtime(cases::state_changes_are_published())
        }),
        needs("broker::a_button_press_delivers_the_action", || {
            cases::on_runtime(cases::a_button_press_delivers_the_action())
        }),
        needs("broker::retained_and_huge_commands_are_ignored", || {
            cases::on_runtime(cases::retained_and_huge_commands_are_ignored())
        }),
        needs("broker::recovers_after_the_broker_restarts", || {
            cases::on_runtime(cases::recovers_after_the_broker_restarts())
        }),
        needs("broker::nothing_false_before_the_camera_was_asked", || {
            cases::on_runtime(lifecycle::nothing_false_before_the_camera_was_asked())
        }),
        needs("broker::orphaned_devices_are_removed", || {
            cases::on_runtime(lifecycle::orphaned_devices_are_removed())
        }),
        needs("broker::sync_now_while_paused_says_why", || {
            cases::on_runtime(lifecycle::sync_now_while_paused_says_why())
        }),
        needs("broker::tls_with_a_ca_file", || {
            cases::on_runtime(lifecycle::tls_with_a_ca_file())
        }),
        needs(
            "broker::the_password_is_never_logged",
            cases::the_password_is_never_logged,
        ),
        Trial::test("no_broker::a_broker_that_is_down_blocks_nothing", || {
            cases::on_runtime(cases::a_broker_that_is_down_blocks_nothing()).map_err(Into::into)
        }),
        Trial::test("no_broker::a_bad_url_is_a_configuration_error", || {
            cases::on_runtime(cases::a_bad_url_is_a_configuration_error()).map_err(Into::into)
        }),
    ];
    if let Some(why) = &missing
        && !args.list
    {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(
            e,
            "SKIPPED: the broker:: tests (reported as ignored): {why}"
        );
    }
    libtest_mimic::run(&args, trials).exit_code()
}
