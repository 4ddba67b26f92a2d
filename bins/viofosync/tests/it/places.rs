//! Places (issue 12): `[[place]]` tables in the configuration file, bad
//! ones refused as configuration errors naming the key, `config` showing
//! them, and `places` / `queue` / `status` after a sync that skipped the
//! parking clips recorded at a place flagged `skip_parking`.

use std::time::Duration;

use time::PrimitiveDateTime;
use time::macros::datetime;
use viofo_gps::Layout;
use viofo_gps::fixture::{ClipBuilder, drive};
use viofo_sim::{ClipDef, Folder, SimConfig};

use crate::{Camera, Env, stderr, stdout};

const HOME: (f64, f64) = (48.8566, 2.3522);
const OFFICE: (f64, f64) = (48.8738, 2.295);

const PLACES: &str = "[[place]]\nname = \"Home\"\nlat = 48.8566\nlon = 2.3522\nradius_m = 150\n\
                      skip_parking = true\n\n[[place]]\nname = \"Office\"\nlat = 48.8738\n\
                      lon = 2.295\nradius_m = 150\n";

#[test]
fn bad_places_are_configuration_errors_naming_the_key() {
    let env = Env::new();
    let good = "[[place]]\nname = \"Home\"\nlat = 48.8\nlon = 2.3\nradius_m = 100\n\n[[place]]\n";
    for (second, key, allowed) in [
        (
            "name = \"Work\"\nlat = 48.8\nlon = 2.3\nradius_m = -5",
            "place[2].radius_m = -5",
            "above 0",
        ),
        (
            "name = \"Work\"\nlat = 91\nlon = 2.3\nradius_m = 5",
            "place[2].lat = 91",
            "from -90 to 90",
        ),
        (
            "name = \"Work\"\nlat = 1\nlon = 200\nradius_m = 5",
            "place[2].lon = 200",
            "from -180 to 180",
        ),
        (
            "name = \"home\"\nlat = 1\nlon = 2\nradius_m = 5",
            "place[2].name = \"home\"",
            "unique",
        ),
        (
            "name = \"Work\"\nlat = 1\nlon = 2\nradius = 5",
            "place[2]: unknown key `radius`",
            "radius_m",
        ),
        (
            "name = \"Work\"\nlat = 1\nlon = 2",
            "place[2].radius_m is missing",
            "above 0",
        ),
    ] {
        env.write_config(&format!("{good}{second}\n"));
        for args in [
            &["config"][..],
            &["places"],
            &["sync", "--address", "http://127.0.0.1:9"],
        ] {
            let o = env.cmd().args(args).output().unwrap();
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?} {key}: {err}");
            assert!(err.contains("configuration error"), "{err}");
            assert!(
                err.contains(key) && err.contains(allowed),
                "{key} / {allowed}: {err}"
            );
            assert!(err.contains("config.toml"), "names the file: {err}");
        }
    }
}

#[test]
fn config_shows_the_places_and_places_says_none_without_them() {
    let env = Env::new();
    let out = env.run_ok(&["places"]);
    assert!(out.contains("no places configured"), "{out}");
    env.write_config(PLACES);
    let out = env.run_ok(&["config"]);
    assert!(
        out.contains("[[place]]  # file ")
            && out.contains(
                "name = \"Home\"\nlat = 48.8566\nlon = 2.3522\nradius_m = 150\nskip_parking = true"
            )
            && out.contains("name = \"Office\"")
            && out.contains("skip_parking = false"),
        "{out}"
    );
    // No state database yet: the places, nothing matched.
    let out = env.run_ok(&["places"]);
    assert!(out.contains("not created yet"), "{out}");
    let home = out.lines().find(|l| l.starts_with("Home")).expect(&out);
    assert!(
        home.contains("yes") && home.trim_end().ends_with('0'),
        "{home}"
    );
}

fn clip(name: &str, folder: Folder, start: PrimitiveDateTime, (lat, lon): (f64, f64)) -> ClipDef {
    let bytes = ClipBuilder::new(Layout::Variable)
        .points(drive(start, 30, lat, lon, 0.0, 0.0))
        .total_len(200_000)
        .build()
        .to_vec();
    ClipDef::from_bytes(name, folder, bytes).start_time(start)
}

const PARKED_HOME_1: &str = "2025_1224_120100_000002P.MP4";
const PARKED_HOME_2: &str = "2025_1224_120200_000003P.MP4";

#[test]
fn places_after_a_sync_that_skipped_parked_clips() {
    let t = |m: u8| datetime!(2025-12-24 12:00:00).replace_minute(m).unwrap();
    let cam = Camera::start(
        SimConfig::default()
            .with_clip(clip(
                "2025_1224_120000_000001F.MP4",
                Folder::Movie,
                t(0),
                HOME,
            ))
            .with_clip(clip(PARKED_HOME_1, Folder::Parking, t(1), HOME))
            .with_clip(clip(PARKED_HOME_2, Folder::Parking, t(2), HOME))
            .with_clip(clip(
                "2025_1224_120300_000004P.MP4",
                Folder::Parking,
                t(3),
                OFFICE,
            ))
            .with_clip(clip(
                "2025_1224_120400_000005F.MP4",
                Folder::Movie,
                t(4),
                (48.8, 2.4),
            ))
            .delete_delay(Duration::from_millis(10)),
    );
    let env = Env::new();
    env.write_config(PLACES);
    // A quota no clip fits: the downloads stop at once (exit 4) and the
    // triage takes every clip, skipping the two parked at home.
    let o = env
        .sync_cmd(&cam)
        .args(["sync", "--triage", "skeleton", "--quota", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}\n{}", stdout(&o), stderr(&o));
    let out = env.sync_ok(&cam, &["queue"]);
    for name in [PARKED_HOME_1, PARKED_HOME_2] {
        let line = out.lines().find(|l| l.contains(name)).expect(&out);
        assert!(line.contains("skipped: parked at Home"), "{line}");
    }

    // Deletes on: the rest is downloaded and deleted, the skipped clips
    // stay on the camera.
    let out = env.sync_ok(
        &cam,
        &["sync", "--triage", "skeleton", "--delete-after-download"],
    );
    assert!(out.contains("synced 3 clips"), "{out}");
    let on_camera: Vec<String> = cam.sim().clips().into_iter().map(|c| c.name).collect();
    for name in [PARKED_HOME_1, PARKED_HOME_2] {
        assert!(on_camera.iter().any(|n| n == name), "{name}: {on_camera:?}");
        assert!(!env.archive().join(name).exists(), "{name}");
    }
    assert!(!cam.sim().deleted().is_empty(), "deletes ran");

    let out = env.sync_ok(&cam, &["status"]);
    assert!(out.contains("3 done") && out.contains("2 skipped"), "{out}");

    let out = env.sync_ok(&cam, &["places"]);
    let row = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {out}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // Home: the two parked clips (triage tracks) and the driving clip
    // standing there (its file track); two of them skipped.
    assert_eq!(row("Home")[5..], ["yes", "3", "2"], "{out}");
    assert_eq!(row("Office")[5..], ["no", "1", "0"], "{out}");
    assert!(
        out.contains("matched: clips whose stored GPS track lies wholly inside"),
        "{out}"
    );
}
