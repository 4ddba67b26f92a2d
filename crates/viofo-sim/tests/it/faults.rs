use std::time::Duration;

use crate::{get, request, xml_value};
use tokio::time::Instant;
use viofo_sim::{ClipSpec, Fault, Outcome, RandomFaults, Sim, SimConfig, Target};

async fn sim() -> Sim {
    Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(200_000))
            .delete_delay(Duration::ZERO),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn drop_after_resets_mid_body_then_recovers() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    sim.inject(Fault::drop_after(50_000).on(Target::Download));
    // Not a download: unaffected.
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
    let r = get(sim.addr(), &c.url_path).await;
    assert_eq!(r.status, 200);
    assert!(r.body.len() <= 50_000, "{}", r.body.len());
    assert!(r.body.len() < c.size as usize);
    let log = sim.requests();
    assert_eq!(log[1].outcome, Outcome::Dropped);
    assert_eq!(log[1].body_bytes, 50_000);
    // Fired once: the next download is whole.
    assert_eq!(get(sim.addr(), &c.url_path).await.body.len() as u64, c.size);
    assert_eq!(sim.downloaded(), vec![c.name.clone()]);
}

#[tokio::test]
async fn close_after_gives_a_short_body_with_a_clean_close() {
    let sim = sim().await;
    let c = &sim.clips()[1];
    sim.inject(Fault::close_after(1234).on(Target::Download));
    let r = get(sim.addr(), &c.url_path).await;
    assert!(r.error.is_none());
    assert_eq!(r.header("content-length").unwrap(), c.size.to_string());
    assert!(r.body == sim.clip_bytes(&c.name).unwrap()[..1234]);
    assert_eq!(sim.requests()[0].outcome, Outcome::Closed);
}

#[tokio::test(start_paused = true)]
async fn stall_pauses_then_finishes() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    sim.inject(Fault::stall(10_000, Duration::from_secs(30)).on(Target::Download));
    let t = Instant::now();
    let r = get(sim.addr(), &c.url_path).await;
    assert!(t.elapsed() >= Duration::from_secs(30));
    assert!(r.body == sim.clip_bytes(&c.name).unwrap());
}

#[tokio::test]
async fn status_500_and_path_matchers() {
    let sim = sim().await;
    sim.inject(Fault::status(500).on(Target::Cmd(3015)).times(2));
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3015").await.status, 500);
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3015").await.status, 500);
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3015").await.status, 200);
    sim.inject(
        Fault::status(503)
            .on(Target::PathContains("cmd=3012".into()))
            .always(),
    );
    for _ in 0..3 {
        assert_eq!(get(sim.addr(), "/?custom=1&cmd=3012").await.status, 503);
    }
    sim.clear_faults();
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3012").await.status, 200);
}

#[tokio::test]
async fn drop_head_resets_head_only() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    sim.inject(Fault::drop_head());
    assert_eq!(get(sim.addr(), &c.url_path).await.status, 200);
    let r = request(sim.addr(), "HEAD", &c.url_path, &[]).await;
    assert_eq!(r.status, 0);
    assert_eq!(sim.requests().last().unwrap().outcome, Outcome::Reset);
    assert_eq!(
        request(sim.addr(), "HEAD", &c.url_path, &[]).await.status,
        200
    );
}

#[tokio::test(start_paused = true)]
async fn offline_resets_everything_for_a_while() {
    let sim = sim().await;
    sim.go_offline(Duration::from_secs(10));
    assert!(sim.is_offline());
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 0);
    tokio::time::advance(Duration::from_secs(11)).await;
    assert!(!sim.is_offline());
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);

    // Offline as a fault, triggered by a request.
    sim.inject(Fault::offline(Duration::from_secs(5)).on(Target::Cmd(3015)));
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3015").await.status, 0);
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 0);
    assert!(sim.refused_connections() >= 2);
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn going_offline_cuts_a_download_in_flight() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(2_000_000))
            .bandwidth(1_000_000),
    )
    .await
    .unwrap();
    let c = sim.clips()[0].clone();
    let addr = sim.addr();
    let dl = tokio::spawn(async move { get(addr, &c.url_path).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    sim.go_offline(Duration::from_secs(5));
    let r = dl.await.unwrap();
    assert!(r.body.len() < 2_000_000);
    assert!(r.was_reset());
}

#[tokio::test]
async fn refused_deletes_keep_the_clip() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    sim.inject(Fault::refuse_delete(-5));
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", c.url_path),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "-5");
    assert!(sim.deleted().is_empty());
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", c.url_path),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "0");
}

async fn random_run(seed: u64) -> Vec<(Option<u16>, Outcome)> {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(100_000))
            .seed(seed)
            .random_faults(RandomFaults {
                drop_rate: 0.3,
                error_rate: 0.2,
                ..RandomFaults::default()
            }),
    )
    .await
    .unwrap();
    let c = &sim.clips()[0];
    for _ in 0..30 {
        get(sim.addr(), &c.url_path).await;
    }
    sim.requests()
        .into_iter()
        .map(|r| (r.status, r.outcome))
        .collect()
}

#[tokio::test]
async fn random_faults_are_seeded() {
    let a = random_run(7).await;
    assert_eq!(a, random_run(7).await);
    let count = |s: Option<u16>, o: Outcome| a.iter().filter(|x| **x == (s, o)).count();
    assert!(count(Some(500), Outcome::Complete) > 0, "{a:?}");
    assert!(count(Some(200), Outcome::Dropped) > 0, "{a:?}");
    assert!(count(Some(200), Outcome::Complete) > 0, "{a:?}");
    assert_ne!(a, random_run(8).await);
}
