//! A fleet of two simulated cameras with their status servers: both sync,
//! each camera's buttons reach its own watcher alone, one shutdown stops
//! both.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use viofo_client::{Client, ClientConfig};
use viofo_daemon::{Camera, Fleet, Surfaces};
use viofo_pipeline::{Event, Shutdown, SyncConfig};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_status::ServerConfig;
use viofo_store::{Store, StoreOptions};

/// `method path` on `addr` (HTTP/1.1, closed after): the status code and
/// the body.
async fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("the server answers")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (code, body.unwrap_or_default())
}

/// Polls `/api/status` on `addr` (at most 10 s) until `ok` holds.
async fn status_until(addr: SocketAddr, what: &str, ok: impl Fn(&serde_json::Value) -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (_, body) = http(addr, "GET", "/api/status").await;
            if serde_json::from_str(&body).is_ok_and(|v| ok(&v)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not seen in 10 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_syncs_each_camera_and_each_page_drives_its_own_camera() {
    let dirs = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::at(dirs.path().join("state.db")))
        .await
        .unwrap();
    let shutdown = Shutdown::new();
    // An hour between cycles: any further cycle was asked for.
    let mut fleet = Fleet::new(store.clone(), Duration::from_secs(3600), &shutdown);
    let (waits_tx, mut waits) = mpsc::unbounded_channel::<&'static str>();
    let mut cams = Vec::new();
    for (id, n) in [("front", 3), ("rear", 2)] {
        let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(n).size(40_000)))
            .await
            .unwrap();
        let archive = dirs.path().join(id);
        std::fs::create_dir(&archive).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let page = listener.local_addr().unwrap();
        let tx = waits_tx.clone();
        let camera = Camera::new(
            Client::new(ClientConfig::new(sim.base_url())).unwrap(),
            SyncConfig::new(id, &archive),
        )
        .surfaces(Surfaces::none().with_server(listener, ServerConfig::default()))
        .events(move |e| {
            if let Event::NextCycle { .. } = e {
                let _ = tx.send(id);
            }
        });
        let control = fleet.add(camera).unwrap();
        cams.push((id, sim, archive, page, control));
    }
    assert_eq!(fleet.ids(), ["front", "rear"]);
    let run = tokio::spawn(fleet.run());
    // Both cameras' first cycles, in whichever order they end.
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut seen = std::collections::HashSet::new();
        while seen.len() < 2 {
            seen.insert(waits.recv().await.expect("events flow"));
        }
    })
    .await
    .expect("both cameras synced in 20 s");
    let mut next_wait = async |of: &str| {
        tokio::time::timeout(Duration::from_secs(20), async {
            while waits.recv().await.expect("events flow") != of {}
        })
        .await
        .unwrap_or_else(|_| panic!("{of}: no cycle in 20 s"));
    };
    for (id, sim, archive, _, _) in &cams {
        for c in sim.clips() {
            assert!(archive.join(&c.name).is_file(), "{id}: {}", c.name);
        }
    }

    // Pause on the front camera's page: only the front camera pauses.
    let (front, rear) = (&cams[0], &cams[1]);
    let (code, _) = http(front.3, "POST", "/api/pause").await;
    assert!((200..300).contains(&code), "{code}");
    status_until(front.3, "front paused", |v| v["state"] == "paused").await;
    assert!(front.4.is_paused());
    assert!(!rear.4.is_paused());
    status_until(rear.3, "rear not paused", |v| v["state"] != "paused").await;

    // Sync now on the paused front page is refused, not swallowed.
    let (code, body) = http(front.3, "POST", "/api/sync-now").await;
    assert_eq!(code, 409, "{body}");
    // Each page shows both cameras; the other's page is reachable there.
    let (code, page) = http(rear.3, "GET", "/").await;
    assert_eq!(code, 200);
    assert!(page.contains("id=\"cameras\""), "{page}");
    assert!(
        page.contains("data-camera=\"front\"><td><a href=\"/camera/front\">front</a></td><td><span class=\"state paused\">Paused</span>"),
        "{page}"
    );
    assert!(
        page.contains("data-camera=\"rear\"><td><b>rear</b>"),
        "{page}"
    );
    let (code, other) = http(rear.3, "GET", "/camera/front").await;
    assert_eq!(code, 200);
    assert!(other.contains("Camera <b>front</b>") && other.contains(">Paused</span>"));

    // Sync now on the rear camera's page runs a cycle there (the interval
    // is an hour).
    let listed = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.cmd == Some(3015))
            .count()
    };
    let before = listed(&rear.1);
    http(rear.3, "POST", "/api/sync-now").await;
    next_wait("rear").await;
    assert!(listed(&rear.1) > before, "sync now listed the rear camera");

    // Resume on the front page runs a cycle there.
    let before = listed(&front.1);
    http(front.3, "POST", "/api/resume").await;
    next_wait("front").await;
    assert!(listed(&front.1) > before, "resume listed the front camera");
    assert!(!front.4.is_paused());

    // One shutdown stops both; their pages close.
    shutdown.stop();
    let ends = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the fleet stops")
        .unwrap();
    let ids: Vec<&str> = ends.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["front", "rear"]);
    assert!(ends.iter().all(|e| e.result.is_ok()), "{ends:?}");
    for (_, _, _, page, _) in &cams {
        assert!(TcpStream::connect(page).await.is_err(), "{page} still open");
    }
    store.close().await.unwrap();
}
