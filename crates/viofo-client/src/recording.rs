//! What a listing yields: one [`Recording`] per clip.

use time::{Date, Month, PrimitiveDateTime, Time};

use crate::error::Error;
use crate::validate::{RecordingName, RemotePath, validate_remote_path};

/// Largest clip size accepted from a listing (64 GiB); anything above is
/// treated as garbage and the item is skipped.
pub const MAX_CLIP_SIZE: u64 = 64 << 30;

/// A clip's size as the listing gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// Exact bytes (XML listing `SIZE`); equals the download's Content-Length.
    Exact(u64),
    /// Rounded size from an HTML page (`102.00 MB`): good for progress and
    /// planning, never enough to accept a download.
    Approx(u64),
}

impl Size {
    /// The number of bytes, exact or not.
    pub fn bytes(self) -> u64 {
        match self {
            Size::Exact(b) | Size::Approx(b) => b,
        }
    }
    /// The exact size, if known.
    pub fn exact(self) -> Option<u64> {
        match self {
            Size::Exact(b) => Some(b),
            Size::Approx(_) => None,
        }
    }
}

/// Which camera recorded the clip (the name's last letter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `F`
    Front,
    /// `R`
    Rear,
    /// `I`
    Interior,
    /// `T`
    Telephoto,
    /// No channel letter, or a name in another pattern.
    Unknown,
}

/// What kind of file a recording is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaKind {
    /// A video clip (`.MP4`, `.MOV`, `.TS`): may carry a GPS track.
    Video,
    /// A still photo (`.JPG`/`.JPEG`, kept in `DCIM/Photo`): no GPS track,
    /// never a parking clip whatever letters its name holds.
    Photo,
}

impl MediaKind {
    /// The kind a file name's extension says (`JPG`/`JPEG` are photos,
    /// everything else video), ignoring case.
    pub fn of_extension(ext: &str) -> MediaKind {
        if crate::validate::PHOTO_EXTENSIONS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(ext))
        {
            MediaKind::Photo
        } else {
            MediaKind::Video
        }
    }
}

/// One clip on the camera, validated.
///
/// Built only by the listing parsers or [`Recording::from_listed_path`], so
/// every `Recording` has a name that is safe as a local file name and a
/// remote path under `/DCIM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub(crate) remote: RemotePath,
    pub(crate) listed_path: String,
    pub(crate) size: Size,
    pub(crate) locked: bool,
    pub(crate) kind: MediaKind,
    pub(crate) parking: bool,
    pub(crate) event: bool,
    pub(crate) channel: Channel,
    pub(crate) sequence: Option<u32>,
    pub(crate) start: Option<PrimitiveDateTime>,
    pub(crate) end: Option<PrimitiveDateTime>,
}

/// What the name tells us.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct NameInfo {
    pub(crate) start: Option<PrimitiveDateTime>,
    pub(crate) sequence: Option<u32>,
    pub(crate) parking: bool,
    pub(crate) event: bool,
    pub(crate) channel: Option<Channel>,
}

impl Recording {
    /// Builds a recording from a path as a listing gives it (`A:\DCIM\...`
    /// FPATH or `/DCIM/...`), validating it; name-derived fields and the
    /// folder-derived flags (`RO` => locked, `Parking` => parking) are
    /// filled in. For callers that stored a path and want to act on it
    /// without a new listing (prefer a fresh listing: locking a clip moves
    /// it).
    pub fn from_listed_path(listed_path: &str, size: Size) -> Result<Recording, Error> {
        let remote = validate_remote_path(listed_path)?;
        if size.bytes() > MAX_CLIP_SIZE {
            return Err(Error::invalid_input(format!(
                "{}: absurd size {}",
                remote.as_str(),
                size.bytes()
            )));
        }
        let info = remote.name().info();
        let in_dir = |d: &str| remote.dirs().iter().any(|x| x.eq_ignore_ascii_case(d));
        let locked = in_dir("RO");
        // A photo's `P` is not parking (CAMERA-FACTS: the folder decides,
        // and photos live in `DCIM/Photo`).
        let kind = if in_dir("Photo") {
            MediaKind::Photo
        } else {
            remote.name().kind()
        };
        let parking = kind != MediaKind::Photo && (info.parking || in_dir("Parking"));
        Ok(Recording {
            listed_path: listed_path.to_owned(),
            size,
            locked,
            kind,
            parking,
            event: info.event,
            channel: info.channel.unwrap_or(Channel::Unknown),
            sequence: info.sequence,
            start: info.start,
            end: None,
            remote,
        })
    }

    /// The validated file name; the only component of a recording that may
    /// become part of a local path.
    pub fn file_name(&self) -> &RecordingName {
        self.remote.name()
    }
    /// The URL path on the camera (`/DCIM/Movie/RO/X.MP4`), unencoded.
    pub fn remote_path(&self) -> &str {
        self.remote.as_str()
    }
    /// The path exactly as the listing gave it (XML FPATH
    /// `A:\DCIM\Movie\X.MP4`, or the HTML link's path); sent first on delete.
    pub fn listed_path(&self) -> &str {
        &self.listed_path
    }
    /// Size as listed.
    pub fn size(&self) -> Size {
        self.size
    }
    /// Read-only on the camera (ATTR with the read-only bit, or in `RO`).
    pub fn is_locked(&self) -> bool {
        self.locked
    }
    /// Parking-mode clip (`P` in the name or in the `Parking` folder).
    /// Never true for a photo ([`is_photo`](Recording::is_photo)).
    pub fn is_parking(&self) -> bool {
        self.parking
    }
    /// Video clip or photo.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }
    /// A still photo (`.JPG`/`.JPEG`, or anything in a `Photo` folder):
    /// it has no GPS track to extract and is never a parking clip.
    pub fn is_photo(&self) -> bool {
        self.kind == MediaKind::Photo
    }
    /// Event clip (`E` in the name).
    pub fn is_event(&self) -> bool {
        self.event
    }
    /// Which camera recorded it.
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// The sequence number from the name, if it follows a known pattern.
    pub fn sequence(&self) -> Option<u32> {
        self.sequence
    }
    /// Start time from the name, camera-local, if the name follows a known
    /// pattern and holds a real date (the same as
    /// [`RecordingName::recorded_at`] on [`file_name`](Recording::file_name)).
    pub fn start(&self) -> Option<PrimitiveDateTime> {
        self.start
    }
    /// End time (XML `TIME`, or the HTML page's date column), camera-local.
    pub fn end(&self) -> Option<PrimitiveDateTime> {
        self.end
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn datetime(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<PrimitiveDateTime> {
    let month = Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(s).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// Splits `s` into fixed-width numeric fields.
fn fields<const N: usize>(s: &str, widths: [usize; N]) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut rest = s;
    for (slot, w) in out.iter_mut().zip(widths) {
        let (head, tail) = (rest.get(..w)?, rest.get(w..)?);
        *slot = digits(head)?;
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

/// Parses the patterns `YYYY_MMDD_HHMMSS_NNNNN[N][P|E..][F|R|I|T].ext` and
/// `YYYYMMDDHHMMSS_NNNNNN.ext`. Anything else yields an empty [`NameInfo`].
pub(crate) fn parse_name(name: &str) -> NameInfo {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let parts: Vec<&str> = stem.split('_').collect();
    let (start, tail) = match parts.as_slice() {
        [y, md, hms, tail] if y.len() == 4 => {
            let Some([y]) = fields(y, [4]) else {
                return NameInfo::default();
            };
            let Some([mo, d]) = fields(md, [2, 2]) else {
                return NameInfo::default();
            };
            let Some([h, mi, s]) = fields(hms, [2, 2, 2]) else {
                return NameInfo::default();
            };
            (datetime(y, mo, d, h, mi, s), *tail)
        }
        [ts, tail] if ts.len() == 14 => {
            let Some([y, mo, d, h, mi, s]) = fields(ts, [4, 2, 2, 2, 2, 2]) else {
                return NameInfo::default();
            };
            (datetime(y, mo, d, h, mi, s), *tail)
        }
        _ => return NameInfo::default(),
    };
    let n_digits = tail.bytes().take_while(u8::is_ascii_digit).count();
    if !(5..=6).contains(&n_digits) {
        return NameInfo::default();
    }
    let (seq, letters) = (
        tail.get(..n_digits).unwrap_or(""),
        tail.get(n_digits..).unwrap_or(""),
    );
    if letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic()) {
        return NameInfo::default();
    }
    let mut info = NameInfo {
        start,
        sequence: digits(seq),
        ..NameInfo::default()
    };
    let upper = letters.to_ascii_uppercase();
    let mut flags = upper.as_str();
    let channel = match upper.chars().last() {
        Some('F') => Some(Channel::Front),
        Some('R') => Some(Channel::Rear),
        Some('I') => Some(Channel::Interior),
        Some('T') => Some(Channel::Telephoto),
        _ => None,
    };
    if channel.is_some() {
        flags = upper.get(..upper.len().saturating_sub(1)).unwrap_or("");
    }
    info.channel = channel;
    info.parking = flags.contains('P');
    info.event = flags.contains('E');
    info
}

/// Parses the XML `TIME` / HTML date form `YYYY/MM/DD HH:MM:SS`.
pub(crate) fn parse_camera_time(s: &str) -> Option<PrimitiveDateTime> {
    let (date, time) = s.trim().split_once(' ')?;
    let mut d = date.split('/');
    let (y, mo, da) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || y.len() != 4 || mo.len() > 2 || da.len() > 2 {
        return None;
    }
    let mut t = time.trim().split(':');
    let (h, mi, se) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() || h.len() > 2 || mi.len() > 2 || se.len() > 2 {
        return None;
    }
    datetime(
        digits(y)?,
        digits(mo)?,
        digits(da)?,
        digits(h)?,
        digits(mi)?,
        digits(se)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a229_name() {
        let i = parse_name("2025_1224_120324_000002PF.MP4");
        assert_eq!(i.start, Some(datetime!(2025-12-24 12:03:24)));
        assert_eq!(i.sequence, Some(2));
        assert!(i.parking && !i.event);
        assert_eq!(i.channel, Some(Channel::Front));
    }

    #[test]
    fn channel_and_flags() {
        for (n, ch, p, e) in [
            (
                "2025_0101_000000_00001R.MP4",
                Some(Channel::Rear),
                false,
                false,
            ),
            (
                "2025_0101_000000_000001ER.MP4",
                Some(Channel::Rear),
                false,
                true,
            ),
            (
                "2025_0101_000000_000001I.MP4",
                Some(Channel::Interior),
                false,
                false,
            ),
            (
                "2025_0101_000000_000001T.MP4",
                Some(Channel::Telephoto),
                false,
                false,
            ),
            ("2025_0101_000000_000001P.MP4", None, true, false),
            ("2025_0101_000000_000001.MP4", None, false, false),
        ] {
            let i = parse_name(n);
            assert_eq!((i.channel, i.parking, i.event), (ch, p, e), "{n}");
            assert!(i.start.is_some());
        }
    }

    #[test]
    fn compact_name() {
        let i = parse_name("20260827204333_000029.MP4");
        assert_eq!(i.start, Some(datetime!(2026-08-27 20:43:33)));
        assert_eq!(i.sequence, Some(29));
        assert_eq!(i.channel, None);
    }

    #[test]
    fn unknown_patterns_have_no_start() {
        for n in [
            "FILE0001.MOV",
            "2025_1324_120324_000002F.MP4",
            "2025_0230_120324_000002F.MP4",
            "2025_1224_250000_000002F.MP4",
            "2025_1224_120324_2F.MP4",
            "2025_1224_120324_000002ABCD.MP4",
            "2025_12x4_120324_000002F.MP4",
            "99999999999999_000029.MP4",
        ] {
            assert_eq!(parse_name(n).start, None, "{n}");
        }
    }

    #[test]
    fn camera_time() {
        assert_eq!(
            parse_camera_time("2025/12/24 12:04:06"),
            Some(datetime!(2025-12-24 12:04:06))
        );
        assert_eq!(parse_camera_time("2025/13/24 12:04:06"), None);
        assert_eq!(parse_camera_time("garbage"), None);
        assert_eq!(parse_camera_time("2025/12/24 12:04:06:07"), None);
    }

    #[test]
    fn photos_are_never_parking_clips() {
        // The real photo path from CAMERA-FACTS: `P` before the channel.
        let p = Recording::from_listed_path(
            "A:\\DCIM\\Photo\\2026_0505_175704_047965PF.JPG",
            Size::Exact(1),
        )
        .unwrap();
        assert!(p.is_photo() && !p.is_parking(), "{p:?}");
        assert_eq!(p.kind(), MediaKind::Photo);
        assert_eq!(p.channel(), Channel::Front);
        assert_eq!(p.start(), Some(datetime!(2026-05-05 17:57:04)));
        let p =
            Recording::from_listed_path("/DCIM/Photo/2024_0101_120000_001PF.jpeg", Size::Exact(1))
                .unwrap();
        assert!(p.is_photo() && !p.is_parking());
        // A JPG elsewhere is still a photo; a clip with the same letters is
        // a parking clip.
        let p = Recording::from_listed_path(
            "/DCIM/Movie/Parking/2026_0505_175704_047965PF.JPG",
            Size::Exact(1),
        )
        .unwrap();
        assert!(p.is_photo() && !p.is_parking());
        let v = Recording::from_listed_path(
            "/DCIM/Movie/2026_0505_175704_047965PF.MP4",
            Size::Exact(1),
        )
        .unwrap();
        assert!(!v.is_photo() && v.is_parking());
        assert_eq!(v.kind(), MediaKind::Video);
        assert_eq!(MediaKind::of_extension("jPeG"), MediaKind::Photo);
        assert_eq!(MediaKind::of_extension("TS"), MediaKind::Video);
    }

    #[test]
    fn from_listed_path_flags() {
        let r = Recording::from_listed_path(
            "A:\\DCIM\\Movie\\RO\\2025_1224_120324_000002F.MP4",
            Size::Exact(5),
        )
        .unwrap();
        assert!(r.is_locked() && !r.is_parking());
        assert_eq!(
            r.remote_path(),
            "/DCIM/Movie/RO/2025_1224_120324_000002F.MP4"
        );
        let r = Recording::from_listed_path(
            "/DCIM/Movie/Parking/2025_1224_120324_000002R.MP4",
            Size::Approx(5),
        )
        .unwrap();
        assert!(r.is_parking() && !r.is_locked());
        assert_eq!(r.channel(), Channel::Rear);
        assert!(
            Recording::from_listed_path("/DCIM/Movie/x.MP4", Size::Exact(MAX_CLIP_SIZE + 1))
                .is_err()
        );
    }
}
