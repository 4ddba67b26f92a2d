//! A simulated Viofo dashcam: the HTTP server every client test, end-to-end
//! test, benchmark and `viofosync demo` runs against.
//!
//! It speaks what a Novatek-based Viofo camera speaks, quirks included: the
//! cmd=3015 XML listing without Content-Length (the body ends when the socket
//! closes), both XML shapes, HTML directory pages with rounded sizes, HEAD,
//! `Range: bytes=N-`, deletes answering `<Status>`, heartbeat, firmware
//! string, free space, and a recording flag with a newest clip that grows.
//! The link is shaped like one Wi-Fi link: one token bucket across all
//! connections, per-request latency, connections above the limit (3) reset,
//! slow deletes. Faults are injected per request or at seeded-random rates.
//!
//! Synthetic clips are never held in memory: their bytes (an A229/A329-like
//! MP4 with a `gps ` index and variable-offset GPS blocks, planned by
//! `viofo_gps::fixture`) are computed from the offset, so multi-gigabyte
//! clips cost nothing and Range works. All timing uses `tokio::time`, so
//! tests can run under paused time.
//!
//! Real-firmware behaviours that break naive syncs can be switched on, each
//! deterministic: a clip that grows while the camera says it is not
//! recording ([`Sim::grow_clip`], [`Sim::set_growth_per_listing`]), one name
//! in two folders ([`ClipDef::allow_same_name`]), the lock button pressed
//! during a download ([`Sim::lock_on_download`]), reset bursts
//! ([`Fault::reset_burst`]) and cut listings ([`ListingEnd`]).
//!
//! The server binds `127.0.0.1` only.
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use viofo_sim::{ClipSpec, Sim, SimConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(200_000))).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//!
//! // The listing, as a camera sends it: no Content-Length, then the socket closes.
//! let mut s = tokio::net::TcpStream::connect(sim.addr()).await?;
//! s.write_all(b"GET /?custom=1&cmd=3015&par=1 HTTP/1.1\r\nHost: cam\r\n\r\n").await?;
//! let mut answer = String::new();
//! s.read_to_string(&mut answer).await?;
//! assert!(!answer.to_ascii_lowercase().contains("content-length"));
//! for clip in sim.clips() {
//!     assert!(answer.contains(&format!("<SIZE>{}</SIZE>", clip.size)));
//! }
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod body;
mod card;
mod config;
mod error;
mod faults;
mod names;
mod pages;
mod reader;
mod server;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use body::GpsPoint;
pub use card::ClipInfo;
pub use config::{
    ClipDef, ClipSpec, DeleteForms, Folder, ListingEnd, ListingShape, LockStyle, SimConfig,
};
pub use error::SimError;
pub use faults::{Fault, FaultKind, RandomFaults, Target};
pub use pages::html_size;
pub use reader::ClipReader;
pub use server::{Outcome, RequestRecord, UNSAFE_COMMANDS};

use card::Card;
use error::ErrorKind;
use server::Shared;

/// A running simulated camera. Stops on [`Sim::shutdown`] or when dropped.
#[derive(Debug)]
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Sim {
    /// Builds the card and starts serving on the configured address
    /// (`127.0.0.1:0` by default). Must be called inside a tokio runtime.
    pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
        if config.bind.ip() != std::net::IpAddr::V4(Ipv4Addr::LOCALHOST) {
            return Err(SimError::new(ErrorKind::NotLoopback(config.bind)));
        }
        let card = Card::build(&config)?;
        let listener = TcpListener::bind(config.bind).await.map_err(|source| {
            SimError::new(ErrorKind::Bind {
                addr: config.bind,
                source,
            })
        })?;
        let addr = listener.local_addr().map_err(|source| {
            SimError::new(ErrorKind::Bind {
                addr: config.bind,
                source,
            })
        })?;
        let shared = Arc::new(Shared::new(card, &config));
        if config.recording {
            shared.lock().card.set_recording(true, Instant::now());
        }
        let cancel = CancellationToken::new();
        let task = tokio::spawn(server::accept_loop(
            listener,
            shared.clone(),
            cancel.clone(),
        ));
        tracing::info!(%addr, "simulated camera listening");
        Ok(Sim {
            shared,
            addr,
            cancel,
            task: Some(task),
        })
    }

    /// The bound address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()` followed by `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base_url(), path_and_query)
    }

    /// Stops accepting, closes every connection and waits for the server.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    // ---- inspection ----

    /// What is on the card now, in listing order.
    pub fn clips(&self) -> Vec<ClipInfo> {
        self.shared
            .lock()
            .card
            .clips
            .iter()
            .map(|c| c.info())
            .collect()
    }

    /// One clip by name (case-insensitive, like FAT). If the name is in two
    /// folders ([`ClipDef::allow_same_name`]), the first in listing order;
    /// [`Sim::clip_at`] picks one.
    pub fn clip(&self, name: &str) -> Option<ClipInfo> {
        self.shared.lock().card.find(name).map(|c| c.info())
    }

    /// The clip of that name in that folder.
    pub fn clip_at(&self, folder: Folder, name: &str) -> Option<ClipInfo> {
        self.shared
            .lock()
            .card
            .find_at(folder, name)
            .map(|c| c.info())
    }

    /// The exact bytes a full download of `name` yields now. Meant for small
    /// clips in tests; use [`Sim::clip_reader`] to hash big ones.
    pub fn clip_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let mut r = self.clip_reader(name)?;
        let mut out = Vec::with_capacity(usize::try_from(r.len()).unwrap_or(0));
        std::io::Read::read_to_end(&mut r, &mut out).ok()?;
        Some(out)
    }

    /// [`Sim::clip_bytes`] of the clip of that name in that folder.
    pub fn clip_bytes_at(&self, folder: Folder, name: &str) -> Option<Vec<u8>> {
        let mut r = self.clip_reader_at(folder, name)?;
        let mut out = Vec::with_capacity(usize::try_from(r.len()).unwrap_or(0));
        std::io::Read::read_to_end(&mut r, &mut out).ok()?;
        Some(out)
    }

    /// A reader over the clip's bytes as served now (also for deleted-later
    /// checks: take it before deleting).
    pub fn clip_reader(&self, name: &str) -> Option<ClipReader> {
        let clip = self.shared.lock().card.find(name).cloned()?;
        ClipReader::open(&clip).ok()
    }

    /// [`Sim::clip_reader`] of the clip of that name in that folder.
    pub fn clip_reader_at(&self, folder: Folder, name: &str) -> Option<ClipReader> {
        let clip = self.shared.lock().card.find_at(folder, name).cloned()?;
        ClipReader::open(&clip).ok()
    }

    /// The GPS fixes a synthetic clip carries now, as a decoder should read
    /// them back (empty for clips without GPS, files and byte clips).
    pub fn gps_points(&self, name: &str) -> Option<Vec<GpsPoint>> {
        self.shared.lock().card.find(name).map(|c| c.gps_points())
    }

    /// [`Sim::gps_points`] of the clip of that name in that folder.
    pub fn gps_points_at(&self, folder: Folder, name: &str) -> Option<Vec<GpsPoint>> {
        self.shared
            .lock()
            .card
            .find_at(folder, name)
            .map(|c| c.gps_points())
    }

    /// Names deleted so far, in order.
    pub fn deleted(&self) -> Vec<String> {
        self.shared.lock().deleted.clone()
    }

    /// The clips deleted so far, in order, each as it was when deleted
    /// (folder, size, lock state): what the camera lost.
    pub fn deleted_clips(&self) -> Vec<ClipInfo> {
        self.shared
            .lock()
            .deleted_clips
            .iter()
            .map(|c| c.info())
            .collect()
    }

    /// A reader over the bytes a deleted clip had when it was deleted (the
    /// last deletion of that name), to compare with an archived copy.
    pub fn deleted_clip_reader(&self, name: &str) -> Option<ClipReader> {
        let clip = self
            .shared
            .lock()
            .deleted_clips
            .iter()
            .rev()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .cloned()?;
        ClipReader::open(&clip).ok()
    }

    /// Every request read so far (the most recent 100,000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.iter().cloned().collect()
    }

    /// Names of clips whose body was sent to the end of the file (a full
    /// download or the tail of a resumed one), in order, with repeats.
    pub fn downloaded(&self) -> Vec<String> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| {
                r.method == "GET"
                    && r.outcome == Outcome::Complete
                    && matches!(r.status, Some(200 | 206))
                    && r.cmd.is_none()
            })
            .filter_map(|r| r.clip.clone())
            .collect()
    }

    /// Unsafe commands (see [`UNSAFE_COMMANDS`]) that were sent; they were
    /// refused.
    pub fn unsafe_commands(&self) -> Vec<u32> {
        self.shared.lock().unsafe_cmds.clone()
    }

    /// Most connections served at once so far.
    pub fn peak_connections(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }

    /// Connections served right now.
    pub fn active_connections(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Connections reset at accept (over the limit or while offline).
    pub fn refused_connections(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Whether the camera is recording (the 2001 flag of cmd=3014).
    pub fn is_recording(&self) -> bool {
        self.shared.lock().card.is_recording()
    }

    /// Whether the camera is offline now.
    pub fn is_offline(&self) -> bool {
        self.shared
            .lock()
            .offline_until
            .is_some_and(|t| Instant::now() < t)
    }

    // ---- control ----

    /// Adds an injected fault (rules are tried in the order added; the first
    /// matching one fires).
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Removes every injected fault that has not fired yet.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Replaces the seeded-random fault rates.
    pub fn set_random_faults(&self, faults: RandomFaults) {
        self.shared.lock().random = faults;
    }

    /// Starts or stops recording. Starting adds a new clip that grows at the
    /// recording rate; stopping finishes it at its current size.
    pub fn set_recording(&self, on: bool) {
        self.shared.lock().card.set_recording(on, Instant::now());
    }

    /// Resets every connection (new and in flight) for `d`.
    pub fn go_offline(&self, d: Duration) {
        self.shared.lock().offline_until = Some(Instant::now() + d);
    }

    /// Comes back online now.
    pub fn go_online(&self) {
        self.shared.lock().offline_until = None;
    }

    /// Locks a clip the way the camera does: moves it to `RO` (ATTR 33), so
    /// its old path goes stale. Returns false if there is no such clip.
    pub fn lock_clip(&self, name: &str) -> bool {
        self.lock_clip_with(name, LockStyle::MoveToRo)
    }

    /// Locks a clip the way `style` says: moved to `RO`, or ATTR 33 in
    /// place (its path stays valid). Returns false if there is no such clip.
    pub fn lock_clip_with(&self, name: &str, style: LockStyle) -> bool {
        self.shared.lock().card.lock(name, style)
    }

    /// The user presses the lock button while the clip downloads: the
    /// moment a download of it serves its last byte (a whole download, or
    /// the tail of a resumed one), the camera moves it to `RO`, once. The
    /// lock is in place before that byte leaves, so any request the client
    /// makes after receiving it sees the clip locked. Returns false if there
    /// is no such clip.
    pub fn lock_on_download(&self, name: &str) -> bool {
        self.lock_on_download_with(name, LockStyle::MoveToRo)
    }

    /// [`Sim::lock_on_download`] with the lock done the way `style` says.
    pub fn lock_on_download_with(&self, name: &str, style: LockStyle) -> bool {
        self.shared.lock().card.lock_on_download(name, style)
    }

    /// The camera appends `extra_bytes` to a finished clip while cmd 3014
    /// says "not recording" (late finalisation). The next listing shows the
    /// new size and downloads serve the new bytes: the front header region
    /// (the `moov` with its `gps ` index, the `mdat` size) is rewritten as on
    /// an A229/A329, everything after it keeps its bytes and the new tail
    /// follows; the GPS track stays valid. Such a clip is not "growing" in
    /// [`ClipInfo`] (the camera does not say so) and deletes of it are
    /// accepted. Synthetic clips only; false for another or a missing clip,
    /// or the one being recorded.
    pub fn grow_clip(&self, name: &str, extra_bytes: u64) -> bool {
        self.shared.lock().card.grow(name, extra_bytes)
    }

    /// Makes a clip grow like [`Sim::grow_clip`] by `bytes` every time a
    /// listing that shows it is served (cmd=3015, or the HTML page of its
    /// folder), just before the listing is made, so each listing shows a
    /// larger size than the one before. 0 stops it. Same limits as
    /// [`Sim::grow_clip`].
    pub fn set_growth_per_listing(&self, name: &str, bytes: u64) -> bool {
        self.shared.lock().card.set_growth_per_listing(name, bytes)
    }

    /// Adds a clip to the card. A name already on the card is refused
    /// unless the new clip [allows it](ClipDef::allow_same_name) and goes to
    /// another folder.
    pub fn add_clip(&self, clip: ClipDef) -> Result<ClipInfo, SimError> {
        self.shared.lock().card.add(&clip, Instant::now())
    }

    /// Removes a clip without recording a delete (loop overwrite on the camera).
    pub fn remove_clip(&self, name: &str) -> bool {
        self.shared.lock().card.remove(name).is_some()
    }

    /// Formats the card: every clip gone without a delete recorded (they
    /// are not in [`Sim::deleted_clips`]), recording stopped, sequence
    /// numbers from 1 again and, with `clock`, the camera clock set back
    /// to that time, so new recordings ([`Sim::add_clip`] with
    /// [`ClipDef::variant`], or [`Sim::set_recording`]) take names an
    /// archive may already hold. Returns how many clips were on the card.
    pub fn format_card(&self, clock: Option<time::PrimitiveDateTime>) -> usize {
        self.shared.lock().card.format(Instant::now(), clock)
    }

    /// The user unlocks a clip: a clip in `RO` goes back to `Movie` (its
    /// `RO` path goes stale), a clip locked in place loses its mark.
    /// False if there is no locked clip of that name, or `Movie` already
    /// has one.
    pub fn unlock_clip(&self, name: &str) -> bool {
        self.shared.lock().card.unlock(name)
    }

    /// Serves these bytes verbatim as the cmd=3015 body (hostile listings);
    /// `None` restores the real listing.
    pub fn set_listing_override(&self, body: Option<Bytes>) {
        self.shared.lock().listing_override = body;
    }

    /// How the generated cmd=3015 document ends: cut after the last item
    /// with `</LIST` (no final `>`), or in the middle of the last item, as
    /// real firmware does (see [`ListingEnd`]). Applied to the real listing
    /// made from the card each time; an override is served as is.
    pub fn set_listing_end(&self, end: ListingEnd) {
        self.shared.lock().settings.listing_end = end;
    }

    /// XML shape of cmd=3015.
    pub fn set_listing_shape(&self, shape: ListingShape) {
        self.shared.lock().settings.listing_shape = shape;
    }

    /// Send a Content-Length with the listing or not.
    pub fn set_listing_content_length(&self, yes: bool) {
        self.shared.lock().settings.listing_content_length = yes;
    }

    /// Ignore `Range` (always 200 with the whole file).
    pub fn set_ignore_range(&self, yes: bool) {
        self.shared.lock().settings.ignore_range = yes;
    }

    /// Answer HEAD (true) or reset it (false).
    pub fn set_head_supported(&self, yes: bool) {
        self.shared.lock().settings.head_supported = yes;
    }

    /// Which path forms cmd=4003 accepts.
    pub fn set_delete_forms(&self, forms: DeleteForms) {
        self.shared.lock().settings.delete_forms = forms;
    }

    /// Answer successful deletes with an empty body.
    pub fn set_delete_empty_body(&self, yes: bool) {
        self.shared.lock().settings.delete_empty_body = yes;
    }

    /// How long deletes take.
    pub fn set_delete_delay(&self, d: Duration) {
        self.shared.lock().settings.delete_delay = d;
    }

    /// Delay before every response.
    pub fn set_latency(&self, d: Duration) {
        self.shared.lock().settings.latency = d;
    }

    /// Firmware string of cmd=3012.
    pub fn set_firmware(&self, s: impl Into<String>) {
        self.shared.lock().settings.firmware = s.into();
    }

    /// Shared link rate in bytes per second (`None` = unshaped).
    pub fn set_bandwidth(&self, bytes_per_sec: Option<u64>) {
        self.shared.bucket.set_rate(bytes_per_sec);
    }

    /// Connections served at once.
    pub fn set_max_connections(&self, n: usize) {
        self.shared.max_connections.store(n, Ordering::SeqCst);
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
