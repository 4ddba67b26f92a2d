//! Hostile clients: a 10 MB body, a huge head, a slow client, too many
//! connections. Each is bounded, and the server goes on answering others.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use viofo_status::{Action, NoActions, ServerConfig};

use crate::common::{Server, client, raw, until_served};

const TEN_MB: usize = 10 * 1024 * 1024;

#[tokio::test]
async fn a_10_mb_body_is_refused_unread_and_the_action_not_taken() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(8);
    let srv = Server::start(ServerConfig::default(), tx).await;
    // Declared: answered 413 from the head alone, before any of the body.
    let head = format!(
        "POST /api/sync-now HTTP/1.1\r\nHost: {}\r\nContent-Length: {TEN_MB}\r\n\r\n",
        srv.addr
    );
    let answer = raw(srv.addr, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Chunked, no length: read up to the limit only.
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "POST /api/sync-now HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        srv.addr
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    let mut sent = 0;
    // The server answers once the limit is passed; stop writing when it
    // closes (at most 10 MB are offered).
    while sent < TEN_MB {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        sent += 64 * 1024;
        if sent >= 256 * 1024 {
            break;
        }
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let answer = String::from_utf8_lossy(&buf);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A plain client sending the whole 10 MB: refused (or cut off while it
    // still sends), never taken.
    let r = client()
        .post(srv.url("/api/sync-now"))
        .body(vec![b'x'; TEN_MB])
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    assert!(
        rx.try_recv().is_err(),
        "no action from an oversized request"
    );
    // Still serving.
    assert_eq!(
        client()
            .get(srv.url("/api/status"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_huge_head_is_refused() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nX-Big: {}\r\n\r\n",
        srv.addr,
        "a".repeat(64 * 1024)
    );
    let answer = raw(srv.addr, req.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    srv.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_and_others_are_served() {
    let mut cfg = ServerConfig::default();
    cfg.header_timeout = Duration::from_millis(300);
    let srv = Server::start(cfg, NoActions).await;
    let mut slow = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1")
        .await
        .unwrap();
    // Meanwhile another client is served at once.
    let r = client().get(srv.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the slow client was never disconnected");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "cut off before its time: {waited:?}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_answered_503_and_closed() {
    let mut cfg = ServerConfig::default();
    cfg.max_connections = 2;
    let srv = Server::start(cfg, NoActions).await;
    // Two connections that hold their slot, each proven served first.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
        s.write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        held.push(s);
    }
    let answer = raw(
        srv.addr,
        b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(held);
    // Once they are gone, a client is served again.
    until_served(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn a_flood_of_500_requests_leaves_the_server_serving() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    let c = client();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..500 {
        let c = c.clone();
        let url = srv.url(if i % 2 == 0 {
            "/metrics"
        } else {
            "/api/status"
        });
        tasks.spawn(async move { c.get(url).send().await.map(|r| r.status().as_u16()) });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        // A request beyond the connection limit may be answered 503.
        match r.unwrap() {
            Ok(200) => ok += 1,
            Ok(503) | Err(_) => {}
            Ok(other) => panic!("unexpected status {other}"),
        }
    }
    assert!(ok > 0, "none served");
    // The pool's idle connections close with it; then the server is free.
    drop(c);
    until_served(srv.addr).await;
    srv.stop().await;
}
