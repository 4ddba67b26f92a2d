//! Unit tests of the configuration: precedence, the Python tool's names,
//! refusals, the keys table's consistency and the generated docs table.

use std::path::Path;
use std::time::Duration;

use viofo_client::ClientConfig;
use viofo_pipeline::{Grouping, SyncConfig};
use viofo_store::Policy;

use viofo_config::keys::{CONNECTIONS, KEYS};
use viofo_config::parse::{
    Unit, clip_size_arg, duration_arg, parse_duration, parse_size, show_duration, show_size,
};
use viofo_config::*;

fn load_with(
    env: &[(&str, &str)],
    file: Option<&str>,
    flags: &[(&'static str, &str)],
) -> Result<Loaded, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    if let Some(text) = file {
        std::fs::write(&path, text).unwrap();
    }
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let get = move |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let flags: Vec<(&'static str, String)> =
        flags.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    load(file.map(|_| path.as_path()), &get, &flags)
}

#[test]
fn precedence_flag_env_legacy_file_default() {
    let file = Some("grouping = \"daily\"\nkeep = \"30d\"\npriority = \"newest\"\ndownloads = 2\n");
    let l = load_with(
        &[
            ("VIOFOSYNC_GROUPING", "weekly"),
            ("GROUPING", "yearly"),
            ("KEEP", "2w"),
        ],
        file,
        &[("grouping", "monthly")],
    )
    .unwrap();
    assert_eq!(l.settings.sync.grouping, Grouping::Monthly);
    assert_eq!(l.source("grouping"), Source::Flag("grouping".into()));
    assert_eq!(
        l.settings.sync.retention.keep,
        Some(Duration::from_secs(14 * 86_400))
    );
    assert_eq!(l.source("keep"), Source::LegacyEnv("KEEP"));
    assert_eq!(l.settings.sync.policy, Policy::NewestFirst);
    assert!(matches!(l.source("priority"), Source::File(_)));
    assert_eq!(l.settings.sync.downloads, 2);
    assert_eq!(l.source("tail"), Source::Default);
    let l = load_with(
        &[("VIOFOSYNC_GROUPING", "weekly"), ("GROUPING", "yearly")],
        file,
        &[],
    )
    .unwrap();
    assert_eq!(l.settings.sync.grouping, Grouping::Weekly);
    let l = load_with(&[("GROUPING", "yearly")], file, &[]).unwrap();
    assert_eq!(l.settings.sync.grouping, Grouping::Yearly);
}

#[test]
fn legacy_values_map() {
    let l = load_with(
        &[
            ("PRIORITY", "rdate"),
            ("MAX_USED_DISK", "80"),
            ("TIMEOUT", "10.5"),
            ("GPS_EXTRACT", "false"),
            ("DRY_RUN", "1"),
            ("ADDRESS", "192.168.1.254"),
        ],
        None,
        &[],
    )
    .unwrap();
    let s = &l.settings;
    assert_eq!(s.sync.policy, Policy::NewestFirst);
    assert_eq!(s.sync.max_used_disk, Some(80.0));
    assert_eq!(s.client.idle_timeout, Duration::from_millis(10_500));
    assert!(!s.gps && s.dry_run);
    assert!(s.sync_config("c", Path::new("/a")).gps.is_none());
    assert_eq!(s.address.as_deref(), Some("http://192.168.1.254"));
    assert_eq!(l.camera_id().as_deref(), Some("192.168.1.254"));
    let l = load_with(&[("PRIORITY", "date")], None, &[]).unwrap();
    assert_eq!(l.settings.sync.policy, Policy::OldestFirst);
}

#[test]
fn invalid_values_name_key_value_and_allowed() {
    for (env, key) in [
        (("VIOFOSYNC_GROUPING", "hourly"), "grouping"),
        (("KEEP", "30x"), "keep"),
        (("VIOFOSYNC_DOWNLOADS", "4"), "downloads"),
        (("VIOFOSYNC_MAX_CONNECTIONS", "0"), "max_connections"),
        (("MAX_USED_DISK", "120"), "max_used_disk"),
        (("VIOFOSYNC_ADDRESS", "ftp://cam"), "address"),
        (("VIOFOSYNC_ADDRESS", "127.0.0.1:"), "address"),
        (("VIOFOSYNC_ADDRESS", "127.0.0.1:0"), "address"),
        (("VIOFOSYNC_GPS", "maybe"), "gps"),
        (("VIOFOSYNC_CREATE_ARCHIVE", "maybe"), "create_archive"),
        (("PRIORITY", "random"), "priority"),
        (("VIOFOSYNC_CHANNELS", "front,side"), "channels"),
        (("VIOFOSYNC_UTC_OFFSET", "2h"), "utc_offset"),
        (("VIOFOSYNC_CAMERA_UTC_OFFSET", "8"), "camera_utc_offset"),
        (("VIOFOSYNC_DELETE_SETTLE", "soon"), "delete_settle"),
        (("VIOFOSYNC_INTERVAL", "0"), "interval"),
    ] {
        let e = load_with(&[env], None, &[]).unwrap_err().to_string();
        assert!(
            e.contains(&format!("`{key}`")) && e.contains(env.1) && e.contains("allowed"),
            "{e}"
        );
    }
    let e = load_with(&[], Some("bogus = 1\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown key `bogus`"), "{e}");
    let e = load_with(&[], Some("grouping = [1]\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("grouping"), "{e}");
}

/// Defaults and limits are the crates' own, not copies.
#[test]
fn defaults_come_from_the_crates_config_types() {
    let d = Settings::default();
    let pipeline = SyncConfig::new("c", "/a");
    let client = ClientConfig::new("http://127.0.0.1");
    assert_eq!(d.sync.max_used_disk, pipeline.max_used_disk);
    assert_eq!(d.sync.downloads, pipeline.downloads);
    assert_eq!(d.sync.relist_every, pipeline.relist_every);
    assert_eq!(d.sync.retention, pipeline.retention);
    assert_eq!(d.sync.delete_settle, pipeline.delete_settle);
    assert_eq!(d.sync.camera_clock, pipeline.camera_clock);
    assert_eq!(d.gps, pipeline.gps.is_some());
    assert_eq!(d.client.max_connections, client.max_connections);
    assert_eq!(d.client.idle_timeout, client.idle_timeout);
    assert_eq!(d.client.connect_timeout, client.connect_timeout);
    assert_eq!(CONNECTIONS.1, viofo_client::MAX_CONNECTIONS);
    // The conversions keep every value and add only camera id and archive.
    let s = d.sync_config("cam", Path::new("/archive"));
    assert_eq!(
        (s.camera_id.as_str(), s.archive.as_path()),
        ("cam", Path::new("/archive"))
    );
    s.validate().unwrap();
    d.client_config("http://127.0.0.1:8080").validate().unwrap();
    // Accepted at the top of the range, refused above it, by the
    // pipeline and the client as much as here.
    let top = CONNECTIONS.1.to_string();
    let l = load_with(
        &[
            ("VIOFOSYNC_DOWNLOADS", top.as_str()),
            ("VIOFOSYNC_MAX_CONNECTIONS", top.as_str()),
        ],
        None,
        &[],
    )
    .unwrap();
    l.settings
        .sync_config("c", Path::new("/a"))
        .validate()
        .unwrap();
    l.settings
        .client_config("http://127.0.0.1:1")
        .validate()
        .unwrap();
    let over = (CONNECTIONS.1 + 1).to_string();
    assert!(load_with(&[("VIOFOSYNC_DOWNLOADS", over.as_str())], None, &[]).is_err());
}

/// The camera's clock and the delete settle time reach the pipeline's
/// settings, from the file and the environment alike; 0 s is allowed.
#[test]
fn camera_clock_and_delete_settle_reach_the_pipeline() {
    let l = load_with(
        &[("VIOFOSYNC_DELETE_SETTLE", "0")],
        Some("camera_utc_offset = \"-08:00\"\n"),
        &[],
    )
    .unwrap();
    let c = l.settings.sync_config("c", Path::new("/a"));
    assert_eq!(
        c.camera_clock,
        viofo_pipeline::CameraClock::new(time::UtcOffset::from_hms(-8, 0, 0).unwrap())
    );
    assert_eq!(c.delete_settle, Duration::ZERO);
    c.validate().unwrap();
    let l = load_with(
        &[],
        None,
        &[("delete_settle", "12s"), ("camera_utc_offset", "+13:00")],
    )
    .unwrap();
    let c = l.settings.sync_config("c", Path::new("/a"));
    assert_eq!(c.delete_settle, Duration::from_secs(12));
    assert_eq!(c.camera_clock.offset().whole_hours(), 13);
    // The GPS offset is another setting: it leaves the camera's clock alone.
    let l = load_with(&[("VIOFOSYNC_UTC_OFFSET", "+02:00")], None, &[]).unwrap();
    assert_eq!(
        l.settings.sync_config("c", Path::new("/a")).camera_clock,
        viofo_pipeline::CameraClock::default()
    );
}

/// Every key's shown default reads back as itself, its environment name
/// follows the pattern, and no name is declared twice.
#[test]
fn every_key_round_trips_and_is_declared_once() {
    let d = Settings::default();
    let mut names = std::collections::HashSet::new();
    for k in KEYS {
        assert!(names.insert(k.name), "{} declared twice", k.name);
        assert_eq!(
            k.env,
            format!("VIOFOSYNC_{}", k.name.to_ascii_uppercase()),
            "{}",
            k.name
        );
        let shown = (k.show)(&d);
        if shown.starts_with('(') {
            continue;
        }
        let mut s = Settings::default();
        (k.apply)(&mut s, &shown).unwrap_or_else(|e| panic!("{}: {shown:?}: {e}", k.name));
        assert_eq!((k.show)(&s), shown, "{}", k.name);
    }
}

#[test]
fn durations_show_round_trip() {
    for s in ["30d", "2w", "12h", "90m", "45s", "500ms"] {
        let d = parse_duration(s, Unit::Days).unwrap();
        assert_eq!(
            parse_duration(&show_duration(d), Unit::Days).unwrap(),
            d,
            "{s}"
        );
    }
    assert_eq!(
        parse_duration("3", Unit::Days).unwrap(),
        Duration::from_secs(3 * 86_400)
    );
    assert_eq!(
        parse_duration("3", Unit::Seconds).unwrap(),
        Duration::from_secs(3)
    );
    assert_eq!(duration_arg("5ms"), Ok(Duration::from_millis(5)));
    assert_eq!(duration_arg("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(duration_arg("1m"), Ok(Duration::from_secs(60)));
    assert_eq!(duration_arg("0"), Ok(Duration::ZERO));
    assert!(duration_arg("soon").is_err());
}

#[test]
fn sizes_parse() {
    assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
    assert_eq!(parse_size("300MB"), Ok(300_000_000));
    assert_eq!(parse_size("1000000"), Ok(1_000_000));
    assert_eq!(parse_size("2GiB"), Ok(2 << 30));
    assert_eq!(parse_size("1.5k"), Ok(1500));
    assert_eq!(parse_size(" 4 mb "), Ok(4_000_000));
    assert!(parse_size("12 parsecs").is_err());
    assert!(parse_size("-1").is_err());
    assert!(parse_size("1e30").is_err());
    assert_eq!(parse_size("500GB"), Ok(500_000_000_000));
    assert_eq!(parse_size("2TiB"), Ok(2 << 40));
    assert_eq!(parse_size("1.5tb"), Ok(1_500_000_000_000));
    for n in [
        2 << 40,
        500_000_000_000,
        1_500_000_000_000,
        3 << 20,
        1_234_567,
    ] {
        assert_eq!(parse_size(&show_size(n)), Ok(n), "{}", show_size(n));
    }
    assert_eq!(show_size(2 << 40), "2TiB");
    assert_eq!(show_size(500_000_000_000), "500GB");
    assert!(
        clip_size_arg("1TB").is_err(),
        "above the client's clip limit"
    );
}

const START: &str = "<!-- settings table: generated from crates/viofo-config/src/keys.rs; \
                     refresh with VIOFOSYNC_BLESS_DOCS=1 cargo test -p viofo-config configuration_md -->";
const END: &str = "<!-- end of the generated settings table -->";

/// docs/CONFIGURATION.md's table is the keys table; with
/// `VIOFOSYNC_BLESS_DOCS=1` the test rewrites it instead.
#[test]
fn configuration_md_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CONFIGURATION.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = text
        .split_once(START)
        .expect("docs/CONFIGURATION.md lacks the table's start marker");
    let (_, after) = rest
        .split_once(END)
        .expect("docs/CONFIGURATION.md lacks the table's end marker");
    let want = format!("{before}{START}\n{}{END}{after}", docs_table());
    if std::env::var_os("VIOFOSYNC_BLESS_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        text == want,
        "docs/CONFIGURATION.md's settings table is stale; regenerate it with \
         VIOFOSYNC_BLESS_DOCS=1 cargo test -p viofo-config configuration_md"
    );
}

/// `quota` takes SI and binary sizes, `none` switches it off, zero is
/// refused; `delete_archived` is a boolean (issue 14).
#[test]
fn quota_and_delete_archived() {
    let l = load_with(&[("VIOFOSYNC_QUOTA", "2TiB")], None, &[]).unwrap();
    assert_eq!(l.settings.sync.retention.quota, Some(2 << 40));
    let l = load_with(&[], Some("quota = \"500GB\"\n"), &[]).unwrap();
    assert_eq!(l.settings.sync.retention.quota, Some(500_000_000_000));
    assert!(l.render().contains("quota"), "{}", l.render());
    let l = load_with(&[], Some("quota = \"500GB\"\n"), &[("quota", "none")]).unwrap();
    assert_eq!(l.settings.sync.retention.quota, None);
    let e = load_with(&[("VIOFOSYNC_QUOTA", "lots")], None, &[]).unwrap_err();
    assert!(e.0.contains("`quota`"), "{e}");
    assert!(load_with(&[("VIOFOSYNC_QUOTA", "0B")], None, &[]).is_err());
    let l = load_with(&[], None, &[("delete_archived", "true")]).unwrap();
    assert!(l.settings.sync.delete_archived);
    assert!(!Settings::default().sync.delete_archived);
}

/// `triage` reaches the pipeline; with GPS off the pipeline refuses it
/// (a configuration error, exit 2), never a silent no-op.
#[test]
fn triage_reaches_the_pipeline_and_needs_gps() {
    let l = load_with(&[("VIOFOSYNC_TRIAGE", "skeleton:5s")], None, &[]).unwrap();
    let c = l.settings.sync_config("c", Path::new("/a"));
    assert_eq!(
        c.triage,
        Some(viofo_gps::TriageMode::Skeleton {
            every: Duration::from_secs(5)
        })
    );
    c.validate().unwrap();
    let l = load_with(&[], Some("triage = \"full\"\ngps = false\n"), &[]).unwrap();
    let c = l.settings.sync_config("c", Path::new("/a"));
    assert!(c.validate().unwrap_err().is_config());
    let e = load_with(&[("VIOFOSYNC_TRIAGE", "sometimes")], None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`triage`") && e.contains("allowed"), "{e}");
}
