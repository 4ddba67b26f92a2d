//! A deliberately hostile "camera": a raw HTTP/1.1 server on 127.0.0.1
//! answering each request from a handler, close-delimited like a real
//! camera, able to stream huge generated bodies without holding them in
//! memory. The simulator covers well-behaved cameras; this covers pages the
//! simulator cannot serve (hostile HTML pages, a lazily generated 100 MB
//! listing).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the hostile server answers to one request.
pub enum Reply {
    /// 200 with this body, then close.
    Body(Vec<u8>),
    /// 200 with `len` bytes produced by repeating `unit` after `head`,
    /// generated lazily, then close (stops when the client goes away).
    Stream {
        /// Written first.
        head: Vec<u8>,
        /// Repeated until `len` bytes were sent.
        unit: Vec<u8>,
        /// Total body length.
        len: u64,
    },
    /// 404.
    NotFound,
}

/// Chooses the reply for a request target (`/path?query`).
pub type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A running hostile server. Stops when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
    sent: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for HostileServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl HostileServer {
    /// Binds 127.0.0.1:0 and serves `handler`.
    pub async fn start(handler: Handler) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (t2, s2) = (targets.clone(), sent.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (h, t, s) = (handler.clone(), t2.clone(), s2.clone());
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(60), serve(sock, h, t, s)).await;
                });
            }
        });
        HostileServer {
            addr,
            targets,
            sent,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request target received, in order.
    pub fn targets(&self) -> Vec<String> {
        self.targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Body bytes written to clients in total.
    pub fn body_bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut sock: tokio::net::TcpStream,
    handler: Handler,
    targets: Arc<Mutex<Vec<String>>>,
    sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&head);
    let mut parts = text.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    targets
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(target.clone());
    let reply = handler(&target);
    let is_head = method == "HEAD";
    match reply {
        Reply::NotFound => {
            sock.write_all(
                b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            )
            .await?;
        }
        Reply::Body(body) => {
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n",
            )
            .await?;
            if !is_head {
                sock.write_all(&body).await?;
                sent.fetch_add(body.len() as u64, Ordering::SeqCst);
            }
        }
        Reply::Stream { head, unit, len } => {
            sock.write_all(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n",
            )
            .await?;
            if !is_head {
                sock.write_all(&head).await?;
                let mut done = head.len() as u64;
                sent.fetch_add(done, Ordering::SeqCst);
                let unit = if unit.is_empty() { vec![b' '] } else { unit };
                let mut chunk = Vec::with_capacity(64 * 1024 + unit.len());
                while chunk.len() < 64 * 1024 {
                    chunk.extend_from_slice(&unit);
                }
                while done < len {
                    let left = usize::try_from(len - done).unwrap_or(usize::MAX);
                    let piece = chunk.get(..chunk.len().min(left)).unwrap_or_default();
                    sock.write_all(piece).await?;
                    done += piece.len() as u64;
                    sent.fetch_add(piece.len() as u64, Ordering::SeqCst);
                }
            }
        }
    }
    sock.shutdown().await
}
