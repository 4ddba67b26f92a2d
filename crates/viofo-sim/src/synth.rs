//! Deterministic synthetic clip bodies, computed from the offset.
//!
//! A synthetic clip is never held in memory: its bytes are a pure function of
//! its layout, its current size and the offset. The layout is that of an
//! A229/A329 recording: `ftyp`, a `moov` holding `mvhd` and a `gps ` index,
//! padding up to a fixed header region, then `mdat` with one `free` box per
//! second carrying a `GPS ` block whose record sits at a varying offset, and
//! deterministic filler in between.

// The camera stores f32 coordinates and u32 box fields: narrowing casts of
// small constants and of f64 track values are the format, not accidents.
#![allow(clippy::cast_possible_truncation)]

use time::PrimitiveDateTime;
use viofo_gps::Layout as GpsLayout;
use viofo_gps::fixture::{Block, FixPoint, encode_block_into};

/// Size of one GPS `free` box.
pub(crate) const GPS_BOX: u64 = 0x8000;
const FTYP_LEN: u64 = 32;
const MVHD_LEN: u64 = 108;
const KNOTS_PER_MPS: f64 = 3600.0 / 1852.0;

/// Parameters of a synthetic GPS track: a straight line at constant speed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Track {
    /// Time at which the track is at (`lat0`, `lon0`).
    pub(crate) t0: PrimitiveDateTime,
    pub(crate) lat0: f64,
    pub(crate) lon0: f64,
    pub(crate) course_deg: f64,
    pub(crate) speed_knots: f64,
}

impl Track {
    /// A track chosen from a seed: somewhere in mid latitudes, 20-60 knots.
    pub(crate) fn from_seed(seed: u64, t0: PrimitiveDateTime) -> Self {
        let a = splitmix64(seed ^ 0x6a09_e667_f3bc_c908);
        let b = splitmix64(a);
        let c = splitmix64(b);
        let d = splitmix64(c);
        let unit = |x: u64| (x >> 11) as f64 / (1u64 << 53) as f64;
        // Hemisphere varies with the seed so S/W references get exercised too.
        let lat_sign = if a & 1 == 0 { 1.0 } else { -1.0 };
        let lon_sign = if b & 1 == 0 { 1.0 } else { -1.0 };
        Self {
            t0,
            lat0: lat_sign * (20.0 + 40.0 * unit(a)),
            lon0: lon_sign * (1.0 + 150.0 * unit(b)),
            course_deg: 360.0 * unit(c),
            speed_knots: 20.0 + 40.0 * unit(d),
        }
    }

    /// Position `secs` seconds after `t0`.
    fn position(&self, secs: f64) -> (f64, f64) {
        let metres = self.speed_knots * 1852.0 / 3600.0 * secs;
        let course = self.course_deg.to_radians();
        let lat = self.lat0 + metres * course.cos() / 111_320.0;
        let lon = self.lon0 + metres * course.sin() / (111_320.0 * self.lat0.to_radians().cos());
        (lat, lon)
    }
}

/// One GPS fix as a decoder should read it back from the clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpsPoint {
    /// UTC time of the fix (the sim's camera clock is UTC).
    pub time: PrimitiveDateTime,
    /// Latitude in degrees, negative south.
    pub lat: f64,
    /// Longitude in degrees, negative west.
    pub lon: f64,
    /// Speed in knots, as stored.
    pub speed_knots: f32,
    /// Course over ground in degrees, as stored.
    pub course_deg: f32,
    /// Absolute file offset of the `free` box holding this fix.
    pub box_offset: u64,
}

/// Layout of one synthetic clip.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) seed: u64,
    /// Bytes before the `mdat` header (ftyp + moov + padding).
    pub(crate) header_len: u64,
    /// Offset of the first GPS box.
    pub(crate) first_block: u64,
    /// Distance between GPS boxes (a multiple of [`GPS_BOX`]).
    pub(crate) stride: u64,
    /// At most this many GPS boxes (one per second of recording).
    pub(crate) max_blocks: u64,
    pub(crate) track: Option<Track>,
    /// Start of the recording (time of block 0).
    pub(crate) start: PrimitiveDateTime,
}

impl Layout {
    fn header_len_for(size_hint: u64) -> u64 {
        if size_hint >= 1 << 20 {
            0x10000
        } else {
            0x1000
        }
    }

    fn index_capacity(header_len: u64) -> u64 {
        // ftyp + moov header + mvhd + gps box header/version/count + pad box header
        header_len.saturating_sub(FTYP_LEN + 8 + MVHD_LEN + 16 + 8) / 8
    }

    /// A finished clip of `size` bytes covering `duration_secs` seconds.
    pub(crate) fn for_size(
        seed: u64,
        size: u64,
        duration_secs: u64,
        track: Option<Track>,
        start: PrimitiveDateTime,
    ) -> Self {
        let header_len = Self::header_len_for(size);
        let first_block = align_up(header_len + 8, GPS_BOX);
        let room = size.saturating_sub(first_block) / GPS_BOX;
        let max_blocks = duration_secs
            .min(room)
            .min(Self::index_capacity(header_len));
        let stride = room
            .checked_div(max_blocks)
            .map_or(GPS_BOX, |s| s.max(1) * GPS_BOX);
        Self {
            seed,
            header_len,
            first_block,
            stride,
            max_blocks,
            track,
            start,
        }
    }

    /// A clip being recorded at `rate` bytes per second for up to `duration_secs`.
    pub(crate) fn for_rate(
        seed: u64,
        rate: u64,
        duration_secs: u64,
        track: Option<Track>,
        start: PrimitiveDateTime,
    ) -> Self {
        let header_len = Self::header_len_for(rate.saturating_mul(duration_secs));
        let first_block = align_up(header_len + 8, GPS_BOX);
        let stride = (rate / GPS_BOX).max(1) * GPS_BOX;
        let max_blocks = duration_secs.min(Self::index_capacity(header_len));
        Self {
            seed,
            header_len,
            first_block,
            stride,
            max_blocks,
            track,
            start,
        }
    }

    /// Offset of GPS box `i`.
    fn block_offset(&self, i: u64) -> u64 {
        self.first_block + i * self.stride
    }

    /// GPS boxes in the byte layout (a growing clip's last one may be cut
    /// off by its current size; the bytes of a prefix never change).
    fn blocks_written(&self) -> u64 {
        if self.track.is_some() {
            self.max_blocks
        } else {
            0
        }
    }

    /// How many GPS boxes a clip of `size` bytes holds completely (these are
    /// indexed in `moov`).
    pub(crate) fn blocks_present(&self, size: u64) -> u64 {
        if self.track.is_none() || size < self.first_block + GPS_BOX {
            return 0;
        }
        ((size - self.first_block - GPS_BOX) / self.stride + 1).min(self.max_blocks)
    }

    /// The header region plus the 8-byte `mdat` header for a clip of `size` bytes.
    pub(crate) fn header(&self, size: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(self.header_len + 8).unwrap_or(0));
        // ftyp
        put_u32(&mut out, FTYP_LEN as u32);
        out.extend_from_slice(b"ftypisom");
        put_u32(&mut out, 0x200);
        out.extend_from_slice(b"isomiso2avc1mp41");
        // moov
        let n = self.blocks_present(size);
        let gps_len = if self.track.is_some() { 16 + 8 * n } else { 0 };
        let moov_len = 8 + MVHD_LEN + gps_len;
        put_u32(&mut out, to_u32(moov_len));
        out.extend_from_slice(b"moov");
        put_u32(&mut out, MVHD_LEN as u32);
        out.extend_from_slice(b"mvhd");
        out.extend_from_slice(&[0; 12]); // version, flags, creation, modification
        put_u32(&mut out, 1000); // timescale
        put_u32(&mut out, to_u32(n * 1000)); // duration
        put_u32(&mut out, 0x0001_0000); // rate
        out.extend_from_slice(&[1, 0]); // volume
        out.extend_from_slice(&[0; 10]);
        for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
            put_u32(&mut out, m);
        }
        out.extend_from_slice(&[0; 24]);
        put_u32(&mut out, 2); // next track id
        if self.track.is_some() {
            put_u32(&mut out, to_u32(gps_len));
            out.extend_from_slice(b"gps ");
            put_u32(&mut out, 0x0000_0101);
            put_u32(&mut out, to_u32(n));
            for i in 0..n {
                put_u32(&mut out, to_u32(self.block_offset(i)));
                put_u32(&mut out, GPS_BOX as u32);
            }
        }
        // pad to the fixed header region
        let pad = self.header_len.saturating_sub(out.len() as u64);
        put_u32(&mut out, to_u32(pad));
        out.extend_from_slice(b"free");
        out.resize(usize::try_from(self.header_len).unwrap_or(0), 0);
        // mdat header (size 0 = to the end of the file when it would not fit)
        let mdat = size.saturating_sub(self.header_len);
        put_u32(&mut out, u32::try_from(mdat).unwrap_or(0));
        out.extend_from_slice(b"mdat");
        out
    }

    /// The fix stored in block `i`, as a decoder reads it back.
    pub(crate) fn point(&self, i: u64) -> Option<GpsPoint> {
        let p = self.fix(i)?;
        Some(GpsPoint {
            time: p.time,
            lat: denmea(nmea(p.lat)) * p.lat.signum(),
            lon: denmea(nmea(p.lon)) * p.lon.signum(),
            speed_knots: (p.speed_mps * KNOTS_PER_MPS) as f32,
            course_deg: p.course_deg as f32,
            box_offset: self.block_offset(i),
        })
    }

    /// Every fix a clip of `size` bytes carries.
    pub(crate) fn points(&self, size: u64) -> Vec<GpsPoint> {
        (0..self.blocks_present(size))
            .filter_map(|i| self.point(i))
            .collect()
    }

    /// The fix of block `i` in the fixture builder's terms.
    fn fix(&self, i: u64) -> Option<FixPoint> {
        let track = self.track.as_ref()?;
        let time = self.start + time::Duration::seconds(i64::try_from(i).unwrap_or(0));
        let secs = (time - track.t0).as_seconds_f64();
        let (lat, lon) = track.position(secs);
        Some(FixPoint {
            time,
            lat,
            lon,
            speed_mps: track.speed_knots / KNOTS_PER_MPS,
            course_deg: track.course_deg,
            accel: Some([12, -40, 250]),
        })
    }

    /// The bytes of GPS box `i`: an A229/A329 variable-offset block built by
    /// `viofo_gps::fixture`.
    fn block(&self, i: u64) -> Vec<u8> {
        let mut b = Vec::new();
        match self.fix(i) {
            Some(p) => encode_block_into(
                GpsLayout::Variable,
                &Block::Fix(p),
                GPS_BOX as u32,
                usize::try_from(i).unwrap_or(0),
                &mut b,
            ),
            None => b.resize(GPS_BOX as usize, 0),
        }
        b
    }

    /// Deterministic filler bytes for `offset..offset+buf.len()`.
    fn filler(&self, mut offset: u64, buf: &mut [u8]) {
        let mut i = 0;
        while i < buf.len() {
            // All bytes >= 0x80: filler never contains ASCII markers (`free`, `GPS `).
            let word = splitmix64(self.seed ^ (offset / 8).wrapping_mul(0x9e37_79b9_7f4a_7c15))
                | 0x8080_8080_8080_8080;
            let bytes = word.to_le_bytes();
            let start = (offset % 8) as usize;
            let take = (8 - start).min(buf.len() - i);
            if let (Some(dst), Some(src)) =
                (buf.get_mut(i..i + take), bytes.get(start..start + take))
            {
                dst.copy_from_slice(src);
            }
            i += take;
            offset += take as u64;
        }
    }
}

/// Reads a synthetic clip of a fixed size by offset, caching the header and
/// the last GPS box it built.
#[derive(Debug)]
pub(crate) struct SynthReader {
    layout: std::sync::Arc<Layout>,
    size: u64,
    header: Option<Vec<u8>>,
    block: Option<(u64, Vec<u8>)>,
}

impl SynthReader {
    pub(crate) fn new(layout: std::sync::Arc<Layout>, size: u64) -> Self {
        Self {
            layout,
            size,
            header: None,
            block: None,
        }
    }

    /// Fills `buf` from `offset`; returns how many bytes were written (short
    /// only at the end of the clip).
    pub(crate) fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> usize {
        let mut filled = 0usize;
        let mut pos = offset;
        while filled < buf.len() && pos < self.size {
            let want = ((buf.len() - filled) as u64).min(self.size - pos);
            let Some(dst_all) = buf.get_mut(filled..) else {
                break;
            };
            let header_end = self.layout.header_len + 8;
            let n = if pos < header_end {
                let layout = &self.layout;
                let size = self.size;
                let header = self.header.get_or_insert_with(|| layout.header(size));
                let n = want.min(header_end - pos);
                copy(dst_all, header, pos, n)
            } else if let Some((i, bstart)) = self.block_at(pos) {
                let n = want.min(bstart + GPS_BOX - pos);
                if self.block.as_ref().is_none_or(|(bi, _)| *bi != i) {
                    self.block = Some((i, self.layout.block(i)));
                }
                match &self.block {
                    Some((_, b)) => copy(dst_all, b, pos - bstart, n),
                    None => 0,
                }
            } else {
                let next = self.next_block_after(pos).unwrap_or(u64::MAX);
                let n = want.min(next - pos);
                let n_us = usize::try_from(n).unwrap_or(0);
                if let Some(dst) = dst_all.get_mut(..n_us) {
                    self.layout.filler(pos, dst);
                }
                n_us
            };
            if n == 0 {
                break;
            }
            filled += n;
            pos += n as u64;
        }
        filled
    }

    fn block_at(&self, pos: u64) -> Option<(u64, u64)> {
        let l = &self.layout;
        if pos < l.first_block {
            return None;
        }
        let i = (pos - l.first_block) / l.stride;
        let bstart = l.block_offset(i);
        (i < l.blocks_written() && pos < bstart + GPS_BOX).then_some((i, bstart))
    }

    fn next_block_after(&self, pos: u64) -> Option<u64> {
        let l = &self.layout;
        let present = l.blocks_written();
        if present == 0 {
            return None;
        }
        let i = if pos < l.first_block {
            0
        } else {
            (pos - l.first_block) / l.stride + 1
        };
        (i < present).then(|| l.block_offset(i))
    }
}

fn copy(dst: &mut [u8], src: &[u8], from: u64, n: u64) -> usize {
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let n = usize::try_from(n).unwrap_or(0);
    match (dst.get_mut(..n), src.get(from..from.saturating_add(n))) {
        (Some(d), Some(s)) => {
            d.copy_from_slice(s);
            n
        }
        _ => 0,
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// NMEA `DDDMM.MMMM` of the absolute value, as the camera stores it.
fn nmea(deg: f64) -> f32 {
    let a = deg.abs();
    let d = a.trunc();
    (d * 100.0 + (a - d) * 60.0) as f32
}

/// Decodes the NMEA value the way the facts file describes.
fn denmea(v: f32) -> f64 {
    let v = f64::from(v);
    let d = (v / 100.0).trunc();
    d + (v - d * 100.0) / 60.0
}

/// SplitMix64: a tiny, good, deterministic mixer.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use time::macros::datetime;

    fn layout(size: u64) -> Arc<Layout> {
        let t0 = datetime!(2025-12-24 12:00:00);
        Arc::new(Layout::for_size(
            7,
            size,
            60,
            Some(Track::from_seed(7, t0)),
            t0,
        ))
    }

    fn read_all(l: &Arc<Layout>, size: u64) -> Vec<u8> {
        let mut v = vec![0; size as usize];
        let n = SynthReader::new(l.clone(), size).read_at(0, &mut v);
        assert_eq!(n as u64, size);
        v
    }

    #[test]
    fn reads_at_any_offset_agree_with_a_full_read() {
        let size = 3_000_000;
        let l = layout(size);
        let all = read_all(&l, size);
        for (off, len) in [
            (0u64, 10usize),
            (7, 100_000),
            (65_540, 9),
            (98_300, 70_000),
            (size - 5, 5),
        ] {
            let mut buf = vec![0; len];
            let n = SynthReader::new(l.clone(), size).read_at(off, &mut buf);
            assert_eq!(n, len);
            assert_eq!(&buf[..], &all[off as usize..off as usize + len]);
        }
        let mut buf = [0u8; 10];
        assert_eq!(
            SynthReader::new(l.clone(), size).read_at(size - 3, &mut buf),
            3
        );
        assert_eq!(SynthReader::new(l, size).read_at(size, &mut buf), 0);
    }

    #[test]
    fn gps_index_points_at_gps_boxes_with_a_late_triple() {
        let size = 3_000_000;
        let l = layout(size);
        let all = read_all(&l, size);
        assert_eq!(&all[4..8], b"ftyp");
        assert_eq!(&all[36..40], b"moov");
        let gps = all.windows(4).position(|w| w == b"gps ").unwrap();
        let count = u32::from_be_bytes(all[gps + 8..gps + 12].try_into().unwrap()) as usize;
        assert!(count > 0 && count as u64 == l.blocks_present(size));
        let mut offsets = std::collections::HashSet::new();
        for k in 0..count {
            let e = gps + 12 + 8 * k;
            let off = u32::from_be_bytes(all[e..e + 4].try_into().unwrap()) as usize;
            let sz = u32::from_be_bytes(all[e + 4..e + 8].try_into().unwrap()) as usize;
            assert_eq!(sz, 0x8000);
            assert_eq!(
                u32::from_be_bytes(all[off..off + 4].try_into().unwrap()),
                0x8000
            );
            assert_eq!(&all[off + 4..off + 12], b"freeGPS ");
            let payload = &all[off..off + sz];
            let a = payload
                .windows(3)
                .rposition(|w| {
                    w[0] == b'A' && matches!(w[1], b'N' | b'S') && matches!(w[2], b'E' | b'W')
                })
                .unwrap();
            offsets.insert(a);
            let rec = a - 24;
            let sec = u32::from_le_bytes(payload[rec + 8..rec + 12].try_into().unwrap());
            let p = l.point(k as u64).unwrap();
            assert_eq!(sec, u32::from(p.time.second()));
            let lat = f32::from_le_bytes(payload[a + 4..a + 8].try_into().unwrap());
            assert!((denmea(lat) - p.lat.abs()).abs() < 1e-9);
        }
        assert!(offsets.len() > 3, "record offset must vary between blocks");
        let mdat = all.windows(4).position(|w| w == b"mdat").unwrap();
        assert_eq!(mdat as u64, l.header_len + 4);
    }

    #[test]
    fn a_growing_clip_is_a_prefix_apart_from_its_header() {
        let t0 = datetime!(2025-12-24 12:00:00);
        let l = Arc::new(Layout::for_rate(
            3,
            100_000,
            60,
            Some(Track::from_seed(3, t0)),
            t0,
        ));
        let small = read_all(&l, 400_000);
        let big = read_all(&l, 800_000);
        let h = (l.header_len + 8) as usize;
        assert!(small[h..] == big[h..400_000]);
        assert!(l.blocks_present(800_000) > l.blocks_present(400_000));
    }

    #[test]
    fn nmea_round_trip() {
        for deg in [49.369_051_1, -123.099_755_8, 0.5, -0.01] {
            assert!((denmea(nmea(deg)) - deg.abs()).abs() < 1e-4);
        }
    }
}
