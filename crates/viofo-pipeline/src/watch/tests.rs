//! The watch loop on tokio's paused clock, its cycles scripted: pause,
//! resume, sync now, stop, and the back-off.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::time::Instant;

use super::*;
use crate::events::CycleMode;

/// What a scripted cycle does.
enum Step {
    /// Ends at once, completed.
    Done,
    /// Ends at once: the camera did not answer (a real client's error).
    Away(Error),
    /// Runs until its shutdown asks it to stop, then ends interrupted.
    UntilStopped,
    /// Ends at once with this error.
    Fails(Error),
}

/// Cycles that follow a script (then complete), recording when each
/// started and every event.
struct Script {
    steps: Mutex<VecDeque<Step>>,
    started: Mutex<Vec<Instant>>,
    /// Whether each cycle's shutdown was aborting when it ended.
    aborted: Mutex<Vec<bool>>,
    events: Mutex<Vec<Event>>,
    cycle_started: Notify,
    backoff: Backoff,
}

impl Script {
    fn new(steps: impl IntoIterator<Item = Step>) -> Arc<Self> {
        Arc::new(Self {
            steps: Mutex::new(steps.into_iter().collect()),
            started: Mutex::default(),
            aborted: Mutex::default(),
            events: Mutex::default(),
            cycle_started: Notify::new(),
            backoff: Backoff::with_steps([secs(10), secs(30), secs(120), secs(600)]),
        })
    }

    fn starts(&self) -> Vec<Instant> {
        self.started.lock().unwrap().clone()
    }

    fn waits(&self) -> Vec<(Duration, bool)> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::NextCycle { delay, camera_away } => Some((*delay, *camera_away)),
                _ => None,
            })
            .collect()
    }

    /// Waits (a bounded time, on the paused clock) until `n` cycles have
    /// started.
    async fn until_started(&self, n: usize) {
        tokio::time::timeout(secs(24 * 3600), async {
            loop {
                let notified = self.cycle_started.notified();
                if self.started.lock().unwrap().len() >= n {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("cycle {n} never started"));
    }
}

impl Cycles for Arc<Script> {
    fn cycle(&self, shutdown: &Shutdown) -> impl Future<Output = Result<CycleSummary>> + Send {
        let step = self.steps.lock().unwrap().pop_front().unwrap_or(Step::Done);
        self.started.lock().unwrap().push(Instant::now());
        self.cycle_started.notify_waiters();
        async move {
            let r = match step {
                Step::Done => Ok(summary()),
                Step::Away(e) | Step::Fails(e) => Err(e),
                Step::UntilStopped => {
                    shutdown.stopped().await;
                    Err(Error::interrupted())
                }
            };
            self.aborted.lock().unwrap().push(shutdown.is_aborting());
            r
        }
    }
    fn emit(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }
    fn backoff(&self) -> Backoff {
        self.backoff.clone()
    }
}

fn summary() -> CycleSummary {
    CycleSummary {
        mode: CycleMode::default(),
        clips: 0,
        bytes: 0,
        failed: 0,
        deferred: 0,
        write_failures: 0,
        deleted: 0,
        pruned: 0,
        duration: Duration::ZERO,
        listing: Duration::ZERO,
        outcome: crate::CycleOutcome::Completed,
        note: None,
        stop: None,
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Real "camera away" errors: a client's connection refused on a
/// 127.0.0.1 port nothing listens on (taken on the real clock, before the
/// test pauses it).
async fn away_errors(n: usize) -> Vec<Error> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = viofo_client::Client::new(viofo_client::ClientConfig::new(format!(
        "http://127.0.0.1:{port}"
    )))
    .unwrap();
    let mut errors = Vec::new();
    for _ in 0..n {
        let e = Error::camera(client.connect().await.unwrap_err());
        assert!(e.is_offline(), "{e}");
        errors.push(e);
    }
    errors
}

/// A watcher on `script`, running in a task; its control and its end.
fn start(
    script: &Arc<Script>,
    interval: Duration,
    shutdown: &Shutdown,
) -> (WatchControl, tokio::task::JoinHandle<Result<()>>) {
    let control = WatchControl {
        inner: Arc::new(Control {
            paused: watch::Sender::new(false),
            wake: Notify::new(),
            shutdown: shutdown.child(),
        }),
    };
    let task = tokio::spawn({
        let (script, inner) = (script.clone(), control.inner.clone());
        async move { run_loop(&script, interval, &inner, &|_| {}).await }
    });
    (control, task)
}

async fn ends(task: tokio::task::JoinHandle<Result<()>>) -> Result<()> {
    tokio::time::timeout(secs(60), task)
        .await
        .expect("the loop ends")
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn sync_now_cuts_the_wait_short() {
    let script = Script::new([]);
    let hour = secs(3600);
    let (control, task) = start(&script, hour, &Shutdown::new());
    script.until_started(1).await;
    tokio::time::sleep(secs(60)).await;
    assert_eq!(script.starts().len(), 1, "the interval is an hour");
    assert!(control.sync_now());
    script.until_started(2).await;
    let s = script.starts();
    assert!(s[1] - s[0] < secs(61), "{:?}", s[1] - s[0]);
    // Without it, the next waits the whole interval.
    script.until_started(3).await;
    let s = script.starts();
    assert!(s[2] - s[1] >= hour, "{:?}", s[2] - s[1]);
    control.stop();
    ends(task).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn pause_holds_back_cycles_and_resume_starts_one_at_once() {
    let script = Script::new([]);
    let (control, task) = start(&script, secs(60), &Shutdown::new());
    script.until_started(1).await;
    assert!(control.pause());
    assert!(!control.pause(), "paused already");
    tokio::time::sleep(secs(3600)).await;
    assert_eq!(script.starts().len(), 1, "no cycle while paused");
    assert!(!control.sync_now(), "sync now is refused while paused");
    tokio::time::sleep(secs(3600)).await;
    assert_eq!(script.starts().len(), 1);
    let resumed = Instant::now();
    assert!(control.resume());
    assert!(!control.resume(), "resumed already");
    script.until_started(2).await;
    assert_eq!(script.starts()[1], resumed, "a cycle starts at once");
    control.stop();
    ends(task).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_pause_and_resume_within_the_wait_start_a_cycle_at_once() {
    let script = Script::new([]);
    let (control, task) = start(&script, secs(3600), &Shutdown::new());
    script.until_started(1).await;
    tokio::time::sleep(secs(60)).await;
    let resumed = Instant::now();
    control.pause();
    control.resume();
    script.until_started(2).await;
    assert_eq!(script.starts()[1], resumed);
    control.stop();
    ends(task).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_pause_stops_the_cycle_in_flight_but_not_the_watch() {
    let script = Script::new([Step::UntilStopped, Step::UntilStopped]);
    let (control, task) = start(&script, secs(60), &Shutdown::new());
    script.until_started(1).await;
    tokio::time::sleep(secs(600)).await;
    assert!(script.aborted.lock().unwrap().is_empty(), "still running");
    control.pause();
    tokio::time::timeout(secs(60), async {
        while script.aborted.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the pause stops the cycle");
    assert_eq!(
        *script.aborted.lock().unwrap(),
        [false],
        "stopped, not aborted"
    );
    assert!(!control.is_stopping(), "the watch itself goes on");
    assert!(
        script.waits().is_empty(),
        "an interrupted cycle announces no wait"
    );
    control.resume();
    script.until_started(2).await;
    // A stop on the injected shutdown's child reaches the cycle in flight.
    control.stop();
    ends(task).await.unwrap();
    assert_eq!(*script.aborted.lock().unwrap(), [false, false]);
}

#[tokio::test(start_paused = true)]
async fn the_injected_shutdown_stops_the_wait_and_aborts_a_cycle() {
    // Stopped while it waits.
    let script = Script::new([]);
    let shutdown = Shutdown::new();
    let (_control, task) = start(&script, secs(3600), &shutdown);
    script.until_started(1).await;
    shutdown.stop();
    let stopped_at = Instant::now();
    ends(task).await.unwrap();
    assert!(Instant::now() - stopped_at < secs(1));
    assert_eq!(script.starts().len(), 1);

    // Aborted while a cycle runs: the cycle's own shutdown aborts too.
    let script = Script::new([Step::UntilStopped]);
    let shutdown = Shutdown::new();
    let (control, task) = start(&script, secs(3600), &shutdown);
    script.until_started(1).await;
    shutdown.abort();
    ends(task).await.unwrap();
    assert_eq!(*script.aborted.lock().unwrap(), [true]);
    assert!(control.is_stopping());

    // A watcher's stop stays with it: its sibling goes on.
    let shutdown = Shutdown::new();
    let (a, b) = (Script::new([]), Script::new([]));
    let (stop_a, task_a) = start(&a, secs(60), &shutdown);
    let (stop_b, task_b) = start(&b, secs(60), &shutdown);
    a.until_started(1).await;
    stop_a.stop();
    ends(task_a).await.unwrap();
    b.until_started(3).await;
    assert!(!stop_b.is_stopping());
    shutdown.stop();
    ends(task_b).await.unwrap();
}

#[tokio::test]
async fn the_back_off_grows_while_the_camera_is_away_and_resets_when_it_is_back() {
    let mut away = away_errors(7).await.into_iter();
    tokio::time::pause();
    let mut steps: Vec<Step> = (0..5).map(|_| Step::Away(away.next().unwrap())).collect();
    steps.push(Step::Done);
    steps.extend(away.by_ref().take(2).map(Step::Away));
    let script = Script::new(steps);
    let interval = secs(60);
    let (control, task) = start(&script, interval, &Shutdown::new());
    script.until_started(9).await;
    control.stop();
    ends(task).await.unwrap();

    let waits: Vec<(Duration, bool)> = script.waits().into_iter().take(8).collect();
    assert_eq!(
        waits,
        [
            (secs(10), true),
            (secs(30), true),
            (secs(120), true),
            (secs(600), true),
            (secs(600), true),
            (interval, false),
            (secs(10), true),
            (secs(30), true),
        ]
    );
    // Each cycle started the announced wait after the one before (the
    // timer's millisecond rounding aside).
    let starts = script.starts();
    for (i, (delay, _)) in waits.iter().enumerate() {
        let waited = starts[i + 1] - starts[i];
        assert!(
            waited >= *delay && waited < *delay + Duration::from_millis(5),
            "wait {i}: {waited:?}, announced {delay:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_configuration_error_ends_the_loop_and_another_is_reported_and_waited_out() {
    let script = Script::new([
        Step::Fails(Error::io(std::io::Error::other("disk went away"))),
        Step::Fails(Error::config("no such folder")),
    ]);
    let control = Control {
        paused: watch::Sender::new(false),
        wake: Notify::new(),
        shutdown: Shutdown::new(),
    };
    let reported = Mutex::new(Vec::new());
    let hook = |e: &Error| reported.lock().unwrap().push(e.to_string());
    let r = tokio::time::timeout(secs(3600), run_loop(&script, secs(60), &control, &hook))
        .await
        .expect("the loop ends by itself");
    let e = r.unwrap_err();
    assert!(e.is_config(), "{e}");
    assert_eq!(reported.lock().unwrap().len(), 2, "both reported");
    assert_eq!(
        script.waits(),
        [(secs(60), false)],
        "the first is waited out"
    );
    let s = script.starts();
    assert!(s[1] - s[0] >= secs(60));
}
