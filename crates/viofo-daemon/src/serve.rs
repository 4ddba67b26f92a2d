//! One camera's watch with its surfaces beside it ([`serve`]): the status
//! model's refresh, the status server, MQTT, and the actions they hand
//! over carried out on the watcher.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use viofo_mqtt::MqttConfig;
use viofo_pipeline::{WatchControl, Watcher};
use viofo_status::{Action, ServerConfig, StatusModel};
use viofo_store::Store;

/// How long a surface gets to stop once the watch has.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A camera's surfaces: its status server (page, `/api/status`,
/// `/metrics`, the action buttons) on a bound listener, and its Home
/// Assistant device over MQTT. Either may be off.
#[derive(Debug, Default)]
pub struct Surfaces {
    /// The status server's listener and settings.
    pub server: Option<(TcpListener, ServerConfig)>,
    /// The MQTT settings.
    pub mqtt: Option<MqttConfig>,
}

impl Surfaces {
    /// No surface: the watch alone (the status model is still refreshed).
    pub fn none() -> Self {
        Self::default()
    }

    /// The status server on `listener`.
    #[must_use]
    pub fn with_server(mut self, listener: TcpListener, config: ServerConfig) -> Self {
        self.server = Some((listener, config));
        self
    }

    /// The camera's device on the MQTT broker of `config`.
    #[must_use]
    pub fn with_mqtt(mut self, config: MqttConfig) -> Self {
        self.mqtt = Some(config);
        self
    }
}

/// Runs `watcher` (see [`Watcher::run`]) with its surfaces beside it: the
/// status model's refresh from `store`, the status server and MQTT on the
/// same model, and the actions they hand over (sync now, pause, resume,
/// retry failed) carried out on the watcher and the store. The status
/// model must be the syncer's event sink (or fed from it) to show the
/// cycles. Errors the watch goes on after, and the one that ends it, are
/// reported to the status model (sticky errors).
///
/// Returns when the watch does (its shutdown, or an error a later cycle
/// cannot fix, returned), after the surfaces have stopped (each given
/// 5 s; MQTT says `offline` first). A surface that fails is logged; it
/// never stops the watch.
pub async fn serve(
    watcher: Watcher,
    store: &Store,
    status: StatusModel,
    surfaces: Surfaces,
) -> viofo_pipeline::Result<()> {
    let camera_id = watcher.syncer().config().camera_id.clone();
    let watcher = {
        let status = status.clone();
        watcher.on_error(move |e| status.report_error(e))
    };
    let stop = CancellationToken::new();
    let refresher = tokio::spawn({
        let (status, store, stop) = (status.clone(), store.clone(), stop.clone());
        async move { status.run_refresh(store, stop.cancelled_owned()).await }
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
            cfg.with_store(store.clone()),
            status.clone(),
            actions,
            stop.clone().cancelled_owned(),
        ))
    });
    let taker = tokio::spawn(take_actions(
        asked,
        watcher.control(),
        status.clone(),
        store.clone(),
        camera_id,
    ));
    let result = watcher.run().await;
    stop.cancel();
    if let Some(server) = server {
        match tokio::time::timeout(STOP_GRACE, server).await {
            Ok(Ok(Err(e))) => tracing::warn!("status server: {e}"),
            Err(_) => tracing::warn!("status server did not stop in 5 s"),
            _ => {}
        }
    }
    if let Some(mqtt) = mqtt {
        // It says `offline` and disconnects within 1 s of the stop.
        match tokio::time::timeout(STOP_GRACE, mqtt).await {
            Ok(Ok(Err(e))) => tracing::warn!("MQTT: {e}"),
            Err(_) => tracing::warn!("MQTT did not stop in 5 s"),
            _ => {}
        }
    }
    taker.abort();
    refresher.await.ok();
    result
}

/// Carries out the actions the status server and MQTT hand over.
async fn take_actions(
    mut asked: mpsc::Receiver<Action>,
    control: WatchControl,
    status: StatusModel,
    store: Store,
    camera_id: String,
) {
    while let Some(action) = asked.recv().await {
        match action {
            Action::SyncNow => {
                if control.sync_now() {
                    tracing::info!("sync now (asked over HTTP or MQTT)");
                } else {
                    tracing::info!("sync now asked while paused: resume first");
                }
            }
            Action::Pause => {
                if control.pause() {
                    tracing::info!(
                        "paused (asked over HTTP or MQTT): no new downloads until resumed"
                    );
                }
                status.set_paused(true);
            }
            Action::Resume => {
                if control.resume() {
                    tracing::info!("resumed (asked over HTTP or MQTT)");
                }
                status.set_paused(false);
            }
            Action::RetryFailed => match store.retry_failed(Some(&camera_id)).await {
                Ok(n) => tracing::info!(
                    "{n} failed clips returned to the queue (asked over HTTP or MQTT); the next cycle takes them"
                ),
                Err(e) => tracing::warn!("retry-failed: {}", chain(&e)),
            },
        }
    }
}

/// An error and its causes, `: `-separated.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
