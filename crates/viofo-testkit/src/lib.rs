//! viofo-testkit: the test support viofosync's test suites share instead of
//! copying it (issue 11). Not published; only tests depend on it.
//!
//! - [`Rig`]: a simulated camera, a store and an archive in temp dirs, and
//!   syncers whose events are collected (built with [`Rig::builder`] where a
//!   suite needs other client timeouts, test-sized waits or an archive on a
//!   file system of its own);
//! - the **no-data-loss checker** ([`Catalog`], [`check_no_loss`]): every
//!   clip the camera started with is either still on the camera or in the
//!   archive byte-identical; no file under a final name is partial; nothing
//!   was deleted from the camera whose local copy is missing or different;
//!   the store agrees with the disk; every archived clip with GPS has its
//!   GPX sidecar;
//! - the **lock-holder process** ([`LockHolder`], the `viofo-lock-holder`
//!   binary): another process holding a database's write lock;
//! - a real **Garage** node on loopback ([`Garage`]) for the archive on
//!   object storage;
//! - finding (and building when needed) a workspace binary from a test of
//!   another package ([`workspace_binary`]).
//!
//! Every address is the simulator's on 127.0.0.1.
//!
//! ```
//! use viofo_sim::{ClipSpec, SimConfig};
//! use viofo_testkit::{Catalog, Rig};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let rig = Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(100_000))).await;
//! let catalog = Catalog::of(&rig.sim);
//! rig.cycle(rig.config()).await.unwrap();
//! let report = rig.check(&catalog).await;
//! report.assert_ok();
//! assert_eq!(report.archived.len(), 2);
//! # }
//! ```
#![deny(missing_docs)]

use std::io::Write as _;

mod binary;
mod checker;
mod garage;
mod lock;
mod rig;

pub use binary::{lock_holder_binary, sibling_binary, workspace_binary, workspace_root};
pub use checker::{
    ArchiveFile, Catalog, CatalogEntry, Hash, LossReport, StoreCheck, check_db_copy, check_no_loss,
    is_clip_name, sha256, sha256_file, sha256_sim, sidecar, walk,
};
pub use garage::{GARAGE_VERSION, Garage, Relay, garage_binary};
pub use lock::{Hold, LockHolder};
pub use rig::{Hook, Rig, RigBuilder, find, run_until_complete, test_client_config, wait_for};

/// Camera id every rig uses in the store.
pub const CAMERA: &str = "sim";

/// Writes a line straight to the process's stderr, past the test harness's
/// output capture, so it shows in `cargo test`'s output even when the test
/// passes (used for `SKIPPED: …` notes).
pub fn note(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
    let _ = e.flush();
}
