//! probe, info, recording_state; no unsafe command is ever sent.

use std::time::Duration;

use viofo_client::{Client, ClientConfig};
use viofo_sim::{Fault, Sim, SimConfig, Target};

use crate::{client, sim_with};

#[tokio::test(start_paused = true)]
async fn probe_info_state() {
    let sim = sim_with(2, 10_000).await;
    let c = client(&sim);
    c.probe().await.unwrap();
    let info = c.info().await.unwrap();
    assert_eq!(info.firmware, "VIOFO_A329S_V2.0_260313");
    assert_eq!(info.model.as_deref(), Some("A329S"));
    assert!(info.free_space.is_some_and(|f| f > 0), "{info:?}");
    assert!(!c.recording_state().await.unwrap());
    sim.set_recording(true);
    assert!(c.recording_state().await.unwrap());
    sim.set_recording(false);
    assert!(!c.recording_state().await.unwrap());
    sim.set_firmware("SOMETHING_ELSE");
    let info = c.info().await.unwrap();
    assert_eq!(
        (info.firmware.as_str(), info.model),
        ("SOMETHING_ELSE", None)
    );
    let cmds: Vec<_> = sim.requests().iter().filter_map(|r| r.cmd).collect();
    assert!(
        cmds.contains(&3016)
            && cmds.contains(&3012)
            && cmds.contains(&3017)
            && cmds.contains(&3014)
    );
    assert!(sim.unsafe_commands().is_empty());
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn probe_fails_fast_when_offline() {
    let sim = sim_with(1, 10_000).await;
    let c = client(&sim);
    sim.go_offline(Duration::from_secs(60));
    let e = c.probe().await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    sim.go_online();
    c.probe().await.unwrap();

    // A camera that is gone entirely: connection refused.
    let url = sim.base_url();
    sim.shutdown().await;
    let gone = Client::new(ClientConfig::new(url)).unwrap();
    let e = gone.probe().await.unwrap_err();
    assert!(e.is_offline() && e.is_retryable(), "{e}");
}

#[tokio::test(start_paused = true)]
async fn probe_times_out_on_a_silent_camera() {
    let sim = sim_with(1, 10_000).await;
    let c = client(&sim);
    sim.inject(Fault::delay(Duration::from_secs(600)).on(Target::Cmd(3016)));
    let t0 = tokio::time::Instant::now();
    let e = c.probe().await.unwrap_err();
    assert!(e.is_timeout() && e.is_retryable(), "{e}");
    assert!(t0.elapsed() <= Duration::from_secs(3), "{:?}", t0.elapsed());
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retryable() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let c = client(&sim);
    sim.inject(Fault::status(500).on(Target::Cmd(3014)));
    let e = c.recording_state().await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert!(e.is_retryable(), "{e}");
    sim.inject(Fault::reset().on(Target::Cmd(3012)));
    let e = c.info().await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_404_to_the_heartbeat_is_not_a_dashcam() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let c = client(&sim);
    sim.inject(Fault::status(404).on(Target::Cmd(3016)));
    let e = c.probe().await.unwrap_err();
    assert!(e.is_not_dashcam(), "{e}");
    assert!(
        !e.is_retryable() && !e.is_offline() && !e.is_not_found(),
        "{e}"
    );
    assert_eq!(e.status(), Some(404));
    let msg = e.to_string();
    assert!(
        msg.contains("something at this address answers, but it is not a Novatek dashcam"),
        "{msg}"
    );
    // For people (issue 21): the address, and that it is not a camera.
    let at = sim
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    assert_eq!(
        e.for_people(),
        Some(format!("{at} answers, but not as a Viofo camera"))
    );
    // Other commands answering 404 are plain 404s; a healthy heartbeat is fine.
    c.probe().await.unwrap();
    sim.inject(Fault::status(404).on(Target::Cmd(3014)));
    let e = c.recording_state().await.unwrap_err();
    assert!(e.is_not_found() && !e.is_not_dashcam(), "{e}");
    sim.shutdown().await;
}

/// Every error in the chain of a real connection-refused error, as a chain
/// printer (anyhow's `{:#}`) shows it: no layer repeats a cause's text.
#[tokio::test]
async fn connection_refused_prints_each_cause_once() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::new(ClientConfig::new(format!("http://127.0.0.1:{port}"))).unwrap();
    let e = c.probe().await.unwrap_err();
    assert!(e.is_offline(), "{e}");
    let mut chain = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = cur {
        chain.push(err.to_string());
        cur = err.source();
    }
    assert!(
        chain.len() >= 2,
        "the cause is reachable by source(): {chain:?}"
    );
    for (i, outer) in chain.iter().enumerate() {
        for inner in &chain[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "{outer:?} repeats its cause {inner:?}"
            );
        }
    }
    let line = chain.join(": ");
    let mut segments: Vec<&str> = line.split(": ").collect();
    let n = segments.len();
    segments.sort_unstable();
    segments.dedup();
    assert_eq!(segments.len(), n, "a segment repeats: {line}");
    assert_eq!(line.matches("unreachable").count(), 1, "{line}");
    assert_eq!(line.matches("cmd 3016").count(), 1, "{line}");
    // `{:#}` prints that same one line.
    assert_eq!(format!("{e:#}"), line);
}
