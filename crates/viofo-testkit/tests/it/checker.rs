//! The no-data-loss checker finds what it promises to find: a clip gone
//! from the camera that the archive does not hold, and a file under a final
//! name with other bytes.

use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::{Catalog, Rig, find};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_clip_and_foreign_bytes_are_reported() {
    let rig = Rig::builder(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(50_000)))
        .test_sized_waits()
        .start()
        .await;
    let catalog = Catalog::of(&rig.sim);
    let names = rig.names();
    let [kept, lost] = names.as_slice() else {
        panic!("two clips: {names:?}");
    };
    rig.cycle(rig.config()).await.unwrap();
    rig.check(&catalog).await.assert_ok();

    // The archive loses one copy and the camera overwrites that clip.
    std::fs::remove_file(find(&rig.archive, lost).expect("archived")).unwrap();
    assert!(rig.sim.remove_clip(lost));
    let report = rig.check(&catalog).await;
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.starts_with(lost.as_str()) && v.contains("LOST")),
        "{report:#?}"
    );
    assert!(report.archived.contains(kept.as_str()), "{report:#?}");

    // A file under a final name with other bytes.
    let path = find(&rig.archive, kept).expect("archived");
    std::fs::write(&path, b"not the camera's bytes").unwrap();
    let report = rig.check(&catalog).await;
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.contains(kept.as_str()) && v.contains("not the camera's bytes")),
        "{report:#?}"
    );
}
