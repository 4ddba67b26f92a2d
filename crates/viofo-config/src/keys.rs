//! The settings table: every setting declared once, as one [`Key`] row
//! from which its flag, environment names, TOML key, `config --keys` entry
//! and docs/CONFIGURATION.md row are all made.

use viofo_client::ListSource;
use viofo_pipeline::{CameraClock, CycleMode, Grouping, OnInterrupt};

use super::LogFormat;
use super::parse::{
    Unit, camera_id_of, is_none_word, parse_address, parse_bool, parse_channels, parse_duration,
    parse_listen, parse_path, parse_percent, parse_positive_duration, parse_priority, parse_range,
    parse_size, show_channels, show_duration, show_priority, show_size, show_utc_offset,
};

pub use super::row::{Accepts, BASE, CONNECTIONS, EVERY, Key, SYNCING, WATCHING};

fn none_or<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map_or_else(|| "(unset)".to_owned(), f)
}

fn optional_percent(v: &str) -> Result<Option<f64>, String> {
    if is_none_word(v) {
        Ok(None)
    } else {
        parse_percent(v).map(Some)
    }
}

/// Every setting, in display order.
pub static KEYS: &[Key] = &[
    Key {
        name: "address",
        env: "VIOFOSYNC_ADDRESS",
        legacy: Some("ADDRESS"),
        accepts: Accepts::Text(
            "the camera's address: host, host:port or http://host[:port] (no default)",
        ),
        help: "where the camera answers, e.g. 192.168.1.254 on its Wi-Fi",
        apply: |s, v| {
            s.address = Some(parse_address(v)?);
            Ok(())
        },
        show: |s| none_or(&s.address, Clone::clone),
        commands: &[
            "sync", "watch", "status", "import", "doctor", "config", "trips",
        ],
        ..BASE
    },
    super::camera::FALLBACK_ADDRESSES,
    Key {
        name: "camera_id",
        env: "VIOFOSYNC_CAMERA_ID",
        accepts: Accepts::Text("a non-empty name"),
        help: "the camera's identity in the state database (default: the address's host[:port])",
        apply: |s, v| {
            if v.trim().is_empty() {
                return Err("must not be empty".into());
            }
            s.camera_id = Some(v.trim().to_owned());
            Ok(())
        },
        show: |s| match (&s.camera_id, &s.address) {
            (Some(id), _) => id.clone(),
            (None, Some(a)) => format!("{} (from address)", camera_id_of(a)),
            (None, None) => "(unset)".to_owned(),
        },
        commands: &[
            "sync", "watch", "status", "import", "doctor", "config", "trips",
        ],
        ..BASE
    },
    Key {
        name: "archive",
        env: "VIOFOSYNC_ARCHIVE",
        accepts: Accepts::Text("a folder path, or s3://bucket/prefix (no default)"),
        help: "the folder recordings are downloaded into; it must exist (see create_archive); \
               or an S3-compatible bucket (see s3_endpoint)",
        alias: Some("destination"),
        apply: |s, v| {
            if viofo_pipeline::archive::ObjectConfig::is_object_url(v.trim()) {
                s.s3.url = v.trim().to_owned();
                s.s3.bucket_and_prefix()?;
                s.archive = None;
            } else {
                s.archive = Some(parse_path(v)?);
                s.s3.url.clear();
            }
            Ok(())
        },
        show: |s| {
            if s.s3.url.is_empty() {
                none_or(&s.archive, |p| p.display().to_string())
            } else {
                s.s3.url.clone()
            }
        },
        commands: EVERY,
        ..BASE
    },
    Key {
        name: "create_archive",
        env: "VIOFOSYNC_CREATE_ARCHIVE",
        help: "create the archive folder when it does not exist (otherwise a missing archive, \
               such as an unmounted disk, stops the sync with exit code 2)",
        apply: |s, v| {
            s.create_archive = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.create_archive.to_string(),
        ..BASE
    },
    Key {
        name: "state_db",
        env: "VIOFOSYNC_STATE_DB",
        accepts: Accepts::Text("a file path on local disk"),
        help: "the state database (default: $XDG_STATE_HOME/viofosync/viofosync.db)",
        doc_default: Some("$XDG_STATE_HOME/viofosync/viofosync.db"),
        apply: |s, v| {
            s.state_db = Some(parse_path(v)?);
            Ok(())
        },
        show: |s| match &s.state_db {
            Some(p) => p.display().to_string(),
            None => viofo_store::default_db_path().map_or_else(
                || "(no default on this system)".to_owned(),
                |p| p.display().to_string(),
            ),
        },
        commands: EVERY,
        ..BASE
    },
    Key {
        name: "allow_network_fs",
        env: "VIOFOSYNC_ALLOW_NETWORK_FS",
        help: "open the state database even on a network filesystem",
        apply: |s, v| {
            s.allow_network_fs = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.allow_network_fs.to_string(),
        commands: EVERY,
        ..BASE
    },
    Key {
        name: "import_legacy",
        env: "VIOFOSYNC_IMPORT_LEGACY",
        help: "import the Python tool's database (<archive>/.viofosync.db or /config/viofosync.db) on first run",
        apply: |s, v| {
            s.import_legacy = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.import_legacy.to_string(),
        ..BASE
    },
    Key {
        name: "grouping",
        env: "VIOFOSYNC_GROUPING",
        legacy: Some("GROUPING"),
        accepts: Accepts::Text("none, daily, weekly, monthly or yearly"),
        help: "folders inside the archive",
        apply: |s, v| {
            s.sync.grouping = v
                .parse::<Grouping>()
                .map_err(|_| "not a grouping".to_owned())?;
            Ok(())
        },
        show: |s| s.sync.grouping.to_string(),
        ..BASE
    },
    Key {
        name: "priority",
        env: "VIOFOSYNC_PRIORITY",
        legacy: Some("PRIORITY"),
        accepts: Accepts::Text(
            "oldest (or date), newest (or rdate), locked (or type), recent:HOURS, journeys",
        ),
        help: "which clip is downloaded first",
        apply: |s, v| {
            s.sync.policy = parse_priority(v)?;
            Ok(())
        },
        show: |s| show_priority(s.sync.policy),
        ..BASE
    },
    Key {
        name: "keep",
        env: "VIOFOSYNC_KEEP",
        legacy: Some("KEEP"),
        accepts: Accepts::Text(
            "a duration such as 30d, 2w, 12h (a bare number is days), or 0/none to keep everything",
        ),
        help: "remove archived clips recorded longer ago than this",
        apply: |s, v| {
            s.sync.retention.keep = if is_none_word(v) {
                None
            } else {
                Some(parse_duration(v, Unit::Days)?)
            };
            Ok(())
        },
        show: |s| none_or(&s.sync.retention.keep, |d| show_duration(*d)),
        ..BASE
    },
    Key {
        name: "camera_utc_offset",
        env: "VIOFOSYNC_CAMERA_UTC_OFFSET",
        accepts: Accepts::Text("±HH:MM, e.g. -08:00"),
        help: "the UTC offset the camera's clock is set to (the time in its clip names), \
               for priority recent:HOURS, keep and retention",
        hyphen_values: true,
        apply: |s, v| {
            s.sync.camera_clock = CameraClock::new(super::parse::parse_utc_offset(v)?);
            Ok(())
        },
        show: |s| show_utc_offset(s.sync.camera_clock.offset()),
        commands: &[
            "sync", "watch", "status", "import", "doctor", "config", "trips",
        ],
        ..BASE
    },
    Key {
        name: "max_used_disk",
        env: "VIOFOSYNC_MAX_USED_DISK",
        legacy: Some("MAX_USED_DISK"),
        accepts: Accepts::Text("a percentage above 0 and at most 100 (e.g. 90 or 90%), or none"),
        help: "stop downloading when the archive's disk is fuller than this",
        apply: |s, v| {
            s.sync.max_used_disk = optional_percent(v)?;
            Ok(())
        },
        show: |s| none_or(&s.sync.max_used_disk, |p| format!("{p}")),
        ..BASE
    },
    Key {
        name: "prune_above",
        env: "VIOFOSYNC_PRUNE_ABOVE",
        accepts: Accepts::Text("a percentage above 0 and at most 100, or none"),
        help: "remove the oldest archived clips while the disk is fuller than this",
        apply: |s, v| {
            s.sync.retention.max_used_percent = optional_percent(v)?;
            Ok(())
        },
        show: |s| none_or(&s.sync.retention.max_used_percent, |p| format!("{p}")),
        ..BASE
    },
    Key {
        name: "quota",
        env: "VIOFOSYNC_QUOTA",
        accepts: Accepts::Text(
            "a size such as 500GB or 2TiB (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, \
             TiB of 1024; a bare number is bytes), or none",
        ),
        help: "the most the archive may hold (clips and sidecars, by the state database): \
               retention removes the oldest unlocked clips to stay under it, and a clip that \
               would take the archive over it is not downloaded (exit code 4)",
        apply: |s, v| {
            s.sync.retention.quota = if is_none_word(v) {
                None
            } else {
                match parse_size(v)? {
                    0 => return Err("must be above zero (none switches it off)".into()),
                    n => Some(n),
                }
            };
            Ok(())
        },
        show: |s| none_or(&s.sync.retention.quota, |q| show_size(*q)),
        ..BASE
    },
    Key {
        name: "protect_locked",
        env: "VIOFOSYNC_PROTECT_LOCKED",
        help: "retention never removes locked (event) clips",
        apply: |s, v| {
            s.sync.retention.protect_locked = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.sync.retention.protect_locked.to_string(),
        ..BASE
    },
    Key {
        name: "delete_after_download",
        env: "VIOFOSYNC_DELETE_AFTER_DOWNLOAD",
        help: "delete each clip from the camera once it is safely archived",
        apply: |s, v| {
            s.sync.delete_after_download = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.sync.delete_after_download.to_string(),
        ..BASE
    },
    Key {
        name: "delete_locked",
        env: "VIOFOSYNC_DELETE_LOCKED",
        help: "with delete_after_download, delete locked clips too",
        apply: |s, v| {
            s.sync.delete_locked = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.sync.delete_locked.to_string(),
        ..BASE
    },
    Key {
        name: "delete_archived",
        env: "VIOFOSYNC_DELETE_ARCHIVED",
        help: "also delete from the camera the clips archived by earlier runs that it still \
               lists, under the same rule as delete_after_download (archived copy intact, not \
               locked unless delete_locked, not possibly still recording)",
        apply: |s, v| {
            s.sync.delete_archived = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.sync.delete_archived.to_string(),
        ..BASE
    },
    super::camera::ACCEPT_CAMERA,
    Key {
        name: "delete_settle",
        env: "VIOFOSYNC_DELETE_SETTLE",
        accepts: Accepts::Text("a duration such as 5s (a bare number is seconds), or 0"),
        help: "a clip is deleted from the camera only once two listings this far apart \
               showed it at its archived size",
        apply: |s, v| {
            s.sync.delete_settle = parse_duration(v, Unit::Seconds)?;
            Ok(())
        },
        show: |s| show_duration(s.sync.delete_settle),
        ..BASE
    },
    Key {
        name: "locked_only",
        env: "VIOFOSYNC_LOCKED_ONLY",
        help: "only download locked (event) clips",
        apply: |s, v| {
            s.sync.locked_only = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.sync.locked_only.to_string(),
        ..BASE
    },
    Key {
        name: "include_parking",
        env: "VIOFOSYNC_INCLUDE_PARKING",
        help: "download parking-mode clips too",
        apply: |s, v| {
            s.sync.include_parking = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.sync.include_parking.to_string(),
        ..BASE
    },
    Key {
        name: "channels",
        env: "VIOFOSYNC_CHANNELS",
        accepts: Accepts::Text(
            "a comma-separated list of front, rear, interior, telephoto (or F, R, I, T), or all",
        ),
        help: "only these cameras of a multi-channel dashcam",
        apply: |s, v| {
            s.sync.channels = parse_channels(v)?;
            Ok(())
        },
        show: |s| show_channels(&s.sync.channels),
        ..BASE
    },
    Key {
        name: "downloads",
        env: "VIOFOSYNC_DOWNLOADS",
        accepts: Accepts::Range(CONNECTIONS),
        help: "downloads at once",
        apply: |s, v| {
            s.sync.downloads = parse_range(v, CONNECTIONS)?;
            Ok(())
        },
        show: |s| s.sync.downloads.to_string(),
        ..BASE
    },
    Key {
        name: "tail",
        env: "VIOFOSYNC_TAIL",
        accepts: Accepts::Text("pipelined or inline"),
        help: "run sidecars, deletes and store updates beside the downloads (pipelined) or between them (inline)",
        apply: |s, v| {
            s.sync.tail = v
                .parse::<CycleMode>()
                .map_err(|_| "not a tail mode".to_owned())?;
            Ok(())
        },
        show: |s| s.sync.tail.to_string(),
        ..BASE
    },
    Key {
        name: "list_source",
        env: "VIOFOSYNC_LIST_SOURCE",
        accepts: Accepts::Text("xml or html"),
        help: "list the camera with the XML command (exact sizes) or its HTML pages",
        apply: |s, v| {
            s.sync.list_source = match v.trim().to_ascii_lowercase().as_str() {
                "xml" => ListSource::Xml,
                "html" => ListSource::Html,
                _ => return Err("not a listing source".into()),
            };
            Ok(())
        },
        show: |s| match s.sync.list_source {
            ListSource::Html => "html".to_owned(),
            _ => "xml".to_owned(),
        },
        ..BASE
    },
    Key {
        name: "relist_every",
        env: "VIOFOSYNC_RELIST_EVERY",
        accepts: Accepts::Text(
            "a duration such as 60s or 5m (a bare number is seconds), above zero",
        ),
        help: "re-list the camera between downloads at most this often",
        apply: |s, v| {
            s.sync.relist_every = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.sync.relist_every),
        ..BASE
    },
    Key {
        name: "interval",
        env: "VIOFOSYNC_INTERVAL",
        accepts: Accepts::Text(
            "a duration such as 60s or 5m (a bare number is seconds), above zero",
        ),
        help: "watch: wait between cycles",
        apply: |s, v| {
            s.interval = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.interval),
        commands: WATCHING,
        ..BASE
    },
    Key {
        name: "listen",
        env: "VIOFOSYNC_LISTEN",
        accepts: Accepts::Text(
            "IP:PORT (e.g. 127.0.0.1:8740, [::1]:8740; beyond loopback only with status_token), \
             or off",
        ),
        help: "watch: serve the status page (/), /api/status, /metrics and the actions here",
        apply: |s, v| {
            s.listen = parse_listen(v)?;
            Ok(())
        },
        show: |s| s.listen.map_or_else(|| "off".to_owned(), |a| a.to_string()),
        commands: &["watch", "doctor", "config", "health"],
        ..BASE
    },
    Key {
        name: "status_token",
        env: "VIOFOSYNC_STATUS_TOKEN",
        accepts: Accepts::Text("a secret without spaces (shown as ***)"),
        help: "watch: the token every status request must carry (Authorization: Bearer); \
               required when listen is not a loopback address",
        apply: |s, v| {
            let t = v.trim();
            if t.is_empty() || t.contains(char::is_whitespace) {
                return Err("empty or contains spaces".into());
            }
            s.status_token = Some(t.to_owned());
            Ok(())
        },
        show: |s| none_or(&s.status_token, |_| "***".to_owned()),
        commands: &["watch", "doctor", "config", "health"],
        ..BASE
    },
    super::triage::TRIAGE,
    super::s3::ENDPOINT,
    super::s3::REGION,
    super::s3::ACCESS_KEY_ID,
    super::s3::SECRET_ACCESS_KEY,
    super::s3::STAGING,
    super::mqtt::URL,
    super::mqtt::USERNAME,
    super::mqtt::PASSWORD,
    super::mqtt::DISCOVERY_PREFIX,
    super::mqtt::CA_FILE,
    Key {
        name: "on_interrupt",
        env: "VIOFOSYNC_ON_INTERRUPT",
        accepts: Accepts::Text("finish or cancel"),
        help: "on the first SIGINT/SIGTERM, finish the download in flight or cancel it (kept and resumed)",
        apply: |s, v| {
            s.sync.on_interrupt = match v.trim().to_ascii_lowercase().as_str() {
                "finish" => OnInterrupt::Finish,
                "cancel" => OnInterrupt::Cancel,
                _ => return Err("not an interrupt mode".into()),
            };
            Ok(())
        },
        show: |s| match s.sync.on_interrupt {
            OnInterrupt::Cancel => "cancel".to_owned(),
            OnInterrupt::Finish => "finish".to_owned(),
        },
        ..BASE
    },
    Key {
        name: "gps",
        env: "VIOFOSYNC_GPS",
        legacy: Some("GPS_EXTRACT"),
        help: "write a <clip>.MP4.gpx track beside each clip",
        apply: |s, v| {
            s.gps = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.gps.to_string(),
        ..BASE
    },
    Key {
        name: "utc_offset",
        env: "VIOFOSYNC_UTC_OFFSET",
        accepts: Accepts::Text("±HH:MM, e.g. +02:00"),
        help: "GPS track times: the offset of firmware that writes local time labelled as UTC \
               (not the clip names' clock: see camera_utc_offset)",
        hyphen_values: true,
        apply: |s, v| {
            s.gps_options.utc_offset = super::parse::parse_utc_offset(v)?;
            Ok(())
        },
        show: |s| show_utc_offset(s.gps_options.utc_offset),
        ..BASE
    },
    Key {
        name: "spike_filter",
        env: "VIOFOSYNC_SPIKE_FILTER",
        help: "drop GPS fixes far from their neighbours",
        apply: |s, v| {
            s.gps_options.spike_filter = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.gps_options.spike_filter.to_string(),
        ..BASE
    },
    Key {
        name: "geojson",
        env: "VIOFOSYNC_GEOJSON",
        help: "also write a <clip>.MP4.geojson track",
        apply: |s, v| {
            s.gps_options.geojson = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.gps_options.geojson.to_string(),
        ..BASE
    },
    Key {
        name: "timeout",
        env: "VIOFOSYNC_TIMEOUT",
        legacy: Some("TIMEOUT"),
        accepts: Accepts::Text("a duration such as 15s (a bare number is seconds), above zero"),
        help: "longest wait for the camera's answer or the next bytes of a download",
        apply: |s, v| {
            s.client.idle_timeout = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.client.idle_timeout),
        ..BASE
    },
    Key {
        name: "connect_timeout",
        env: "VIOFOSYNC_CONNECT_TIMEOUT",
        accepts: Accepts::Text("a duration such as 5s (a bare number is seconds), above zero"),
        help: "longest wait for a connection to the camera",
        apply: |s, v| {
            s.client.connect_timeout = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.client.connect_timeout),
        ..BASE
    },
    Key {
        name: "max_connections",
        env: "VIOFOSYNC_MAX_CONNECTIONS",
        accepts: Accepts::Range(CONNECTIONS),
        help: "connections to the camera at once (it resets connections above its limit)",
        apply: |s, v| {
            s.client.max_connections = parse_range(v, CONNECTIONS)?;
            Ok(())
        },
        show: |s| s.client.max_connections.to_string(),
        ..BASE
    },
    Key {
        name: "dry_run",
        env: "VIOFOSYNC_DRY_RUN",
        legacy: Some("DRY_RUN"),
        help: "sync: list what would be downloaded, deleted and pruned, touching nothing",
        apply: |s, v| {
            s.dry_run = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.dry_run.to_string(),
        ..BASE
    },
    Key {
        name: "log_format",
        env: "VIOFOSYNC_LOG_FORMAT",
        accepts: Accepts::Text("text or json"),
        help: "log lines as text (progress bars on a terminal) or JSON",
        global: true,
        apply: |s, v| {
            s.log_format = match v.trim().to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err("not a log format".into()),
            };
            Ok(())
        },
        show: |s| match s.log_format {
            LogFormat::Text => "text".to_owned(),
            LogFormat::Json => "json".to_owned(),
        },
        ..BASE
    },
];
