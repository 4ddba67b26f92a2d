//! The MQTT surface against a real Mosquitto: discovery, state, buttons,
//! a broker restart, and the password kept out of the logs.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use viofo_mqtt::{MqttConfig, run};
use viofo_pipeline::{Event, EventSink};
use viofo_status::{Action, NoPersistence, StatusConfig, StatusModel};

use crate::broker::{Broker, Msg, Watcher, free_port, mosquitto};

const CAMERA: &str = "cam-1";
const STATE: &str = "viofosync/cam-1/state";
const AVAILABILITY: &str = "viofosync/cam-1/availability";
const COMMAND: &str = "viofosync/cam-1/command";

pub(crate) fn model() -> StatusModel {
    let status = StatusModel::new(
        StatusConfig::new(CAMERA, "/nonexistent-archive"),
        NoPersistence,
    );
    status.set_camera(Some("A329S".into()), Some("v1.0.7".into()));
    status
}

/// A camera that was asked (the state is published from then on).
pub(crate) fn asked() -> StatusModel {
    let status = model();
    status.emit(Event::CameraOnline {
        firmware: None,
        model: None,
    });
    status
}

pub(crate) fn config(url: &str) -> MqttConfig {
    let mut c = MqttConfig::new(url);
    c.reconnect_min = Duration::from_millis(100);
    c.reconnect_max = Duration::from_millis(500);
    c
}

/// The MQTT task, running until [`Task::stop`].
pub(crate) struct Task {
    stop: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<viofo_mqtt::Result<()>>,
}

impl Task {
    pub(crate) fn spawn(
        cfg: MqttConfig,
        status: &StatusModel,
        actions: mpsc::Sender<Action>,
    ) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(run(cfg, status.clone(), actions, async {
            let _ = stopped.await;
        }));
        Self { stop, handle }
    }

    /// Stops it; it must return within 3 s.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(3), self.handle)
            .await
            .expect("the MQTT task stops within 3 s")
            .expect("the MQTT task")
            .expect("run");
    }
}

fn json(m: &Msg) -> Value {
    serde_json::from_str(&m.payload).unwrap_or_else(|e| panic!("{}: {e}: {}", m.topic, m.payload))
}

fn is_state(m: &Msg, key: &str, want: &Value) -> bool {
    m.topic == STATE && json(m).get(key) == Some(want)
}

pub(crate) async fn discovery_is_retained_and_complete() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let status = asked();
    let (actions, _asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    let mut live = Watcher::new(broker.port, "live", &["viofosync/#"]);
    live.expect("online", |m| {
        m.topic == AVAILABILITY && m.payload == "online"
    })
    .await;

    // A client that subscribes now gets all of it from the broker's store.
    let mut late = Watcher::new(broker.port, "late", &["homeassistant/#", STATE]);
    let mut configs = std::collections::BTreeMap::new();
    while configs.len() < viofo_mqtt::ENTITY_COUNT {
        let m = late
            .expect("a discovery message", |m| {
                m.topic.starts_with("homeassistant/")
            })
            .await;
        assert!(m.retain, "{} is retained", m.topic);
        configs.insert(m.topic.clone(), json(&m));
    }
    let expected = [
        "sensor/viofosync_cam-1/sync_state",
        "sensor/viofosync_cam-1/problem",
        "sensor/viofosync_cam-1/queue_pending",
        "sensor/viofosync_cam-1/failed_clips",
        "sensor/viofosync_cam-1/current_clip",
        "sensor/viofosync_cam-1/download_progress",
        "sensor/viofosync_cam-1/cycle_progress",
        "sensor/viofosync_cam-1/cycle_eta",
        "sensor/viofosync_cam-1/download_speed",
        "sensor/viofosync_cam-1/session_speed",
        "sensor/viofosync_cam-1/disk_used",
        "sensor/viofosync_cam-1/last_sync",
        "sensor/viofosync_cam-1/last_journey_start",
        "sensor/viofosync_cam-1/last_journey_end",
        "sensor/viofosync_cam-1/last_journey_distance",
        "sensor/viofosync_cam-1/last_command",
        "binary_sensor/viofosync_cam-1/camera_online",
        "switch/viofosync_cam-1/paused",
        "button/viofosync_cam-1/sync_now",
        "button/viofosync_cam-1/pause",
        "button/viofosync_cam-1/resume",
        "button/viofosync_cam-1/retry_failed",
    ];
    assert_eq!(expected.len(), viofo_mqtt::ENTITY_COUNT);
    let mut ids = std::collections::BTreeSet::new();
    for object in expected {
        let c = &configs[&format!("homeassistant/{object}/config")];
        assert_eq!(c["availability_topic"], AVAILABILITY, "{object}");
        assert_eq!(c["device"]["identifiers"][0], "viofosync_cam-1", "{object}");
        assert_eq!(c["device"]["model"], "A329S", "{object}");
        assert_eq!(c["device"]["sw_version"], "v1.0.7", "{object}");
        assert_eq!(c["device"]["manufacturer"], "VIOFO", "{object}");
        assert_eq!(c["device"]["name"], "Viofo A329S", "{object}");
        let leaf = object.rsplit('/').next().unwrap();
        assert_eq!(c["object_id"], format!("dashcam_{leaf}"), "{object}");
        assert!(
            ids.insert(c["unique_id"].as_str().unwrap().to_owned()),
            "unique ids"
        );
        if object.starts_with("button/") {
            assert_eq!(c["command_topic"], COMMAND, "{object}");
        } else if c["state_topic"] != STATE {
            let own = ["last_sync", "journey", "result"].map(|t| format!("viofosync/cam-1/{t}"));
            assert!(
                own.iter().any(|t| c["state_topic"] == t.as_str()),
                "{object}: {c}"
            );
        } else {
            assert!(
                c["value_template"]
                    .as_str()
                    .unwrap()
                    .contains("value_json."),
                "{object}"
            );
        }
    }
    let c = |o: &str| &configs[&format!("homeassistant/{o}/config")];
    assert_eq!(
        c("sensor/viofosync_cam-1/last_sync")["device_class"],
        "timestamp"
    );
    assert_eq!(
        c("sensor/viofosync_cam-1/last_sync")["state_topic"],
        "viofosync/cam-1/last_sync"
    );
    assert_eq!(
        c("sensor/viofosync_cam-1/disk_used")["unit_of_measurement"],
        "%"
    );
    for diagnostic in [
        "disk_used",
        "download_speed",
        "session_speed",
        "last_command",
    ] {
        let e = c(&format!("sensor/viofosync_cam-1/{diagnostic}"));
        assert_eq!(e["entity_category"], "diagnostic", "{diagnostic}");
    }
    assert_eq!(
        c("sensor/viofosync_cam-1/download_speed")["unit_of_measurement"],
        "MB/s"
    );
    assert_eq!(c("switch/viofosync_cam-1/paused")["command_topic"], COMMAND);
    assert_eq!(
        c("sensor/viofosync_cam-1/download_progress")["unit_of_measurement"],
        "%"
    );
    assert_eq!(
        c("sensor/viofosync_cam-1/download_speed")["device_class"],
        "data_rate"
    );
    assert_eq!(
        c("binary_sensor/viofosync_cam-1/camera_online")["device_class"],
        "connectivity"
    );
    assert_eq!(
        c("button/viofosync_cam-1/sync_now")["payload_press"],
        "sync-now"
    );
    assert_eq!(
        c("button/viofosync_cam-1/retry_failed")["payload_press"],
        "retry-failed"
    );

    let state = late
        .expect("the retained state", |m| m.topic == STATE)
        .await;
    assert!(state.retain);
    let s = json(&state);
    assert_eq!(s["state"], "waiting");
    assert_eq!(s["camera_online"], true);
    assert_eq!(s["queue_pending"], 0);
    assert_eq!(s["download_progress"], 0.0);
    assert_eq!(s["download_speed"], 0);

    // A clean stop says offline (retained) before it goes.
    task.stop().await;
    live.expect("offline", |m| {
        m.topic == AVAILABILITY && m.payload == "offline"
    })
    .await;
    let mut after = Watcher::new(broker.port, "after", &[AVAILABILITY]);
    let m = after
        .expect("the retained availability", |m| m.topic == AVAILABILITY)
        .await;
    assert_eq!((m.payload.as_str(), m.retain), ("offline", true));
}

pub(crate) async fn state_changes_are_published() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let status = asked();
    let (actions, _asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    let mut w = Watcher::new(broker.port, "state", &[STATE]);
    w.expect("state waiting", |m| is_state(m, "state", &"waiting".into()))
        .await;

    status.set_paused(true);
    w.expect("state paused", |m| is_state(m, "state", &"paused".into()))
        .await;

    status.emit(Event::ItemStarted {
        name: "2025_1224_120324_000002F.MP4".into(),
        size: Some(1_000),
    });
    status.emit(Event::ItemProgress {
        name: "2025_1224_120324_000002F.MP4".into(),
        bytes: 500,
        total: Some(1_000),
    });
    let m = w
        .expect("progress 50 %", |m| {
            is_state(m, "download_progress", &50.0.into())
        })
        .await;
    assert_eq!(json(&m)["current_clip"], "2025_1224_120324_000002F.MP4");

    status.emit(Event::CameraOnline {
        firmware: Some("v1.0.7".into()),
        model: None,
    });
    w.expect("camera online", |m| {
        is_state(m, "camera_online", &true.into())
    })
    .await;
    task.stop().await;
}

pub(crate) async fn a_button_press_delivers_the_action() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let status = asked();
    let (actions, mut asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    let mut w = Watcher::new(broker.port, "button", &[AVAILABILITY]);
    // `online` is published after the task subscribed to its commands.
    w.expect("online", |m| m.payload == "online").await;

    let within = Duration::from_secs(10);
    w.publish(COMMAND, "sync-now");
    let got = tokio::time::timeout(within, asked.recv())
        .await
        .expect("an action within 10 s");
    assert_eq!(got, Some(Action::SyncNow));
    // Anything that is not an action's name is ignored; the next one is taken.
    w.publish(COMMAND, "format-sd-card");
    w.publish(COMMAND, "retry-failed");
    let got = tokio::time::timeout(within, asked.recv())
        .await
        .expect("an action within 10 s");
    assert_eq!(got, Some(Action::RetryFailed));
    task.stop().await;
}

/// The next action within 10 s.
async fn next_action(asked: &mut mpsc::Receiver<Action>) -> Option<Action> {
    tokio::time::timeout(Duration::from_secs(10), asked.recv())
        .await
        .expect("an action within 10 s")
}

/// A retained command is an old one: never acted on at start (a retained
/// `pause` would pause every restart), and one too big for the client
/// (300 KB) neither takes the connection down in a loop nor shows the
/// device offline; commands sent afterwards are taken.
pub(crate) async fn retained_and_huge_commands_are_ignored() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let status = model();
    let mut w = Watcher::new(broker.port, "retained", &[AVAILABILITY, COMMAND]);
    w.publish_retained(COMMAND, b"pause".to_vec());
    // The broker holds it before the task starts.
    w.expect("the retained pause", |m| {
        m.topic == COMMAND && m.payload == "pause"
    })
    .await;
    let (actions, mut asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    w.expect("online", |m| m.payload == "online").await;
    w.publish(COMMAND, "sync-now");
    assert_eq!(
        next_action(&mut asked).await,
        Some(Action::SyncNow),
        "the retained pause was acted on"
    );
    task.stop().await;

    w.publish_retained(COMMAND, vec![b'x'; 300_000]);
    w.expect("the retained 300 KB", |m| {
        m.topic == COMMAND && m.payload.len() == 300_000
    })
    .await;
    let (actions, mut asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    w.expect("online again", |m| m.payload == "online").await;
    for (cmd, want) in [
        ("resume", Action::Resume),
        ("retry-failed", Action::RetryFailed),
    ] {
        w.publish(COMMAND, cmd);
        assert_eq!(next_action(&mut asked).await, Some(want));
    }
    let offline: Vec<_> = w
        .received()
        .into_iter()
        .filter(|m| m.topic == AVAILABILITY && m.payload == "offline")
        .collect();
    assert!(offline.is_empty(), "the device went offline: {offline:?}");
    task.stop().await;
}

pub(crate) async fn recovers_after_the_broker_restarts() {
    let mut broker = Broker::start(&mosquitto().unwrap()).await;
    let status = model();
    let (actions, mut asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    let mut w = Watcher::new(broker.port, "restart", &["viofosync/#", "homeassistant/#"]);
    w.expect("online", |m| {
        m.topic == AVAILABILITY && m.payload == "online"
    })
    .await;

    broker.kill().await;
    // While the broker is away the model changes; nothing waits on MQTT.
    status.set_paused(true);
    broker.launch().await;
    w.drain();
    // The restarted broker (no persistence) knows nothing: everything below
    // was published again by the task after it reconnected.
    w.expect("discovery again", |m| {
        m.topic.ends_with("/sync_state/config")
    })
    .await;
    w.expect("online again", |m| {
        m.topic == AVAILABILITY && m.payload == "online"
    })
    .await;
    w.expect("the current state", |m| {
        is_state(m, "state", &"paused".into())
    })
    .await;
    // And buttons work again (the subscription was renewed).
    w.publish(COMMAND, "resume");
    let got = tokio::time::timeout(Duration::from_secs(10), asked.recv())
        .await
        .expect("an action");
    assert_eq!(got, Some(Action::Resume));
    task.stop().await;
}

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs at TRACE everything the task says while the broker is first down,
/// then up with credentials, then stopped: the password appears nowhere.
pub(crate) fn the_password_is_never_logged() -> Result<(), String> {
    const PASSWORD: &str = "pw-9f2c1e-never-shown";
    let bin = mosquitto()?;
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let debug = tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let port = free_port();
            let mut cfg =
                config(&format!("mqtt://127.0.0.1:{port}")).with_credentials("viofosync", PASSWORD);
            cfg.client_id = Some("pw-test".into());
            tracing::info!(?cfg, "starting");
            let status = model();
            let (actions, _asked) = mpsc::channel(4);
            // No broker yet: the task says so (and retries).
            let task = Task::spawn(cfg.clone(), &status, actions);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !String::from_utf8_lossy(&logs.0.lock().unwrap()).contains("not reachable") {
                assert!(std::time::Instant::now() < deadline, "no outage logged");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _broker = Broker::start_on(&bin, port).await;
            let mut w = Watcher::new(port, "pw", &[AVAILABILITY]);
            w.expect("online", |m| m.payload == "online").await;
            task.stop().await;
            format!("{cfg:?} {cfg:#?}")
        })
    });
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).map_err(|e| e.to_string())?;
    assert!(
        logs.contains("MQTT broker not reachable"),
        "the outage is logged: {logs}"
    );
    assert!(
        logs.contains("MQTT connected"),
        "the connection is logged: {logs}"
    );
    assert!(logs.contains("***"), "the config is logged, masked: {logs}");
    assert!(!logs.contains(PASSWORD), "password in the logs: {logs}");
    assert!(
        debug.contains("***") && !debug.contains(PASSWORD),
        "{debug}"
    );
    Ok(())
}

/// No broker at all: the task keeps retrying in the background, the model
/// is read and fed as usual, and a stop is prompt even mid back-off.
pub(crate) async fn a_broker_that_is_down_blocks_nothing() {
    let status = model();
    let mut cfg = config(&format!("mqtt://127.0.0.1:{}", free_port()));
    cfg.reconnect_min = Duration::from_secs(30);
    cfg.reconnect_max = Duration::from_secs(30);
    let (actions, _asked) = mpsc::channel(4);
    let task = Task::spawn(cfg, &status, actions);
    let started = std::time::Instant::now();
    for i in 0..10_000u64 {
        status.emit(Event::ItemProgress {
            name: "a.MP4".into(),
            bytes: i,
            total: Some(10_000),
        });
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "events took {:?}",
        started.elapsed()
    );
    tokio::task::yield_now().await;
    task.stop().await;
}

/// A URL that is not usable fails at once, without repeating it.
pub(crate) async fn a_bad_url_is_a_configuration_error() {
    let (actions, _asked) = mpsc::channel(4);
    let never = std::future::pending::<()>();
    let cfg = MqttConfig::new("mqtt://user:pw-secret@127.0.0.1:1883");
    let e = tokio::time::timeout(Duration::from_secs(2), run(cfg, model(), actions, never))
        .await
        .expect("returns at once")
        .unwrap_err();
    assert!(matches!(e, viofo_mqtt::Error::Url(_)), "{e:?}");
    assert!(!e.to_string().contains("pw-secret"), "{e}");
}

/// Runs `f` on a two-worker runtime.
pub(crate) fn on_runtime<F: Future<Output = ()>>(f: F) -> Result<(), String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?
        .block_on(f);
    Ok(())
}
