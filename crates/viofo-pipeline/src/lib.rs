//! viofo-pipeline: the sync orchestrator (being written).
#![deny(missing_docs)]

pub mod backoff;
mod config;
pub mod disk;
mod error;
pub mod events;
pub mod grouping;
pub mod retention;
mod shutdown;
mod sync;

pub use config::{GpsConfig, OnInterrupt, SyncConfig};
pub use error::{Error, Result};
pub use events::{CycleSummary, DeleteResult, Event, EventSink, NoEvents, TailMode};
pub use grouping::Grouping;
pub use retention::RetentionPolicy;
pub use shutdown::Shutdown;
pub use sync::{DryRun, Syncer, recorded_at_from_name};
