//! Integration tests for the simulated camera, using a raw HTTP client.
// Tests may index and narrow freely (helpers outside #[test] fns included).
#![allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]

mod content;
mod delete;
mod download;
mod endpoints;
mod faults;
mod firmware;
mod link;
mod recording;
mod reset;

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw response: what came over the socket until it closed.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
    /// The read ended with an error (reset) instead of a clean close.
    pub error: Option<io::ErrorKind>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn was_reset(&self) -> bool {
        self.error.is_some()
    }
}

/// Sends one request and reads until the server closes the socket.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    send(&mut s, method, target, headers).await;
    read_response(&mut s).await
}

pub async fn send(s: &mut TcpStream, method: &str, target: &str, headers: &[(&str, &str)]) {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 192.0.2.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    // The server may already have reset us (connection limit, offline).
    let _ = s.write_all(req.as_bytes()).await;
}

pub async fn read_response(s: &mut TcpStream) -> Resp {
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut error = None;
    loop {
        match s.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => {
                error = Some(e.kind());
                break;
            }
        }
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(i) => (
            String::from_utf8_lossy(&raw[..i]).into_owned(),
            raw[i + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(&raw).into_owned(), Vec::new()),
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Resp {
        status,
        head,
        body,
        error,
    }
}

pub async fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target, &[]).await
}

/// Text of one XML element, first occurrence.
pub fn xml_value(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&close)? + start;
    Some(doc[start..end].to_owned())
}

/// Waits (polling the simulator's own counter) until no connection is live.
pub async fn until_idle(sim: &viofo_sim::Sim) {
    for _ in 0..10_000 {
        if sim.active_connections() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("connections never closed");
}
