use std::time::Duration;

use crate::{get, xml_value};
use tokio::time::Instant;
use viofo_sim::{ClipSpec, DeleteForms, Sim, SimConfig};

fn enc(s: &str) -> String {
    s.replace('\\', "%5C")
}

async fn sim() -> Sim {
    Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(4).size(60_000).locked_every(4))
            .delete_delay(Duration::ZERO),
    )
    .await
    .unwrap()
}

async fn delete(sim: &Sim, arg: &str) -> String {
    get(sim.addr(), &format!("/?custom=1&cmd=4003&str={arg}"))
        .await
        .text()
}

#[tokio::test]
async fn deletes_by_listed_fpath_and_by_slash_path() {
    let sim = sim().await;
    let clips = sim.clips();
    let doc = delete(&sim, &enc(&clips[0].fpath)).await;
    assert_eq!(xml_value(&doc, "Cmd").unwrap(), "4003");
    assert_eq!(xml_value(&doc, "Status").unwrap(), "0");
    // raw backslashes work as well
    assert_eq!(
        xml_value(&delete(&sim, &clips[1].fpath).await, "Status").unwrap(),
        "0"
    );
    assert_eq!(
        xml_value(&delete(&sim, &clips[2].url_path).await, "Status").unwrap(),
        "0"
    );
    assert_eq!(
        sim.deleted(),
        vec![
            clips[0].name.clone(),
            clips[1].name.clone(),
            clips[2].name.clone()
        ]
    );
    assert_eq!(sim.clips().len(), 1);
    assert_eq!(get(sim.addr(), &clips[0].url_path).await.status, 404);
    // gone twice: refused
    assert_ne!(
        xml_value(&delete(&sim, &clips[0].url_path).await, "Status").unwrap(),
        "0"
    );
}

#[tokio::test]
async fn firmware_may_accept_only_one_form() {
    let sim = sim().await;
    sim.set_delete_forms(DeleteForms {
        drive_backslash: false,
        slash: true,
    });
    let c = &sim.clips()[0];
    assert_eq!(
        xml_value(&delete(&sim, &enc(&c.fpath)).await, "Status").unwrap(),
        "-1"
    );
    assert!(sim.deleted().is_empty());
    assert_eq!(
        xml_value(&delete(&sim, &c.url_path).await, "Status").unwrap(),
        "0"
    );
    sim.set_delete_forms(DeleteForms {
        drive_backslash: true,
        slash: false,
    });
    let c = &sim.clips()[0];
    assert_eq!(
        xml_value(&delete(&sim, &c.url_path).await, "Status").unwrap(),
        "-1"
    );
    assert_eq!(
        xml_value(&delete(&sim, &enc(&c.fpath)).await, "Status").unwrap(),
        "0"
    );
    assert_eq!(sim.deleted().len(), 2);
}

#[tokio::test]
async fn locked_clips_are_refused_and_empty_body_success_is_possible() {
    let sim = sim().await;
    let locked = sim.clips().into_iter().find(|c| c.locked).unwrap();
    assert_eq!(
        xml_value(&delete(&sim, &enc(&locked.fpath)).await, "Status").unwrap(),
        "-1"
    );
    sim.set_delete_empty_body(true);
    let c = sim.clips().into_iter().find(|c| !c.locked).unwrap();
    let r = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", c.url_path),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(sim.deleted(), vec![c.name]);
}

#[tokio::test]
async fn del_link_deletes_too() {
    let sim = sim().await;
    let c = &sim.clips()[0];
    let r = get(sim.addr(), &format!("{}?del=1", c.url_path)).await;
    assert_eq!(r.status, 200);
    assert_eq!(sim.deleted(), vec![c.name.clone()]);
}

#[tokio::test(start_paused = true)]
async fn deletes_are_slow() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(10_000)))
        .await
        .unwrap();
    let c = &sim.clips()[0];
    let t = Instant::now();
    assert_eq!(
        xml_value(&delete(&sim, &c.url_path).await, "Status").unwrap(),
        "0"
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "{took:?}"
    );
}
