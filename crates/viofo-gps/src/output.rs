//! GPX 1.1 and GeoJSON writers, and atomic sidecar files.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use time::UtcOffset;
use time::format_description::well_known::Rfc3339;

use crate::{Error, Point};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// GPX 1.1 (`<clip>.MP4.gpx` sidecars).
    #[default]
    Gpx,
    /// A GeoJSON `Feature` with a `LineString` (`<clip>.MP4.geojson` sidecars).
    GeoJson,
}

impl Format {
    /// Every sidecar format, for code that looks for all of a clip's
    /// sidecars (retention removes them with their clip).
    pub const ALL: [Format; 2] = [Format::Gpx, Format::GeoJson];

    /// The sidecar extension appended to the clip's file name.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Format::Gpx => "gpx",
            Format::GeoJson => "geojson",
        }
    }
}

const CREATOR: &str = "viofosync";
const GPX_NS: &str = "http://www.topografix.com/GPX/1/1";
/// Garmin TrackPointExtension v2: `speed` (m/s, >= 0) and `course`
/// (degrees true, 0 <= x < 360) per track point.
const TPX_NS: &str = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2";

/// Write `points` as a GPX 1.1 document with one track and one segment.
///
/// Each `<trkpt lat lon>` holds its `<time>` (RFC 3339, UTC) and then,
/// because GPX 1.1 dropped GPX 1.0's `<speed>` and `<course>`, an
/// `<extensions>` element with a Garmin TrackPointExtension v2 element
/// (namespace `http://www.garmin.com/xmlschemas/TrackPointExtension/v2`,
/// prefix `gpxtpx`, declared on the root):
///
/// ```xml
/// <trkpt lat="52.52" lon="13.4">
///   <time>2025-12-24T11:03:24Z</time>
///   <extensions>
///     <gpxtpx:TrackPointExtension>
///       <gpxtpx:speed>14.000</gpxtpx:speed>
///       <gpxtpx:course>90.00</gpxtpx:course>
///     </gpxtpx:TrackPointExtension>
///   </extensions>
/// </trkpt>
/// ```
///
/// Speed is written in m/s to 3 decimals and left out when it is not a
/// finite number >= 0; course is written in degrees to 2 decimals,
/// normalised into `0 <= x < 360` (after rounding, so 359.999 becomes
/// 0.00), and left out when not finite; with neither, the point has no
/// `<extensions>`. Latitude and longitude are written as given (shortest
/// form that reads back to the same `f64`). The document stays valid
/// against the official GPX 1.1 XSD (which processes extensions laxly)
/// and follows the TrackPointExtension v2 schema's element order and
/// value ranges. `name` becomes the track name, escaped; characters XML
/// 1.0 cannot carry (control characters other than tab, CR, LF, and
/// U+FFFE/U+FFFF) become U+FFFD. The output depends only on the
/// arguments. Written with quick-xml.
///
/// # Errors
/// Write failures; a point whose time cannot be written as an RFC 3339
/// UTC timestamp (year outside 0000–9999).
pub fn write_gpx<W: Write>(points: &[Point], name: Option<&str>, w: W) -> Result<(), Error> {
    write_gpx_tracks(&[GpxTrack { name, points }], w)
}

/// One track of a GPX document: its name and its points (one segment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpxTrack<'a> {
    /// The track's `<name>`, if any.
    pub name: Option<&'a str>,
    /// Its points, in order.
    pub points: &'a [Point],
}

/// Write one GPX 1.1 document holding `tracks`, in order, each a `<trk>`
/// with its name and one segment, written as [`write_gpx`] writes its one
/// track (which it is: [`write_gpx`] is this with a single track). No
/// tracks gives a valid document without a `<trk>`.
///
/// # Errors
/// As [`write_gpx`].
pub fn write_gpx_tracks<W: Write>(tracks: &[GpxTrack<'_>], w: W) -> Result<(), Error> {
    document(w, |x| {
        for t in tracks {
            write_trk(x, t.name, t.points.iter().copied())?;
        }
        Ok(())
    })
}

/// [`write_gpx`] of points taken one at a time from an iterator: the same
/// document, without the whole track in memory (a long journey's).
///
/// # Errors
/// As [`write_gpx`].
pub fn write_gpx_iter<W: Write>(
    points: impl IntoIterator<Item = Point>,
    name: Option<&str>,
    w: W,
) -> Result<(), Error> {
    document(w, |x| write_trk(x, name, points.into_iter()))
}

/// The GPX document around what `body` writes.
fn document<W: Write>(
    w: W,
    body: impl FnOnce(&mut Writer<W>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut x = Writer::new_with_indent(w, b' ', 2);
    x.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    x.write_event(Event::Start(BytesStart::new("gpx").with_attributes([
        ("version", "1.1"),
        ("creator", CREATOR),
        ("xmlns", GPX_NS),
        ("xmlns:gpxtpx", TPX_NS),
    ])))?;
    body(&mut x)?;
    x.write_event(Event::End(BytesEnd::new("gpx")))?;
    let mut w = x.into_inner();
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

/// One `<trk>`: `name`, then one `trkseg`.
fn write_trk<W: Write>(
    x: &mut Writer<W>,
    name: Option<&str>,
    points: impl Iterator<Item = Point>,
) -> Result<(), Error> {
    x.write_event(Event::Start(BytesStart::new("trk")))?;
    if let Some(name) = name {
        let name = xml_chars(name);
        x.create_element("name")
            .write_text_content(BytesText::new(&name))?;
    }
    let mut points = points.peekable();
    if points.peek().is_none() {
        x.create_element("trkseg").write_empty()?;
    } else {
        x.write_event(Event::Start(BytesStart::new("trkseg")))?;
        for p in points {
            write_trkpt(x, &p)?;
        }
        x.write_event(Event::End(BytesEnd::new("trkseg")))?;
    }
    x.write_event(Event::End(BytesEnd::new("trk")))?;
    Ok(())
}

/// One `<trkpt>`: `time`, then `extensions` (schema order of `wptType`).
fn write_trkpt<W: Write>(x: &mut Writer<W>, p: &Point) -> Result<(), Error> {
    let time = p
        .time
        .checked_to_offset(UtcOffset::UTC)
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| Error::unwritable_time(p.time))?;
    let (lat, lon) = (p.lat.to_string(), p.lon.to_string());
    x.write_event(Event::Start(
        BytesStart::new("trkpt").with_attributes([("lat", lat.as_str()), ("lon", lon.as_str())]),
    ))?;
    x.create_element("time")
        .write_text_content(BytesText::new(&time))?;
    let speed = gpx_speed(p.speed_mps);
    let course = gpx_course(p.course_deg);
    if speed.is_some() || course.is_some() {
        x.write_event(Event::Start(BytesStart::new("extensions")))?;
        x.write_event(Event::Start(BytesStart::new("gpxtpx:TrackPointExtension")))?;
        // TrackPointExtension_t order: atemp, wtemp, depth, hr, cad,
        // speed, course, bearing.
        if let Some(s) = speed {
            x.create_element("gpxtpx:speed")
                .write_text_content(BytesText::new(&s))?;
        }
        if let Some(c) = course {
            x.create_element("gpxtpx:course")
                .write_text_content(BytesText::new(&c))?;
        }
        x.write_event(Event::End(BytesEnd::new("gpxtpx:TrackPointExtension")))?;
        x.write_event(Event::End(BytesEnd::new("extensions")))?;
    }
    x.write_event(Event::End(BytesEnd::new("trkpt")))?;
    Ok(())
}

/// Speed in m/s to 3 decimals (`MetersPerSecond_t`: a double >= 0).
fn gpx_speed(mps: f64) -> Option<String> {
    // `+ 0.0` turns -0.0 into 0.0.
    (mps.is_finite() && mps >= 0.0).then(|| format!("{:.3}", mps + 0.0))
}

/// Course in degrees to 2 decimals, in `0 <= x < 360` (`DegreesTrue_t`).
fn gpx_course(deg: f64) -> Option<String> {
    if !deg.is_finite() {
        return None;
    }
    // Round first, then wrap: 359.999 rounds to 360.00, which must be 0.
    // (rem_euclid of a tiny negative can itself return 360.0.)
    let rounded = (deg.rem_euclid(360.0) * 100.0).round() / 100.0;
    let c = if rounded >= 360.0 { 0.0 } else { rounded + 0.0 };
    Some(format!("{c:.2}"))
}

/// `s` with the characters XML 1.0 cannot carry, even escaped, replaced
/// by U+FFFD (markup characters are escaped by the writer).
fn xml_chars(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// Write `points` as a GeoJSON `Feature` whose geometry is a `LineString`
/// (`[lon, lat]` positions); properties carry `name`, the RFC 3339 `times`,
/// `speeds_mps` and `courses_deg`, one per position.
///
/// # Errors
/// Write failures.
pub fn write_geojson<W: Write>(
    points: &[Point],
    name: Option<&str>,
    mut w: W,
) -> Result<(), Error> {
    let geometry = geojson::Geometry::new_line_string(points.iter().map(|p| [p.lon, p.lat]));
    let mut props = geojson::JsonObject::new();
    if let Some(n) = name {
        props.insert("name".into(), n.into());
    }
    let times: Vec<serde_json::Value> = points
        .iter()
        .map(|p| {
            p.time
                .format(&Rfc3339)
                .map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::Null)
        })
        .collect();
    props.insert("times".into(), times.into());
    props.insert(
        "speeds_mps".into(),
        points
            .iter()
            .map(|p| p.speed_mps)
            .collect::<Vec<_>>()
            .into(),
    );
    props.insert(
        "courses_deg".into(),
        points
            .iter()
            .map(|p| p.course_deg)
            .collect::<Vec<_>>()
            .into(),
    );
    let feature = geojson::Feature {
        geometry: Some(geometry),
        properties: Some(props),
        ..geojson::Feature::default()
    };
    serde_json::to_writer(&mut w, &feature)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

/// Write in `format`.
///
/// # Errors
/// Write failures.
pub fn write_track<W: Write>(
    points: &[Point],
    name: Option<&str>,
    format: Format,
    w: W,
) -> Result<(), Error> {
    match format {
        Format::Gpx => write_gpx(points, name, w),
        Format::GeoJson => write_geojson(points, name, w),
    }
}

/// The sidecar path for a clip: `<clip file name>.<ext>` beside it, e.g.
/// `2025_1224_120324_000002PF.MP4` → `2025_1224_120324_000002PF.MP4.gpx`
/// (the name the Python tool used, so existing archives keep working).
/// Pure: touches no file.
#[must_use]
pub fn sidecar_path(clip: &Path, format: Format) -> PathBuf {
    let mut name: OsString = clip.file_name().map(OsString::from).unwrap_or_default();
    name.push(".");
    name.push(format.extension());
    clip.with_file_name(name)
}

/// Removes the temporary files that [`write_sidecar`] leaves behind when
/// its process is killed mid-write (`.<clip>.gpx.tmp<pid>`, likewise for
/// GeoJSON), for this one clip. Call it when no other process can be
/// writing this clip's sidecars (e.g. when resuming work on the clip after
/// a crash). Returns how many were removed.
///
/// # Errors
/// Reading the clip's directory failed.
pub fn remove_stale_sidecar_temps(clip: &Path) -> Result<usize, Error> {
    let prefixes: Vec<String> = [Format::Gpx, Format::GeoJson]
        .into_iter()
        .filter_map(|f| {
            let dest = sidecar_path(clip, f);
            let name = dest.file_name()?.to_str()?.to_owned();
            Some(format!(".{name}.tmp"))
        })
        .collect();
    let dir = match clip.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut removed = 0;
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = prefixes.iter().any(|p| {
            name.strip_prefix(p.as_str())
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Write `points` to the clip's sidecar atomically: a temporary file in
/// the same directory is written, fsynced and renamed over the final name
/// (then the directory is fsynced where the platform allows). A failed
/// write leaves no temporary file and never a partial sidecar. Returns the
/// sidecar path. The track name is the clip's file name.
///
/// # Errors
/// I/O errors (with the path); a clip path without a file name.
pub fn write_sidecar(clip: &Path, points: &[Point], format: Format) -> Result<PathBuf, Error> {
    let Some(file_name) = clip.file_name() else {
        return Err(Error::no_file_name(clip));
    };
    let name = file_name.to_string_lossy().into_owned();
    let dest = sidecar_path(clip, format);
    let mut tmp_name = OsString::from(".");
    tmp_name.push(dest.file_name().unwrap_or_default());
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dest.with_file_name(tmp_name);
    let result = (|| -> Result<(), Error> {
        let f = fs_err::File::create(&tmp)?;
        let mut bw = std::io::BufWriter::new(f);
        write_track(points, Some(&name), format, &mut bw)?;
        let f = bw
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        f.sync_all()?;
        drop(f);
        fs_err::rename(&tmp, &dest)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename durable; not every platform can open a directory.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(dest)
}
