//! The parts of the real Home Assistant test: Mosquitto, a Home Assistant
//! configuration written before its first start (the MQTT entry, a user
//! with a long-lived token, two automations that log `camera_online`
//! transitions), a small HTTP client for its REST API, and `watch`.

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use serde_json::{Value, json};

/// The Home Assistant version `.ci/homeassistant.sh` installs.
pub(crate) const HA_VERSION: &str = "2024.3.3";
const USER: &str = "5b2f1c6e9a0d4e7f8a1b2c3d4e5f6a7b";
const TOKEN_ID: &str = "8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f";
const JWT_KEY: &str = "3f1e9d7c5b3a19f8e7d6c5b4a3928170f1e2d3c4b5a69788796a5b4c3d2e1f00";

/// Kills the child when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// SIGTERM, then waits (at most `limit`) for the exit code.
    pub(crate) fn terminate(&mut self, limit: Duration) -> Result<Option<i32>, Failed> {
        if let Some(pid) = i32::try_from(self.0.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.0.try_wait().map_err(|e| e.to_string())? {
                return Ok(s.code());
            }
            if Instant::now() > deadline {
                return Err(format!("no exit within {limit:?} of SIGTERM").into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A free port on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16, Failed> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port())
}

/// Polls `f` every 200 ms until it returns `Some`, for at most `limit`.
pub(crate) fn wait_for<T>(
    limit: Duration,
    what: &str,
    mut f: impl FnMut() -> Result<Option<T>, Failed>,
) -> Result<T, Failed> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: not within {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Mosquitto on a free 127.0.0.1 port, accepting connections.
pub(crate) fn start_broker(bin: &Path, dir: &Path) -> Result<(Killed, u16), Failed> {
    let port = free_port()?;
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
    wait_for(Duration::from_secs(10), "mosquitto listening", || {
        if let Some(s) = broker.0.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("mosquitto exited: {s}").into());
        }
        Ok(TcpStream::connect(("127.0.0.1", port)).ok())
    })?;
    Ok((broker, port))
}

/// A Home Assistant configuration directory, written before its first
/// start: HTTP and the API on `http_port`, the MQTT entry for the broker
/// on `mqtt_port`, an owner with a long-lived token, and automations that
/// log each `camera_online` change to on or off.
pub(crate) fn write_config(dir: &Path, http_port: u16, mqtt_port: u16) -> Result<(), Failed> {
    let storage = dir.join(".storage");
    std::fs::create_dir_all(&storage).map_err(|e| e.to_string())?;
    let automation = |to: &str| {
        format!(
            "  - alias: camera {to}\n    trigger:\n      - platform: state\n        \
             entity_id: binary_sensor.dashcam_camera_online\n        to: \"{to}\"\n    \
             action:\n      - service: system_log.write\n        data:\n          \
             message: \"VIOFOTEST camera_online {to}\"\n          level: warning\n          \
             logger: viofotest\n"
        )
    };
    let yaml = format!(
        "homeassistant:\n  name: viofosync test\n  latitude: 0\n  longitude: 0\n  elevation: 0\n  \
         unit_system: metric\n  time_zone: UTC\n  currency: EUR\n  country: DE\n\
         http:\n  server_host: 127.0.0.1\n  server_port: {http_port}\n\
         api:\n\
         automation:\n{}{}",
        automation("on"),
        automation("off")
    );
    std::fs::write(dir.join("configuration.yaml"), yaml).map_err(|e| e.to_string())?;
    let store = |key: &str, data: Value| {
        let doc = json!({"version": 1, "minor_version": 1, "key": key, "data": data});
        std::fs::write(storage.join(key), doc.to_string()).map_err(|e| e.to_string())
    };
    store(
        "core.config_entries",
        json!({"entries": [{
            "entry_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "version": 1, "domain": "mqtt",
            "title": "127.0.0.1",
            "data": {"broker": "127.0.0.1", "port": mqtt_port, "discovery": true,
                     "discovery_prefix": "homeassistant"},
            "options": {}, "source": "user", "unique_id": null, "disabled_by": null,
            "pref_disable_new_entities": false, "pref_disable_polling": false
        }]}),
    )?;
    store(
        "auth",
        json!({
            "users": [{"id": USER, "group_ids": ["system-admin"], "is_owner": true,
                       "is_active": true, "name": "viofosync test", "system_generated": false,
                       "local_only": false}],
            "groups": [{"id": "system-admin", "name": "Administrators"},
                       {"id": "system-users", "name": "Users"},
                       {"id": "system-read-only", "name": "Read Only"}],
            "credentials": [],
            "refresh_tokens": [{
                "id": TOKEN_ID, "user_id": USER, "client_id": null,
                "client_name": "viofosync test", "client_icon": null,
                "token_type": "long_lived_access_token",
                "created_at": "2024-01-01T00:00:00+00:00",
                "access_token_expiration": 86_400.0, "token": JWT_KEY.repeat(2),
                "jwt_key": JWT_KEY, "last_used_at": null, "last_used_ip": null,
                "credential_id": null, "version": HA_VERSION
            }]
        }),
    )?;
    store(
        "onboarding",
        json!({"done": ["user", "core_config", "analytics", "integration"]}),
    )?;
    Ok(())
}

/// The long-lived access token of the configuration (an HS256 JWT, made
/// with the virtualenv's PyJWT, as Home Assistant makes them).
pub(crate) fn token(venv: &Path) -> Result<String, Failed> {
    let script = format!(
        "import jwt,time;n=int(time.time());print(jwt.encode({{'iss':'{TOKEN_ID}','iat':n,\
         'exp':n+86400}},'{JWT_KEY}',algorithm='HS256'))"
    );
    let out = Command::new(venv.join("bin/python"))
        .args(["-c", &script])
        .output()
        .map_err(|e| format!("python: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Home Assistant's REST API on 127.0.0.1.
pub(crate) struct Api {
    pub(crate) port: u16,
    pub(crate) token: String,
}

impl Api {
    /// One request (HTTP/1.1, `Connection: close`): status and body.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, String), Failed> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| e.to_string())?;
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            self.token,
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").ok_or("no HTTP header")?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or("no HTTP status")?;
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        Ok((
            status,
            if chunked {
                dechunk(rest)
            } else {
                rest.to_owned()
            },
        ))
    }

    /// Every state, by entity id.
    pub(crate) fn states(&self) -> Result<std::collections::BTreeMap<String, Value>, Failed> {
        let (status, body) = self.call("GET", "/api/states", None)?;
        if status != 200 {
            return Err(format!("GET /api/states: {status} {body}").into());
        }
        let all: Vec<Value> = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        Ok(all
            .into_iter()
            .filter_map(|s| Some((s["entity_id"].as_str()?.to_owned(), s)))
            .collect())
    }

    /// One entity's state string (`None`: no such entity).
    pub(crate) fn state(&self, entity: &str) -> Result<Option<String>, Failed> {
        let (status, body) = self.call("GET", &format!("/api/states/{entity}"), None)?;
        if status == 404 {
            return Ok(None);
        }
        let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        Ok(v["state"].as_str().map(str::to_owned))
    }

    /// Calls a service on an entity.
    pub(crate) fn service(&self, domain: &str, service: &str, entity: &str) -> Result<(), Failed> {
        let (status, body) = self.call(
            "POST",
            &format!("/api/services/{domain}/{service}"),
            Some(&json!({"entity_id": entity})),
        )?;
        if status != 200 {
            return Err(format!("{domain}.{service} {entity}: {status} {body}").into());
        }
        Ok(())
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(rest.get(..n).unwrap_or(""));
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

/// A running `viofosync watch` whose log lines are collected as they come.
pub(crate) struct Watch {
    pub(crate) child: Killed,
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    pub(crate) fn start(
        home: &Path,
        camera: &str,
        mqtt_port: u16,
        listen: u16,
    ) -> Result<Self, Failed> {
        let archive: PathBuf = home.join("archive");
        std::fs::create_dir_all(&archive).map_err(|e| e.to_string())?;
        let mut child = Killed(
            Command::new(env!("CARGO_BIN_EXE_viofosync"))
                .env_clear()
                .env("HOME", home)
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_STATE_HOME", home.join("state"))
                .env("VIOFOSYNC_ADDRESS", camera)
                .env("VIOFOSYNC_ARCHIVE", &archive)
                .env("VIOFOSYNC_MAX_USED_DISK", "100")
                .env(
                    "VIOFOSYNC_MQTT_URL",
                    format!("mqtt://127.0.0.1:{mqtt_port}"),
                )
                .args(["watch", "--interval", "1h", "--listen"])
                .arg(format!("127.0.0.1:{listen}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())?,
        );
        let stderr = child.0.stderr.take().ok_or("no stderr")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Ok(mut l) = sink.lock() {
                    l.push(line);
                }
            }
        });
        Ok(Self { child, log })
    }

    /// Whether a log line contains `needle`.
    pub(crate) fn logged(&self, needle: &str) -> bool {
        self.log
            .lock()
            .map(|l| l.iter().any(|line| line.contains(needle)))
            .unwrap_or(false)
    }

    pub(crate) fn text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}
