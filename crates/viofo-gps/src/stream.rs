//! The streaming path: fed the clip's bytes in order, chunk by chunk.

use crate::Error;
use crate::decode::{BlockOutcome, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, decode_block};
use crate::extract::{FINDER, MAGIC, MAX_RETAINED_BLOCKS};
use crate::mp4box::{
    BoxHeader, Header, MAX_MDAT_BOXES, MAX_MOOV_SIZE, MAX_TOP_LEVEL_BOXES, MoovInfo,
    acceptable_first, parse_header, parse_moov,
};
use crate::track::{Extraction, Options, Source, Stats, assemble};

/// Bytes kept from the end of the previous chunk so a `free`+`GPS `
/// header split across chunks is still found (size field + magic − 1).
const TAIL: usize = MAGIC.len() + 3;

#[derive(Debug, Clone, Copy)]
enum Body {
    Skip,
    Moov,
    Mdat { start: u64 },
}

#[derive(Debug, Clone, Copy)]
enum State {
    Header,
    Body { kind: Body, end: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    offset: u64,
    size: u32,
    outcome: BlockOutcome,
}

/// Extracts the GPS track from a clip's bytes as they arrive.
///
/// Feed every byte of the file, in order, through [`push`](Self::push)
/// (any chunking), then call [`finish`](Self::finish): the result equals
/// what [`extract_file`](crate::extract_file) gives for the same bytes.
/// One exception, on hostile input only: a clip with more than
/// [`MAX_RETAINED_BLOCKS`] `freeGPS ` candidates before the blocks its
/// index lists (a real clip has one per second) — this extractor cannot
/// retain those blocks while the file path seeks to them, so the tracks
/// can differ; [`Stats::retention_cap_hits`] is nonzero then.
///
/// Cost and memory: `push` walks box headers, copies a `moov` it sees (up
/// to [`MAX_MOOV_SIZE`](crate::MAX_MOOV_SIZE)), and inside `mdat` runs a
/// SIMD substring search for `freeGPS ` (no per-byte work beyond that). Bytes
/// are copied only for candidate GPS blocks, and each block is decoded and
/// its bytes dropped as soon as it is complete, so memory is the moov, one
/// block-sized window (≤ 32 KiB) and under 100 bytes per retained block,
/// at most [`MAX_RETAINED_BLOCKS`] of them (further candidates are counted
/// in [`Stats::retention_cap_hits`]). Blocks are retained whether or not
/// the index has been seen, because the `moov` often comes after `mdat`.
///
/// Construction allocates nothing; after a restart from byte 0 just make a
/// new one.
///
/// ```
/// use viofo_gps::{extract_reader, Options, StreamExtractor};
/// # let bytes = {
/// #     use viofo_gps::fixture::{drive, ClipBuilder};
/// #     let pts = drive(time::macros::datetime!(2025-01-01 12:00), 5, 50.0, 8.0, 10.0, 0.0);
/// #     ClipBuilder::new(viofo_gps::Layout::Variable).points(pts).build().to_vec()
/// # };
/// let mut s = StreamExtractor::new(Options::default());
/// for chunk in bytes.chunks(1000) {
///     s.push(chunk);
/// }
/// let streamed = s.finish()?;
/// let from_file = extract_reader(std::io::Cursor::new(&bytes), &Options::default())?;
/// assert_eq!(streamed, from_file);
/// assert_eq!(streamed.points.len(), 5);
/// # Ok::<(), viofo_gps::Error>(())
/// ```
#[derive(Debug)]
pub struct StreamExtractor {
    opts: Options,
    pos: u64,
    hdr: [u8; 16],
    hdr_have: usize,
    state: State,
    first_seen: bool,
    not_mp4: bool,
    stopped: bool,
    moov_seen: bool,
    moov_buf: Option<Vec<u8>>,
    moov: Option<MoovInfo>,
    mdat_count: usize,
    boxes: usize,
    tail: [u8; TAIL],
    tail_len: usize,
    pending: Vec<(u64, u32)>,
    win: Vec<u8>,
    win_start: u64,
    candidates: Vec<Candidate>,
    cap_hits: u64,
}

impl StreamExtractor {
    /// A fresh extractor (allocates nothing).
    #[must_use]
    pub fn new(opts: Options) -> Self {
        StreamExtractor {
            opts,
            pos: 0,
            hdr: [0; 16],
            hdr_have: 0,
            state: State::Header,
            first_seen: false,
            not_mp4: false,
            stopped: false,
            moov_seen: false,
            moov_buf: None,
            moov: None,
            mdat_count: 0,
            boxes: 0,
            tail: [0; TAIL],
            tail_len: 0,
            pending: Vec::new(),
            win: Vec::new(),
            win_start: 0,
            candidates: Vec::new(),
            cap_hits: 0,
        }
    }

    /// Bytes pushed so far.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Feed the next bytes of the file. Never panics, whatever the bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        let mut data = chunk;
        while !data.is_empty() && !self.stopped {
            match self.state {
                State::Header => data = self.header_bytes(data),
                State::Body { kind, end } => {
                    let room = end - self.pos; // end >= pos while in a body
                    let n = usize::try_from(room).map_or(data.len(), |r| r.min(data.len()));
                    let Some((seg, rest)) = data.split_at_checked(n) else {
                        break;
                    };
                    match kind {
                        Body::Skip => {}
                        Body::Moov => self.moov_bytes(seg),
                        Body::Mdat { start } => self.scan(seg, start, end),
                    }
                    self.pos += n as u64;
                    data = rest;
                    if self.pos == end {
                        self.leave_box();
                    }
                }
            }
        }
    }

    fn header_bytes<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let need = if self.hdr_have < 8 {
            8
        } else if self.hdr.get(..4) == Some(&[0, 0, 0, 1]) {
            16
        } else {
            8
        };
        let take = (need - self.hdr_have).min(data.len());
        let (head, rest) = data.split_at_checked(take).unwrap_or((data, &[]));
        if let Some(dst) = self.hdr.get_mut(self.hdr_have..self.hdr_have + head.len()) {
            dst.copy_from_slice(head);
        }
        self.hdr_have += head.len();
        self.pos += head.len() as u64;
        if self.hdr_have < need {
            return rest;
        }
        match parse_header(self.hdr.get(..self.hdr_have).unwrap_or(&[])) {
            Header::Ok(h) => self.enter_box(h),
            Header::NeedMore(_) => {} // size 1: read the 64-bit size next
            Header::Malformed => {
                if !self.first_seen {
                    self.not_mp4 = true;
                }
                self.stopped = true;
            }
        }
        rest
    }

    fn enter_box(&mut self, h: BoxHeader) {
        let start = self.pos - self.hdr_have as u64;
        self.hdr_have = 0;
        if !self.first_seen {
            self.first_seen = true;
            if !acceptable_first(&h) {
                self.not_mp4 = true;
                self.stopped = true;
                return;
            }
        }
        self.boxes += 1;
        let end = h.end(start);
        let kind = if h.is(b"moov") && !self.moov_seen {
            self.moov_seen = true;
            let eff = h.size.map(|s| s - h.hdr_len);
            if eff.is_none_or(|e| e <= MAX_MOOV_SIZE) {
                let cap = eff.map_or(64 << 10, |e| e.min(1 << 20));
                self.moov_buf = Some(Vec::with_capacity(usize::try_from(cap).unwrap_or(0)));
                Body::Moov
            } else {
                Body::Skip
            }
        } else if h.is(b"mdat") && self.mdat_count < MAX_MDAT_BOXES {
            self.mdat_count += 1;
            self.tail_len = 0;
            self.pending.clear();
            self.win.clear();
            Body::Mdat { start: self.pos }
        } else {
            Body::Skip
        };
        self.state = State::Body { kind, end };
        if self.pos == end {
            self.leave_box();
        }
    }

    fn leave_box(&mut self) {
        if let State::Body {
            kind: Body::Moov, ..
        } = self.state
        {
            self.finish_moov();
        }
        self.tail_len = 0;
        self.pending.clear();
        self.win.clear();
        self.state = State::Header;
        if self.boxes >= MAX_TOP_LEVEL_BOXES {
            self.stopped = true; // as the file path's walk: nothing after is read
        }
    }

    fn finish_moov(&mut self) {
        if let Some(buf) = self.moov_buf.take() {
            self.moov = Some(parse_moov(&buf));
        }
    }

    fn moov_bytes(&mut self, seg: &[u8]) {
        if let Some(buf) = &mut self.moov_buf {
            if (buf.len() + seg.len()) as u64 > MAX_MOOV_SIZE {
                self.moov_buf = None; // a size-0 moov growing past the cap: ignored
            } else {
                buf.extend_from_slice(seg);
            }
        }
    }

    /// Byte at absolute offset `abs` from the tail or `seg` (which starts at `s0`).
    fn byte_at(&self, seg: &[u8], s0: u64, abs: u64) -> Option<u8> {
        if abs >= s0 {
            seg.get(usize::try_from(abs - s0).ok()?).copied()
        } else {
            let back = usize::try_from(s0 - abs).ok()?;
            self.tail.get(self.tail_len.checked_sub(back)?).copied()
        }
    }

    /// A `freeGPS ` match whose `free` starts at absolute offset `m`.
    fn matched(&mut self, seg: &[u8], s0: u64, m: u64, body_start: u64, end: u64) {
        let Some(p) = m.checked_sub(4) else { return };
        if p < body_start {
            return;
        }
        let mut sz = [0u8; 4];
        for (i, b) in sz.iter_mut().enumerate() {
            match self.byte_at(seg, s0, p + i as u64) {
                Some(v) => *b = v,
                None => return,
            }
        }
        let size = u32::from_be_bytes(sz);
        if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size)
            || p.saturating_add(u64::from(size)) > end
        {
            return;
        }
        if self.candidates.len() + self.pending.len() >= MAX_RETAINED_BLOCKS {
            self.cap_hits += 1;
        } else {
            self.pending.push((p, size));
        }
    }

    fn scan(&mut self, seg: &[u8], body_start: u64, end: u64) {
        let s0 = self.pos;
        let tl = self.tail_len;
        // Matches straddling the tail and this segment.
        if tl > 0 {
            let mut st = [0u8; TAIL + MAGIC.len() - 1];
            let k = seg.len().min(MAGIC.len() - 1);
            if let (Some(a), Some(b), Some(t)) =
                (st.get_mut(..tl), seg.get(..k), self.tail.get(..tl))
            {
                a.copy_from_slice(t);
                if let Some(c) = st.get_mut(tl..tl + k) {
                    c.copy_from_slice(b);
                }
            }
            let stitched = st.get(..tl + k).unwrap_or(&[]);
            let found: Vec<usize> = FINDER
                .find_iter(stitched)
                .filter(|&m| m < tl && m + MAGIC.len() > tl)
                .collect();
            for m in found {
                self.matched(seg, s0, s0 - tl as u64 + m as u64, body_start, end);
            }
        }
        for m in FINDER.find_iter(seg) {
            self.matched(seg, s0, s0 + m as u64, body_start, end);
        }
        if !self.pending.is_empty() {
            self.window(seg, s0);
        }
        // Keep the last TAIL bytes for the next segment.
        if seg.len() >= TAIL {
            if let Some(t) = seg.get(seg.len() - TAIL..) {
                self.tail.copy_from_slice(t);
                self.tail_len = TAIL;
            }
        } else {
            let keep = (TAIL - seg.len()).min(tl);
            self.tail.copy_within(tl - keep..tl, 0);
            if let Some(d) = self.tail.get_mut(keep..keep + seg.len()) {
                d.copy_from_slice(seg);
            }
            self.tail_len = keep + seg.len();
        }
    }

    /// Copy the bytes pending blocks need, decode the complete ones.
    fn window(&mut self, seg: &[u8], s0: u64) {
        let seg_end = s0 + seg.len() as u64;
        let max_end = self
            .pending
            .iter()
            .map(|&(p, s)| p + u64::from(s))
            .max()
            .unwrap_or(seg_end);
        let target = seg_end.min(max_end);
        // Invariant: a non-empty window ends at `s0`.
        let mut from = 0usize;
        if self.win.is_empty() {
            let Some(&(first, _)) = self.pending.first() else {
                return;
            };
            self.win_start = first;
            for abs in first..s0.min(target) {
                if let Some(b) = self.byte_at(seg, s0, abs) {
                    self.win.push(b);
                }
            }
            from = usize::try_from(first.saturating_sub(s0)).unwrap_or(0);
        }
        let upto = usize::try_from(target.saturating_sub(s0)).unwrap_or(0);
        self.win
            .extend_from_slice(seg.get(from..upto).unwrap_or(&[]));
        let win_end = self.win_start + self.win.len() as u64;
        let mut i = 0;
        while let Some(&(p, size)) = self.pending.get(i) {
            if p + u64::from(size) <= win_end {
                let from = usize::try_from(p - self.win_start).unwrap_or(usize::MAX);
                let block = self.win.get(from..from.saturating_add(size as usize));
                let outcome = block.map_or(BlockOutcome::Invalid, decode_block);
                self.candidates.push(Candidate {
                    offset: p,
                    size,
                    outcome,
                });
                self.pending.remove(i);
            } else {
                i += 1;
            }
        }
        match self.pending.iter().map(|&(p, _)| p).min() {
            None => self.win.clear(),
            Some(first) => {
                let drop = usize::try_from(first - self.win_start).unwrap_or(0);
                self.win.drain(..drop.min(self.win.len()));
                self.win_start = first;
            }
        }
    }

    /// The track: equal to [`extract_file`](crate::extract_file) on the same bytes.
    ///
    /// # Errors
    /// [`Error::is_not_mp4`] when the bytes do not start with an MP4 box
    /// (including fewer than 8 bytes).
    pub fn finish(mut self) -> Result<Extraction, Error> {
        if self.not_mp4 || !self.first_seen {
            return Err(Error::not_mp4());
        }
        if let State::Body {
            kind: Body::Moov, ..
        } = self.state
        {
            self.finish_moov(); // truncated, or sized "to end of file"
        }
        let MoovInfo { index, movie } = self.moov.take().unwrap_or_default();
        let entries = index.unwrap_or_default();
        let mut stats = Stats {
            index_entries: entries.len() as u64,
            ..Stats::default()
        };
        let mut cands = self.candidates;
        cands.sort_by_key(|c| c.offset);
        let mut outcomes = Vec::new();
        for &(off, size) in &entries {
            match cands.binary_search_by_key(&u64::from(off), |c| c.offset) {
                Ok(i) if cands.get(i).is_some_and(|c| c.size == size) => {
                    if let Some(c) = cands.get(i) {
                        outcomes.push(c.outcome);
                    }
                }
                _ => stats.bad_index_entries += 1,
            }
        }
        stats.retention_cap_hits = self.cap_hits;
        if outcomes.is_empty() {
            outcomes = cands.iter().map(|c| c.outcome).collect();
            if !outcomes.is_empty() {
                stats.source = Source::Scan;
            }
        } else {
            stats.source = Source::Index;
        }
        Ok(assemble(outcomes, stats, movie, &self.opts))
    }
}
