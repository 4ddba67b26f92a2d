//! The settings flags of the command line, made from the rows of
//! [`viofo_config::keys::KEYS`]; the configuration itself (file,
//! environment, precedence, several cameras, places) is the `viofo-config`
//! crate, re-exported here.

use std::sync::OnceLock;

use clap::{Arg, ArgAction, ArgMatches};
use viofo_config::keys::{Accepts, KEYS};
pub(crate) use viofo_config::*;

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

/// Adds the flag of every key whose `global` is `global` and, for the
/// settings flags, that the command `name` uses ([`Key::commands`]).
///
/// [`Key::commands`]: viofo_config::keys::Key::commands
fn add_flags(mut cmd: clap::Command, global: bool, name: &str) -> clap::Command {
    for (k, (long, value)) in KEYS.iter().zip(flag_names()) {
        if k.global != global || !(global || k.commands.contains(&name)) {
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
    ($ty:ty, $global:expr) => {
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
    };
}

flags_from_keys!(SettingsArgs, false);
flags_from_keys!(GlobalArgs, true);

/// The global flags (`--log-format`), on every command.
impl clap::Args for GlobalArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        add_flags(cmd, true, "")
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// A command's settings flags depend on the command, which clap does not
/// tell a flattened struct: they are added by [`with_settings_flags`].
impl clap::Args for SettingsArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd
    }
}

/// `cli` with each subcommand's settings flags: those of the keys it uses
/// ([`Key::commands`]), so every command documents and accepts only its
/// own (`queue --mqtt-url x` is a usage error, exit code 2).
///
/// [`Key::commands`]: viofo_config::keys::Key::commands
pub(crate) fn with_settings_flags(mut cli: clap::Command) -> clap::Command {
    let names: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        cli = cli.mut_subcommand(&name, |sub| {
            let sub = sub.next_help_heading("Settings");
            add_flags(sub, false, &name)
        });
    }
    cli
}

/// Parses the command line of `T` with [`with_settings_flags`] (what
/// `T::parse()` does, settings flags included).
pub(crate) fn parse<T: clap::Parser>() -> T {
    let cmd = with_settings_flags(T::command());
    let mut m = cmd.get_matches();
    T::from_arg_matches_mut(&mut m)
        .unwrap_or_else(|e| e.format(&mut with_settings_flags(T::command())).exit())
}
