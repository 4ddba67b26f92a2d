//! What is on the simulated card: clips, their bodies, the camera clock and
//! the recording in progress.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use time::PrimitiveDateTime;
use tokio::time::Instant;

use crate::config::{ClipDef, Folder, LockStyle, SimConfig, Source};
use crate::error::{ErrorKind, SimError};
use viofo_gps::fixture::{Route, splitmix64};

use crate::body::{GpsPoint, Synth};
use crate::names::{hash_name, is_parking_name, name_time, parse_name_time, parse_seq};

mod build;
mod reset;

use build::{from_def, scan_dir, synthetic};

/// A clip's body source.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Synth(Synth),
    Bytes(Bytes),
    File(PathBuf),
}

/// One file on the card.
#[derive(Debug, Clone)]
pub(crate) struct Clip {
    /// Identity on this card (names may repeat across folders).
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) folder: Folder,
    pub(crate) size: u64,
    pub(crate) start: PrimitiveDateTime,
    pub(crate) end: PrimitiveDateTime,
    pub(crate) body: Body,
    pub(crate) growing: bool,
    /// ATTR 33 without being in `RO` ([`LockStyle::AttrInPlace`]).
    pub(crate) read_only: bool,
    /// Synthetic clips from an explicit [`ClipDef::allow_same_name`].
    pub(crate) same_name: bool,
}

/// What a test sees of a clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipInfo {
    /// File name, e.g. `2025_1224_120324_000002PF.MP4`.
    pub name: String,
    /// Folder it is in now.
    pub folder: Folder,
    /// FPATH as listed, e.g. `A:\DCIM\Movie\RO\2025_1224_120324_000002PF.MP4`.
    pub fpath: String,
    /// URL path, e.g. `/DCIM/Movie/RO/2025_1224_120324_000002PF.MP4`.
    pub url_path: String,
    /// Exact size now (the listing's SIZE and the download's length).
    pub size: u64,
    /// Locked: in `RO`, or marked read-only in place (ATTR 33 either way).
    pub locked: bool,
    /// Parking recording (`P` in the name).
    pub parking: bool,
    /// Still being recorded (its size grows).
    pub growing: bool,
    /// Start (local camera time).
    pub start: PrimitiveDateTime,
    /// End (TIME in the listing).
    pub end: PrimitiveDateTime,
}

impl Clip {
    pub(crate) fn info(&self) -> ClipInfo {
        ClipInfo {
            name: self.name.clone(),
            folder: self.folder,
            fpath: format!("{}{}", self.folder.fpath_dir(), self.name),
            url_path: self.url_path(),
            size: self.size,
            locked: self.is_locked(),
            parking: is_parking_name(&self.name),
            growing: self.growing,
            start: self.start,
            end: self.end,
        }
    }

    pub(crate) fn url_path(&self) -> String {
        format!("{}/{}", self.folder.url_dir(), self.name)
    }

    pub(crate) fn is_locked(&self) -> bool {
        self.folder == Folder::Ro || self.read_only
    }

    pub(crate) fn attr(&self) -> u32 {
        if self.is_locked() { 33 } else { 32 }
    }

    /// GPS fixes the body carries now (synthetic clips only).
    pub(crate) fn gps_points(&self) -> Vec<GpsPoint> {
        match &self.body {
            Body::Synth(s) => s.points(self.size),
            _ => Vec::new(),
        }
    }
}

/// A clip being recorded.
#[derive(Debug)]
struct Recording {
    id: u64,
    /// Instant the clip started.
    started: Instant,
    synth: Synth,
}

/// The card plus the camera clock.
#[derive(Debug)]
pub(crate) struct Card {
    pub(crate) clips: Vec<Clip>,
    seed: u64,
    next_seq: u32,
    /// Camera time at `epoch`.
    clock_base: PrimitiveDateTime,
    epoch: Instant,
    rate: u64,
    clip_duration: Duration,
    track: Route,
    recording: Option<Recording>,
    next_id: u64,
    /// Clips that grow by so many bytes each time a listing is served.
    growth_per_listing: Vec<(u64, u64)>,
    /// Clips locked the moment their download's last byte is served.
    lock_on_download: Vec<(u64, LockStyle)>,
}

impl Card {
    pub(crate) fn build(config: &SimConfig) -> Result<Self, SimError> {
        let mut clips = Vec::new();
        let mut next_seq = 1u32;
        for (k, source) in config.sources.iter().enumerate() {
            let seed = splitmix64(config.seed ^ (k as u64).wrapping_mul(0x51_7cc1_b727_220a));
            match source {
                Source::Synthetic(spec) => synthetic(spec, seed, &mut clips),
                Source::Dir(root) => scan_dir(root, &mut clips)?,
                Source::Clip(def) => {
                    let t = def.start.or_else(|| parse_name_time(&def.name)).unwrap_or(
                        config
                            .clock
                            .unwrap_or(time::macros::datetime!(2025-12-24 12:00:00)),
                    );
                    clips.push(from_def(def, seed, t));
                }
            }
        }
        for c in &clips {
            if let Some(seq) = parse_seq(&c.name) {
                next_seq = next_seq.max(seq.saturating_add(1));
            }
        }
        clips.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.name.cmp(&b.name)));
        for (i, c) in clips.iter().enumerate() {
            if let Some(other) = clips.get(..i).and_then(|before| {
                before
                    .iter()
                    .find(|o| o.name.eq_ignore_ascii_case(&c.name) && !may_share_name(o, c))
            }) {
                return Err(SimError::new(ErrorKind::Config(format!(
                    "two clips are named {} (in {} and {})",
                    c.name,
                    other.folder.url_dir(),
                    c.folder.url_dir()
                ))));
            }
        }
        let mut next_id = 0u64;
        for c in &mut clips {
            c.id = next_id;
            next_id += 1;
        }
        let latest = clips.iter().map(|c| c.end).max();
        let clock_base = config
            .clock
            .or(latest.map(|t| t + time::Duration::minutes(1)))
            .unwrap_or(time::macros::datetime!(2025-12-24 12:00:00));
        Ok(Self {
            clips,
            seed: config.seed,
            next_seq,
            clock_base,
            epoch: Instant::now(),
            rate: config.recording_rate,
            clip_duration: config.recording_clip,
            track: Route::from_seed(config.seed ^ 0xcafe, clock_base),
            recording: None,
            next_id,
            growth_per_listing: Vec::new(),
            lock_on_download: Vec::new(),
        })
    }

    /// Camera wall clock now.
    pub(crate) fn camera_now(&self, now: Instant) -> PrimitiveDateTime {
        self.clock_base + now.saturating_duration_since(self.epoch)
    }

    pub(crate) fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Start or stop recording. Stopping finishes the growing clip at its
    /// current size.
    pub(crate) fn set_recording(&mut self, on: bool, now: Instant) {
        self.refresh(now);
        match (on, self.recording.is_some()) {
            (true, false) => self.start_clip(now, self.camera_now(now)),
            (false, true) => {
                if let Some(rec) = self.recording.take()
                    && let Some(c) = self.clips.iter_mut().find(|c| c.id == rec.id)
                {
                    c.growing = false;
                }
            }
            _ => {}
        }
    }

    fn start_clip(&mut self, started: Instant, at: PrimitiveDateTime) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        let name = format!("{}_{seq:06}F.MP4", name_time(at));
        let synth = Synth::for_rate(
            splitmix64(self.seed ^ u64::from(seq) ^ 0x5eed),
            self.rate,
            self.clip_duration.as_secs(),
            Some(self.track),
            at,
        );
        let size = synth.data_start();
        // A name clash (a served folder already has it) just replaces nothing:
        // skip the number.
        if self
            .clips
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&name))
        {
            self.start_clip(started, at + time::Duration::seconds(1));
            return;
        }
        let id = self.take_id();
        self.clips.push(Clip {
            id,
            name,
            folder: Folder::Movie,
            size,
            start: at,
            end: at,
            body: Body::Synth(synth.clone()),
            growing: true,
            read_only: false,
            same_name: false,
        });
        self.recording = Some(Recording { id, started, synth });
    }

    /// Bring the growing clip up to date with the clock.
    pub(crate) fn refresh(&mut self, now: Instant) {
        for _ in 0..100_000 {
            let Some(rec) = &self.recording else { return };
            let elapsed = now.saturating_duration_since(rec.started);
            let header = rec.synth.data_start();
            let id = rec.id;
            let started = rec.started;
            let Some(clip) = self.clips.iter_mut().find(|c| c.id == id) else {
                // Deleted or removed under us: stop tracking it.
                self.recording = None;
                return;
            };
            if elapsed < self.clip_duration {
                #[allow(clippy::cast_possible_truncation)] // saturating float cast
                let grown = (self.rate as f64 * elapsed.as_secs_f64()) as u64;
                clip.size = header + grown;
                clip.end = clip.start + elapsed;
                return;
            }
            clip.size = header + self.rate.saturating_mul(self.clip_duration.as_secs());
            clip.end = clip.start + self.clip_duration;
            clip.growing = false;
            let next_at = clip.end;
            self.recording = None;
            self.start_clip(started + self.clip_duration, next_at);
        }
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The first clip of that name in listing order.
    pub(crate) fn find(&self, name: &str) -> Option<&Clip> {
        self.clips
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The clip of that name in that folder.
    pub(crate) fn find_at(&self, folder: Folder, name: &str) -> Option<&Clip> {
        self.clips
            .iter()
            .find(|c| c.folder == folder && c.name.eq_ignore_ascii_case(name))
    }

    fn find_id_mut(&mut self, id: u64) -> Option<&mut Clip> {
        self.clips.iter_mut().find(|c| c.id == id)
    }

    pub(crate) fn find_url(&self, path: &str) -> Option<&Clip> {
        self.clips
            .iter()
            .find(|c| c.url_path().eq_ignore_ascii_case(path))
    }

    pub(crate) fn remove_id(&mut self, id: u64) -> Option<Clip> {
        let i = self.clips.iter().position(|c| c.id == id)?;
        Some(self.clips.remove(i))
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<Clip> {
        let i = self
            .clips
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))?;
        Some(self.clips.remove(i))
    }

    /// Locks the first clip of that name, the way `style` says.
    pub(crate) fn lock(&mut self, name: &str, style: LockStyle) -> bool {
        match self.find(name).map(|c| c.id) {
            Some(id) => self.lock_id(id, style),
            None => false,
        }
    }

    fn lock_id(&mut self, id: u64, style: LockStyle) -> bool {
        let Some(c) = self.clips.iter().find(|c| c.id == id) else {
            return false;
        };
        let ro_taken = self
            .find_at(Folder::Ro, &c.name)
            .is_some_and(|o| o.id != id);
        let Some(c) = self.find_id_mut(id) else {
            return false;
        };
        match style {
            LockStyle::MoveToRo if !ro_taken => c.folder = Folder::Ro,
            _ => c.read_only = true,
        }
        true
    }

    /// Arms a one-shot lock of the first clip of that name, fired when a
    /// download serves its last byte ([`Card::download_completed`]).
    pub(crate) fn lock_on_download(&mut self, name: &str, style: LockStyle) -> bool {
        let Some(id) = self.find(name).map(|c| c.id) else {
            return false;
        };
        self.lock_on_download.retain(|(i, _)| *i != id);
        self.lock_on_download.push((id, style));
        true
    }

    /// A download of clip `id` is about to send its last byte.
    pub(crate) fn download_completed(&mut self, id: u64) {
        if let Some(i) = self.lock_on_download.iter().position(|(c, _)| *c == id) {
            let (_, style) = self.lock_on_download.remove(i);
            self.lock_id(id, style);
        }
    }

    /// Appends `extra` bytes to a finished synthetic clip (late
    /// finalisation: the camera does not say it is recording). Its header
    /// is rewritten for the new size; the bytes after it only grow.
    pub(crate) fn grow(&mut self, name: &str, extra: u64) -> bool {
        match self.find(name).map(|c| c.id) {
            Some(id) => self.grow_id(id, extra),
            None => false,
        }
    }

    fn grow_id(&mut self, id: u64, extra: u64) -> bool {
        match self.find_id_mut(id) {
            Some(c) if !c.growing && matches!(c.body, Body::Synth(_)) => {
                c.size = c.size.saturating_add(extra);
                true
            }
            _ => false,
        }
    }

    /// Makes the first clip of that name grow by `bytes` each time a
    /// listing is served (0 stops it).
    pub(crate) fn set_growth_per_listing(&mut self, name: &str, bytes: u64) -> bool {
        let Some(c) = self.find(name) else {
            return false;
        };
        if c.growing || !matches!(c.body, Body::Synth(_)) {
            return false;
        }
        let id = c.id;
        self.growth_per_listing.retain(|(i, _)| *i != id);
        if bytes > 0 {
            self.growth_per_listing.push((id, bytes));
        }
        true
    }

    /// A listing is about to be served: grow the clips set to grow. `folder`
    /// is the HTML page's folder (`None` for cmd=3015, which lists all).
    pub(crate) fn listing_served(&mut self, folder: Option<Folder>) {
        let rules = self.growth_per_listing.clone();
        for (id, bytes) in rules {
            let listed = self
                .clips
                .iter()
                .find(|c| c.id == id)
                .is_some_and(|c| folder.is_none_or(|f| f == c.folder));
            if listed {
                self.grow_id(id, bytes);
            }
        }
    }

    pub(crate) fn add(&mut self, def: &ClipDef, now: Instant) -> Result<ClipInfo, SimError> {
        let probe = Clip {
            id: u64::MAX,
            name: def.name.clone(),
            folder: def.folder,
            size: 0,
            start: PrimitiveDateTime::MIN,
            end: PrimitiveDateTime::MIN,
            body: Body::Bytes(Bytes::new()),
            growing: false,
            read_only: false,
            same_name: def.same_name,
        };
        if let Some(other) = self
            .clips
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&def.name) && !may_share_name(c, &probe))
        {
            return Err(SimError::new(ErrorKind::Config(format!(
                "a clip named {} is already on the card (in {})",
                def.name,
                other.folder.url_dir()
            ))));
        }
        let t = def
            .start
            .or_else(|| parse_name_time(&def.name))
            .unwrap_or_else(|| self.camera_now(now));
        let seed = splitmix64(self.seed ^ hash_name(&def.name));
        let mut clip = from_def(def, seed, t);
        clip.id = self.take_id();
        if let Some(seq) = parse_seq(&clip.name) {
            self.next_seq = self.next_seq.max(seq.saturating_add(1));
        }
        let info = clip.info();
        self.clips.push(clip);
        Ok(info)
    }

    pub(crate) fn used(&self) -> u64 {
        self.clips.iter().map(|c| c.size).sum()
    }
}

/// Whether two clips of one name may both be on the card: in different
/// folders, and at least one of them asked for it.
fn may_share_name(a: &Clip, b: &Clip) -> bool {
    a.folder != b.folder && (a.same_name || b.same_name)
}
