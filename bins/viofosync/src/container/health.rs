//! `viofosync health`: exit 0 while `watch`'s status page answers on
//! `listen`, 1 otherwise; the container image's `HEALTHCHECK`, which has no
//! shell or HTTP tool to ask with.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::config::Loaded;
use crate::errors::Exit;
use crate::stdout::outln;

/// How long the answer may take: within the image's HEALTHCHECK timeout.
const WITHIN: Duration = Duration::from_secs(5);

/// `health` options.
#[derive(Debug, clap::Args)]
pub(crate) struct HealthArgs {
    #[command(flatten)]
    pub(crate) settings: crate::config::SettingsArgs,
}

/// Where to ask the server listening on `listen`: an unspecified address
/// (0.0.0.0, ::) is answered on loopback.
pub(crate) fn target(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Asks `GET /api/status` of the configured status server (with the
/// status token when one is set); a 200 is healthy.
pub(crate) async fn health(l: &Loaded) -> Result<Exit> {
    let Some(listen) = l.settings.listen else {
        // Not a configuration error: a health check's 2 is reserved.
        return Err(anyhow!(
            "unhealthy: listen is off, so there is no status page to ask (set VIOFOSYNC_LISTEN)"
        ));
    };
    let url = format!("http://{}/api/status", target(listen));
    let client = reqwest::Client::builder()
        .timeout(WITHIN)
        .no_proxy()
        .build()
        .map_err(|e| anyhow!("cannot make an HTTP client: {e}"))?;
    let mut req = client.get(&url);
    if let Some(token) = &l.settings.status_token {
        req = req.bearer_auth(token);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| anyhow!("unhealthy: {url} does not answer: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(anyhow!("unhealthy: {url} answered {status}"));
    }
    outln!("healthy: {url} answered {status}");
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    #[test]
    fn health_asks_loopback_for_an_unspecified_listen() {
        for (listen, want) in [
            ("0.0.0.0:8740", "127.0.0.1:8740"),
            ("[::]:8740", "[::1]:8740"),
            ("127.0.0.1:9000", "127.0.0.1:9000"),
            ("192.168.1.5:8740", "192.168.1.5:8740"),
        ] {
            let listen: SocketAddr = listen.parse().unwrap();
            assert_eq!(super::target(listen).to_string(), want);
        }
    }
}
