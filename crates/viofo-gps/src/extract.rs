//! The file path: seek to box headers, the moov and the GPS blocks.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::Error;
use crate::decode::{BlockOutcome, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, decode_block};
use crate::mp4box::{
    Header, MAX_MDAT_BOXES, MAX_MOOV_SIZE, MAX_TOP_LEVEL_BOXES, MoovInfo, MovieInfo,
    acceptable_first, parse_header, parse_moov,
};
use crate::track::{Extraction, Options, Source, Stats, assemble};

/// At most this many candidate GPS blocks are kept per clip (18 hours at
/// 1 Hz). Further blocks found by an `mdat` scan, or retained by the
/// streaming extractor, are counted in [`Stats::retention_cap_hits`]
/// instead. Memory per retained block is under 100 bytes (it is decoded
/// at once), so the cap bounds the streaming extractor to a few MB.
pub const MAX_RETAINED_BLOCKS: usize = 1 << 16;

/// The `free` type followed by the `GPS ` magic.
pub(crate) const MAGIC: &[u8; 8] = b"freeGPS ";
pub(crate) static FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(MAGIC));

/// Read buffer for the `mdat` scan.
const SCAN_CHUNK: usize = 1 << 20;

/// Extract the GPS track of the clip at `path`.
///
/// Reads the top-level box headers, the `moov` box and the GPS blocks the
/// `gps ` index points at (each at most [`MAX_BLOCK_SIZE`] bytes); never
/// `mdat` wholesale unless the clip has no usable index, in which case
/// `mdat` is scanned for `free` boxes carrying the `GPS ` magic.
///
/// A clip without GPS is not an error: the [`Extraction`] has no points
/// and its [`Stats`] say why.
///
/// # Errors
/// I/O errors (with the path), or [`Error::is_not_mp4`] when the file does
/// not start with an MP4 box.
pub fn extract_file(path: impl AsRef<Path>, opts: &Options) -> Result<Extraction, Error> {
    let path = path.as_ref();
    let f = fs_err::File::open(path)?;
    extract_reader(f, opts).map_err(|e| e.with_path(path))
}

/// [`extract_file`] over any `Read + Seek` (a `File`, a `Cursor`, …).
///
/// # Errors
/// As [`extract_file`].
pub fn extract_reader<R: Read + Seek>(mut r: R, opts: &Options) -> Result<Extraction, Error> {
    let len = r.seek(SeekFrom::End(0))?;
    let walk = walk(&mut r, len)?;
    let info = walk.moov.as_deref().map(parse_moov).unwrap_or_default();
    let MoovInfo { index, movie } = info;
    let entries = index.unwrap_or_default();
    let mut stats = Stats {
        index_entries: entries.len() as u64,
        ..Stats::default()
    };
    let mut buf = Vec::new();
    let mut outcomes = Vec::new();
    for &(off, size) in &entries {
        match read_block(&mut r, len, &walk.mdats, u64::from(off), size, &mut buf)? {
            Some(o) => outcomes.push(o),
            None => stats.bad_index_entries += 1,
        }
    }
    if outcomes.is_empty() {
        let (found, cap_hits) = scan(&mut r, len, &walk.mdats)?;
        stats.retention_cap_hits = cap_hits;
        for (p, size) in found {
            if let Some(o) = read_block(&mut r, len, &walk.mdats, p, size, &mut buf)? {
                outcomes.push(o);
            }
        }
        if !outcomes.is_empty() {
            stats.source = Source::Scan;
        }
    } else {
        stats.source = Source::Index;
    }
    Ok(assemble(outcomes, stats, movie, opts))
}

/// Creation time and duration from the clip's `mvhd`, reading only the
/// top-level headers and the moov (at most [`MAX_MOOV_SIZE`](crate::MAX_MOOV_SIZE)).
/// `Ok(None)` when the clip has no readable moov / mvhd.
///
/// # Errors
/// I/O errors, or [`Error::is_not_mp4`].
pub fn clip_info(path: impl AsRef<Path>) -> Result<Option<MovieInfo>, Error> {
    let path = path.as_ref();
    let mut f = fs_err::File::open(path)?;
    let len = f.seek(SeekFrom::End(0))?;
    let walk = walk(&mut f, len).map_err(|e| e.with_path(path))?;
    Ok(walk.moov.as_deref().and_then(|m| parse_moov(m).movie))
}

struct Walk {
    /// The first moov's body (as far as the file holds it), unless too big.
    moov: Option<Vec<u8>>,
    /// (body start, box end) of the first [`MAX_MDAT_BOXES`] mdat boxes;
    /// end may lie past EOF (`u64::MAX` = to EOF).
    mdats: Vec<(u64, u64)>,
}

fn walk<R: Read + Seek>(r: &mut R, len: u64) -> Result<Walk, Error> {
    let mut w = Walk {
        moov: None,
        mdats: Vec::new(),
    };
    let mut pos = 0u64;
    let mut first = true;
    let mut moov_seen = false;
    let mut hb = [0u8; 16];
    let mut boxes = 0usize;
    while pos < len && boxes < MAX_TOP_LEVEL_BOXES {
        let n = usize::try_from((len - pos).min(16)).unwrap_or(16);
        let hbuf = hb.get_mut(..n).unwrap_or(&mut []);
        r.seek(SeekFrom::Start(pos))?;
        r.read_exact(hbuf)?;
        let h = match parse_header(hbuf) {
            Header::Ok(h) => h,
            Header::NeedMore(_) | Header::Malformed => break,
        };
        if first {
            if !acceptable_first(&h) {
                return Err(Error::not_mp4());
            }
            first = false;
        }
        boxes += 1;
        let end = h.end(pos);
        let body = pos + h.hdr_len;
        if h.is(b"moov") && !moov_seen {
            moov_seen = true;
            let eff = h.size.map_or(len - body, |s| s - h.hdr_len);
            if eff <= MAX_MOOV_SIZE {
                let avail = usize::try_from(end.min(len) - body).unwrap_or(0);
                let mut m = vec![0u8; avail];
                r.seek(SeekFrom::Start(body))?;
                r.read_exact(&mut m)?;
                w.moov = Some(m);
            }
        } else if h.is(b"mdat") && w.mdats.len() < MAX_MDAT_BOXES {
            w.mdats.push((body, end));
        }
        pos = end;
    }
    if first {
        return Err(Error::not_mp4());
    }
    Ok(w)
}

/// Read and decode the block at `off` if it is a GPS block of `size` bytes
/// lying inside one of the `mdats`; `None` otherwise.
fn read_block<R: Read + Seek>(
    r: &mut R,
    len: u64,
    mdats: &[(u64, u64)],
    off: u64,
    size: u32,
    buf: &mut Vec<u8>,
) -> Result<Option<BlockOutcome>, Error> {
    if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size) {
        return Ok(None);
    }
    let end = off + u64::from(size);
    if !mdats.iter().any(|&(b, e)| off >= b && end <= e.min(len)) {
        return Ok(None);
    }
    buf.clear();
    buf.resize(size as usize, 0);
    r.seek(SeekFrom::Start(off))?;
    r.read_exact(buf)?;
    if buf.get(..4) != Some(&size.to_be_bytes()[..]) || buf.get(4..12) != Some(&MAGIC[..]) {
        return Ok(None);
    }
    Ok(Some(decode_block(buf)))
}

/// Find every `free`+`GPS ` box (offset, size) lying inside an mdat, in
/// file order, up to [`MAX_RETAINED_BLOCKS`]; also returns how many more
/// were found.
fn scan<R: Read + Seek>(
    r: &mut R,
    len: u64,
    mdats: &[(u64, u64)],
) -> Result<(Vec<(u64, u32)>, u64), Error> {
    const KEEP: usize = MAGIC.len() + 3;
    let mut found = Vec::new();
    let mut cap_hits = 0u64;
    let mut buf = vec![0u8; SCAN_CHUNK + KEEP];
    for &(body, end) in mdats {
        let stop = end.min(len);
        let mut pos = body; // file position of the next unread byte
        let mut kept = 0usize; // bytes carried over at the front of buf
        while pos < stop {
            let n = usize::try_from((stop - pos).min(SCAN_CHUNK as u64)).unwrap_or(SCAN_CHUNK);
            let Some(dst) = buf.get_mut(kept..kept + n) else {
                break;
            };
            r.seek(SeekFrom::Start(pos))?;
            r.read_exact(dst)?;
            let data = buf.get(..kept + n).unwrap_or(&[]);
            let base = pos - kept as u64; // file offset of data[0]
            for m in FINDER.find_iter(data) {
                // Matches wholly inside the carried bytes were seen last round.
                if m + MAGIC.len() <= kept || m < 4 {
                    continue;
                }
                let p = base + m as u64 - 4;
                let Some(sz) = data.get(m - 4..m).and_then(|s| <[u8; 4]>::try_from(s).ok()) else {
                    continue;
                };
                let size = u32::from_be_bytes(sz);
                if p < body
                    || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size)
                    || p + u64::from(size) > stop
                {
                    continue;
                }
                if found.len() < MAX_RETAINED_BLOCKS {
                    found.push((p, size));
                } else {
                    cap_hits += 1;
                }
            }
            pos += n as u64;
            let total = kept + n;
            let k = KEEP.min(total);
            buf.copy_within(total - k..total, 0);
            kept = k;
        }
    }
    Ok((found, cap_hits))
}
