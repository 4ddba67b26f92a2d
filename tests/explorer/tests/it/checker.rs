//! The checker catches what it must: an archived file whose bytes are
//! replaced, and a clip deleted from the camera whose bytes the archive
//! does not hold (both done by hand here, behind the pipeline's back).

use viofo_explorer::check::check;
use viofo_explorer::world::Ran;
use viofo_explorer::{Invariant, Step, World};

fn record() -> Step {
    Step::Record {
        clips: 2,
        parking: false,
        rear: false,
        size: 60_000,
        gap_hours: 0,
    }
}

async fn run(w: &mut World, step: &Step) -> Vec<Invariant> {
    let ran = w.apply(step).await;
    check(w, step, &ran)
        .await
        .into_iter()
        .map(|v| v.invariant)
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn an_archived_file_replaced_or_a_clip_deleted_unarchived_is_caught() {
    let mut w = World::start().await;
    assert_eq!(run(&mut w, &record()).await, vec![]);
    w.step = 1;
    assert_eq!(
        run(&mut w, &Step::Sync).await,
        vec![],
        "a plain sync holds every invariant"
    );
    let archived = viofo_explorer::world::archive_hashes(w.archive());
    assert_eq!(archived.len(), 2, "both clips archived");

    // Replace an archived file's bytes: caught after the next step.
    let (path, _, _) = archived.first().cloned().expect("one archived");
    std::fs::write(&path, b"other bytes").expect("write");
    w.step = 2;
    let found = run(&mut w, &Step::Deletes(false)).await;
    assert!(found.contains(&Invariant::ArchivedChanged), "{found:?}");

    // A new clip deleted from the camera before it was archived: caught.
    w.step = 3;
    let _ = run(&mut w, &record()).await;
    let newest = w.rig.sim.clips().last().cloned().expect("a clip");
    let client = w.rig.client();
    let listing = client
        .list(viofo_client::ListSource::Xml)
        .await
        .expect("listing");
    let rec = listing
        .recordings
        .iter()
        .find(|r| r.file_name().as_str() == newest.name)
        .expect("listed");
    client.delete(rec).await.expect("deleted");
    w.step = 4;
    let ran = Ran::default();
    let found: Vec<Invariant> = check(&mut w, &Step::Sync, &ran)
        .await
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert!(found.contains(&Invariant::DeletedUnarchived), "{found:?}");
    w.close().await;
}

/// The status surfaces: a download left showing after the operation
/// ended, or counts that are not the store's, are caught.
#[tokio::test(flavor = "current_thread")]
async fn a_status_that_disagrees_with_the_store_is_caught() {
    use viofo_pipeline::EventSink;
    let mut w = World::start().await;
    assert_eq!(run(&mut w, &record()).await, vec![]);
    w.step = 1;
    assert_eq!(run(&mut w, &Step::Sync).await, vec![]);
    // A download the status never saw end.
    w.status.emit(viofo_pipeline::Event::ItemStarted {
        name: "2025_1220_090000_000099F.MP4".into(),
        size: Some(1),
    });
    w.step = 2;
    let found = run(&mut w, &Step::Deletes(false)).await;
    assert_eq!(found, vec![Invariant::Surfaces], "{found:?}");
}

/// `state-full` really fills the state database's disk: the sync that
/// needs room fails as a full disk (exit 4) with nothing deleted and the
/// invariants holding; once the room is back the same store, still open,
/// archives the clips.
#[tokio::test(flavor = "current_thread")]
async fn a_full_state_database_fails_as_a_full_disk_then_recovers() {
    let mut w = World::start().await;
    let big = Step::Record {
        clips: 3,
        parking: false,
        rear: true,
        size: 60_000,
        gap_hours: 0,
    };
    assert_eq!(run(&mut w, &Step::Deletes(true)).await, vec![]);
    assert_eq!(run(&mut w, &big).await, vec![]);
    w.step = 1;
    assert_eq!(run(&mut w, &Step::StateFull(true)).await, vec![]);
    w.step = 2;
    // New clips: reconciling their listing needs new pages.
    for _ in 0..4 {
        let _ = w.apply(&big).await;
    }
    let ran = w.apply(&Step::Sync).await;
    assert!(
        !ran.disk_full.is_empty(),
        "the sync did not meet the full disk: {:?}",
        ran.cycles
    );
    let found: Vec<Invariant> = check(&mut w, &Step::Sync, &ran)
        .await
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert_eq!(found, vec![], "a full state database breaks nothing");
    assert!(w.rig.sim.deleted_clips().is_empty(), "nothing deleted");
    w.step = 3;
    assert_eq!(run(&mut w, &Step::StateFull(false)).await, vec![]);
    w.step = 4;
    let ran = w.apply(&Step::Sync).await;
    assert!(
        matches!(ran.cycles.as_slice(), [Ok(s)] if s.clips == 30),
        "{:?}",
        ran.cycles
    );
    w.close().await;
}

/// MQTT commands reach the watch through viofo-mqtt's one decision: a
/// retained `pause` and an oversized message are not taken (the watch
/// runs its cycles), a new `sync-now` is; and the checker catches a
/// retained command that was taken.
#[tokio::test(flavor = "current_thread")]
async fn retained_or_oversized_commands_are_not_taken() {
    use viofo_explorer::MqttPayload;
    use viofo_status::Action;
    let mut w = World::start().await;
    assert_eq!(run(&mut w, &record()).await, vec![]);
    for (retained, payload) in [
        (true, MqttPayload::Action("pause")),
        (false, MqttPayload::Blob(300_000)),
        (false, MqttPayload::Garbage),
        (false, MqttPayload::Action("sync-now")),
    ] {
        assert_eq!(run(&mut w, &Step::Mqtt { retained, payload }).await, vec![]);
    }
    w.step = 1;
    let watch = Step::Watch { cycles: 2 };
    let ran = w.apply(&watch).await;
    assert_eq!(ran.commands, vec![(false, 8, Action::SyncNow)]);
    assert_eq!(ran.cycles.len(), 2, "{:?}", ran.cycles);
    let found: Vec<Invariant> = check(&mut w, &watch, &ran)
        .await
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert_eq!(found, vec![]);
    // The retained pause comes again at the next connection; not taken.
    w.step = 2;
    let ran = w.apply(&watch).await;
    assert_eq!(ran.commands, vec![]);
    // Taken behind the decision's back: caught.
    let taken = Ran {
        commands: vec![(true, 5, Action::Pause)],
        ..Ran::default()
    };
    let found: Vec<Invariant> = check(&mut w, &watch, &taken)
        .await
        .into_iter()
        .map(|v| v.invariant)
        .collect();
    assert_eq!(found, vec![Invariant::CommandTaken]);
    w.close().await;
}

/// A card formatted with the clock reset between two syncs, deletes off:
/// the new recordings take the archived names with the archived sizes and
/// other bytes. They are archived beside the old ones, not taken for them
/// (else loop recording overwrites them unarchived: `missed`).
#[tokio::test(flavor = "current_thread")]
async fn a_same_size_reuse_with_deletes_off_is_archived() {
    let mut w = World::start().await;
    let steps = [
        Step::Deletes(false),
        record(),
        Step::Sync,
        Step::Format { reset_clock: true },
        record(),
        Step::Sync,
        Step::Sync,
    ];
    for (i, s) in steps.iter().enumerate() {
        w.step = i;
        assert_eq!(run(&mut w, s).await, vec![], "step {i}: {s}");
    }
    assert_eq!(
        viofo_explorer::world::archive_hashes(w.archive()).len(),
        4,
        "both recordings of each name archived"
    );
    w.close().await;
}

/// The household's second camera syncs into its own folder on the same
/// state database: its clips are archived there and recorded under its
/// id, the camera's counts stay the camera's, and the checker catches a
/// file of the camera's in the second camera's folder.
#[tokio::test(flavor = "current_thread")]
async fn a_second_camera_on_the_same_state_database_keeps_to_its_own() {
    use viofo_explorer::world::SECOND_CAMERA;
    let mut w = World::start().await;
    assert_eq!(run(&mut w, &record()).await, vec![]);
    w.step = 1;
    assert_eq!(run(&mut w, &Step::Sync).await, vec![]);
    w.step = 2;
    assert_eq!(run(&mut w, &Step::SecondCamera).await, vec![]);
    let theirs = viofo_explorer::world::archive_hashes(&w.second_archive());
    assert_eq!(theirs.len(), 4, "the other camera's four clips");
    let counts = w.rig.store.counts(Some(SECOND_CAMERA)).await.unwrap();
    assert_eq!(counts.done + counts.downloaded, 4);
    let ours = w
        .rig
        .store
        .counts(Some(viofo_testkit::CAMERA))
        .await
        .unwrap();
    assert_eq!(ours.done + ours.downloaded, 2);
    // One of the camera's clips copied into the second camera's folder.
    let (path, _, _) = viofo_explorer::world::archive_hashes(w.archive())
        .first()
        .cloned()
        .expect("archived");
    std::fs::copy(&path, w.second_archive().join("copied.MP4")).expect("copy");
    w.step = 3;
    let found = run(&mut w, &Step::Deletes(false)).await;
    assert_eq!(found, vec![Invariant::Foreign], "{found:?}");
    w.close().await;
}
