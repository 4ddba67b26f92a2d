//! Issue 10 item 5, a burst of connection resets (a parked car's Wi-Fi) on
//! every download: a run that runs out of attempts leaves the clips to a
//! later run (deferred, never failed for ever) and says so in its summary;
//! the next run against a healthy camera archives them intact.

use std::time::Duration;

use viofo_sim::{ClipSpec, Fault, Outcome, SimConfig};
use viofo_store::{ClipState, CycleOutcome};
use viofo_testkit::{CAMERA, Catalog, Rig, note};

const CLIPS: usize = 3;
const BURST: u64 = 20;

pub(crate) async fn reset_burst() {
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(CLIPS).size(100_000))).await;
    let catalog = Catalog::of(&rig.sim);
    let mut cfg = rig.config();
    // In-run back-off of a few ms: the burst is counted in requests, not
    // time, so the schedule is what is exercised, not the clock.
    cfg.retry_base = Duration::from_millis(5);
    rig.sim.inject(Fault::reset_burst(BURST));

    let first = rig
        .cycle(cfg.clone())
        .await
        .expect("a reset burst on downloads does not stop the cycle (the camera answers)");
    let resets = rig
        .sim
        .requests()
        .iter()
        .filter(|r| r.outcome == Outcome::Reset)
        .count();
    let report = rig.check(&catalog).await;
    report.assert_ok();
    let mut left = Vec::new();
    for n in catalog.names() {
        let row = rig
            .store
            .get_by_name(CAMERA, &n)
            .await
            .unwrap()
            .expect("row");
        assert_ne!(
            row.state,
            ClipState::Failed,
            "{n}: failed for ever by a burst of transient resets ({row:?})"
        );
        if !report.archived.contains(&n) {
            assert_eq!(row.state, ClipState::Pending, "{n}: {row:?}");
            assert!(row.deferrals >= 1, "{n}: not counted as deferred: {row:?}");
            left.push(n);
        }
    }
    assert!(
        !left.is_empty(),
        "the burst of {BURST} resets exhausted no clip's attempts ({resets} resets served): the scenario no longer reproduces item 5"
    );
    assert_eq!(first.failed, 0, "nothing failed for good: {first:?}");
    assert_eq!(
        first.deferred,
        left.len() as u64,
        "deferred counts clips, not attempts: {first:?}"
    );
    assert_eq!(
        first.outcome,
        CycleOutcome::CompletedWithFailures,
        "a run that left clips deferred is not ok: {first:?}"
    );

    // The camera is healthy again: the next run takes them all.
    rig.sim.clear_faults();
    let second = rig.cycle(cfg).await.expect("the next run completes");
    assert_eq!(second.clips, left.len() as u64, "{second:?}");
    assert_eq!((second.failed, second.deferred), (0, 0), "{second:?}");
    assert_eq!(second.outcome, CycleOutcome::Completed, "{second:?}");
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), CLIPS, "{report:?}");
    for n in &left {
        let row = rig
            .store
            .get_by_name(CAMERA, n)
            .await
            .unwrap()
            .expect("row");
        assert_eq!(row.state, ClipState::Done, "{n}: {row:?}");
        assert!(row.deferrals >= 1, "{n}: deferral history kept: {row:?}");
    }
    note(&format!(
        "reset_burst: {resets} resets; first run deferred {} clip(s) ({:?}), the next archived them",
        left.len(),
        first.outcome
    ));
}
