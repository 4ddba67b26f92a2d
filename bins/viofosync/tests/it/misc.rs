//! gpx, sim, doctor, demo.

use time::macros::datetime;
use viofo_gps::Layout;
use viofo_gps::fixture::{ClipBuilder, drive};

use crate::{Camera, Env, closed_port, ok, stderr, stdout};

/// A clip of 20 fixes on disk, named as the camera names them.
pub(crate) fn gps_clip(env: &Env) -> std::path::PathBuf {
    let clip = env.path("2025_1224_120324_000002F.MP4");
    let points = drive(datetime!(2025-12-24 12:03:24), 20, 52.52, 13.40, 13.9, 90.0);
    let built = ClipBuilder::new(Layout::Variable)
        .points(points)
        .total_len(300_000)
        .build();
    std::fs::write(&clip, built.to_vec()).unwrap();
    clip
}

#[test]
fn gpx_writes_sidecars_and_stdout_and_fails_only_on_unreadable_files() {
    let env = Env::new();
    let clip = gps_clip(&env);
    let no_gps = env.path("empty.MP4");
    let bare = ClipBuilder::new(Layout::Variable).total_len(50_000).build();
    std::fs::write(&no_gps, bare.to_vec()).unwrap();

    let o = env
        .cmd()
        .arg("gpx")
        .arg(&clip)
        .arg(&no_gps)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let gpx = std::fs::read_to_string(env.path("2025_1224_120324_000002F.MP4.gpx")).unwrap();
    assert_eq!(gpx.matches("<trkpt").count(), 20, "{gpx}");
    assert!(
        stderr(&o).contains("empty.MP4") && stderr(&o).contains("no GPS"),
        "{}",
        stderr(&o)
    );

    let out = ok(env
        .cmd()
        .args(["gpx", "--stdout", "--format", "geojson"])
        .arg(&clip));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.to_string().contains("LineString"), "{v}");

    let o = env
        .cmd()
        .arg("gpx")
        .arg(env.path("missing.MP4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));

    // A readable file that is not a clip is reported, not an error; an
    // unreadable one fails the run but the other files are still done.
    let text = env.path("notes.txt");
    std::fs::write(&text, b"not a video").unwrap();
    let o = env.cmd().arg("gpx").arg(&text).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("no GPS"), "{}", stderr(&o));
    let sidecar = env.path(&format!(
        "{}.gpx",
        clip.file_name().unwrap().to_string_lossy()
    ));
    std::fs::remove_file(&sidecar).unwrap();
    let o = env
        .cmd()
        .arg("gpx")
        .arg(env.path("missing.MP4"))
        .arg(&clip)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(sidecar.is_file(), "the readable clip was still done");
}

/// `gpx --stdout` writes exactly the library's documents, file after file,
/// in both formats and with the options applied: the synchronous path of
/// issue 12 buffers its output, and the bytes must not change. One track
/// is longer than the 64 KiB buffer; a file without a track in between
/// adds nothing.
#[test]
fn gpx_stdout_is_byte_identical_to_the_library_writer() {
    let env = Env::new();
    let long = env.path("2025_1224_120324_000002F.MP4");
    let short = env.path("2025_1224_130000_000003F.MP4");
    let bare = env.path("bare.MP4");
    let clip = |n: usize, start| {
        ClipBuilder::new(Layout::Type3)
            .points(drive(start, n, 52.52, 13.40, 13.9, 90.0))
            .block_size(0x100)
            .gap(16)
            .build()
            .to_vec()
    };
    std::fs::write(&long, clip(1500, datetime!(2025-12-24 12:03:24))).unwrap();
    std::fs::write(&short, clip(3, datetime!(2025-12-24 13:00:00))).unwrap();
    std::fs::write(&bare, ClipBuilder::new(Layout::Type3).build().to_vec()).unwrap();

    for (format, lib_format) in [
        ("gpx", viofo_gps::Format::Gpx),
        ("geojson", viofo_gps::Format::GeoJson),
    ] {
        for (flags, opts) in [
            (&[][..], viofo_gps::Options::default()),
            (
                &["--utc-offset", "-05:30", "--no-filter"][..],
                viofo_gps::Options::default()
                    .utc_offset(time::UtcOffset::from_hms(-5, -30, 0).unwrap())
                    .spike_filter(false),
            ),
        ] {
            let o = env
                .cmd()
                .args(["gpx", "--stdout", "--format", format])
                .args(flags)
                .arg(&long)
                .arg(&bare)
                .arg(&short)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let mut want = Vec::new();
            for f in [&long, &short] {
                let t = viofo_gps::extract_file(f, &opts).unwrap();
                let name = f.file_name().unwrap().to_string_lossy();
                viofo_gps::write_track(&t.points, Some(&name), lib_format, &mut want).unwrap();
            }
            assert!(want.len() > 64 * 1024, "{}", want.len());
            assert!(
                o.stdout == want,
                "{format} {flags:?}: {} bytes written, the library gives {}",
                o.stdout.len(),
                want.len()
            );
            assert!(stderr(&o).contains("bare.MP4"), "{}", stderr(&o));
        }
    }
}

/// `gpx --stdout` into a pipe whose reader is gone exits quietly with the
/// command's code; into a full device it fails loudly.
#[test]
fn gpx_stdout_closed_pipe_is_quiet_and_a_full_disk_fails() {
    let env = Env::new();
    let clip = env.path("2025_1224_120324_000002F.MP4");
    let points = drive(datetime!(2025-12-24 12:03:24), 20, 52.52, 13.40, 13.9, 90.0);
    std::fs::write(
        &clip,
        ClipBuilder::new(Layout::Variable)
            .points(points)
            .build()
            .to_vec(),
    )
    .unwrap();
    let clip = clip.to_str().unwrap();
    let o = with_closed_stdout(&env, &["gpx", "--stdout", clip]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "not quiet: {}", stderr(&o));

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = env
        .std_cmd()
        .args(["gpx", "--stdout", clip])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write to standard output"),
        "{}",
        stderr(&o)
    );
}

#[cfg(feature = "sim")]
#[test]
fn sim_serves_until_sigterm_and_status_reads_it() {
    use crate::{Running, signal};
    use std::time::Duration;

    let env = Env::new();
    let mut cmd = env.std_cmd();
    cmd.args(["sim", "--clips", "2", "--clip-size", "10kB"]);
    let mut sim = Running::spawn(cmd, true);
    let line = sim.expect_line("listening on http://127.0.0.1:", Duration::from_secs(20));
    let url = line.trim_start_matches("listening on ").trim().to_owned();

    let out = env.run_ok(&["status", "--address", &url]);
    assert!(out.contains("online"), "{out}");
    assert!(
        out.contains("not created yet"),
        "status creates no database: {out}"
    );

    signal(&sim.child, rustix::process::Signal::TERM);
    assert_eq!(sim.wait(Duration::from_secs(20)), Some(0));

    let o = env
        .cmd()
        .args(["sim", "--bind", "0.0.0.0"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "only 127.0.0.1");
}

#[test]
fn doctor_checks_everything_and_writes_the_archive() {
    let cam = Camera::with_clips(1, 10_000);
    let env = Env::new();
    let out = env.sync_ok(&cam, &["doctor"]);
    assert!(out.contains("all checks passed"), "{out}");
    assert!(
        out.contains("is writable") && out.contains("A329S"),
        "{out}"
    );
    assert!(out.contains("local filesystem"), "{out}");
    assert_eq!(
        std::fs::read_dir(env.archive()).unwrap().count(),
        0,
        "probe file removed"
    );

    // No address: a configuration failure.
    let o = env
        .cmd()
        .arg("doctor")
        .env("VIOFOSYNC_ARCHIVE", env.archive())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("FAIL  no camera address"),
        "{}",
        stdout(&o)
    );

    // An archive that is a file: a configuration failure.
    let file = env.path("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let o = env
        .cmd()
        .args(["doctor", "--address"])
        .arg(format!("127.0.0.1:{}", closed_port()))
        .arg("--archive")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("FAIL  archive folder") && stdout(&o).contains("not a folder"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn doctor_creates_a_missing_archive_only_with_init() {
    let cam = Camera::with_clips(1, 10_000);
    let env = Env::new();
    let archive = env.path("mnt/dashcam");
    let run = |extra: &[&str]| {
        env.cmd()
            .arg("doctor")
            .args(extra)
            .env("VIOFOSYNC_ADDRESS", &cam.url)
            .env("VIOFOSYNC_ARCHIVE", &archive)
            .env("VIOFOSYNC_MAX_USED_DISK", "100")
            .output()
            .unwrap()
    };
    let o = run(&[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{}", stderr(&o));
    assert!(
        out.contains(&format!(
            "FAIL  archive {} does not exist",
            archive.display()
        )) && out.contains("doctor --init"),
        "{out}"
    );
    assert!(!archive.exists(), "doctor creates nothing without --init");

    let o = run(&["--init"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(
        out.contains("created (--init)") && out.contains("all checks passed"),
        "{out}"
    );
    assert!(archive.is_dir());
    assert!(
        !env.default_db().exists(),
        "--init creates the archive only"
    );
}

#[cfg(feature = "sim")]
#[test]
fn demo_runs_with_no_camera_and_no_configuration() {
    let env = Env::new();
    // A user configuration pointing elsewhere must not matter to the demo.
    env.write_config("address = \"127.0.0.1:9\"\narchive = \"/nonexistent\"\n");
    let dir = env.path("demo");
    let out = ok(env
        .cmd()
        .args([
            "demo",
            "--clips",
            "3",
            "--clip-size",
            "1000000",
            "--bandwidth",
            "0",
            "--dir",
        ])
        .arg(&dir));
    // Two cycles of 3 clips: pipelined, then (after the camera "records"
    // 3 more) inline.
    let landed = crate::files(&dir.join("archive"));
    assert_eq!(
        landed.iter().filter(|f| f.ends_with(".MP4")).count(),
        6,
        "{landed:?}"
    );
    assert_eq!(
        landed.iter().filter(|f| f.ends_with(".MP4.gpx")).count(),
        6,
        "{landed:?}"
    );
    assert!(out.contains("6 clips and 6 GPS sidecars"), "{out}");
    // Two drives an hour apart: two journeys, their tracks not counted
    // as clip sidecars.
    assert!(out.contains("2 journey track(s) in "), "{out}");
    assert!(
        out.contains("with the pipelined tail") && out.contains("with the inline tail"),
        "{out}"
    );
    let db = dir.join("state").join("viofosync.db");
    assert!(db.is_file());
    assert!(
        out.contains(&format!("state database: {}", db.display())),
        "{out}"
    );
    assert!(
        out.contains("cycle #1") && out.contains("cycle #2"),
        "timings of both cycles: {out}"
    );
    assert_eq!(out.matches("download        3").count(), 2, "{out}");
    assert!(
        out.contains("last pipelined (#1) vs last inline (#2)"),
        "the comparison: {out}"
    );
    // The settle wait before the deletes is named, and taken out of the
    // comparison (issue 21).
    assert_eq!(
        out.matches("s of it waiting for the sizes to settle before deleting")
            .count(),
        2,
        "{out}"
    );
    assert!(out.contains("without the settle wait: pipelined "), "{out}");
    assert!(
        !env.default_db().exists(),
        "the user's state database is untouched"
    );

    // Its store is an ordinary one: `timings` reads it.
    let out = ok(env.cmd().args(["timings", "--state-db"]).arg(&db));
    assert!(out.contains("cycle #1"), "{out}");

    // The same folder again: refused, nothing changed.
    let before = crate::files(&dir);
    let o = env
        .cmd()
        .args(["demo", "--clips", "1", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("already holds a demo"),
        "{}",
        stderr(&o)
    );
    assert_eq!(crate::files(&dir), before);

    // One cycle only.
    let dir = env.path("demo-inline");
    let out = ok(env
        .cmd()
        .args([
            "demo",
            "--clips",
            "1",
            "--clip-size",
            "200kB",
            "--bandwidth",
            "0",
        ])
        .args(["--tail", "inline", "--dir"])
        .arg(&dir));
    assert!(out.contains("1 clips and 1 GPS sidecars"), "{out}");
    assert!(
        out.contains("inline (completed)") && !out.contains("cycle #2"),
        "{out}"
    );
}

/// Runs the binary with a stdout whose reader is already gone, the way
/// `viofosync status | head -1` ends.
fn with_closed_stdout(env: &Env, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = env.std_cmd();
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(writer);
    cmd.output().unwrap()
}

#[test]
fn a_closed_stdout_never_panics_and_the_command_exits_quietly() {
    let env = Env::new();
    for args in [
        &["status"][..],
        &["config", "--keys"],
        &["config"],
        &["config", "--path"],
        &["queue"],
        &["timings"],
    ] {
        let o = with_closed_stdout(&env, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?} is not quiet: {err}");
    }

    // A report after real work: the sync's exit code is its own.
    let cam = Camera::with_clips(1, 10_000);
    let mut cmd = env.sync_std_cmd(&cam);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.arg("sync").stdout(writer);
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let landed = crate::files(&env.archive());
    assert_eq!(
        landed.iter().filter(|f| f.ends_with(".MP4")).count(),
        1,
        "{landed:?}"
    );
    let o = with_closed_stdout(&env, &["queue"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

/// doctor applies the store's placement rule, which resolves symlinks: a
/// state database reached through another path into the archive is
/// refused, as the sync would refuse it.
#[test]
fn doctor_uses_the_stores_placement_rule() {
    let cam = Camera::with_clips(1, 10_000);
    let env = Env::new();
    let real = env.path("real-archive");
    std::fs::create_dir_all(&real).unwrap();
    let link = env.path("archive-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    for (archive, db) in [
        (&real, real.join("state.db")),
        (&link, real.join("state.db")),
        (&real, link.join("sub/state.db")),
    ] {
        let o = env
            .cmd()
            .arg("doctor")
            .env("VIOFOSYNC_ADDRESS", &cam.url)
            .env("VIOFOSYNC_ARCHIVE", archive)
            .env("VIOFOSYNC_STATE_DB", &db)
            .env("VIOFOSYNC_MAX_USED_DISK", "100")
            .output()
            .unwrap();
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {out}", db.display());
        assert!(out.contains("FAIL  state database"), "{out}");
        assert!(!db.exists(), "doctor created {}", db.display());
        // The sync refuses it the same way.
        let o = env
            .cmd()
            .arg("sync")
            .env("VIOFOSYNC_ADDRESS", &cam.url)
            .env("VIOFOSYNC_ARCHIVE", archive)
            .env("VIOFOSYNC_STATE_DB", &db)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    }
}

/// A Python-tool database that cannot be read is reported with the file
/// and the setting that turns the import off, and left as it is.
#[test]
fn doctor_reports_an_unreadable_python_tool_database() {
    let cam = Camera::with_clips(1, 10_000);
    let env = Env::new();
    let legacy = env.make_archive().join(".viofosync.db");
    std::fs::write(&legacy, b"this is not an SQLite database").unwrap();
    let o = env.sync_cmd(&cam).arg("doctor").output().unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "a warning, not a failure: {out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("WARN  the Python tool's database"))
        .unwrap_or_else(|| panic!("not reported: {out}"));
    assert!(
        line.contains(&legacy.display().to_string()) && line.contains("import_legacy = false"),
        "{line}"
    );
    assert_eq!(
        std::fs::read(&legacy).unwrap(),
        b"this is not an SQLite database",
        "left as it is"
    );
    assert!(
        !env.default_db().exists(),
        "doctor created the state database"
    );
    assert!(
        !stderr(&o).contains("legacy.db"),
        "the scratch copy is not what is reported: {}",
        stderr(&o)
    );

    // Turned off: not looked at.
    let o = env
        .sync_cmd(&cam)
        .args(["doctor", "--import-legacy=false"])
        .output()
        .unwrap();
    assert!(
        !stdout(&o).contains("Python tool's database"),
        "{}",
        stdout(&o)
    );
}
