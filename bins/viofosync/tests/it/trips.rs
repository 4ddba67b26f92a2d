//! Journeys (issue 12): after a sync of the simulator with GPS fixtures,
//! `trips` lists them newest first in every format, named by place;
//! `trips show ID` lists a journey's clips and states; `--rebuild`,
//! `--since`; the `journeys` priority.

use serde_json::Value;
use time::PrimitiveDateTime;
use time::macros::datetime;
use viofo_gps::Layout;
use viofo_gps::fixture::{ClipBuilder, drive};
use viofo_sim::{ClipDef, Folder, SimConfig};

use crate::{Camera, Env};

const HOME: (f64, f64) = (48.8566, 2.3522);
const OFFICE: (f64, f64) = (48.8738, 2.295);

const PLACES: &str = "[[place]]\nname = \"Home\"\nlat = 48.8566\nlon = 2.3522\nradius_m = 150\n\n\
                      [[place]]\nname = \"Office\"\nlat = 48.8738\nlon = 2.295\nradius_m = 150\n";

fn clip(
    name: &str,
    folder: Folder,
    start: PrimitiveDateTime,
    (lat, lon): (f64, f64),
    speed: f64,
) -> ClipDef {
    let bytes = ClipBuilder::new(Layout::Variable)
        .points(drive(start, 30, lat, lon, speed, 0.0))
        .total_len(200_000)
        .build()
        .to_vec();
    ClipDef::from_bytes(name, folder, bytes).start_time(start)
}

fn camera() -> Camera {
    let t = |m: u8| datetime!(2025-12-24 12:00:00).replace_minute(m).unwrap();
    Camera::start(
        SimConfig::default()
            // Home -> Office, then parked at the office, then off again.
            .with_clip(clip(
                "2025_1224_120000_000001F.MP4",
                Folder::Movie,
                t(0),
                HOME,
                10.0,
            ))
            .with_clip(clip(
                "2025_1224_120100_000002F.MP4",
                Folder::Movie,
                t(1),
                OFFICE,
                2.0,
            ))
            .with_clip(clip(
                "2025_1224_120200_000003P.MP4",
                Folder::Parking,
                t(2),
                OFFICE,
                0.0,
            ))
            .with_clip(clip(
                "2025_1224_120300_000004F.MP4",
                Folder::Movie,
                t(3),
                OFFICE,
                10.0,
            )),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn trips_after_a_sync_lists_the_journeys_newest_first() {
    let cam = camera();
    let env = Env::new();
    env.write_config(PLACES);
    env.sync_ok(&cam, &["sync"]);

    let v = json(&env.sync_ok(&cam, &["trips", "--format", "json"]));
    let trips = v.as_array().expect("an array");
    assert_eq!(trips.len(), 2, "{v:#}");
    let (newer, older) = (&trips[0], &trips[1]);
    assert_eq!(older["from"], "Home", "{v:#}");
    assert_eq!(older["to"], "Office");
    assert_eq!(older["clips"], 2);
    assert_eq!(older["channels"]["F"], 2);
    assert_eq!(older["start"], "2025-12-24T12:00:00Z");
    assert_eq!(older["end"], "2025-12-24T12:01:29Z");
    assert_eq!(older["downloaded_fraction"], 1.0);
    assert!(older["distance_m"].as_f64().unwrap() > 1_000.0);
    assert_eq!(newer["from"], "Office");
    assert_eq!(newer["to"], Value::Null);
    assert_eq!(newer["clips"], 1);
    let gpx = older["gpx"].as_str().unwrap();
    assert!(
        gpx.ends_with("journeys/2025-12-24_1200_Home-Office.gpx"),
        "{gpx}"
    );
    assert!(std::fs::read_to_string(gpx).unwrap().contains("<trkpt"));

    let table = env.sync_ok(&cam, &["trips"]);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[0].contains("Office -> ?"), "{table}");
    assert!(
        rows[1].contains("Home -> Office") && rows[1].contains("100%"),
        "{table}"
    );
    assert!(rows[1].contains("Wed 2025-12-24 12:00-12:01"), "{table}");

    let id = older["id"].as_i64().unwrap().to_string();
    let show = env.sync_ok(&cam, &["trips", "show", &id]);
    assert!(show.contains("Home -> Office"), "{show}");
    for name in ["000001F", "000002F"] {
        let line = show.lines().find(|l| l.contains(name)).expect(&show);
        assert!(line.contains("done"), "{line}");
    }
    assert!(
        !show.contains("000003P") && !show.contains("000004F"),
        "{show}"
    );
    let one = json(&env.sync_ok(&cam, &["trips", "show", &id, "--format", "json"]));
    assert_eq!(one["clip_list"].as_array().unwrap().len(), 2, "{one:#}");
    let o = env
        .sync_cmd(&cam)
        .args(["trips", "show", "9999"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));

    let geo = json(&env.sync_ok(&cam, &["trips", "--format", "geojson"]));
    assert_eq!(geo["type"], "FeatureCollection");
    let f = geo["features"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(
        f[1]["geometry"]["coordinates"].as_array().unwrap().len(),
        60
    );
    let doc = env.sync_ok(&cam, &["trips", "--format", "gpx"]);
    assert_eq!(doc.matches("<gpx ").count(), 1, "{doc}");
    assert_eq!(doc.matches("<trk>").count(), 2, "{doc}");
    assert_eq!(doc.matches("<trkpt").count(), 90, "{doc}");

    // --since a later day: none; the day itself: both.
    let none = json(&env.sync_ok(
        &cam,
        &["trips", "--since", "2025-12-25", "--format", "json"],
    ));
    assert_eq!(none, Value::Array(Vec::new()));
    let both = json(&env.sync_ok(
        &cam,
        &["trips", "--since", "2025-12-24", "--format", "json"],
    ));
    assert_eq!(both.as_array().unwrap().len(), 2);
    let o = env
        .sync_cmd(&cam)
        .args(["trips", "--since", "soon"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // What is accepted, said once (issue 21).
    insta::assert_snapshot!("trips_since_refused", crate::stderr(&o));
    for words in ["today", "yesterday", "7d"] {
        let o = env
            .sync_cmd(&cam)
            .args(["trips", "--since", words, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{words}: {}", crate::stderr(&o));
    }
    // --camera: the camera's own journeys (issue 21).
    let own = json(&env.sync_ok(
        &cam,
        &[
            "trips",
            "--camera",
            viofo_testkit::CAMERA,
            "--format",
            "json",
        ],
    ));
    assert_eq!(own.as_array().unwrap().len(), 2);

    // A rebuild without the places: the same journeys, unnamed, the GPX
    // files renamed.
    env.write_config("");
    let v = json(&env.sync_ok(&cam, &["trips", "--rebuild", "--format", "json"]));
    let trips = v.as_array().unwrap();
    assert_eq!(trips.len(), 2, "{v:#}");
    assert_eq!(trips[1]["from"], Value::Null);
    assert_eq!(trips[1]["clips"], 2);
    assert!(!std::path::Path::new(gpx).exists(), "the old file is gone");
    let mut files: Vec<String> = std::fs::read_dir(env.archive().join("journeys"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "2025-12-24_1200_unknown-unknown.gpx",
            "2025-12-24_1203_unknown-unknown.gpx"
        ]
    );
}

#[test]
fn trips_without_a_database_and_the_journeys_priority() {
    let env = Env::new();
    let out = env.run_ok(&["trips"]);
    assert!(out.contains("no journeys yet"), "{out}");
    assert_eq!(env.run_ok(&["trips", "--format", "json"]).trim(), "[]");
    let out = env.run_ok(&["config", "--priority", "journeys"]);
    assert!(
        out.contains("priority") && out.contains("= journeys"),
        "{out}"
    );
}
