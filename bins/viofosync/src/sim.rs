//! `viofosync sim`: run the simulated camera on 127.0.0.1 until shutdown.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use viofo_sim::{ClipSpec, Sim, SimConfig};

use crate::config::{clip_size_arg, duration_arg, parse_size};
use crate::stdout::outln;

/// Serve a simulated Viofo camera on 127.0.0.1 (for demos and testing).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct SimArgs {
    /// Port on 127.0.0.1 (0 = any free port; the one chosen is printed).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// Address to bind. Only 127.0.0.1 is accepted.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind: IpAddr,
    /// Number of synthetic recordings (ignored with --dir).
    #[arg(long, default_value_t = 20)]
    pub(crate) clips: usize,
    /// Size of each synthetic clip (e.g. 300MB, 1.5GB, 2GiB, 1000000 bytes).
    #[arg(long, default_value = "50MB", value_parser = clip_size_arg)]
    pub(crate) clip_size: u64,
    /// Add a rear-camera clip to every recording.
    #[arg(long)]
    pub(crate) rear: bool,
    /// Serve this folder (laid out like a card: DCIM/Movie, DCIM/Movie/Parking,
    /// DCIM/Movie/RO) instead of synthetic clips. Files are never modified.
    #[arg(long)]
    pub(crate) dir: Option<PathBuf>,
    /// Shared link bandwidth in bytes per second (e.g. 20MB); unlimited if unset.
    #[arg(long, value_parser = parse_size)]
    pub(crate) bandwidth: Option<u64>,
    /// Delay before every response (e.g. 5ms).
    #[arg(long, default_value = "0s", value_parser = duration_arg)]
    pub(crate) latency: Duration,
    /// How long each delete takes (e.g. 2s).
    #[arg(long, default_value = "2s", value_parser = duration_arg)]
    pub(crate) delete_delay: Duration,
    /// Connections served at once; more are reset.
    #[arg(long, default_value_t = 3)]
    pub(crate) max_connections: usize,
    /// Seed for sizes, GPS tracks and content.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Start recording (the newest clip keeps growing).
    #[arg(long)]
    pub(crate) recording: bool,
}

/// Builds the simulator configuration, refusing any address but 127.0.0.1.
pub(crate) fn config(args: &SimArgs) -> anyhow::Result<SimConfig> {
    if args.bind != IpAddr::V4(Ipv4Addr::LOCALHOST) {
        bail!("the simulator binds 127.0.0.1 only, not {}", args.bind);
    }
    let mut cfg = SimConfig::default()
        .bind(SocketAddr::new(args.bind, args.port))
        .latency(args.latency)
        .delete_delay(args.delete_delay)
        .max_connections(args.max_connections)
        .seed(args.seed)
        .recording(args.recording);
    if let Some(rate) = args.bandwidth {
        cfg = cfg.bandwidth(rate);
    }
    cfg = match &args.dir {
        Some(dir) => cfg.serve_dir(dir),
        None => cfg.with_clips(
            ClipSpec::synthetic(args.clips)
                .size(args.clip_size)
                .rear(args.rear),
        ),
    };
    Ok(cfg)
}

/// Resolves once on the first SIGINT/SIGTERM.
pub(crate) fn first_signal() -> impl Future<Output = ()> {
    let shutdown = viofo_pipeline::Shutdown::new();
    crate::commands::spawn_signal_handler(shutdown.clone(), false);
    async move { shutdown.stopped().await }
}

/// Runs the simulator until `shutdown` completes. Prints
/// `listening on http://127.0.0.1:PORT` (one line on stdout, flushed) once
/// it accepts connections.
pub(crate) async fn run(args: &SimArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let sim = Sim::start(config(args)?)
        .await
        .context("starting the simulated camera")?;
    outln!("listening on {}", sim.base_url());
    crate::stdout::flush_out();
    shutdown.await;
    sim.shutdown().await;
    Ok(())
}
