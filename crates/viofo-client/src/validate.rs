//! Validation of the names and paths a camera hands us.
//!
//! Everything here treats its input as hostile: a name that passes
//! [`validate_name`] is safe to join onto a local directory, and a path that
//! passes [`validate_remote_path`] names a file under `/DCIM` with no way to
//! climb out of it.

use std::fmt;
use std::str::FromStr;

use time::PrimitiveDateTime;

use crate::error::Error;
use crate::recording::{Channel, MediaKind, NameInfo, parse_name};

/// Longest file name accepted, in bytes (the common file-system limit).
pub const MAX_NAME_BYTES: usize = 255;

/// Longest remote path accepted, in bytes (as listed, drive letter included).
pub const MAX_PATH_BYTES: usize = 1024;

/// Most directory levels a remote path may have below `/DCIM`.
pub const MAX_PATH_DEPTH: usize = 8;

/// File extensions accepted for a recording name (compared ignoring case):
/// the one list, videos first ([`VIDEO_EXTENSIONS`]), then photos
/// ([`PHOTO_EXTENSIONS`]).
///
/// Viofo cameras write `.MP4`; older Novatek firmware writes `.MOV` or `.TS`,
/// and the photo folder holds `.JPG`. Anything else (`.part`, `.db`, no
/// extension) is refused, which also means no listed name can ever collide
/// with the client's own `<name>.part` files.
pub const ALLOWED_EXTENSIONS: &[&str] = &["MP4", "MOV", "TS", "JPG", "JPEG"];

/// How many of [`ALLOWED_EXTENSIONS`] (from the front) are video.
const VIDEO_COUNT: usize = 3;

/// The video clip extensions among [`ALLOWED_EXTENSIONS`] (`MP4`, `MOV`,
/// `TS`): files that may carry a GPS track.
pub const VIDEO_EXTENSIONS: &[&str] = ALLOWED_EXTENSIONS.split_at(VIDEO_COUNT).0;

/// The photo extensions among [`ALLOWED_EXTENSIONS`] (`JPG`, `JPEG`).
pub const PHOTO_EXTENSIONS: &[&str] = ALLOWED_EXTENSIONS.split_at(VIDEO_COUNT).1;

/// A recording's file name that has passed [`validate_name`], and what the
/// name alone tells: start time, channel, parking and event flags, sequence,
/// video or photo.
///
/// It is a single path component made of ASCII letters, digits and
/// `_ - . + ( ) ~`, at most [`MAX_NAME_BYTES`] long, not starting with a
/// dot, ending in one of [`ALLOWED_EXTENSIONS`]. It is therefore safe to join
/// onto a local directory on any common file system.
///
/// Names follow `YYYY_MMDD_HHMMSS_NNNNN[N][P|E..][F|R|I|T].ext` or
/// `YYYYMMDDHHMMSS_NNNNNN.ext`; a valid name in neither pattern has no start
/// time and channel [`Channel::Unknown`].
///
/// ```
/// use viofo_client::{Channel, RecordingName};
///
/// let n: RecordingName = "2025_1224_120324_000002PF.MP4".parse()?;
/// let at = n.recorded_at().unwrap(); // camera-local wall clock
/// let ymd_hms = (at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second());
/// assert_eq!(ymd_hms, (2025, 12, 24, 12, 3, 24));
/// assert_eq!(n.channel(), Channel::Front);
/// assert!(n.is_parking() && !n.is_photo());
/// // A photo's `P` is not parking.
/// let p = RecordingName::new("2026_0505_175704_047965PF.JPG")?;
/// assert!(p.is_photo() && !p.is_parking());
/// assert!(RecordingName::new("../x.MP4").is_err());
/// # Ok::<(), viofo_client::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordingName(String);

impl RecordingName {
    /// Validates `name` (see [`validate_name`]). `name.parse()` does the
    /// same.
    pub fn new(name: &str) -> Result<Self, Error> {
        validate_name(name)
    }

    /// Everything the name says, parsed once.
    pub(crate) fn info(&self) -> NameInfo {
        parse_name(&self.0)
    }

    /// When the recording started, from the name: camera-local wall-clock
    /// time (the camera's clock, no zone). `None` when the name follows no
    /// known pattern or holds an impossible date.
    pub fn recorded_at(&self) -> Option<PrimitiveDateTime> {
        self.info().start
    }

    /// Which camera recorded it (the name's last letter);
    /// [`Channel::Unknown`] when the name has none.
    pub fn channel(&self) -> Channel {
        self.info().channel.unwrap_or(Channel::Unknown)
    }

    /// The sequence number, if the name follows a known pattern.
    pub fn sequence(&self) -> Option<u32> {
        self.info().sequence
    }

    /// A parking-mode clip by its name (`P` before the channel letter).
    /// Never true for a photo. A clip in the `Parking` folder is parking
    /// too, which only [`Recording::is_parking`](crate::Recording::is_parking)
    /// can tell.
    pub fn is_parking(&self) -> bool {
        !self.is_photo() && self.info().parking
    }

    /// An event clip by its name (`E` before the channel letter).
    pub fn is_event(&self) -> bool {
        self.info().event
    }

    /// Video or photo, by the extension ([`VIDEO_EXTENSIONS`],
    /// [`PHOTO_EXTENSIONS`]).
    pub fn kind(&self) -> MediaKind {
        MediaKind::of_extension(&self.extension())
    }

    /// A photo (`.JPG`/`.JPEG`): no GPS track, never parking.
    pub fn is_photo(&self) -> bool {
        self.kind() == MediaKind::Photo
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The extension, upper-cased (`"MP4"`).
    pub fn extension(&self) -> String {
        self.0
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_uppercase())
            .unwrap_or_default()
    }
}

impl FromStr for RecordingName {
    type Err = Error;

    /// Validates `s` (see [`validate_name`]).
    fn from_str(s: &str) -> Result<Self, Error> {
        validate_name(s)
    }
}

impl fmt::Display for RecordingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RecordingName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for RecordingName {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

fn name_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '(' | ')' | '~')
}

/// Checks one file name from the camera and returns it as a [`RecordingName`].
///
/// Rejected: empty names, `.` and `..`, names starting with a dot, names
/// longer than [`MAX_NAME_BYTES`], any character outside ASCII letters,
/// digits and `_ - . + ( ) ~` (so no `/`, `\`, `:`, NUL, control characters,
/// spaces or non-ASCII), and extensions outside [`ALLOWED_EXTENSIONS`].
pub fn validate_name(name: &str) -> Result<RecordingName, Error> {
    let bad = |why: &str| {
        Err(Error::invalid_input(format!(
            "bad file name {}: {why}",
            shown(name)
        )))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > MAX_NAME_BYTES {
        return bad("longer than 255 bytes");
    }
    if name == "." || name == ".." {
        return bad("a relative directory name");
    }
    if name.starts_with('.') {
        return bad("starts with a dot");
    }
    if let Some(c) = name.chars().find(|c| !name_char_ok(*c)) {
        return Err(Error::invalid_input(format!(
            "bad file name {}: character {:?} not allowed",
            shown(name),
            c
        )));
    }
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return bad("no extension");
    };
    if stem.is_empty()
        || !ALLOWED_EXTENSIONS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(ext))
    {
        return Err(Error::invalid_input(format!(
            "bad file name {}: not a recording extension ({})",
            shown(name),
            ALLOWED_EXTENSIONS.join(", ")
        )));
    }
    Ok(RecordingName(name.to_owned()))
}

/// A validated remote path: `/DCIM/<dirs...>/<name>`, slash-separated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemotePath {
    /// `/DCIM/Movie/RO/X.MP4`
    pub(crate) path: String,
    /// The final component.
    pub(crate) name: RecordingName,
    /// The directory components between `DCIM` and the name (`["Movie", "RO"]`).
    pub(crate) dirs: Vec<String>,
}

impl RemotePath {
    /// The slash form, `/DCIM/Movie/X.MP4`.
    pub fn as_str(&self) -> &str {
        &self.path
    }
    /// The validated file name.
    pub fn name(&self) -> &RecordingName {
        &self.name
    }
    /// Directory components below `DCIM` (e.g. `["Movie", "RO"]`).
    pub fn dirs(&self) -> &[String] {
        &self.dirs
    }
}

/// Checks a remote path from the camera and turns it into the URL path form.
///
/// Accepts the listing's FPATH form (`A:\DCIM\Movie\X.MP4`, any single drive
/// letter) and the slash form (`/DCIM/Movie/X.MP4`). The drive letter is
/// dropped and backslashes become slashes. Rejected: paths longer than
/// [`MAX_PATH_BYTES`], NUL or control characters, relative paths, paths not
/// under `/DCIM` (compared ignoring case), empty, `.` or `..` components,
/// more than [`MAX_PATH_DEPTH`] directories, directory components with
/// characters outside those a name may use, and a final component that fails
/// [`validate_name`].
pub fn validate_remote_path(listed: &str) -> Result<RemotePath, Error> {
    let bad = |why: &str| {
        Err(Error::invalid_input(format!(
            "bad remote path {}: {why}",
            shown(listed)
        )))
    };
    if listed.len() > MAX_PATH_BYTES {
        return bad("too long");
    }
    if listed.chars().any(|c| c.is_control()) {
        return bad("contains NUL or a control character");
    }
    let rest = strip_drive(listed);
    let normalized = rest.replace('\\', "/");
    let Some(rel) = normalized.strip_prefix('/') else {
        return bad("not absolute");
    };
    let mut parts = rel.split('/');
    match parts.next() {
        Some(first) if first.eq_ignore_ascii_case("DCIM") => {}
        _ => return bad("outside /DCIM"),
    }
    let comps: Vec<&str> = parts.collect();
    let Some((last, dirs)) = comps.split_last() else {
        return bad("no file name");
    };
    if dirs.len() > MAX_PATH_DEPTH {
        return bad("too deep");
    }
    for d in dirs {
        if d.is_empty() || *d == "." || *d == ".." {
            return bad("empty, `.` or `..` component");
        }
        if d.len() > MAX_NAME_BYTES || !d.chars().all(name_char_ok) {
            return bad("bad directory component");
        }
    }
    if last.is_empty() || *last == "." || *last == ".." {
        return bad("empty, `.` or `..` component");
    }
    let name = validate_name(last)?;
    let mut path = String::from("/DCIM");
    for d in dirs {
        path.push('/');
        path.push_str(d);
    }
    path.push('/');
    path.push_str(name.as_str());
    Ok(RemotePath {
        path,
        name,
        dirs: dirs.iter().map(|d| (*d).to_owned()).collect(),
    })
}

/// `A:\x` -> `\x`; anything else unchanged.
fn strip_drive(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.get(1)) {
        (Some(l), Some(b':')) if l.is_ascii_alphabetic() => s.get(2..).unwrap_or(""),
        _ => s,
    }
}

/// A short, printable rendering of untrusted text for messages and logs.
pub(crate) fn shown(s: &str) -> String {
    const MAX: usize = 120;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= MAX {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    format!("\"{out}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names() {
        for n in [
            "2025_1224_120324_000002PF.MP4",
            "20260827204333_000029.MP4",
            "FILE0001.MOV",
            "x.mp4",
            "a-b+c(1)~.Ts",
            "IMG_0001.JPG",
        ] {
            assert_eq!(validate_name(n).unwrap().as_str(), n);
        }
    }

    #[test]
    fn names_tell_time_channel_and_flags_alone() {
        use time::macros::datetime;
        let n: RecordingName = "2025_1224_120324_000002PF.MP4".parse().unwrap();
        assert_eq!(n.recorded_at(), Some(datetime!(2025-12-24 12:03:24)));
        assert_eq!(n.channel(), Channel::Front);
        assert_eq!(n.sequence(), Some(2));
        assert!(n.is_parking() && !n.is_event() && !n.is_photo());
        assert_eq!(n.kind(), MediaKind::Video);
        let n = RecordingName::new("2025_0101_000000_000001ER.MOV").unwrap();
        assert!(n.is_event() && !n.is_parking() && n.channel() == Channel::Rear);
        let n = RecordingName::new("20260827204333_000029.MP4").unwrap();
        assert_eq!(n.recorded_at(), Some(datetime!(2026-08-27 20:43:33)));
        assert_eq!(n.channel(), Channel::Unknown);
        // Photos: the real name from CAMERA-FACTS; its `P` is not parking.
        let p = RecordingName::new("2026_0505_175704_047965PF.JPG").unwrap();
        assert!(p.is_photo() && !p.is_parking() && p.kind() == MediaKind::Photo);
        assert_eq!(p.recorded_at(), Some(datetime!(2026-05-05 17:57:04)));
        assert_eq!(p.channel(), Channel::Front);
        assert!(RecordingName::new("2024_0101_120000_001PF.JPG").is_ok());
        // Valid but unpatterned, and invalid.
        let odd = RecordingName::new("FILE0001.MOV").unwrap();
        assert_eq!((odd.recorded_at(), odd.channel()), (None, Channel::Unknown));
        assert!(
            "../2025_1224_120324_000002F.MP4"
                .parse::<RecordingName>()
                .is_err()
        );
        assert!(
            "2025_1224_120324_000002F.MP4.part"
                .parse::<RecordingName>()
                .is_err()
        );
    }

    /// The bare-name parser agrees with what a listed clip says, so callers
    /// holding only a name need no fake `/DCIM/Movie/{name}` path.
    #[test]
    fn bare_name_agrees_with_a_listed_clip() {
        for n in [
            "2025_1224_120324_000002PF.MP4",
            "2025_1224_120324_000002F.MP4",
            "2025_0101_000000_00001R.MP4",
            "20260827204333_000029.MP4",
            "2025_1324_120324_000002F.MP4",
            "FILE0001.MOV",
            "x.ts",
            "bad name.MP4",
        ] {
            let rec = crate::Recording::from_listed_path(
                &format!("/DCIM/Movie/{n}"),
                crate::Size::Approx(0),
            )
            .ok();
            let name = RecordingName::new(n).ok();
            assert_eq!(
                name.as_ref().and_then(RecordingName::recorded_at),
                rec.as_ref().and_then(crate::Recording::start),
                "{n}"
            );
            assert_eq!(
                name.as_ref().map(RecordingName::channel),
                rec.as_ref().map(crate::Recording::channel),
                "{n}"
            );
            assert_eq!(
                name.as_ref().map(RecordingName::is_parking),
                rec.as_ref().map(crate::Recording::is_parking),
                "{n}"
            );
        }
    }

    #[test]
    fn extension_lists_are_one_list() {
        assert_eq!(VIDEO_EXTENSIONS, ["MP4", "MOV", "TS"]);
        assert_eq!(PHOTO_EXTENSIONS, ["JPG", "JPEG"]);
        assert_eq!(
            [VIDEO_EXTENSIONS, PHOTO_EXTENSIONS].concat(),
            ALLOWED_EXTENSIONS
        );
        let e = validate_name("x.exe").unwrap_err().to_string();
        assert!(e.contains("MP4, MOV, TS, JPG, JPEG"), "{e}");
    }

    #[test]
    fn bad_names_table() {
        let long = format!("{}.MP4", "a".repeat(252));
        assert_eq!(long.len(), 256);
        let ok_long = format!("{}.MP4", "a".repeat(251));
        assert!(validate_name(&ok_long).is_ok());
        let table: &[(&str, &str)] = &[
            ("", "empty"),
            (".", "dot"),
            ("..", "dotdot"),
            ("../x.MP4", "traversal"),
            ("..\\x.MP4", "traversal backslash"),
            ("/etc/passwd", "absolute"),
            ("/x.MP4", "absolute"),
            ("a/b.MP4", "slash"),
            ("a\\b.MP4", "backslash"),
            ("C:x.MP4", "drive colon"),
            ("x\0.MP4", "NUL"),
            ("x\n.MP4", "newline"),
            ("x\u{7f}.MP4", "DEL"),
            ("x\u{1b}[31m.MP4", "escape"),
            (".hidden.MP4", "leading dot"),
            ("x.MP4.part", "part file"),
            ("x", "no extension"),
            (".MP4", "only extension"),
            ("x.exe", "wrong extension"),
            ("x .MP4", "space"),
            ("ü.MP4", "non-ascii"),
            ("x\u{202e}4PM.exe", "bidi override"),
            ("x*.MP4", "wildcard"),
            ("x?.MP4", "question"),
            ("x|.MP4", "pipe"),
            ("x\".MP4", "quote"),
            ("x<.MP4", "lt"),
            (&long, "over 255 bytes"),
        ];
        for (name, why) in table {
            let err = validate_name(name).expect_err(why);
            assert!(err.is_invalid_input(), "{why}: {err}");
        }
    }

    #[test]
    fn remote_paths() {
        let p = validate_remote_path("A:\\DCIM\\Movie\\RO\\2025_1224_120324_000002PF.MP4").unwrap();
        assert_eq!(p.as_str(), "/DCIM/Movie/RO/2025_1224_120324_000002PF.MP4");
        assert_eq!(p.name().as_str(), "2025_1224_120324_000002PF.MP4");
        assert_eq!(p.dirs(), ["Movie", "RO"]);
        let p = validate_remote_path("B:\\DCIM\\Movie\\x.MP4").unwrap();
        assert_eq!(p.as_str(), "/DCIM/Movie/x.MP4");
        let p = validate_remote_path("/DCIM/Movie/Parking/x.MP4").unwrap();
        assert_eq!(p.dirs(), ["Movie", "Parking"]);
        assert!(validate_remote_path("/DCIM/x.MP4").is_ok());
    }

    #[test]
    fn bad_paths_table() {
        let deep = format!("/DCIM/{}x.MP4", "d/".repeat(MAX_PATH_DEPTH + 1));
        let long = format!("/DCIM/{}/x.MP4", "d".repeat(MAX_PATH_BYTES));
        let table: &[(&str, &str)] = &[
            ("", "empty"),
            ("x.MP4", "relative"),
            ("DCIM/Movie/x.MP4", "relative dcim"),
            ("A:DCIM\\x.MP4", "drive-relative"),
            ("/etc/passwd", "outside"),
            ("/DCIMX/x.MP4", "prefix trick"),
            ("/DCIM", "no name"),
            ("/DCIM/", "empty name"),
            ("/DCIM/Movie/", "trailing slash"),
            ("/DCIM/../etc/x.MP4", "dotdot"),
            ("A:\\DCIM\\..\\..\\x.MP4", "dotdot backslash"),
            ("/DCIM/Movie/../../x.MP4", "dotdot deep"),
            ("/DCIM/./x.MP4", "dot"),
            ("/DCIM//x.MP4", "empty component"),
            ("/DCIM/Movie/x\0.MP4", "NUL"),
            ("/DCIM/Mo\nvie/x.MP4", "newline in dir"),
            ("/DCIM/Movie/..", "dotdot last"),
            ("/DCIM/Mo vie/x.MP4", "space dir"),
            ("//host/DCIM/x.MP4", "unc"),
            ("http://h/DCIM/x.MP4", "url"),
            ("AB:\\DCIM\\x.MP4", "long drive"),
            (&deep, "too deep"),
            (&long, "too long"),
        ];
        for (p, why) in table {
            let err = validate_remote_path(p).expect_err(why);
            assert!(err.is_invalid_input(), "{why}: {err}");
        }
    }

    #[test]
    fn shown_is_bounded_and_escaped() {
        let s = shown(&"\0".repeat(1000));
        assert!(s.len() < 1000);
        assert!(!s.contains('\0'));
    }
}
