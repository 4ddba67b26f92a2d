//! What only the viofosync reliability suite (`tests/it`) needs on top of
//! the shared test support of `viofo-testkit` (the rig, the no-data-loss
//! checker, the lock holder): a deliberately hostile camera, the real
//! `viofosync` binary for the crash scenario, the settle time of the
//! scenarios that delete, and the process's peak memory.
//!
//! The promise the suite proves, with `viofo_testkit::check_no_loss`: every
//! clip the camera started with is either still on the camera or in the
//! archive byte-identical; no file under a final name is partial; nothing
//! was deleted from the camera whose local copy is missing or different; the
//! store agrees with the disk; every archived clip with GPS has its GPX
//! sidecar. See `docs/RELIABILITY.md`.
#![deny(missing_docs)]

use std::time::Duration;

mod binary;
pub mod hostile;

pub use binary::viofosync_binary;

/// `viofosync sync` of camera `viofo_testkit::CAMERA` at `url` into
/// `archive` with the state database `db`, as a scenario runs it: a clean
/// environment rooted at `home`, text logs on stderr, deletes on, no legacy
/// import, no disk guard (the test machine's disk may be fuller than 90 %),
/// short timeouts; `extra` arguments after those. Stdin and stdout closed,
/// killed when dropped; the caller sets stderr.
pub fn sync_command(
    bin: &std::path::Path,
    home: &std::path::Path,
    url: &str,
    archive: &std::path::Path,
    db: &std::path::Path,
    extra: &[&str],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .current_dir(home)
        .args(["--log-format", "text", "sync", "--address", url])
        .args(["--camera-id", viofo_testkit::CAMERA])
        .arg("--archive")
        .arg(archive)
        .arg("--state-db")
        .arg(db)
        .args([
            "--delete-after-download",
            "--import-legacy=false",
            "--max-used-disk",
            "none",
            "--timeout",
            "5s",
            "--connect-timeout",
            "2s",
        ])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// `SyncConfig::delete_settle` for scenarios that delete: short, so a
/// cycle's wait before deleting the newest clip of a channel (its size seen
/// unchanged on two listings this far apart) costs little.
pub const DELETE_SETTLE: Duration = Duration::from_millis(200);

/// Peak resident set size of this process (`VmHWM`, bytes), if readable.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
