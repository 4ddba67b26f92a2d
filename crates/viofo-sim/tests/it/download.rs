use std::io::{Read, Seek, SeekFrom};

use crate::{get, request};
use viofo_sim::{ClipSpec, Sim, SimConfig};

async fn sim() -> Sim {
    Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(300_000)))
        .await
        .unwrap()
}

#[tokio::test]
async fn get_is_byte_exact_with_clip_bytes() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    let r = get(sim.addr(), &c.url_path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(r.header("content-length").unwrap(), c.size.to_string());
    let bytes = sim.clip_bytes(&c.name).unwrap();
    assert_eq!(bytes.len() as u64, c.size);
    assert!(r.body == bytes);
    assert_eq!(sim.downloaded(), vec![c.name.clone()]);
    // Two clips differ.
    assert!(sim.clip_bytes(&sim.clips()[1].name).unwrap() != bytes);
}

#[tokio::test]
async fn range_resumes_byte_exact() {
    let sim = sim().await;
    let c = &sim.clips()[1];
    let all = sim.clip_bytes(&c.name).unwrap();
    for start in [0u64, 1, 65_543, c.size - 1] {
        let r = request(
            sim.addr(),
            "GET",
            &c.url_path,
            &[("Range", &format!("bytes={start}-"))],
        )
        .await;
        assert_eq!(r.status, 206);
        assert_eq!(
            r.header("content-range").unwrap(),
            format!("bytes {start}-{}/{}", c.size - 1, c.size)
        );
        assert_eq!(
            r.header("content-length").unwrap(),
            (c.size - start).to_string()
        );
        assert!(r.body == all[start as usize..]);
    }
    let r = request(sim.addr(), "GET", &c.url_path, &[("Range", "bytes=10-19")]).await;
    assert!(r.body == all[10..20]);
    let r = request(
        sim.addr(),
        "GET",
        &c.url_path,
        &[("Range", &format!("bytes={}-", c.size))],
    )
    .await;
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range").unwrap(),
        format!("bytes */{}", c.size)
    );
    let log = sim.requests();
    assert_eq!(log[1].range_start, 1);
}

#[tokio::test]
async fn range_can_be_ignored() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(50_000))
            .ignore_range(true),
    )
    .await
    .unwrap();
    let c = &sim.clips()[0];
    let r = request(sim.addr(), "GET", &c.url_path, &[("Range", "bytes=100-")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), None);
    assert!(r.body == sim.clip_bytes(&c.name).unwrap());
}

#[tokio::test]
async fn head_has_length_and_no_body() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    let r = request(sim.addr(), "HEAD", &c.url_path, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length").unwrap(), c.size.to_string());
    assert!(r.body.is_empty());
    assert!(sim.downloaded().is_empty());
    sim.set_head_supported(false);
    let r = request(sim.addr(), "HEAD", &c.url_path, &[]).await;
    assert_eq!(r.status, 0);
    assert!(r.body.is_empty() && r.head.is_empty());
}

#[tokio::test]
async fn big_synthetic_clips_cost_no_memory_and_read_anywhere() {
    let sim =
        Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(2_000_000_000)))
            .await
            .unwrap();
    let c = &sim.clips()[2];
    let start = c.size - 100_000;
    let r = request(
        sim.addr(),
        "GET",
        &c.url_path,
        &[("Range", &format!("bytes={start}-"))],
    )
    .await;
    assert_eq!(r.body.len(), 100_000);
    let mut reader = sim.clip_reader(&c.name).unwrap();
    assert_eq!(reader.len(), 2_000_000_000);
    reader.seek(SeekFrom::Start(start)).unwrap();
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert!(tail == r.body);
}
