//! `moov` metadata (creation time, duration, tracks): the leaf boxes
//! `mvhd`, `tkhd`, `mdhd` and `hdlr` parsed with nom, over boxes located by
//! [`children`], which always advances and never reaches outside its
//! parent. Each parser reads only the fields it returns, from a slice that
//! holds only that box, and allocates nothing (see docs/ARCHITECTURE.md
//! for why this is not the `mp4` crate).

use nom::Parser;
use nom::bytes::complete::take;
use nom::number::complete::{be_u32, be_u64};
use time::{Duration, OffsetDateTime};

use crate::mp4box::{children, full_box, media_duration, parse_mvhd};

/// At most this many tracks are described (camera clips have 2–4).
pub const MAX_TRACKS: usize = 64;

/// What a track carries, from its `hdlr` handler type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackKind {
    /// `vide`.
    Video,
    /// `soun`.
    Audio,
    /// `text`, `sbtl` or `subt`.
    Text,
    /// `meta`.
    Metadata,
    /// Any other handler, or no readable `hdlr`.
    Other,
}

/// One `trak` of the `moov`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackInfo {
    /// `tkhd` track id.
    pub id: u32,
    /// What it carries.
    pub kind: TrackKind,
    /// The raw `hdlr` handler type (`[0; 4]` without a readable `hdlr`).
    pub handler: [u8; 4],
    /// `mdhd` duration (`None` if unknown or no readable `mdhd`).
    pub duration: Option<Duration>,
    /// `tkhd` width in pixels (0 for audio).
    pub width: u16,
    /// `tkhd` height in pixels (0 for audio).
    pub height: u16,
}

/// What a clip's `moov` says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoovMetadata {
    /// `mvhd` creation time (local or UTC time, as the camera wrote it;
    /// `None` if zero).
    pub creation_time: Option<OffsetDateTime>,
    /// `mvhd` duration (`None` if the timescale is zero or the value unknown).
    pub duration: Option<Duration>,
    /// The tracks with a readable `tkhd`, in order, at most [`MAX_TRACKS`].
    pub tracks: Vec<TrackInfo>,
}

impl MoovMetadata {
    /// Read the metadata from a `moov` box's body (the bytes after its
    /// header). `None` without a readable `mvhd` (the first one decides).
    /// Never panics or loops on any input; allocates only the track list
    /// (at most [`MAX_TRACKS`] entries).
    #[must_use]
    pub fn from_moov_body(body: &[u8]) -> Option<Self> {
        let mut movie = None;
        let mut tracks = Vec::new();
        for (typ, content) in children(body) {
            match &typ {
                b"mvhd" if movie.is_none() => movie = Some(parse_mvhd(content)?),
                b"trak" if tracks.len() < MAX_TRACKS => {
                    if let Some(t) = track(content) {
                        tracks.push(t);
                    }
                }
                _ => {}
            }
        }
        let movie = movie?;
        Some(MoovMetadata {
            creation_time: movie.creation_time,
            duration: movie.duration,
            tracks,
        })
    }

    /// How many tracks of `kind` the clip has.
    #[must_use]
    pub fn count(&self, kind: TrackKind) -> usize {
        self.tracks.iter().filter(|t| t.kind == kind).count()
    }
}

/// `tkhd`: (track id, width, height); `None` when cut short or of a
/// version other than 0 or 1.
fn parse_tkhd(content: &[u8]) -> Option<(u32, u16, u16)> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (rest, version) = full_box(content).ok()?;
    // Creation and modification time, then the id, a reserved word and
    // the duration: 32-bit times and duration in version 0, 64-bit in 1.
    let times = if version == 1 { 16usize } else { 8 };
    let duration = if version == 1 { 8usize } else { 4 };
    let (rest, (_, id, _, _)) = (take::<_, _, E<'_>>(times), be_u32, be_u32, take(duration))
        .parse(rest)
        .ok()?;
    // Reserved (8), layer, alternate group, volume, reserved (2 each),
    // the matrix (36), then width and height in 16.16 fixed point.
    let (_, (_, w, h)) = (take::<_, _, E<'_>>(52usize), be_u32, be_u32)
        .parse(rest)
        .ok()?;
    let px = |fixed: u32| u16::try_from(fixed >> 16).unwrap_or(u16::MAX);
    Some((id, px(w), px(h)))
}

/// `mdhd`: its duration (`None` inside when unknown); `None` when cut
/// short or of a version other than 0 or 1.
fn parse_mdhd(content: &[u8]) -> Option<Option<Duration>> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (rest, version) = full_box(content).ok()?;
    let (timescale, duration) = if version == 1 {
        let (_, (_, ts, d)) = (take::<_, _, E<'_>>(16usize), be_u32, be_u64)
            .parse(rest)
            .ok()?;
        (ts, d)
    } else {
        let (_, (_, ts, d)) = (take::<_, _, E<'_>>(8usize), be_u32, be_u32)
            .parse(rest)
            .ok()?;
        (ts, u64::from(d))
    };
    Some(media_duration(duration, timescale))
}

/// `hdlr`: its handler type (after the version, flags and a pre-defined
/// word; the reserved words and the name are not read).
fn parse_hdlr(content: &[u8]) -> Option<[u8; 4]> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (rest, _version) = full_box(content).ok()?;
    let (_, (_, handler)) = (take::<_, _, E<'_>>(4usize), take(4usize))
        .parse(rest)
        .ok()?;
    handler.try_into().ok()
}

/// One `trak`'s `tkhd`, `mdia/mdhd` and `mdia/hdlr` (the first readable
/// one of each); `None` without a readable `tkhd` (the first one decides).
fn track(trak: &[u8]) -> Option<TrackInfo> {
    let mut tkhd = None;
    let (mut duration, mut handler) = (None, None);
    for (typ, content) in children(trak) {
        match &typ {
            b"tkhd" if tkhd.is_none() => tkhd = Some(parse_tkhd(content)?),
            b"mdia" => {
                for (typ, content) in children(content) {
                    match &typ {
                        b"mdhd" if duration.is_none() => duration = parse_mdhd(content),
                        b"hdlr" if handler.is_none() => handler = parse_hdlr(content),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let (id, width, height) = tkhd?;
    let handler = handler.unwrap_or([0; 4]);
    Some(TrackInfo {
        id,
        kind: kind_of(&handler),
        handler,
        duration: duration.flatten(),
        width,
        height,
    })
}

fn kind_of(handler: &[u8; 4]) -> TrackKind {
    match handler {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        b"text" | b"sbtl" | b"subt" => TrackKind::Text,
        b"meta" => TrackKind::Metadata,
        _ => TrackKind::Other,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn bx(typ: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(typ);
        v.extend_from_slice(body);
        v
    }

    fn mvhd(created: u32, timescale: u32, duration: u32) -> Vec<u8> {
        let mut b = vec![0u8; 100];
        b[4..8].copy_from_slice(&created.to_be_bytes());
        b[12..16].copy_from_slice(&timescale.to_be_bytes());
        b[16..20].copy_from_slice(&duration.to_be_bytes());
        bx(b"mvhd", &b)
    }

    fn trak(id: u32, handler: &[u8; 4], w: u16, h: u16, ts: u32, dur: u32) -> Vec<u8> {
        let mut tkhd = vec![0u8; 84];
        tkhd[12..16].copy_from_slice(&id.to_be_bytes());
        tkhd[76..78].copy_from_slice(&w.to_be_bytes());
        tkhd[80..82].copy_from_slice(&h.to_be_bytes());
        let mut mdhd = vec![0u8; 24];
        mdhd[12..16].copy_from_slice(&ts.to_be_bytes());
        mdhd[16..20].copy_from_slice(&dur.to_be_bytes());
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0; 12]);
        hdlr.extend_from_slice(b"Handler\0");
        let mut mdia = bx(b"mdhd", &mdhd);
        mdia.extend(bx(b"hdlr", &hdlr));
        let mut t = bx(b"tkhd", &tkhd);
        t.extend(bx(b"mdia", &mdia));
        bx(b"trak", &t)
    }

    /// A moov like a Novatek clip's: mvhd, video, audio, a data track, the
    /// `gps ` index, and a zero-filled tail (a rewritten front region).
    fn novatek_like() -> Vec<u8> {
        let created = (datetime!(2025-12-24 12:03:24 UTC).unix_timestamp()
            + crate::fixture::MP4_EPOCH_OFFSET) as u32;
        let mut m = mvhd(created, 1000, 60_000);
        m.extend(trak(1, b"vide", 3840, 2160, 90_000, 5_400_000));
        m.extend(trak(2, b"soun", 0, 0, 48_000, 2_880_000));
        m.extend(trak(3, b"meta", 0, 0, 1000, 60_000));
        m.extend(bx(b"gps ", &[0, 0, 1, 1, 0, 0, 0, 0]));
        m.extend([0u8; 64]);
        m
    }

    #[test]
    fn reads_movie_and_tracks() {
        let md = MoovMetadata::from_moov_body(&novatek_like()).unwrap();
        assert_eq!(md.creation_time, Some(datetime!(2025-12-24 12:03:24 UTC)));
        assert_eq!(md.duration, Some(Duration::seconds(60)));
        assert_eq!(md.tracks.len(), 3);
        assert_eq!(
            md.tracks[0],
            TrackInfo {
                id: 1,
                kind: TrackKind::Video,
                handler: *b"vide",
                duration: Some(Duration::seconds(60)),
                width: 3840,
                height: 2160,
            }
        );
        assert_eq!(md.tracks[1].kind, TrackKind::Audio);
        assert_eq!(md.tracks[2].kind, TrackKind::Metadata);
        assert_eq!(md.count(TrackKind::Video), 1);
        // The nom walker reads the same mvhd.
        let movie = crate::mp4box::parse_moov(&novatek_like()).movie.unwrap();
        assert_eq!(movie.creation_time, md.creation_time);
        assert_eq!(movie.duration, md.duration);
    }

    /// The input that made mp4 0.14's own moov walk loop forever (see
    /// docs/ARCHITECTURE.md): a child box of size 0, at the moov level and
    /// inside a trak.
    #[test]
    fn zero_size_children_end_the_walk() {
        let mut m = mvhd(0, 0, 0);
        m.extend(bx(b"trak", b"\0\0\0\0junk"));
        m.extend(b"\0\0\0\0junk");
        m.extend(trak(9, b"vide", 1, 1, 1, 1));
        let md = MoovMetadata::from_moov_body(&m).unwrap();
        assert_eq!(md.creation_time, None);
        assert_eq!(md.duration, None);
        assert!(md.tracks.is_empty());
    }

    /// Version 1 boxes: 64-bit times and durations move the later fields.
    #[test]
    fn version_1_leaves() {
        let mut mvhd = vec![0u8; 112];
        mvhd[0] = 1;
        mvhd[20..24].copy_from_slice(&90_000u32.to_be_bytes());
        mvhd[24..32].copy_from_slice(&(90_000u64 * 61).to_be_bytes());
        let mut tkhd = vec![0u8; 96];
        tkhd[0] = 1;
        tkhd[20..24].copy_from_slice(&7u32.to_be_bytes());
        tkhd[88..92].copy_from_slice(&(1920u32 << 16).to_be_bytes());
        tkhd[92..96].copy_from_slice(&(1080u32 << 16 | 0x8000).to_be_bytes());
        let mut mdhd = vec![0u8; 34];
        mdhd[0] = 1;
        mdhd[20..24].copy_from_slice(&1000u32.to_be_bytes());
        mdhd[24..32].copy_from_slice(&2500u64.to_be_bytes());
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"vide");
        let mut mdia = bx(b"mdhd", &mdhd);
        mdia.extend(bx(b"hdlr", &hdlr));
        let mut t = bx(b"tkhd", &tkhd);
        t.extend(bx(b"mdia", &mdia));
        let mut m = bx(b"mvhd", &mvhd);
        m.extend(bx(b"trak", &t));
        let md = MoovMetadata::from_moov_body(&m).unwrap();
        assert_eq!(md.duration, Some(Duration::seconds(61)));
        assert_eq!(
            md.tracks,
            [TrackInfo {
                id: 7,
                kind: TrackKind::Video,
                handler: *b"vide",
                duration: Some(Duration::milliseconds(2500)),
                width: 1920,
                height: 1080,
            }]
        );
        // A version 1 tkhd cut before its height: the track is left out.
        let mut m = bx(b"mvhd", &mvhd);
        m.extend(bx(b"trak", &bx(b"tkhd", &tkhd[..92])));
        assert!(MoovMetadata::from_moov_body(&m).unwrap().tracks.is_empty());
    }

    #[test]
    fn bad_leaves() {
        assert_eq!(MoovMetadata::from_moov_body(&[]), None);
        // mvhd too short, or of an unknown version: no metadata.
        assert_eq!(MoovMetadata::from_moov_body(&bx(b"mvhd", &[0; 10])), None);
        let mut v2 = mvhd(1, 1, 1);
        v2[8] = 2;
        assert_eq!(MoovMetadata::from_moov_body(&v2), None);
        // A trak with a short tkhd is left out; one without mdia kept.
        let mut m = mvhd(0, 1000, 1000);
        m.extend(bx(b"trak", &bx(b"tkhd", &[0; 3])));
        m.extend(bx(b"trak", &bx(b"tkhd", &[0; 84])));
        let md = MoovMetadata::from_moov_body(&m).unwrap();
        assert_eq!(md.tracks.len(), 1);
        assert_eq!(md.tracks[0].kind, TrackKind::Other);
        assert_eq!(md.tracks[0].duration, None);
    }
}
