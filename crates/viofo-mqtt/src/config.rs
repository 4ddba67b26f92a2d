//! The MQTT surface's settings ([`MqttConfig`]), their validation and the
//! broker address parsed from `mqtt_url` ([`Broker`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// The broker's default port (plain MQTT).
pub const DEFAULT_PORT: u16 = 1883;
/// The broker's default port over TLS (`mqtts://`).
pub const DEFAULT_TLS_PORT: u16 = 8883;

/// Settings of the MQTT surface. `Debug` prints the password as `***`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MqttConfig {
    /// The broker: `mqtt://host[:port]` (port 1883 by default; an IPv6
    /// host in brackets), or `mqtts://host[:port]` over TLS (port 8883 by
    /// default). No path, query or credentials in it.
    pub url: String,
    /// For `mqtts://`: a PEM file of the certificate authorities the
    /// broker's certificate is checked against; default the system's.
    pub ca_file: Option<PathBuf>,
    /// User name sent to the broker, if any.
    pub username: Option<String>,
    /// Password sent to the broker, if any (needs a user name). Never
    /// logged or printed.
    pub password: Option<String>,
    /// Home Assistant's discovery prefix (default `homeassistant`).
    pub discovery_prefix: String,
    /// Names this program on the broker (default `viofosync`): the root of
    /// its topics (`<node_id>/<camera>/…`) and the prefix of its ids.
    /// Letters, digits, `_` and `-` only.
    pub node_id: String,
    /// The MQTT client id; default `<node_id>-<camera>`.
    pub client_id: Option<String>,
    /// The camera's name in Home Assistant: the device is `Viofo <model>
    /// (<name>)` and entity ids read `sensor.dashcam_<name>_…`. `None`
    /// (a camera whose id is only its address): `Viofo <model>` and
    /// `sensor.dashcam_…`, whatever the address.
    pub name: Option<String>,
    /// The status page's address, linked from the device in Home
    /// Assistant (`configuration_url`); `http://` or `https://` only.
    pub status_url: Option<String>,
    /// Every camera id this program publishes on the broker (several
    /// cameras share the node id). At each connection the retained
    /// discovery of a camera of `node_id` that is not among them (nor
    /// this camera) is removed, so that a renamed camera leaves no
    /// orphaned device in Home Assistant. Empty: this camera only.
    pub cameras: Vec<String>,
    /// MQTT keep-alive (default 30 s; zero or at least 1 s).
    pub keep_alive: Duration,
    /// First wait before reconnecting to a broker that went away or is down
    /// (default 1 s); it doubles with each failure up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest wait between reconnection attempts (default 60 s).
    pub reconnect_max: Duration,
    /// A connection that lasted this long (default 60 s) was stable: the
    /// next failure waits `reconnect_min` again.
    pub stable_after: Duration,
    /// How often the status model is read (default 250 ms).
    pub poll_every: Duration,
    /// Least time between two state publications while only figures change
    /// (default 1 s: at most once a second while downloading).
    pub state_min_gap: Duration,
    /// How long after the start the state waits for the camera's first
    /// probe (default 30 s): until then nothing about the camera is
    /// published, so that the retained state of the previous run is not
    /// replaced by figures not yet read. A paused watch publishes at once.
    pub first_probe_wait: Duration,
}

impl std::fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttConfig")
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("discovery_prefix", &self.discovery_prefix)
            .field("node_id", &self.node_id)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("status_url", &self.status_url)
            .field("cameras", &self.cameras)
            .field("keep_alive", &self.keep_alive)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("stable_after", &self.stable_after)
            .field("poll_every", &self.poll_every)
            .field("state_min_gap", &self.state_min_gap)
            .field("first_probe_wait", &self.first_probe_wait)
            .finish()
    }
}

impl MqttConfig {
    /// The defaults for the broker at `url` (not checked until
    /// [`validate`](Self::validate) or [`run`](crate::run)).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ca_file: None,
            username: None,
            password: None,
            discovery_prefix: "homeassistant".into(),
            node_id: "viofosync".into(),
            client_id: None,
            name: None,
            status_url: None,
            cameras: Vec::new(),
            keep_alive: Duration::from_secs(30),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            stable_after: Duration::from_secs(60),
            poll_every: Duration::from_millis(250),
            state_min_gap: Duration::from_secs(1),
            first_probe_wait: Duration::from_secs(30),
        }
    }

    /// Sets the user name and password.
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// Checks every setting and returns the broker's address.
    pub fn validate(&self) -> Result<Broker> {
        let broker = Broker::parse(&self.url)?;
        if self.password.is_some() && self.username.is_none() {
            return Err(Error::Config("a password needs a user name".into()));
        }
        if !is_id(&self.node_id) {
            return Err(Error::Config(
                "node id: letters, digits, '_' and '-' only, not empty".into(),
            ));
        }
        let p = &self.discovery_prefix;
        if p.is_empty()
            || p.starts_with('/')
            || p.ends_with('/')
            || p.contains(['+', '#', '\0'])
            || p.split('/').any(str::is_empty)
        {
            return Err(Error::Config(format!(
                "discovery prefix {p:?}: a topic without wildcards and empty levels"
            )));
        }
        if let Some(id) = &self.client_id
            && (id.is_empty() || id.len() > 256 || id.contains('\0'))
        {
            return Err(Error::Config("client id: 1 to 256 characters".into()));
        }
        if let Some(ca) = &self.ca_file {
            if !broker.tls {
                return Err(Error::Config(
                    "a CA file is for mqtts:// (TLS) brokers only".into(),
                ));
            }
            if !ca.is_file() {
                return Err(Error::Config(format!(
                    "CA file {}: not a file",
                    ca.display()
                )));
            }
        }
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.len() > 64 || name.chars().any(char::is_control))
        {
            return Err(Error::Config("name: 1 to 64 printable characters".into()));
        }
        if let Some(url) = &self.status_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Config("status page URL: http:// or https://".into()));
        }
        if !self.keep_alive.is_zero() && self.keep_alive < Duration::from_secs(1) {
            return Err(Error::Config("keep-alive: zero or at least 1 s".into()));
        }
        if self.reconnect_min.is_zero() || self.reconnect_max < self.reconnect_min {
            return Err(Error::Config(
                "reconnect waits: 0 < reconnect_min <= reconnect_max".into(),
            ));
        }
        if self.poll_every.is_zero() {
            return Err(Error::Config("poll interval: more than zero".into()));
        }
        Ok(broker)
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Where the broker is: host and port from `mqtt://host[:port]`, and
/// whether it speaks TLS (`mqtts://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// Host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS (`mqtts://`): the broker's certificate is checked for `host`.
    pub tls: bool,
}

impl Broker {
    /// Parses `mqtt://host[:port][/]` or `mqtts://…`. Error messages never
    /// repeat the URL.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Err(Error::Url(why.to_owned()));
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return bad("expected mqtt://host[:port]");
        };
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => false,
            "mqtts" | "ssl" | "tls" => true,
            "ws" | "wss" => return bad("MQTT over WebSocket is not supported; use mqtt://"),
            _ => return bad("the scheme must be mqtt:// or mqtts://"),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('@') {
            return bad(
                "credentials do not belong in the URL; set the user name and password instead",
            );
        }
        if rest.contains(['/', '?', '#']) {
            return bad("no path or query after host[:port]");
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let Some((host, after)) = v6.split_once(']') else {
                return bad("unclosed '[' in the host");
            };
            match after {
                "" => (host, None),
                p => match p.strip_prefix(':') {
                    Some(p) => (host, Some(p)),
                    None => return bad("expected ':port' after the IPv6 address"),
                },
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) || host.contains('[') {
            return bad("missing or invalid host");
        }
        let port = match port {
            None if tls => DEFAULT_TLS_PORT,
            None => DEFAULT_PORT,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return bad("the port must be a number from 1 to 65535"),
            },
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            tls,
        })
    }
}

impl std::fmt::Display for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_ipv6() {
        let b = Broker::parse("mqtt://nas.local").unwrap();
        assert_eq!((b.host.as_str(), b.port), ("nas.local", 1883));
        let b = Broker::parse("mqtt://127.0.0.1:18830/").unwrap();
        assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", 18830));
        let b = Broker::parse("MQTT://[::1]:1884").unwrap();
        assert_eq!((b.host.as_str(), b.port), ("::1", 1884));
        assert_eq!(b.to_string(), "[::1]:1884");
        let b = Broker::parse("tcp://[fe80::1]").unwrap();
        assert_eq!((b.host.as_str(), b.port, b.tls), ("fe80::1", 1883, false));
        let b = Broker::parse("mqtts://nas.local").unwrap();
        assert_eq!((b.host.as_str(), b.port, b.tls), ("nas.local", 8883, true));
        let b = Broker::parse("mqtts://127.0.0.1:18883").unwrap();
        assert_eq!((b.port, b.tls), (18883, true));
    }

    #[test]
    fn refuses_bad_urls_without_repeating_them() {
        for url in [
            "",
            "nas.local:1883",
            "http://nas.local",
            "wss://nas.local",
            "mqtt://",
            "mqtt://:1883",
            "mqtt://host:0",
            "mqtt://host:99999",
            "mqtt://host:port",
            "mqtt://host/topic",
            "mqtt://host?x=1",
            "mqtt://[::1",
            "mqtt://[::1]x",
            "mqtt://user:s3cret@host",
        ] {
            let e = Broker::parse(url).unwrap_err();
            assert!(matches!(e, Error::Url(_)), "{url:?}: {e:?}");
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
        let c = MqttConfig::new("mqtt://user:s3cret@host");
        assert!(matches!(c.validate(), Err(Error::Url(_))));
    }

    #[test]
    fn validates_the_other_settings() {
        assert!(MqttConfig::new("mqtt://h").validate().is_ok());
        let mut c = MqttConfig::new("mqtt://h");
        c.password = Some("p".into());
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        for node in ["", "a/b", "a+b", "a b"] {
            let mut c = MqttConfig::new("mqtt://h");
            c.node_id = node.into();
            assert!(c.validate().is_err(), "{node:?}");
        }
        for prefix in ["", "/ha", "ha/", "h#", "a//b"] {
            let mut c = MqttConfig::new("mqtt://h");
            c.discovery_prefix = prefix.into();
            assert!(c.validate().is_err(), "{prefix:?}");
        }
        let mut c = MqttConfig::new("mqtt://h");
        c.keep_alive = Duration::from_millis(500);
        assert!(c.validate().is_err());
        let mut c = MqttConfig::new("mqtt://h");
        c.reconnect_max = Duration::from_millis(10);
        assert!(c.validate().is_err());
        let ca = tempfile::NamedTempFile::new().unwrap();
        let mut c = MqttConfig::new("mqtt://h");
        c.ca_file = Some(ca.path().into());
        assert!(c.validate().is_err(), "a CA file without TLS");
        c.url = "mqtts://h".into();
        assert!(c.validate().is_ok());
        c.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(c.validate().is_err(), "a CA file that is not there");
        for (name, ok) in [
            ("front", true),
            ("", false),
            (" ", false),
            ("a\u{1b}[2J", false),
        ] {
            let mut c = MqttConfig::new("mqtt://h");
            c.name = Some(name.into());
            assert_eq!(c.validate().is_ok(), ok, "{name:?}");
        }
        let mut c = MqttConfig::new("mqtt://h");
        c.status_url = Some("javascript:alert(1)".into());
        assert!(c.validate().is_err());
        c.status_url = Some("http://nas.local:8740/".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let c = MqttConfig::new("mqtt://h").with_credentials("ha", "hunter2-secret");
        let shown = format!("{c:?}");
        assert!(shown.contains("***"), "{shown}");
        assert!(shown.contains("\"ha\""), "{shown}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
    }
}
