//! GPX / GeoJSON output and sidecar files.

use std::path::Path;

use time::macros::datetime;
use viofo_gps::fixture::{ClipBuilder, drive};
use viofo_gps::{
    Format, Layout, Options, Point, extract_reader, sidecar_path, write_geojson, write_gpx,
    write_sidecar,
};

fn points() -> Vec<Point> {
    let pts = drive(datetime!(2025-12-24 11:03:24), 8, 52.52, 13.40, 14.0, 90.0);
    let clip = ClipBuilder::new(Layout::Variable).points(pts).build();
    extract_reader(clip.reader(), &Options::default())
        .unwrap()
        .points
}

#[test]
fn gpx_is_1_1_and_round_trips() {
    let pts = points();
    let mut out = Vec::new();
    write_gpx(&pts, Some("a <clip> & \"name\""), &mut out).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.contains(r#"version="1.1""#), "{text}");
    assert!(
        text.contains(r#"xmlns="http://www.topografix.com/GPX/1/1""#),
        "{text}"
    );
    assert!(text.contains(r#"creator="viofosync""#));
    let doc = gpx::read(out.as_slice()).unwrap();
    assert_eq!(doc.version, gpx::GpxVersion::Gpx11);
    assert_eq!(doc.tracks.len(), 1);
    assert_eq!(doc.tracks[0].name.as_deref(), Some("a <clip> & \"name\""));
    let seg = &doc.tracks[0].segments[0];
    assert_eq!(seg.points.len(), pts.len());
    for (w, p) in seg.points.iter().zip(&pts) {
        assert_eq!(w.point().y(), p.lat);
        assert_eq!(w.point().x(), p.lon);
        let t: time::OffsetDateTime = w.time.unwrap().into();
        assert_eq!(t, p.time);
    }
}

#[test]
fn empty_track_is_still_valid_gpx() {
    let mut out = Vec::new();
    write_gpx(&[], None, &mut out).unwrap();
    let doc = gpx::read(out.as_slice()).unwrap();
    assert_eq!(doc.tracks[0].segments[0].points.len(), 0);
}

#[test]
fn geojson_linestring() {
    let pts = points();
    let mut out = Vec::new();
    write_geojson(&pts, Some("clip"), &mut out).unwrap();
    let gj: geojson::GeoJson = String::from_utf8(out).unwrap().parse().unwrap();
    let geojson::GeoJson::Feature(f) = gj else {
        panic!("not a feature")
    };
    let Some(geojson::GeometryValue::LineString { coordinates }) = f.geometry.map(|g| g.value)
    else {
        panic!("not a line string")
    };
    assert_eq!(coordinates.len(), pts.len());
    assert!((coordinates[3][0] - pts[3].lon).abs() < 1e-12);
    assert!((coordinates[3][1] - pts[3].lat).abs() < 1e-12);
    let props = f.properties.unwrap();
    assert_eq!(props["name"], "clip");
    assert_eq!(props["times"][0], "2025-12-24T11:03:24Z");
    assert_eq!(props["speeds_mps"].as_array().unwrap().len(), pts.len());
}

#[test]
fn sidecar_names_match_the_python_tool() {
    let p = Path::new("/archive/2025/2025_1224_120324_000002PF.MP4");
    assert_eq!(
        sidecar_path(p, Format::Gpx),
        Path::new("/archive/2025/2025_1224_120324_000002PF.MP4.gpx")
    );
    assert_eq!(
        sidecar_path(p, Format::GeoJson),
        Path::new("/archive/2025/2025_1224_120324_000002PF.MP4.geojson")
    );
    assert_eq!(
        sidecar_path(Path::new("x.mp4"), Format::Gpx),
        Path::new("x.mp4.gpx")
    );
}

fn dir_names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn sidecar_is_written_atomically_and_replaces_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("2025_1224_120324_000002PF.MP4");
    std::fs::write(&clip, b"").unwrap();
    std::fs::write(sidecar_path(&clip, Format::Gpx), b"old").unwrap();
    let pts = points();
    let written = write_sidecar(&clip, &pts, Format::Gpx).unwrap();
    assert_eq!(
        written,
        dir.path().join("2025_1224_120324_000002PF.MP4.gpx")
    );
    let doc = gpx::read(std::fs::File::open(&written).unwrap()).unwrap();
    assert_eq!(doc.tracks[0].segments[0].points.len(), pts.len());
    assert_eq!(
        doc.tracks[0].name.as_deref(),
        Some("2025_1224_120324_000002PF.MP4")
    );
    assert_eq!(
        dir_names(dir.path()),
        [
            "2025_1224_120324_000002PF.MP4",
            "2025_1224_120324_000002PF.MP4.gpx"
        ]
    );
}

#[test]
fn failed_sidecar_write_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("c.MP4");
    // The sidecar name is taken by a non-empty directory: the rename fails.
    std::fs::create_dir(sidecar_path(&clip, Format::Gpx)).unwrap();
    std::fs::write(sidecar_path(&clip, Format::Gpx).join("keep"), b"x").unwrap();
    let e = write_sidecar(&clip, &points(), Format::Gpx).unwrap_err();
    assert!(e.is_io(), "{e}");
    assert_eq!(dir_names(dir.path()), ["c.MP4.gpx"]);
    // Missing directory: an I/O error naming the path.
    let e = write_sidecar(&dir.path().join("nope/c.MP4"), &[], Format::Gpx).unwrap_err();
    assert!(e.is_io() && e.to_string().contains("nope"), "{e}");
}
