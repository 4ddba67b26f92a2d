//! `watch` in Home Assistant over MQTT (issue 13): a real Mosquitto on a
//! free 127.0.0.1 port, a `watch` of the simulator with `mqtt_url` set,
//! and a subscriber that sees the retained discovery configuration under
//! the configured prefix, `online` on the availability topic while it
//! runs and `offline` after SIGTERM; the password never reaches the log.
//!
//! A libtest-mimic harness (`harness = false`): without Mosquitto the test
//! is reported *ignored* with the reason, never passed. `.ci/run` installs
//! Mosquitto when it is missing.
// A test binary: JSON indexing gives Null rather than panicking, and the
// skip reason goes to stderr.
#![allow(clippy::indexing_slicing, clippy::print_stderr)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use viofo_sim::{ClipSpec, Sim, SimConfig};

const PASSWORD: &str = "never-in-the-log-7f3a";

/// Where `mosquitto` is (Debian installs it in /usr/sbin).
fn mosquitto() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    dirs.iter()
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let bin = mosquitto();
    let missing = bin.is_none();
    if missing && !args.list {
        eprintln!(
            "mqtt::watch_publishes_discovery_and_availability: SKIPPED: mosquitto is not \
             installed (Debian: apt-get install mosquitto; .ci/run installs it)"
        );
    }
    let trial = Trial::test(
        "mqtt::watch_publishes_discovery_and_availability",
        move || watch_publishes_discovery_and_availability(bin.as_deref().ok_or("no mosquitto")?),
    )
    .with_ignored_flag(missing);
    libtest_mimic::run(&args, vec![trial]).exit_code()
}

/// Kills the child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Mosquitto on a free 127.0.0.1 port, accepting connections.
fn start_broker(bin: &Path, dir: &Path) -> Result<(Killed, u16), Failed> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .map_err(|e| e.to_string())?;
    let mut broker = Killed(
        Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting mosquitto: {e}"))?,
    );
    // Bounded: until it accepts a connection, or 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(s) = broker.0.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("mosquitto exited: {s}").into());
        }
        if Instant::now() > deadline {
            return Err("mosquitto did not listen within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((broker, port))
}

/// Receives publications until `want` holds for one, for at most `limit`.
fn expect(
    conn: &mut rumqttc::Connection,
    seen: &mut Vec<(String, String)>,
    limit: Duration,
    what: &str,
    want: impl Fn(&str, &str) -> bool,
) -> Result<(String, String), Failed> {
    if let Some(m) = seen.iter().find(|(t, p)| want(t, p)) {
        return Ok(m.clone());
    }
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no {what} within {limit:?}; seen: {seen:#?}").into());
        }
        match conn.recv_timeout(left) {
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                let m = (
                    p.topic.clone(),
                    String::from_utf8_lossy(&p.payload).into_owned(),
                );
                seen.push(m.clone());
                if want(&m.0, &m.1) {
                    return Ok(m);
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("subscriber: {e}").into()),
            Err(_) => {}
        }
    }
}

fn watch_publishes_discovery_and_availability(bin: &Path) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (_broker, port) = start_broker(bin, dir.path())?;

    let mut opts = MqttOptions::new("viofosync-test-subscriber", "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut conn) = Client::new(opts, 64);
    for filter in ["ha-test/#", "viofosync/#"] {
        client
            .subscribe(filter, QoS::AtLeastOnce)
            .map_err(|e| e.to_string())?;
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let sim = rt
        .block_on(Sim::start(
            SimConfig::default().with_clips(ClipSpec::synthetic(1).size(20_000)),
        ))
        .map_err(|e| e.to_string())?;
    let url = sim.base_url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).map_err(|e| e.to_string())?;
    let mut watch = Killed(
        Command::new(env!("CARGO_BIN_EXE_viofosync"))
            .env_clear()
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env("VIOFOSYNC_ADDRESS", &url)
            .env("VIOFOSYNC_ARCHIVE", &archive)
            .env("VIOFOSYNC_MAX_USED_DISK", "100")
            .env("VIOFOSYNC_MQTT_URL", format!("mqtt://127.0.0.1:{port}"))
            .env("VIOFOSYNC_MQTT_USERNAME", "viofosync")
            .env("VIOFOSYNC_MQTT_PASSWORD", PASSWORD)
            .env("VIOFOSYNC_MQTT_DISCOVERY_PREFIX", "ha-test")
            .args(["watch", "--interval", "1h", "--listen", "off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let stderr = watch.0.stderr.take().ok_or("no stderr")?;
    let log = std::thread::spawn(move || {
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });

    let mut seen = Vec::new();
    let limit = Duration::from_secs(30);
    let (topic, config) = expect(
        &mut conn,
        &mut seen,
        limit,
        "sync state discovery",
        |t, _| t.starts_with("ha-test/sensor/") && t.ends_with("/sync_state/config"),
    )?;
    let config: serde_json::Value =
        serde_json::from_str(&config).map_err(|e| format!("{e}: {config}"))?;
    let availability = config["availability_topic"]
        .as_str()
        .or_else(|| config["availability"][0]["topic"].as_str())
        .ok_or_else(|| format!("no availability topic in {topic}: {config:#}"))?
        .to_owned();
    if !availability.starts_with("viofosync/") || config["device"]["identifiers"].is_null() {
        return Err(format!("{topic}: {config:#}").into());
    }
    for component in ["binary_sensor", "button"] {
        expect(&mut conn, &mut seen, limit, component, |t, _| {
            t.starts_with(&format!("ha-test/{component}/")) && t.ends_with("/config")
        })?;
    }
    expect(&mut conn, &mut seen, limit, "online", |t, p| {
        t == availability && p == "online"
    })?;
    // The sync is not held up: the clip arrives while MQTT is on.
    expect(
        &mut conn,
        &mut seen,
        limit,
        "a successful sync in the state",
        |t, p| t.ends_with("/state") && p.contains("\"last_sync\":\""),
    )?;

    if let Some(pid) = i32::try_from(watch.0.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    // A clean stop says `offline`.
    expect(&mut conn, &mut seen, limit, "offline", |t, p| {
        t == availability && p == "offline"
    })?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(s) = watch.0.try_wait().map_err(|e| e.to_string())? {
            break s.code();
        }
        if Instant::now() > deadline {
            return Err("watch did not stop after SIGTERM".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = log.join().map_err(|_| "log reader panicked")?.join("\n");
    rt.block_on(sim.shutdown());
    if code != Some(0) {
        return Err(format!("watch exited with {code:?}:\n{log}").into());
    }
    if log.contains(PASSWORD) {
        return Err(format!("the password reached the log:\n{log}").into());
    }
    let files = std::fs::read_dir(&archive)
        .map_err(|e| e.to_string())?
        .count();
    if files == 0 {
        return Err(format!("nothing archived:\n{log}").into());
    }
    Ok(())
}
