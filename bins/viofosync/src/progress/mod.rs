//! Pipeline events as log lines and, on a terminal, progress bars: the
//! cycle's overall line (bytes done of total, session speed, ETA) above a
//! bar per clip in flight. Log lines carry their numbers as structured
//! fields in JSON logs; an idle `watch` says what did not change at DEBUG.

mod line;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use viofo_pipeline::{CycleSummary, DeleteOutcome, Event};
use viofo_store::{ClipState, Store};

use line::Quiet;
pub(crate) use line::{Overall, overall_line};

use crate::output::bytes;

/// A log line at `$level` (`info`, `debug`, ...) whose numbers are also
/// structured fields in JSON logs (in text logs the message says them).
macro_rules! log {
    ($level:ident, { $($field:tt)* }, $($msg:tt)+) => {
        if crate::output::json() {
            tracing::$level!($($field)*, $($msg)+)
        } else {
            tracing::$level!($($msg)+)
        }
    };
}

/// [`log!`] at INFO when `loud`, else DEBUG.
macro_rules! log_if {
    ($loud:expr, { $($field:tt)* }, $($msg:tt)+) => {
        if $loud {
            log!(info, { $($field)* }, $($msg)+)
        } else {
            log!(debug, { $($field)* }, $($msg)+)
        }
    };
}

/// This cycle's numbers for the overall line.
#[derive(Default)]
struct Cycle {
    /// Counts the cycles: a queue read for an earlier one is dropped.
    generation: u64,
    listed: bool,
    clips_done: u64,
    /// Clips done when the camera was listed, plus those pending then.
    clips_total: u64,
    /// Bytes of the clips archived this cycle.
    bytes_done: u64,
    /// Clips downloading: (bytes so far, expected size).
    in_flight: HashMap<String, (u64, Option<u64>)>,
    /// Clips whose download began this cycle (not pending any more).
    started: HashSet<String>,
    /// The queue's pending clips and sizes, once read from the store.
    pending: Option<HashMap<String, u64>>,
    first_download: Option<Instant>,
}

impl Cycle {
    fn overall(&self, now: Instant) -> Overall {
        let (bytes_done, bytes_total) = viofo_status::cycle_bytes(
            self.bytes_done,
            self.in_flight.values().copied(),
            self.pending.as_ref().map(|p| p.values().sum()),
        );
        Overall {
            clips_done: self.clips_done,
            clips_total: self.clips_total,
            bytes_done,
            bytes_total,
            elapsed: self
                .first_download
                .map(|t| now.saturating_duration_since(t))
                .unwrap_or_default(),
        }
    }
}

#[derive(Default)]
struct State {
    /// The last cycle's numbers.
    last: Option<CycleSummary>,
    cycle: Cycle,
    quiet: Quiet,
    /// Where the queue's sizes are read (for the overall line's total).
    queue: Option<(Store, String)>,
    reading: bool,
    overall: Option<ProgressBar>,
    clips: HashMap<String, ProgressBar>,
}

/// Turns pipeline events into log lines and progress bars.
#[derive(Clone)]
pub(crate) struct Progress {
    bars: Option<MultiProgress>,
    /// Warn after each cycle that left failures (watch: no exit per cycle).
    announce_failures: bool,
    state: Arc<Mutex<State>>,
}

impl Progress {
    /// `bars`: draw on the terminal's bars ([`crate::output::bars`]).
    pub(crate) fn new(bars: bool) -> Self {
        Self::on(crate::output::bars().filter(|_| bars).cloned())
    }

    /// Draws on `bars` (`None`: log lines only).
    pub(crate) fn on(bars: Option<MultiProgress>) -> Self {
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

    /// Reads the pending clips' sizes of `camera_id` from `store` after
    /// each listing, so the overall line knows the cycle's total bytes
    /// (only while bars are shown).
    pub(crate) fn read_queue(&self, store: Store, camera_id: &str) {
        if self.bars.is_some() {
            self.lock().queue = Some((store, camera_id.to_owned()));
        }
    }

    /// The last finished cycle's numbers.
    pub(crate) fn last_cycle(&self) -> Option<CycleSummary> {
        self.lock().last.clone()
    }

    /// The event sink for [`viofo_pipeline::Syncer::new`].
    pub(crate) fn sink(&self) -> impl Fn(Event) + Send + Sync + 'static {
        let me = self.clone();
        move |e| me.on_event(e)
    }

    /// The overall line as drawn now (`None` without bars or a cycle).
    #[cfg(test)]
    pub(crate) fn overall_message(&self) -> Option<String> {
        self.lock().overall.as_ref().map(ProgressBar::message)
    }

    /// How many bars are up.
    #[cfg(test)]
    pub(crate) fn bar_count(&self) -> usize {
        let st = self.lock();
        st.clips.len() + usize::from(st.overall.is_some())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes every bar down.
    fn clear_bars(&self, st: &mut State) {
        let Some(mp) = &self.bars else { return };
        for pb in st.clips.drain().map(|(_, pb)| pb).chain(st.overall.take()) {
            pb.finish_and_clear();
            mp.remove(&pb);
        }
    }

    /// Draws the overall line (putting it up when there is work).
    fn draw_overall(&self, st: &mut State) {
        let Some(mp) = &self.bars else { return };
        if st.overall.is_none() {
            if st.cycle.clips_total == 0 && st.cycle.in_flight.is_empty() {
                return;
            }
            let pb = mp.insert(0, ProgressBar::new(0).with_style(style("{msg}")));
            st.overall = Some(pb);
        }
        if let Some(pb) = &st.overall {
            pb.set_message(overall_line(&st.cycle.overall(Instant::now())));
        }
    }

    /// Reads the queue's pending sizes in the background (the sink must
    /// not block); a read that finishes after its cycle is dropped.
    fn read_pending(&self, st: &mut State) {
        let Some((store, camera)) = st.queue.clone() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if st.reading {
            return;
        }
        st.reading = true;
        let generation = st.cycle.generation;
        let me = self.clone();
        rt.spawn(async move {
            let rows = store
                .list(Some(&camera), &[ClipState::Pending], u32::MAX)
                .await;
            let mut st = me.lock();
            st.reading = false;
            let Ok(rows) = rows else { return };
            if st.cycle.generation != generation {
                return;
            }
            let pending = rows
                .into_iter()
                .filter(|r| !st.cycle.started.contains(&r.name))
                .map(|r| (r.name, r.size))
                .collect();
            st.cycle.pending = Some(pending);
            me.draw_overall(&mut st);
        });
    }

    fn on_event(&self, event: Event) {
        let mut st = self.lock();
        match event {
            Event::CycleStarted { mode } => {
                tracing::debug!("cycle started ({mode} tail)");
                self.clear_bars(&mut st);
                let generation = st.cycle.generation + 1;
                st.cycle = Cycle {
                    generation,
                    ..Cycle::default()
                };
            }
            Event::CameraOnline { firmware, model } => {
                let loud = st.quiet.camera(true);
                let model_text = model.as_deref().unwrap_or("unknown model");
                let firmware_text = firmware.as_deref().unwrap_or("unknown");
                log_if!(
                    loud,
                    { model = model.as_deref(), firmware = firmware.as_deref() },
                    "camera online: {model_text}, firmware {firmware_text}"
                );
            }
            Event::CameraOffline { reason } => {
                if st.quiet.camera(false) {
                    log!(warn, { reason = %reason }, "camera offline: {reason}");
                } else {
                    log!(debug, { reason = %reason }, "camera still offline: {reason}");
                }
            }
            Event::Listed { clips, pending } => {
                if st.cycle.listed {
                    tracing::debug!("camera lists {clips} clips, {pending} to download");
                } else {
                    st.cycle.listed = true;
                    let loud = st.quiet.listed(clips, pending);
                    log_if!(
                        loud,
                        { clips, pending },
                        "camera lists {clips} clips, {pending} to download"
                    );
                }
                st.cycle.clips_total = st.cycle.clips_done + pending as u64;
                if self.bars.is_some() {
                    self.read_pending(&mut st);
                    self.draw_overall(&mut st);
                }
            }
            Event::ItemStarted { name, size } => {
                tracing::debug!(
                    "downloading {name} ({})",
                    size.map_or_else(|| "size unknown".into(), bytes)
                );
                let c = &mut st.cycle;
                c.first_download.get_or_insert_with(Instant::now);
                c.started.insert(name.clone());
                if let Some(p) = &mut c.pending {
                    p.remove(&name);
                }
                c.in_flight.insert(name.clone(), (0, size));
                if let Some(mp) = &self.bars {
                    let pb = mp.add(ProgressBar::new(size.unwrap_or(0)).with_style(style(
                        "  {msg} {wide_bar} {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} ETA {eta}",
                    )));
                    pb.set_message(name.clone());
                    if let Some(old) = st.clips.insert(name, pb) {
                        old.finish_and_clear();
                        mp.remove(&old);
                    }
                    self.draw_overall(&mut st);
                }
            }
            Event::ItemProgress { name, bytes, total } => {
                if let Some(f) = st.cycle.in_flight.get_mut(&name) {
                    f.0 = bytes;
                    if total.is_some() {
                        f.1 = total;
                    }
                }
                if let Some(pb) = st.clips.get(&name) {
                    if let Some(t) = total {
                        pb.set_length(t);
                    }
                    pb.set_position(bytes);
                    self.draw_overall(&mut st);
                }
            }
            Event::ItemDone {
                name,
                bytes: n,
                duration,
            } => {
                self.end_clip(&mut st, &name);
                let c = &mut st.cycle;
                c.clips_done += 1;
                c.clips_total = c.clips_total.max(c.clips_done);
                c.bytes_done = c.bytes_done.saturating_add(n);
                let secs = duration.as_secs_f64();
                #[allow(clippy::cast_precision_loss)]
                let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let shown = bytes(rate as u64);
                log!(
                    info,
                    { clip = %name, bytes = n, secs, rate, outcome = "archived" },
                    "archived {name} ({}, {secs:.1}s, {shown}/s)",
                    bytes(n)
                );
                self.draw_overall(&mut st);
            }
            Event::ItemFailed {
                name,
                error,
                retryable,
            } => {
                let size = self.end_clip(&mut st, &name);
                if retryable {
                    // Back in the queue: still to do.
                    st.cycle.started.remove(&name);
                    if let (Some(p), Some(size)) = (&mut st.cycle.pending, size) {
                        p.insert(name.clone(), size);
                    }
                }
                self.draw_overall(&mut st);
                // The pipeline warns about every failure itself.
                let again = if retryable {
                    "will retry"
                } else {
                    "not retried"
                };
                log!(
                    debug,
                    { clip = %name, outcome = "failed", reason = %error, retryable },
                    "{name} failed ({again}): {error}"
                );
            }
            Event::ItemSkipped { name, reason } => {
                self.end_clip(&mut st, &name);
                if let Some(p) = &mut st.cycle.pending {
                    p.remove(&name);
                }
                self.draw_overall(&mut st);
                log!(
                    info,
                    { clip = %name, outcome = "skipped", reason = %reason },
                    "skipped {name}: {reason}"
                );
            }
            Event::Delete { name, outcome } => match outcome {
                // The pipeline logs confirmed deletes itself.
                DeleteOutcome::Confirmed => tracing::debug!("deleted {name} from the camera"),
                DeleteOutcome::Refused { status } => {
                    log!(
                        warn,
                        { clip = %name, outcome = "delete refused", status },
                        "the camera refused to delete {name} (status {status})"
                    );
                }
                DeleteOutcome::Waiting { reason } => {
                    tracing::debug!("{name} stays on the camera for now: {reason}");
                }
                DeleteOutcome::Skipped { reason } => {
                    tracing::debug!("not deleting {name} from the camera: {reason}");
                }
            },
            Event::DeleteRetried { name, error } => {
                log!(
                    warn,
                    { clip = %name, outcome = "delete retried", reason = %error },
                    "deleting {name} from the camera failed (asked again later): {error}"
                );
            }
            Event::Pruned { path, reason } => {
                log!(
                    info,
                    { path = %path.display(), outcome = "pruned", reason = %reason },
                    "retention removed {} ({reason})",
                    path.display()
                );
            }
            Event::CycleDone(summary) => {
                self.clear_bars(&mut st);
                let idle = summary.is_idle();
                if st.quiet.cycle(idle) && idle {
                    let waiting = st.quiet.waiting();
                    if waiting == 0 {
                        log!(
                            info,
                            { outcome = %summary.outcome, clips = 0, bytes = 0 },
                            "nothing to do: every clip on the camera is archived"
                        );
                    } else {
                        log!(
                            info,
                            { outcome = %summary.outcome, clips = 0, bytes = 0, pending = waiting },
                            "nothing to do: {waiting} clip(s) waiting (held back while the camera records, or left for later)"
                        );
                    }
                } else if idle {
                    tracing::debug!("nothing to do");
                }
                // A camera that is simply away is waiting, and a stop or
                // pause asked for is stopping: neither is failing.
                let nothing_left =
                    summary.failed == 0 && summary.deferred == 0 && summary.write_failures == 0;
                let waiting = matches!(
                    summary.outcome,
                    viofo_store::CycleOutcome::CameraLost | viofo_store::CycleOutcome::Cancelled
                ) && nothing_left;
                if self.announce_failures && !summary.is_ok() && !waiting {
                    let line = summary.left_undone();
                    log!(
                        warn,
                        { outcome = %summary.outcome, failed = summary.failed, deferred = summary.deferred },
                        "{line}"
                    );
                }
                st.last = Some(summary);
            }
            _ => {}
        }
    }

    /// A clip's download ended (done, failed or skipped): its bar comes
    /// down. Returns its expected size.
    fn end_clip(&self, st: &mut State, name: &str) -> Option<u64> {
        if let Some(pb) = st.clips.remove(name) {
            pb.finish_and_clear();
            if let Some(mp) = &self.bars {
                mp.remove(&pb);
            }
        }
        st.cycle.in_flight.remove(name).and_then(|(_, t)| t)
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
