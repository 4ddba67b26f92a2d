//! The `viofosync` command: argument parsing, configuration, logging and
//! progress, wiring the crates together. No sync logic lives here.
// The argument structs' doc comments are the command line's help text
// (clap), where `[[camera]]` is a configuration table, not a link, and
// `<config dir>` a placeholder, not HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod commands;
mod config;
mod container;
#[cfg(feature = "sim")]
mod demo;
mod doctor;
mod errors;
mod gpx;
mod import;
mod multi;
mod output;
mod places;
mod progress;
mod report;
#[cfg(feature = "sim")]
mod sim;
mod status;
mod stdout;
mod trips;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{GlobalArgs, SettingsArgs};
use crate::errors::Exit;
use crate::stdout::{errln, out, outln};

/// `--help`'s closing text: the exit codes and where settings come from.
fn after_help() -> String {
    format!(
        "\
Exit codes:
  0    success
  1    other error (I/O, state database, camera error)
  2    configuration error (invalid value, unknown key, missing address or
       archive; the archive folder missing, not a folder or not writable,
       or in use by another viofosync process)
  3    camera unreachable
  4    disk full (or fuller than max_used_disk, or the archive at its quota)
  5    finished with failures: clips left failed or deferred (see them with
       `viofosync queue --state failed`, retry with `viofosync retry-failed`)
  130  interrupted (SIGINT/SIGTERM) before the sync finished

Configuration: flags > VIOFOSYNC_* environment > the Python tool's names >
the config file > defaults. The Python tool's names:
  {}
`viofosync config` shows the effective values, where each came from, and
the file's path; `viofosync config --keys` lists every setting.",
        config::legacy_names()
    )
}

/// Keep a Viofo dashcam's recordings safe: download them over Wi-Fi,
/// extract each clip's GPS track, optionally delete them from the camera,
/// prune the archive.
#[derive(Debug, Parser)]
#[command(name = "viofosync", version, about, after_help = after_help())]
struct Cli {
    /// Configuration file [default: <config dir>/viofosync/config.toml;
    /// env VIOFOSYNC_CONFIG].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Less log output (-q warnings only, -qq errors only); no progress bars.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    quiet: u8,
    #[command(flatten)]
    globals: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one sync cycle (probe, list, download, tail, retention), then exit.
    Sync(CameraArgs),
    /// Sync on an interval, backing off while the camera is away (daemon mode).
    Watch(CameraArgs),
    /// Camera reachability and model, queue counts, the last cycle's numbers.
    Status(StatusArgs),
    /// List the clips the state database knows, optionally by state.
    Queue(QueueArgs),
    /// Return every failed clip to the queue.
    RetryFailed(CameraArgs),
    /// Per-stage timings of the last cycles (p50/p95, gaps, tail overlap).
    Timings(TimingsArgs),
    /// Extract GPS tracks from clips on disk.
    Gpx(gpx::GpxArgs),
    /// Archive the clips of an SD card or a folder as a sync would (--move removes the sources).
    Import(import::ImportArgs),
    /// Serve a simulated camera on 127.0.0.1.
    #[cfg(feature = "sim")]
    Sim(sim::SimArgs),
    /// Check configuration, state database, archive and camera.
    Doctor(DoctorArgs),
    /// Print the effective configuration, each value's source, the file path.
    Config(ConfigArgs),
    /// The journeys (trips) detected from the GPS tracks, newest first; `trips show ID` lists one's clips.
    Trips(trips::TripsArgs),
    /// List the configured places ([[place]] in the file) and how many clips each matched.
    Places(CameraArgs),
    /// Sync a simulated camera into a fresh folder; show what landed where and the timings.
    #[cfg(feature = "sim")]
    Demo(demo::DemoArgs),
    /// Exit 0 while watch's status page answers on `listen`, else 1 (the container's health check).
    Health(container::HealthArgs),
}

impl Command {
    /// The settings flags of a command that reads the configuration;
    /// `None` for `gpx`, `sim` and `demo`, which never read it (the demo
    /// must work whatever a user's file says) and only take the log format.
    fn settings(&self) -> Option<&SettingsArgs> {
        match self {
            Command::Sync(c) | Command::Watch(c) | Command::RetryFailed(c) | Command::Places(c) => {
                Some(&c.settings)
            }
            Command::Import(i) => Some(&i.settings),
            Command::Status(s) => Some(&s.settings),
            Command::Doctor(d) => Some(&d.settings),
            Command::Queue(q) => Some(&q.settings),
            Command::Timings(t) => Some(&t.settings),
            Command::Config(c) => Some(&c.settings),
            Command::Trips(t) => Some(&t.settings),
            Command::Health(h) => Some(&h.settings),
            Command::Gpx(_) => None,
            #[cfg(feature = "sim")]
            Command::Sim(_) | Command::Demo(_) => None,
        }
    }

    /// `demo`, whose in-process simulator's info lines are kept quiet.
    fn is_demo(&self) -> bool {
        #[cfg(feature = "sim")]
        return matches!(self, Command::Demo(_));
        #[cfg(not(feature = "sim"))]
        false
    }
}

/// The options of `sync`, `watch`, `retry-failed` and `places`.
#[derive(Debug, Args)]
struct CameraArgs {
    /// Only this camera ([[camera]] id; default: every configured camera).
    #[arg(long = "camera", value_name = "ID")]
    camera_filter: Option<String>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// `queue` options.
#[derive(Debug, Args)]
struct QueueArgs {
    /// Only clips in these states (pending, downloading, downloaded, done,
    /// failed, gone, pruned, or skipped: pending clips the sync leaves out,
    /// with why); repeat or comma-separate.
    #[arg(long, value_delimiter = ',', value_parser = parse_state)]
    state: Vec<commands::QueueState>,
    /// Only this camera id (default: every camera).
    #[arg(long = "camera", value_name = "ID")]
    camera_filter: Option<String>,
    /// Show at most this many clips.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// `status` options.
#[derive(Debug, Args)]
struct StatusArgs {
    /// Print the status as the JSON of `watch`'s /api/status (read from the
    /// state database and a probe of the camera; writes nothing).
    #[arg(long)]
    json: bool,
    /// The camera to show (a [[camera]] id, or any camera id the state
    /// database knows; default: the configured camera(s)).
    #[arg(long = "camera", value_name = "ID")]
    camera_filter: Option<String>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// `timings` options.
#[derive(Debug, Args)]
struct TimingsArgs {
    /// How many recent cycles to show.
    #[arg(long, default_value_t = 5)]
    cycles: u32,
    /// Only this camera's cycles (default: every camera's).
    #[arg(long = "camera", value_name = "ID")]
    camera_filter: Option<String>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// `doctor` options.
#[derive(Debug, Args)]
struct DoctorArgs {
    /// Create the archive folder if it does not exist (nothing else is
    /// ever created by doctor).
    #[arg(long)]
    init: bool,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// `config` options.
#[derive(Debug, Args)]
struct ConfigArgs {
    /// Print only the configuration file's path.
    #[arg(long)]
    path: bool,
    /// List every key with its environment names, what it accepts and what it does.
    #[arg(long, conflicts_with = "path")]
    keys: bool,
    #[command(flatten)]
    settings: SettingsArgs,
}

fn parse_state(s: &str) -> Result<commands::QueueState, String> {
    use viofo_store::ClipState;
    if s.trim().eq_ignore_ascii_case("skipped") {
        return Ok(commands::QueueState::Skipped);
    }
    ClipState::ALL
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
        .map(commands::QueueState::Clip)
        .ok_or_else(|| {
            let all: Vec<&str> = ClipState::ALL.iter().map(|c| c.as_str()).collect();
            format!(
                "unknown state {s:?}: expected one of {}, skipped",
                all.join(", ")
            )
        })
}

fn main() -> ExitCode {
    // In the container image: the old image's names, and the switch to
    // PUID:PGID before any file is touched or any thread started.
    let (cli, container) = match container::start(config::parse::<Cli>()) {
        Ok(started) => started,
        Err(e) => {
            errln!("viofosync: configuration error: {e}");
            return Exit::Config.into();
        }
    };
    // `gpx` reads clips on disk: no runtime and no configuration file
    // (its options are all flags), so it runs at process speed (issue 12).
    if let Command::Gpx(args) = &cli.command {
        return gpx::run(args);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("viofosync: cannot start the async runtime: {e}");
            return Exit::Other.into();
        }
    };
    let code = runtime.block_on(run(cli, container));
    // Don't wait for blocked tasks (a stalled camera read) on the way out.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    output::clear_bars();
    code
}

async fn run(cli: Cli, container: container::Plan) -> ExitCode {
    let verbosity =
        i8::try_from(cli.verbose).unwrap_or(i8::MAX) - i8::try_from(cli.quiet).unwrap_or(i8::MAX);
    let settings_args = cli.command.settings();
    let needs_config = settings_args.is_some();
    let mut flags = settings_args
        .map(|s| s.flags().to_vec())
        .unwrap_or_default();
    flags.extend_from_slice(cli.globals.flags());
    let env = |name: &str| container.env(name).or_else(|| std::env::var(name).ok());
    let loaded = if needs_config {
        config::load(cli.config.as_deref(), &env, &flags)
    } else {
        config::load(
            None,
            &|n: &str| {
                if n == "VIOFOSYNC_LOG_FORMAT" {
                    env(n)
                } else {
                    None
                }
            },
            &flags,
        )
        .map(|mut l| {
            l.settings = config::Settings {
                log_format: l.settings.log_format,
                ..config::Settings::default()
            };
            l
        })
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            // A JSON log stays JSON: one object on stderr.
            if output::format_hint(&flags, &env) == config::LogFormat::Json {
                output::init(config::LogFormat::Json, 0, false);
                tracing::error!(exit_code = Exit::Config as u8, "configuration error: {e}");
            } else {
                errln!("viofosync: configuration error: {e}");
            }
            return Exit::Config.into();
        }
    };
    let bars = output::init(loaded.settings.log_format, verbosity, cli.command.is_demo());
    for note in &container.notes {
        tracing::info!("{note}");
    }

    let result = match cli.command {
        Command::Sync(c) => Box::pin(multi::sync(&loaded, c.camera_filter.as_deref(), bars)).await,
        Command::Watch(c) => {
            Box::pin(multi::watch(&loaded, c.camera_filter.as_deref(), bars)).await
        }
        Command::Status(s) if s.json => {
            status::status_json(&loaded, s.camera_filter.as_deref()).await
        }
        Command::Status(s) => status::status(&loaded, s.camera_filter.as_deref()).await,
        Command::Queue(q) => {
            commands::queue(&loaded, &q.state, q.camera_filter.as_deref(), q.limit).await
        }
        Command::RetryFailed(c) => {
            commands::retry_failed(&loaded, c.camera_filter.as_deref()).await
        }
        Command::Timings(t) => {
            commands::timings(&loaded, t.cycles, t.camera_filter.as_deref()).await
        }
        Command::Doctor(d) => doctor::doctor(&loaded, d.init).await,
        Command::Import(i) => import::run(&loaded, &i, bars).await,
        Command::Places(c) => places::places(&loaded, c.camera_filter.as_deref()).await,
        Command::Trips(t) => trips::trips(&loaded, &t).await,
        Command::Config(c) => {
            if c.path {
                outln!("{}", loaded.file.display());
            } else if c.keys {
                out!("{}", config::describe_keys());
            } else {
                out!("{}", commands::render_config(&loaded));
            }
            Ok(Exit::Success)
        }
        // Dispatched by `main` before the runtime; kept for completeness.
        Command::Gpx(args) => return gpx::run(&args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => sim::run(&args, sim::first_signal())
            .await
            .map(|()| Exit::Success),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(&args, bars).await,
        Command::Health(_) => container::health(&loaded).await,
    };
    // Nothing of the bars stays behind the prompt or under an error.
    output::clear_bars();
    let code = match result {
        Ok(code) => code,
        Err(e) => errors::report(&e, loaded.settings.log_format),
    };
    // A report cut short by a full disk is not a success; a reader that
    // went away (`| head`) is.
    if code == Exit::Success && stdout::failed() {
        return Exit::Other.into();
    }
    code.into()
}
