//! Reads over a [`RangeSource`]: counted and capped requests, a read-ahead
//! window for box headers, and the walk of the top-level boxes.

use crate::Error;
use crate::mp4box::{
    Header, MAX_MDAT_BOXES, MAX_MOOV_SIZE, MAX_TOP_LEVEL_BOXES, acceptable_first, parse_header,
};

use super::{MAX_TRIAGE_READS, RangeSource};

/// Bytes fetched when a box header lies outside the window: enough for
/// `ftyp` plus a front `moov` of a short clip, or a whole `moov` at the end,
/// in one request.
pub(crate) const READ_AHEAD: u64 = 128 << 10;

/// A [`RangeSource`] with the file size, a window of the last read-ahead
/// and counters.
pub(crate) struct Reader<'a, S> {
    src: &'a mut S,
    pub(crate) len: u64,
    win_start: u64,
    win: Vec<u8>,
    pub(crate) reads: u64,
    pub(crate) bytes: u64,
}

impl<'a, S: RangeSource> Reader<'a, S> {
    pub(crate) fn new(src: &'a mut S) -> Self {
        let len = src.size();
        Reader {
            src,
            len,
            win_start: 0,
            win: Vec::new(),
            reads: 0,
            bytes: 0,
        }
    }

    /// One request for exactly `n` bytes at `offset` (inside the file).
    async fn fetch(&mut self, offset: u64, n: u64) -> Result<Vec<u8>, Error> {
        if self.reads >= MAX_TRIAGE_READS {
            return Err(Error::too_many_reads(MAX_TRIAGE_READS));
        }
        self.reads += 1;
        self.bytes += n;
        let buf = self
            .src
            .read_at(offset, n)
            .await
            .map_err(|e| Error::source(offset, n, e))?;
        if buf.len() as u64 != n {
            return Err(Error::read_length(offset, n, buf.len() as u64));
        }
        Ok(buf)
    }

    /// `n` bytes at `offset` (which the caller keeps inside the file and
    /// under [`MAX_MOOV_SIZE`]): the part the window holds is copied, the
    /// rest fetched in one request.
    pub(crate) async fn get(&mut self, offset: u64, n: u64) -> Result<Vec<u8>, Error> {
        let win_end = self.win_start + self.win.len() as u64;
        let mut out = Vec::new();
        let mut from = offset;
        if offset >= self.win_start && offset < win_end {
            let a = usize::try_from(offset - self.win_start).unwrap_or(usize::MAX);
            let b = usize::try_from((offset + n).min(win_end) - self.win_start).unwrap_or(0);
            out.extend_from_slice(self.win.get(a..b).unwrap_or(&[]));
            from = (offset + n).min(win_end);
        }
        if from < offset + n {
            let rest = self.fetch(from, offset + n - from).await?;
            if out.is_empty() {
                return Ok(rest);
            }
            out.extend_from_slice(&rest);
        }
        Ok(out)
    }

    /// The box header bytes at `pos` (up to 16, fewer at the end of the
    /// file), reading ahead [`READ_AHEAD`] bytes when the window lacks them.
    async fn header_bytes(&mut self, pos: u64) -> Result<Vec<u8>, Error> {
        let n = (self.len - pos).min(16);
        let win_end = self.win_start + self.win.len() as u64;
        if pos < self.win_start || pos + n > win_end {
            let ahead = (self.len - pos).min(READ_AHEAD);
            self.win = self.fetch(pos, ahead).await?;
            self.win_start = pos;
        }
        self.get(pos, n).await
    }
}

/// What the walk found of `moov`.
pub(crate) enum Moov {
    /// No `moov` box before the walk ended.
    Missing,
    /// The first `moov`'s body is larger than [`MAX_MOOV_SIZE`].
    TooLarge(u64),
    /// The first `moov`'s body.
    Body(Vec<u8>),
}

pub(crate) struct Walk {
    pub(crate) moov: Moov,
    /// (body start, box end) of the first [`MAX_MDAT_BOXES`] mdat boxes,
    /// end possibly past EOF (`u64::MAX` = to EOF).
    pub(crate) mdats: Vec<(u64, u64)>,
}

/// Walk the top-level boxes as `extract_file` does, over ranges: the same
/// first-box check, caps and `mdat` list, and the first `moov`'s body.
/// Unlike the file path it refuses, with [`Error::is_malformed`], what it
/// cannot trust: a box smaller than its header, a `moov` running past the
/// end of the file, or (before the `moov` is found) another box except
/// `mdat` doing so.
pub(crate) async fn walk<S: RangeSource>(r: &mut Reader<'_, S>) -> Result<Walk, Error> {
    let len = r.len;
    let mut w = Walk {
        moov: Moov::Missing,
        mdats: Vec::new(),
    };
    let mut pos = 0u64;
    let mut first = true;
    let mut moov_seen = false;
    let mut boxes = 0usize;
    while pos < len && boxes < MAX_TOP_LEVEL_BOXES {
        let hbuf = r.header_bytes(pos).await?;
        let h = match parse_header(&hbuf) {
            Header::Ok(h) => h,
            Header::NeedMore(_) => break,
            Header::Malformed if first => break,
            Header::Malformed => {
                return Err(Error::malformed(format!(
                    "the box at offset {pos} is smaller than its own header"
                )));
            }
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
        let past_eof = h.size.is_some() && end > len;
        if h.is(b"moov") && !moov_seen {
            moov_seen = true;
            if past_eof {
                return Err(Error::malformed(format!(
                    "the moov box at offset {pos} claims {} bytes, past the end of the {len}-byte file (a truncated or hostile moov)",
                    h.size.unwrap_or(0)
                )));
            }
            let eff = end.min(len) - body;
            w.moov = if eff > MAX_MOOV_SIZE {
                Moov::TooLarge(eff)
            } else {
                Moov::Body(r.get(body, eff).await?)
            };
        } else if h.is(b"mdat") {
            if w.mdats.len() < MAX_MDAT_BOXES {
                w.mdats.push((body, end));
            }
        } else if past_eof && !moov_seen {
            return Err(Error::malformed(format!(
                "the {:?} box at offset {pos} claims {} bytes, past the end of the {len}-byte file",
                String::from_utf8_lossy(&h.typ),
                h.size.unwrap_or(0)
            )));
        }
        pos = end;
    }
    if first {
        return Err(Error::not_mp4());
    }
    Ok(w)
}
