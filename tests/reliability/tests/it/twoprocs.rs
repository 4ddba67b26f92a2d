//! Issue 18 item 3, end to end with the real binary: a second `viofosync
//! sync` with its own state database on an archive another one is writing
//! into (a camera that ignores Range, so a restart from byte 0 would
//! truncate the first one's `.part`) is refused with the holder's pid
//! before it asks the camera anything; the first finishes, every clip
//! archived byte for byte and deleted from the camera only then.

use std::process::Stdio;
use std::time::Duration;

use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::{Catalog, Rig, note, walk};
use viofosync_reliability::viofosync_binary;

const BOUND: Duration = Duration::from_secs(120);

fn sync(
    bin: &std::path::Path,
    home: &std::path::Path,
    url: &str,
    archive: &std::path::Path,
    db: &std::path::Path,
) -> tokio::process::Command {
    viofosync_reliability::sync_command(bin, home, url, archive, db, &[])
}

pub(crate) async fn two_processes_one_archive() {
    let bin = viofosync_binary().unwrap_or_else(|e| panic!("the viofosync binary: {e}"));
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(600_000))
            .bandwidth(1_000_000)
            .ignore_range(true),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    let home = tempfile::tempdir().unwrap();
    let url = rig.sim.base_url();
    let first_db = home.path().join("first.db");
    let mut first = sync(&bin, home.path(), &url, &rig.archive, &first_db)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the first sync");
    // Wait until the first one writes a .part (bounded).
    let deadline = tokio::time::Instant::now() + BOUND;
    while !walk(&rig.archive)
        .iter()
        .any(|f| f.path.to_string_lossy().ends_with(".part"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no download started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = tokio::time::timeout(
        BOUND,
        sync(
            &bin,
            home.path(),
            &url,
            &rig.archive,
            &home.path().join("second.db"),
        )
        .stderr(Stdio::piped())
        .output(),
    )
    .await
    .expect("the second sync ends")
    .expect("run the second sync");
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    let pid = first.id().expect("the first is running");
    assert!(
        err.contains("in use by another viofosync process") && err.contains(&format!("pid {pid}")),
        "{err}"
    );
    let status = tokio::time::timeout(BOUND, first.wait())
        .await
        .expect("the first sync ends")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let store = viofo_store::Store::open_read_only(viofo_store::StoreOptions::at(&first_db))
        .await
        .unwrap();
    let report = viofo_testkit::check_no_loss(
        &catalog,
        &rig.sim,
        &rig.archive,
        &store,
        viofo_testkit::StoreCheck::Settled,
    )
    .await;
    report.assert_ok();
    note("two_processes_one_archive: the second was refused with the first's pid; nothing lost");
}
