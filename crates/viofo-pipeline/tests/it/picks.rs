//! What is downloaded, skipped and planned (issue 18): clips left out by
//! the filters get a skip reason instead of staying pending for ever.

use viofo_pipeline::Shutdown;
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::{Channel, ClipState};

use crate::harness::start_rig;

/// Clips the `channels` filter leaves out are skipped with a reason, not
/// pending for ever ("clips pending" reaches 0), and come back when the
/// filter no longer leaves them out (issue 18 item 9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clips_left_out_by_the_channel_filter_are_skipped_not_pending() {
    let rig =
        start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(30_000).rear(true)))
            .await;
    let clips = rig.sim.clips();
    let rear: Vec<String> = clips
        .iter()
        .filter(|c| c.name.ends_with("R.MP4"))
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(rear.len(), 3);
    let mut cfg = rig.config();
    cfg.channels = vec![Channel::Front];
    rig.syncer(cfg.clone())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    rig.store.flush().await.unwrap();
    for name in &rear {
        let row = rig.row(name).await;
        assert_eq!(row.state, ClipState::Pending, "{name}");
        assert_eq!(
            row.skip_reason.as_deref(),
            Some("channel filter (channels = F)"),
            "{name}"
        );
        assert!(!rig.in_archive(name));
    }
    let counts = rig.store.counts(None).await.unwrap();
    assert_eq!(
        (counts.pending, counts.skipped, counts.done),
        (0, 3, 3),
        "{counts:?}"
    );

    // Every channel again: the rear clips come back and are downloaded.
    rig.syncer(rig.config())
        .run_cycle(&Shutdown::new())
        .await
        .unwrap();
    rig.store.flush().await.unwrap();
    for name in &rear {
        let row = rig.row(name).await;
        assert_eq!(
            (row.state, row.skip_reason),
            (ClipState::Done, None),
            "{name}"
        );
    }
}
