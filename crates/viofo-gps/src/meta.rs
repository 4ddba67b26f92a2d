//! `moov` metadata (creation time, duration, tracks) read with the `mp4`
//! crate's box parsers, over boxes our own walker has located and checked.
//!
//! Only the leaf boxes (`mvhd`, `tkhd`, `mdhd`, `hdlr`) go to `mp4`: its
//! container walk (`MoovBox::read_box`, `Mp4Reader::read_header`) loops
//! forever on a child box of size 0 — measured on mp4 0.14.0, see
//! docs/ARCHITECTURE.md — so the tree is walked by [`children`], which
//! always advances and never reaches outside its parent.

use std::io::Cursor;

use mp4::ReadBox;
use time::{Duration, OffsetDateTime};

use crate::mp4box::{children, media_duration, mp4_time};

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

/// What a clip's `moov` says about it, read by the `mp4` crate.
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
    /// header). `None` without a readable `mvhd`. Never panics or loops on
    /// any input; allocates at most a copy of one child box.
    #[must_use]
    pub fn from_moov_body(body: &[u8]) -> Option<Self> {
        // mp4 0.14 names its leaf box types only through `MoovBox`'s fields,
        // so a default `MoovBox` serves as typed slots for the parsers.
        let mut slots = mp4::MoovBox::default();
        let mut mvhd_read = false;
        let mut tracks = Vec::new();
        for (typ, content) in children(body) {
            match &typ {
                b"mvhd" if !mvhd_read => {
                    slots.mvhd = leaf(typ, content)?;
                    mvhd_read = true;
                }
                b"trak" if tracks.len() < MAX_TRACKS => {
                    if let Some(t) = track(&mut slots, content) {
                        tracks.push(t);
                    }
                }
                _ => {}
            }
        }
        if !mvhd_read {
            return None;
        }
        Some(MoovMetadata {
            creation_time: mp4_time(slots.mvhd.creation_time),
            duration: media_duration(slots.mvhd.duration, slots.mvhd.timescale),
            tracks,
        })
    }

    /// How many tracks of `kind` the clip has.
    #[must_use]
    pub fn count(&self, kind: TrackKind) -> usize {
        self.tracks.iter().filter(|t| t.kind == kind).count()
    }
}

/// One `trak`'s `tkhd`, `mdia/mdhd` and `mdia/hdlr`; `None` without a
/// readable `tkhd`.
fn track(slots: &mut mp4::MoovBox, trak: &[u8]) -> Option<TrackInfo> {
    slots.traks.clear();
    slots.traks.push(Default::default());
    let t = slots.traks.last_mut()?;
    let mut tkhd_read = false;
    let (mut mdhd_read, mut hdlr_read) = (false, false);
    for (typ, content) in children(trak) {
        match &typ {
            b"tkhd" if !tkhd_read => {
                t.tkhd = leaf(typ, content)?;
                tkhd_read = true;
            }
            b"mdia" => {
                for (typ, content) in children(content) {
                    match &typ {
                        b"mdhd" if !mdhd_read => {
                            if let Some(m) = leaf(typ, content) {
                                t.mdia.mdhd = m;
                                mdhd_read = true;
                            }
                        }
                        b"hdlr" if !hdlr_read => {
                            if let Some(h) = leaf(typ, content) {
                                t.mdia.hdlr = h;
                                hdlr_read = true;
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if !tkhd_read {
        return None;
    }
    let handler = if hdlr_read {
        t.mdia.hdlr.handler_type.value
    } else {
        [0; 4]
    };
    Some(TrackInfo {
        id: t.tkhd.track_id,
        kind: kind_of(&handler),
        handler,
        duration: mdhd_read
            .then(|| media_duration(t.mdia.mdhd.duration, t.mdia.mdhd.timescale))
            .flatten(),
        width: t.tkhd.width.value(),
        height: t.tkhd.height.value(),
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

/// Parse one leaf box with `mp4`: re-framed with a plain 8-byte header
/// (what its parsers assume) in a cursor holding only that box, so a parser
/// can read, seek or allocate nothing beyond it.
fn leaf<T>(typ: [u8; 4], content: &[u8]) -> Option<T>
where
    T: for<'a> ReadBox<&'a mut Cursor<Vec<u8>>>,
{
    let size = u32::try_from(content.len().checked_add(8)?).ok()?;
    let mut framed = Vec::with_capacity(content.len() + 8);
    framed.extend_from_slice(&size.to_be_bytes());
    framed.extend_from_slice(&typ);
    framed.extend_from_slice(content);
    let mut cursor = Cursor::new(framed);
    cursor.set_position(8);
    T::read_box(&mut cursor, u64::from(size)).ok()
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

    /// The input that makes mp4 0.14's own moov walk loop forever: a child
    /// box of size 0, at the moov level and inside a trak.
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
