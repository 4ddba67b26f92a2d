//! The HTTP server: its settings, the accept loop with its connection
//! limit, and each connection's time limits. What a request gets is in
//! `routes`; who may ask is in `guard`.

mod files;
mod guard;
mod library;
mod routes;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::actions::ActionHandler;
use crate::error::{Error, Result};
use crate::model::StatusModel;

/// The server's settings: the token and the bounds on every request.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Required as `Authorization: Bearer <token>` (or as the password of
    /// HTTP Basic, for a browser) on every request when set. Must be set
    /// when the listener is not on a loopback address.
    pub token: Option<String>,
    /// A client must send a request's headers within this time, the first
    /// request's and each next one's on a kept-alive connection (default
    /// 10 s): a slow or idle client is disconnected.
    pub header_timeout: Duration,
    /// Time to read a request's body and answer it (default 10 s); past it
    /// the answer is 408.
    pub request_timeout: Duration,
    /// A connection is closed after this long, however busy (default
    /// 5 min).
    pub connection_lifetime: Duration,
    /// Connections served at once (default 32); more are answered 503 and
    /// closed at once.
    pub max_connections: usize,
    /// Largest request body taken (default 4 KiB; the actions need none);
    /// larger is answered 413 without reading it.
    pub max_body_bytes: usize,
    /// Largest request head (default 16 KiB, at least 8 KiB); larger is
    /// answered 431.
    pub max_header_bytes: usize,
    /// How long connections may finish their requests after shutdown
    /// (default 2 s).
    pub shutdown_grace: Duration,
    /// The store the trips pages and the archived files are read from
    /// ([`with_store`](Self::with_store)); without it there are no trips.
    store: Option<viofo_store::Store>,
    /// The other cameras shown on this server's overview and at
    /// `/camera/<id>` ([`with_cameras`](Self::with_cameras)).
    cameras: Vec<StatusModel>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("header_timeout", &self.header_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("connection_lifetime", &self.connection_lifetime)
            .field("max_connections", &self.max_connections)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("store", &self.store.is_some())
            .field("cameras", &self.cameras.len())
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            token: None,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(300),
            max_connections: 32,
            max_body_bytes: 4 * 1024,
            max_header_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(2),
            store: None,
            cameras: Vec::new(),
        }
    }
}

/// The fixed default port of the status server (`watch --listen`).
pub const DEFAULT_PORT: u16 = 8_740;

impl ServerConfig {
    /// The defaults, with `token` (`None`: no token).
    pub fn with_token(token: Option<String>) -> Self {
        Self {
            token,
            ..Self::default()
        }
    }

    /// Reads the trips (`/trips`, `/trips/<id>`) and the archived files
    /// they link to (`/clips/<id>`, `/clips/<id>/gpx`, `/trips/<id>/gpx`)
    /// from `store`. A file is found by its row id and served only when it
    /// lies inside the archive of a camera this server shows, read only.
    #[must_use]
    pub fn with_store(mut self, store: viofo_store::Store) -> Self {
        self.store = Some(store);
        self
    }

    /// Shows `cameras` (every camera watched, this server's own among them
    /// or not) on this server's page as an overview, each one's page at
    /// `/camera/<id>` and their trips and files under the same rules.
    #[must_use]
    pub fn with_cameras(mut self, cameras: Vec<StatusModel>) -> Self {
        self.cameras = cameras;
        self
    }

    /// Checks the settings for a server listening on `addr`: a token is
    /// required beyond loopback ([`Error::TokenRequired`]); an empty token
    /// and zero limits are refused.
    pub fn validate(&self, addr: SocketAddr) -> Result<()> {
        if self.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(Error::Config("the status token is empty".into()));
        }
        if self.token.is_none() && !addr.ip().is_loopback() {
            return Err(Error::TokenRequired { addr });
        }
        if self.max_connections == 0 {
            return Err(Error::Config("max_connections is 0".into()));
        }
        let zero = [
            ("header_timeout", self.header_timeout),
            ("request_timeout", self.request_timeout),
            ("connection_lifetime", self.connection_lifetime),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, d)| d.is_zero()) {
            return Err(Error::Config(format!("{name} is 0")));
        }
        Ok(())
    }
}

/// What every request handler shares.
pub(crate) struct App {
    pub(crate) config: ServerConfig,
    pub(crate) status: StatusModel,
    pub(crate) actions: Box<dyn ActionHandler>,
}

/// Serves `/`, `/metrics`, `/api/status` and the actions on `listener`
/// until `shutdown` completes, then lets open connections finish for
/// [`ServerConfig::shutdown_grace`] and closes them.
///
/// Refuses to start ([`Error::is_config`]) when the listener is not on a
/// loopback address and no token is set, or a setting is unusable.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    status: StatusModel,
    actions: impl ActionHandler,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let addr = listener.local_addr()?;
    config.validate(addr)?;
    let grace = config.shutdown_grace;
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let app = Arc::new(App {
        config,
        status,
        actions: Box::new(actions),
    });
    let stop = CancellationToken::new();
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    tracing::info!("status server on http://{addr}/");
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: pause, then go on.
                    tracing::warn!("status server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!("status server: {peer} refused, too many connections");
            // Best effort, never waiting: the socket's buffer takes it.
            let _ = stream.try_write(routes::BUSY);
            continue;
        };
        let _ = stream.set_nodelay(true);
        conns.spawn(serve_connection(
            app.clone(),
            TokioIo::new(stream),
            stop.clone(),
            permit,
        ));
    }
    stop.cancel();
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        conns.abort_all();
    }
    Ok(())
}

/// Serves one connection (HTTP/1.1) within its time limits.
pub(crate) async fn serve_connection<I>(
    app: Arc<App>,
    io: I,
    stop: CancellationToken,
    _permit: OwnedSemaphorePermit,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let cfg = &app.config;
    let lifetime = cfg.connection_lifetime;
    let hard_stop = lifetime.saturating_add(cfg.request_timeout);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_timeout)
        .max_buf_size(cfg.max_header_bytes.max(8 * 1024))
        .keep_alive(true);
    let handler = app.clone();
    let service = service_fn(move |req| {
        let app = handler.clone();
        async move { Ok::<_, std::convert::Infallible>(routes::handle(&app, req).await) }
    });
    let conn = builder.serve_connection(io, service);
    let run = async {
        tokio::pin!(conn);
        let ending = tokio::time::sleep(lifetime);
        tokio::pin!(ending);
        let mut closing = false;
        loop {
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("status server: connection ended: {e}");
                    }
                    return;
                }
                () = stop.cancelled(), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                () = &mut ending, if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    };
    if tokio::time::timeout(hard_stop, run).await.is_err() {
        tracing::debug!("status server: connection closed at the end of its lifetime");
    }
}
