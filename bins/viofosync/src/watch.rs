//! `watch` of one camera: its settings checked and wired to viofo-daemon's
//! `serve` (the watch loop with the status page, `/api/status`, `/metrics`
//! on `listen` and MQTT beside it) until SIGINT/SIGTERM.

use std::net::SocketAddr;

use anyhow::Result;
use tokio::net::TcpListener;
use viofo_pipeline::{Event, EventSink, Shutdown, Watcher};
use viofo_status::{ServerConfig, StatusConfig, StatusModel, StickyFile};

use crate::commands::{address, dry_run, prepare, state_db};
use crate::config::{ConfigError, Loaded};
use crate::errors::Exit;
use crate::output::Progress;

/// The MQTT surface's settings, checked before the camera or the store is
/// touched (exit 2; the message never repeats the URL, which may hold
/// credentials). `None`: `mqtt_url` is off. The camera's name in Home
/// Assistant is its configured `camera_id` (none when the id is only the
/// address); the device links to the status page on `listen` when that is
/// a reachable address.
fn mqtt_config(l: &Loaded, listen: Option<SocketAddr>) -> Result<Option<viofo_mqtt::MqttConfig>> {
    let Some(mut cfg) = crate::config::mqtt_config(&l.settings) else {
        return Ok(None);
    };
    cfg.name.clone_from(&l.settings.camera_id);
    cfg.status_url = listen
        .filter(|a| !a.ip().is_unspecified())
        .map(|a| format!("http://{a}/"));
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
    let status = status_model(l, &camera_id)?;
    let sink = {
        let (status, progress) = (status.clone(), progress.sink());
        move |e: Event| {
            status.emit(e.clone());
            progress(e);
        }
    };
    let p = prepare(l, sink, &camera_id, &address).await?;
    progress.read_queue(p.store.clone(), &camera_id);
    let surfaces = match surfaces.bind().await {
        Ok(s) => s,
        Err(e) => {
            p.store.close().await.ok();
            return Err(e);
        }
    };
    let shutdown = Shutdown::new();
    viofo_daemon::stop_on_signals(shutdown.clone(), true);
    tracing::info!(
        "watching {address} every {}; archive {}",
        crate::config::show_duration(l.settings.interval),
        p.archive.display()
    );
    let watcher = Watcher::new(p.syncer, l.settings.interval, &shutdown);
    let result = Box::pin(viofo_daemon::serve(watcher, &p.store, status, surfaces)).await;
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

/// A camera's status model, its sticky errors kept beside the state
/// database.
pub(crate) fn status_model(l: &Loaded, camera_id: &str) -> Result<StatusModel> {
    let model = StatusModel::new(
        StatusConfig::new(camera_id, l.archive()?),
        StickyFile::for_camera(&state_db(l)?, camera_id),
    );
    if let Some(a) = &l.settings.address {
        model.set_address(a.clone());
    }
    Ok(model)
}

/// A camera's status server and MQTT settings, checked (exit 2) before the
/// camera or the store is touched; then the server's listener, bound.
pub(crate) struct Surfaces {
    server: Option<(SocketAddr, ServerConfig)>,
    mqtt: Option<viofo_mqtt::MqttConfig>,
}

impl Surfaces {
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
            mqtt: mqtt_config(l, listen)?,
        })
    }

    /// Several cameras on one broker: each knows the others' ids (so that
    /// none removes another's Home Assistant device as an orphan).
    pub(crate) fn in_fleet(mut self, ids: &[String]) -> Self {
        if let Some(m) = &mut self.mqtt {
            ids.clone_into(&mut m.cameras);
        }
        self
    }

    /// Binds the status server's address; a port in use is a
    /// configuration error (exit 2).
    pub(crate) async fn bind(self) -> Result<viofo_daemon::Surfaces> {
        let server = match self.server {
            None => None,
            Some((addr, cfg)) => Some((bind(addr).await?, cfg)),
        };
        Ok(viofo_daemon::Surfaces {
            server,
            mqtt: self.mqtt,
        })
    }
}
