//! Simulator configuration: what is on the card and how the camera behaves.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use time::PrimitiveDateTime;
use time::macros::datetime;

use crate::faults::RandomFaults;

/// The three folders of a Viofo card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Folder {
    /// `DCIM/Movie`: normal loop recordings (ATTR 32).
    Movie,
    /// `DCIM/Movie/Parking`: parking-mode recordings (ATTR 32).
    Parking,
    /// `DCIM/Movie/RO`: locked / event recordings (ATTR 33).
    Ro,
}

impl Folder {
    /// URL path of the folder, e.g. `/DCIM/Movie/RO`.
    pub fn url_dir(self) -> &'static str {
        match self {
            Folder::Movie => "/DCIM/Movie",
            Folder::Parking => "/DCIM/Movie/Parking",
            Folder::Ro => "/DCIM/Movie/RO",
        }
    }

    /// FPATH prefix as the XML listing shows it, e.g. `A:\DCIM\Movie\RO\`.
    pub fn fpath_dir(self) -> &'static str {
        match self {
            Folder::Movie => "A:\\DCIM\\Movie\\",
            Folder::Parking => "A:\\DCIM\\Movie\\Parking\\",
            Folder::Ro => "A:\\DCIM\\Movie\\RO\\",
        }
    }

    /// Path of the folder relative to a card root.
    pub fn card_dir(self) -> &'static str {
        self.url_dir().trim_start_matches('/')
    }

    /// All folders, in listing order.
    pub const ALL: [Folder; 3] = [Folder::Movie, Folder::Parking, Folder::Ro];
}

/// Which XML shape cmd=3015 answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListingShape {
    /// `<LIST><ALLFile><File>…</File></ALLFile>…</LIST>` (A229 Pro capture).
    #[default]
    Nested,
    /// `<LIST><File>…</File>…</LIST>` (some firmware).
    Flat,
}

/// How cmd=3015's document ends: whole, or cut the ways real firmware cuts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ListingEnd {
    /// A well-formed document ending `</LIST>`.
    #[default]
    Complete,
    /// Every item complete, then `</LIST` with the final `>` missing (a real
    /// Novatek capture ends `…</ATTR></File>\n</ALLFile>\n</LIST`).
    MissingFinalGt,
    /// The document stops in the middle of the last item's `<SIZE>` value:
    /// every item before it is complete, the last one is partial (its
    /// NAME and FPATH whole, its SIZE cut short, no closing tags). With no
    /// clip on the card it stops right after `<LIST>`.
    CutMidItem,
}

/// How the camera marks a clip locked (firmware differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LockStyle {
    /// Move it to `DCIM/Movie/RO` (ATTR 33); its old path then 404s. If
    /// `RO` already holds a clip of that name, it is locked in place instead.
    #[default]
    MoveToRo,
    /// Keep it where it is and list it with ATTR 33 (read-only).
    AttrInPlace,
}

/// Which `str=` forms cmd=4003 accepts (firmware differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteForms {
    /// `A:\DCIM\Movie\X.MP4`, the FPATH as listed.
    pub drive_backslash: bool,
    /// `/DCIM/Movie/X.MP4`.
    pub slash: bool,
}

impl Default for DeleteForms {
    fn default() -> Self {
        Self {
            drive_backslash: true,
            slash: true,
        }
    }
}

/// N synthetic recordings, generated deterministically (bodies computed on
/// the fly, never held in memory).
///
/// Each of the `count` time slots yields a front clip (`…F.MP4`) and, with
/// [`ClipSpec::rear`], a rear clip (`…R.MP4`) with the same time and
/// sequence number.
#[derive(Debug, Clone)]
pub struct ClipSpec {
    pub(crate) count: usize,
    pub(crate) size: u64,
    pub(crate) size_max: u64,
    pub(crate) rear: bool,
    pub(crate) rear_size: Option<u64>,
    pub(crate) parking_every: usize,
    pub(crate) locked_every: usize,
    pub(crate) gps: bool,
    pub(crate) start: PrimitiveDateTime,
    pub(crate) duration: Duration,
    pub(crate) first_seq: u32,
}

impl ClipSpec {
    /// `count` front clips of 1 MB each, one minute apart from
    /// 2025-12-24 12:00:00, with GPS.
    pub fn synthetic(count: usize) -> Self {
        Self {
            count,
            size: 1_000_000,
            size_max: 1_000_000,
            rear: false,
            rear_size: None,
            parking_every: 0,
            locked_every: 0,
            gps: true,
            start: datetime!(2025-12-24 12:00:00),
            duration: Duration::from_secs(60),
            first_seq: 1,
        }
    }

    /// Every clip exactly `bytes` long.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = bytes;
        self.size_max = bytes;
        self
    }

    /// Sizes drawn (seeded) from `min..=max`.
    pub fn size_range(mut self, min: u64, max: u64) -> Self {
        self.size = min.min(max);
        self.size_max = max.max(min);
        self
    }

    /// Add a rear clip (`R`) to every slot.
    pub fn rear(mut self, yes: bool) -> Self {
        self.rear = yes;
        self
    }

    /// Size of the rear clips (default: the same as the front ones).
    pub fn rear_size(mut self, bytes: u64) -> Self {
        self.rear_size = Some(bytes);
        self
    }

    /// Every `k`-th slot (slots k-1, 2k-1, …) is a parking recording (`P`, in
    /// `Parking`). 0 = none.
    pub fn parking_every(mut self, k: usize) -> Self {
        self.parking_every = k;
        self
    }

    /// Every `k`-th slot (slots k-1, 2k-1, …) is locked (in `RO`, ATTR 33).
    /// 0 = none. Takes precedence over parking for the folder; the name keeps
    /// its `P`.
    pub fn locked_every(mut self, k: usize) -> Self {
        self.locked_every = k;
        self
    }

    /// Whether clips carry a `gps ` index and GPS blocks (default yes).
    pub fn gps(mut self, yes: bool) -> Self {
        self.gps = yes;
        self
    }

    /// Local start time of the first slot.
    pub fn start_time(mut self, t: PrimitiveDateTime) -> Self {
        self.start = t;
        self
    }

    /// Dates the slots relative to `now` (the camera's wall clock): the
    /// last recording ends an hour before it, the first starts
    /// `count` × `duration` earlier, to the whole minute. Call after
    /// [`duration`](Self::duration).
    pub fn ending_before(mut self, now: PrimitiveDateTime) -> Self {
        let span = self
            .duration
            .saturating_mul(u32::try_from(self.count).unwrap_or(u32::MAX));
        let span = time::Duration::try_from(span).unwrap_or(time::Duration::ZERO);
        let start = now - span - time::Duration::HOUR;
        self.start = start
            .replace_second(0)
            .and_then(|t| t.replace_nanosecond(0))
            .unwrap_or(start);
        self
    }

    /// [`ending_before`](Self::ending_before) now (UTC): recordings of the
    /// last hours, as a camera in use holds, so that an age-based retention
    /// (`keep = "30d"`) keeps them. [`synthetic`](Self::synthetic) alone
    /// keeps its fixed date (tests name its clips).
    pub fn recent(self) -> Self {
        let now = time::OffsetDateTime::now_utc();
        self.ending_before(PrimitiveDateTime::new(now.date(), now.time()))
    }

    /// Length of each recording (default 60 s; one GPS block per second).
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration = d;
        self
    }

    /// Sequence number of the first slot (default 1).
    pub fn first_seq(mut self, seq: u32) -> Self {
        self.first_seq = seq;
        self
    }
}

/// One explicit clip.
#[derive(Debug, Clone)]
pub struct ClipDef {
    pub(crate) name: String,
    pub(crate) folder: Folder,
    pub(crate) body: DefBody,
    pub(crate) start: Option<PrimitiveDateTime>,
    pub(crate) duration: Duration,
    pub(crate) same_name: bool,
    /// Mixed into the content seed (0: the name alone decides the bytes).
    pub(crate) variant: u64,
}

#[derive(Debug, Clone)]
pub(crate) enum DefBody {
    Synthetic { size: u64, gps: bool },
    Bytes(Bytes),
}

impl ClipDef {
    /// A synthetic clip (deterministic body with GPS) of `size` bytes.
    pub fn synthetic(name: impl Into<String>, folder: Folder, size: u64) -> Self {
        Self {
            name: name.into(),
            folder,
            body: DefBody::Synthetic { size, gps: true },
            start: None,
            duration: Duration::from_secs(60),
            same_name: false,
            variant: 0,
        }
    }

    /// A clip whose body is exactly `bytes` (for small fixtures).
    pub fn from_bytes(name: impl Into<String>, folder: Folder, bytes: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            folder,
            body: DefBody::Bytes(bytes.into()),
            start: None,
            duration: Duration::from_secs(60),
            same_name: false,
            variant: 0,
        }
    }

    /// Start time (default: parsed from the name, else the camera clock).
    pub fn start_time(mut self, t: PrimitiveDateTime) -> Self {
        self.start = Some(t);
        self
    }

    /// Recording length (TIME = start + duration).
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration = d;
        self
    }

    /// This clip may share its file name with a clip in another folder
    /// (e.g. `DCIM/Movie/X.MP4` and `DCIM/Movie/RO/X.MP4`, both listed).
    /// Its content differs from the other one's (the folder is part of its
    /// seed). Two clips of one name in one folder are still refused. The
    /// name-based [`crate::Sim`] methods then act on the first clip of that
    /// name in listing order; the `*_at(folder, name)` ones pick one.
    pub fn allow_same_name(mut self) -> Self {
        self.same_name = true;
        self
    }

    /// Another recording under the same name: a synthetic clip's bytes
    /// come from its name (and size), so a name reused after a card format
    /// or a camera clock reset would otherwise serve the old recording's
    /// bytes again. A non-zero `variant` is mixed into the content seed:
    /// same name, other bytes (the GPS route changes with it). 0 (the
    /// default) keeps the name-only content.
    pub fn variant(mut self, variant: u64) -> Self {
        self.variant = variant;
        self
    }

    /// Synthetic clips only: without GPS blocks.
    pub fn without_gps(mut self) -> Self {
        if let DefBody::Synthetic { gps, .. } = &mut self.body {
            *gps = false;
        }
        self
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Synthetic(ClipSpec),
    Dir(PathBuf),
    Clip(ClipDef),
}

/// Behaviour that can also be changed while the simulator runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) latency: Duration,
    pub(crate) delete_delay: Duration,
    pub(crate) firmware: String,
    pub(crate) listing_shape: ListingShape,
    pub(crate) listing_content_length: bool,
    pub(crate) listing_end: ListingEnd,
    pub(crate) delete_forms: DeleteForms,
    pub(crate) delete_empty_body: bool,
    pub(crate) delete_locked: bool,
    pub(crate) ignore_range: bool,
    pub(crate) head_supported: bool,
    pub(crate) card_capacity: u64,
}

/// Everything the simulator starts with. Build with the chained methods;
/// `SimConfig::default()` is an empty card on `127.0.0.1:0`, unshaped
/// bandwidth, no latency, 3 connections, 2 s deletes.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub(crate) bind: SocketAddr,
    pub(crate) sources: Vec<Source>,
    pub(crate) bandwidth: Option<u64>,
    pub(crate) max_connections: usize,
    pub(crate) seed: u64,
    pub(crate) recording: bool,
    pub(crate) recording_rate: u64,
    pub(crate) recording_clip: Duration,
    pub(crate) clock: Option<PrimitiveDateTime>,
    pub(crate) random_faults: RandomFaults,
    pub(crate) chunk_size: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) settings: Settings,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            sources: Vec::new(),
            bandwidth: None,
            max_connections: 3,
            seed: 0,
            recording: false,
            recording_rate: 1_000_000,
            recording_clip: Duration::from_secs(60),
            clock: None,
            random_faults: RandomFaults::default(),
            chunk_size: 16 * 1024,
            request_timeout: Duration::from_secs(30),
            settings: Settings {
                latency: Duration::ZERO,
                delete_delay: Duration::from_secs(2),
                firmware: "VIOFO_A329S_V2.0_260313".to_owned(),
                listing_shape: ListingShape::Nested,
                listing_content_length: false,
                listing_end: ListingEnd::Complete,
                delete_forms: DeleteForms::default(),
                delete_empty_body: false,
                delete_locked: false,
                ignore_range: false,
                head_supported: true,
                card_capacity: 256_000_000_000,
            },
        }
    }
}

impl SimConfig {
    /// Add synthetic clips (may be called several times).
    pub fn with_clips(mut self, spec: ClipSpec) -> Self {
        self.sources.push(Source::Synthetic(spec));
        self
    }

    /// Add one explicit clip.
    pub fn with_clip(mut self, clip: ClipDef) -> Self {
        self.sources.push(Source::Clip(clip));
        self
    }

    /// Serve a folder laid out like a card (`DCIM/Movie`, `DCIM/Movie/Parking`,
    /// `DCIM/Movie/RO` under `root`). Files are read, never modified: deletes
    /// only hide them.
    pub fn serve_dir(mut self, root: impl Into<PathBuf>) -> Self {
        self.sources.push(Source::Dir(root.into()));
        self
    }

    /// Address to bind. Only `127.0.0.1` is accepted (start fails otherwise).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Port to bind on 127.0.0.1 (0 = any free port, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.bind = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Total bytes per second across all connections (one shared link).
    pub fn bandwidth(mut self, bytes_per_sec: u64) -> Self {
        self.bandwidth = (bytes_per_sec > 0).then_some(bytes_per_sec);
        self
    }

    /// Delay before every response.
    pub fn latency(mut self, d: Duration) -> Self {
        self.settings.latency = d;
        self
    }

    /// Connections served at once; more are accepted and reset (default 3).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// How long a delete takes before it answers (default 2 s).
    pub fn delete_delay(mut self, d: Duration) -> Self {
        self.settings.delete_delay = d;
        self
    }

    /// Seed for sizes, GPS tracks, filler and random faults.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Firmware string answered by cmd=3012.
    pub fn firmware(mut self, s: impl Into<String>) -> Self {
        self.settings.firmware = s.into();
        self
    }

    /// XML shape of cmd=3015.
    pub fn listing_shape(mut self, shape: ListingShape) -> Self {
        self.settings.listing_shape = shape;
        self
    }

    /// Send a Content-Length with the listing (default no: close-delimited).
    pub fn listing_content_length(mut self, yes: bool) -> Self {
        self.settings.listing_content_length = yes;
        self
    }

    /// How the cmd=3015 document ends (default: complete).
    pub fn listing_end(mut self, end: ListingEnd) -> Self {
        self.settings.listing_end = end;
        self
    }

    /// Which path forms cmd=4003 accepts.
    pub fn delete_forms(mut self, forms: DeleteForms) -> Self {
        self.settings.delete_forms = forms;
        self
    }

    /// Answer a successful delete with an empty body (some firmware).
    pub fn delete_empty_body(mut self, yes: bool) -> Self {
        self.settings.delete_empty_body = yes;
        self
    }

    /// Allow deleting locked (RO) clips (default: refused with Status -1).
    pub fn delete_locked(mut self, yes: bool) -> Self {
        self.settings.delete_locked = yes;
        self
    }

    /// Ignore `Range` and always answer 200 with the whole file.
    pub fn ignore_range(mut self, yes: bool) -> Self {
        self.settings.ignore_range = yes;
        self
    }

    /// Whether HEAD is answered (default yes; no = the connection is reset).
    pub fn head_supported(mut self, yes: bool) -> Self {
        self.settings.head_supported = yes;
        self
    }

    /// Card size in bytes (cmd=3017 answers this minus what is stored).
    pub fn card_capacity(mut self, bytes: u64) -> Self {
        self.settings.card_capacity = bytes;
        self
    }

    /// Start recording right away (see [`crate::Sim::set_recording`]).
    pub fn recording(mut self, yes: bool) -> Self {
        self.recording = yes;
        self
    }

    /// Bytes per second a recording clip grows by (default 1 MB/s).
    pub fn recording_rate(mut self, bytes_per_sec: u64) -> Self {
        self.recording_rate = bytes_per_sec.max(1);
        self
    }

    /// Length of each loop-recording clip (default 60 s); after it a new
    /// clip starts.
    pub fn recording_clip_duration(mut self, d: Duration) -> Self {
        self.recording_clip = d.max(Duration::from_secs(1));
        self
    }

    /// Camera clock at start (default: one minute after the last clip).
    pub fn clock(mut self, t: PrimitiveDateTime) -> Self {
        self.clock = Some(t);
        self
    }

    /// Seeded-random faults applied to every request.
    pub fn random_faults(mut self, faults: RandomFaults) -> Self {
        self.random_faults = faults;
        self
    }

    /// Bytes per body write (default 16 KiB).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.clamp(1, 1 << 20);
        self
    }

    /// How long a connection may take to send its request head (default 30 s).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
}
