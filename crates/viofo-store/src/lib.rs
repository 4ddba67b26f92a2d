//! viofo-store: the SQLite queue and state store of viofosync, behind one
//! writer task.
//!
//! It remembers every clip each camera ever listed (identity: camera id +
//! file name), where each one is in its life, and how long each stage took.
//! The database lives on local disk (default
//! `$XDG_STATE_HOME/viofosync/viofosync.db`), never inside the recordings
//! folder, and is refused on a network filesystem unless forced.
//!
//! # Example
//!
//! ```
//! use viofo_store::{Channel, Filter, ListedClip, Policy, Stage, Store, StoreOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), viofo_store::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(StoreOptions::at(dir.path().join("viofosync.db"))).await?;
//! let listing = vec![ListedClip {
//!     name: "2025_1224_120324_000002F.MP4".into(),
//!     remote_path: "/DCIM/Movie/2025_1224_120324_000002F.MP4".into(),
//!     size: 1_000,
//!     size_exact: true,
//!     locked: false,
//!     parking: false,
//!     channel: Channel::Front,
//!     recorded_at: Some(1_766_577_804_000),
//! }];
//! let report = store.reconcile("cam-1", &listing, |_name| None).await?;
//! assert_eq!(report.new, 1);
//!
//! let clip = store
//!     .next_pending("cam-1", Policy::OldestFirst, &Filter::default())
//!     .await?
//!     .expect("one pending clip");
//! let cycle = store.begin_cycle("cam-1", viofo_store::CycleMode::Pipelined).await?;
//! store.start_download(clip.id, Some(cycle)).await?;
//! store.record_timing(clip.id, Stage::DownloadStarted, viofo_store::now_ms()); // not awaited
//! // ... download to a temporary name, fsync, rename ...
//! store
//!     .finish_download(clip.id, &dir.path().join("clip.mp4"), 1_000)
//!     .await?; // durable: the camera copy may now be deleted
//! store.finish_tail(clip.id).await?;
//! assert_eq!(store.counts(None).await?.done, 1);
//! store.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # One writer
//!
//! A single task owns the only write connection. Every write method queues
//! a command on an unbounded channel *when it is called* and returns an
//! [`Ack`]; the writer takes everything queued (up to 4,096 commands) into
//! one `BEGIN IMMEDIATE` transaction, commits, and only then resolves each
//! `Ack`. Callers await only the writes they depend on; dropping an `Ack`
//! does not cancel its write. [`Store::record_timing`] returns nothing at
//! all.
//!
//! A command the state machine refuses fails alone; the rest of its batch
//! commits.
//!
//! **No write fails silently.** A write whose result nobody reads (a
//! fire-and-forget timing, an [`Ack`] passed to [`Ack::submit`] or simply
//! dropped) and that fails is logged (`tracing::warn`, with the clip and the
//! command) and counted ([`Store::unawaited_write_failures`]). If another process holds the write lock, the batch is rolled
//! back and retried with backoff (each attempt also waits up to
//! `busy_timeout` inside SQLite) until
//! [`StoreOptions::write_retry_budget`] is spent; then its awaiting callers
//! get [`Error::is_busy`] and fire-and-forget writes are logged as lost. No
//! caller ever sees a raw `SQLITE_BUSY`.
//!
//! **Durability.** The write connection runs WAL with `synchronous=FULL`,
//! globally. In WAL mode `NORMAL` skips the WAL fsync at commit: a commit
//! survives a process crash but not a power cut, and a camera delete gated
//! on [`Store::finish_download`] must survive both. Switching per
//! transaction would need a PRAGMA outside the transaction on every batch;
//! since batching already folds many commands into one commit, FULL costs
//! one fsync per batch, which the benchmark shows is cheap enough
//! (docs/PERFORMANCE.md). So every resolved `Ack` means committed and
//! synced.
//!
//! **Timing queue.** `record_timing` is a channel send (well under a
//! microsecond). While the database is locked, timings pile up in memory;
//! past [`StoreOptions::max_queued_timings`] new ones are dropped and
//! counted ([`Store::dropped_timings`]) rather than blocking or growing
//! without bound. Commands whose callers await are never dropped.
//!
//! **Shutdown.** [`Store::close`] (or cancelling
//! [`StoreOptions::shutdown`]) lets the writer commit everything queued
//! before it, then stops it. If every handle is dropped the writer also
//! drains the queue and exits on its own (as long as the runtime runs); an
//! acknowledged write is already durable, so dropping loses none.
//!
//! Reads go through a separate pool of read-only connections; they see every
//! write whose `Ack` has resolved.
//!
//! # Clip states
//!
//! | from \ to | how | note |
//! |---|---|---|
//! | pending → downloading | [`Store::start_download`] | records the cycle |
//! | downloading → downloaded | [`Store::finish_download`] | durable; gates the camera delete |
//! | downloading → pending | [`Store::fail`] (retryable, attempts left), [`Store::release`] (not counted), recovery on open (not counted) | |
//! | downloading → pending, deferred | [`Store::fail`] (retryable, `max_attempts` reached) | attempts reset, deferrals + 1; offered again next cycle |
//! | downloading → failed | [`Store::fail`] (not retryable) | attempts + 1 |
//! | downloaded → done | [`Store::finish_tail`] | |
//! | downloaded, done → pending | reconcile: listed with a size different from the archived copy | downloaded again |
//! | downloaded, done → pruned | [`Store::mark_pruned`] | retention removed the archive copy; terminal |
//! | failed → pending | [`Store::retry_failed`] | attempts reset |
//! | pending, failed → gone | reconcile: no longer listed | |
//! | gone → pending | reconcile: listed again | |
//! | pending, failed, gone (or new) → downloaded | reconcile: already in the archive with a matching size | tail then resumes via [`Store::unfinished_tails`] |
//!
//! **Transient failures never strand a clip.** A retryable failure that
//! exhausts [`StoreOptions::max_attempts`] *defers* the clip
//! ([`FailOutcome::Deferred`]): it goes back to `pending` with its attempts
//! reset and its error kept, and [`Store::next_pending`] passes it over
//! while the cycle it was deferred in is the camera's newest cycle and
//! still open; a new [`Store::begin_cycle`] (or finishing that cycle)
//! offers it again. Only a permanent failure (`retryable = false`) ends in
//! `failed`.
//!
//! Every other move is refused with [`Error::is_illegal_transition`] (a
//! `done` clip never becomes `downloading`). [`Store::set_gps`] and
//! [`Store::record_delete`] need `downloaded` or `done`.
//!
//! What "not listed any more" means per state: `pending` and `failed`
//! become `gone` (they can no longer be fetched); `downloading` is left to
//! the download in flight; `downloaded` keeps its tail (its delete will be
//! refused or skipped) and `done` is expected to leave the camera; `gone`
//! stays `gone`; `pruned` stays `pruned` (listed or not).
//!
//! # GPS tracks
//!
//! [`Store::set_track`] keeps one [`Track`] per clip (any state): its
//! [`TrackSource`] (GPS triage before the download, or the downloaded
//! file), the clip's size it was taken from, the summary and the fixes
//! (at most [`MAX_TRACK_POINTS`], stored as fixed-width records). A file
//! track replaces a triage track; a triage track never replaces a file
//! track ([`SetTrack::KeptFileTrack`]). [`Track::none`] records that no
//! track was found, so [`Store::next_untriaged_at`] (the download queue's
//! order, clips without a track or with one taken at another size) does
//! not offer the clip again until its size changes.
//!
//! # Skipped clips
//!
//! [`Store::set_skip`] gives a pending clip a skip reason ("parked at
//! Home", decided by the pipeline from its track and the places): it stays
//! `pending` but neither queue offers it, [`StateCounts::skipped`] counts it
//! apart from `pending`, and [`Store::start_download`] clears the reason.
//! Clearing it (`None`) makes the clip downloadable again.
//!
//! # One owner, many readers
//!
//! [`Store::open`] takes an exclusive `flock` on `<db>.lock` for as long as
//! the writer runs (the kernel drops it when the process dies, even by
//! `kill -9`): a second writing process is refused with
//! [`Error::is_in_use`] instead of "recovering" the first one's downloads
//! from under it. Reports beside a running sync use
//! [`Store::open_read_only`]: no lock, no migration, no recovery, no writer.
//!
//! # Recovery
//!
//! On open, rows left `downloading` return to `pending` without counting an
//! attempt (an interrupted download is not a failed one), and `downloaded`
//! rows are reported ([`Store::recovery`]) and listed by
//! [`Store::unfinished_tails`] so the pipeline resumes their GPS extraction
//! and delete instead of losing them.
//!
//! # Legacy import
//!
//! With [`StoreOptions::legacy`] set, the first open imports the Python
//! tool's `<recordings>/.viofosync.db` (or `/config/viofosync.db`), see
//! [`LegacyReport`], then renames it `<name>.migrated`. A legacy file that
//! cannot be read (not SQLite, corrupt, locked, permission denied) never
//! fails the open: it is skipped with a warning naming it and the
//! `import_legacy = false` setting, and reported by
//! [`Store::legacy_outcome`].
#![deny(missing_docs)]

mod error;
mod legacy;
pub use legacy::legacy_candidates;
mod placement;
mod report;
mod store;
mod types;
mod writer;

pub use error::{Error, Result};
pub use placement::{
    FsClass, Locked, Placement, check_placement, classify_fs_magic, default_db_path, lock_exclusive,
};
pub use report::{CycleTimings, StageStats, percentile};
pub use store::{Ack, ImportedClip, LegacyImport, Store, StoreOptions, now_ms};
pub use types::{
    Anchor, ArchivedFile, CameraRow, CameraSeen, Channel, ClipId, ClipRow, ClipState, CycleId,
    CycleMode, CycleOutcome, CycleRow, CycleStats, DeleteOutcome, FailOutcome, Filter, GpsSummary,
    KnownClip, LegacyOutcome, LegacyReport, ListedClip, MAX_NO_TRACK_LEN, MAX_TRACK_MODE_LEN,
    MAX_TRACK_POINTS, Policy, ReconcileReport, RecoveryReport, SetTrack, Stage, StageTimes,
    StateCounts, Track, TrackPoint, TrackRow, TrackSource,
};
pub use types::{ClipPoints, ClipTrack, JourneyId, JourneyLink, JourneyRow, LinkFacts, NewJourney};
