//! The crate's one error type: what can be wrong with an [`MqttConfig`](crate::MqttConfig).
//! A broker that is down or refuses us is not an error of [`run`](crate::run):
//! it is logged and retried.

/// Why the MQTT surface cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `mqtt_url` is not a usable `mqtt://host[:port]` address. The message
    /// never repeats the URL (it may carry credentials).
    #[error("MQTT URL: {0}")]
    Url(String),
    /// Another setting is not usable.
    #[error("MQTT configuration: {0}")]
    Config(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
