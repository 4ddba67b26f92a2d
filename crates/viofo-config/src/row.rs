//! What one row of the settings table is ([`Key`]): its names, what it
//! accepts, its help and its parser and printer.

use std::borrow::Cow;

use super::Settings;
use super::parse::range_words;

/// Writes a raw value into the settings, or says why it is refused.
pub(crate) type Apply = fn(&mut Settings, &str) -> Result<(), String>;
/// The value as `config` shows it (and as the parser reads it back).
pub(crate) type Show = fn(&Settings) -> String;

/// Connections to the camera (and downloads) at once: 1 up to the client's
/// limit.
pub const CONNECTIONS: (usize, usize) = (1, viofo_client::MAX_CONNECTIONS);

/// What a key accepts.
#[derive(Debug, Clone, Copy)]
pub enum Accepts {
    /// A boolean; the flag is `--name` or `--name=false`.
    Bool,
    /// A whole number in the range.
    Range((usize, usize)),
    /// Anything else, described in words.
    Text(&'static str),
}

impl Accepts {
    /// In words, for errors and docs.
    pub fn describe(self) -> Cow<'static, str> {
        match self {
            Accepts::Bool => Cow::Borrowed("true or false"),
            Accepts::Range(r) => Cow::Owned(range_words(r)),
            Accepts::Text(t) => Cow::Borrowed(t),
        }
    }
}

/// One setting.
pub struct Key {
    /// Name in the file (and, with dashes, the flag).
    pub name: &'static str,
    /// `VIOFOSYNC_*` name.
    pub env: &'static str,
    /// The Python tool's name, where one maps.
    pub legacy: Option<&'static str>,
    /// What it accepts.
    pub accepts: Accepts,
    /// One line of help.
    pub help: &'static str,
    /// Its flag is global (every command, before or after the command
    /// name) instead of one of the settings flags.
    pub global: bool,
    /// Its flag takes values starting with `-` (`--utc-offset -05:00`).
    pub hyphen_values: bool,
    /// Another name of its flag.
    pub alias: Option<&'static str>,
    /// The default as the docs show it, where it depends on the machine.
    pub doc_default: Option<&'static str>,
    /// The commands that take it as a flag (and show it in `--help`); the
    /// others refuse it (exit code 2). One of [`EVERY`], [`SYNCING`],
    /// [`WATCHING`], or a list of its own. Ignored for a `global` key.
    pub commands: &'static [&'static str],
    pub apply: Apply,
    pub show: Show,
}

impl Key {
    /// `--max-used-disk`'s `max-used-disk`.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// Every command that reads the configuration: where the state database
/// and the archive are, the options every one of them uses.
pub const EVERY: &[&str] = &[
    "sync",
    "watch",
    "status",
    "queue",
    "retry-failed",
    "timings",
    "import",
    "doctor",
    "config",
    "trips",
    "places",
    "health",
];

/// The commands that sync or talk to the camera, and the two that show
/// and check the whole configuration (`config` prints each key's value
/// and source, flags included; `doctor` checks them).
pub const SYNCING: &[&str] = &["sync", "watch", "status", "import", "doctor", "config"];

/// `watch`'s own surfaces (interval, status page, MQTT), with `config`
/// and `doctor`.
pub const WATCHING: &[&str] = &["watch", "doctor", "config"];

/// The fields most keys leave as they are.
pub const BASE: Key = Key {
    name: "",
    env: "",
    legacy: None,
    accepts: Accepts::Bool,
    help: "",
    global: false,
    hyphen_values: false,
    alias: None,
    doc_default: None,
    commands: SYNCING,
    apply: |_, _| Ok(()),
    show: |_| String::new(),
};
