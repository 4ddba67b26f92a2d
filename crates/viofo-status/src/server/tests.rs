//! Connection time limits under paused time, over an in-memory pipe.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{App, ServerConfig, serve_connection};
use crate::{NoActions, NoPersistence, StatusConfig, StatusModel};

fn app() -> Arc<App> {
    Arc::new(App {
        config: ServerConfig::default(),
        status: StatusModel::new(StatusConfig::new("cam", "/nonexistent"), NoPersistence),
        actions: Box::new(NoActions),
    })
}

async fn connection() -> (tokio::io::DuplexStream, tokio::task::JoinHandle<()>) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let permit = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
    let task = tokio::spawn(serve_connection(
        app(),
        TokioIo::new(server),
        CancellationToken::new(),
        permit,
    ));
    (client, task)
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_headers_is_cut_off_at_the_default_10_s() {
    let (mut client, task) = connection().await;
    let start = tokio::time::Instant::now();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let mut buf = Vec::new();
    // Ends when the server closes the connection.
    let _ = client.read_to_end(&mut buf).await;
    let waited = start.elapsed();
    assert!(
        (Duration::from_secs(10)..Duration::from_secs(11)).contains(&waited),
        "closed after {waited:?}"
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_idle_kept_alive_connection_is_closed_too() {
    let (mut client, task) = connection().await;
    let start = tokio::time::Instant::now();
    client
        .write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = client.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "kept until the header timeout"
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_busy_connection_ends_with_its_lifetime() {
    let (mut client, task) = connection().await;
    let start = tokio::time::Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    // A request every 5 s never trips the header timeout; the lifetime
    // (5 min) ends the connection all the same.
    loop {
        let req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        if client.write_all(req).await.is_err() {
            break;
        }
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(start.elapsed() < Duration::from_secs(400), "never closed");
    }
    assert!(
        start.elapsed() >= Duration::from_secs(300),
        "{:?}",
        start.elapsed()
    );
    task.await.unwrap();
}
