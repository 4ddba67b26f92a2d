//! What Home Assistant sees across restarts and renames (issue 25): no
//! placeholder over a retained value before the camera was asked, orphaned
//! devices removed, a button that could not act says why, and TLS.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use viofo_mqtt::MqttConfig;
use viofo_pipeline::{Event, EventSink};
use viofo_status::{Action, NoPersistence, StatusConfig, StatusModel};

use crate::broker::{Broker, Watcher, free_port, mosquitto};
use crate::cases::{Task, config, model};

const STATE: &str = "viofosync/cam-1/state";
const LAST_SYNC: &str = "viofosync/cam-1/last_sync";
const COMMAND: &str = "viofosync/cam-1/command";

/// A restart before the camera answers: the good retained values (state,
/// last sync, device name) are not replaced by placeholders: no state is
/// published until the camera was asked.
pub(crate) async fn nothing_false_before_the_camera_was_asked() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let mut w = Watcher::new(broker.port, "restart", &["viofosync/#", "homeassistant/#"]);
    // What the previous run left.
    w.publish_retained(LAST_SYNC, b"2026-12-07T10:00:00Z".to_vec());
    w.expect("the old last sync", |m| m.topic == LAST_SYNC)
        .await;
    w.drain();
    let status = StatusModel::new(
        StatusConfig::new("cam-1", "/nonexistent-archive"),
        NoPersistence,
    );
    let (actions, _asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    let d = w
        .expect("discovery", |m| m.topic.ends_with("/sync_state/config"))
        .await;
    let d: Value = serde_json::from_str(&d.payload).unwrap();
    assert_eq!(
        d["device"].get("name"),
        None,
        "no placeholder device name: {d}"
    );
    w.expect("online", |m| m.payload == "online").await;

    // Nothing about the camera until it was asked: the first state is the
    // probe's answer.
    status.emit(Event::CameraOffline {
        reason: "connection refused".into(),
    });
    let m = w.expect("the first state", |m| m.topic == STATE).await;
    let s: Value = serde_json::from_str(&m.payload).unwrap();
    assert_eq!(s["camera_online"], false, "{s}");
    status.emit(Event::CameraOnline {
        firmware: Some("v1.0.7".into()),
        model: Some("A329S".into()),
    });
    // The discovery naming the model, then the state.
    let d = w
        .expect("discovery with the model", |m| {
            m.topic.ends_with("/sync_state/config") && m.payload.contains("A329S")
        })
        .await;
    w.expect("camera online", |m| {
        m.topic == STATE && m.payload.contains("\"camera_online\":true")
    })
    .await;
    let d: Value = serde_json::from_str(&d.payload).unwrap();
    assert_eq!(d["device"]["name"], "Viofo A329S");
    let over: Vec<_> = w
        .received()
        .into_iter()
        .filter(|m| m.topic == LAST_SYNC)
        .collect();
    assert!(over.is_empty(), "the last sync was overwritten: {over:?}");
    task.stop().await;
    // The broker still holds the old last sync.
    let mut late = Watcher::new(broker.port, "late", &[LAST_SYNC]);
    let m = late
        .expect("the kept last sync", |m| m.topic == LAST_SYNC)
        .await;
    assert_eq!(m.payload, "2026-12-07T10:00:00Z");
}

/// A camera id no longer configured: its retained discovery and state are
/// emptied at the next connection (Home Assistant removes the device); a
/// camera still configured, another node's device and this camera's own
/// are kept.
pub(crate) async fn orphaned_devices_are_removed() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let mut w = Watcher::new(broker.port, "orphans", &["homeassistant/#", "viofosync/#"]);
    let old = "homeassistant/sensor/viofosync_old-address/sync_state/config";
    let kept = [
        "homeassistant/sensor/viofosync_rear/sync_state/config",
        "homeassistant/sensor/othernode_old-address/sync_state/config",
    ];
    let vanished = "homeassistant/sensor/viofosync_cam-1/no_longer_an_entity/config";
    for t in [old, vanished].iter().chain(&kept) {
        w.publish_retained(t, b"{\"name\":\"x\"}".to_vec());
    }
    w.publish_retained("viofosync/old-address/state", b"{}".to_vec());
    let mut seen = 0;
    while seen < 5 {
        w.expect("the retained setup", |m| m.retain).await;
        seen += 1;
    }
    let mut cfg = config(&broker.url());
    cfg.cameras = vec!["cam-1".into(), "rear".into()];
    let (actions, _asked) = mpsc::channel(4);
    let task = Task::spawn(cfg, &model(), actions);
    let mut emptied = std::collections::BTreeSet::new();
    let want = [old, vanished, "viofosync/old-address/state"];
    while !want.iter().all(|t| emptied.contains(*t)) {
        let m = w
            .expect("the orphans emptied", |m| m.payload.is_empty())
            .await;
        emptied.insert(m.topic);
    }
    task.stop().await;
    // What a later subscriber (Home Assistant starting) gets.
    let mut late = Watcher::new(broker.port, "late", &["homeassistant/#"]);
    let mut retained = BTreeMap::new();
    while retained.len() < viofo_mqtt::ENTITY_COUNT + kept.len() {
        let m = late.expect("retained discovery", |m| m.retain).await;
        retained.insert(m.topic, m.payload);
    }
    for t in kept {
        assert!(retained.contains_key(t), "{t} was removed");
    }
    assert!(!retained.contains_key(old) && !retained.contains_key(vanished));
}

/// "Sync now" while paused is passed on, and the "Last command" entity
/// says why nothing happens.
pub(crate) async fn sync_now_while_paused_says_why() {
    let broker = Broker::start(&mosquitto().unwrap()).await;
    let status = model();
    status.set_paused(true);
    let (actions, mut asked) = mpsc::channel(4);
    let task = Task::spawn(config(&broker.url()), &status, actions);
    let mut w = Watcher::new(broker.port, "paused", &["viofosync/#"]);
    w.expect("paused", |m| {
        m.topic == STATE && m.payload.contains("\"paused\":true")
    })
    .await;
    w.publish(COMMAND, "sync-now");
    let said = w
        .expect("the result", |m| m.topic == "viofosync/cam-1/result")
        .await;
    assert!(said.payload.contains("paused"), "{}", said.payload);
    assert!(!said.retain);
    let got = tokio::time::timeout(Duration::from_secs(10), asked.recv()).await;
    assert_eq!(got.ok().flatten(), Some(Action::SyncNow));
    w.publish(COMMAND, "resume");
    let said = w
        .expect("the second result", |m| {
            m.topic == "viofosync/cam-1/result" && m.payload.starts_with("resume")
        })
        .await;
    assert_eq!(said.payload, "resume: asked");
    task.stop().await;
}

/// Runs openssl; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority and a certificate for 127.0.0.1 signed by it,
/// made now: `ca.pem`, `server.pem`, `server.key` in `dir`.
fn make_certificates(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    // Mosquitto started as root reads them as its own user.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=viofosync test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.pem",
        ],
    );
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
}

/// `mqtts://` against Mosquitto's TLS listener with a certificate made at
/// test time: trusted through the CA file, it connects and publishes; with
/// another CA it does not connect (the broker's log shows no client).
pub(crate) async fn tls_with_a_ca_file() {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let tls_port = free_port();
    let d = certs.path().display();
    let broker = Broker::start_with(
        &mosquitto().unwrap(),
        free_port(),
        format!(
            "listener {tls_port} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\n"
        ),
    )
    .await;
    // The plain listener is the test's window on what arrives.
    let mut w = Watcher::new(broker.port, "tls", &["viofosync/#"]);
    let mut cfg: MqttConfig = config(&format!("mqtts://127.0.0.1:{tls_port}"));
    cfg.ca_file = Some(certs.path().join("ca.pem"));
    let (actions, mut asked) = mpsc::channel(4);
    let task = Task::spawn(cfg, &model(), actions);
    w.expect("online over TLS", |m| m.payload == "online").await;
    w.publish(COMMAND, "sync-now");
    let got = tokio::time::timeout(Duration::from_secs(10), asked.recv()).await;
    assert_eq!(
        got.ok().flatten(),
        Some(Action::SyncNow),
        "commands over TLS"
    );
    task.stop().await;
    w.expect("offline", |m| m.payload == "offline").await;

    // A CA that did not sign the broker's certificate: refused.
    let other = tempfile::tempdir().unwrap();
    make_certificates(other.path());
    let mut cfg = config(&format!("mqtts://127.0.0.1:{tls_port}"));
    cfg.ca_file = Some(other.path().join("ca.pem"));
    let e = cfg.validate();
    assert!(e.is_ok(), "{e:?}");
    let (actions, _asked) = mpsc::channel(4);
    let task = Task::spawn(cfg, &model(), actions);
    // Bounded wait for the broker to have refused a handshake.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !broker.log().contains("OpenSSL Error") && !broker.log().contains("alert") {
        assert!(
            std::time::Instant::now() < deadline,
            "no refused handshake: {}",
            broker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let online: Vec<_> = w
        .received()
        .into_iter()
        .filter(|m| m.payload == "online")
        .collect();
    assert!(
        online.is_empty(),
        "connected with a CA that does not match: {online:?}"
    );
    task.stop().await;
}
