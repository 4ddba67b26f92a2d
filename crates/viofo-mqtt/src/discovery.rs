//! Home Assistant MQTT discovery: the topics of one camera ([`Topics`]) and
//! the retained configuration of each of its entities (sensors, a binary
//! sensor and buttons).

use serde_json::{Value, json};
use viofo_status::{Action, StatusSnapshot};

use crate::config::MqttConfig;

/// Payload of the availability topic while connected.
pub const ONLINE: &str = "online";
/// Payload of the availability topic after a clean stop and in the last
/// will.
pub const OFFLINE: &str = "offline";

/// The topics of one camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
    /// `<node_id>_<camera>`: the device's identifier, the discovery node id
    /// and the prefix of each entity's `unique_id`.
    pub device_id: String,
    /// `<node_id>/<camera>/availability`: `online` / `offline`, retained
    /// (the last will sets `offline`).
    pub availability: String,
    /// `<node_id>/<camera>/state`: the state JSON ([`StatePayload`](crate::StatePayload)), retained.
    pub state: String,
    /// `<node_id>/<camera>/command`: the buttons publish an action's name
    /// (`sync-now`, `pause`, `resume`, `retry-failed`) here.
    pub command: String,
}

impl Topics {
    /// The topics for `camera_id` (any characters other than ASCII letters,
    /// digits, `_` and `-` become `_` in topic names and ids).
    pub fn new(config: &MqttConfig, camera_id: &str) -> Self {
        let cam = slug(camera_id);
        let root = format!("{}/{cam}", config.node_id);
        Self {
            discovery_prefix: config.discovery_prefix.clone(),
            device_id: format!("{}_{cam}", config.node_id),
            availability: format!("{root}/availability"),
            state: format!("{root}/state"),
            command: format!("{root}/command"),
        }
    }

    /// `<prefix>/<component>/<device_id>/<object>/config`.
    pub fn discovery(&self, component: &str, object: &str) -> String {
        format!(
            "{}/{component}/{}/{object}/config",
            self.discovery_prefix, self.device_id
        )
    }
}

/// A camera id made safe for topics and ids.
pub(crate) fn slug(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() { "camera".into() } else { s }
}

/// A sensor: object id, name, value template, and extra fields.
struct Sensor {
    object: &'static str,
    name: &'static str,
    template: &'static str,
    extra: fn() -> Value,
}

const SENSORS: [Sensor; 7] = [
    Sensor {
        object: "sync_state",
        name: "Sync state",
        template: "{{ value_json.state }}",
        extra: || {
            json!({"device_class": "enum", "options": ["downloading", "waiting", "paused", "error"],
                   "icon": "mdi:sync"})
        },
    },
    Sensor {
        object: "queue_pending",
        name: "Clips pending",
        template: "{{ value_json.queue_pending }}",
        extra: || json!({"state_class": "measurement", "unit_of_measurement": "clips", "icon": "mdi:tray-full"}),
    },
    Sensor {
        object: "failed_clips",
        name: "Failed clips",
        template: "{{ value_json.failed_clips }}",
        extra: || json!({"state_class": "measurement", "unit_of_measurement": "clips", "icon": "mdi:alert-circle"}),
    },
    Sensor {
        object: "last_sync",
        name: "Last successful sync",
        template: "{{ value_json.last_sync }}",
        extra: || json!({"device_class": "timestamp"}),
    },
    Sensor {
        object: "disk_used",
        name: "Archive disk used",
        template: "{{ value_json.disk_used_percent }}",
        extra: || json!({"state_class": "measurement", "unit_of_measurement": "%", "icon": "mdi:harddisk"}),
    },
    Sensor {
        object: "download_progress",
        name: "Download progress",
        template: "{{ value_json.download_progress }}",
        extra: || json!({"unit_of_measurement": "%", "icon": "mdi:download"}),
    },
    Sensor {
        object: "download_speed",
        name: "Download speed",
        template: "{{ value_json.download_speed }}",
        extra: || json!({"device_class": "data_rate", "state_class": "measurement", "unit_of_measurement": "B/s"}),
    },
];

/// Every discovery message of the camera, `(topic, JSON)`, published
/// retained; the device's model and firmware come from `snapshot`.
pub fn discovery_messages(topics: &Topics, snapshot: &StatusSnapshot) -> Vec<(String, String)> {
    let cam = &snapshot.camera;
    let mut device = json!({
        "identifiers": [topics.device_id],
        "name": format!("Dashcam {}", cam.id),
        "manufacturer": "VIOFO",
    });
    if let Some(model) = &cam.model {
        merge(&mut device, json!({ "model": model }));
    }
    if let Some(fw) = &cam.firmware {
        merge(&mut device, json!({ "sw_version": fw }));
    }
    let entity = |object: &str, name: &str, extra: Value| {
        let mut v = json!({
            "name": name,
            "unique_id": format!("{}_{object}", topics.device_id),
            "availability_topic": topics.availability,
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": device,
            "origin": {"name": "viofosync", "sw_version": env!("CARGO_PKG_VERSION")},
        });
        merge(&mut v, extra);
        v.to_string()
    };
    let mut out = Vec::with_capacity(SENSORS.len() + 1 + Action::ALL.len());
    for s in &SENSORS {
        let mut extra = json!({"state_topic": topics.state, "value_template": s.template});
        merge(&mut extra, (s.extra)());
        out.push((
            topics.discovery("sensor", s.object),
            entity(s.object, s.name, extra),
        ));
    }
    let online = json!({
        "state_topic": topics.state,
        "value_template": "{{ 'ON' if value_json.camera_online else 'OFF' }}",
        "device_class": "connectivity",
    });
    out.push((
        topics.discovery("binary_sensor", "camera_online"),
        entity("camera_online", "Camera online", online),
    ));
    for action in Action::ALL {
        let (object, name, icon) = button(action);
        let extra = json!({
            "command_topic": topics.command,
            "payload_press": action.as_str(),
            "icon": icon,
        });
        out.push((
            topics.discovery("button", object),
            entity(object, name, extra),
        ));
    }
    out
}

fn button(action: Action) -> (&'static str, &'static str, &'static str) {
    match action {
        Action::SyncNow => ("sync_now", "Sync now", "mdi:sync"),
        Action::Pause => ("pause", "Pause", "mdi:pause"),
        Action::Resume => ("resume", "Resume", "mdi:play"),
        Action::RetryFailed => ("retry_failed", "Retry failed clips", "mdi:restart"),
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_topic_safe() {
        assert_eq!(slug("A329S cam/1+#"), "a329s_cam_1__");
        assert_eq!(slug(""), "camera");
    }

    #[test]
    fn topics_follow_the_documented_layout() {
        let t = Topics::new(&MqttConfig::new("mqtt://h"), "Cam 1");
        assert_eq!(t.availability, "viofosync/cam_1/availability");
        assert_eq!(t.state, "viofosync/cam_1/state");
        assert_eq!(t.command, "viofosync/cam_1/command");
        assert_eq!(
            t.discovery("sensor", "sync_state"),
            "homeassistant/sensor/viofosync_cam_1/sync_state/config"
        );
    }
}
