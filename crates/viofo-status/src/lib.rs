//! viofo-status: what `viofosync watch` shows about itself.
//!
//! One in-process [`StatusModel`] holds the state of the sync. It is fed by
//! the pipeline's events (it is an [`EventSink`](viofo_pipeline::EventSink)
//! that never blocks) and by a refresh task that reads the state store and
//! the archive's filesystem ([`StatusModel::run_refresh`]). Three surfaces
//! read it, all from [`serve`]:
//!
//! - `GET /metrics`: Prometheus (OpenMetrics text, written with the
//!   `prometheus-client` crate): counters, gauges and histograms named
//!   `viofosync_…` (docs/STATUS.md lists them).
//! - `GET /api/status`: the [`StatusSnapshot`] as JSON, with stable field
//!   names.
//! - `GET /`: the status page for people, server-rendered, no external
//!   asset (one same-origin script, `/page.js`, puts the times in the
//!   reader's time zone), every camera-provided string escaped; with a
//!   store ([`ServerConfig::with_store`]) the trips (`/trips`,
//!   `/trips/<id>`, tracks as inline SVG) and the archived files they link
//!   to, found by row id and served read-only with Range; with several
//!   cameras ([`ServerConfig::with_cameras`]) an overview and
//!   `/camera/<id>`.
//! - `POST /api/sync-now`, `/api/pause`, `/api/resume`, `/api/retry-failed`:
//!   handed to the embedding program through an [`ActionHandler`] (a
//!   bounded `tokio::sync::mpsc::Sender<Action>` is one).
//!
//! **Who may ask.** Same-origin requests only (a cross-origin `Origin` is
//! refused); a server without a token answers loopback host names only (no
//! DNS rebinding); bound beyond loopback, a token is required on every
//! request and starting without one is a configuration error
//! ([`Error::TokenRequired`]).
//!
//! **Bounded.** Request heads (16 KiB), bodies (4 KiB), the time to send
//! headers (10 s, idle kept-alive connections too), the time to answer
//! (10 s), a connection's lifetime (5 min) and the connections served at
//! once (32) are all limited ([`ServerConfig`]).
//!
//! **Sticky errors** ([`StickyKind`]: disk full, archive unwritable,
//! configuration refused, clips left failed) stay until their condition
//! clears and survive restarts in a [`StickyStore`]; [`StickyFile`] keeps
//! them in `<state db stem>.status.json` beside the state database.
//!
//! ```
//! use std::time::Duration;
//! use viofo_pipeline::{Event, EventSink};
//! use viofo_status::{Action, NoPersistence, ServerConfig, StatusConfig, StatusModel, serve};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let status = StatusModel::new(StatusConfig::new("cam-1", "/srv/dashcam"), NoPersistence);
//! // Give a clone to the pipeline: `Syncer::new(client, store, cfg, status.clone())`.
//! status.emit(Event::ItemStarted { name: "2025_1224_120324_000002F.MP4".into(), size: Some(1_000) });
//! assert_eq!(status.snapshot().downloads.len(), 1);
//!
//! let (actions, mut asked) = tokio::sync::mpsc::channel::<Action>(8);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(serve(listener, ServerConfig::default(), status.clone(), actions, async {
//!     let _ = stopped.await;
//! }));
//! // ... the embedding program receives from `asked` ...
//! # assert!(asked.try_recv().is_err());
//! let _ = stop.send(());
//! server.await??;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod actions;
mod error;
mod metrics;
mod model;
pub mod page;
mod server;
mod snapshot;
mod sticky;
mod time;

pub use actions::{Action, ActionError, ActionHandler, NoActions};
pub use error::{Error, Result};
pub use metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;
pub use model::{StatusConfig, StatusModel, Throughput, cycle_bytes};
pub use server::{DEFAULT_PORT, ServerConfig, serve};
pub use snapshot::{
    ArchiveStatus, CameraStatus, CycleProgress, CycleReport, DiskStatus, DownloadStatus,
    FailedClip, JourneySummary, NextCycle, QueueCounts, RecentClip, SCHEMA, StatusSnapshot,
    SyncState,
};
pub use sticky::{NoPersistence, StickyError, StickyFile, StickyKind, StickyStore};
