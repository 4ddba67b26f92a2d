//! An async HTTP client for Viofo (Novatek) dashcams: list the recordings,
//! probe the camera, download clips with resume and atomic rename, read
//! byte ranges of clips, delete clips, read firmware, free space and the
//! recording flag.
//!
//! The camera speaks plain HTTP on port 80 with a single-threaded server
//! that closes the socket after each request and resets connections above
//! about three at once. This client never pools connections, never holds
//! more than [`ClientConfig::max_connections`] (at most 3) at once across
//! all clones of a [`Client`], bounds every wait with a timeout, and treats
//! every byte from the camera as untrusted: names and paths are validated
//! before they become local paths or delete arguments ([`validate_name`],
//! [`validate_remote_path`]); listings are capped in bytes and items.
//! See `docs/PROTOCOL.md` in the repository for the protocol as spoken.
//!
//! # Connection slots and priorities
//!
//! All calls share one limiter of `max_connections` slots, in three
//! classes served highest first (arrival order within a class):
//!
//! 1. everything but deletes and ranged reads (downloads, HEAD, listings,
//!    commands): may use every slot;
//! 2. deletes (about 2 s each on a real camera): wait while any request of
//!    class 1 waits, and use at most `max_connections - 1` slots (1 when
//!    the maximum is 1), so a delete queue running in another task never
//!    starves downloads;
//! 3. ranged reads ([`Client::read_range`], [`RangeReader`], and the HEAD
//!    of [`Client::range_reader`]): wait while any request of class 1 or 2
//!    waits, and never take the last free slot (with a maximum of 1, only
//!    the free slot). GPS triage therefore never takes a slot a waiting
//!    download could have had, and with `max_connections >= 2` a download
//!    that arrives finds a slot free.
//!
//! A camera that takes fewer connections than `max_connections` resets or
//! refuses the extra ones: such a refusal (before any answer, while other
//! requests of this client hold slots) lowers the limit to what the camera
//! takes, said once in the log, and the refused request waits for a slot
//! and tries again ([`Client::connection_limit`]). A refusal with nothing
//! else open is returned as the error it is.
//!
//! # Ranged reads
//!
//! [`Client::read_range`] fetches `len` bytes from `offset` with
//! `Range: bytes=a-b` and accepts only a `206` whose `Content-Range` is
//! exactly those bytes (and, when the size is known, its total that size)
//! with a body of exactly `len` bytes. A camera that answers `200` ignores
//! `Range`: the call fails at once without reading the clip
//! ([`Error::is_range_ignored`]). [`RangeReader`] pairs a clip with its
//! exact size and counts what it asked for; its inherent
//! [`read_at`](RangeReader::read_at) is what a caller adapts to a GPS
//! crate's range-source trait (this crate depends on none).
//!
//! # Deleting clips safely
//!
//! [`Client::delete`] deletes what it is asked to. *When* a downloaded
//! clip may leave the camera (its copy durable and recorded first, then a
//! later listing showing it unchanged, unlocked, at its path, its size
//! settled) is decided by the delete rule viofosync uses:
//! `viofo_pipeline::may_delete` with `viofo_pipeline::SizeHistory`, in
//! the `viofo-pipeline` crate, whose documentation ("The delete rule for
//! embedders") shows a download-then-delete loop built on it. This crate
//! does not depend on it.
//!
//! # Example
//!
//! Against the simulated camera from the `viofo-sim` crate:
//!
//! ```
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use viofo_client::{Client, ClientConfig, DownloadOptions, ListSource};
//!
//! use viofo_sim::{ClipSpec, Sim, SimConfig};
//! let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(300_000))).await?;
//! // A real camera is usually at http://192.168.1.254 on its own Wi-Fi.
//! let client = Client::new(ClientConfig::new(sim.base_url()))?;
//! client.probe().await?;
//!
//! let listing = client.list(ListSource::Xml).await?;
//! assert!(listing.skipped.is_empty());
//! let clip = &listing.recordings[0];
//!
//! let dir = tempfile::tempdir()?;
//! // Recording::file_name() is the only safe local path component.
//! let dest = dir.path().join(clip.file_name());
//! let mut seen = 0u64;
//! let mut progress = |p: viofo_client::Progress| seen = p.done;
//! let done = client
//!     .download(clip, &dest, DownloadOptions::new().progress(&mut progress))
//!     .await?;
//! assert_eq!(done.bytes, std::fs::metadata(&dest)?.len());
//! assert_eq!(seen, done.bytes);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
#![deny(missing_docs)]

mod adapt;
mod client;
mod command;
mod config;
mod connect;
mod download;
mod encode;
mod error;
mod limiter;
mod listing;
mod range;
mod recording;
#[cfg(test)]
mod test_log;
mod validate;

pub use client::{CameraInfo, Client, ClientConfig, DeleteAnswer, MAX_CONNECTIONS};
pub use connect::Connected;
pub use download::{ChunkObserver, DownloadOptions, Downloaded, Progress, SizeSource, part_path};
pub use error::{Error, Result};
pub use listing::{
    ListSource, Listing, ListingLimits, Skipped, parse_html_listing, parse_xml_listing,
};
pub use range::{MAX_RANGE_LEN, RangeReader};
pub use recording::{Channel, MAX_CLIP_SIZE, MediaKind, Recording, Size};
pub use validate::{
    ALLOWED_EXTENSIONS, MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH, PHOTO_EXTENSIONS,
    RecordingName, RemotePath, VIDEO_EXTENSIONS, validate_name, validate_remote_path,
};

/// Re-exported: ranged reads return it ([`Client::read_range`]).
pub use bytes::Bytes;
/// Re-exported so callers need not depend on tokio-util for the token type.
pub use tokio_util::sync::CancellationToken;
