//! The value flags of `sim`, `demo` and `gpx` through the command line:
//! sizes, durations and UTC offsets go through the configuration's shared
//! parsers; a value they refuse is a usage error (exit 2) saying why.

use crate::{Env, stderr};

/// The usage error of `args`: exit 2, its message pinned.
fn refused(env: &Env, name: &str, args: &[&str]) {
    let o = env.cmd().args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    insta::assert_snapshot!(format!("refused_{name}"), stderr(&o));
}

#[test]
fn bad_sizes_durations_and_offsets_are_usage_errors() {
    let env = Env::new();
    #[cfg(feature = "sim")]
    {
        refused(&env, "sim_clip_size", &["sim", "--clip-size", "12 parsecs"]);
        refused(&env, "sim_latency", &["sim", "--latency", "soon"]);
        refused(&env, "demo_clip_size", &["demo", "--clip-size", "lots"]);
        refused(&env, "sim_date_word", &["sim", "--date", "yesterday"]);
        refused(&env, "sim_date_month", &["sim", "--date", "2025-13-01"]);
    }
    refused(&env, "gpx_no_file", &["gpx"]);
    refused(
        &env,
        "gpx_utc_offset",
        &["gpx", "a.MP4", "--utc-offset", "2h"],
    );
}

/// A refused bind address names the one accepted.
#[cfg(feature = "sim")]
#[test]
fn sim_binds_loopback_only() {
    let env = Env::new();
    for bind in ["0.0.0.0", "192.168.1.254", "::1", "127.0.0.2"] {
        let o = env.cmd().args(["sim", "--bind", bind]).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{bind}");
        assert!(stderr(&o).contains("127.0.0.1 only"), "{}", stderr(&o));
    }
}

/// Sizes in SI units, durations in ms and fractional seconds: the
/// simulator starts with them (and is then killed: its stop on SIGTERM is
/// `misc::sim_serves_until_sigterm_and_status_reads_it`).
#[cfg(feature = "sim")]
#[test]
fn sim_takes_shared_sizes_and_durations() {
    use std::time::Duration;

    use crate::{Running, signal};

    let env = Env::new();
    let mut cmd = env.std_cmd();
    cmd.args([
        "sim",
        "--clips",
        "2",
        "--clip-size",
        "1.5MB",
        "--bandwidth",
        "300MB",
        "--latency",
        "5ms",
        "--delete-delay",
        "1.5s",
        "--recording",
    ]);
    let mut sim = Running::spawn(cmd, true);
    sim.expect_line("listening on http://127.0.0.1:", Duration::from_secs(20));
    signal(&sim.child, rustix::process::Signal::KILL);
    sim.wait(Duration::from_secs(20));
}

/// A negative UTC offset is taken as a value, not a flag; with the spike
/// filter off every fix of the clip is written.
#[test]
fn gpx_takes_a_negative_offset_and_no_filter() {
    let env = Env::new();
    let clip = crate::misc::gps_clip(&env);
    let out = crate::ok(
        env.cmd()
            .args(["gpx", "--stdout", "--format", "geojson", "--no-filter"])
            .args(["--utc-offset", "-05:30"])
            .arg(&clip),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.to_string().contains("LineString"), "{v}");
}
