//! ISO-BMFF box headers and the parts of `moov` we read, parsed with nom.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take;
use nom::combinator::verify;
use nom::number::complete::{be_u32, be_u64, u8 as be_u8};
use time::{Duration, OffsetDateTime};

/// Largest `moov` (body bytes) the crate reads / retains: 16 MiB. A larger
/// moov is ignored (no index: the `mdat` scan takes over).
pub const MAX_MOOV_SIZE: u64 = 16 << 20;
/// At most this many `gps ` index entries are used (4.5 hours at 4 Hz).
pub const MAX_INDEX_ENTRIES: usize = 1 << 16;
/// Only the first this many top-level `mdat` boxes hold GPS blocks for us.
pub const MAX_MDAT_BOXES: usize = 16;
/// At most this many top-level boxes are walked; anything after them is
/// ignored. Camera clips have a handful; the cap bounds the header reads
/// of the file path on hostile input (a file of 8-byte boxes).
pub const MAX_TOP_LEVEL_BOXES: usize = 1 << 16;
/// Seconds from the MP4 epoch (1904-01-01) to the Unix epoch.
const MP4_EPOCH: i64 = 2_082_844_800;

/// Top-level box types accepted as the first box of a file.
const FIRST_BOX_TYPES: [&[u8; 4]; 8] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    pub(crate) typ: [u8; 4],
    pub(crate) hdr_len: u64,
    /// Whole box size, header included; `None` = extends to the end of the file.
    pub(crate) size: Option<u64>,
}

impl BoxHeader {
    pub(crate) fn is(&self, t: &[u8; 4]) -> bool {
        &self.typ == t
    }

    /// Absolute end of a box starting at `start` (`u64::MAX` for "to EOF").
    pub(crate) fn end(&self, start: u64) -> u64 {
        self.size.map_or(u64::MAX, |s| start.saturating_add(s))
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Header {
    Ok(BoxHeader),
    /// More bytes needed: `Some(n)` = exactly n bytes in total.
    NeedMore(usize),
    Malformed,
}

fn header_fields(i: &[u8]) -> IResult<&[u8], (u32, [u8; 4])> {
    (be_u32, take(4usize))
        .map(|(s, t): (u32, &[u8])| {
            let mut typ = [0u8; 4];
            typ.copy_from_slice(t);
            (s, typ)
        })
        .parse(i)
}

/// Parse a box header from the bytes at the box start (8 or 16 are needed).
pub(crate) fn parse_header(buf: &[u8]) -> Header {
    let Ok((rest, (size32, typ))) = header_fields(buf) else {
        return Header::NeedMore(8);
    };
    let (hdr_len, size) = match size32 {
        0 => (8, None),
        1 => match be_u64::<_, nom::error::Error<&[u8]>>(rest) {
            Ok((_, s)) => (16, Some(s)),
            Err(_) => return Header::NeedMore(16),
        },
        s => (8, Some(u64::from(s))),
    };
    if size.is_some_and(|s| s < hdr_len) {
        return Header::Malformed;
    }
    Header::Ok(BoxHeader { typ, hdr_len, size })
}

/// May this type open an MP4 file?
pub(crate) fn acceptable_first(h: &BoxHeader) -> bool {
    FIRST_BOX_TYPES.iter().any(|t| h.is(t))
}

/// Movie-level facts from `mvhd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovieInfo {
    /// `mvhd` creation time (the camera writes local or UTC time; `None` if zero).
    pub creation_time: Option<OffsetDateTime>,
    /// Duration, `None` if the timescale is zero or the value unknown.
    pub duration: Option<Duration>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MoovInfo {
    /// The first `gps ` box's entries (offset, size), count clamped.
    pub(crate) index: Option<Vec<(u32, u32)>>,
    pub(crate) movie: Option<MovieInfo>,
}

/// Walk `moov`'s children (only the bytes given; a truncated moov is
/// read as far as it goes) and pick out the first `mvhd` and `gps `.
pub(crate) fn parse_moov(body: &[u8]) -> MoovInfo {
    let mut info = MoovInfo::default();
    let mut pos = 0usize;
    while let Some(rest) = body.get(pos..) {
        let h = match parse_header(rest) {
            Header::Ok(h) => h,
            Header::NeedMore(_) | Header::Malformed => break,
        };
        let hdr = usize::try_from(h.hdr_len).unwrap_or(usize::MAX);
        let size = h
            .size
            .and_then(|s| usize::try_from(s).ok())
            .unwrap_or(rest.len())
            .min(rest.len());
        let content = rest.get(hdr..size.max(hdr)).unwrap_or(&[]);
        if h.is(b"gps ") && info.index.is_none() {
            info.index = Some(parse_gps_index(content));
        } else if h.is(b"mvhd") && info.movie.is_none() {
            info.movie = parse_mvhd(content);
        }
        match h.size.and_then(|s| usize::try_from(s).ok()) {
            Some(s) if s > 0 => pos = pos.saturating_add(s),
            _ => break,
        }
    }
    info
}

/// `gps ` box content: u32 version, u32 count, count × (u32 offset, u32 size),
/// count clamped to what the content holds and to [`MAX_INDEX_ENTRIES`].
pub(crate) fn parse_gps_index(content: &[u8]) -> Vec<(u32, u32)> {
    let Ok((rest, (_version, count))) =
        (be_u32::<_, nom::error::Error<&[u8]>>, be_u32).parse(content)
    else {
        return Vec::new();
    };
    let n = usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(rest.len() / 8)
        .min(MAX_INDEX_ENTRIES);
    let mut out = Vec::with_capacity(n);
    let mut input = rest;
    for _ in 0..n {
        match (be_u32::<_, nom::error::Error<&[u8]>>, be_u32).parse(input) {
            Ok((r, e)) => {
                out.push(e);
                input = r;
            }
            Err(_) => break,
        }
    }
    out
}

/// A full box's version (0 or 1, the only ones `mvhd`, `tkhd` and `mdhd`
/// define) and flags; an error for any other version.
pub(crate) fn full_box(i: &[u8]) -> IResult<&[u8], u8> {
    let (rest, (version, _flags)) = (verify(be_u8, |v: &u8| *v <= 1), take(3usize)).parse(i)?;
    Ok((rest, version))
}

/// `mvhd`: creation time and duration; `None` when cut short or of a
/// version other than 0 or 1.
pub(crate) fn parse_mvhd(content: &[u8]) -> Option<MovieInfo> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (rest, version) = full_box(content).ok()?;
    let (created, timescale, duration) = if version == 1 {
        let (_, (c, _m, ts, d)) = (be_u64::<_, E<'_>>, be_u64, be_u32, be_u64)
            .parse(rest)
            .ok()?;
        (c, ts, d)
    } else {
        let (_, (c, _m, ts, d)) = (be_u32::<_, E<'_>>, be_u32, be_u32, be_u32)
            .parse(rest)
            .ok()?;
        (u64::from(c), ts, u64::from(d))
    };
    Some(MovieInfo {
        creation_time: mp4_time(created),
        duration: media_duration(duration, timescale),
    })
}

/// An MP4 time (seconds since 1904-01-01); `None` for zero or out of range.
fn mp4_time(secs: u64) -> Option<OffsetDateTime> {
    i64::try_from(secs)
        .ok()
        .filter(|&c| c > 0)
        .and_then(|c| OffsetDateTime::from_unix_timestamp(c - MP4_EPOCH).ok())
}

/// A duration in `timescale` units; `None` for timescale 0 or the
/// all-ones "unknown" values.
pub(crate) fn media_duration(duration: u64, timescale: u32) -> Option<Duration> {
    (timescale > 0 && duration != u64::MAX && duration != u64::from(u32::MAX))
        .then(|| {
            let secs = duration / u64::from(timescale);
            let frac = duration % u64::from(timescale);
            let nanos = frac * 1_000_000_000 / u64::from(timescale);
            Duration::new(i64::try_from(secs).ok()?, i32::try_from(nanos).ok()?).into()
        })
        .flatten()
}

/// The whole child boxes of a container's body, in order: (type, content).
/// Stops at the first header that is cut, malformed, zero-sized ("to the
/// end") or larger than what is left, so every step advances by at least
/// 8 bytes and nothing reaches outside `body`.
pub(crate) fn children(body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = body;
    std::iter::from_fn(move || {
        let Header::Ok(h) = parse_header(rest) else {
            return None;
        };
        let size = usize::try_from(h.size?).ok()?;
        let hdr = usize::try_from(h.hdr_len).ok()?;
        let content = rest.get(hdr..size)?;
        rest = rest.get(size..)?;
        Some((h.typ, content))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(parse_header(b"\0\0\0"), Header::NeedMore(8));
        assert_eq!(
            parse_header(b"\0\0\0\x10mdat"),
            Header::Ok(BoxHeader {
                typ: *b"mdat",
                hdr_len: 8,
                size: Some(16)
            })
        );
        assert_eq!(parse_header(b"\0\0\0\x01mdat\0\0"), Header::NeedMore(16));
        assert_eq!(
            parse_header(b"\0\0\0\x01mdat\0\0\0\x01\0\0\0\0"),
            Header::Ok(BoxHeader {
                typ: *b"mdat",
                hdr_len: 16,
                size: Some(1 << 32)
            })
        );
        assert_eq!(
            parse_header(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x0f"),
            Header::Malformed
        );
        assert_eq!(parse_header(b"\0\0\0\x07free"), Header::Malformed);
        assert_eq!(
            parse_header(b"\0\0\0\0mdat"),
            Header::Ok(BoxHeader {
                typ: *b"mdat",
                hdr_len: 8,
                size: None
            })
        );
    }

    #[test]
    fn index_count_is_clamped_to_the_box() {
        let mut c = vec![0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff];
        c.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0x40, 0]);
        c.extend_from_slice(&[0, 0, 0, 9]); // partial entry
        assert_eq!(parse_gps_index(&c), vec![(8, 0x4000)]);
        assert_eq!(parse_gps_index(&c[..5]), vec![]);
    }

    #[test]
    fn moov_children_zero_size_and_truncation() {
        // gps box claiming more than the moov holds, after a zero-size child.
        let mut m = Vec::new();
        m.extend_from_slice(b"\0\0\0\x18gps \0\0\x01\x01\0\0\0\x05\0\0\0\x10\0\0\x40\0");
        assert_eq!(parse_moov(&m).index, Some(vec![(16, 0x4000)]));
        let z = b"\0\0\0\0junk\0\0\0\x10gps ";
        assert_eq!(parse_moov(z), MoovInfo::default());
    }
}
