//! The camera's own connection limit, learnt while talking to it: a
//! connection it resets or refuses while others of ours are open is one
//! above what it takes, so the limiter goes down to what it accepts and
//! the request waits its turn and tries again (said once, in words).

use std::io;

use reqwest::header::HeaderMap;
use reqwest::{Method, Response};

use crate::client::Client;
use crate::error::{Error, Kind};
use crate::limiter::Permit;

impl Client {
    /// [`send`](Self::send) to `base` (one of `bases`) holding `permit`.
    /// A connection the camera resets or refuses before answering, while
    /// other requests of ours hold connections, lowers the limit to those
    /// others ([`Limiter::refused`]); this request gives its slot back,
    /// waits for one under the new limit and tries again. The first answer
    /// under a lowered limit proves it, and it is said once. A refusal
    /// with nothing else open is the error it is (the camera may be gone).
    ///
    /// [`Limiter::refused`]: crate::limiter::Limiter::refused
    pub(crate) async fn send_at(
        &self,
        permit: &mut Permit,
        base: &str,
        method: Method,
        target: &str,
        extra: HeaderMap,
        what: &str,
    ) -> Result<Response, Error> {
        let limiter = &self.inner.limiter;
        let mut refused = false;
        loop {
            // Boxed: every call's future holds this one (kept small).
            let once =
                Box::pin(self.send_once_at(base, method.clone(), target, extra.clone(), what));
            match once.await {
                Ok(resp) => {
                    let proven = if refused { limiter.answered() } else { None };
                    match proven {
                        Some((n, true)) => tracing::warn!(
                            "the camera at {} takes {n} connection{} at once: it refused one more; \
                             going on with {n} (set max_connections = {n} to start there)",
                            crate::error::host_port(base),
                            if n == 1 { "" } else { "s" },
                        ),
                        Some((n, false)) => {
                            tracing::info!(
                                "the camera refused another connection: going on with {n}"
                            );
                        }
                        None => {}
                    }
                    return Ok(resp);
                }
                Err(e) if is_refusal(&e) => match limiter.refused() {
                    Some(max) => {
                        refused = true;
                        tracing::debug!(
                            max,
                            "{what}: connection refused beside others; waiting for a slot under the lower limit"
                        );
                        permit.requeue().await;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

/// How a camera turns away a connection above its limit: refused, reset
/// or closed before any answer (never a timeout, never an answer).
fn is_refusal(e: &Error) -> bool {
    let source = match e.kind() {
        Kind::Connect(s) | Kind::Transport(s) => s,
        _ => return false,
    };
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            );
        }
        // hyper's words for a socket closed before the answer's head.
        if cause
            .to_string()
            .contains("connection closed before message completed")
        {
            return true;
        }
        next = cause.source();
    }
    false
}

impl Client {
    /// Connections allowed at once now: `max_connections`, or fewer once
    /// the camera refused more (see the module's comment).
    pub fn connection_limit(&self) -> usize {
        self.inner.limiter.max()
    }
}
