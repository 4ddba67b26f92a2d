//! viofosync's configuration as a library: the settings of one camera or
//! several (`[[camera]]` tables) and the places (`[[place]]` tables), read
//! from the same TOML file, environment and flags as the `viofosync`
//! command, so an embedder builds its syncers and fleet from a user's
//! file with the same names, defaults and refusals.
//!
//! Precedence: defaults (from the crates' own config types) < TOML file
//! < the Python tool's environment names < `VIOFOSYNC_*` environment <
//! flags, with the source of every value kept for `viofosync config`.
//!
//! Every setting is one row of [`keys::KEYS`]; its flag, environment
//! names, file key, `config --keys` entry and docs/CONFIGURATION.md row
//! are made from that row. Every raw value, whatever its source, goes
//! through the row's parser, so an invalid value is refused with the same
//! message (key, value, source, what is allowed).
//!
//! ```no_run
//! let env = |name: &str| std::env::var(name).ok();
//! let loaded = viofo_config::load(None, &env, &[])?;
//! for camera in loaded.select(None)? {
//!     let id = camera.camera_id().unwrap_or_default();
//!     let archive = camera.settings.archive.clone().unwrap_or_default();
//!     let address = camera.settings.address.clone().unwrap_or_default();
//!     let _client = camera.settings.client_config(&address);
//!     let _sync = camera.settings.sync_config(&id, &archive);
//! }
//! # Ok::<(), viofo_config::ConfigError>(())
//! ```

mod camera;
mod cameras;
pub mod container;
mod file;
pub mod keys;
mod mqtt;
pub mod parse;
mod places;
mod row;
mod s3;
mod suggest;
mod triage;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use viofo_client::ClientConfig;
use viofo_pipeline::{GpsConfig, SyncConfig};

pub use cameras::CameraEntry;
use keys::{KEYS, Key};
pub use mqtt::mqtt_config;
pub use parse::{clip_size_arg, duration_arg, parse_size, parse_utc_offset, show_duration};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
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
pub enum LogFormat {
    /// Human-readable lines (progress bars on a terminal).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The effective settings. The pipeline's and the client's settings live
/// in their own config types, so their defaults and checks are theirs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub address: Option<String>,
    pub camera_id: Option<String>,
    pub archive: Option<PathBuf>,
    pub create_archive: bool,
    pub state_db: Option<PathBuf>,
    pub allow_network_fs: bool,
    pub import_legacy: bool,
    pub interval: Duration,
    /// `watch`'s status server address; `None`: off.
    pub listen: Option<SocketAddr>,
    /// The token the status server requires (beyond loopback).
    pub status_token: Option<String>,
    /// `watch`'s MQTT surface; an empty URL: off. `Debug` hides the password.
    pub mqtt: viofo_mqtt::MqttConfig,
    /// `archive = "s3://…"`: the object archive (an empty URL: the archive
    /// is a folder). `Debug` hides the secret.
    pub s3: viofo_pipeline::archive::ObjectConfig,
    /// The object archive's local staging folder (`None`: beside the state
    /// database).
    pub s3_staging: Option<PathBuf>,
    pub dry_run: bool,
    pub log_format: LogFormat,
    /// Write GPS sidecars (with `gps_options`).
    pub gps: bool,
    pub gps_options: GpsConfig,
    /// The pipeline's settings; camera id and archive are filled in by
    /// [`Settings::sync_config`].
    pub sync: SyncConfig,
    /// The client's limits; the address is filled in by
    /// [`Settings::client_config`].
    pub client: ClientConfig,
}

impl Default for Settings {
    fn default() -> Self {
        let sync = SyncConfig::new("", PathBuf::new());
        Self {
            address: None,
            camera_id: None,
            archive: None,
            create_archive: false,
            state_db: None,
            allow_network_fs: viofo_store::StoreOptions::default().allow_network_fs,
            import_legacy: true,
            interval: Duration::from_secs(60),
            listen: Some(SocketAddr::from((
                [127, 0, 0, 1],
                viofo_status::DEFAULT_PORT,
            ))),
            status_token: None,
            mqtt: viofo_mqtt::MqttConfig::new(""),
            s3: viofo_pipeline::archive::ObjectConfig::default(),
            s3_staging: None,
            dry_run: false,
            log_format: LogFormat::Text,
            gps: sync.gps.is_some(),
            gps_options: sync.gps.unwrap_or_default(),
            sync,
            client: ClientConfig::new(""),
        }
    }
}

impl Settings {
    /// The pipeline's settings for this camera and archive.
    pub fn sync_config(&self, camera_id: &str, archive: &Path) -> SyncConfig {
        let mut c = self.sync.clone();
        camera_id.clone_into(&mut c.camera_id);
        archive.clone_into(&mut c.archive);
        c.gps = self.gps.then_some(self.gps_options);
        c.object = (!self.s3.url.is_empty()).then(|| Box::new(self.s3.clone()));
        c
    }

    /// The client's settings for `address`. `timeout` bounds each wait for
    /// the camera, so the whole-call limits are never shorter than it.
    pub fn client_config(&self, address: &str) -> ClientConfig {
        let mut c = self.client.clone();
        address.clone_into(&mut c.base_url);
        c.command_timeout = c.command_timeout.max(c.idle_timeout);
        c.probe_timeout = c.probe_timeout.max(c.connect_timeout);
        c
    }
}

/// A configuration problem: exit code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// The loaded configuration: settings, where each came from, the file.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub sources: BTreeMap<&'static str, Source>,
    pub file: PathBuf,
    pub file_found: bool,
    /// The `[[camera]]` tables; empty: the single camera of the top-level
    /// settings.
    pub cameras: Vec<CameraEntry>,
}

impl Loaded {
    /// The source of one key.
    pub fn source(&self, key: &str) -> Source {
        self.sources.get(key).cloned().unwrap_or(Source::Default)
    }

    /// `key = value  # source` lines, in key order.
    pub fn render(&self) -> String {
        let width = KEYS.iter().map(|k| k.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for k in KEYS {
            let value = (k.show)(&self.settings);
            let line = format!("{:width$} = {value}", k.name);
            out.push_str(&format!("{line:<60}  # {}\n", self.source(k.name)));
        }
        let places = &self.settings.sync.places;
        out.push_str(&places::render(
            places,
            &self.source(places::KEY).to_string(),
        ));
        out.push_str(&cameras::render(&self.cameras, &self.sources));
        out
    }

    /// Each configured camera as a configuration of its own (its settings,
    /// address and camera id): the `[[camera]]` tables, else this one. With
    /// more than one camera each archives into `<archive>/<camera id>`.
    pub fn per_camera(&self) -> Vec<Loaded> {
        if self.cameras.is_empty() {
            return vec![self.clone()];
        }
        let several = self.cameras.len() > 1;
        self.cameras
            .iter()
            .map(|c| {
                let mut settings = c.settings.clone();
                if several {
                    settings.sync.shared_archive.clone_from(&settings.archive);
                    settings.archive = settings.archive.map(|a| a.join(&c.id));
                }
                Loaded {
                    settings,
                    sources: c.sources.clone(),
                    file: self.file.clone(),
                    file_found: self.file_found,
                    cameras: Vec::new(),
                }
            })
            .collect()
    }

    /// The cameras a command works on: every configured camera
    /// ([`Loaded::per_camera`]), or the one `only` names; an unknown id is
    /// a configuration error naming the configured ids.
    pub fn select(&self, only: Option<&str>) -> Result<Vec<Loaded>, ConfigError> {
        let all = self.per_camera();
        let Some(id) = only else { return Ok(all) };
        let ids: Vec<String> = all.iter().filter_map(Loaded::camera_id).collect();
        match all
            .into_iter()
            .find(|c| c.camera_id().as_deref() == Some(id))
        {
            Some(c) => Ok(vec![c]),
            None => Err(ConfigError::new(format!(
                "--camera {id}: no such camera; configured: {}",
                if ids.is_empty() {
                    "none (no address)".to_owned()
                } else {
                    ids.join(", ")
                }
            ))),
        }
    }

    /// The camera address, or a configuration error saying how to set it.
    pub fn address(&self) -> Result<String, ConfigError> {
        self.settings.address.clone().ok_or_else(|| {
            ConfigError::new(
                "no camera address: set `address` in the config file, VIOFOSYNC_ADDRESS (or \
                 ADDRESS), or --address (on the camera's Wi-Fi it is usually 192.168.1.254)",
            )
        })
    }

    /// The archive folder, or a configuration error saying how to set it.
    /// With `archive = "s3://…"`, the object archive's local staging
    /// folder (`s3_staging`, else `staging` beside the state database).
    pub fn archive(&self) -> Result<PathBuf, ConfigError> {
        if !self.settings.s3.url.is_empty() {
            return match &self.settings.s3_staging {
                Some(p) => Ok(p.clone()),
                None => Ok(self
                    .state_db()?
                    .parent()
                    .map_or_else(|| PathBuf::from("staging"), |d| d.join("staging"))),
            };
        }
        self.settings.archive.clone().ok_or_else(|| {
            ConfigError::new(
                "no archive folder: set `archive` in the config file, VIOFOSYNC_ARCHIVE, or \
                 --archive",
            )
        })
    }

    /// The state database: `state_db`, else the system's default place.
    pub fn state_db(&self) -> Result<PathBuf, ConfigError> {
        self.settings
            .state_db
            .clone()
            .or_else(viofo_store::default_db_path)
            .ok_or_else(|| ConfigError::new("this system has no state directory: set `state_db`"))
    }

    /// The camera identity: `camera_id`, else the address's `host[:port]`.
    pub fn camera_id(&self) -> Option<String> {
        let s = &self.settings;
        s.camera_id
            .clone()
            .or_else(|| s.address.as_deref().map(parse::camera_id_of))
    }
}

/// Loads the configuration. `explicit_file` is `--config`; without it
/// `VIOFOSYNC_CONFIG`, else the default file (which need not exist).
/// `flags` are (key, raw value) from the command line.
pub fn load(
    explicit_file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &[(&'static str, String)],
) -> Result<Loaded, ConfigError> {
    let (file, must_exist) = file::locate(explicit_file, env);
    let table = file::read(&file, must_exist)?;
    let file_found = table.is_some();
    let table = table.unwrap_or_default();
    let mut settings = Settings::default();
    let mut sources = BTreeMap::new();
    let nonempty = |n: &str| env(n).filter(|v| !v.trim().is_empty());
    for k in KEYS {
        let raw = if let Some((_, v)) = flags.iter().find(|(name, _)| *name == k.name) {
            Some((v.clone(), Source::Flag(k.flag())))
        } else if let Some(v) = nonempty(k.env) {
            Some((v, Source::Env(k.env)))
        } else if let Some((v, l)) = k.legacy.and_then(|l| nonempty(l).map(|v| (v, l))) {
            Some((v, Source::LegacyEnv(l)))
        } else if let Some(v) = table.get(k.name) {
            Some((file::scalar(k.name, v, &file)?, Source::File(file.clone())))
        } else {
            None
        };
        if let Some((value, source)) = raw {
            (k.apply)(&mut settings, &value).map_err(|why| {
                ConfigError::new(format!(
                    "invalid value {value:?} for `{}` (from {source}): {why}; allowed: {}",
                    k.name,
                    k.accepts.describe()
                ))
            })?;
            sources.insert(k.name, source);
        }
    }
    if let Some(v) = table.get(places::KEY) {
        settings.sync.places = places::parse(v, &file)?;
        sources.insert(places::KEY, Source::File(file.clone()));
    }
    let cameras = match table.get(cameras::KEY) {
        Some(v) => cameras::parse(v, &file, &settings, &sources)?,
        None => Vec::new(),
    };
    Ok(Loaded {
        settings,
        sources,
        file,
        file_found,
        cameras,
    })
}

/// `VIOFOSYNC_KEEP, KEEP`.
pub fn env_names(k: &Key) -> String {
    match k.legacy {
        Some(l) => format!("{}, {l}", k.env),
        None => k.env.to_owned(),
    }
}

/// The default as `config --keys` and the docs show it.
fn default_of(k: &Key, defaults: &Settings) -> String {
    k.doc_default
        .map_or_else(|| (k.show)(defaults), str::to_owned)
}

/// `config --keys`: every key with its environment names, default, what it
/// accepts and what it does.
pub fn describe_keys() -> String {
    let defaults = Settings::default();
    let mut out = String::new();
    for k in KEYS {
        out.push_str(&format!(
            "{}\n    env: {}\n    default: {}\n    allowed: {}\n    {}\n",
            k.name,
            env_names(k),
            default_of(k, &defaults),
            k.accepts.describe(),
            k.help
        ));
    }
    out
}

/// The settings table of docs/CONFIGURATION.md (between its markers).
pub fn docs_table() -> String {
    let defaults = Settings::default();
    let cell = |s: &str| s.replace('|', "\\|");
    let code = |s: &str| format!("`{s}`");
    let mut out = String::from(
        "| key | default | environment | Python tool's name | allowed | what it does |\n\
         |---|---|---|---|---|---|\n",
    );
    for k in KEYS {
        let default = match default_of(k, &defaults).as_str() {
            "(unset)" => "unset".to_owned(),
            d => code(d),
        };
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} | {} | {} |\n",
            k.name,
            cell(&default),
            k.env,
            k.legacy.map(code).unwrap_or_default(),
            cell(&k.accepts.describe()),
            cell(k.help)
        ));
    }
    out
}

/// The Python tool's names, comma-separated (for `--help`).
pub fn legacy_names() -> String {
    KEYS.iter()
        .filter_map(|k| k.legacy)
        .collect::<Vec<_>>()
        .join(", ")
}
