//! The viofosync sync orchestrator: composes the camera client
//! (`viofo-client`), the GPS extractor (`viofo-gps`) and the state store
//! (`viofo-store`) into a sync of one camera.
//!
//! Its one promise: **while there is something to download, the camera
//! link never waits for our own work.** A cycle is
//! probe → list → reconcile → download loop → retention:
//!
//! - The download stage starts the next clip the moment the previous body
//!   ends. The GPS track is computed while the bytes stream in (the clip is
//!   never read twice), and the stage awaits no store write: its state
//!   changes are queued to the store's single writer.
//! - Everything else runs in a **tail stage** behind a bounded queue: the
//!   durable "archived" record, the GPX sidecar, the store updates,
//!   retention when the disk is full.
//! - **The delete rule**: a clip leaves the camera only when a listing taken
//!   after its archived record was durable shows it at the path it was
//!   downloaded from, unlocked (unless `delete_locked`), listed once, with
//!   exactly the archived size, its local copy still that size, and that
//!   size seen on two listings [`SyncConfig::delete_settle`] apart; the
//!   newest clip of a channel also needs the camera not recording. A
//!   lasting reason to keep it is stored as its delete outcome; a passing
//!   one leaves it for a later listing.
//! - Transient download failures are retried after 1, 2, 4, 8 ×
//!   [`SyncConfig::retry_base`]; a clip whose attempts run out is deferred
//!   to the next cycle, never failed for ever. A cycle that left clips
//!   failed or deferred ends [`CycleOutcome::CompletedWithFailures`].
//! - With [`SyncConfig::triage`] on, pending clips are triaged beside the
//!   downloads: their GPS tracks read over a few ranged requests (the
//!   client's lowest-priority class), one clip per download started, the
//!   rest when downloads stop; stored with source `triage` and replaced by
//!   the file's track (always stored) once downloaded. Triage failures
//!   fail neither the clip nor the cycle.
//! - With [`SyncConfig::places`], a pending parking clip whose triage
//!   track lies wholly inside a place flagged `skip_parking` is skipped,
//!   "parked at Home" ([`places::parked_at`]): never downloaded, so never
//!   deleted from the camera; decided as its track is stored and again at
//!   the start of every cycle, so it comes back when the places change.
//! - With [`SyncConfig::journeys`] on (the default), every stored track
//!   has the journeys around its clip recomputed by a task of the syncer,
//!   off the download path, and replaced in the store in one transaction,
//!   with a merged GPX per journey in `<archive>/journeys/`
//!   ([`journeys`]; [`journeys::rebuild_journeys`] recomputes them all).
//! - [`check_archive`] runs first: a missing, non-folder or unwritable
//!   archive stops the cycle before the camera or any clip is touched. [`CycleMode::Inline`] runs the same tail between
//!   downloads, the old way, for comparison.
//! - The camera is re-listed beside the downloads (and once more when the
//!   queue runs dry), so clips recorded meanwhile are taken and a clip
//!   locked meanwhile is fetched from its new `RO` path. While the camera
//!   records, the newest clip of each channel is held back.
//! - A camera that goes away ends the cycle cleanly ([`Error::is_offline`]);
//!   [`Watcher`] then backs off 10 s, 30 s, 2 min, 10 min.
//! - [`Shutdown`]: the first request stops starting downloads and drains the
//!   tail; the second aborts. A `.part` file is resumed next time; a clip
//!   whose tail did not finish has it resumed next time.
//!
//! ```
//! use viofo_client::{Client, ClientConfig};
//! use viofo_pipeline::{NoEvents, Shutdown, SyncConfig, Syncer};
//! use viofo_sim::{ClipSpec, Sim, SimConfig};
//! use viofo_store::{Store, StoreOptions};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A simulated camera with three clips, on 127.0.0.1.
//! let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(200_000))).await?;
//! let dirs = tempfile::tempdir()?;
//! let store = Store::open(StoreOptions::at(dirs.path().join("state.db"))).await?;
//! // The archive must exist: a sync never creates it (a missing folder is
//! // usually an unmounted disk).
//! let archive = dirs.path().join("archive");
//! std::fs::create_dir(&archive)?;
//!
//! let client = Client::new(ClientConfig::new(sim.base_url()))?;
//! let syncer = Syncer::new(client, store, SyncConfig::new("my-camera", &archive), NoEvents)?;
//! let summary = syncer.run_cycle(&Shutdown::new()).await?;
//!
//! assert_eq!(summary.clips, 3);
//! for clip in sim.clips() {
//!     assert!(archive.join(&clip.name).is_file());
//!     assert!(archive.join(format!("{}.gpx", clip.name)).is_file());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # The delete rule for embedders
//!
//! A program that downloads with `viofo-client` itself can decide its
//! camera deletes by the rule the syncer uses: [`may_delete`], a pure
//! function of the archived record ([`Archived`]), the clip as a listing
//! shows it now ([`Listed`]) and what is known at that listing
//! ([`CameraState`]), with [`SizeHistory`] for "the same size on two
//! listings the settle time apart". It answers [`Decision::Delete`] or
//! [`Decision::Keep`] with a [`KeepReason`]. The loop that keeps it safe:
//! download, make the copy durable and record it, *then* list again (the
//! decision is made on a listing started after the record), and delete
//! only what the rule allows.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use viofo_client::{Client, ClientConfig, DownloadOptions, ListSource, Listing, Recording};
//! use viofo_pipeline::{Archived, CameraState, Decision, Listed, SizeHistory, may_delete};
//! use viofo_sim::{ClipSpec, Sim, SimConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(50_000))).await?;
//! let client = Client::new(ClientConfig::new(sim.base_url()))?;
//! let archive = tempfile::tempdir()?;
//! let settle = Duration::from_millis(100); // the syncer's default is 5 s
//! let mut sizes = SizeHistory::default();
//! let observe = |sizes: &mut SizeHistory, l: &Listing| {
//!     let items = l.recordings.iter().map(|r| (r.file_name().as_str(), r.size().bytes()));
//!     sizes.observe(Instant::now(), l.is_complete(), items);
//! };
//!
//! // List, download, and record each copy durably (the client fsyncs and
//! // renames it; your own record must be durable too) before any delete.
//! let before = client.list(ListSource::Xml).await?;
//! observe(&mut sizes, &before);
//! let mut archived = Vec::new();
//! for rec in &before.recordings {
//!     let dest = archive.path().join(rec.file_name());
//!     let done = client.download(rec, &dest, DownloadOptions::new()).await?;
//!     archived.push((rec.clone(), done.bytes, dest));
//! }
//! let recorded = Instant::now();
//!
//! // Decide on a listing started after the record, at least the settle
//! // time after the first one showed the sizes.
//! tokio::time::sleep(settle).await;
//! let started = Instant::now();
//! let now = client.list(ListSource::Xml).await?;
//! let recording = client.recording_state().await.unwrap_or(true); // unsure: recording
//! observe(&mut sizes, &now);
//! fn listed_as<'a>(l: &'a Listing, name: &'a str) -> impl Iterator<Item = &'a Recording> {
//!     l.recordings.iter().filter(move |r| r.file_name().as_str() == name)
//! }
//! // The device is this camera: it lists a clip archived from it, at
//! // its path with its size.
//! let proved = archived.iter().any(|(a, bytes, _)| {
//!     listed_as(&now, a.file_name().as_str())
//!         .any(|r| r.remote_path() == a.remote_path() && r.size().exact() == Some(*bytes))
//! });
//! let newest = |r: &Recording| {
//!     let key = |x: &Recording| (x.start(), x.sequence());
//!     now.recordings
//!         .iter()
//!         .filter(|x| x.channel() == r.channel() && !x.is_photo())
//!         .all(|x| key(x) <= key(r))
//! };
//! for (a, bytes, dest) in &archived {
//!     let name = a.file_name().as_str();
//!     let rec = listed_as(&now, name).next();
//!     let listed = rec.map(|r| Listed {
//!         remote_path: r.remote_path(),
//!         size: r.size().bytes(),
//!         exact: r.size().exact().is_some(),
//!         locked: r.is_locked(),
//!     });
//!     let cam = CameraState {
//!         listed_after_record: started >= recorded,
//!         listing_complete: now.is_complete(),
//!         recording,
//!         newest_of_channel: rec.is_some_and(newest),
//!         size_settled: sizes.settled(name, started, settle),
//!         duplicate_name: listed_as(&now, name).count() > 1,
//!         delete_locked: false,
//!         identity_proved: proved,
//!         // No fallback addresses here, so no clip is kept as an anchor.
//!         anchor: false,
//!     };
//!     let copy = Archived {
//!         remote_path: a.remote_path(),
//!         size: *bytes,
//!         local_size: std::fs::metadata(dest).ok().map(|m| m.len()),
//!     };
//!     match (may_delete(&copy, listed.as_ref(), &cam), rec) {
//!         (Decision::Delete, Some(rec)) => {
//!             client.delete(rec).await?;
//!         }
//!         (Decision::Keep(why), _) if why.is_passing() => println!("{name}: later ({why})"),
//!         (Decision::Keep(why), _) => println!("{name}: kept ({why})"),
//!         (Decision::Delete, None) => unreachable!("a delete needs the listed clip"),
//!     }
//! }
//! assert!(sim.clips().is_empty(), "both clips archived, then deleted");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod archive;
pub mod backoff;
pub mod causes;
mod clock;
mod config;
pub mod disk;
pub mod doctor;
mod error;
pub mod events;
pub mod grouping;
pub mod import;
pub mod journeys;
pub mod places;
pub mod retention;
mod shutdown;
mod sync;
mod watch;
pub mod words;

pub use archive::check_archive;
pub use clock::{CameraClock, CameraTime};
pub use config::{GpsConfig, OnInterrupt, SyncConfig};
pub use error::{Error, Result};
pub use events::{
    CycleMode, CycleOutcome, CycleSummary, DeleteOutcome, Event, EventSink, NoEvents, StopReason,
};
pub use grouping::Grouping;
pub use retention::RetentionPolicy;
pub use shutdown::Shutdown;
pub use sync::{
    Archived, CameraState, Decision, DryRun, KeepReason, Listed, SizeHistory, Syncer, may_delete,
    recorded_at_from_name,
};
pub use watch::{WatchControl, Watcher};
