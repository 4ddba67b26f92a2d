//! `viofosync sim`: run the simulated camera on 127.0.0.1 until shutdown.

use std::future::Future;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use viofo_sim::{ClipSpec, Sim, SimConfig};

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
    /// Size of each synthetic clip (e.g. 50MB, 2GiB, 1000000).
    #[arg(long, default_value = "50MB", value_parser = parse_size)]
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
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub(crate) latency: Duration,
    /// How long each delete takes (e.g. 2s).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
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

/// Runs the simulator until `shutdown` completes. Prints
/// `listening on http://127.0.0.1:PORT` (one line on stdout, flushed) once
/// it accepts connections.
pub(crate) async fn run(args: &SimArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let sim = Sim::start(config(args)?)
        .await
        .context("starting the simulated camera")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", sim.base_url())?;
        out.flush()?;
    }
    shutdown.await;
    sim.shutdown().await;
    Ok(())
}

/// `50MB`, `2GiB`, `1.5G`, `1000000` → bytes (KB/MB/GB are powers of 1000,
/// KiB/MiB/GiB of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        u => return Err(format!("unknown size unit {u:?} in {s:?}")),
    };
    let v = n * mult;
    if !v.is_finite() || !(0.0..=1e15).contains(&v) {
        return Err(format!("size out of range: {s:?}"));
    }
    #[allow(clippy::cast_possible_truncation)] // checked range above
    Ok(v.round() as u64)
}

/// `5ms`, `2s`, `1.5s`, `1m`, `0` → duration.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s:?}"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        u => return Err(format!("unknown duration unit {u:?} in {s:?}")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("duration out of range: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    fn args(extra: &[&str]) -> SimArgs {
        Cli::try_parse_from(std::iter::once("sim").chain(extra.iter().copied()))
            .unwrap()
            .sim
    }

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_size("50MB"), Ok(50_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("-1").is_err());
        assert_eq!(parse_duration("5ms"), Ok(Duration::from_millis(5)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn defaults_and_flags() {
        let a = args(&[]);
        assert_eq!(a.port, 0);
        assert_eq!(a.clip_size, 50_000_000);
        assert_eq!(a.delete_delay, Duration::from_secs(2));
        let a = args(&[
            "--clips",
            "3",
            "--clip-size",
            "2MB",
            "--bandwidth",
            "20MB",
            "--recording",
        ]);
        assert_eq!(
            (a.clips, a.clip_size, a.bandwidth, a.recording),
            (3, 2_000_000, Some(20_000_000), true)
        );
    }

    #[test]
    fn only_loopback() {
        for bind in ["0.0.0.0", "192.168.1.254", "::1", "127.0.0.2"] {
            let err = config(&args(&["--bind", bind])).unwrap_err();
            assert!(err.to_string().contains("127.0.0.1"), "{err}");
        }
        assert!(config(&args(&[])).is_ok());
    }

    #[tokio::test]
    async fn runs_until_shutdown() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let a = args(&["--clips", "2", "--clip-size", "10kB"]);
        let task = tokio::spawn(async move { run(&a, async { rx.await.unwrap_or(()) }).await });
        tx.send(()).unwrap();
        task.await.unwrap().unwrap();
    }
}
