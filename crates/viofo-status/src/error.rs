//! The crate's one error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What can go wrong starting the server or keeping the status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server is bound to an address other than loopback and no
    /// `status_token` was given: every request must carry one there.
    #[error(
        "the status server listens on {addr}, which is not a loopback address: \
         a status token is required (status_token), or listen on 127.0.0.1"
    )]
    TokenRequired {
        /// The address bound.
        addr: SocketAddr,
    },
    /// A setting of the server is unusable.
    #[error("status server configuration: {0}")]
    Config(String),
    /// The listener failed.
    #[error("status server: {0}")]
    Io(#[from] std::io::Error),
    /// The sticky-error file could not be read or written.
    #[error("sticky status file {}: {source}", path.display())]
    StickyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state store failed during a refresh.
    #[error("status refresh: {0}")]
    Store(#[from] viofo_store::Error),
}

impl Error {
    /// A configuration error (token missing, a limit of zero): the program
    /// should refuse to start.
    pub fn is_config(&self) -> bool {
        matches!(self, Error::TokenRequired { .. } | Error::Config(_))
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
