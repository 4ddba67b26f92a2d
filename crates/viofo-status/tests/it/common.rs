//! The tests' rig: a model, a server on 127.0.0.1:0 and its shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use viofo_status::{ActionHandler, NoPersistence, ServerConfig, StatusConfig, StatusModel, serve};

/// A running server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) status: StatusModel,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<viofo_status::Result<()>>>,
}

impl Server {
    pub(crate) async fn start(config: ServerConfig, actions: impl ActionHandler) -> Self {
        let status = StatusModel::new(
            StatusConfig::new("cam-1", "/nonexistent/archive"),
            NoPersistence,
        );
        Self::start_with(config, status, actions).await
    }

    pub(crate) async fn start_with(
        config: ServerConfig,
        status: StatusModel,
        actions: impl ActionHandler,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, config, status.clone(), actions, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            status,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and checks it ended cleanly.
    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

/// A client that follows no redirect (the action's 303 is checked as is).
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Sends raw bytes and reads the answer until the server closes or `limit`
/// passes.
pub(crate) async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before taking all of it.
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server answered and closed");
    String::from_utf8_lossy(&buf).into_owned()
}

/// Asks `GET /api/status` until the server serves it (connection slots free
/// as the server sees earlier clients' closes), for at most 10 s.
pub(crate) async fn until_served(addr: SocketAddr) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = raw(
            addr,
            b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        .await;
        if answer.starts_with("HTTP/1.1 200") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never served again: {answer}"
        );
        tokio::task::yield_now().await;
    }
}
