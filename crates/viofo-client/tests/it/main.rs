//! viofo-client against the simulated camera (viofo-sim): every call, every
//! fault the simulator offers.

mod commands;
mod delete;
mod download;
mod fallback;
mod limits;
mod listing;
mod not_camera;
mod range;

use std::time::Duration;

use viofo_client::{CancellationToken, ChunkObserver, Client, ClientConfig, ListSource, Recording};
use viofo_sim::{ClipSpec, Sim, SimConfig};

/// Short timeouts so fault tests end quickly (most run under paused time).
pub fn config(sim: &Sim) -> ClientConfig {
    let mut c = ClientConfig::new(sim.base_url());
    c.connect_timeout = Duration::from_secs(2);
    c.idle_timeout = Duration::from_secs(2);
    c.command_timeout = Duration::from_secs(10);
    c.probe_timeout = Duration::from_secs(2);
    c.listing_timeout = Duration::from_secs(20);
    c
}

pub fn client(sim: &Sim) -> Client {
    Client::new(config(sim)).unwrap()
}

/// A camera with `n` small front clips and fast deletes.
pub async fn sim_with(n: usize, size: u64) -> Sim {
    Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(n).size(size))
            .delete_delay(Duration::from_millis(5)),
    )
    .await
    .unwrap()
}

pub async fn list(client: &Client) -> Vec<Recording> {
    let l = client.list(ListSource::Xml).await.unwrap();
    assert!(l.skipped.is_empty(), "{:?}", l.skipped);
    l.recordings
}

/// Records what a download fed it; can cancel a token after N bytes.
#[derive(Default)]
pub struct Collect {
    pub data: Vec<u8>,
    pub resets: usize,
    pub cancel_after: Option<(usize, CancellationToken)>,
}

impl ChunkObserver for Collect {
    fn reset(&mut self) {
        self.resets += 1;
        self.data.clear();
    }
    fn chunk(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        if let Some((n, tok)) = &self.cancel_after
            && self.data.len() >= *n
        {
            tok.cancel();
        }
    }
}
