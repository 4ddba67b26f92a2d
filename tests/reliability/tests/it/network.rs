//! Scenario 2, network faults: each run completes or stops with a clear
//! error, a later run finishes the job, retries are bounded, nothing is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use viofo_client::ListSource;
use viofo_pipeline::{DeleteOutcome, Event, SyncConfig};
use viofo_sim::{ClipSpec, Fault, RandomFaults, SimConfig, Target};
use viofo_store::ClipState;
use viofo_testkit::{
    CAMERA, Catalog, Hook, Rig, StoreCheck, check_no_loss, run_until_complete, test_client_config,
};

const CLIPS: usize = 4;
const SIZE: u64 = 300_000;

async fn rig() -> (Rig, Catalog, SyncConfig) {
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(CLIPS).size(SIZE))
            .seed(7),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    (rig, catalog, cfg)
}

/// Everything archived, verified and then deleted from the camera.
async fn assert_finished(rig: &Rig, catalog: &Catalog, what: &str) {
    let report = rig.check(catalog).await;
    report.assert_ok();
    assert_eq!(
        report.archived.len(),
        catalog.clips.len(),
        "{what}: not every clip archived: {report:?}"
    );
}

/// [`assert_finished`] for an HTML listing: its sizes are rounded, so the
/// newest clip's size is never seen settled and it stays on the camera, its
/// tail unfinished (`downloaded`, no stored outcome) until a newer clip
/// exists; everything else is archived, `done` and deleted.
async fn assert_finished_html(rig: &Rig, catalog: &Catalog) {
    let newest = catalog.names().pop().expect("clips");
    let report = check_no_loss(
        catalog,
        &rig.sim,
        &rig.archive,
        &rig.store,
        StoreCheck::Interrupted,
    )
    .await;
    report.assert_ok();
    assert_eq!(
        report.archived.len(),
        catalog.clips.len(),
        "html: {report:?}"
    );
    for n in catalog.names() {
        let row = rig
            .store
            .get_by_name(CAMERA, &n)
            .await
            .unwrap()
            .expect("row");
        if n == newest {
            assert!(rig.sim.clip(&n).is_some(), "html: {n} deleted");
            assert_eq!(row.state, ClipState::Downloaded, "html: {n}: {row:?}");
            assert!(!row.delete_decided(), "html: {n}: {row:?}");
            assert!(
                row.delete_outcome
                    .as_deref()
                    .is_some_and(|o| o.starts_with("waiting: ")),
                "html: {n}: the passing reason is stored: {row:?}"
            );
        } else {
            assert_eq!(row.state, ClipState::Done, "html: {n}: {row:?}");
        }
    }
}

/// Download GETs served, at most one per clip plus one per injected fault.
fn assert_bounded(rig: &Rig, faults: usize, what: &str) {
    let per_clip = rig.download_requests();
    let total: usize = per_clip.values().sum();
    // Each delete first reads the clip's last 64 KiB, to compare.
    let deletes = rig.sim.deleted().len();
    assert!(
        total <= CLIPS + faults + deletes,
        "{what}: {total} download requests for {CLIPS} clips, {faults} faults and {deletes} \
         deletes: {per_clip:?}"
    );
}

fn assert_clear(err: &str, what: &str) {
    assert!(
        err.len() > 12 && !err.contains("panicked"),
        "{what}: unclear error {err:?}"
    );
}

async fn dropped_mid_body() {
    let (rig, catalog, cfg) = rig().await;
    rig.sim
        .inject(Fault::drop_after(100_000).on(Target::Download).times(3));
    let errors = run_until_complete(&rig, &cfg, 4).await;
    errors.iter().for_each(|e| assert_clear(e, "drop"));
    assert_finished(&rig, &catalog, "drop").await;
    assert_bounded(&rig, 3, "drop");
    assert!(
        rig.sim
            .requests()
            .iter()
            // (A resume asks again for the .part's last 64 KiB, to check
            // them: it starts there, not at byte 0.)
            .any(|r| r.method == "GET" && r.range_start >= 100_000 - 64 * 1024),
        "a dropped body is resumed from its .part"
    );
}

async fn stalled_longer_than_the_timeout() {
    let (rig, catalog, cfg) = rig().await;
    let mut cc = test_client_config(&rig.sim.base_url());
    cc.idle_timeout = Duration::from_millis(400);
    rig.set_client_config(cc);
    rig.sim.inject(
        Fault::stall(50_000, Duration::from_secs(3))
            .on(Target::Download)
            .times(2),
    );
    let started = std::time::Instant::now();
    let errors = run_until_complete(&rig, &cfg, 4).await;
    errors.iter().for_each(|e| assert_clear(e, "stall"));
    assert_finished(&rig, &catalog, "stall").await;
    assert_bounded(&rig, 2, "stall");
    assert!(
        rig.events().iter().any(
            |e| matches!(e, Event::ItemFailed { error, retryable: true, .. } if !error.is_empty())
        ),
        "the stall was reported as a retryable failure"
    );
    // Not a timed assertion of speed: the 3 s stalls must not have been
    // waited out back to back with a 60 s default timeout.
    assert!(started.elapsed() < Duration::from_secs(30));
}

async fn server_errors() {
    let (rig, catalog, cfg) = rig().await;
    rig.sim
        .inject(Fault::status(500).on(Target::Cmd(3015)).times(1));
    rig.sim
        .inject(Fault::status(500).on(Target::Download).times(2));
    let err = rig
        .cycle(cfg.clone())
        .await
        .expect_err("a listing answered with 500 stops the cycle");
    let msg = format!("{err:#}");
    assert!(msg.contains("500"), "the error names the status: {msg}");
    assert!(rig.sim.deleted().is_empty());
    let errors = run_until_complete(&rig, &cfg, 4).await;
    errors.iter().for_each(|e| assert_clear(e, "500"));
    assert_finished(&rig, &catalog, "500").await;
    assert_bounded(&rig, 2, "500");
}

/// How the camera fails HEAD.
#[derive(Debug, Clone, Copy)]
enum HeadFailure {
    /// Firmware without HEAD at all.
    Unsupported,
    /// HEAD connections reset without an answer while downloads run (the
    /// camera dropping HEAD under load).
    Dropped,
}

async fn head_dropped_under_load(source: ListSource, how: HeadFailure) {
    let (rig, catalog, mut cfg) = rig().await;
    cfg.downloads = 3;
    cfg.list_source = source;
    match how {
        HeadFailure::Unsupported => rig.sim.set_head_supported(false),
        HeadFailure::Dropped => rig.sim.inject(Fault::drop_head().on(Target::Head).times(6)),
    }
    // Short bodies, closed cleanly: without HEAD only the listed size or the
    // Content-Length can tell them from complete ones.
    rig.sim
        .inject(Fault::close_after(120_000).on(Target::Download).times(3));
    let errors = run_until_complete(&rig, &cfg, 5).await;
    errors.iter().for_each(|e| assert_clear(e, "head"));
    if matches!(source, ListSource::Html) {
        assert_finished_html(&rig, &catalog).await;
    } else {
        assert_finished(&rig, &catalog, "head").await;
    }
    assert_bounded(&rig, 3, "head");
    let requests = rig.sim.requests();
    if matches!(source, ListSource::Xml) {
        // The XML listing's sizes are exact: no HEAD is sent at all.
        assert!(
            !requests.iter().any(|r| r.method == "HEAD"),
            "{source:?}: no HEAD with exact sizes"
        );
    } else if let HeadFailure::Dropped = how {
        assert!(
            requests
                .iter()
                .any(|r| r.method == "HEAD" && r.status.is_none()),
            "{source:?}: a HEAD was dropped"
        );
    }
}

async fn camera_leaves_mid_cycle_and_returns() {
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(CLIPS).size(SIZE))
            .bandwidth(1_000_000),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    let sim = rig.sim.clone();
    let fired = Arc::new(AtomicBool::new(false));
    let f2 = fired.clone();
    let hook: Hook = Arc::new(move |e| {
        // Mid-body of the second clip.
        if let Event::ItemProgress { bytes, .. } = e
            && *bytes > 50_000
            && sim.downloaded().len() == 1
            && !f2.swap(true, Ordering::SeqCst)
        {
            sim.go_offline(Duration::from_secs(3600));
        }
    });
    let (syncer, _rx) = rig.syncer_with(cfg.clone(), Some(hook));
    let res = tokio::time::timeout(
        Duration::from_secs(60),
        syncer.run_cycle(&viofo_pipeline::Shutdown::new()),
    )
    .await
    .expect("bounded");
    assert!(
        fired.load(Ordering::SeqCst),
        "the camera went away mid-cycle"
    );
    let err = res.expect_err("the cycle stops when the camera goes away");
    assert!(err.is_offline(), "{err}");
    assert_clear(&format!("{err:#}"), "offline");
    // Nothing lost while away; what was deleted is archived.
    let mid = rig.check(&catalog).await;
    assert!(
        mid.violations
            .iter()
            .all(|v| v.contains("after a completed run")),
        "{:#?}",
        mid.violations
    );
    rig.sim.go_online();
    let errors = run_until_complete(&rig, &cfg, 3).await;
    errors.iter().for_each(|e| assert_clear(e, "offline"));
    assert_finished(&rig, &catalog, "offline").await;
    // (Each delete first reads the clip's last 64 KiB, to compare.)
    assert!(rig.download_requests().values().sum::<usize>() <= CLIPS + 2 + rig.sim.deleted().len());
}

async fn deletes_refused() {
    let (rig, catalog, cfg) = rig().await;
    rig.sim.inject(Fault::refuse_delete(-1).always());
    let s = rig
        .cycle(cfg.clone())
        .await
        .expect("refused deletes do not stop a cycle");
    assert_eq!(s.clips, CLIPS as u64);
    assert_eq!(s.deleted, 0);
    assert!(rig.sim.deleted().is_empty());
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), CLIPS, "{report:?}");
    assert_eq!(report.on_camera_only.len(), 0);
    for name in catalog.names() {
        assert!(rig.sim.clip(&name).is_some(), "{name} stays on the camera");
        let row = rig.store.get_by_name(CAMERA, &name).await.unwrap().unwrap();
        assert_eq!(row.state, ClipState::Done, "{name}");
        assert_eq!(
            row.delete_outcome.as_deref(),
            Some("refused: status -1"),
            "{name}: the refusal is stored"
        );
        assert!(row.deleted_from_camera_at.is_none());
    }
    let refused = rig
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Delete {
                    outcome: DeleteOutcome::Refused { status: -1 },
                    ..
                }
            )
        })
        .count();
    assert_eq!(refused, CLIPS, "each refusal is reported");
    // Deletes tried once per clip, not hammered.
    let deletes = rig
        .sim
        .requests()
        .iter()
        .filter(|r| r.cmd == Some(4003))
        .count();
    assert!(
        deletes <= CLIPS * 2,
        "{deletes} delete requests for {CLIPS} clips"
    );
}

async fn seeded_random_faults() {
    let rig = Rig::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(6).size(SIZE))
            .seed(2026),
    )
    .await;
    let catalog = Catalog::of(&rig.sim);
    let mut cc = test_client_config(&rig.sim.base_url());
    cc.idle_timeout = Duration::from_millis(400);
    cc.connect_timeout = Duration::from_millis(500);
    cc.probe_timeout = Duration::from_millis(500);
    rig.set_client_config(cc);
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    rig.sim.set_random_faults(RandomFaults {
        drop_rate: 0.15,
        stall_rate: 0.05,
        stall_for: Duration::from_secs(1),
        error_rate: 0.1,
        head_drop_rate: 0.3,
        delete_refuse_rate: 0.2,
        offline_rate: 0.02,
        offline_for: Duration::from_millis(300),
    });
    let mut before = 0usize;
    for run in 0..6 {
        let res = rig.cycle(cfg.clone()).await;
        if let Err(e) = &res {
            assert_clear(&format!("{e:#}"), "random");
        }
        let total: usize = rig.download_requests().values().sum();
        // One cycle: at most max_attempts (5) tries per clip.
        assert!(
            total - before <= 6 * 5 + 6,
            "run {run}: {} download requests",
            total - before
        );
        before = total;
        let mid = check_no_loss(
            &catalog,
            &rig.sim,
            &rig.archive,
            &rig.store,
            StoreCheck::Interrupted,
        )
        .await;
        mid.assert_ok();
    }
    // The link heals; a later run finishes the job.
    rig.sim.set_random_faults(RandomFaults::default());
    rig.sim.go_online();
    drop(rig.store.retry_failed(None).await);
    run_until_complete(&rig, &cfg, 2).await;
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), 6, "{report:?}");
}

pub(crate) async fn network_faults() {
    tokio::join!(
        dropped_mid_body(),
        stalled_longer_than_the_timeout(),
        server_errors(),
        head_dropped_under_load(ListSource::Xml, HeadFailure::Unsupported),
        head_dropped_under_load(ListSource::Html, HeadFailure::Unsupported),
        head_dropped_under_load(ListSource::Xml, HeadFailure::Dropped),
        head_dropped_under_load(ListSource::Html, HeadFailure::Dropped),
        camera_leaves_mid_cycle_and_returns(),
        deletes_refused(),
        seeded_random_faults(),
    );
}
