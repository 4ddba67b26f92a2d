//! GPX 1.1 and GeoJSON writers, and atomic sidecar files.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Write `points` as a GPX 1.1 document with one track and one segment
/// (`lat`, `lon` and `time` per point; GPX 1.1 has no speed element).
/// `name` becomes the track name. Written by the georust `gpx` crate.
///
/// # Errors
/// Write failures.
pub fn write_gpx<W: Write>(points: &[Point], name: Option<&str>, w: W) -> Result<(), Error> {
    let mut seg = gpx::TrackSegment::new();
    seg.points = points
        .iter()
        .map(|p| {
            let mut wpt = gpx::Waypoint::new((p.lon, p.lat).into());
            wpt.time = Some(p.time.into());
            wpt
        })
        .collect();
    let mut trk = gpx::Track::new();
    trk.name = name.map(str::to_owned);
    trk.segments.push(seg);
    let doc = gpx::Gpx {
        version: gpx::GpxVersion::Gpx11,
        creator: Some(CREATOR.to_owned()),
        tracks: vec![trk],
        ..gpx::Gpx::default()
    };
    gpx::write(&doc, w)?;
    Ok(())
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
                .format(&time::format_description::well_known::Rfc3339)
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
