//! Two simulated cameras on 127.0.0.1 watched at once from the libraries
//! alone: each its own status page and Home Assistant device over MQTT;
//! stops by itself once both have synced, after reading each status page's
//! `/api/status`.
//!
//! ```text
//! cargo run -p viofo-daemon --example fleet
//! MQTT_URL=mqtt://127.0.0.1:1883 cargo run -p viofo-daemon --example fleet   # with a broker
//! ```
//!
//! Without `MQTT_URL` the MQTT devices point at a 127.0.0.1 port nothing
//! listens on: the broker is "down", which is logged and retried, and
//! never delays a sync.

#![allow(clippy::print_stdout)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use viofo_client::{Client, ClientConfig};
use viofo_daemon::{Camera, Fleet, Surfaces};
use viofo_mqtt::MqttConfig;
use viofo_pipeline::{Event, Shutdown, SyncConfig};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_status::ServerConfig;
use viofo_store::{Store, StoreOptions};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttc=warn".into()),
        )
        .init();
    let dirs = tempfile::tempdir()?;
    let store = Store::open(StoreOptions::at(dirs.path().join("state.db"))).await?;
    let mqtt_url = match std::env::var("MQTT_URL") {
        Ok(url) => url,
        Err(_) => format!("mqtt://127.0.0.1:{}", closed_port()?),
    };

    let shutdown = Shutdown::new();
    let mut fleet = Fleet::new(store.clone(), Duration::from_secs(3600), &shutdown);
    // Told of each camera's first finished cycle.
    let (synced_tx, mut synced) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut sims = Vec::new();
    let mut pages = Vec::new();
    for (id, clips) in [("front", 3), ("rear", 2)] {
        let sim =
            Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(clips).size(100_000)))
                .await?;
        let archive = dirs.path().join(id);
        std::fs::create_dir(&archive)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        pages.push((id, listener.local_addr()?));
        let surfaces = Surfaces::none()
            .with_server(listener, ServerConfig::default())
            .with_mqtt(MqttConfig::new(mqtt_url.clone()));
        let said = Arc::new(Mutex::new(false));
        let tell = synced_tx.clone();
        let camera = Camera::new(
            Client::new(ClientConfig::new(sim.base_url()))?,
            SyncConfig::new(id, &archive),
        )
        .surfaces(surfaces)
        .events(move |e| {
            if let Event::NextCycle { .. } = e
                && !std::mem::replace(&mut *said.lock().unwrap(), true)
            {
                let _ = tell.send(id.to_owned());
            }
        });
        fleet.add(camera)?;
        sims.push((id, sim, archive));
    }
    println!("watching {}", fleet.ids().join(", "));

    let drive = async {
        let mut done = HashSet::new();
        while done.len() < sims.len() {
            let next = tokio::time::timeout(Duration::from_secs(60), synced.recv()).await;
            match next {
                Ok(Some(id)) => done.insert(id),
                _ => break,
            };
        }
        for (id, addr) in &pages {
            let body = get(*addr, "/api/status")
                .await
                .unwrap_or_else(|e| e.to_string());
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let at = |p: &str| v.pointer(p).cloned().unwrap_or_default();
            println!(
                "{id}: http://{addr}/ says state {}, camera online {}",
                at("/state"),
                at("/camera/online")
            );
        }
        shutdown.stop();
        done.len()
    };
    let (ends, synced_cameras) = tokio::join!(fleet.run(), drive);
    store.close().await?;

    for end in &ends {
        println!("{}: stopped, {:?}", end.id, end.result);
    }
    for (id, sim, archive) in &sims {
        let archived = sim
            .clips()
            .iter()
            .filter(|c| archive.join(&c.name).is_file())
            .count();
        println!("{id}: {archived} of {} clips archived", sim.clips().len());
        if archived != sim.clips().len() {
            return Err(format!("{id}: clips missing from the archive").into());
        }
    }
    if synced_cameras != sims.len() || ends.iter().any(|e| e.result.is_err()) {
        return Err("a camera did not sync".into());
    }
    Ok(())
}

/// A 127.0.0.1 port nothing listens on.
fn closed_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `GET path` on `addr`, HTTP/1.1, the connection closed after: the body.
async fn get(addr: SocketAddr, path: &str) -> Result<String, Error> {
    let mut s = TcpStream::connect(addr).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw)).await??;
    let text = String::from_utf8_lossy(&raw);
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}
