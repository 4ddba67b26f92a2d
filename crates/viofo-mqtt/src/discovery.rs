//! Home Assistant MQTT discovery: the topics of one camera ([`Topics`]) and
//! the retained configuration of each of its entities (sensors, a binary
//! sensor, a switch and buttons).

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
    /// `<node_id>/<camera>/last_sync`: when the last successful sync
    /// finished (RFC 3339), retained, published once known.
    pub last_sync: String,
    /// `<node_id>/<camera>/journey`: the newest journey (JSON, see
    /// [`JourneyPayload`](crate::JourneyPayload)), retained, published once known.
    pub journey: String,
    /// `<node_id>/<camera>/result`: what became of the last button press
    /// (text, not retained).
    pub result: String,
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
            last_sync: format!("{root}/last_sync"),
            journey: format!("{root}/journey"),
            result: format!("{root}/result"),
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

/// Where an entity reads its value.
#[derive(Clone, Copy)]
enum Source {
    /// The state JSON, through a value template.
    State(&'static str),
    /// The last successful sync's own topic (a bare RFC 3339 time).
    LastSync,
    /// The last journey's own topic (JSON), through a value template.
    Journey(&'static str),
    /// The answer to the last button press (text).
    Result,
}

/// An entity: component, object id, name, source and extra fields.
struct Spec {
    component: &'static str,
    object: &'static str,
    name: &'static str,
    source: Source,
    extra: fn() -> Value,
}

/// A number from the state JSON; `null` renders empty, which Home
/// Assistant ignores for a numeric sensor (it keeps the value it has,
/// never shows a placeholder).
macro_rules! num {
    ($field:literal) => {
        concat!(
            "{{ '' if value_json.",
            $field,
            " is none else value_json.",
            $field,
            " }}"
        )
    };
}

/// Speeds are published in B/s and shown in MB/s.
macro_rules! mbps {
    ($field:literal) => {
        concat!("{{ (value_json.", $field, " / 1000000) | round(2) }}")
    };
}

const DIAGNOSTIC: &str = "diagnostic";

/// Every entity of a camera, in publication order (the documented list:
/// docs/STATUS.md, "Home Assistant").
const SPECS: [Spec; 18] = [
    Spec {
        component: "sensor",
        object: "sync_state",
        name: "Sync state",
        source: Source::State("{{ value_json.state }}"),
        extra: || {
            json!({"device_class": "enum", "options": ["downloading", "waiting", "paused", "error"],
                   "icon": "mdi:sync"})
        },
    },
    Spec {
        component: "sensor",
        object: "problem",
        name: "Problem",
        source: Source::State(
            "{{ value_json.errors | join(', ') if value_json.errors else 'none' }}",
        ),
        extra: || json!({"icon": "mdi:alert"}),
    },
    Spec {
        component: "sensor",
        object: "queue_pending",
        name: "Clips pending",
        source: Source::State("{{ value_json.queue_pending }}"),
        extra: || json!({"state_class": "measurement", "unit_of_measurement": "clips", "icon": "mdi:tray-full"}),
    },
    Spec {
        component: "sensor",
        object: "failed_clips",
        name: "Failed clips",
        source: Source::State("{{ value_json.failed_clips }}"),
        extra: || json!({"state_class": "measurement", "unit_of_measurement": "clips", "icon": "mdi:alert-circle"}),
    },
    Spec {
        component: "sensor",
        object: "current_clip",
        name: "Current clip",
        source: Source::State("{{ value_json.current_clip or 'none' }}"),
        extra: || json!({"icon": "mdi:file-video"}),
    },
    Spec {
        component: "sensor",
        object: "download_progress",
        name: "Download progress",
        source: Source::State("{{ value_json.download_progress }}"),
        extra: || json!({"unit_of_measurement": "%", "state_class": "measurement", "suggested_display_precision": 0, "icon": "mdi:download"}),
    },
    Spec {
        component: "sensor",
        object: "cycle_progress",
        name: "Sync progress",
        source: Source::State("{{ value_json.cycle_progress }}"),
        extra: || json!({"unit_of_measurement": "%", "state_class": "measurement", "suggested_display_precision": 0, "icon": "mdi:progress-download"}),
    },
    Spec {
        component: "sensor",
        object: "cycle_eta",
        name: "Sync time left",
        source: Source::State(num!("cycle_eta_secs")),
        extra: || json!({"device_class": "duration", "unit_of_measurement": "s", "state_class": "measurement"}),
    },
    Spec {
        component: "sensor",
        object: "download_speed",
        name: "Download speed",
        source: Source::State(mbps!("download_speed")),
        extra: || {
            json!({"device_class": "data_rate", "state_class": "measurement", "unit_of_measurement": "MB/s",
                   "suggested_display_precision": 1, "entity_category": DIAGNOSTIC})
        },
    },
    Spec {
        component: "sensor",
        object: "session_speed",
        name: "Sync speed",
        source: Source::State(mbps!("cycle_speed")),
        extra: || {
            json!({"device_class": "data_rate", "state_class": "measurement", "unit_of_measurement": "MB/s",
                   "suggested_display_precision": 1, "entity_category": DIAGNOSTIC})
        },
    },
    Spec {
        component: "sensor",
        object: "disk_used",
        name: "Archive disk used",
        source: Source::State(num!("disk_used_percent")),
        extra: || {
            json!({"state_class": "measurement", "unit_of_measurement": "%", "suggested_display_precision": 0,
                   "icon": "mdi:harddisk", "entity_category": DIAGNOSTIC})
        },
    },
    Spec {
        component: "sensor",
        object: "last_sync",
        name: "Last successful sync",
        source: Source::LastSync,
        extra: || json!({"device_class": "timestamp"}),
    },
    Spec {
        component: "sensor",
        object: "last_journey_start",
        name: "Last journey start",
        source: Source::Journey("{{ value_json.start }}"),
        extra: || json!({"device_class": "timestamp", "icon": "mdi:car"}),
    },
    Spec {
        component: "sensor",
        object: "last_journey_end",
        name: "Last journey end",
        source: Source::Journey("{{ value_json.end }}"),
        extra: || json!({"device_class": "timestamp", "icon": "mdi:car"}),
    },
    Spec {
        component: "sensor",
        object: "last_journey_distance",
        name: "Last journey distance",
        source: Source::Journey("{{ value_json.distance_km }}"),
        extra: || {
            json!({"device_class": "distance", "unit_of_measurement": "km", "state_class": "measurement",
                   "suggested_display_precision": 1})
        },
    },
    Spec {
        component: "sensor",
        object: "last_command",
        name: "Last command",
        source: Source::Result,
        extra: || json!({"icon": "mdi:message-reply-text", "entity_category": DIAGNOSTIC}),
    },
    Spec {
        component: "binary_sensor",
        object: "camera_online",
        name: "Camera online",
        // Empty until the camera was first asked: ignored by Home Assistant.
        source: Source::State(
            "{{ '' if value_json.camera_online is none else ('ON' if value_json.camera_online else 'OFF') }}",
        ),
        extra: || json!({"device_class": "connectivity"}),
    },
    Spec {
        component: "switch",
        object: "paused",
        name: "Paused",
        source: Source::State("{{ 'ON' if value_json.paused else 'OFF' }}"),
        extra: || json!({"payload_on": "pause", "payload_off": "resume", "state_on": "ON", "state_off": "OFF", "icon": "mdi:pause-circle"}),
    },
];

/// `(component, object)` of every entity of a camera.
pub(crate) fn object_topics() -> impl Iterator<Item = (&'static str, &'static str)> {
    SPECS
        .iter()
        .map(|s| (s.component, s.object))
        .chain(Action::ALL.into_iter().map(|a| ("button", button(a).0)))
}

/// The number of discovery messages of a camera.
pub const ENTITY_COUNT: usize = SPECS.len() + Action::ALL.len();

/// The device's name in Home Assistant: `Viofo <model>`, with the
/// camera's configured name in brackets; `None` while the model is not
/// known (the name Home Assistant has is kept, never replaced by a
/// placeholder).
pub fn device_name(model: Option<&str>, name: Option<&str>) -> Option<String> {
    let model = model?;
    let model = model.strip_prefix("VIOFO ").unwrap_or(model);
    Some(match name {
        Some(n) => format!("Viofo {model} ({n})"),
        None => format!("Viofo {model}"),
    })
}

/// Every discovery message of the camera, `(topic, JSON)`, published
/// retained; the device's model and firmware come from `snapshot`.
pub fn discovery_messages(
    config: &MqttConfig,
    topics: &Topics,
    snapshot: &StatusSnapshot,
) -> Vec<(String, String)> {
    let cam = &snapshot.camera;
    let mut device = json!({
        "identifiers": [topics.device_id],
        "manufacturer": "VIOFO",
    });
    if let Some(n) = device_name(cam.model.as_deref(), config.name.as_deref()) {
        merge(&mut device, json!({ "name": n }));
    }
    if let Some(model) = &cam.model {
        merge(&mut device, json!({ "model": model }));
    }
    if let Some(fw) = &cam.firmware {
        merge(&mut device, json!({ "sw_version": fw }));
    }
    if let Some(url) = &config.status_url {
        merge(&mut device, json!({ "configuration_url": url }));
    }
    let object_prefix = match &config.name {
        Some(n) => format!("dashcam_{}", slug(n)),
        None => "dashcam".to_owned(),
    };
    let entity = |object: &str, name: &str, extra: Value| {
        let mut v = json!({
            "name": name,
            "unique_id": format!("{}_{object}", topics.device_id),
            "object_id": format!("{object_prefix}_{object}"),
            "availability_topic": topics.availability,
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": device,
            "origin": {"name": "viofosync", "sw_version": env!("CARGO_PKG_VERSION")},
        });
        merge(&mut v, extra);
        v.to_string()
    };
    let mut out = Vec::with_capacity(ENTITY_COUNT);
    for s in &SPECS {
        let mut extra = match s.source {
            Source::State(t) => json!({"state_topic": topics.state, "value_template": t}),
            Source::LastSync => json!({"state_topic": topics.last_sync}),
            Source::Journey(t) => json!({"state_topic": topics.journey, "value_template": t}),
            Source::Result => json!({"state_topic": topics.result}),
        };
        if s.component == "switch" {
            merge(&mut extra, json!({"command_topic": topics.command}));
        }
        merge(&mut extra, (s.extra)());
        out.push((
            topics.discovery(s.component, s.object),
            entity(s.object, s.name, extra),
        ));
    }
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
        assert_eq!(t.last_sync, "viofosync/cam_1/last_sync");
        assert_eq!(t.journey, "viofosync/cam_1/journey");
        assert_eq!(
            t.discovery("sensor", "sync_state"),
            "homeassistant/sensor/viofosync_cam_1/sync_state/config"
        );
    }

    #[test]
    fn the_device_is_named_after_the_model_and_the_configured_name() {
        assert_eq!(
            device_name(Some("A329S"), None).as_deref(),
            Some("Viofo A329S")
        );
        assert_eq!(
            device_name(Some("VIOFO A119 Mini 2"), Some("rear")).as_deref(),
            Some("Viofo A119 Mini 2 (rear)")
        );
        assert_eq!(device_name(None, Some("rear")), None, "no placeholder name");
    }
}
