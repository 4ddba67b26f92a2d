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
