//! Extraction over byte ranges ("triage"): a clip's track from a few reads
//! of a remote file — box headers, `moov`, and the GPS blocks its `gps `
//! index lists — through any async [`RangeSource`].

mod reader;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::Error;
use crate::decode::{BlockOutcome, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, decode_block};
use crate::extract::MAGIC;
use crate::meta::MoovMetadata;
use crate::mp4box::{MoovInfo, parse_moov};
use crate::track::{Extraction, Options, Source, Stats, assemble};

use reader::{Moov, Reader, walk};

/// At most this many reads (requests) per clip. A real clip needs one or
/// two for its box headers and `moov` and one per block fetched, so this
/// covers a full triage of 2¼ hours at one block per second; hostile
/// input that would need more fails with [`Error::is_malformed`].
/// Every read is at most 128 KiB (a header read-ahead) or one block
/// ([`MAX_BLOCK_SIZE`]), except the one read of a `moov`
/// (at most [`MAX_MOOV_SIZE`](crate::MAX_MOOV_SIZE)).
pub const MAX_TRIAGE_READS: u64 = 8192;

/// A remote file read by ranges: the size is known up front (from a
/// listing or a HEAD request), and any `(offset, len)` inside it can be
/// read.
///
/// The extractor only asks for ranges inside `0..size()`, never an empty
/// one, and treats an answer of any other length than asked as an error
/// ([`Error::is_wrong_read_length`]).
pub trait RangeSource {
    /// The source's error; it becomes the [`source`](std::error::Error::source)
    /// of an [`Error`] for which [`Error::is_source`] holds.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Size of the file in bytes.
    fn size(&self) -> u64;

    /// Read exactly `len` bytes at `offset` (an implementation may write
    /// this as an `async fn`).
    fn read_at(
        &mut self,
        offset: u64,
        len: u64,
    ) -> impl Future<Output = Result<Vec<u8>, Self::Error>> + Send;
}

/// Which GPS blocks a triage fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriageMode {
    /// Every block the index lists: the same track as the file path.
    Full,
    /// The first block, the last, and one every `every` of the clip's
    /// time, estimated from the `mvhd` duration and the number of index
    /// entries (one block per second if the duration is unknown). The
    /// spike filter is not applied: its 5-point window assumes one fix a
    /// second.
    Skeleton {
        /// Time between the blocks fetched.
        every: Duration,
    },
}

impl TriageMode {
    /// The default time between skeleton blocks: 10 s.
    pub const DEFAULT_EVERY: Duration = Duration::from_secs(10);

    /// A skeleton every [`DEFAULT_EVERY`](Self::DEFAULT_EVERY).
    #[must_use]
    pub fn skeleton() -> Self {
        TriageMode::Skeleton {
            every: Self::DEFAULT_EVERY,
        }
    }
}

impl Default for TriageMode {
    fn default() -> Self {
        Self::skeleton()
    }
}

/// Why a clip has no triage. Not a failure: the clip's track can still be
/// found when it is downloaded (its `mdat` is then scanned for GPS blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoTriage {
    /// No `moov` box: a clip still being recorded by a camera that writes
    /// `moov` at the end, or one cut short.
    NoMoov,
    /// The `moov` is larger than [`MAX_MOOV_SIZE`](crate::MAX_MOOV_SIZE)
    /// (the file path ignores it too).
    MoovTooLarge {
        /// Its body's size in bytes.
        size: u64,
    },
    /// `moov` has no `gps ` box.
    NoGpsIndex,
    /// The `gps ` index has no entries.
    EmptyIndex,
    /// None of the index entries fetched points at a GPS block inside
    /// `mdat`.
    UnusableIndex {
        /// Entries fetched (or skipped as pointing outside `mdat`).
        tried: u64,
    },
}

impl fmt::Display for NoTriage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self {
            NoTriage::NoMoov => "the clip has no moov box (still recording, or cut short)".into(),
            NoTriage::MoovTooLarge { size } => format!("its moov box is too large ({size} bytes)"),
            NoTriage::NoGpsIndex => "its moov has no `gps ` index".into(),
            NoTriage::EmptyIndex => "its `gps ` index is empty".into(),
            NoTriage::UnusableIndex { tried } => {
                format!("none of the {tried} `gps ` index entries tried points at a GPS block")
            }
        };
        write!(
            f,
            "no GPS triage: {why}; the track is found when the clip is downloaded"
        )
    }
}

/// What a triage found.
#[derive(Debug, Clone, PartialEq)]
pub enum TriageOutcome {
    /// The fetched blocks' points, exactly as
    /// [`extract_file`](crate::extract_file) decodes them. In
    /// [`TriageMode::Full`] the whole [`Extraction`] equals the file path's
    /// for the same bytes (when at least one index entry is usable).
    Track(Extraction),
    /// No triage for this clip, and why.
    NoTriage(NoTriage),
}

/// The result of [`extract_ranged`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Triage {
    /// The track, or why there is none.
    pub outcome: TriageOutcome,
    /// The `moov` metadata, read with the `mp4` crate (`None` without a
    /// readable `moov`/`mvhd`).
    pub metadata: Option<MoovMetadata>,
    /// The mode used.
    pub mode: TriageMode,
    /// Entries in the `gps ` index (after clamping).
    pub blocks_indexed: u64,
    /// Index entries the mode chose (duplicates included).
    pub blocks_chosen: u64,
    /// Reads (requests) made.
    pub reads: u64,
    /// Bytes requested, all reads together.
    pub bytes_requested: u64,
    /// The clip's size, as the source said.
    pub clip_size: u64,
}

impl Triage {
    /// The track, if there is one.
    #[must_use]
    pub fn track(&self) -> Option<&Extraction> {
        match &self.outcome {
            TriageOutcome::Track(x) => Some(x),
            TriageOutcome::NoTriage(_) => None,
        }
    }

    /// Why there is no track, if there is none.
    #[must_use]
    pub fn no_triage(&self) -> Option<NoTriage> {
        match &self.outcome {
            TriageOutcome::Track(_) => None,
            TriageOutcome::NoTriage(n) => Some(*n),
        }
    }

    /// Bytes requested ÷ clip size (0 for an empty clip).
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // a ratio
    pub fn fraction_requested(&self) -> f64 {
        if self.clip_size == 0 {
            0.0
        } else {
            self.bytes_requested as f64 / self.clip_size as f64
        }
    }
}

/// Extract a clip's GPS track over byte ranges, without downloading it.
///
/// Walks the top-level box headers with small reads (`moov` before or
/// after `mdat`; 32- or 64-bit or "to the end" sizes), reads the first
/// `moov` in one request, finds its `gps ` index and fetches the blocks
/// `mode` chooses, one request each (none for a block already inside the
/// header read-ahead). Decoding is the file path's: every point is
/// identical to what [`extract_file`](crate::extract_file) gives for that
/// block, and in [`TriageMode::Full`] the whole [`Extraction`] is (for any
/// clip with at least one usable index entry).
///
/// A clip without a usable `gps ` index gives [`TriageOutcome::NoTriage`],
/// not an error.
///
/// Camera bytes are untrusted: at most [`MAX_TRIAGE_READS`] reads, the
/// `moov` read only when at most [`MAX_MOOV_SIZE`](crate::MAX_MOOV_SIZE),
/// blocks read only when at most [`MAX_BLOCK_SIZE`] and inside an `mdat`
/// and the file; identical index entries are fetched once.
///
/// # Errors
/// [`Error::is_source`] when a read fails, [`Error::is_wrong_read_length`]
/// when it returns more or fewer bytes than asked, [`Error::is_not_mp4`]
/// when the file does not start with an MP4 box, [`Error::is_malformed`]
/// for a box smaller than its header, a `moov` (or, before it, another
/// box except `mdat`) running past the end of the file, or a clip needing
/// more than [`MAX_TRIAGE_READS`] reads.
pub async fn extract_ranged<S: RangeSource>(
    source: &mut S,
    mode: TriageMode,
    opts: &Options,
) -> Result<Triage, Error> {
    let mut r = Reader::new(source);
    let walk = walk(&mut r).await?;
    let mut t = Triage {
        outcome: TriageOutcome::NoTriage(NoTriage::NoMoov),
        metadata: None,
        mode,
        blocks_indexed: 0,
        blocks_chosen: 0,
        reads: 0,
        bytes_requested: 0,
        clip_size: r.len,
    };
    let done = |mut t: Triage, r: &Reader<'_, S>, outcome| {
        t.outcome = outcome;
        t.reads = r.reads;
        t.bytes_requested = r.bytes;
        Ok(t)
    };
    let moov = match walk.moov {
        Moov::Body(m) => m,
        Moov::Missing => return done(t, &r, TriageOutcome::NoTriage(NoTriage::NoMoov)),
        Moov::TooLarge(size) => {
            let no = NoTriage::MoovTooLarge { size };
            return done(t, &r, TriageOutcome::NoTriage(no));
        }
    };
    t.metadata = MoovMetadata::from_moov_body(&moov);
    let MoovInfo { index, movie } = parse_moov(&moov);
    drop(moov);
    let entries = match index {
        None => return done(t, &r, TriageOutcome::NoTriage(NoTriage::NoGpsIndex)),
        Some(e) if e.is_empty() => {
            return done(t, &r, TriageOutcome::NoTriage(NoTriage::EmptyIndex));
        }
        Some(e) => e,
    };
    t.blocks_indexed = entries.len() as u64;
    let chosen = choose(&entries, mode, movie.and_then(|m| m.duration));
    t.blocks_chosen = chosen.len() as u64;
    let mut stats = Stats {
        index_entries: entries.len() as u64,
        source: Source::Index,
        ..Stats::default()
    };
    let mut seen: HashMap<(u32, u32), Option<BlockOutcome>> = HashMap::new();
    let mut outcomes = Vec::with_capacity(chosen.len());
    for (off, size) in chosen {
        let o = match seen.get(&(off, size)) {
            Some(o) => *o,
            None => {
                let o = fetch_block(&mut r, &walk.mdats, u64::from(off), size).await?;
                seen.insert((off, size), o);
                o
            }
        };
        match o {
            Some(o) => outcomes.push(o),
            None => stats.bad_index_entries += 1,
        }
    }
    if outcomes.is_empty() {
        let no = NoTriage::UnusableIndex {
            tried: t.blocks_chosen,
        };
        return done(t, &r, TriageOutcome::NoTriage(no));
    }
    let opts = match mode {
        TriageMode::Full => *opts,
        TriageMode::Skeleton { .. } => opts.spike_filter(false),
    };
    let x = assemble(outcomes, stats, movie, &opts);
    done(t, &r, TriageOutcome::Track(x))
}

/// The entries `mode` fetches, in index order.
fn choose(
    entries: &[(u32, u32)],
    mode: TriageMode,
    duration: Option<time::Duration>,
) -> Vec<(u32, u32)> {
    let TriageMode::Skeleton { every } = mode else {
        return entries.to_vec();
    };
    let n = entries.len();
    let every_ms = every.as_millis();
    // Entries per `every`: n × every ÷ duration, or one a second.
    let step = match duration.map(|d| d.whole_milliseconds()) {
        Some(d_ms) if d_ms > 0 => {
            let d_ms = d_ms.unsigned_abs();
            (every_ms.saturating_mul(n as u128) + d_ms / 2) / d_ms
        }
        _ => every_ms.div_ceil(1000),
    };
    let step = usize::try_from(step).unwrap_or(usize::MAX).max(1);
    let mut out: Vec<(u32, u32)> = entries.iter().step_by(step).copied().collect();
    if !(n - 1).is_multiple_of(step)
        && let Some(&last) = entries.last()
    {
        out.push(last);
    }
    out
}

/// The block at `off` decoded, if it is a GPS block of `size` bytes inside
/// one of the `mdats` and the file (the file path's rule); `None` otherwise.
async fn fetch_block<S: RangeSource>(
    r: &mut Reader<'_, S>,
    mdats: &[(u64, u64)],
    off: u64,
    size: u32,
) -> Result<Option<BlockOutcome>, Error> {
    if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size) {
        return Ok(None);
    }
    let end = off + u64::from(size);
    if !mdats.iter().any(|&(b, e)| off >= b && end <= e.min(r.len)) {
        return Ok(None);
    }
    let buf = r.get(off, u64::from(size)).await?;
    if buf.get(..4) != Some(&size.to_be_bytes()[..]) || buf.get(4..12) != Some(&MAGIC[..]) {
        return Ok(None);
    }
    Ok(Some(decode_block(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u32) -> Vec<(u32, u32)> {
        (0..n).map(|i| (i * 100, 0x4000)).collect()
    }

    fn picked(n: u32, every: u64, dur_s: Option<i64>) -> Vec<u32> {
        let mode = TriageMode::Skeleton {
            every: Duration::from_secs(every),
        };
        choose(&entries(n), mode, dur_s.map(time::Duration::seconds))
            .iter()
            .map(|e| e.0 / 100)
            .collect()
    }

    #[test]
    fn skeleton_takes_first_last_and_every_nth() {
        assert_eq!(picked(60, 10, Some(60)), vec![0, 10, 20, 30, 40, 50, 59]);
        assert_eq!(picked(61, 10, Some(61)), vec![0, 10, 20, 30, 40, 50, 60]);
        assert_eq!(picked(1, 10, Some(1)), vec![0]);
        assert_eq!(picked(5, 10, None), vec![0, 4]);
        // Four blocks a second: every 40th entry.
        assert_eq!(
            picked(240, 10, Some(60)),
            vec![0, 40, 80, 120, 160, 200, 239]
        );
        // Unknown duration: one block a second is assumed.
        assert_eq!(picked(25, 10, None), vec![0, 10, 20, 24]);
        assert_eq!(picked(3, 0, Some(3)), vec![0, 1, 2]);
        assert_eq!(choose(&entries(7), TriageMode::Full, None), entries(7));
    }
}
