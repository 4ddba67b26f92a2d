//! The shaped Wi-Fi link: the shared token bucket, the connection limit
//! (connections above it are reset), the accept loop, and writing a reply
//! through the link with its planned faults (drops, early closes, stalls).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};
use tokio_util::sync::CancellationToken;

use super::handlers::serve_conn;
use super::http::{Reply, reason};
use super::route::Plan;
use super::{Outcome, Shared};

const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

/// One token bucket shared by every connection: the Wi-Fi link.
#[derive(Debug)]
pub(crate) struct Bucket {
    inner: Mutex<BucketState>,
    chunk: u64,
}

#[derive(Debug)]
struct BucketState {
    rate: Option<u64>,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(super) fn new(rate: Option<u64>, chunk: usize) -> Self {
        Self {
            inner: Mutex::new(BucketState {
                rate,
                tokens: 0.0,
                last: Instant::now(),
            }),
            chunk: chunk as u64,
        }
    }

    pub(crate) fn set_rate(&self, rate: Option<u64>) {
        let mut b = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        b.rate = rate.filter(|r| *r > 0);
        b.tokens = 0.0;
        b.last = Instant::now();
    }

    /// Reserves `n` bytes of link time and waits until they may be sent.
    async fn take(&self, n: u64) {
        let wait = {
            let mut b = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(rate) = b.rate else { return };
            let now = Instant::now();
            let burst = (rate as f64 / 50.0).max(self.chunk as f64);
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * rate as f64).min(burst);
            b.last = now;
            b.tokens -= n as f64;
            if b.tokens >= 0.0 {
                0.0
            } else {
                -b.tokens / rate as f64
            }
        };
        if wait > 0.0 {
            sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

/// Decrements the live-connection count when released or dropped (once).
pub(super) struct ActiveGuard(Arc<Shared>, bool);

impl ActiveGuard {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self(shared, false)
    }

    /// The connection stops counting: called just before the last bytes
    /// of a complete answer are written. A client may open its next
    /// connection the instant those bytes arrive, before this task runs
    /// again; counting it until then would reset that connection over a
    /// limit the client kept (a race the tests saw on a loaded machine).
    pub(super) fn release(&mut self) {
        if !self.1 {
            self.1 = true;
            self.0.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.release();
    }
}

pub(super) fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Accepts connections until `cancel` fires.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            a = listener.accept() => a,
        };
        while conns.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if shared.is_offline() {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            reset(stream);
            continue;
        }
        let max = shared.max_connections.load(Ordering::SeqCst);
        let active = shared.active.load(Ordering::SeqCst);
        if active >= max {
            tracing::debug!(active, max, "resetting a connection above the limit");
            shared.refused.fetch_add(1, Ordering::SeqCst);
            reset(stream);
            continue;
        }
        let now_active = shared.active.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak.fetch_max(now_active, Ordering::SeqCst);
        let guard = ActiveGuard::new(shared.clone());
        conns.spawn(serve_conn(shared.clone(), stream, guard));
    }
    conns.shutdown().await;
}

pub(super) async fn write_reply(
    shared: &Shared,
    stream: &mut TcpStream,
    reply: &mut Reply,
    plan: &Plan,
    is_head: bool,
    sent: &mut u64,
    guard: &mut ActiveGuard,
) -> Outcome {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nServer: viofo-sim\r\nContent-Type: {}\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type
    );
    if reply.content_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.len));
    }
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    // An answer that is complete with its head stops counting before it.
    if is_head || reply.len == 0 || plan.close_after == Some(0) {
        guard.release();
    }
    match timeout(WRITE_TIMEOUT, stream.write_all(head.as_bytes())).await {
        Ok(Ok(())) => {}
        _ => return Outcome::ClientGone,
    }
    if is_head {
        return Outcome::Complete;
    }
    let total = reply.len;
    #[allow(clippy::cast_possible_truncation)] // saturating float cast, f in 0..1
    let frac = |f: f64| ((total as f64) * f) as u64;
    let drop_at = plan.drop_after.or(plan.drop_frac.map(frac));
    let close_at = plan.close_after;
    let mut stall = plan.stall.or(plan.stall_frac.map(|(f, d)| (frac(f), d)));
    let chunk = shared.chunk_size as u64;
    let mut buf = vec![0u8; shared.chunk_size];
    loop {
        if let Some(at) = drop_at
            && *sent >= at
        {
            return Outcome::Dropped;
        }
        if let Some(at) = close_at
            && *sent >= at
        {
            return Outcome::Closed;
        }
        if *sent >= total {
            return Outcome::Complete;
        }
        if let Some((at, d)) = stall
            && *sent >= at
        {
            stall = None;
            sleep(d).await;
        }
        if shared.is_offline() {
            return Outcome::Dropped;
        }
        let mut n = chunk.min(total - *sent);
        for cut in [drop_at, close_at, stall.map(|(a, _)| a)]
            .into_iter()
            .flatten()
        {
            if cut > *sent {
                n = n.min(cut - *sent);
            }
        }
        shared.bucket.take(n).await;
        let Some(dst) = buf.get_mut(..usize::try_from(n).unwrap_or(0)) else {
            return Outcome::Dropped;
        };
        let got = match reply.body.fill(reply.start + *sent, dst).await {
            Ok(0) | Err(_) => return Outcome::Dropped,
            Ok(g) => g,
        };
        let end = *sent + got as u64;
        if end >= total {
            // The camera reacts before the last bytes leave (a lock armed
            // with `lock_on_download`), so the client's next request sees it.
            if let Some(id) = reply.completes {
                shared.lock().card.download_completed(id);
            }
        }
        if end >= total || close_at.is_some_and(|at| end >= at) {
            guard.release();
        }
        match timeout(
            WRITE_TIMEOUT,
            stream.write_all(dst.get(..got).unwrap_or_default()),
        )
        .await
        {
            Ok(Ok(())) => *sent += got as u64,
            _ => return Outcome::ClientGone,
        }
    }
}
