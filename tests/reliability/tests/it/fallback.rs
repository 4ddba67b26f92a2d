//! Issue 18 item 4, end to end with the real binary: a camera configured
//! with a fallback address, deletes on. Its card is synced and emptied but
//! for its anchor (the newest archived clip, left as the evidence a
//! fallback address needs); then its address stops answering and another
//! camera of the same model, not in the configuration, answers at the
//! fallback under the same names. That device is refused (exit 2): not a
//! byte of it archived, not one of its clips deleted. Back at its primary
//! the camera syncs on, the anchor moving to its newest clip; nothing of
//! either camera is lost.

use std::process::Stdio;
use std::time::Duration;

use viofo_sim::{ClipDef, ClipSpec, Folder, Sim, SimConfig};
use viofo_testkit::{Rig, note, walk};
use viofosync_reliability::viofosync_binary;

const BOUND: Duration = Duration::from_secs(120);

async fn sync(
    bin: &std::path::Path,
    home: &std::path::Path,
    rig: &Rig,
    fallback: &str,
) -> (Option<i32>, String) {
    let out = tokio::time::timeout(
        BOUND,
        viofosync_reliability::sync_command(
            bin,
            home,
            &rig.sim.base_url(),
            &rig.archive,
            &home.join("state.db"),
            &["--fallback-addresses", fallback, "--delete-settle", "200ms"],
        )
        .stderr(Stdio::piped())
        .output(),
    )
    .await
    .expect("the sync ends")
    .expect("run the sync");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn clips(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir)
        .iter()
        .filter_map(|f| f.path.file_name()?.to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".MP4"))
        .collect();
    v.sort();
    v
}

pub(crate) async fn another_camera_at_the_fallback() {
    let bin = viofosync_binary().unwrap_or_else(|e| panic!("the viofosync binary: {e}"));
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(100_000))).await;
    let names = rig.names();
    let other = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(70_000)))
        .await
        .unwrap();
    let theirs = other.clips();
    let home = tempfile::tempdir().unwrap();

    let (code, err) = sync(&bin, home.path(), &rig, &other.base_url()).await;
    assert_eq!(code, Some(0), "{err}");
    let left: Vec<String> = rig.sim.clips().into_iter().map(|c| c.name).collect();
    assert_eq!(left, vec![names[2].clone()], "all deleted but the anchor");
    let archived = clips(&rig.archive);
    assert_eq!(archived.len(), 3, "{archived:?}");

    rig.sim.go_offline(Duration::from_secs(3600));
    let (code, err) = sync(&bin, home.path(), &rig, &other.base_url()).await;
    assert_eq!(code, Some(2), "the other camera is refused: {err}");
    assert!(err.contains("may be another camera"), "{err}");
    assert!(
        other.deleted().is_empty(),
        "nothing deleted from the other camera"
    );
    assert_eq!(other.clips(), theirs);
    assert_eq!(clips(&rig.archive), archived, "nothing of it archived");

    rig.sim.go_online();
    let new = "2025_1224_130000_000099F.MP4";
    rig.sim
        .add_clip(ClipDef::synthetic(new, Folder::Movie, 100_000))
        .unwrap();
    let (code, err) = sync(&bin, home.path(), &rig, &other.base_url()).await;
    assert_eq!(code, Some(0), "{err}");
    let left: Vec<String> = rig.sim.clips().into_iter().map(|c| c.name).collect();
    assert_eq!(left, vec![new.to_owned()], "the anchor moved to the newest");
    assert!(rig.sim.deleted().contains(&names[2]));
    assert_eq!(clips(&rig.archive).len(), 4);
    for d in rig.sim.deleted() {
        assert!(rig.archive.join(&d).exists(), "{d} deleted unarchived");
    }
    note(
        "another_camera_at_the_fallback: refused at the fallback, nothing of it archived or deleted",
    );
}
