//! `watch`: cycles on an interval until SIGINT/SIGTERM, with the status
//! surfaces of viofo-status (the page, `/api/status`, `/metrics`) served on
//! `listen`, and the actions they deliver: sync now, pause, resume, retry
//! failed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use viofo_pipeline::{Event, EventSink, Shutdown, Syncer};
use viofo_status::{Action, ServerConfig, StatusConfig, StatusModel, StickyFile};
use viofo_store::Store;

use crate::commands::{address, archive, dry_run, prepare, spawn_signal_handler, state_db};
use crate::config::{ConfigError, Loaded};
use crate::errors::Exit;
use crate::output::Progress;

/// The MQTT surface's settings, checked before the camera or the store is
/// touched (exit 2; the message never repeats the URL, which may hold
/// credentials). `None`: `mqtt_url` is off.
fn mqtt_config(l: &Loaded) -> Result<Option<viofo_mqtt::MqttConfig>> {
    let Some(cfg) = crate::config::mqtt_config(&l.settings) else {
        return Ok(None);
    };
    cfg.validate()
        .map_err(|e| ConfigError::new(format!("mqtt_url and the mqtt_* settings: {e}")))?;
    Ok(Some(cfg))
}

/// Binds the status server's address; a port in use is a configuration
/// error (exit 2).
async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        ConfigError::new(format!(
            "cannot serve the status page on {addr} (listen): {e}; \
             set listen to another address, or off"
        ))
        .into()
    })
}

/// What the actions change in the loop.
struct Control {
    /// Paused: no new cycle starts, and a running one starts no new download.
    paused: watch::Sender<bool>,
    /// Sync now: the wait between cycles ends (a permit is kept when one
    /// runs, so the next starts right after it).
    wake: Notify,
}

/// `watch`: cycles until SIGINT/SIGTERM.
pub(crate) async fn watch(l: &Loaded, bars: bool) -> Result<Exit> {
    let address = address(l)?;
    let camera_id = l.camera_id().unwrap_or_else(|| address.clone());
    if l.settings.dry_run {
        tracing::info!("dry run: showing one plan instead of watching");
        return dry_run(l, &camera_id, &address).await;
    }
    let surfaces = Surfaces::checked(l, l.settings.listen)?;
    let progress = Progress::new(bars).announce_failures();
    let (status, sink) = model(l, &camera_id, &progress)?;
    let p = {
        let sink = sink.clone();
        prepare(l, move |e| sink(e), &camera_id, &address).await?
    };
    progress.read_queue(p.store.clone(), &camera_id);
    let surfaces = match surfaces.bind().await {
        Ok(s) => s,
        Err(e) => {
            p.store.close().await.ok();
            return Err(e);
        }
    };
    let shutdown = Shutdown::new();
    spawn_signal_handler(shutdown.clone(), true);
    tracing::info!(
        "watching {address} every {}; archive {}",
        crate::config::show_duration(l.settings.interval),
        p.archive.display()
    );
    let result = serve_and_run(
        &p.syncer,
        &p.store,
        status,
        &*sink,
        surfaces,
        l.settings.interval,
        &shutdown,
    )
    .await;
    p.store.close().await.ok();
    result?;
    tracing::info!("stopped");
    Ok(after_watch(&progress, l))
}

/// The exit of a watch that stopped: after a cycle that left failures
/// behind, say so, as sync does (a cycle cut short by the signal or a
/// pause is not one, nor a camera that went away: the watch was waiting
/// for it).
pub(crate) fn after_watch(progress: &Progress, l: &Loaded) -> Exit {
    use viofo_store::CycleOutcome::{CameraLost, Cancelled};
    let quiet = |last: &viofo_pipeline::CycleSummary| {
        last.is_ok()
            || last.outcome == Cancelled
            || (last.outcome == CameraLost && last.failed == 0 && last.deferred == 0)
    };
    match progress.last_cycle() {
        Some(last) if !quiet(&last) => crate::errors::report_failures(&last, l.settings.log_format),
        _ => Exit::Success,
    }
}

/// Where a watch's events go: the status model and the terminal.
pub(crate) type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// A camera's status model, and the event sink that feeds it and the
/// terminal's progress.
pub(crate) fn model(
    l: &Loaded,
    camera_id: &str,
    progress: &Progress,
) -> Result<(StatusModel, Sink)> {
    let status = StatusModel::new(
        StatusConfig::new(camera_id, archive(l)?),
        StickyFile::beside(&state_db(l)?),
    );
    let sink: Sink = {
        let (status, progress) = (status.clone(), progress.sink());
        Arc::new(move |e: Event| {
            status.emit(e.clone());
            progress(e);
        })
    };
    Ok((status, sink))
}

/// A camera's status server and MQTT settings, checked (exit 2) before the
/// camera or the store is touched; then the server's listener, bound.
pub(crate) struct Surfaces<L> {
    server: Option<(L, ServerConfig)>,
    mqtt: Option<viofo_mqtt::MqttConfig>,
}

impl Surfaces<SocketAddr> {
    /// The surfaces of `l`'s camera, the status server on `listen`.
    pub(crate) fn checked(l: &Loaded, listen: Option<SocketAddr>) -> Result<Self> {
        let server = match listen {
            None => None,
            Some(addr) => {
                let cfg = ServerConfig::with_token(l.settings.status_token.clone());
                cfg.validate(addr)
                    .map_err(|e| ConfigError::new(format!("listen = {addr}: {e}")))?;
                Some((addr, cfg))
            }
        };
        Ok(Self {
            server,
            mqtt: mqtt_config(l)?,
        })
    }

    /// Binds the status server's address; a port in use is a
    /// configuration error (exit 2).
    pub(crate) async fn bind(self) -> Result<Surfaces<TcpListener>> {
        let server = match self.server {
            None => None,
            Some((addr, cfg)) => Some((bind(addr).await?, cfg)),
        };
        Ok(Surfaces {
            server,
            mqtt: self.mqtt,
        })
    }
}

/// Runs the camera's cycles ([`run`]) with its surfaces beside them: the
/// status model's refresh from the store, the status server, MQTT and the
/// actions they hand over, all stopped when the cycles stop.
pub(crate) async fn serve_and_run(
    syncer: &Syncer,
    store: &Store,
    status: StatusModel,
    events: &(dyn Fn(Event) + Send + Sync),
    surfaces: Surfaces<TcpListener>,
    interval: Duration,
    shutdown: &Shutdown,
) -> Result<()> {
    let camera_id = syncer.config().camera_id.clone();
    let stop = CancellationToken::new();
    let refresher = tokio::spawn({
        let (status, store, stop) = (status.clone(), store.clone(), stop.clone());
        async move { status.run_refresh(store, stop.cancelled_owned()).await }
    });
    let control = Arc::new(Control {
        paused: watch::Sender::new(false),
        wake: Notify::new(),
    });
    let (actions, asked) = mpsc::channel::<Action>(8);
    // Beside the server, on the same model and actions; it only reads the
    // model, so a broker that is down never delays a cycle.
    let mqtt = surfaces.mqtt.map(|cfg| {
        tokio::spawn(viofo_mqtt::run(
            cfg,
            status.clone(),
            actions.clone(),
            stop.clone().cancelled_owned(),
        ))
    });
    let server = surfaces.server.map(|(listener, cfg)| {
        tokio::spawn(viofo_status::serve(
            listener,
            cfg,
            status.clone(),
            actions,
            stop.clone().cancelled_owned(),
        ))
    });
    let taker = tokio::spawn(take_actions(
        asked,
        control.clone(),
        status.clone(),
        store.clone(),
        camera_id,
    ));
    let result = run(syncer, events, &status, &control, interval, shutdown).await;
    stop.cancel();
    if let Some(server) = server {
        match tokio::time::timeout(Duration::from_secs(5), server).await {
            Ok(Ok(Err(e))) => tracing::warn!("status server: {e}"),
            Err(_) => tracing::warn!("status server did not stop in 5 s"),
            _ => {}
        }
    }
    if let Some(mqtt) = mqtt {
        // It says `offline` and disconnects within 1 s of the stop.
        match tokio::time::timeout(Duration::from_secs(5), mqtt).await {
            Ok(Ok(Err(e))) => tracing::warn!("MQTT: {e}"),
            Err(_) => tracing::warn!("MQTT did not stop in 5 s"),
            _ => {}
        }
    }
    taker.abort();
    refresher.await.ok();
    Ok(result?)
}

/// Runs cycles until shutdown: after a cycle, waits `interval` (or until
/// sync-now); while the camera is away, backs off as the pipeline's
/// schedule says and resets on success; while paused, starts none. Returns
/// on shutdown or on an error a later cycle cannot fix (store,
/// configuration).
async fn run(
    syncer: &Syncer,
    events: &(dyn Fn(Event) + Send + Sync),
    status: &StatusModel,
    control: &Control,
    interval: Duration,
    shutdown: &Shutdown,
) -> Result<(), viofo_pipeline::Error> {
    let mut backoff = syncer.config().backoff.clone();
    backoff.reset();
    let mut paused = control.paused.subscribe();
    // "Camera away" is said once while it stays away, then at DEBUG.
    let mut away_said = false;
    loop {
        if shutdown.is_stopping() {
            return Ok(());
        }
        if *paused.borrow_and_update() {
            tokio::select! {
                _ = paused.wait_for(|p| !*p) => continue,
                () = shutdown.stopped() => return Ok(()),
            }
        }
        let cycle = Shutdown::new();
        let link = tokio::spawn(link(
            shutdown.clone(),
            cycle.clone(),
            control.paused.subscribe(),
        ));
        let result = syncer.run_cycle(&cycle).await;
        link.abort();
        let (delay, camera_away) = match result {
            Ok(_) => {
                backoff.reset();
                away_said = false;
                (interval, false)
            }
            // Stopped by a signal, or by a pause (the loop waits above).
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
                status.report_error(&e);
                return Err(e);
            }
            Err(e) => {
                status.report_error(&e);
                tracing::warn!("cycle failed: {e}; next try in {}s", interval.as_secs());
                backoff.reset();
                (interval, false)
            }
        };
        events(Event::NextCycle { delay, camera_away });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = control.wake.notified() => {}
            // Paused while waiting: the top of the loop waits for resume.
            _ = paused.wait_for(|p| *p) => {}
            () = shutdown.stopped() => return Ok(()),
        }
    }
}

/// Passes the watch's stop and abort on to one cycle, and a pause as a
/// stop (no new download; the one in flight finishes, or is cancelled
/// with `on_interrupt = "cancel"`, and resumes later).
async fn link(watch: Shutdown, cycle: Shutdown, mut paused: watch::Receiver<bool>) {
    let pause = tokio::select! {
        () = watch.stopped() => false,
        r = paused.wait_for(|p| *p) => r.is_ok(),
    };
    if pause {
        cycle.stop();
    }
    watch.stopped().await;
    cycle.stop();
    watch.aborted().await;
    cycle.abort();
}

/// Carries out the actions the status server and MQTT hand over.
async fn take_actions(
    mut asked: mpsc::Receiver<Action>,
    control: Arc<Control>,
    status: StatusModel,
    store: Store,
    camera_id: String,
) {
    while let Some(action) = asked.recv().await {
        match action {
            Action::SyncNow if *control.paused.borrow() => {
                tracing::info!("sync now asked while paused: resume first");
            }
            Action::SyncNow => {
                tracing::info!("sync now (asked over HTTP or MQTT)");
                control.wake.notify_one();
            }
            Action::Pause => {
                if !control.paused.send_replace(true) {
                    tracing::info!(
                        "paused (asked over HTTP or MQTT): no new downloads until resumed"
                    );
                }
                status.set_paused(true);
            }
            Action::Resume => {
                if control.paused.send_replace(false) {
                    tracing::info!("resumed (asked over HTTP or MQTT)");
                }
                status.set_paused(false);
            }
            Action::RetryFailed => match store
                .retry_failed(Some(&camera_id))
                .await
                .context("retry-failed")
            {
                Ok(n) => tracing::info!(
                    "{n} failed clips returned to the queue (asked over HTTP or MQTT); the next cycle takes them"
                ),
                Err(e) => tracing::warn!("{}", crate::errors::chain(&e)),
            },
        }
    }
}
