//! Configuration: defaults (from the crates' own config types) < TOML file
//! < the Python tool's environment names < `VIOFOSYNC_*` environment <
//! flags, with the source of every value kept for `viofosync config`.
//!
//! Every setting is one row of [`keys::KEYS`]; its flag, environment
//! names, file key, `config --keys` entry and docs/CONFIGURATION.md row
//! are made from that row. Every raw value, whatever its source, goes
//! through the row's parser, so an invalid value is refused with the same
//! message (key, value, source, what is allowed).

mod camera;
mod cameras;
mod file;
mod keys;
mod mqtt;
mod parse;
mod places;
mod row;
#[cfg(test)]
mod tests;
mod triage;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};
use viofo_client::ClientConfig;
use viofo_pipeline::{GpsConfig, SyncConfig};

use keys::{Accepts, KEYS, Key};
pub(crate) use mqtt::mqtt_config;
pub(crate) use parse::show_duration;
#[cfg(feature = "sim")]
pub(crate) use parse::{clip_size_arg, duration_arg, parse_size};

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

/// The effective settings. The pipeline's and the client's settings live
/// in their own config types, so their defaults and checks are theirs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) address: Option<String>,
    pub(crate) camera_id: Option<String>,
    pub(crate) archive: Option<PathBuf>,
    pub(crate) create_archive: bool,
    pub(crate) state_db: Option<PathBuf>,
    pub(crate) allow_network_fs: bool,
    pub(crate) import_legacy: bool,
    pub(crate) interval: Duration,
    /// `watch`'s status server address; `None`: off.
    pub(crate) listen: Option<SocketAddr>,
    /// The token the status server requires (beyond loopback).
    pub(crate) status_token: Option<String>,
    /// `watch`'s MQTT surface; an empty URL: off. `Debug` hides the password.
    pub(crate) mqtt: viofo_mqtt::MqttConfig,
    pub(crate) dry_run: bool,
    pub(crate) log_format: LogFormat,
    /// Write GPS sidecars (with `gps_options`).
    pub(crate) gps: bool,
    pub(crate) gps_options: GpsConfig,
    /// The pipeline's settings; camera id and archive are filled in by
    /// [`Settings::sync_config`].
    pub(crate) sync: SyncConfig,
    /// The client's limits; the address is filled in by
    /// [`Settings::client_config`].
    pub(crate) client: ClientConfig,
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
    pub(crate) fn sync_config(&self, camera_id: &str, archive: &Path) -> SyncConfig {
        let mut c = self.sync.clone();
        camera_id.clone_into(&mut c.camera_id);
        archive.clone_into(&mut c.archive);
        c.gps = self.gps.then_some(self.gps_options);
        c
    }

    /// The client's settings for `address`. `timeout` bounds each wait for
    /// the camera, so the whole-call limits are never shorter than it.
    pub(crate) fn client_config(&self, address: &str) -> ClientConfig {
        let mut c = self.client.clone();
        address.clone_into(&mut c.base_url);
        c.command_timeout = c.command_timeout.max(c.idle_timeout);
        c.probe_timeout = c.probe_timeout.max(c.connect_timeout);
        c
    }
}

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
    /// The `[[camera]]` tables; empty: the single camera of the top-level
    /// settings.
    pub(crate) cameras: Vec<cameras::CameraEntry>,
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
    pub(crate) fn per_camera(&self) -> Vec<Loaded> {
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

    /// The camera identity: `camera_id`, else the address's `host[:port]`.
    pub(crate) fn camera_id(&self) -> Option<String> {
        let s = &self.settings;
        s.camera_id
            .clone()
            .or_else(|| s.address.as_deref().map(parse::camera_id_of))
    }
}

/// Loads the configuration. `explicit_file` is `--config`; without it
/// `VIOFOSYNC_CONFIG`, else the default file (which need not exist).
/// `flags` are (key, raw value) from the command line.
pub(crate) fn load(
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
fn env_names(k: &Key) -> String {
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
pub(crate) fn describe_keys() -> String {
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
#[cfg(test)]
pub(crate) fn docs_table() -> String {
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
pub(crate) fn legacy_names() -> String {
    KEYS.iter()
        .filter_map(|k| k.legacy)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Flag names (`max-used-disk`) and value names (`MAX_USED_DISK`) of
/// every key, made once: clap keeps `&'static str`s.
fn flag_names() -> &'static [(String, String)] {
    static NAMES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        KEYS.iter()
            .map(|k| (k.flag(), k.name.to_ascii_uppercase()))
            .collect()
    })
}

/// Adds the flag of every key whose `global` is `global`.
fn add_flags(mut cmd: clap::Command, global: bool) -> clap::Command {
    for (k, (long, value)) in KEYS.iter().zip(flag_names()) {
        if k.global != global {
            continue;
        }
        let mut arg = Arg::new(k.name)
            .long(long.as_str())
            .help(match k.accepts {
                Accepts::Bool => format!("{} [env {}]", capitalised(k.help), env_names(k)),
                a => format!(
                    "{}; accepts {} [env {}]",
                    capitalised(k.help),
                    a.describe(),
                    env_names(k)
                ),
            })
            .action(ArgAction::Set)
            .value_parser(clap::builder::ValueParser::string())
            .global(global);
        arg = match k.accepts {
            Accepts::Bool => arg
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true")
                .value_name("BOOL"),
            _ => arg.value_name(value.as_str()),
        };
        if k.hyphen_values {
            arg = arg.allow_hyphen_values(true);
        }
        if let Some(alias) = k.alias {
            arg = arg.visible_alias(alias);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// (key, raw value) of every flag given among those whose `global` is
/// `global`.
fn given(m: &ArgMatches, global: bool) -> Vec<(&'static str, String)> {
    KEYS.iter()
        .filter(|k| k.global == global)
        .filter_map(|k| {
            m.try_get_one::<String>(k.name)
                .ok()
                .flatten()
                .map(|v| (k.name, v.clone()))
        })
        .collect()
}

/// The settings flags (one per key of [`keys::KEYS`]); each overrides the
/// environment and the file. Booleans take `--flag` or `--flag=false`.
#[derive(Debug, Default, Clone)]
pub(crate) struct SettingsArgs {
    given: Vec<(&'static str, String)>,
}

/// The global flags made from keys (`--log-format`).
#[derive(Debug, Default, Clone)]
pub(crate) struct GlobalArgs {
    given: Vec<(&'static str, String)>,
}

macro_rules! flags_from_keys {
    ($ty:ty, $global:expr, $heading:expr) => {
        impl $ty {
            /// (key, raw value) for every flag given.
            pub(crate) fn flags(&self) -> &[(&'static str, String)] {
                &self.given
            }
        }

        impl clap::FromArgMatches for $ty {
            fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
                Ok(Self {
                    given: given(m, $global),
                })
            }
            fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
                self.given = given(m, $global);
                Ok(())
            }
        }

        impl clap::Args for $ty {
            fn augment_args(cmd: clap::Command) -> clap::Command {
                let cmd = match $heading {
                    Some(h) => cmd.next_help_heading(h),
                    None => cmd,
                };
                add_flags(cmd, $global)
            }
            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }
    };
}

flags_from_keys!(SettingsArgs, false, Some("Settings"));
flags_from_keys!(GlobalArgs, true, None::<&str>);
