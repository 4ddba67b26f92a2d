use std::time::Duration;

use crate::{get, read_response, send, until_idle};
use tokio::net::TcpStream;
use tokio::time::Instant;
use viofo_sim::{ClipSpec, Sim, SimConfig};

#[tokio::test]
async fn the_fourth_concurrent_connection_is_reset() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(10_000)))
        .await
        .unwrap();
    // Three connections that have not sent their request yet hold the slots.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(sim.addr()).await.unwrap());
    }
    for _ in 0..10_000 {
        if sim.active_connections() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(sim.active_connections(), 3);
    let mut fourth = TcpStream::connect(sim.addr()).await.unwrap();
    send(&mut fourth, "GET", "/?custom=1&cmd=3016", &[]).await;
    let r = read_response(&mut fourth).await;
    assert_eq!(r.status, 0, "{r:?}");
    assert!(r.body.is_empty());
    assert_eq!(sim.refused_connections(), 1);
    assert_eq!(sim.peak_connections(), 3);

    // A held slot still answers.
    send(&mut held[0], "GET", "/?custom=1&cmd=3016", &[]).await;
    assert_eq!(read_response(&mut held[0]).await.status, 200);
    drop(held);
    until_idle(&sim).await;
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
    // Requests logged only for connections that were served.
    assert_eq!(sim.requests().len(), 2);
}

#[tokio::test]
async fn the_limit_is_configurable() {
    let sim = Sim::start(SimConfig::default().max_connections(1))
        .await
        .unwrap();
    let _held = TcpStream::connect(sim.addr()).await.unwrap();
    for _ in 0..10_000 {
        if sim.active_connections() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 0);
}

async fn timed_download(sim: &Sim, path: String) -> (Duration, usize) {
    let t = Instant::now();
    let r = get(sim.addr(), &path).await;
    (t.elapsed(), r.body.len())
}

#[tokio::test(start_paused = true)]
async fn bandwidth_is_one_shared_link() {
    let rate = 1_000_000u64;
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(2).size(1_000_000))
            .bandwidth(rate),
    )
    .await
    .unwrap();
    let clips = sim.clips();
    // One clip alone: about size / rate of (virtual) time.
    let (took, n) = timed_download(&sim, clips[0].url_path.clone()).await;
    assert_eq!(n, 1_000_000);
    let secs = took.as_secs_f64();
    assert!((0.8..=1.2).contains(&secs), "one clip took {secs} s");

    // Two at once share the link: together about 2 s, not 1 s.
    let t = Instant::now();
    let (a, b) = tokio::join!(
        timed_download(&sim, clips[0].url_path.clone()),
        timed_download(&sim, clips[1].url_path.clone())
    );
    assert_eq!(a.1 + b.1, 2_000_000);
    let secs = t.elapsed().as_secs_f64();
    assert!((1.6..=2.4).contains(&secs), "two clips took {secs} s");
    // ... and fairly: neither finishes in half the time.
    assert!(
        a.0.as_secs_f64() > 1.4 && b.0.as_secs_f64() > 1.4,
        "{a:?} {b:?}"
    );
}

#[tokio::test]
async fn bandwidth_with_real_time_generous_bounds() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(400_000))
            .bandwidth(2_000_000),
    )
    .await
    .unwrap();
    let (took, n) = timed_download(&sim, sim.clips()[0].url_path.clone()).await;
    assert_eq!(n, 400_000);
    // 0.2 s nominal; the burst allowance is 40 KB.
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_answer() {
    let sim = Sim::start(SimConfig::default().latency(Duration::from_millis(300)))
        .await
        .unwrap();
    let t = Instant::now();
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(400),
        "{took:?}"
    );
}

#[tokio::test]
async fn only_loopback_is_bound() {
    for addr in ["0.0.0.0:0", "127.0.0.2:0", "[::1]:0", "192.168.1.254:80"] {
        let err = Sim::start(SimConfig::default().bind(addr.parse().unwrap()))
            .await
            .unwrap_err();
        assert!(err.is_not_loopback(), "{addr}: {err}");
        assert!(err.to_string().contains("127.0.0.1"));
    }
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    assert!(sim.addr().ip().is_loopback());
    assert_ne!(sim.addr().port(), 0);
    assert_eq!(
        sim.base_url(),
        format!("http://127.0.0.1:{}", sim.addr().port())
    );
}

#[tokio::test]
async fn shutdown_stops_serving_and_drop_does_too() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let addr = sim.addr();
    sim.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let addr = sim.addr();
    drop(sim);
    tokio::task::yield_now().await;
    let r = TcpStream::connect(addr).await;
    if let Ok(mut s) = r {
        // The listener may linger for an instant after abort; it must not answer.
        send(&mut s, "GET", "/?custom=1&cmd=3016", &[]).await;
        assert_eq!(read_response(&mut s).await.status, 0);
    }
}
