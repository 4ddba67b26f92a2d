//! Fallback addresses: [`Client::connect`] tries the address in use, then
//! the primary and the fallbacks in order, and keeps the one that answered.

use std::time::Duration;

use viofo_client::{Client, ClientConfig, ListSource};
use viofo_sim::{ClipSpec, Sim, SimConfig};

async fn two_sims() -> (Sim, Sim) {
    let cfg = || SimConfig::default().with_clips(ClipSpec::synthetic(2).size(10_000));
    (
        Sim::start(cfg()).await.unwrap(),
        Sim::start(cfg()).await.unwrap(),
    )
}

fn client(primary: &Sim, fallback: &Sim) -> Client {
    let mut cfg = crate::config(primary);
    cfg.fallback_urls = vec![fallback.base_url()];
    Client::new(cfg).unwrap()
}

fn base(sim: &Sim) -> String {
    sim.base_url().trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn the_answering_address_is_kept_until_it_fails() {
    let (home, vpn) = two_sims().await;
    let c = client(&home, &vpn);
    assert_eq!(c.address(), base(&home));

    let got = c.connect().await.unwrap();
    assert!(!got.changed);
    assert_eq!(got.address, base(&home));

    // Home Wi-Fi gone: the VPN address answers, and later requests go there.
    home.go_offline(Duration::from_secs(3600));
    let got = c.connect().await.unwrap();
    assert!(got.changed);
    assert_eq!(got.address, base(&vpn));
    assert_eq!(c.address(), base(&vpn));
    let before = home.requests().len();
    let listing = c.list(ListSource::Xml).await.unwrap();
    assert_eq!(listing.recordings.len(), 2);
    assert!(vpn.requests().iter().any(|r| r.cmd == Some(3015)));
    assert_eq!(home.requests().len(), before, "nothing more went to home");

    // Home is back, but the VPN still answers: it stays in use.
    home.go_online();
    let got = c.connect().await.unwrap();
    assert!(!got.changed);
    assert_eq!(c.address(), base(&vpn));

    // The VPN fails: back to the primary.
    vpn.go_offline(Duration::from_secs(3600));
    let got = c.connect().await.unwrap();
    assert!(got.changed);
    assert_eq!(c.address(), base(&home));

    // Neither answers: the error is the address in use's, and it stays.
    home.go_offline(Duration::from_secs(3600));
    let e = c.connect().await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(c.address(), base(&home));
}

#[tokio::test]
async fn a_probe_never_moves_to_a_fallback() {
    let (home, vpn) = two_sims().await;
    let c = client(&home, &vpn);
    home.go_offline(Duration::from_secs(3600));
    assert!(c.probe().await.unwrap_err().is_retryable());
    assert_eq!(c.address(), base(&home));
    assert!(vpn.requests().is_empty());
}

#[test]
fn fallback_addresses_are_checked_like_the_primary() {
    let mut cfg = ClientConfig::new("http://127.0.0.1:8080");
    cfg.fallback_urls = vec!["http://127.0.0.1:8081".into(), "10.8.0.2".into()];
    let e = cfg.validate().unwrap_err();
    assert!(e.is_config());
    let text = e.to_string();
    assert!(text.contains("fallback address 2"), "{text}");
    assert!(text.contains("no scheme"), "{text}");

    cfg.fallback_urls = vec!["http://127.0.0.1:8080/".into()];
    let text = cfg.validate().unwrap_err().to_string();
    assert!(text.contains("repeats an earlier address"), "{text}");

    cfg.fallback_urls = vec!["http://127.0.0.1:8081".into()];
    assert!(cfg.validate().is_ok());
}
