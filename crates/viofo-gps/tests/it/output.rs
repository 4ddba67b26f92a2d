//! GPX / GeoJSON output and sidecar files.

use std::path::Path;

use time::macros::datetime;
use viofo_gps::fixture::{ClipBuilder, drive};
use viofo_gps::{
    Format, GpxTrack, Layout, Options, Point, extract_reader, remove_stale_sidecar_temps,
    sidecar_path, write_geojson, write_gpx, write_gpx_tracks, write_sidecar,
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

/// Several named tracks in one document read back track by track, and
/// each `<trk>` is byte for byte the one a single-track document holds.
#[test]
fn several_tracks_in_one_document_round_trip() {
    let pts = points();
    let (a, b) = pts.split_at(3);
    let tracks = [
        GpxTrack {
            name: Some("Home -> Office"),
            points: a,
        },
        GpxTrack {
            name: None,
            points: &[],
        },
        GpxTrack {
            name: Some("back & forth"),
            points: b,
        },
    ];
    let mut out = Vec::new();
    write_gpx_tracks(&tracks, &mut out).unwrap();
    let doc = gpx::read(out.as_slice()).unwrap();
    assert_eq!(doc.version, gpx::GpxVersion::Gpx11);
    assert_eq!(doc.tracks.len(), 3);
    for (read, written) in doc.tracks.iter().zip(&tracks) {
        assert_eq!(read.name.as_deref(), written.name);
        let seg = &read.segments[0];
        assert_eq!(seg.points.len(), written.points.len());
        for (w, p) in seg.points.iter().zip(written.points) {
            assert_eq!((w.point().y(), w.point().x()), (p.lat, p.lon));
            assert_eq!(time::OffsetDateTime::from(w.time.unwrap()), p.time);
        }
    }
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("<gpx ").count(), 1, "{text}");
    for t in &tracks {
        let mut one = Vec::new();
        write_gpx(t.points, t.name, &mut one).unwrap();
        let one = String::from_utf8(one).unwrap();
        let trk = &one[one.find("<trk>").unwrap()..one.rfind("</trk>").unwrap() + 6];
        assert!(text.contains(&format!("  {trk}\n")), "{trk}\nin\n{text}");
    }
    // A single track is exactly write_gpx's document.
    let mut single = Vec::new();
    write_gpx_tracks(&tracks[..1], &mut single).unwrap();
    let mut plain = Vec::new();
    write_gpx(a, Some("Home -> Office"), &mut plain).unwrap();
    assert_eq!(single, plain);
}

#[test]
fn no_tracks_is_still_valid_gpx() {
    let mut out = Vec::new();
    write_gpx_tracks(&[], &mut out).unwrap();
    let doc = gpx::read(out.as_slice()).unwrap();
    assert!(doc.tracks.is_empty());
    assert!(!String::from_utf8(out).unwrap().contains("<trk"));
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

#[test]
fn temp_files_of_a_killed_writer_are_removed_for_that_clip_only() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("c.MP4");
    std::fs::write(&clip, b"").unwrap();
    let keep = [
        "c.MP4.gpx",
        ".d.MP4.gpx.tmp123",
        ".c.MP4.gpx.tmpx1",
        ".c.MP4.gpx.tmp",
        "c.MP4",
    ];
    for k in keep {
        std::fs::write(dir.path().join(k), b"x").unwrap();
    }
    for stale in [".c.MP4.gpx.tmp4242", ".c.MP4.geojson.tmp7"] {
        std::fs::write(dir.path().join(stale), b"<gpx").unwrap();
    }
    assert_eq!(remove_stale_sidecar_temps(&clip).unwrap(), 2);
    let mut want: Vec<&str> = keep.to_vec();
    want.sort_unstable();
    want.dedup();
    assert_eq!(dir_names(dir.path()), want);
}

/// One element of a parsed document: name, attributes (in order), text,
/// children.
#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn child_names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }

    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse XML into an element tree with quick-xml (an independent reader,
/// not the `gpx` crate that wrote it).
fn tree(xml: &str) -> El {
    use quick_xml::events::{BytesStart, Event};
    fn open(e: &BytesStart<'_>) -> El {
        El {
            name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().unwrap().into_owned(),
                    )
                })
                .collect(),
            ..El::default()
        }
    }
    let mut r = quick_xml::Reader::from_str(xml);
    let mut stack = vec![El::default()];
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let el = open(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let mut el = stack.pop().unwrap();
                el.text = el.text.trim().to_owned();
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.decode().unwrap()),
            Event::GeneralRef(g) => {
                let s = match &*g {
                    b"lt" => "<",
                    b"gt" => ">",
                    b"amp" => "&",
                    b"quot" => "\"",
                    b"apos" => "'",
                    other => panic!("unexpected entity {other:?}"),
                };
                stack.last_mut().unwrap().text.push_str(s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced document");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

/// The GPX 1.1 schema's element order for `wptType` (trkpt).
const WPT_ORDER: [&str; 20] = [
    "ele",
    "time",
    "magvar",
    "geoidheight",
    "name",
    "cmt",
    "desc",
    "src",
    "link",
    "sym",
    "type",
    "fix",
    "sat",
    "hdop",
    "vdop",
    "pdop",
    "ageofdgpsdata",
    "dgpsid",
    "extensions",
    "",
];

/// Element order and placement the GPX 1.1 XSD demands, checked on a track
/// from a clip with accelerometer data and a camera UTC offset (the full
/// schema was checked once with xmllint; see docs/PERFORMANCE.md).
#[test]
fn gpx_structure_follows_the_1_1_schema() {
    let mut pts = drive(datetime!(2025-12-24 11:03:24), 6, 52.52, 13.40, 14.0, 90.0);
    for (i, p) in pts.iter_mut().enumerate() {
        p.accel = Some([256, -128, 300 + i as i32]);
    }
    let clip = ClipBuilder::new(Layout::Variable).points(pts).build();
    let opts = Options::default().utc_offset(time::macros::offset!(+2));
    let x = extract_reader(clip.reader(), &opts).unwrap();
    assert_eq!(x.points.len(), 6);
    assert!(x.points.iter().all(|p| p.accel.is_some()));
    let mut out = Vec::new();
    write_gpx(&x.points, Some("clip <1> & co"), &mut out).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");

    let gpx = tree(&xml);
    assert_eq!(gpx.name, "gpx");
    assert_eq!(gpx.attr("xmlns"), Some("http://www.topografix.com/GPX/1/1"));
    assert_eq!(gpx.attr("xmlns:gpxtpx"), Some(TPX_NS));
    assert_eq!(gpx.attr("version"), Some("1.1"));
    assert_eq!(gpx.attr("creator"), Some("viofosync"));
    // gpxType: metadata?, wpt*, rte*, trk*, extensions?
    let kids = gpx.child_names();
    assert_eq!(kids.iter().filter(|&&n| n == "trk").count(), 1, "{kids:?}");
    assert!(
        kids.iter().all(|n| ["metadata", "trk"].contains(n)),
        "{kids:?}"
    );
    let meta = kids.iter().position(|&n| n == "metadata");
    assert!(
        meta.is_none_or(|i| i == 0),
        "metadata comes first: {kids:?}"
    );

    let trk = gpx.children.iter().find(|c| c.name == "trk").unwrap();
    // trkType: name, ..., extensions?, trkseg* — name first, segments last.
    assert_eq!(trk.child_names(), ["name", "trkseg"]);
    assert_eq!(trk.children[0].text, "clip <1> & co");
    let seg = &trk.children[1];
    assert_eq!(seg.children.len(), x.points.len());
    for (pt, p) in seg.children.iter().zip(&x.points) {
        assert_eq!(pt.name, "trkpt");
        let keys: Vec<&str> = pt.attrs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["lat", "lon"]);
        assert_eq!(pt.attr("lat").unwrap().parse::<f64>().unwrap(), p.lat);
        assert_eq!(pt.attr("lon").unwrap().parse::<f64>().unwrap(), p.lon);
        // Children in the schema's order; `extensions` last.
        let names = pt.child_names();
        let ranks: Vec<usize> = names
            .iter()
            .map(|n| WPT_ORDER.iter().position(|o| o == n).unwrap())
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{names:?}");
        assert_eq!(names, ["time", "extensions"]);
        let t = &pt.children[0];
        let parsed =
            time::OffsetDateTime::parse(&t.text, &time::format_description::well_known::Rfc3339)
                .unwrap();
        assert_eq!(parsed, p.time);
        assert!(t.text.ends_with('Z'), "UTC: {}", t.text);
        let (speed, course) = tpx(&pt.children[1]);
        let speed = speed.expect("speed written");
        let course = course.expect("course written");
        assert!((speed - p.speed_mps).abs() <= 0.0005, "{speed} vs {p:?}");
        assert!((course - p.course_deg).abs() <= 0.005, "{course} vs {p:?}");
    }
    // The drive's 14 m/s and 90° arrive as written.
    let (speed, course) = tpx(&seg.children[2].children[1]);
    assert!((speed.unwrap() - 14.0).abs() < 0.01 && (course.unwrap() - 90.0).abs() < 0.01);
    // Local 11:03:24 at +02:00 is 09:03:24 UTC.
    assert!(
        seg.children[0].children[0]
            .text
            .starts_with("2025-12-24T09:03:24")
    );
    // Deterministic: the same track gives the same bytes.
    let mut again = Vec::new();
    write_gpx(&x.points, Some("clip <1> & co"), &mut again).unwrap();
    assert_eq!(again, xml.as_bytes());
}

/// Garmin TrackPointExtension v2.
const TPX_NS: &str = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2";

/// TrackPointExtension v2's element order (`TrackPointExtension_t`).
const TPX_ORDER: [&str; 9] = [
    "gpxtpx:atemp",
    "gpxtpx:wtemp",
    "gpxtpx:depth",
    "gpxtpx:hr",
    "gpxtpx:cad",
    "gpxtpx:speed",
    "gpxtpx:course",
    "gpxtpx:bearing",
    "gpxtpx:Extensions",
];

/// Speed and course from a trkpt's `<extensions>`, checking the structure
/// and the schema's value ranges (speed >= 0, 0 <= course < 360).
fn tpx(ext: &El) -> (Option<f64>, Option<f64>) {
    assert_eq!(ext.name, "extensions");
    assert_eq!(ext.child_names(), ["gpxtpx:TrackPointExtension"]);
    let tpe = &ext.children[0];
    let names = tpe.child_names();
    let ranks: Vec<usize> = names
        .iter()
        .map(|n| TPX_ORDER.iter().position(|o| o == n).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    let value = |n: &str| {
        tpe.children
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.text.parse::<f64>().unwrap())
    };
    let (speed, course) = (value("gpxtpx:speed"), value("gpxtpx:course"));
    assert!(speed.is_none_or(|s| s >= 0.0), "{speed:?}");
    assert!(
        course.is_none_or(|c| (0.0..360.0).contains(&c)),
        "{course:?}"
    );
    (speed, course)
}

/// Courses outside `0..360` (and ones that round up to 360) are written
/// normalised; speeds and courses that are not numbers are left out.
#[test]
fn gpx_course_is_normalised_and_bad_values_are_left_out() {
    let p = |speed_mps: f64, course_deg: f64| Point {
        time: datetime!(2025-12-24 11:03:24 UTC),
        lat: -33.5,
        lon: 151.25,
        speed_mps,
        course_deg,
        accel: None,
    };
    let cases = [
        // (point, speed written, course written)
        (p(3.25, -90.0), Some(3.25), Some(270.0)),
        (p(0.0, 360.0), Some(0.0), Some(0.0)),
        (p(-0.0, 359.999), Some(0.0), Some(0.0)),
        (p(1.0, 720.5), Some(1.0), Some(0.5)),
        (p(1.0, -1e-20), Some(1.0), Some(0.0)),
        (p(-1.0, 12.5), None, Some(12.5)),
        (p(f64::NAN, f64::INFINITY), None, None),
    ];
    let pts: Vec<Point> = cases.iter().map(|c| c.0).collect();
    let mut out = Vec::new();
    write_gpx(&pts, None, &mut out).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(!xml.contains("-0.0"), "{xml}");
    let gpx = tree(&xml);
    let trk = &gpx.children[0];
    assert_eq!(trk.child_names(), ["trkseg"]);
    let seg = &trk.children[0];
    assert_eq!(seg.children.len(), cases.len());
    for (pt, (_, speed, course)) in seg.children.iter().zip(&cases) {
        if speed.is_none() && course.is_none() {
            assert_eq!(pt.child_names(), ["time"], "{xml}");
            continue;
        }
        assert_eq!(pt.child_names(), ["time", "extensions"]);
        assert_eq!(tpx(&pt.children[1]), (*speed, *course), "{xml}");
    }
}

/// Track names are escaped, and characters XML 1.0 cannot carry are
/// replaced, so any clip name gives a well-formed document.
#[test]
fn gpx_track_names_are_escaped() {
    let names = [
        ("x&<\"y\">'.MP4", "x&<\"y\">'.MP4"),
        ("]]> &amp; <!-- -->", "]]> &amp; <!-- -->"),
        ("a\u{1}b\u{1b}c\tü", "a\u{FFFD}b\u{FFFD}c\tü"),
    ];
    for (name, want) in names {
        let mut out = Vec::new();
        write_gpx(&points(), Some(name), &mut out).unwrap();
        let xml = String::from_utf8(out.clone()).unwrap();
        assert_eq!(tree(&xml).children[0].children[0].text, want, "{xml}");
        let doc = gpx::read(out.as_slice()).unwrap();
        assert_eq!(doc.tracks[0].name.as_deref(), Some(want));
    }
}

/// A time GPX cannot carry (RFC 3339 needs years 0000–9999) is an output
/// error, not a panic or a malformed document.
#[test]
fn gpx_time_outside_rfc3339_is_an_output_error() {
    let date = time::Date::from_calendar_date(-1, time::Month::January, 1).unwrap();
    let pt = Point {
        time: time::OffsetDateTime::new_utc(date, time::Time::MIDNIGHT),
        lat: 1.0,
        lon: 2.0,
        speed_mps: 0.0,
        course_deg: 0.0,
        accel: None,
    };
    let e = write_gpx(&[pt], None, Vec::new()).unwrap_err();
    assert!(e.is_output() && !e.is_io(), "{e}");
    assert!(e.to_string().contains("RFC 3339"), "{e}");
}
