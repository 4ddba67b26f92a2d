//! `queue` and `status` tell each clip's real state: a clip retention
//! removed is pruned, not archived; a pending clip that was deferred says
//! how often and why.

use viofo_store::{Channel, FailOutcome, ListedClip, Store, StoreOptions};

use crate::{Camera, Env};

#[test]
fn pruned_clips_show_as_pruned_not_archived() {
    let cam = Camera::with_clips(2, 30_000);
    let env = Env::new();
    env.sync_ok(&cam, &["sync"]);
    let out = env.sync_ok(&cam, &["queue"]);
    assert_eq!(out.matches("done: ").count(), 2, "{out}");

    // The clips were recorded in 2025: a keep of one day removes both.
    let out = env.sync_ok(&cam, &["sync", "--keep", "1d"]);
    assert!(out.contains("2 pruned"), "{out}");

    let out = env.sync_ok(&cam, &["queue"]);
    for clip in cam.sim().clips() {
        let line = out
            .lines()
            .find(|l| l.contains(&clip.name))
            .unwrap_or_else(|| panic!("{} not listed: {out}", clip.name));
        assert!(
            line.contains("pruned: removed from the archive by retention"),
            "{line}"
        );
        assert!(!env.archive().join(&clip.name).exists());
    }
    assert!(!out.contains("done: "), "shown as archived: {out}");

    let out = env.sync_ok(&cam, &["queue", "--state", "pruned"]);
    assert!(out.contains("2 clips"), "{out}");

    let out = env.sync_ok(&cam, &["status"]);
    assert!(
        out.contains("0 done") && out.contains("2 pruned"),
        "status counts pruned apart from archived: {out}"
    );
}

#[test]
fn a_deferred_pending_clip_says_how_often_and_why() {
    let env = Env::new();
    let db = env.default_db();
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(StoreOptions {
            path: Some(db.clone()),
            max_attempts: 1,
            ..StoreOptions::default()
        })
        .await
        .unwrap();
        let clip = ListedClip {
            name: "2025_1224_120000_000001F.MP4".into(),
            remote_path: "/DCIM/Movie/2025_1224_120000_000001F.MP4".into(),
            size: 1_000,
            size_exact: true,
            locked: false,
            parking: false,
            channel: Channel::Front,
            recorded_at: None,
        };
        store.reconcile("cam", &[clip], |_| None).await.unwrap();
        let row = store.list(Some("cam"), &[], 10).await.unwrap().remove(0);
        for deferral in 1..=2 {
            store.start_download(row.id, None).await.unwrap();
            let outcome = store
                .fail_with_outcome(row.id, "connection reset by the camera", true)
                .await
                .unwrap();
            assert_eq!(
                outcome,
                FailOutcome::Deferred {
                    deferrals: deferral
                }
            );
        }
        store.close().await.unwrap();
    });
    let out = env.run_ok(&["queue", "--state", "pending"]);
    assert!(
        out.contains("pending (deferred 2x: connection reset by the camera)"),
        "{out}"
    );
}

/// Clips the `channels` filter leaves out are skipped with a reason:
/// `queue --state skipped` lists them, `status` counts them apart from the
/// pending ones (issue 18 item 9).
#[test]
fn clips_left_out_by_channels_are_listed_as_skipped() {
    let cam = Camera::start(
        viofo_sim::SimConfig::default()
            .with_clips(viofo_sim::ClipSpec::synthetic(2).size(20_000).rear(true)),
    );
    let env = Env::new();
    env.sync_ok(&cam, &["sync", "--channels", "front"]);
    let out = env.sync_ok(&cam, &["queue", "--state", "skipped"]);
    assert!(out.contains("2 clips"), "{out}");
    let rear: Vec<&str> = out.lines().filter(|l| l.contains("R.MP4")).collect();
    assert_eq!(rear.len(), 2, "{out}");
    assert!(
        rear.iter()
            .all(|l| l.contains("skipped: channel filter (channels = F)")),
        "{out}"
    );
    assert!(!out.contains("F.MP4"), "{out}");
    let out = env.sync_ok(&cam, &["status"]);
    assert!(
        out.contains("0 pending") && out.contains("2 done") && out.contains("2 skipped"),
        "{out}"
    );
}
