//! The connection cap holds across clones, with downloads and deletes mixed.

use std::time::Duration;

use viofo_client::{Client, DownloadOptions};
use viofo_sim::{ClipSpec, Sim, SimConfig};

use crate::{config, list};

async fn busy_sim() -> Sim {
    Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(12).size(200_000))
            .bandwidth(4_000_000)
            .latency(Duration::from_millis(20))
            .delete_delay(Duration::from_secs(2)),
    )
    .await
    .unwrap()
}

async fn hammer(sim: &Sim, client: &Client) {
    let recs = list(client).await;
    let dir = tempfile::tempdir().unwrap();
    let mut tasks = Vec::new();
    for (i, rec) in recs.into_iter().enumerate() {
        let c = client.clone();
        let dest = dir.path().join(rec.file_name());
        tasks.push(tokio::spawn(async move {
            c.download(&rec, &dest, DownloadOptions::new())
                .await
                .unwrap();
            if i % 2 == 0 {
                c.delete(&rec).await.unwrap();
            }
            c.probe().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(sim.downloaded().len(), 12);
    assert_eq!(sim.deleted().len(), 6);
    assert_eq!(client.connections_in_use(), 0);
}

#[tokio::test(start_paused = true)]
async fn never_more_than_three() {
    let sim = busy_sim().await;
    let client = Client::new(config(&sim)).unwrap();
    hammer(&sim, &client).await;
    assert!(sim.peak_connections() <= 3, "{}", sim.peak_connections());
    assert!(
        sim.peak_connections() >= 2,
        "the cap was actually exercised"
    );
    assert_eq!(sim.refused_connections(), 0);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn configurable_lower() {
    let sim = busy_sim().await;
    let mut cfg = config(&sim);
    cfg.max_connections = 1;
    let client = Client::new(cfg).unwrap();
    hammer(&sim, &client).await;
    assert_eq!(sim.peak_connections(), 1);
    assert_eq!(sim.refused_connections(), 0);
    sim.shutdown().await;
}

/// A camera that takes one connection at a time, asked with the default
/// three (issue 21): the extra connections it resets lower the limit to
/// one, and every request waits its turn instead of failing.
#[tokio::test(start_paused = true)]
async fn a_camera_that_takes_one_learns_the_client_one() {
    let sim = busy_sim().await;
    sim.set_max_connections(1);
    let client = Client::new(config(&sim)).unwrap();
    assert_eq!(client.connection_limit(), 3);
    hammer(&sim, &client).await;
    assert!(sim.refused_connections() >= 1, "the camera refused some");
    assert_eq!(client.connection_limit(), 1);
    // Learnt once: later requests are not refused again.
    let refused = sim.refused_connections();
    hammer_again(&client).await;
    assert_eq!(sim.refused_connections(), refused);
    sim.shutdown().await;
}

/// Probes and listings from many tasks at once.
async fn hammer_again(client: &Client) {
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.probe().await.unwrap();
            list(&c).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
