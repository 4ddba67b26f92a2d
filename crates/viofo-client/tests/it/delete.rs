//! Deletes: both path forms, refusals, empty bodies.

use std::time::Duration;

use viofo_client::DeleteAnswer;
use viofo_sim::{ClipSpec, DeleteForms, Fault, Sim, SimConfig};

use crate::{client, list, sim_with};

fn delete_targets(sim: &Sim) -> Vec<String> {
    sim.requests()
        .into_iter()
        .filter(|r| r.cmd == Some(4003))
        .map(|r| r.target)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn delete_with_the_listed_path() {
    let sim = sim_with(2, 1000).await;
    let c = client(&sim);
    let recs = list(&c).await;
    let outcome = c.delete(&recs[0]).await.unwrap();
    assert_eq!(outcome, DeleteAnswer::Confirmed);
    assert!(outcome.is_confirmed() && !outcome.is_ambiguous() && !outcome.is_refused());
    assert_eq!(outcome.to_string(), "confirmed");
    assert_eq!(sim.deleted(), [recs[0].file_name().as_str()]);
    let targets = delete_targets(&sim);
    assert_eq!(targets.len(), 1);
    assert!(
        targets[0].contains("str=A:%5CDCIM%5CMovie%5C"),
        "{targets:?}"
    );
    assert_eq!(list(&c).await.len(), 1);
    assert!(sim.unsafe_commands().is_empty());
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn refused_listed_form_then_slash_form() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(1000))
            .delete_delay(Duration::from_secs(2))
            .delete_forms(DeleteForms {
                drive_backslash: false,
                slash: true,
            }),
    )
    .await
    .unwrap();
    let c = client(&sim);
    let rec = &list(&c).await[0];
    assert_eq!(c.delete(rec).await.unwrap(), DeleteAnswer::Confirmed);
    let targets = delete_targets(&sim);
    assert_eq!(targets.len(), 2, "{targets:?}");
    assert!(
        targets[1].contains(&format!("str={}", rec.remote_path())),
        "{targets:?}"
    );
    assert_eq!(sim.deleted(), [rec.file_name().as_str()]);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn refused_both_ways() {
    let sim = sim_with(1, 1000).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    sim.inject(Fault::refuse_delete(-5).times(2));
    let outcome = c.delete(rec).await.unwrap();
    assert_eq!(outcome, DeleteAnswer::Refused { status: -5 });
    assert!(outcome.is_refused() && !outcome.is_confirmed() && !outcome.is_ambiguous());
    assert_eq!(outcome.to_string(), "refused: status -5");
    assert!(sim.deleted().is_empty());
    assert_eq!(delete_targets(&sim).len(), 2);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn locked_clip_is_refused_by_the_camera() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(2).size(1000).locked_every(1))
            .delete_delay(Duration::from_millis(5)),
    )
    .await
    .unwrap();
    let c = client(&sim);
    let rec = &list(&c).await[0];
    assert!(rec.is_locked());
    assert!(matches!(
        c.delete(rec).await.unwrap(),
        DeleteAnswer::Refused { .. }
    ));
    assert!(sim.deleted().is_empty());
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn empty_body_is_ambiguous_not_confirmed() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(1).size(1000))
            .delete_empty_body(true)
            .delete_delay(Duration::from_millis(5)),
    )
    .await
    .unwrap();
    let c = client(&sim);
    let rec = &list(&c).await[0];
    let outcome = c.delete(rec).await.unwrap();
    assert_eq!(outcome, DeleteAnswer::EmptyBody);
    assert!(outcome.is_ambiguous(), "{outcome}");
    assert!(!outcome.is_confirmed(), "an empty answer confirms nothing");
    assert!(!outcome.is_refused());
    assert!(outcome.to_string().starts_with("unconfirmed"), "{outcome}");
    assert_eq!(sim.deleted().len(), 1);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn html_listed_clip_deletes_with_slash_form_first() {
    let sim = sim_with(1, 1000).await;
    let c = client(&sim);
    let rec = &c
        .list(viofo_client::ListSource::Html)
        .await
        .unwrap()
        .recordings[0];
    assert_eq!(c.delete(rec).await.unwrap(), DeleteAnswer::Confirmed);
    let targets = delete_targets(&sim);
    assert!(targets[0].contains("str=/DCIM/Movie/"), "{targets:?}");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn delete_errors() {
    let sim = sim_with(1, 1000).await;
    let c = client(&sim);
    let rec = &list(&c).await[0];
    sim.inject(Fault::status(500).on(viofo_sim::Target::Delete));
    let e = c.delete(rec).await.unwrap_err();
    assert!(e.is_retryable() && e.status() == Some(500), "{e}");
    assert!(sim.deleted().is_empty());
    sim.shutdown().await;
}
