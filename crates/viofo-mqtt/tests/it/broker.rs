//! A real Mosquitto for the tests, on a free loopback port, and a test
//! client (`Watcher`) that records what the broker delivers.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Where `mosquitto` is, or why it cannot be used.
pub(crate) fn mosquitto() -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    dirs.iter()
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "mosquitto is not installed (Debian: apt-get install mosquitto; .ci/run installs it)"
                .to_owned()
        })
}

/// A free port on 127.0.0.1 (bound, then released for the broker).
pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A running Mosquitto; killed when dropped.
pub(crate) struct Broker {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    child: Option<tokio::process::Child>,
    starts: u32,
    /// More of mosquitto.conf (a TLS listener).
    extra: String,
}

impl Broker {
    pub(crate) async fn start(bin: &Path) -> Self {
        Self::start_on(bin, free_port()).await
    }

    pub(crate) async fn start_on(bin: &Path, port: u16) -> Self {
        Self::start_with(bin, port, String::new()).await
    }

    /// With `extra` lines in its configuration.
    pub(crate) async fn start_with(bin: &Path, port: u16, extra: String) -> Self {
        let mut b = Self {
            bin: bin.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
            port,
            child: None,
            starts: 0,
            extra,
        };
        b.launch().await;
        b
    }

    /// Starts it (again) on the same port and waits until it accepts.
    pub(crate) async fn launch(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "per_listener_settings false\nlistener {} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n{}",
                self.port, self.extra
            ),
        )
        .expect("write mosquitto.conf");
        self.starts += 1;
        let log = self
            .dir
            .path()
            .join(format!("mosquitto-{}.log", self.starts));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut child = tokio::process::Command::new(&self.bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .expect("start mosquitto");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                break;
            }
            if let Ok(Some(exit)) = child.try_wait() {
                panic!(
                    "mosquitto exited ({exit}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
    }

    /// Kills it (no goodbye to its clients) and waits for it to exit.
    pub(crate) async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().await.expect("kill mosquitto");
        }
    }

    /// What it logged since its last start.
    pub(crate) fn log(&self) -> String {
        let log = self
            .dir
            .path()
            .join(format!("mosquitto-{}.log", self.starts));
        std::fs::read_to_string(log).unwrap_or_default()
    }

    pub(crate) fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// One message the watcher received.
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub(crate) topic: String,
    pub(crate) payload: String,
    pub(crate) retain: bool,
}

/// A test client subscribed to `filters` (again after each reconnection).
pub(crate) struct Watcher {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Msg>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    pub(crate) fn new(port: u16, name: &str, filters: &[&str]) -> Self {
        let mut opts = MqttOptions::new(format!("test-{name}"), "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(5));
        // Room for the big messages a test sends and receives.
        opts.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut el) = AsyncClient::new(opts, 64);
        let (tx, rx) = mpsc::unbounded_channel();
        let filters: Vec<String> = filters.iter().map(|f| (*f).to_owned()).collect();
        let sub = client.clone();
        let task = tokio::spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        for f in &filters {
                            sub.try_subscribe(f.clone(), QoS::AtLeastOnce)
                                .expect("subscribe");
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let msg = Msg {
                            topic: p.topic.clone(),
                            payload: String::from_utf8_lossy(&p.payload).into_owned(),
                            retain: p.retain,
                        };
                        if tx.send(msg).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // The broker is away (a restart test): poll again soon.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Self { client, rx, task }
    }

    /// The next message for which `pred` holds, within 15 s; panics with
    /// what came instead.
    pub(crate) async fn expect(&mut self, what: &str, pred: impl Fn(&Msg) -> bool) -> Msg {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) if pred(&m) => return m,
                Ok(Some(m)) => seen.push(format!("{} {}", m.topic, m.payload)),
                Ok(None) => panic!("watcher ended waiting for {what}"),
                Err(_) => panic!("no {what} within 15 s; received: {seen:#?}"),
            }
        }
    }

    /// Forgets what was received so far.
    pub(crate) fn drain(&mut self) {
        while self.rx.try_recv().is_ok() {}
    }

    /// Publishes `payload` retained: the broker hands it to every later
    /// subscriber.
    pub(crate) fn publish_retained(&self, topic: &str, payload: Vec<u8>) {
        self.client
            .try_publish(topic, QoS::AtLeastOnce, true, payload)
            .expect("test publish");
    }

    /// Everything received and not yet taken.
    pub(crate) fn received(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            out.push(m);
        }
        out
    }

    pub(crate) fn publish(&self, topic: &str, payload: &str) {
        self.client
            .try_publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .expect("test publish");
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
