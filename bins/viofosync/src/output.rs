//! Logging and progress: tracing to stderr (text or JSON), and on a
//! terminal indicatif progress bars (through tracing-indicatif, so log
//! lines print above the bars instead of through them).

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};

use indicatif::ProgressStyle;
use tracing::Span;
use tracing_indicatif::IndicatifLayer;
use tracing_indicatif::filter::{IndicatifFilter, hide_indicatif_span_fields};
use tracing_indicatif::span_ext::IndicatifSpanExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::fmt::format::DefaultFields;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use viofo_pipeline::{CycleSummary, DeleteResult, Event};

use crate::config::LogFormat;

/// Sets up logging. `verbosity`: 0 = info, 1 = debug, 2+ = trace, -1 =
/// warn, -2 or less = error. `RUST_LOG` overrides it. `quiet_sim` keeps the
/// in-process simulator's own info lines out (the demo says where it is).
/// Returns whether progress bars are shown.
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
            let indicatif = IndicatifLayer::new()
                .with_span_field_formatter(hide_indicatif_span_fields(DefaultFields::new()));
            tracing_subscriber::registry()
                .with(filter)
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_target(false)
                        .with_writer(indicatif.get_stderr_writer()),
                )
                .with(indicatif.with_filter(IndicatifFilter::new(false)))
                .try_init()
        }
        LogFormat::Text => tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_ansi(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Already initialised (only in tests): keep the first.
    drop(result);
    bars
}

/// Human-readable bytes (`12.3 MB`).
pub(crate) fn bytes(n: u64) -> String {
    indicatif::DecimalBytes(n).to_string()
}

#[derive(Default)]
struct State {
    /// The last cycle's numbers.
    last: Option<CycleSummary>,
    overall: Option<Span>,
    done: u64,
    total: u64,
    listed: bool,
    clips: HashMap<String, Span>,
}

/// Turns pipeline events into log lines and progress bars.
#[derive(Clone)]
pub(crate) struct Progress {
    bars: bool,
    /// Warn after each cycle that left failures (watch: no exit per cycle).
    announce_failures: bool,
    state: Arc<Mutex<State>>,
}

impl Progress {
    pub(crate) fn new(bars: bool) -> Self {
        Self {
            bars,
            announce_failures: false,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// Warns, after each cycle that did not end ok, what it left behind
    /// and the commands to see and retry it.
    pub(crate) fn announce_failures(mut self) -> Self {
        self.announce_failures = true;
        self
    }

    /// The last finished cycle's numbers.
    pub(crate) fn last_cycle(&self) -> Option<CycleSummary> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last
            .clone()
    }

    /// The event sink for [`viofo_pipeline::Syncer::new`].
    pub(crate) fn sink(&self) -> impl Fn(Event) + Send + Sync + 'static {
        let me = self.clone();
        move |e| me.on_event(e)
    }

    fn on_event(&self, event: Event) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::CycleStarted { mode } => {
                tracing::debug!("cycle started ({mode} tail)");
                st.done = 0;
                st.total = 0;
                st.listed = false;
            }
            Event::CameraOnline { firmware } => match firmware {
                Some(f) => tracing::info!("camera online, firmware {f}"),
                None => tracing::info!("camera online"),
            },
            Event::CameraOffline { reason } => tracing::warn!("camera offline: {reason}"),
            Event::Listed { clips, pending } => {
                if st.listed {
                    tracing::debug!("camera lists {clips} clips, {pending} to download");
                } else {
                    tracing::info!("camera lists {clips} clips, {pending} to download");
                    st.listed = true;
                }
                st.total = st.done + pending as u64;
                if self.bars && st.total > 0 {
                    if st.overall.is_none() {
                        let span = tracing::info_span!(
                            parent: None,
                            "sync",
                            indicatif.pb_show = tracing::field::Empty
                        );
                        span.pb_set_style(&style(
                            "{spinner} clips {pos}/{len} · {msg} · elapsed {elapsed}",
                        ));
                        span.pb_start();
                        st.overall = Some(span);
                    }
                    let (done, total) = (st.done, st.total);
                    if let Some(s) = &st.overall {
                        s.pb_set_length(total);
                        s.pb_set_position(done);
                        s.pb_set_message(&format!("{} left", total.saturating_sub(done)));
                    }
                }
            }
            Event::ItemStarted { name, size } => {
                tracing::debug!(
                    "downloading {name} ({})",
                    size.map_or_else(|| "size unknown".into(), bytes)
                );
                if self.bars {
                    let span = tracing::info_span!(
                        parent: None,
                        "clip",
                        indicatif.pb_show = tracing::field::Empty
                    );
                    span.pb_set_style(&style(
                        "  {msg} {wide_bar} {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} ETA {eta}",
                    ));
                    span.pb_set_length(size.unwrap_or(0));
                    span.pb_set_message(&name);
                    span.pb_start();
                    st.clips.insert(name, span);
                }
            }
            Event::ItemProgress { name, bytes, total } => {
                if let Some(span) = st.clips.get(&name) {
                    if let Some(t) = total {
                        span.pb_set_length(t);
                    }
                    span.pb_set_position(bytes);
                }
            }
            Event::ItemDone {
                name,
                bytes: n,
                duration,
            } => {
                st.clips.remove(&name);
                st.done += 1;
                st.total = st.total.max(st.done);
                let secs = duration.as_secs_f64();
                let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let rate = bytes(rate as u64);
                tracing::info!("archived {name} ({}, {secs:.1}s, {rate}/s)", bytes(n));
                let (done, total) = (st.done, st.total);
                if let Some(s) = &st.overall {
                    s.pb_set_length(total);
                    s.pb_set_position(done);
                    s.pb_set_message(&format!("{} left", total.saturating_sub(done)));
                }
            }
            Event::ItemFailed {
                name,
                error,
                retryable,
            } => {
                st.clips.remove(&name);
                // The pipeline warns about every failure itself.
                let again = if retryable {
                    "will retry"
                } else {
                    "not retried"
                };
                tracing::debug!("{name} failed ({again}): {error}");
            }
            Event::ItemSkipped { name, reason } => {
                st.clips.remove(&name);
                tracing::info!("skipped {name}: {reason}");
            }
            Event::Delete { name, outcome } => match outcome {
                // The pipeline logs confirmed deletes itself.
                DeleteResult::Confirmed => tracing::debug!("deleted {name} from the camera"),
                DeleteResult::Refused { status } => {
                    tracing::warn!("the camera refused to delete {name} (status {status})");
                }
                DeleteResult::Waiting { reason } => {
                    tracing::debug!("{name} stays on the camera for now: {reason}");
                }
                DeleteResult::Skipped { reason } => {
                    tracing::debug!("not deleting {name} from the camera: {reason}");
                }
            },
            Event::DeleteRetried { name, error } => {
                tracing::warn!(
                    "deleting {name} from the camera failed (asked again later): {error}"
                );
            }
            Event::Pruned { path, reason } => {
                tracing::info!("retention removed {} ({reason})", path.display());
            }
            Event::CycleDone(summary) => {
                st.clips.clear();
                st.overall = None;
                if self.announce_failures && !summary.is_ok() {
                    tracing::warn!("{}", crate::report::failures(&summary));
                }
                st.last = Some(summary);
            }
            _ => {}
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
