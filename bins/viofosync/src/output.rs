//! Logging and progress: tracing to stderr (text or JSON), and on a
//! terminal indicatif progress bars ([`Progress`]): log lines print above
//! the bars instead of through them, and [`clear_bars`] leaves nothing
//! behind when the command ends (Ctrl-C and errors too).

use std::io::IsTerminal as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{MultiProgress, ProgressDrawTarget};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;
pub(crate) use crate::progress::Progress;

/// The terminal's bars, when they are shown.
static BARS: OnceLock<MultiProgress> = OnceLock::new();
/// Logs are JSON: events carry their numbers as fields.
static JSON: AtomicBool = AtomicBool::new(false);

/// The bars every [`Progress`] draws on, when they are shown.
pub(crate) fn bars() -> Option<&'static MultiProgress> {
    BARS.get()
}

/// Whether logs are JSON (then log lines carry structured fields).
pub(crate) fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Takes the bars off the terminal for good: called when a command ends,
/// whether it succeeded, failed or was interrupted, so no bar or half
/// drawn line stays behind the shell prompt.
pub(crate) fn clear_bars() {
    if let Some(mp) = BARS.get() {
        let _ = mp.clear();
        mp.set_draw_target(ProgressDrawTarget::hidden());
    }
}

/// Log lines on stderr, printed above the bars (which are hidden for the
/// time it takes and drawn again below).
#[derive(Clone)]
struct AboveBars(MultiProgress);

impl<'a> MakeWriter<'a> for AboveBars {
    type Writer = AboveBars;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl std::io::Write for AboveBars {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The formatter hands over a whole line at once.
        self.0.suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The log format asked for on the command line or in the environment,
/// for reporting a configuration that could not be loaded (so a JSON log
/// stays JSON even then). The file's `log_format` is not read: the file
/// may be what is wrong.
pub(crate) fn format_hint(
    flags: &[(&'static str, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> LogFormat {
    let asked = flags
        .iter()
        .rev()
        .find(|(k, _)| *k == "log_format")
        .map(|(_, v)| v.clone())
        .or_else(|| env("VIOFOSYNC_LOG_FORMAT"));
    match asked {
        Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

/// Sets up logging. `verbosity`: 0 = info, 1 = debug, 2+ = trace, -1 =
/// warn, -2 or less = error. `RUST_LOG` overrides it. `quiet_sim` keeps the
/// in-process simulator's own info lines out (the demo says where it is).
/// Returns whether progress bars are shown: text logs, not quiet, stderr
/// a terminal.
pub(crate) fn init(format: LogFormat, verbosity: i8, quiet_sim: bool) -> bool {
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let sim = if quiet_sim && verbosity <= 0 {
            ",viofo_sim=warn"
        } else {
            ""
        };
        EnvFilter::new(format!(
            "{level},hyper=warn,hyper_util=warn,reqwest=warn,sqlx=warn{sim}"
        ))
    });
    let bars = format == LogFormat::Text && verbosity >= 0 && std::io::stderr().is_terminal();
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    let result = match format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Text if bars => {
            let mp =
                BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
            tracing_subscriber::registry()
                .with(filter)
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_target(false)
                        .fmt_fields(sentence_only())
                        .with_writer(AboveBars(mp.clone())),
                )
                .try_init()
        }
        LogFormat::Text => tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_ansi(false)
                    .fmt_fields(sentence_only())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Already initialised (only in tests): keep the first.
    drop(result);
    bars
}

/// Text logs say everything in the sentence: an event's fields (its
/// numbers, carried for JSON logs) are left out, a span's `id` (the camera
/// of several) is kept.
fn sentence_only() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| match field.name() {
        "message" => write!(w, "{value:?}"),
        "id" => write!(w, "id={value:?}"),
        _ => Ok(()),
    })
}

/// Human-readable bytes (`12.3 MB`).
pub(crate) fn bytes(n: u64) -> String {
    indicatif::DecimalBytes(n).to_string()
}
