//! Exit codes and error text: which exit code an error calls for, and an
//! error printed with each of its causes once.

use std::process::ExitCode;

use crate::config::{ConfigError, LogFormat};
use crate::stdout::errln;

/// Process exit codes (documented in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Success = 0,
    Other = 1,
    Config = 2,
    CameraUnreachable = 3,
    DiskFull = 4,
    /// The sync ran to its end but left clips failed or deferred (or a
    /// state write or sidecar failed).
    FinishedWithFailures = 5,
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// The exit code an error calls for, from the first cause that says.
pub(crate) fn classify(e: &anyhow::Error) -> Exit {
    for cause in e.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return Exit::Config;
        }
        if let Some(p) = cause.downcast_ref::<viofo_pipeline::Error>() {
            return exit_for_pipeline(p);
        }
        if let Some(s) = cause.downcast_ref::<viofo_store::Error>() {
            if s.is_network_fs() || s.is_inside_recordings() {
                return Exit::Config;
            }
            if s.is_disk_full() {
                return Exit::DiskFull;
            }
        }
        if let Some(c) = cause.downcast_ref::<viofo_client::Error>() {
            if c.is_offline() {
                return Exit::CameraUnreachable;
            }
            if c.is_config() {
                return Exit::Config;
            }
        }
    }
    Exit::Other
}

pub(crate) fn exit_for_pipeline(p: &viofo_pipeline::Error) -> Exit {
    if p.is_offline() {
        Exit::CameraUnreachable
    } else if p.is_disk_full() {
        Exit::DiskFull
    } else if p.is_interrupted() {
        Exit::Interrupted
    } else if p.is_config() || p.is_archive() || p.is_wrong_camera() {
        Exit::Config
    } else {
        Exit::Other
    }
}

/// The error and its causes, each once ([`viofo_pipeline::causes`]).
pub(crate) fn chain(e: &anyhow::Error) -> String {
    viofo_pipeline::causes::join_once(e.chain().map(ToString::to_string).collect())
}

/// [`chain`] of an error that is not an [`anyhow::Error`].
pub(crate) fn chain_of(e: &(dyn std::error::Error + 'static)) -> String {
    viofo_pipeline::causes::one_line(e)
}

/// The closing line of a cycle that finished with failures (on stderr,
/// or as one JSON log line): what was left behind and the commands that
/// show and retry it.
pub(crate) fn report_failures(s: &viofo_pipeline::CycleSummary, format: LogFormat) -> Exit {
    let line = s.left_undone();
    if format == LogFormat::Json {
        tracing::error!(exit_code = Exit::FinishedWithFailures as u8, "{line}");
    } else {
        errln!("viofosync: {line}");
    }
    Exit::FinishedWithFailures
}

/// Prints a command's error (on stderr, or as one JSON log line) and
/// returns its exit code. The exit code's name leads the line unless the
/// causes already say it.
pub(crate) fn report(e: &anyhow::Error, format: LogFormat) -> Exit {
    let code = classify(e);
    let text = chain(e);
    let what = match code {
        Exit::Config => "configuration error",
        Exit::CameraUnreachable => "camera unreachable",
        _ => "",
    };
    // The camera's words for people ("cannot reach the camera at …",
    // "… answers, but not as a Viofo camera") already say it.
    let said = text.starts_with("cannot reach the camera") || text.contains("answers, but not as");
    let line = if what.is_empty() || text.contains(what) || said {
        text
    } else {
        format!("{what}: {text}")
    };
    // JSON logs stay one object per line.
    if format == LogFormat::Json {
        tracing::error!(exit_code = code as u8, "{line}");
    } else {
        errln!("viofosync: {line}");
    }
    code
}
