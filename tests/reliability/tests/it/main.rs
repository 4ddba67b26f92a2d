//! The viofosync reliability suite: one named test per scenario of
//! docs/RELIABILITY.md. Shared harness: the `viofosync_reliability` library.
#![allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]

mod crash;
mod diskfull;
mod hostile;
mod locked;
mod network;
mod recording;
