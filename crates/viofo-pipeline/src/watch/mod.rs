//! The watch loop of one camera ([`Watcher`]): a cycle, a wait, another
//! cycle, with back-off while the camera is away, until shutdown; driven
//! from outside through its [`WatchControl`] (pause, resume, sync now,
//! stop).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::backoff::Backoff;
use crate::{CycleSummary, Error, Event, Result, Shutdown, Syncer};

#[cfg(test)]
mod tests;

/// Runs one camera's cycles until shutdown: after a cycle it waits the
/// interval (or until [`WatchControl::sync_now`]); while the camera is
/// away it backs off as [`SyncConfig::backoff`](crate::SyncConfig::backoff)
/// says (10 s, 30 s, 2 min, then 10 min) and starts over once a cycle
/// reaches it; while paused it starts none. Each wait is announced as
/// [`Event::NextCycle`] on the syncer's events.
///
/// Shutdown is injected: the watcher follows the [`Shutdown`] it is made
/// with (a child of it, so [`WatchControl::stop`] stops this watcher
/// alone), and each cycle runs on a child of the watcher's, which a pause
/// stops (no new download; the one in flight finishes, or is cancelled
/// with `on_interrupt = "cancel"`, and resumes later).
///
/// ```
/// use std::time::Duration;
/// use viofo_client::{Client, ClientConfig};
/// use viofo_pipeline::{Event, Shutdown, SyncConfig, Syncer, Watcher};
/// use viofo_sim::{ClipSpec, Sim, SimConfig};
/// use viofo_store::{Store, StoreOptions};
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(50_000))).await?;
/// let dirs = tempfile::tempdir()?;
/// let store = Store::open(StoreOptions::at(dirs.path().join("state.db"))).await?;
/// let archive = dirs.path().join("archive");
/// std::fs::create_dir(&archive)?;
///
/// // Stop the watch once the first cycle is done and the next one waits.
/// let shutdown = Shutdown::new();
/// let events = {
///     let shutdown = shutdown.clone();
///     move |e: Event| {
///         if let Event::NextCycle { .. } = e {
///             shutdown.stop();
///         }
///     }
/// };
/// let client = Client::new(ClientConfig::new(sim.base_url()))?;
/// let syncer = Syncer::new(client, store, SyncConfig::new("my-camera", &archive), events)?;
/// let watcher = Watcher::new(syncer, Duration::from_secs(60), &shutdown);
/// let control = watcher.control();
/// watcher.run().await?;
///
/// assert!(control.is_stopping());
/// for clip in sim.clips() {
///     assert!(archive.join(&clip.name).is_file());
/// }
/// # Ok(())
/// # }
/// ```
pub struct Watcher {
    syncer: Syncer,
    interval: Duration,
    control: WatchControl,
    on_error: Option<ErrorHook>,
}

/// Told of every error that ended a cycle, but a camera away or an
/// interruption (a status model's `report_error`).
type ErrorHook = Arc<dyn Fn(&Error) + Send + Sync>;

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("syncer", &self.syncer)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The handle that drives a [`Watcher`] from outside: a status page's or
/// MQTT's buttons, a supervisor. Cheap to clone; every clone drives the
/// same watcher.
#[derive(Clone, Debug)]
pub struct WatchControl {
    inner: Arc<Control>,
}

#[derive(Debug)]
struct Control {
    /// Paused: no new cycle starts, and a running one starts no new
    /// download.
    paused: watch::Sender<bool>,
    /// Sync now: the wait between cycles ends (a permit is kept when a
    /// cycle runs, so the next starts right after it).
    wake: Notify,
    /// The watcher's own shutdown, a child of the injected one.
    shutdown: Shutdown,
}

impl WatchControl {
    /// Pauses: no new cycle starts, and a running one starts no new
    /// download. Returns `false` when it was paused already.
    pub fn pause(&self) -> bool {
        !self.inner.paused.send_replace(true)
    }

    /// Undoes a pause; a cycle starts at once. Returns `false` when it was
    /// not paused.
    pub fn resume(&self) -> bool {
        self.inner.paused.send_replace(false)
    }

    /// Paused now.
    pub fn is_paused(&self) -> bool {
        *self.inner.paused.borrow()
    }

    /// Ends the wait between cycles now (during a cycle: the next starts
    /// right after it). Refused while paused (returns `false`): resume
    /// first.
    pub fn sync_now(&self) -> bool {
        if self.is_paused() {
            return false;
        }
        self.inner.wake.notify_one();
        true
    }

    /// Stops this watcher: the cycle in flight starts no new download and
    /// drains, then [`Watcher::run`] returns. A second request aborts, as
    /// [`Shutdown::request`] does.
    pub fn stop(&self) {
        self.inner.shutdown.request();
    }

    /// A stop was asked, here or on the injected shutdown.
    pub fn is_stopping(&self) -> bool {
        self.inner.shutdown.is_stopping()
    }
}

impl Watcher {
    /// A watcher of `syncer`'s camera, waiting `interval` between cycles,
    /// until `shutdown` (or [`WatchControl::stop`]) asks it to stop.
    pub fn new(syncer: Syncer, interval: Duration, shutdown: &Shutdown) -> Self {
        Self {
            syncer,
            interval,
            control: WatchControl {
                inner: Arc::new(Control {
                    paused: watch::Sender::new(false),
                    wake: Notify::new(),
                    shutdown: shutdown.child(),
                }),
            },
            on_error: None,
        }
    }

    /// Tells `hook` of every error that ends a cycle, but a camera away or
    /// an interruption: the ones the loop goes on after (logged as a
    /// warning) and the one that ends it (store, configuration). A status
    /// model's `report_error` turns some into sticky errors.
    #[must_use]
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// The handle that pauses, resumes, syncs now and stops this watcher.
    pub fn control(&self) -> WatchControl {
        self.control.clone()
    }

    /// The syncer it runs.
    pub fn syncer(&self) -> &Syncer {
        &self.syncer
    }

    /// Runs cycles until shutdown (returns `Ok`) or an error a later cycle
    /// cannot fix (store, configuration: returned).
    pub async fn run(&self) -> Result<()> {
        let hook = |e: &Error| {
            if let Some(h) = &self.on_error {
                h(e);
            }
        };
        run_loop(&self.syncer, self.interval, &self.control.inner, &hook).await
    }
}

/// What the loop runs: a [`Syncer`], or a scripted stand-in in the tests.
trait Cycles: Sync {
    fn cycle(&self, shutdown: &Shutdown) -> impl Future<Output = Result<CycleSummary>> + Send;
    fn emit(&self, event: Event);
    fn backoff(&self) -> Backoff;
}

impl Cycles for Syncer {
    fn cycle(&self, shutdown: &Shutdown) -> impl Future<Output = Result<CycleSummary>> + Send {
        self.run_cycle(shutdown)
    }
    fn emit(&self, event: Event) {
        self.events().emit(event);
    }
    fn backoff(&self) -> Backoff {
        self.config().backoff.clone()
    }
}

/// The loop of [`Watcher::run`].
async fn run_loop(
    cycles: &impl Cycles,
    interval: Duration,
    control: &Control,
    on_error: &(dyn Fn(&Error) + Sync),
) -> Result<()> {
    let stop = &control.shutdown;
    let mut backoff = cycles.backoff();
    backoff.reset();
    let mut paused = control.paused.subscribe();
    // "Camera away" is said once while it stays away, then at DEBUG.
    let mut away_said = false;
    loop {
        if stop.is_stopping() {
            return Ok(());
        }
        if *paused.borrow_and_update() {
            tokio::select! {
                _ = paused.wait_for(|p| !*p) => continue,
                () = stop.stopped() => return Ok(()),
            }
        }
        let (delay, camera_away) = match one_cycle(cycles, control).await {
            Ok(_) => {
                backoff.reset();
                away_said = false;
                (interval, false)
            }
            // Stopped by the shutdown or by a pause (the loop waits above).
            Err(e) if e.is_interrupted() => continue,
            Err(e) if e.is_offline() => {
                let d = backoff.next_delay();
                if away_said {
                    tracing::debug!("camera still away; next try in {}s", d.as_secs());
                } else {
                    tracing::info!("camera away; next try in {}s", d.as_secs());
                    away_said = true;
                }
                (d, true)
            }
            Err(e) if e.is_store() || e.is_config() => {
                on_error(&e);
                return Err(e);
            }
            Err(e) => {
                on_error(&e);
                tracing::warn!("cycle failed: {e}; next try in {}s", interval.as_secs());
                backoff.reset();
                (interval, false)
            }
        };
        cycles.emit(Event::NextCycle { delay, camera_away });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = control.wake.notified() => {}
            // Paused (the top of the loop waits for resume), or paused and
            // resumed already: a cycle starts at once.
            _ = paused.changed() => {}
            () = stop.stopped() => return Ok(()),
        }
    }
}

/// One cycle on a child of the watcher's shutdown, which a pause stops.
async fn one_cycle(cycles: &impl Cycles, control: &Control) -> Result<CycleSummary> {
    let cycle = control.shutdown.child();
    let mut paused = control.paused.subscribe();
    let pause = async {
        if paused.wait_for(|p| *p).await.is_ok() {
            cycle.stop();
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        r = cycles.cycle(&cycle) => r,
        () = pause => Err(Error::interrupted()),
    }
}
