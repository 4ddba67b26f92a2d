//! The MQTT rows of the settings table (Home Assistant over MQTT, issue
//! 13): the broker's URL, credentials and discovery prefix, kept in a
//! [`viofo_mqtt::MqttConfig`] whose `Debug` hides the password.

use super::Settings;
use super::parse::is_none_word;
use super::row::{Accepts, BASE, Key, WATCHING};

/// `watch`'s MQTT settings, `None` when `mqtt_url` is off (the default).
/// Not checked here: see [`viofo_mqtt::MqttConfig::validate`].
pub fn mqtt_config(s: &Settings) -> Option<viofo_mqtt::MqttConfig> {
    (!s.mqtt.url.is_empty()).then(|| s.mqtt.clone())
}

fn secret(v: &Option<String>) -> String {
    v.as_ref()
        .map_or_else(|| "(unset)".to_owned(), |_| "***".to_owned())
}

/// `mqtt_url`: off (empty) by default. The value is not checked here, so
/// that an error never repeats it (it may hold credentials): `watch`
/// checks it before touching the camera or the store.
pub(crate) const URL: Key = Key {
    name: "mqtt_url",
    env: "VIOFOSYNC_MQTT_URL",
    accepts: Accepts::Text(
        "mqtt://host[:port] (port 1883 by default), mqtts://host[:port] (TLS, port 8883), or off",
    ),
    help: "watch: publish the state to Home Assistant through this MQTT broker",
    apply: |s, v| {
        s.mqtt.url = if is_none_word(v) || v.trim().is_empty() {
            String::new()
        } else {
            v.trim().to_owned()
        };
        Ok(())
    },
    show: |s| match s.mqtt.url.as_str() {
        "" => "off".to_owned(),
        u if u.contains('@') => "***".to_owned(),
        u => u.to_owned(),
    },
    commands: WATCHING,
    ..BASE
};

/// `mqtt_username`.
pub(crate) const USERNAME: Key = Key {
    name: "mqtt_username",
    env: "VIOFOSYNC_MQTT_USERNAME",
    accepts: Accepts::Text("a user name"),
    help: "watch: the user name sent to the MQTT broker",
    apply: |s, v| {
        s.mqtt.username = Some(v.trim().to_owned()).filter(|u| !u.is_empty());
        Ok(())
    },
    show: |s| {
        s.mqtt
            .username
            .clone()
            .unwrap_or_else(|| "(unset)".to_owned())
    },
    commands: WATCHING,
    ..BASE
};

/// `mqtt_password`: never printed (`***`) or logged.
pub(crate) const PASSWORD: Key = Key {
    name: "mqtt_password",
    env: "VIOFOSYNC_MQTT_PASSWORD",
    accepts: Accepts::Text("a secret (shown as ***; needs mqtt_username)"),
    help: "watch: the password sent to the MQTT broker",
    apply: |s, v| {
        s.mqtt.password = Some(v.to_owned()).filter(|p| !p.is_empty());
        Ok(())
    },
    show: |s| secret(&s.mqtt.password),
    commands: WATCHING,
    ..BASE
};

/// `mqtt_discovery_prefix`: viofo-mqtt's default (`homeassistant`).
pub(crate) const DISCOVERY_PREFIX: Key = Key {
    name: "mqtt_discovery_prefix",
    env: "VIOFOSYNC_MQTT_DISCOVERY_PREFIX",
    accepts: Accepts::Text("an MQTT topic without wildcards"),
    help: "watch: Home Assistant's MQTT discovery prefix",
    apply: |s, v| {
        v.trim().clone_into(&mut s.mqtt.discovery_prefix);
        Ok(())
    },
    show: |s| s.mqtt.discovery_prefix.clone(),
    commands: WATCHING,
    ..BASE
};

/// `mqtt_ca_file`: for `mqtts://`, the certificate authorities (PEM) the
/// broker's certificate is checked against; default the system's.
pub(crate) const CA_FILE: Key = Key {
    name: "mqtt_ca_file",
    env: "VIOFOSYNC_MQTT_CA_FILE",
    accepts: Accepts::Text("a PEM file, or off (the system's certificates)"),
    help: "watch: the CA certificates (PEM) an mqtts:// broker is checked against",
    apply: |s, v| {
        s.mqtt.ca_file = if is_none_word(v) || v.trim().is_empty() {
            None
        } else {
            Some(v.trim().into())
        };
        Ok(())
    },
    show: |s| {
        s.mqtt
            .ca_file
            .as_ref()
            .map_or_else(|| "off".to_owned(), |p| p.display().to_string())
    },
    commands: WATCHING,
    ..BASE
};
