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
    /// Date the synthetic recordings from this time, the camera's clock
    /// (2025-12-24 or "2025-12-24 12:00"); default: the last hour before
    /// now, so that a retention by age keeps them.
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub(crate) date: Option<time::PrimitiveDateTime>,
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` (a `T` may
/// stand for the space).
fn date_arg(s: &str) -> Result<time::PrimitiveDateTime, String> {
    use time::macros::format_description;
    let s = s.trim().replacen('T', " ", 1);
    let day = format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(&s, day) {
        return Ok(time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT));
    }
    time::PrimitiveDateTime::parse(
        &s,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .or_else(|_| {
        time::PrimitiveDateTime::parse(
            &s,
            format_description!("[year]-[month]-[day] [hour]:[minute]"),
        )
    })
    .map_err(|_| "a date: 2025-12-24, \"2025-12-24 12:00\" or \"2025-12-24 12:00:00\"".to_owned())
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
        None => {
            let spec = ClipSpec::synthetic(args.clips)
                .size(args.clip_size)
                .rear(args.rear);
            cfg.with_clips(match args.date {
                Some(t) => spec.start_time(t),
                None => spec.recent(),
            })
        }
    };
    Ok(cfg)
}

/// Resolves once on the first SIGINT/SIGTERM.
pub(crate) fn first_signal() -> impl Future<Output = ()> {
    let shutdown = viofo_pipeline::Shutdown::new();
    viofo_daemon::stop_on_signals(shutdown.clone(), false);
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
