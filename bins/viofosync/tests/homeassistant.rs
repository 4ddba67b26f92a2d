//! `watch` as a real Home Assistant sees it (issue 25): Home Assistant
//! (the version `.ci/homeassistant.sh` installs in a cached virtualenv),
//! with its MQTT entry written before its first start, and Mosquitto, both
//! on 127.0.0.1; `watch` syncs the simulator. Asserted from Home
//! Assistant's REST states, its entity and device registries and its log:
//! the entities with their ids, units and categories; no warning or error
//! from the MQTT integration; a button and the Paused switch reach
//! `watch`; a restart of `watch` never turns `camera_online` off.
//!
//! A libtest-mimic harness (`harness = false`): without Mosquitto or the
//! Home Assistant virtualenv the test is reported *ignored* with the
//! reason, never passed. `.ci/run` installs both when missing.
// A test binary: JSON indexing gives Null rather than panicking, and the
// skip reason and progress go to stderr.
#![allow(clippy::indexing_slicing, clippy::print_stderr)]

#[path = "homeassistant/rig.rs"]
mod rig;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use viofo_sim::{ClipSpec, Sim, SimConfig};

use rig::{Api, HA_VERSION, Killed, Watch, free_port, start_broker, wait_for, write_config};

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

/// The Home Assistant virtualenv: `$VIOFOSYNC_HA_VENV`, else
/// `<target>/homeassistant-<version>` (where `.ci/homeassistant.sh` puts it).
fn venv() -> PathBuf {
    std::env::var_os("VIOFOSYNC_HA_VENV").map_or_else(
        || {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .unwrap_or(Path::new("target"))
                .join(format!("homeassistant-{HA_VERSION}"))
        },
        PathBuf::from,
    )
}

const NAME: &str = "homeassistant::watch_in_a_real_home_assistant";

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let venv = venv();
    let missing = match mosquitto() {
        None => Some(
            "mosquitto is not installed (Debian: apt-get install mosquitto; .ci/run installs it)"
                .to_owned(),
        ),
        Some(_) if !venv.join(".installed").is_file() => Some(format!(
            "Home Assistant {HA_VERSION} is not installed in {} (run .ci/homeassistant.sh; \
             .ci/run does)",
            venv.display()
        )),
        Some(_) => None,
    };
    if let Some(why) = &missing
        && !args.list
    {
        eprintln!("{NAME}: SKIPPED: {why}");
    }
    let skipped = missing.is_some();
    let trial = Trial::test(NAME, move || match (&missing, mosquitto()) {
        (None, Some(bin)) => watch_in_a_real_home_assistant(&bin, &venv),
        (why, _) => Err(why.clone().unwrap_or_default().into()),
    })
    .with_ignored_flag(skipped);
    libtest_mimic::run(&args, vec![trial]).exit_code()
}

/// Entity id, unit, device class, entity category.
type Expected = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Every entity.
const ENTITIES: [Expected; 22] = [
    ("sensor.dashcam_sync_state", None, Some("enum"), None),
    ("sensor.dashcam_problem", None, None, None),
    ("sensor.dashcam_queue_pending", Some("clips"), None, None),
    ("sensor.dashcam_failed_clips", Some("clips"), None, None),
    ("sensor.dashcam_current_clip", None, None, None),
    ("sensor.dashcam_download_progress", Some("%"), None, None),
    ("sensor.dashcam_cycle_progress", Some("%"), None, None),
    (
        "sensor.dashcam_cycle_eta",
        Some("s"),
        Some("duration"),
        None,
    ),
    (
        "sensor.dashcam_download_speed",
        Some("MB/s"),
        Some("data_rate"),
        Some("diagnostic"),
    ),
    (
        "sensor.dashcam_session_speed",
        Some("MB/s"),
        Some("data_rate"),
        Some("diagnostic"),
    ),
    (
        "sensor.dashcam_disk_used",
        Some("%"),
        None,
        Some("diagnostic"),
    ),
    ("sensor.dashcam_last_sync", None, Some("timestamp"), None),
    (
        "sensor.dashcam_last_journey_start",
        None,
        Some("timestamp"),
        None,
    ),
    (
        "sensor.dashcam_last_journey_end",
        None,
        Some("timestamp"),
        None,
    ),
    (
        "sensor.dashcam_last_journey_distance",
        Some("km"),
        Some("distance"),
        None,
    ),
    (
        "sensor.dashcam_last_command",
        None,
        None,
        Some("diagnostic"),
    ),
    (
        "binary_sensor.dashcam_camera_online",
        None,
        Some("connectivity"),
        None,
    ),
    ("switch.dashcam_paused", None, None, None),
    ("button.dashcam_sync_now", None, None, None),
    ("button.dashcam_pause", None, None, None),
    ("button.dashcam_resume", None, None, None),
    ("button.dashcam_retry_failed", None, None, None),
];

fn watch_in_a_real_home_assistant(mosquitto: &Path, venv: &Path) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (_broker, mqtt_port) = start_broker(mosquitto, dir.path())?;
    let config = dir.path().join("ha");
    let api = Api {
        port: free_port()?,
        token: rig::token(venv)?,
    };
    write_config(&config, api.port, mqtt_port)?;
    let ha_log = dir.path().join("hass.out");
    let mut ha = Killed(
        Command::new(venv.join("bin/hass"))
            .arg("-c")
            .arg(&config)
            .arg("--skip-pip")
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                std::fs::File::create(&ha_log).map_err(|e| e.to_string())?,
            ))
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting hass: {e}"))?,
    );
    wait_for(Duration::from_secs(240), "Home Assistant's API", || {
        if let Some(s) = ha.0.try_wait().map_err(|e| e.to_string())? {
            let out = std::fs::read_to_string(&ha_log).unwrap_or_default();
            return Err(format!("hass exited ({s}):\n{out}").into());
        }
        Ok(api
            .call("GET", "/api/", None)
            .ok()
            .filter(|(s, _)| *s == 200))
    })?;
    eprintln!("{NAME}: Home Assistant {HA_VERSION} is up");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // A first sync of several seconds, its state published as it goes.
    let sim = rt
        .block_on(Sim::start(
            SimConfig::default()
                .with_clips(ClipSpec::synthetic(6).size(1_500_000))
                .bandwidth(2_000_000),
        ))
        .map_err(|e| e.to_string())?;
    let url = sim.base_url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let status_port = free_port()?;
    let home = dir.path().join("watch");
    let mut watch = Watch::start(&home, &url, mqtt_port, status_port)?;

    // The first sync completes: its time reaches the timestamp entity.
    let synced = wait_for(
        Duration::from_secs(120),
        "the last sync in Home Assistant",
        || {
            Ok(api
                .state("sensor.dashcam_last_sync")?
                .filter(|s| s.contains('T')))
        },
    )
    .map_err(|e| format!("{e:?}\nwatch:\n{}", watch.text()))?;
    eprintln!("{NAME}: first sync done at {synced}");
    wait_for(Duration::from_secs(30), "camera online", || {
        Ok(api
            .state("binary_sensor.dashcam_camera_online")?
            .filter(|s| s == "on"))
    })?;

    let states = api.states()?;
    let mut problems = Vec::new();
    for (id, unit, class, _) in ENTITIES {
        let Some(s) = states.get(id) else {
            problems.push(format!("{id}: missing"));
            continue;
        };
        let a = &s["attributes"];
        if a["unit_of_measurement"].as_str() != unit {
            problems.push(format!("{id}: unit {}", a["unit_of_measurement"]));
        }
        if a["device_class"].as_str() != class {
            problems.push(format!("{id}: device class {}", a["device_class"]));
        }
        if s["state"] == "unavailable" {
            problems.push(format!("{id}: unavailable"));
        }
    }
    let state = |id: &str| states.get(id).map_or(Value::Null, |s| s["state"].clone());
    for (id, want) in [
        ("sensor.dashcam_sync_state", "waiting"),
        ("sensor.dashcam_problem", "none"),
        ("sensor.dashcam_queue_pending", "0"),
        ("sensor.dashcam_download_progress", "0.0"),
        ("sensor.dashcam_download_speed", "0.0"),
        ("sensor.dashcam_current_clip", "none"),
    ] {
        if state(id) != want {
            problems.push(format!("{id}: {} (want {want})", state(id)));
        }
    }
    for id in [
        "sensor.dashcam_disk_used",
        "sensor.dashcam_last_journey_distance",
    ] {
        if state(id)
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .is_none()
        {
            problems.push(format!("{id}: {} (want a number)", state(id)));
        }
    }
    let friendly = &states
        .get("sensor.dashcam_sync_state")
        .map_or(Value::Null, |s| s["attributes"]["friendly_name"].clone());
    if !friendly
        .as_str()
        .is_some_and(|f| f.starts_with("Viofo ") && f.ends_with(" Sync state"))
    {
        problems.push(format!(
            "sensor.dashcam_sync_state: friendly name {friendly}"
        ));
    }
    let options = states
        .get("sensor.dashcam_sync_state")
        .map_or(Value::Null, |s| s["attributes"]["options"].clone());
    eprintln!("{NAME}: the enum sensor's options as Home Assistant shows them: {options}");
    if !problems.is_empty() {
        return Err(format!("entities:\n{}", problems.join("\n")).into());
    }

    // A button reaches watch; the Paused switch pauses and says so.
    api.service("button", "press", "button.dashcam_sync_now")?;
    wait_for(Duration::from_secs(20), "sync now in watch's log", || {
        Ok(watch
            .logged("sync now (asked over HTTP or MQTT)")
            .then_some(()))
    })?;
    api.service("switch", "turn_on", "switch.dashcam_paused")?;
    wait_for(Duration::from_secs(20), "paused", || {
        Ok(
            (api.state("sensor.dashcam_sync_state")?.as_deref() == Some("paused")
                && api.state("switch.dashcam_paused")?.as_deref() == Some("on"))
            .then_some(()),
        )
    })?;
    api.service("button", "press", "button.dashcam_sync_now")?;
    wait_for(Duration::from_secs(20), "why sync now did nothing", || {
        Ok(api
            .state("sensor.dashcam_last_command")?
            .filter(|s| s.contains("paused")))
    })?;
    api.service("switch", "turn_off", "switch.dashcam_paused")?;
    wait_for(Duration::from_secs(20), "resumed", || {
        Ok((api.state("switch.dashcam_paused")?.as_deref() == Some("off")).then_some(()))
    })?;

    // A restart of watch: unavailable while it is away, then on again,
    // never off.
    let code = watch.child.terminate(Duration::from_secs(20))?;
    if code != Some(0) {
        return Err(format!("watch exited with {code:?}:\n{}", watch.text()).into());
    }
    wait_for(
        Duration::from_secs(20),
        "unavailable after the stop",
        || {
            Ok(
                (api.state("binary_sensor.dashcam_camera_online")?.as_deref()
                    == Some("unavailable"))
                .then_some(()),
            )
        },
    )?;
    let mut watch = Watch::start(&home, &url, mqtt_port, status_port)?;
    wait_for(
        Duration::from_secs(60),
        "on again after the restart",
        || {
            Ok(
                (api.state("binary_sensor.dashcam_camera_online")?.as_deref() == Some("on")
                    && api
                        .state("sensor.dashcam_last_sync")?
                        .is_some_and(|s| s.contains('T')))
                .then_some(()),
            )
        },
    )?;
    // Past the restarted watch's first cycle (and its probe): its status
    // says when the next one starts.
    let page = Api {
        port: status_port,
        token: String::new(),
    };
    wait_for(
        Duration::from_secs(60),
        "the second watch's first cycle",
        || {
            let (_, body) = page.call("GET", "/api/status", None)?;
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            Ok((!v["next_cycle"].is_null()).then_some(()))
        },
    )?;
    if api.state("binary_sensor.dashcam_camera_online")?.as_deref() != Some("on") {
        return Err("camera_online is not on after the restart's first cycle".into());
    }
    let code = watch.child.terminate(Duration::from_secs(20))?;
    if code != Some(0) {
        return Err(format!("watch exited with {code:?}:\n{}", watch.text()).into());
    }
    rt.block_on(sim.shutdown());
    let code = ha.terminate(Duration::from_secs(60))?;
    eprintln!("{NAME}: Home Assistant stopped ({code:?})");

    check_registries(&config)?;
    check_log(&config.join("home-assistant.log"))
}

/// The entity registry holds every entity with its unit and category; the
/// device registry one device named after the model, linked to the page.
fn check_registries(config: &Path) -> Result<(), Failed> {
    let read = |name: &str| -> Result<Value, Failed> {
        let text = std::fs::read_to_string(config.join(".storage").join(name))
            .map_err(|e| format!("{name}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{name}: {e}").into())
    };
    let entities = read("core.entity_registry")?;
    let entities = entities["data"]["entities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (id, unit, _, category) in ENTITIES {
        let Some(e) = entities.iter().find(|e| e["entity_id"] == id) else {
            problems.push(format!("{id}: not in the entity registry"));
            continue;
        };
        if e["platform"] != "mqtt" {
            problems.push(format!("{id}: platform {}", e["platform"]));
        }
        if e["entity_category"].as_str() != category {
            problems.push(format!("{id}: category {}", e["entity_category"]));
        }
        if e["unit_of_measurement"].as_str() != unit {
            problems.push(format!("{id}: registry unit {}", e["unit_of_measurement"]));
        }
    }
    let devices = read("core.device_registry")?;
    let ours: Vec<&Value> = devices["data"]["devices"]
        .as_array()
        .map(|d| d.iter().filter(|d| d["manufacturer"] == "VIOFO").collect())
        .unwrap_or_default();
    match ours.as_slice() {
        [d] => {
            let model = d["model"].as_str().unwrap_or("?");
            if d["name"] != format!("Viofo {model}") || d["sw_version"].is_null() {
                problems.push(format!("device: {d}"));
            }
            if !d["configuration_url"]
                .as_str()
                .is_some_and(|u| u.starts_with("http://127.0.0.1:"))
            {
                problems.push(format!(
                    "device configuration_url: {}",
                    d["configuration_url"]
                ));
            }
        }
        other => problems.push(format!("{} VIOFO devices: {other:?}", other.len())),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("registries:\n{}", problems.join("\n")).into())
    }
}

/// Home Assistant's log: `camera_online` went on at least twice (the first
/// start and the restart) and never off; no warning or error from the MQTT
/// integration or its templates.
fn check_log(log: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let ons = text.matches("VIOFOTEST camera_online on").count();
    let offs = text.matches("VIOFOTEST camera_online off").count();
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARNING") || l.contains("ERROR"))
        .filter(|l| {
            l.contains("homeassistant.components.mqtt")
                || l.contains("homeassistant.helpers.template")
                || l.contains("viofosync")
                || l.contains("dashcam")
        })
        .collect();
    if ons < 2 || offs > 0 || !bad.is_empty() {
        return Err(format!(
            "Home Assistant's log: camera_online on {ons} times (want >= 2), off {offs} times \
             (want 0); MQTT warnings:\n{}\n--- log ---\n{text}",
            bad.join("\n")
        )
        .into());
    }
    Ok(())
}
