//! Deterministic builder for Viofo-like MP4 clips with GPS blocks (feature `fixture`).
//!
//! Used by this crate's tests and benches and by the camera simulator. A
//! [`ClipBuilder`] plans a clip — `ftyp`, `mdat` holding GPS `free` blocks
//! among filler, and `moov` (with `mvhd` and the `gps ` index) at the front or
//! at the end — and [`ClipBuilder::build`] returns a [`Clip`]: a cheap,
//! cloneable *plan*, not the bytes. A clip of any size (2 GB and more) can be
//! read at any offset ([`Clip::read_at`]), streamed ([`Clip::reader`], a
//! `Read + Seek`), written to any `Write` ([`Clip::write_to`]), written as a
//! sparse file ([`Clip::write_sparse`]) or collected ([`Clip::to_vec`])
//! without ever holding more than one block in memory.
//!
//! Everything is a pure function of the builder's inputs: the same builder
//! always yields the same bytes. Filler bytes are either zero
//! ([`Filler::Zero`], sparse-friendly) or a pseudo-random pattern whose bytes
//! are all `>= 0x80` ([`Filler::Pattern`], the default), so filler can never
//! contain the ASCII `free`/`GPS ` markers.
//!
//! ```
//! use viofo_gps::fixture::{drive, ClipBuilder, MoovAt};
//! use viofo_gps::Layout;
//! use time::macros::datetime;
//!
//! let points = drive(datetime!(2025-12-24 12:03:24), 60, 52.52, 13.40, 13.9, 90.0);
//! let clip = ClipBuilder::new(Layout::Variable)
//!     .points(points)
//!     .total_len(4 << 20) // 4 MiB clip, blocks spread evenly through mdat
//!     .moov(MoovAt::Front)
//!     .build();
//! assert_eq!(clip.len(), 4 << 20);
//! assert_eq!(clip.block_offsets().len(), 60);
//! let bytes = clip.to_vec();
//! assert_eq!(&bytes[4..8], b"ftyp");
//! ```

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use time::PrimitiveDateTime;

use crate::Layout;

/// Knots per metre per second.
const KNOTS_PER_MPS: f64 = 3600.0 / 1852.0;

/// Where the `moov` box goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MoovAt {
    /// After `mdat` (A119 / A129 / A139 style): the index is known only at the end.
    #[default]
    End,
    /// Right after `ftyp`, before `mdat` (A229 / A329 style).
    Front,
}

/// What the `gps ` index in `moov` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Index {
    /// One entry per block, in order.
    #[default]
    Normal,
    /// No `gps ` box at all (readers must scan `mdat`).
    None,
    /// A `gps ` box with zero entries.
    Empty,
}

/// Filler bytes between blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filler {
    /// Deterministic pseudo-random bytes, all `>= 0x80` (never ASCII).
    #[default]
    Pattern,
    /// Zero bytes; [`Clip::write_sparse`] leaves them as holes.
    Zero,
}

/// One fix as a caller thinks of it (converted to the camera's on-disk units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixPoint {
    /// The time the camera writes (UTC on most firmware).
    pub time: PrimitiveDateTime,
    /// Latitude, decimal degrees (negative = south).
    pub lat: f64,
    /// Longitude, decimal degrees (negative = west).
    pub lon: f64,
    /// Speed in metres per second (written as knots).
    pub speed_mps: f64,
    /// Course over ground in degrees.
    pub course_deg: f64,
    /// Raw accelerometer values (written as three i32; readers divide by 256).
    pub accel: Option<[i32; 3]>,
}

/// The camera record exactly as written (fields are not validated, so
/// impossible dates or coordinates can be produced on purpose).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawRecord {
    /// Hour field.
    pub hour: u32,
    /// Minute field.
    pub minute: u32,
    /// Second field.
    pub second: u32,
    /// Year field as written (usually year − 2000).
    pub year: u32,
    /// Month field.
    pub month: u32,
    /// Day field.
    pub day: u32,
    /// Status byte: `b'A'` = fix, `b'V'` = no fix.
    pub status: u8,
    /// `b'N'` or `b'S'`.
    pub lat_ref: u8,
    /// `b'E'` or `b'W'`.
    pub lon_ref: u8,
    /// Latitude as NMEA `DDMM.MMMM`, unsigned.
    pub lat_nmea: f32,
    /// Longitude as NMEA `DDDMM.MMMM`, unsigned.
    pub lon_nmea: f32,
    /// Speed in knots.
    pub speed_knots: f32,
    /// Course in degrees.
    pub course: f32,
    /// Raw accelerometer triple.
    pub accel: [i32; 3],
}

impl From<&FixPoint> for RawRecord {
    fn from(p: &FixPoint) -> Self {
        let year = u32::try_from(p.time.year())
            .unwrap_or(2000)
            .saturating_sub(2000);
        RawRecord {
            hour: u32::from(p.time.hour()),
            minute: u32::from(p.time.minute()),
            second: u32::from(p.time.second()),
            year,
            month: u32::from(u8::from(p.time.month())),
            day: u32::from(p.time.day()),
            status: b'A',
            lat_ref: if p.lat < 0.0 { b'S' } else { b'N' },
            lon_ref: if p.lon < 0.0 { b'W' } else { b'E' },
            lat_nmea: to_nmea(p.lat.abs()),
            lon_nmea: to_nmea(p.lon.abs()),
            #[allow(clippy::cast_possible_truncation)]
            speed_knots: (p.speed_mps * KNOTS_PER_MPS) as f32,
            #[allow(clippy::cast_possible_truncation)]
            course: p.course_deg as f32,
            accel: p.accel.unwrap_or([0, 0, 0]),
        }
    }
}

#[allow(clippy::cast_possible_truncation)]
fn to_nmea(deg: f64) -> f32 {
    let whole = deg.trunc();
    (whole * 100.0 + (deg - whole) * 60.0) as f32
}

/// The content of one GPS block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Block {
    /// A valid fix.
    Fix(FixPoint),
    /// A record written verbatim (for invalid dates, coordinates, status `V`…).
    Raw(RawRecord),
    /// No fix: everything after the `GPS ` magic is zero (A139 style).
    NoFixZero,
    /// No fix: status `V` with the time set and zero coordinates.
    NoFixV,
}

/// Generate `n` one-second fixes along a straight line.
///
/// Starts at `start` (camera time), `lat`/`lon`, moving at `speed_mps` on
/// `course_deg` (flat-earth step, plenty for tests).
#[must_use]
pub fn drive(
    start: PrimitiveDateTime,
    n: usize,
    lat: f64,
    lon: f64,
    speed_mps: f64,
    course_deg: f64,
) -> Vec<FixPoint> {
    let (sin, cos) = course_deg.to_radians().sin_cos();
    let m_per_deg_lat = 111_320.0;
    let m_per_deg_lon = (111_320.0 * lat.to_radians().cos()).max(1.0);
    let mut out = Vec::with_capacity(n);
    let mut t = start;
    let (mut la, mut lo) = (lat, lon);
    for _ in 0..n {
        out.push(FixPoint {
            time: t,
            lat: la,
            lon: lo,
            speed_mps,
            course_deg,
            accel: None,
        });
        la += speed_mps * cos / m_per_deg_lat;
        lo += speed_mps * sin / m_per_deg_lon;
        t = t.saturating_add(time::Duration::SECOND);
    }
    out
}

/// Offset (from the box start) of the record's time fields for `layout` and
/// block sequence number `seq`; the status triple sits 24 bytes later.
/// (Blocks too small to hold the record there get it at 0x30.)
#[must_use]
pub fn record_offset(layout: Layout, seq: usize) -> usize {
    match layout {
        Layout::Type3 => 0x10,
        Layout::A119S => 0x30,
        // Varies per block between 0x30 and 0xec, 4-byte aligned.
        Layout::Variable => 0x30 + 4 * ((seq * 7) % 48),
    }
}

/// Default block (box) size for a layout: 0x4000 for type 3, else 0x8000.
#[must_use]
pub fn default_block_size(layout: Layout) -> u32 {
    match layout {
        Layout::Type3 => 0x4000,
        Layout::A119S | Layout::Variable => 0x8000,
    }
}

fn put_u32_le(buf: &mut [u8], at: usize, v: u32) {
    if let Some(s) = buf.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(s) = buf.get_mut(at..at + bytes.len()) {
        s.copy_from_slice(bytes);
    }
}

/// Encode one GPS `free` box of `size` bytes (at least 0x100) into `out`
/// (cleared and resized). `seq` chooses the record position for
/// [`Layout::Variable`], which also plants a decoy `ANE` triple at 0x28 —
/// a fixed-offset decoder reads garbage there, as on real A229 files
/// (only in blocks whose status is `A`).
pub fn encode_block_into(layout: Layout, block: &Block, size: u32, seq: usize, out: &mut Vec<u8>) {
    let size = size.max(0x100);
    out.clear();
    out.resize(size as usize, 0);
    put(out, 0, &size.to_be_bytes());
    put(out, 4, b"free");
    put(out, 8, b"GPS ");
    let rec = match block {
        Block::NoFixZero => return,
        Block::Fix(p) => RawRecord::from(p),
        Block::Raw(r) => *r,
        Block::NoFixV => RawRecord {
            hour: 12,
            minute: 0,
            second: 0,
            year: 25,
            month: 1,
            day: 1,
            status: b'V',
            lat_ref: 0,
            lon_ref: 0,
            lat_nmea: 0.0,
            lon_nmea: 0.0,
            speed_knots: 0.0,
            course: 0.0,
            accel: [0, 0, 0],
        },
    };
    let tag: u32 = match layout {
        Layout::Type3 => 0x3f0,
        Layout::A119S => 0x4c,
        Layout::Variable => 0x0100_0000 | u32::try_from(seq % 0x1000).unwrap_or(0),
    };
    put_u32_le(out, 12, tag);
    let mut r = record_offset(layout, seq);
    if r + 56 > out.len() {
        r = 0x30; // a small block cannot hold the record further in
    }
    if layout == Layout::Variable && r >= 0x30 && rec.status == b'A' {
        // Decoy triple where a type-3 decoder would look.
        put(out, 0x28, b"ANE\0");
    }
    for (i, v) in [
        rec.hour, rec.minute, rec.second, rec.year, rec.month, rec.day,
    ]
    .into_iter()
    .enumerate()
    {
        put_u32_le(out, r + 4 * i, v);
    }
    put(out, r + 24, &[rec.status, rec.lat_ref, rec.lon_ref, 0]);
    for (i, v) in [rec.lat_nmea, rec.lon_nmea, rec.speed_knots, rec.course]
        .into_iter()
        .enumerate()
    {
        put(out, r + 28 + 4 * i, &v.to_le_bytes());
    }
    for (i, v) in rec.accel.into_iter().enumerate() {
        put(out, r + 44 + 4 * i, &v.to_le_bytes());
    }
}

/// [`encode_block_into`] returning a new vector.
#[must_use]
pub fn encode_block(layout: Layout, block: &Block, size: u32, seq: usize) -> Vec<u8> {
    let mut v = Vec::new();
    encode_block_into(layout, block, size, seq, &mut v);
    v
}

/// Plans a clip; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct ClipBuilder {
    layout: Layout,
    blocks: Vec<Block>,
    block_size: Option<u32>,
    gap: u64,
    total_len: Option<u64>,
    moov_at: MoovAt,
    moov_reserve: Option<u32>,
    index: Index,
    filler: Filler,
    seed: u64,
    large_mdat: bool,
    creation_time: Option<PrimitiveDateTime>,
}

impl ClipBuilder {
    /// A builder for `layout` with no blocks, 1 KiB gaps, moov at the end,
    /// a normal index and pattern filler.
    #[must_use]
    pub fn new(layout: Layout) -> Self {
        ClipBuilder {
            layout,
            blocks: Vec::new(),
            block_size: None,
            gap: 1024,
            total_len: None,
            moov_at: MoovAt::End,
            moov_reserve: None,
            index: Index::Normal,
            filler: Filler::Pattern,
            seed: 0,
            large_mdat: false,
            creation_time: None,
        }
    }

    /// Append one fix block per point.
    #[must_use]
    pub fn points(mut self, points: impl IntoIterator<Item = FixPoint>) -> Self {
        self.blocks.extend(points.into_iter().map(Block::Fix));
        self
    }

    /// Append arbitrary blocks.
    #[must_use]
    pub fn blocks(mut self, blocks: impl IntoIterator<Item = Block>) -> Self {
        self.blocks.extend(blocks);
        self
    }

    /// Box size of every GPS block (default [`default_block_size`]; minimum 0x100).
    #[must_use]
    pub fn block_size(mut self, size: u32) -> Self {
        self.block_size = Some(size.max(0x100));
        self
    }

    /// Filler bytes before, between and after blocks (ignored when
    /// [`total_len`](Self::total_len) is set).
    #[must_use]
    pub fn gap(mut self, bytes: u64) -> Self {
        self.gap = bytes;
        self
    }

    /// Make the clip exactly this long (or as short as possible if smaller),
    /// spreading the blocks evenly through `mdat`.
    #[must_use]
    pub fn total_len(mut self, bytes: u64) -> Self {
        self.total_len = Some(bytes);
        self
    }

    /// Place `moov` at the front or the end.
    #[must_use]
    pub fn moov(mut self, at: MoovAt) -> Self {
        self.moov_at = at;
        self
    }

    /// With the moov at the front, pad `moov` + a `free` box to this many
    /// bytes, like the A229's reserved ~65 KB region.
    #[must_use]
    pub fn moov_reserve(mut self, bytes: u32) -> Self {
        self.moov_reserve = Some(bytes);
        self
    }

    /// What the `gps ` index holds.
    #[must_use]
    pub fn index(mut self, index: Index) -> Self {
        self.index = index;
        self
    }

    /// Filler kind.
    #[must_use]
    pub fn filler(mut self, filler: Filler) -> Self {
        self.filler = filler;
        self
    }

    /// Seed for the filler pattern.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Write the `mdat` header with a 64-bit size (forced when mdat > 4 GiB).
    #[must_use]
    pub fn large_mdat(mut self, large: bool) -> Self {
        self.large_mdat = large;
        self
    }

    /// `mvhd` creation time (default: the first fix's time, else 2025-01-01).
    #[must_use]
    pub fn creation_time(mut self, t: PrimitiveDateTime) -> Self {
        self.creation_time = Some(t);
        self
    }

    /// Lay the clip out.
    #[must_use]
    pub fn build(&self) -> Clip {
        let bsize = self
            .block_size
            .unwrap_or_else(|| default_block_size(self.layout));
        let n = self.blocks.len() as u64;
        let blocks_len = n * u64::from(bsize);
        let ftyp = ftyp_box();
        let creation = self.creation_time.or_else(|| {
            self.blocks.iter().find_map(|b| match b {
                Block::Fix(p) => Some(p.time),
                _ => None,
            })
        });
        // The moov's size does not depend on the offsets, so plan with zeros first.
        let moov_len = moov_box(self, &vec![0; self.blocks.len()], bsize, creation).len() as u64;
        let reserve = match (self.moov_at, self.moov_reserve) {
            (MoovAt::Front, Some(r)) if u64::from(r) >= moov_len + 8 => u64::from(r) - moov_len,
            _ => 0,
        };
        let front = ftyp.len() as u64
            + if self.moov_at == MoovAt::Front {
                moov_len + reserve
            } else {
                0
            };
        let back = if self.moov_at == MoovAt::End {
            moov_len
        } else {
            0
        };
        let min_gaps = blocks_len;
        let (gap, tail_extra, body_len) = match self.total_len {
            Some(total) => {
                let hdr = if self.large_mdat { 16 } else { 8 };
                let body = total.saturating_sub(front + back + hdr).max(min_gaps);
                let spare = body - min_gaps;
                let gap = spare / (n + 1);
                (gap, spare - gap * (n + 1), body)
            }
            None => (self.gap, 0, min_gaps + self.gap * (n + 1)),
        };
        let large = self.large_mdat || body_len + 8 > u64::from(u32::MAX);
        let mdat_hdr_len = if large { 16 } else { 8 };
        let mdat_start = front;
        let body_start = mdat_start + mdat_hdr_len;
        let offsets: Vec<u64> = (0..n)
            .map(|i| body_start + gap + i * (u64::from(bsize) + gap))
            .collect();
        let moov = moov_box(self, &offsets, bsize, creation);

        let mut segs = Vec::new();
        let mut pos = 0u64;
        let mut push = |segs: &mut Vec<Seg>, kind: SegKind, len: u64| {
            if len > 0 {
                segs.push(Seg {
                    start: pos,
                    len,
                    kind,
                });
                pos += len;
            }
        };
        push(&mut segs, SegKind::Bytes(ftyp.clone()), ftyp.len() as u64);
        if self.moov_at == MoovAt::Front {
            push(&mut segs, SegKind::Bytes(moov.clone()), moov_len);
            if reserve > 0 {
                let mut pad = Vec::with_capacity(8);
                pad.extend_from_slice(&u32::try_from(reserve).unwrap_or(8).to_be_bytes());
                pad.extend_from_slice(b"free");
                push(&mut segs, SegKind::Bytes(pad), 8);
                push(&mut segs, SegKind::Zero, reserve - 8);
            }
        }
        let mut hdr = Vec::with_capacity(16);
        if large {
            hdr.extend_from_slice(&1u32.to_be_bytes());
            hdr.extend_from_slice(b"mdat");
            hdr.extend_from_slice(&(body_len + 16).to_be_bytes());
        } else {
            hdr.extend_from_slice(&u32::try_from(body_len + 8).unwrap_or(0).to_be_bytes());
            hdr.extend_from_slice(b"mdat");
        }
        push(&mut segs, SegKind::Bytes(hdr), mdat_hdr_len);
        for i in 0..self.blocks.len() {
            push(&mut segs, SegKind::Filler, gap);
            push(&mut segs, SegKind::Block(i), u64::from(bsize));
        }
        push(&mut segs, SegKind::Filler, gap + tail_extra);
        if self.moov_at == MoovAt::End {
            push(&mut segs, SegKind::Bytes(moov), moov_len);
        }
        Clip {
            inner: Arc::new(Inner {
                layout: self.layout,
                blocks: self.blocks.clone(),
                block_size: bsize,
                filler: self.filler,
                seed: self.seed,
                segs,
                len: pos,
                offsets,
                mdat: mdat_start..body_start + body_len,
            }),
        }
    }
}

fn ftyp_box() -> Vec<u8> {
    let mut v = Vec::with_capacity(32);
    v.extend_from_slice(&32u32.to_be_bytes());
    v.extend_from_slice(b"ftypisom");
    v.extend_from_slice(&0x200u32.to_be_bytes());
    v.extend_from_slice(b"isomiso2avc1mp41");
    v
}

/// Seconds from 1904-01-01 (the MP4 epoch) to 1970-01-01.
pub const MP4_EPOCH_OFFSET: i64 = 2_082_844_800;

fn moov_box(
    b: &ClipBuilder,
    offsets: &[u64],
    bsize: u32,
    creation: Option<PrimitiveDateTime>,
) -> Vec<u8> {
    let mut body = Vec::new();
    // mvhd, version 0, 108 bytes
    let created = creation
        .map(|t| t.assume_utc().unix_timestamp() + MP4_EPOCH_OFFSET)
        .unwrap_or(1_735_689_600 + MP4_EPOCH_OFFSET);
    let created = u32::try_from(created).unwrap_or(0);
    let duration_ms = u32::try_from(b.blocks.len().saturating_mul(1000)).unwrap_or(u32::MAX);
    body.extend_from_slice(&108u32.to_be_bytes());
    body.extend_from_slice(b"mvhd");
    body.extend_from_slice(&0u32.to_be_bytes());
    body.extend_from_slice(&created.to_be_bytes());
    body.extend_from_slice(&created.to_be_bytes());
    body.extend_from_slice(&1000u32.to_be_bytes());
    body.extend_from_slice(&duration_ms.to_be_bytes());
    body.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    body.extend_from_slice(&0x0100u16.to_be_bytes());
    body.extend_from_slice(&[0; 10]);
    for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        body.extend_from_slice(&m.to_be_bytes());
    }
    body.extend_from_slice(&[0; 24]);
    body.extend_from_slice(&2u32.to_be_bytes());
    let entries: Vec<u32> = match b.index {
        Index::None => Vec::new(),
        Index::Empty => Vec::new(),
        Index::Normal => offsets
            .iter()
            .filter_map(|&o| u32::try_from(o).ok())
            .collect(),
    };
    if b.index != Index::None {
        let len = 16 + 8 * entries.len();
        body.extend_from_slice(&u32::try_from(len).unwrap_or(0).to_be_bytes());
        body.extend_from_slice(b"gps ");
        body.extend_from_slice(&0x101u32.to_be_bytes());
        body.extend_from_slice(&u32::try_from(entries.len()).unwrap_or(0).to_be_bytes());
        for o in entries {
            body.extend_from_slice(&o.to_be_bytes());
            body.extend_from_slice(&bsize.to_be_bytes());
        }
    }
    let mut moov = Vec::with_capacity(body.len() + 8);
    moov.extend_from_slice(&u32::try_from(body.len() + 8).unwrap_or(0).to_be_bytes());
    moov.extend_from_slice(b"moov");
    moov.extend_from_slice(&body);
    moov
}

#[derive(Debug)]
enum SegKind {
    Bytes(Vec<u8>),
    Filler,
    Zero,
    Block(usize),
}

#[derive(Debug)]
struct Seg {
    start: u64,
    len: u64,
    kind: SegKind,
}

#[derive(Debug)]
struct Inner {
    layout: Layout,
    blocks: Vec<Block>,
    block_size: u32,
    filler: Filler,
    seed: u64,
    segs: Vec<Seg>,
    len: u64,
    offsets: Vec<u64>,
    mdat: Range<u64>,
}

/// A planned clip: cheap to clone (shared), bytes produced on demand.
#[derive(Debug, Clone)]
pub struct Clip {
    inner: Arc<Inner>,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Clip {
    /// Total length in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.inner.len
    }

    /// True for a zero-length clip (never, in practice).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// Absolute offsets of the GPS blocks, in order.
    #[must_use]
    pub fn block_offsets(&self) -> &[u64] {
        &self.inner.offsets
    }

    /// Box size of every GPS block.
    #[must_use]
    pub fn block_size(&self) -> u32 {
        self.inner.block_size
    }

    /// The blocks as specified.
    #[must_use]
    pub fn blocks(&self) -> &[Block] {
        &self.inner.blocks
    }

    /// The layout used.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    /// Byte range of the whole `mdat` box (header included).
    #[must_use]
    pub fn mdat_range(&self) -> Range<u64> {
        self.inner.mdat.clone()
    }

    /// Fill `buf` with the bytes at `offset`; returns how many were written
    /// (less than `buf.len()` only at the end of the clip).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let inner = &*self.inner;
        if offset >= inner.len {
            return 0;
        }
        let want = usize::try_from((inner.len - offset).min(buf.len() as u64)).unwrap_or(buf.len());
        let mut done = 0usize;
        let mut idx = inner.segs.partition_point(|s| s.start + s.len <= offset);
        let mut block_buf = Vec::new();
        while done < want {
            let Some(seg) = inner.segs.get(idx) else {
                break;
            };
            let pos = offset + done as u64;
            let within = pos - seg.start;
            let n = usize::try_from((seg.len - within).min((want - done) as u64)).unwrap_or(0);
            let Some(dst) = buf.get_mut(done..done + n) else {
                break;
            };
            let w = usize::try_from(within).unwrap_or(0);
            match &seg.kind {
                SegKind::Bytes(b) => dst.copy_from_slice(b.get(w..w + n).unwrap_or(&[])),
                SegKind::Zero => dst.fill(0),
                SegKind::Filler => self.fill_filler(pos, dst),
                SegKind::Block(i) => {
                    if let Some(b) = inner.blocks.get(*i) {
                        encode_block_into(inner.layout, b, inner.block_size, *i, &mut block_buf);
                        dst.copy_from_slice(block_buf.get(w..w + n).unwrap_or(&[]));
                    }
                }
            }
            done += n;
            idx += 1;
        }
        done
    }

    fn fill_filler(&self, pos: u64, dst: &mut [u8]) {
        match self.inner.filler {
            Filler::Zero => dst.fill(0),
            Filler::Pattern => {
                let seed = self.inner.seed;
                let mut word_idx = u64::MAX;
                let mut word = [0u8; 8];
                for (k, d) in dst.iter_mut().enumerate() {
                    let p = pos + k as u64;
                    if p >> 3 != word_idx {
                        word_idx = p >> 3;
                        word = (splitmix(word_idx ^ seed.rotate_left(17)) | 0x8080_8080_8080_8080)
                            .to_le_bytes();
                    }
                    #[allow(clippy::indexing_slicing)] // p & 7 < 8
                    {
                        *d = word[(p & 7) as usize];
                    }
                }
            }
        }
    }

    /// A `Read + Seek` over the clip's bytes (owns a handle; `'static`).
    #[must_use]
    pub fn reader(&self) -> ClipReader {
        ClipReader {
            clip: self.clone(),
            pos: 0,
        }
    }

    /// Write the whole clip to `w` in 64 KiB chunks; returns bytes written.
    pub fn write_to<W: Write>(&self, mut w: W) -> io::Result<u64> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut pos = 0u64;
        while pos < self.len() {
            let n = self.read_at(pos, &mut buf);
            w.write_all(buf.get(..n).unwrap_or(&[]))?;
            pos += n as u64;
        }
        w.flush()?;
        Ok(pos)
    }

    /// The whole clip in memory (small clips only).
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; usize::try_from(self.len()).unwrap_or(0)];
        let n = self.read_at(0, &mut v);
        v.truncate(n);
        v
    }

    /// Create (or truncate) `path` and write the clip, leaving zero filler
    /// as holes: with [`Filler::Zero`] a 1 GB clip takes a few MB on disk.
    pub fn write_sparse(&self, path: &Path) -> io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.set_len(self.len())?;
        let mut buf = Vec::new();
        for seg in &self.inner.segs {
            let hole = matches!(seg.kind, SegKind::Zero)
                || (matches!(seg.kind, SegKind::Filler) && self.inner.filler == Filler::Zero);
            if hole {
                continue;
            }
            f.seek(SeekFrom::Start(seg.start))?;
            let mut done = 0u64;
            while done < seg.len {
                let n = usize::try_from((seg.len - done).min(1 << 20)).unwrap_or(1 << 20);
                buf.resize(n, 0);
                let got = self.read_at(seg.start + done, &mut buf);
                f.write_all(buf.get(..got).unwrap_or(&[]))?;
                done += got as u64;
                if got == 0 {
                    break;
                }
            }
        }
        f.sync_all()
    }
}

/// `Read + Seek` over a [`Clip`].
#[derive(Debug, Clone)]
pub struct ClipReader {
    clip: Clip,
    pos: u64,
}

impl Read for ClipReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.clip.read_at(self.pos, buf);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ClipReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.clip.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn read_at_agrees_with_to_vec_for_every_split() {
        let pts = drive(datetime!(2025-01-01 10:00:00), 5, 10.0, 20.0, 5.0, 45.0);
        for at in [MoovAt::Front, MoovAt::End] {
            let clip = ClipBuilder::new(Layout::Variable)
                .points(pts.clone())
                .gap(777)
                .moov(at)
                .build();
            let all = clip.to_vec();
            assert_eq!(all.len() as u64, clip.len());
            let mut r = clip.reader();
            let mut streamed = Vec::new();
            let mut buf = [0u8; 1000];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                streamed.extend_from_slice(&buf[..n]);
            }
            assert_eq!(streamed, all);
            for &o in clip.block_offsets() {
                let o = o as usize;
                assert_eq!(&all[o + 4..o + 12], b"freeGPS ");
            }
        }
    }

    #[test]
    fn total_len_is_exact_and_large_mdat_header() {
        let pts = drive(datetime!(2025-01-01 10:00:00), 3, 10.0, 20.0, 5.0, 45.0);
        let clip = ClipBuilder::new(Layout::Type3)
            .points(pts)
            .total_len(1_000_000)
            .large_mdat(true)
            .build();
        assert_eq!(clip.len(), 1_000_000);
        let v = clip.to_vec();
        let m = clip.mdat_range();
        assert_eq!(
            &v[m.start as usize..m.start as usize + 8],
            &[0, 0, 0, 1, b'm', b'd', b'a', b't']
        );
    }

    #[test]
    fn pattern_filler_is_never_ascii() {
        let clip = ClipBuilder::new(Layout::Type3).gap(10_000).build();
        let v = clip.to_vec();
        let m = clip.mdat_range();
        assert!(
            v[m.start as usize + 8..m.end as usize]
                .iter()
                .all(|&b| b >= 0x80)
        );
    }
}
