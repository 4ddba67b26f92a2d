use std::time::Duration;

use crate::{get, xml_value};
use viofo_sim::{ClipSpec, Sim, SimConfig};

fn listed_size(doc: &str, name: &str) -> u64 {
    let entry = doc
        .split("<File>")
        .find(|e| e.contains(&format!("<NAME>{name}</NAME>")))
        .unwrap();
    xml_value(entry, "SIZE").unwrap().parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_newest_clip_grows_while_recording() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(2).size(100_000))
            .recording(true)
            .recording_rate(200_000),
    )
    .await
    .unwrap();
    let clips = sim.clips();
    assert_eq!(clips.len(), 3);
    let newest = clips.last().unwrap().clone();
    assert!(newest.growing);
    assert!(newest.start > clips[1].start);
    let doc = get(sim.addr(), "/?custom=1&cmd=3015").await.text();
    let s0 = listed_size(&doc, &newest.name);

    tokio::time::advance(Duration::from_secs(10)).await;
    let doc = get(sim.addr(), "/?custom=1&cmd=3015").await.text();
    let s1 = listed_size(&doc, &newest.name);
    assert!(s1 >= s0 + 1_900_000, "{s0} -> {s1}");
    // The download serves the size listed now.
    let r = get(sim.addr(), &newest.url_path).await;
    assert_eq!(r.body.len() as u64, sim.clip(&newest.name).unwrap().size);
    // GPS blocks appear as it grows.
    assert!(!sim.gps_points(&newest.name).unwrap().is_empty());

    // After a full clip length a new one starts and the old one is finished.
    tokio::time::advance(Duration::from_secs(55)).await;
    let clips = sim.clips();
    assert_eq!(clips.len(), 4);
    let finished = sim.clip(&newest.name).unwrap();
    assert!(!finished.growing);
    assert_eq!(finished.end - finished.start, time::Duration::seconds(60));
    let next = clips.last().unwrap();
    assert!(next.growing);
    assert_eq!(next.start, finished.end);

    // Stopping finishes the current clip where it is.
    sim.set_recording(false);
    let stopped = sim.clip(&next.name).unwrap();
    assert!(!stopped.growing);
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(sim.clip(&next.name).unwrap().size, stopped.size);
    let doc = get(sim.addr(), "/?custom=1&cmd=3014").await.text();
    let i = doc.find("<Cmd>2001</Cmd>").unwrap();
    assert_eq!(xml_value(&doc[i..], "Status").unwrap(), "0");
}

#[tokio::test(start_paused = true)]
async fn a_growing_clip_cannot_be_deleted() {
    let sim = Sim::start(
        SimConfig::default()
            .recording(true)
            .delete_delay(Duration::ZERO),
    )
    .await
    .unwrap();
    let c = sim.clips().pop().unwrap();
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", c.url_path),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "-1");
    assert!(sim.deleted().is_empty());
}
