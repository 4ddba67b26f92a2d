//! The viofosync reliability suite: one named test per scenario of
//! docs/RELIABILITY.md. Shared harness: the `viofo-testkit` crate (rig,
//! no-data-loss checker, lock holder) and this package's library (what only
//! this suite needs).
//!
//! A custom harness (libtest-mimic, `harness = false`) that looks and takes
//! the same arguments as `cargo test`'s, so a scenario whose environment is
//! missing is reported as *ignored* with its reason instead of passing:
//! plain libtest cannot skip at run time.
#![allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]

mod archive;
mod crash;
mod cutlisting;
mod diskfull;
mod fallback;
mod features;
mod growing;
mod hostile;
mod importmove;
mod locked;
mod locking;
mod namereuse;
mod network;
mod objectstore;
mod recording;
mod resets;
mod samename;
mod twoprocs;

use std::future::Future;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Trial};
use viofo_testkit::note;

/// A scenario run on its own two-worker runtime (as
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` would).
/// A panic fails it.
fn scenario<F>(name: &str, f: fn() -> F) -> Trial
where
    F: Future<Output = ()> + 'static,
{
    Trial::test(name, move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?
            .block_on(f());
        Ok(())
    })
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let tmpfs = diskfull::probe_tmpfs();
    let bind = importmove::probe_bind();
    let garage = objectstore::probe();
    let trials = vec![
        scenario("crash::crash_anywhere", crash::crash_anywhere),
        scenario("network::network_faults", network::network_faults),
        scenario("diskfull::disk_full", diskfull::disk_full).with_ignored_flag(tmpfs.is_err()),
        scenario("diskfull::disk_full_enospc", diskfull::disk_full_enospc),
        scenario("locked::store_locked", locked::store_locked),
        scenario("hostile::hostile_camera", hostile::hostile_camera),
        scenario("recording::recording_camera", recording::recording_camera),
        scenario(
            "locking::locked_during_download",
            locking::locked_during_download,
        ),
        scenario("growing::growing_newest_clip", growing::growing_newest_clip),
        scenario(
            "samename::same_name_two_folders",
            samename::same_name_two_folders,
        ),
        scenario("cutlisting::cut_listings", cutlisting::cut_listings),
        scenario("resets::reset_burst", resets::reset_burst),
        scenario("archive::unwritable_archive", archive::unwritable_archive)
            .with_ignored_flag(tmpfs.is_err()),
        scenario("archive::missing_archive", archive::missing_archive),
        scenario(
            "namereuse::names_reused_after_a_format",
            namereuse::names_reused_after_a_format,
        ),
        scenario(
            "fallback::another_camera_at_the_fallback",
            fallback::another_camera_at_the_fallback,
        ),
        scenario("features::parked_at_home", features::parked_at_home),
        scenario("features::quota_rotates", features::quota_rotates),
        scenario(
            "twoprocs::two_processes_one_archive",
            twoprocs::two_processes_one_archive,
        ),
        scenario(
            "importmove::bind_mounted_archive",
            importmove::bind_mounted_archive,
        )
        .with_ignored_flag(bind.is_err()),
        scenario(
            "objectstore::never_over_an_object",
            objectstore::never_over_an_object,
        )
        .with_ignored_flag(garage.is_err()),
        scenario(
            "objectstore::sync_into_the_bucket",
            objectstore::sync_into_the_bucket,
        )
        .with_ignored_flag(garage.is_err()),
        scenario(
            "objectstore::store_unreachable_mid_sync",
            objectstore::store_unreachable_mid_sync,
        )
        .with_ignored_flag(garage.is_err()),
        scenario(
            "objectstore::killed_mid_upload_then_resumed",
            objectstore::killed_mid_upload_then_resumed,
        )
        .with_ignored_flag(garage.is_err()),
    ];
    if let Err(why) = &tmpfs
        && !args.list
    {
        for (test, what) in [
            ("diskfull::disk_full", "a small tmpfs"),
            ("archive::unwritable_archive", "a read-only tmpfs"),
        ] {
            note(&format!(
                "SKIPPED: {test} (reported as ignored): needs {what} and cannot mount one here: {why}"
            ));
        }
    }
    if let Err(why) = &bind
        && !args.list
    {
        note(&format!(
            "SKIPPED: importmove::bind_mounted_archive (reported as ignored): needs mount --bind and cannot here: {why}"
        ));
    }
    if let Err(why) = &garage
        && !args.list
    {
        note(&format!(
            "SKIPPED: objectstore::* (reported as ignored): needs a Garage binary: {why}"
        ));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
