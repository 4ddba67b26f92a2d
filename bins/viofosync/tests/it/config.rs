//! Configuration: precedence, legacy names, invalid values, `config`.

use crate::{Env, files, ok, stderr, stdout};

/// The `key = value  # source` line of `viofosync config` for `key`.
fn line_of(out: &str, key: &str) -> String {
    out.lines()
        .find(|l| l.split('=').next().is_some_and(|k| k.trim() == key))
        .unwrap_or_else(|| panic!("no line for {key} in:\n{out}"))
        .to_owned()
}

#[test]
fn config_prints_the_file_path_defaults_and_sources() {
    let env = Env::new();
    let out = env.run_ok(&["config"]);
    let file = env.config_file();
    assert!(
        out.contains(&format!("{} (not found)", file.display())),
        "{out}"
    );
    let g = line_of(&out, "grouping");
    assert!(g.contains("none") && g.contains("# default"), "{g}");
    assert!(line_of(&out, "address").contains("(unset)"));

    let o = env.cmd().args(["config", "--path"]).output().unwrap();
    assert_eq!(stdout(&o).trim(), file.display().to_string());

    let o = env.cmd().args(["config", "--keys"]).output().unwrap();
    let keys = stdout(&o);
    for k in [
        "VIOFOSYNC_KEEP, KEEP",
        "VIOFOSYNC_GPS, GPS_EXTRACT",
        "max_used_disk",
    ] {
        assert!(keys.contains(k), "{k} missing from --keys");
    }
}

#[test]
fn precedence_is_flag_over_env_over_legacy_env_over_file_over_default() {
    let env = Env::new();
    env.write_config(
        "grouping = \"daily\"\nkeep = \"30d\"\npriority = \"newest\"\ndownloads = 2\n\
         timeout = 20\nchannels = [\"front\", \"rear\"]\n",
    );
    let run = |envs: &[(&str, &str)], flags: &[&str]| {
        let mut c = env.cmd();
        c.arg("config").args(flags);
        for (k, v) in envs {
            c.env(k, v);
        }
        ok(&mut c)
    };
    let file = env.config_file().display().to_string();

    let out = run(&[], &[]);
    let g = line_of(&out, "grouping");
    assert!(
        g.contains("daily") && g.contains(&format!("# file {file}")),
        "{g}"
    );
    assert!(line_of(&out, "downloads").contains("= 2"));
    assert!(line_of(&out, "channels").contains("front,rear"));
    assert!(line_of(&out, "tail").contains("# default"));

    let out = run(&[("GROUPING", "yearly")], &[]);
    let g = line_of(&out, "grouping");
    assert!(
        g.contains("yearly") && g.contains("env GROUPING (Python tool name)"),
        "{g}"
    );

    let out = run(
        &[("GROUPING", "yearly"), ("VIOFOSYNC_GROUPING", "weekly")],
        &[],
    );
    let g = line_of(&out, "grouping");
    assert!(
        g.contains("weekly") && g.contains("env VIOFOSYNC_GROUPING"),
        "{g}"
    );

    let out = run(
        &[("GROUPING", "yearly"), ("VIOFOSYNC_GROUPING", "weekly")],
        &["--grouping", "monthly"],
    );
    let g = line_of(&out, "grouping");
    assert!(
        g.contains("monthly") && g.contains("flag --grouping"),
        "{g}"
    );

    // The Python tool's names, each mapped.
    let out = run(
        &[
            ("ADDRESS", "192.168.1.254"),
            ("KEEP", "2w"),
            ("PRIORITY", "rdate"),
            ("MAX_USED_DISK", "80"),
            ("TIMEOUT", "10"),
            ("GPS_EXTRACT", "false"),
            ("DRY_RUN", "true"),
        ],
        &[],
    );
    for (key, want, src) in [
        ("address", "http://192.168.1.254", "env ADDRESS"),
        ("camera_id", "192.168.1.254", "default"),
        ("keep", "2w", "env KEEP"),
        ("priority", "newest", "env PRIORITY"),
        ("max_used_disk", "80", "env MAX_USED_DISK"),
        ("timeout", "10s", "env TIMEOUT"),
        ("gps", "false", "env GPS_EXTRACT"),
        ("dry_run", "true", "env DRY_RUN"),
    ] {
        let l = line_of(&out, key);
        assert!(l.contains(want) && l.contains(src), "{key}: {l}");
    }
    let out = run(&[("PRIORITY", "date")], &[]);
    assert!(line_of(&out, "priority").contains("oldest"));

    // Boolean flags: bare and =false.
    let out = run(
        &[("GPS_EXTRACT", "false")],
        &["--gps", "--delete-after-download=false"],
    );
    assert!(line_of(&out, "gps").contains("true"));
    assert!(line_of(&out, "delete_after_download").contains("false"));

    // An explicit file replaces the default one.
    let other = env.path("other.toml");
    std::fs::write(&other, "grouping = \"monthly\"\n").unwrap();
    let out = run(&[], &["--config", other.to_str().unwrap()]);
    assert!(line_of(&out, "grouping").contains("monthly"));
    assert!(line_of(&out, "downloads").contains("# default"));
    let out = run(&[("VIOFOSYNC_CONFIG", other.to_str().unwrap())], &[]);
    assert!(line_of(&out, "grouping").contains("monthly"));
}

/// Each class of invalid value: exit 2, a message naming key, value and
/// what is allowed.
#[test]
fn invalid_values_are_refused_with_key_value_and_allowed() {
    let env = Env::new();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[("VIOFOSYNC_GROUPING", "hourly")],
            &[],
            "grouping",
            "hourly",
        ),
        (&[("KEEP", "30x")], &[], "keep", "30x"),
        (&[], &["--downloads", "4"], "downloads", "4"),
        (&[("MAX_USED_DISK", "150")], &[], "max_used_disk", "150"),
        (
            &[("VIOFOSYNC_ADDRESS", "ftp://camera")],
            &[],
            "address",
            "ftp://camera",
        ),
        (&[("DRY_RUN", "perhaps")], &[], "dry_run", "perhaps"),
        (&[("PRIORITY", "random")], &[], "priority", "random"),
        (&[], &["--channels", "front,side"], "channels", "front,side"),
        (&[], &["--utc-offset", "+25:00"], "utc_offset", "+25:00"),
        (&[], &["--camera-utc-offset", "8"], "camera_utc_offset", "8"),
        (
            &[("VIOFOSYNC_DELETE_SETTLE", "-1s")],
            &[],
            "delete_settle",
            "-1s",
        ),
        (&[("TIMEOUT", "0")], &[], "timeout", "0"),
        (&[], &["--tail", "sideways"], "tail", "sideways"),
        (&[], &["--log-format", "xml"], "log_format", "xml"),
    ];
    for (envs, flags, key, value) in cases {
        let mut c = env.cmd();
        c.arg("config").args(*flags);
        for (k, v) in *envs {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{key}: {err}");
        assert!(
            err.contains(&format!("`{key}`"))
                && err.contains(&format!("{value:?}"))
                && err.contains("allowed:"),
            "{key}: {err}"
        );
    }

    // The file: a bad value, an unknown key, broken TOML, a missing explicit file.
    env.write_config("keep = \"forever-ish\"\n");
    let o = env.cmd().arg("config").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`keep`") && stderr(&o).contains("config.toml"),
        "{}",
        stderr(&o)
    );
    env.write_config("kepe = \"30d\"\n");
    let o = env.cmd().arg("config").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown key `kepe`"), "{}", stderr(&o));
    // A near miss is named, at the top level and in a [[camera]] table
    // (issue 21); a name near none lists the keys.
    let file = env.config_file().display().to_string();
    for (name, text) in [
        ("top", "adress = \"192.168.1.254\"\n"),
        (
            "camera",
            "archive = \"/tmp\"\n[[camera]]\nid = \"a\"\nadress = \"127.0.0.1:2\"\n",
        ),
    ] {
        env.write_config(text);
        let o = env.cmd().arg("config").output().unwrap();
        assert_eq!(o.status.code(), Some(2));
        insta::assert_snapshot!(
            format!("config_typo_{name}"),
            stderr(&o).replace(&file, "[FILE]")
        );
    }
    env.write_config("colour = \"red\"\n");
    let o = env.cmd().arg("config").output().unwrap();
    assert!(
        stderr(&o).contains("known keys: address,"),
        "{}",
        stderr(&o)
    );
    env.write_config("keep = \n");
    let o = env.cmd().arg("config").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not valid TOML"), "{}", stderr(&o));
    let o = env
        .cmd()
        .args(["config", "--config", "/nonexistent/viofosync.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));

    // A usage error is a configuration error too.
    let o = env.cmd().args(["sync", "--no-such-flag"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sync_without_address_or_archive_is_a_configuration_error() {
    let env = Env::new();
    let o = env.cmd().arg("sync").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no camera address"), "{}", stderr(&o));
    let o = env
        .cmd()
        .args(["sync", "--address", "127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no archive folder"), "{}", stderr(&o));
    assert!(
        !env.default_db().exists(),
        "nothing created on a configuration error"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let env = Env::new();
    let out = env.run_ok(&["--help"]);
    for want in [
        "130",
        "camera unreachable",
        "configuration error",
        "disk full",
        "doctor",
        "timings",
    ] {
        assert!(out.contains(want), "--help lacks {want}:\n{out}");
    }
    // `demo` and `sim` come with the `sim` feature (on by default) and only
    // with it.
    for command in ["demo", "sim"] {
        let listed = out
            .lines()
            .any(|l| l.split_whitespace().next() == Some(command));
        assert_eq!(listed, cfg!(feature = "sim"), "{command}:\n{out}");
    }
}

/// Built without the `sim` feature, `demo` and `sim` are unknown commands
/// (a usage error, exit 2) and nothing else changes.
#[cfg(not(feature = "sim"))]
#[test]
fn without_the_sim_feature_demo_and_sim_are_usage_errors() {
    let env = Env::new();
    for command in ["demo", "sim"] {
        let o = env.cmd().arg(command).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("unrecognized subcommand"),
            "{}",
            stderr(&o)
        );
    }
    env.run_ok(&["config", "--path"]);
}

/// The settings table is the one declaration: every key `config --keys`
/// lists has a flag on the settings commands (with its environment names
/// in the help), a docs row, and is accepted in the file.
#[test]
fn every_key_has_a_flag_a_docs_row_and_a_file_entry() {
    let env = Env::new();
    let listing = env.run_ok(&["config", "--keys"]);
    let keys: Vec<&str> = listing
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .collect();
    assert!(keys.len() > 30, "{listing}");
    // `config` takes every key (it shows each value and its source);
    // other commands only those they use (help::a_setting_a_command_...).
    let help = env.run_ok(&["config", "--help"]);
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CONFIGURATION.md"),
    )
    .unwrap();
    for key in &keys {
        let flag = format!("--{}", key.replace('_', "-"));
        let env_name = format!("VIOFOSYNC_{}", key.to_ascii_uppercase());
        assert!(
            help.contains(&flag) && help.contains(&env_name),
            "{key}: {flag} or {env_name} missing from config --help:\n{help}"
        );
        assert!(
            docs.contains(&format!("| `{key}` |")),
            "{key} not in the docs"
        );
    }
    // `--log-format` is global: it works on commands without settings.
    env.run_ok(&["gpx", "--log-format", "json", "--help"]);

    // Every key is a file key: a file setting each one to its default
    // (as --keys shows it) loads.
    let mut file = String::new();
    let mut key = "";
    for l in listing.lines() {
        if !l.starts_with(' ') {
            key = l;
        } else if let Some(d) = l.trim().strip_prefix("default: ")
            && !d.starts_with('(')
            && !d.starts_with('$')
        {
            file.push_str(&format!("{key} = {d:?}\n"));
        }
    }
    env.write_config(&file);
    let out = env.run_ok(&["config"]);
    assert!(line_of(&out, "gps").contains("# file"), "{file}\n{out}");
}

#[test]
fn flag_aliases_and_hyphen_values() {
    let env = Env::new();
    let out = env.run_ok(&[
        "config",
        "--destination",
        "/srv/x",
        "--utc-offset",
        "-05:30",
        "--camera-utc-offset",
        "-08:00",
    ]);
    assert!(line_of(&out, "archive").contains("/srv/x"), "{out}");
    let l = line_of(&out, "utc_offset");
    assert!(
        l.contains("-05:30") && l.contains("flag --utc-offset"),
        "{l}"
    );
    let l = line_of(&out, "camera_utc_offset");
    assert!(
        l.contains("-08:00") && l.contains("flag --camera-utc-offset"),
        "{l}"
    );
}

/// `config` shows the camera's clock and the delete settle time with
/// their sources, defaults from the pipeline (UTC, 5 s).
#[test]
fn config_shows_the_camera_clock_and_the_delete_settle_time() {
    let env = Env::new();
    let out = env.run_ok(&["config"]);
    let l = line_of(&out, "camera_utc_offset");
    assert!(l.contains("= +00:00") && l.contains("# default"), "{l}");
    let l = line_of(&out, "delete_settle");
    assert!(l.contains("= 5s") && l.contains("# default"), "{l}");
    env.write_config("camera_utc_offset = \"+13:00\"\n");
    let out = ok(env.cmd().arg("config").env("VIOFOSYNC_DELETE_SETTLE", "0"));
    let l = line_of(&out, "camera_utc_offset");
    assert!(l.contains("= +13:00") && l.contains("# file"), "{l}");
    let l = line_of(&out, "delete_settle");
    assert!(
        l.contains("= 0ms") && l.contains("# env VIOFOSYNC_DELETE_SETTLE"),
        "{l}"
    );
}

/// The camera's clock reaches the pipeline: a camera at UTC-8 recorded a
/// clip 20 hours ago by its own clock. Under a one-day keep period a dry
/// run told the camera's offset would download it; told nothing (UTC), the
/// same clip looks 28 hours old and is skipped as older than the keep.
#[test]
fn the_camera_utc_offset_decides_the_keep_period_of_a_dry_run() {
    use time::macros::{format_description, offset};
    use viofo_sim::{ClipDef, Folder, SimConfig};

    let now = time::OffsetDateTime::now_utc().to_offset(offset!(-8));
    let recorded = now - time::Duration::hours(20);
    let local = time::PrimitiveDateTime::new(recorded.date(), recorded.time());
    let stamp = local
        .format(format_description!(
            "[year]_[month][day]_[hour][minute][second]"
        ))
        .unwrap();
    let name = format!("{stamp}_000001F.MP4");
    let cam = crate::Camera::start(
        SimConfig::default()
            .with_clip(ClipDef::synthetic(&name, Folder::Movie, 20_000).start_time(local)),
    );
    let env = Env::new();
    let dry_run = |extra: &[&str]| {
        ok(env
            .sync_cmd(&cam)
            .args(["sync", "--dry-run", "--keep", "1d"])
            .args(extra))
    };
    let out = dry_run(&["--camera-utc-offset", "-08:00"]);
    assert!(out.contains("would download 1 clips"), "{out}");
    assert!(out.contains(&format!("download  {name}")), "{out}");
    let out = dry_run(&[]);
    assert!(out.contains("would download 0 clips"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(&name) && l.contains("older than the keep period")),
        "{out}"
    );
    assert!(
        cam.sim().downloaded().is_empty(),
        "a dry run downloads nothing"
    );
}

/// An empty port or port 0 is a configuration error (exit 2) from every
/// source and on every command that reads the address, checked by the
/// client's own rules; nothing is created and nothing is contacted.
#[test]
fn an_empty_port_or_port_zero_is_a_configuration_error() {
    let env = Env::new();
    let archive = env.path("archive");
    std::fs::create_dir_all(&archive).unwrap();
    for (addr, why) in [
        ("127.0.0.1:", "empty port"),
        ("http://127.0.0.1:", "empty port"),
        ("127.0.0.1:/", "empty port"),
        ("127.0.0.1:0", "port 0"),
        ("http://127.0.0.1:0", "port 0"),
    ] {
        for sub in ["sync", "watch", "status", "doctor", "config"] {
            let o = env
                .cmd()
                .args([sub, "--address", addr, "--archive"])
                .arg(&archive)
                .output()
                .unwrap();
            let err = stderr(&o);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{sub} {addr}: {}{err}",
                stdout(&o)
            );
            assert!(
                err.contains("`address`") && err.contains(why) && err.contains(addr),
                "{sub} {addr}: {err}"
            );
        }
        let o = env
            .cmd()
            .arg("sync")
            .env("ADDRESS", addr)
            .env("VIOFOSYNC_ARCHIVE", &archive)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "env ADDRESS={addr}");
        assert!(stderr(&o).contains("env ADDRESS"), "{}", stderr(&o));
    }
    env.write_config("address = \"127.0.0.1:\"\n");
    let o = env.cmd().arg("status").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("empty port") && stderr(&o).contains("config.toml"),
        "{}",
        stderr(&o)
    );
    assert!(!env.default_db().exists());
    assert!(files(&archive).is_empty());
}
