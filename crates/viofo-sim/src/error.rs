//! The crate's one public error type.

use std::io;
use std::net::SocketAddr;

/// Why the simulator could not start.
///
/// Branch on the predicates ([`SimError::is_not_loopback`] and friends); the
/// message says what went wrong in words.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SimError(Box<ErrorKind>);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error("refusing to bind {0}: the simulator binds 127.0.0.1 only")]
    NotLoopback(SocketAddr),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the camera folder: {0}")]
    Io(#[source] io::Error),
    #[error("invalid simulator configuration: {0}")]
    Config(String),
}

impl SimError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self(Box::new(kind))
    }

    /// The configured address was not `127.0.0.1`.
    pub fn is_not_loopback(&self) -> bool {
        matches!(*self.0, ErrorKind::NotLoopback(_))
    }

    /// Binding the listening socket failed (port in use, ...).
    pub fn is_bind(&self) -> bool {
        matches!(*self.0, ErrorKind::Bind { .. })
    }

    /// Reading a served folder or file failed (the message carries the path).
    pub fn is_io(&self) -> bool {
        matches!(*self.0, ErrorKind::Io(_))
    }

    /// The configuration is inconsistent (for example two clips with one name).
    pub fn is_config(&self) -> bool {
        matches!(*self.0, ErrorKind::Config(_))
    }
}
