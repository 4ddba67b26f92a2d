//! The real `viofosync` binary for the scenarios where a process must die.

use std::path::PathBuf;

/// The real `viofosync` binary, for scenarios where a process must die.
///
/// Tests of this package cannot use `CARGO_BIN_EXE_viofosync` (it belongs
/// to another package), so [`viofo_testkit::workspace_binary`] finds it, in
/// order:
/// 1. `VIOFOSYNC_BIN`, if set, names it;
/// 2. `target/<profile>/viofosync` beside this test executable, if it is
///    no older than the workspace's sources (`cargo test --workspace`
///    builds it there, because `bins/viofosync` has integration tests);
/// 3. otherwise (`cargo test -p viofosync-reliability`) it is built with
///    `$CARGO build -p viofosync --bin viofosync` into the same target
///    folder and profile (`CARGO` is set by `cargo test`).
///
/// Decided once per process; the error says what was tried.
pub fn viofosync_binary() -> Result<PathBuf, String> {
    static BIN: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BIN.get_or_init(|| viofo_testkit::workspace_binary("viofosync", "viofosync", "VIOFOSYNC_BIN"))
        .clone()
}
