//! The status surfaces beside a real sync of the simulated camera (on
//! 127.0.0.1): a status model fed by the pipeline, its refresh task, and the
//! server on 127.0.0.1 (port 0, or the one given with `--port N`).
//!
//! ```text
//! cargo run -p viofo-status --example status_demo            # one cycle, prints /api/status
//! cargo run -p viofo-status --example status_demo -- --hold  # serves until Ctrl-C
//! ```
//!
//! With `--hold`, open the printed address in a browser: the page's buttons
//! work (sync-now runs another cycle, pause / resume, retry-failed).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use viofo_client::{Client, ClientConfig};
use viofo_pipeline::{Shutdown, SyncConfig, Syncer};
use viofo_sim::{ClipSpec, Sim, SimConfig};
use viofo_status::{Action, ServerConfig, StatusConfig, StatusModel, StickyFile, serve};
use viofo_store::{Store, StoreOptions};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let hold = args.iter().any(|a| a == "--hold");
    let port: u16 = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(0);

    // A camera with eight 4 MB clips on a 8 MB/s link: long enough to watch.
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(8).size(4_000_000))
            .bandwidth(8_000_000),
    )
    .await?;
    let dirs = tempfile::tempdir()?;
    let archive = dirs.path().join("archive");
    std::fs::create_dir(&archive)?;
    let db = dirs.path().join("viofosync.db");
    let store = Store::open(StoreOptions::at(&db)).await?;

    let status = StatusModel::new(
        StatusConfig::new("demo-cam", &archive),
        StickyFile::beside(&db),
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let refresher = tokio::spawn({
        let (status, store, stop) = (status.clone(), store.clone(), stop.clone());
        async move { status.run_refresh(store, stop.cancelled_owned()).await }
    });
    let (actions, mut asked) = tokio::sync::mpsc::channel::<Action>(8);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(
        listener,
        ServerConfig::default(),
        status.clone(),
        actions,
        stop.clone().cancelled_owned(),
    ));
    println!("status page: http://{addr}/  (metrics: /metrics, JSON: /api/status)");

    let client = Client::new(ClientConfig::new(sim.base_url()))?;
    let info = client.info().await.ok();
    status.set_camera(
        info.as_ref().and_then(|i| i.model.clone()),
        info.map(|i| i.firmware),
    );
    let mut cfg = SyncConfig::new("demo-cam", &archive);
    cfg.max_used_disk = None;
    let syncer = Syncer::new(client, store.clone(), cfg, status.clone())?;
    let shutdown = Shutdown::new();

    let summary = syncer.run_cycle(&shutdown).await?;
    println!(
        "cycle: {} clips, {} bytes, {}",
        summary.clips, summary.bytes, summary.outcome
    );
    status.refresh(&store).await?;
    let json = reqwest::get(format!("http://{addr}/api/status"))
        .await?
        .text()
        .await?;
    println!("{json}");

    if hold {
        println!("serving until Ctrl-C; the page's buttons are live");
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                Some(action) = asked.recv() => match action {
                    Action::SyncNow => match syncer.run_cycle(&shutdown).await {
                        Ok(s) => println!("cycle: {} clips, {}", s.clips, s.outcome),
                        Err(e) => {
                            status.report_error(&e);
                            eprintln!("cycle failed: {e:#}");
                        }
                    },
                    Action::Pause => status.set_paused(true),
                    Action::Resume => status.set_paused(false),
                    Action::RetryFailed => {
                        let n = store.retry_failed(Some("demo-cam")).await?;
                        println!("{n} failed clips queued again");
                    }
                },
            }
        }
    }
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), server).await???;
    refresher.await?;
    store.close().await?;
    sim.shutdown().await;
    Ok(())
}
