//! Configuration: defaults < TOML file < the Python tool's environment
//! names < `VIOFOSYNC_*` environment < flags, with the source of every value
//! kept for `viofosync config`.
//!
//! Every key is one row of [`KEYS`]: its name (as in the file), its
//! environment name, the Python tool's name where one maps, what it
//! accepts, and how it is parsed and shown. Every raw value, whatever its
//! source, goes through the same parser, so an invalid value is refused
//! with the same message (key, value, source, what is allowed).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::UtcOffset;
use viofo_client::ListSource;
use viofo_pipeline::{Grouping, OnInterrupt, TailMode};
use viofo_store::{Channel, Policy};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Built-in default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// The Python tool's environment name (e.g. `KEEP`).
    LegacyEnv(&'static str),
    /// A `VIOFOSYNC_*` environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::LegacyEnv(n) => write!(f, "env {n} (Python tool name)"),
            Source::Env(n) => write!(f, "env {n}"),
            Source::Flag(n) => write!(f, "flag --{n}"),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LogFormat {
    /// Human-readable lines (progress bars on a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The effective settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) address: Option<String>,
    pub(crate) camera_id: Option<String>,
    pub(crate) archive: Option<PathBuf>,
    pub(crate) state_db: Option<PathBuf>,
    pub(crate) allow_network_fs: bool,
    pub(crate) import_legacy: bool,
    pub(crate) grouping: Grouping,
    pub(crate) priority: Policy,
    pub(crate) keep: Option<Duration>,
    pub(crate) max_used_disk: Option<f64>,
    pub(crate) prune_above: Option<f64>,
    pub(crate) protect_locked: bool,
    pub(crate) delete_after_download: bool,
    pub(crate) delete_locked: bool,
    pub(crate) locked_only: bool,
    pub(crate) include_parking: bool,
    pub(crate) channels: Vec<Channel>,
    pub(crate) downloads: usize,
    pub(crate) tail: TailMode,
    pub(crate) list_source: ListSource,
    pub(crate) relist_every: Duration,
    pub(crate) interval: Duration,
    pub(crate) on_interrupt: OnInterrupt,
    pub(crate) gps: bool,
    pub(crate) utc_offset: UtcOffset,
    pub(crate) spike_filter: bool,
    pub(crate) geojson: bool,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) dry_run: bool,
    pub(crate) log_format: LogFormat,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            address: None,
            camera_id: None,
            archive: None,
            state_db: None,
            allow_network_fs: false,
            import_legacy: true,
            grouping: Grouping::None,
            priority: Policy::OldestFirst,
            keep: None,
            max_used_disk: Some(90.0),
            prune_above: None,
            protect_locked: true,
            delete_after_download: false,
            delete_locked: false,
            locked_only: false,
            include_parking: true,
            channels: Vec::new(),
            downloads: 1,
            tail: TailMode::Pipelined,
            list_source: ListSource::Xml,
            relist_every: Duration::from_secs(60),
            interval: Duration::from_secs(60),
            on_interrupt: OnInterrupt::Finish,
            gps: true,
            utc_offset: UtcOffset::UTC,
            spike_filter: true,
            geojson: false,
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_connections: 3,
            dry_run: false,
            log_format: LogFormat::Text,
        }
    }
}

type Apply = fn(&mut Settings, &str) -> Result<(), String>;
type Show = fn(&Settings) -> String;

/// One configuration key.
pub(crate) struct Key {
    /// Name in the file (and, with dashes, the flag).
    pub(crate) name: &'static str,
    /// `VIOFOSYNC_*` name.
    pub(crate) env: &'static str,
    /// The Python tool's name, where one maps.
    pub(crate) legacy: Option<&'static str>,
    /// What it accepts (for errors and docs).
    pub(crate) allowed: &'static str,
    /// One line of help.
    pub(crate) help: &'static str,
    apply: Apply,
    show: Show,
}

fn none_or<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map_or_else(|| "(unset)".to_owned(), f)
}

/// Every key, in display order.
pub(crate) const KEYS: &[Key] = &[
    Key {
        name: "address",
        env: "VIOFOSYNC_ADDRESS",
        legacy: Some("ADDRESS"),
        allowed: "the camera's address: host, host:port or http://host[:port] (no default)",
        help: "where the camera answers, e.g. 192.168.1.254 on its Wi-Fi",
        apply: |s, v| {
            s.address = Some(parse_address(v)?);
            Ok(())
        },
        show: |s| none_or(&s.address, Clone::clone),
    },
    Key {
        name: "camera_id",
        env: "VIOFOSYNC_CAMERA_ID",
        legacy: None,
        allowed: "a non-empty name",
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
    },
    Key {
        name: "archive",
        env: "VIOFOSYNC_ARCHIVE",
        legacy: None,
        allowed: "a folder path (no default)",
        help: "the folder recordings are downloaded into",
        apply: |s, v| {
            s.archive = Some(parse_path(v)?);
            Ok(())
        },
        show: |s| none_or(&s.archive, |p| p.display().to_string()),
    },
    Key {
        name: "state_db",
        env: "VIOFOSYNC_STATE_DB",
        legacy: None,
        allowed: "a file path on local disk",
        help: "the state database (default: $XDG_STATE_HOME/viofosync/viofosync.db)",
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
    },
    Key {
        name: "allow_network_fs",
        env: "VIOFOSYNC_ALLOW_NETWORK_FS",
        legacy: None,
        allowed: "true or false",
        help: "open the state database even on a network filesystem",
        apply: |s, v| {
            s.allow_network_fs = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.allow_network_fs.to_string(),
    },
    Key {
        name: "import_legacy",
        env: "VIOFOSYNC_IMPORT_LEGACY",
        legacy: None,
        allowed: "true or false",
        help: "import the Python tool's database (<archive>/.viofosync.db or /config/viofosync.db) on first run",
        apply: |s, v| {
            s.import_legacy = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.import_legacy.to_string(),
    },
    Key {
        name: "grouping",
        env: "VIOFOSYNC_GROUPING",
        legacy: Some("GROUPING"),
        allowed: "none, daily, weekly, monthly or yearly",
        help: "folders inside the archive",
        apply: |s, v| {
            s.grouping = v
                .parse::<Grouping>()
                .map_err(|_| "not a grouping".to_owned())?;
            Ok(())
        },
        show: |s| s.grouping.to_string(),
    },
    Key {
        name: "priority",
        env: "VIOFOSYNC_PRIORITY",
        legacy: Some("PRIORITY"),
        allowed: "oldest (or date), newest (or rdate), locked (or type), recent:HOURS",
        help: "which clip is downloaded first",
        apply: |s, v| {
            s.priority = parse_priority(v)?;
            Ok(())
        },
        show: |s| show_priority(s.priority),
    },
    Key {
        name: "keep",
        env: "VIOFOSYNC_KEEP",
        legacy: Some("KEEP"),
        allowed: "a duration such as 30d, 2w, 12h (a bare number is days), or 0/none to keep everything",
        help: "remove archived clips recorded longer ago than this",
        apply: |s, v| {
            s.keep = if is_none_word(v) {
                None
            } else {
                Some(parse_duration(v, Unit::Days)?)
            };
            Ok(())
        },
        show: |s| none_or(&s.keep, |d| show_duration(*d)),
    },
    Key {
        name: "max_used_disk",
        env: "VIOFOSYNC_MAX_USED_DISK",
        legacy: Some("MAX_USED_DISK"),
        allowed: "a percentage above 0 and at most 100 (e.g. 90 or 90%), or none",
        help: "stop downloading when the archive's disk is fuller than this",
        apply: |s, v| {
            s.max_used_disk = if is_none_word(v) {
                None
            } else {
                Some(parse_percent(v)?)
            };
            Ok(())
        },
        show: |s| none_or(&s.max_used_disk, |p| format!("{p}")),
    },
    Key {
        name: "prune_above",
        env: "VIOFOSYNC_PRUNE_ABOVE",
        legacy: None,
        allowed: "a percentage above 0 and at most 100, or none",
        help: "remove the oldest archived clips while the disk is fuller than this",
        apply: |s, v| {
            s.prune_above = if is_none_word(v) {
                None
            } else {
                Some(parse_percent(v)?)
            };
            Ok(())
        },
        show: |s| none_or(&s.prune_above, |p| format!("{p}")),
    },
    Key {
        name: "protect_locked",
        env: "VIOFOSYNC_PROTECT_LOCKED",
        legacy: None,
        allowed: "true or false",
        help: "retention never removes locked (event) clips",
        apply: |s, v| {
            s.protect_locked = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.protect_locked.to_string(),
    },
    Key {
        name: "delete_after_download",
        env: "VIOFOSYNC_DELETE_AFTER_DOWNLOAD",
        legacy: None,
        allowed: "true or false",
        help: "delete each clip from the camera once it is safely archived",
        apply: |s, v| {
            s.delete_after_download = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.delete_after_download.to_string(),
    },
    Key {
        name: "delete_locked",
        env: "VIOFOSYNC_DELETE_LOCKED",
        legacy: None,
        allowed: "true or false",
        help: "with delete_after_download, delete locked clips too",
        apply: |s, v| {
            s.delete_locked = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.delete_locked.to_string(),
    },
    Key {
        name: "locked_only",
        env: "VIOFOSYNC_LOCKED_ONLY",
        legacy: None,
        allowed: "true or false",
        help: "only download locked (event) clips",
        apply: |s, v| {
            s.locked_only = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.locked_only.to_string(),
    },
    Key {
        name: "include_parking",
        env: "VIOFOSYNC_INCLUDE_PARKING",
        legacy: None,
        allowed: "true or false",
        help: "download parking-mode clips too",
        apply: |s, v| {
            s.include_parking = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.include_parking.to_string(),
    },
    Key {
        name: "channels",
        env: "VIOFOSYNC_CHANNELS",
        legacy: None,
        allowed: "a comma-separated list of front, rear, interior, telephoto (or F, R, I, T), or all",
        help: "only these cameras of a multi-channel dashcam",
        apply: |s, v| {
            s.channels = parse_channels(v)?;
            Ok(())
        },
        show: |s| show_channels(&s.channels),
    },
    Key {
        name: "downloads",
        env: "VIOFOSYNC_DOWNLOADS",
        legacy: None,
        allowed: "1, 2 or 3",
        help: "downloads at once",
        apply: |s, v| {
            s.downloads = parse_range(v, 1, 3)?;
            Ok(())
        },
        show: |s| s.downloads.to_string(),
    },
    Key {
        name: "tail",
        env: "VIOFOSYNC_TAIL",
        legacy: None,
        allowed: "pipelined or inline",
        help: "run sidecars, deletes and store updates beside the downloads (pipelined) or between them (inline)",
        apply: |s, v| {
            s.tail = v
                .parse::<TailMode>()
                .map_err(|_| "not a tail mode".to_owned())?;
            Ok(())
        },
        show: |s| s.tail.to_string(),
    },
    Key {
        name: "list_source",
        env: "VIOFOSYNC_LIST_SOURCE",
        legacy: None,
        allowed: "xml or html",
        help: "list the camera with the XML command (exact sizes) or its HTML pages",
        apply: |s, v| {
            s.list_source = match v.trim().to_ascii_lowercase().as_str() {
                "xml" => ListSource::Xml,
                "html" => ListSource::Html,
                _ => return Err("not a listing source".into()),
            };
            Ok(())
        },
        show: |s| match s.list_source {
            ListSource::Html => "html".to_owned(),
            _ => "xml".to_owned(),
        },
    },
    Key {
        name: "relist_every",
        env: "VIOFOSYNC_RELIST_EVERY",
        legacy: None,
        allowed: "a duration such as 60s or 5m (a bare number is seconds), above zero",
        help: "re-list the camera between downloads at most this often",
        apply: |s, v| {
            s.relist_every = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.relist_every),
    },
    Key {
        name: "interval",
        env: "VIOFOSYNC_INTERVAL",
        legacy: None,
        allowed: "a duration such as 60s or 5m (a bare number is seconds), above zero",
        help: "watch: wait between cycles",
        apply: |s, v| {
            s.interval = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.interval),
    },
    Key {
        name: "on_interrupt",
        env: "VIOFOSYNC_ON_INTERRUPT",
        legacy: None,
        allowed: "finish or cancel",
        help: "on the first SIGINT/SIGTERM, finish the download in flight or cancel it (kept and resumed)",
        apply: |s, v| {
            s.on_interrupt = match v.trim().to_ascii_lowercase().as_str() {
                "finish" => OnInterrupt::Finish,
                "cancel" => OnInterrupt::Cancel,
                _ => return Err("not an interrupt mode".into()),
            };
            Ok(())
        },
        show: |s| match s.on_interrupt {
            OnInterrupt::Cancel => "cancel".to_owned(),
            OnInterrupt::Finish => "finish".to_owned(),
        },
    },
    Key {
        name: "gps",
        env: "VIOFOSYNC_GPS",
        legacy: Some("GPS_EXTRACT"),
        allowed: "true or false",
        help: "write a <clip>.MP4.gpx track beside each clip",
        apply: |s, v| {
            s.gps = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.gps.to_string(),
    },
    Key {
        name: "utc_offset",
        env: "VIOFOSYNC_UTC_OFFSET",
        legacy: None,
        allowed: "±HH:MM, e.g. +02:00",
        help: "the camera's UTC offset, for firmware that writes local time labelled as UTC",
        apply: |s, v| {
            s.utc_offset = crate::gpx::parse_utc_offset(v)?;
            Ok(())
        },
        show: |s| {
            let (h, m, _) = s.utc_offset.as_hms();
            let sign = if h < 0 || m < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
        },
    },
    Key {
        name: "spike_filter",
        env: "VIOFOSYNC_SPIKE_FILTER",
        legacy: None,
        allowed: "true or false",
        help: "drop GPS fixes far from their neighbours",
        apply: |s, v| {
            s.spike_filter = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.spike_filter.to_string(),
    },
    Key {
        name: "geojson",
        env: "VIOFOSYNC_GEOJSON",
        legacy: None,
        allowed: "true or false",
        help: "also write a <clip>.MP4.geojson track",
        apply: |s, v| {
            s.geojson = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.geojson.to_string(),
    },
    Key {
        name: "timeout",
        env: "VIOFOSYNC_TIMEOUT",
        legacy: Some("TIMEOUT"),
        allowed: "a duration such as 15s (a bare number is seconds), above zero",
        help: "longest wait for the camera's answer or the next bytes of a download",
        apply: |s, v| {
            s.timeout = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.timeout),
    },
    Key {
        name: "connect_timeout",
        env: "VIOFOSYNC_CONNECT_TIMEOUT",
        legacy: None,
        allowed: "a duration such as 5s (a bare number is seconds), above zero",
        help: "longest wait for a connection to the camera",
        apply: |s, v| {
            s.connect_timeout = parse_positive_duration(v)?;
            Ok(())
        },
        show: |s| show_duration(s.connect_timeout),
    },
    Key {
        name: "max_connections",
        env: "VIOFOSYNC_MAX_CONNECTIONS",
        legacy: None,
        allowed: "1, 2 or 3",
        help: "connections to the camera at once (it resets more than 3)",
        apply: |s, v| {
            s.max_connections = parse_range(v, 1, 3)?;
            Ok(())
        },
        show: |s| s.max_connections.to_string(),
    },
    Key {
        name: "dry_run",
        env: "VIOFOSYNC_DRY_RUN",
        legacy: Some("DRY_RUN"),
        allowed: "true or false",
        help: "sync: list what would be downloaded, deleted and pruned, touching nothing",
        apply: |s, v| {
            s.dry_run = parse_bool(v)?;
            Ok(())
        },
        show: |s| s.dry_run.to_string(),
    },
    Key {
        name: "log_format",
        env: "VIOFOSYNC_LOG_FORMAT",
        legacy: None,
        allowed: "text or json",
        help: "log lines as text (progress bars on a terminal) or JSON",
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
    },
];

/// A configuration problem: exit code 2.
#[derive(Debug)]
pub(crate) struct ConfigError(pub(crate) String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// The loaded configuration: settings, where each came from, the file.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) settings: Settings,
    pub(crate) sources: BTreeMap<&'static str, Source>,
    pub(crate) file: PathBuf,
    pub(crate) file_found: bool,
}

impl Loaded {
    /// The source of one key.
    pub(crate) fn source(&self, key: &str) -> Source {
        self.sources.get(key).cloned().unwrap_or(Source::Default)
    }

    /// `key = value  # source` lines, in key order.
    pub(crate) fn render(&self) -> String {
        let width = KEYS.iter().map(|k| k.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for k in KEYS {
            let value = (k.show)(&self.settings);
            let line = format!("{:width$} = {value}", k.name);
            out.push_str(&format!("{line:<60}  # {}\n", self.source(k.name)));
        }
        out
    }

    /// The camera identity: `camera_id`, else the address's host[:port].
    pub(crate) fn camera_id(&self) -> Option<String> {
        let s = &self.settings;
        s.camera_id
            .clone()
            .or_else(|| s.address.as_deref().map(camera_id_of))
    }
}

/// Every key: name, environment names, default, what it accepts, help.
pub(crate) fn describe_keys() -> String {
    let defaults = Settings::default();
    let mut out = String::new();
    for k in KEYS {
        let env = match k.legacy {
            Some(l) => format!("{}, {l}", k.env),
            None => k.env.to_owned(),
        };
        out.push_str(&format!(
            "{}\n    env: {env}\n    default: {}\n    allowed: {}\n    {}\n",
            k.name,
            (k.show)(&defaults),
            k.allowed,
            k.help
        ));
    }
    out
}

/// The default configuration file: `<config dir>/viofosync/config.toml`.
pub(crate) fn default_config_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("viofosync")
        .join("config.toml")
}

/// Loads the configuration. `explicit_file` is `--config` (or
/// `VIOFOSYNC_CONFIG`); it must exist, the default file need not.
/// `flags` are (key, raw value, flag name) from the command line.
pub(crate) fn load(
    explicit_file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &[(&'static str, String)],
) -> Result<Loaded, ConfigError> {
    let (file, must_exist) = match explicit_file {
        Some(p) => (p.to_path_buf(), true),
        None => match env("VIOFOSYNC_CONFIG").filter(|v| !v.trim().is_empty()) {
            Some(p) => (PathBuf::from(p), true),
            None => (default_config_path(), false),
        },
    };
    let table = read_file(&file, must_exist)?;
    let file_found = table.is_some();
    let table = table.unwrap_or_default();
    for key in table.keys() {
        if !KEYS.iter().any(|k| k.name == key) {
            return Err(ConfigError::new(format!(
                "{}: unknown key `{key}`; known keys: {}",
                file.display(),
                KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut settings = Settings::default();
    let mut sources = BTreeMap::new();
    for k in KEYS {
        let flag = flags.iter().find(|(name, _)| *name == k.name);
        let nonempty = |n: &str| env(n).filter(|v| !v.trim().is_empty());
        let raw = if let Some((_, v)) = flag {
            Some((v.clone(), Source::Flag(k.name.replace('_', "-"))))
        } else if let Some(v) = nonempty(k.env) {
            Some((v, Source::Env(k.env)))
        } else if let Some(v) = k.legacy.and_then(|l| nonempty(l).map(|v| (v, l))) {
            Some((v.0, Source::LegacyEnv(v.1)))
        } else if let Some(v) = table.get(k.name) {
            Some((toml_scalar(k.name, v, &file)?, Source::File(file.clone())))
        } else {
            None
        };
        if let Some((value, source)) = raw {
            (k.apply)(&mut settings, &value).map_err(|why| {
                ConfigError::new(format!(
                    "invalid value {value:?} for `{}` (from {source}): {why}; allowed: {}",
                    k.name, k.allowed
                ))
            })?;
            sources.insert(k.name, source);
        }
    }
    Ok(Loaded {
        settings,
        sources,
        file,
        file_found,
    })
}

fn read_file(path: &Path, must_exist: bool) -> Result<Option<toml::Table>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(e) => {
            return Err(ConfigError::new(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )));
        }
    };
    text.parse::<toml::Table>().map(Some).map_err(|e| {
        ConfigError::new(format!(
            "the configuration file {} is not valid TOML: {e}",
            path.display()
        ))
    })
}

fn toml_scalar(key: &str, v: &toml::Value, file: &Path) -> Result<String, ConfigError> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::String(s) => parts.push(s.clone()),
                    other => {
                        return Err(ConfigError::new(format!(
                            "{}: `{key}` holds {other}, expected strings",
                            file.display()
                        )));
                    }
                }
            }
            parts.join(",")
        }
        other => {
            return Err(ConfigError::new(format!(
                "{}: `{key}` = {other}: expected a string, number or boolean",
                file.display()
            )));
        }
    })
}

// ---- value parsers -------------------------------------------------------

/// `192.168.1.254`, `cam:8080`, `http://cam[:port]` → `http://host[:port]`.
pub(crate) fn parse_address(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty".into());
    }
    let url = if v.contains("://") {
        v.trim_end_matches('/').to_owned()
    } else {
        format!("http://{}", v.trim_end_matches('/'))
    };
    // The client checks the rest (scheme, host, no path or query).
    viofo_client::Client::new(viofo_client::ClientConfig::new(url.clone()))
        .map_err(|e| e.to_string())?;
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    if rest.contains('/') {
        return Err("an address has no path".into());
    }
    Ok(url)
}

/// `http://192.168.1.254` → `192.168.1.254`.
pub(crate) fn camera_id_of(address: &str) -> String {
    address
        .split_once("://")
        .map_or(address, |(_, r)| r)
        .trim_end_matches('/')
        .to_owned()
}

fn parse_path(v: &str) -> Result<PathBuf, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty path".into());
    }
    if let Some(rest) = v.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return Ok(home.join(rest));
    }
    Ok(PathBuf::from(v))
}

pub(crate) fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("not a boolean".into()),
    }
}

fn is_none_word(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "none" | "off" | "0" | "false" | "never"
    )
}

fn parse_range(v: &str, lo: usize, hi: usize) -> Result<usize, String> {
    let n: usize = v
        .trim()
        .parse()
        .map_err(|_| "not a whole number".to_owned())?;
    if !(lo..=hi).contains(&n) {
        return Err(format!("out of range {lo}..={hi}"));
    }
    Ok(n)
}

fn parse_percent(v: &str) -> Result<f64, String> {
    let t = v.trim().trim_end_matches('%').trim();
    let p: f64 = t.parse().map_err(|_| "not a number".to_owned())?;
    if !(p > 0.0 && p <= 100.0) {
        return Err("out of range".into());
    }
    Ok(p)
}

/// Unit of a bare number.
#[derive(Clone, Copy)]
pub(crate) enum Unit {
    Seconds,
    Days,
}

/// `30d`, `2w`, `12h`, `90m`, `45s`, `500ms`, `1.5` (bare: `unit`).
pub(crate) fn parse_duration(v: &str, unit: Unit) -> Result<Duration, String> {
    let t = v.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| "not a duration".to_owned())?;
    let mult = match (suffix.trim(), unit) {
        ("", Unit::Seconds) | ("s" | "sec" | "secs", _) => 1.0,
        ("", Unit::Days) | ("d" | "day" | "days", _) => 86_400.0,
        ("ms", _) => 0.001,
        ("m" | "min" | "mins", _) => 60.0,
        ("h" | "hour" | "hours", _) => 3_600.0,
        ("w" | "week" | "weeks", _) => 7.0 * 86_400.0,
        _ => return Err(format!("unknown unit {suffix:?}")),
    };
    Duration::try_from_secs_f64(n * mult).map_err(|_| "out of range".to_owned())
}

fn parse_positive_duration(v: &str) -> Result<Duration, String> {
    let d = parse_duration(v, Unit::Seconds)?;
    if d.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(d)
}

pub(crate) fn show_duration(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 || s == 0 {
        return format!("{}ms", d.as_millis());
    }
    for (unit, len) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s.is_multiple_of(len) {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

fn parse_priority(v: &str) -> Result<Policy, String> {
    let t = v.trim().to_ascii_lowercase();
    Ok(match t.as_str() {
        "oldest" | "date" => Policy::OldestFirst,
        "newest" | "rdate" => Policy::NewestFirst,
        "locked" | "type" => Policy::LockedFirst,
        other => {
            let Some(h) = other.strip_prefix("recent:") else {
                return Err("not a priority".into());
            };
            let h = h.trim().trim_end_matches('h');
            let hours: u32 = h.parse().map_err(|_| "not a number of hours".to_owned())?;
            if hours == 0 {
                return Err("recent:HOURS needs at least 1 hour".into());
            }
            Policy::RecentFirst { hours }
        }
    })
}

fn show_priority(p: Policy) -> String {
    match p {
        Policy::OldestFirst => "oldest".into(),
        Policy::NewestFirst => "newest".into(),
        Policy::LockedFirst => "locked".into(),
        Policy::RecentFirst { hours } => format!("recent:{hours}"),
    }
}

fn parse_channels(v: &str) -> Result<Vec<Channel>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let c = match part.to_ascii_lowercase().as_str() {
            "all" => return Ok(Vec::new()),
            "front" | "f" => Channel::Front,
            "rear" | "r" => Channel::Rear,
            "interior" | "i" => Channel::Interior,
            "telephoto" | "t" => Channel::Telephoto,
            _ => return Err(format!("unknown channel {part:?}")),
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

fn show_channels(c: &[Channel]) -> String {
    if c.is_empty() {
        return "all".into();
    }
    c.iter()
        .map(|c| match c {
            Channel::Front => "front",
            Channel::Rear => "rear",
            Channel::Interior => "interior",
            Channel::Telephoto => "telephoto",
            Channel::Unknown => "unknown",
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let file =
            Some("grouping = \"daily\"\nkeep = \"30d\"\npriority = \"newest\"\ndownloads = 2\n");
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
        assert_eq!(l.settings.grouping, Grouping::Monthly);
        assert_eq!(l.source("grouping"), Source::Flag("grouping".into()));
        assert_eq!(l.settings.keep, Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(l.source("keep"), Source::LegacyEnv("KEEP"));
        assert_eq!(l.settings.priority, Policy::NewestFirst);
        assert!(matches!(l.source("priority"), Source::File(_)));
        assert_eq!(l.settings.downloads, 2);
        assert_eq!(l.source("tail"), Source::Default);
        let l = load_with(
            &[("VIOFOSYNC_GROUPING", "weekly"), ("GROUPING", "yearly")],
            file,
            &[],
        )
        .unwrap();
        assert_eq!(l.settings.grouping, Grouping::Weekly);
        let l = load_with(&[("GROUPING", "yearly")], file, &[]).unwrap();
        assert_eq!(l.settings.grouping, Grouping::Yearly);
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
        assert_eq!(s.priority, Policy::NewestFirst);
        assert_eq!(s.max_used_disk, Some(80.0));
        assert_eq!(s.timeout, Duration::from_millis(10_500));
        assert!(!s.gps && s.dry_run);
        assert_eq!(s.address.as_deref(), Some("http://192.168.1.254"));
        assert_eq!(l.camera_id().as_deref(), Some("192.168.1.254"));
        let l = load_with(&[("PRIORITY", "date")], None, &[]).unwrap();
        assert_eq!(l.settings.priority, Policy::OldestFirst);
    }

    #[test]
    fn invalid_values_name_key_value_and_allowed() {
        for (env, key) in [
            (("VIOFOSYNC_GROUPING", "hourly"), "grouping"),
            (("KEEP", "30x"), "keep"),
            (("VIOFOSYNC_DOWNLOADS", "4"), "downloads"),
            (("MAX_USED_DISK", "120"), "max_used_disk"),
            (("VIOFOSYNC_ADDRESS", "ftp://cam"), "address"),
            (("VIOFOSYNC_GPS", "maybe"), "gps"),
            (("PRIORITY", "random"), "priority"),
            (("VIOFOSYNC_CHANNELS", "front,side"), "channels"),
            (("VIOFOSYNC_UTC_OFFSET", "2h"), "utc_offset"),
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
    }
}
