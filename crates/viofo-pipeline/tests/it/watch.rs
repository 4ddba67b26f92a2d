//! The watcher over the simulator: the back-off while the camera is away,
//! reset on success; its control handle against a real camera.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use viofo_pipeline::backoff::Backoff;
use viofo_pipeline::{Event, Shutdown, Watcher};
use viofo_sim::{ClipSpec, SimConfig};

use crate::harness::{Hook, start_rig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_backs_off_while_the_camera_is_away_and_resets_on_success() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(50_000))).await;
    let ms = Duration::from_millis;
    // The default schedule scaled down to milliseconds, so the test runs
    // the real loop (sockets, store) without waiting minutes.
    let steps = [ms(10), ms(30), ms(120), ms(200)];
    let interval = ms(5);
    rig.sim.go_offline(Duration::from_secs(3600));

    let shutdown = Shutdown::new();
    let waits: Arc<Mutex<Vec<(Duration, bool)>>> = Arc::default();
    let hook: Hook = {
        let (sim, shutdown, waits) = (rig.sim.clone(), shutdown.clone(), waits.clone());
        Arc::new(move |e: &Event| {
            let Event::NextCycle { delay, camera_away } = e else {
                return;
            };
            let mut w = waits.lock().unwrap();
            w.push((*delay, *camera_away));
            match w.len() {
                // Five cycles without the camera, then it comes back ...
                5 => sim.go_online(),
                // ... one cycle reaches it, then it leaves again ...
                6 => sim.go_offline(Duration::from_secs(3600)),
                // ... and the back-off starts over.
                8 => shutdown.request(),
                _ => {}
            }
        })
    };
    let mut cfg = rig.config();
    cfg.backoff = Backoff::with_steps(steps);
    let (syncer, _rx) = rig.syncer_with(cfg, Some(hook));
    let watcher = Watcher::new(syncer, interval, &shutdown);
    tokio::time::timeout(Duration::from_secs(60), watcher.run())
        .await
        .expect("watch ends when asked")
        .unwrap();

    let got = waits.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            (ms(10), true),
            (ms(30), true),
            (ms(120), true),
            (ms(200), true),
            (ms(200), true),
            (interval, false),
            (ms(10), true),
            (ms(30), true),
        ]
    );
    // The one cycle that reached the camera archived its clip.
    for n in rig.names() {
        rig.assert_archived(&n, &rig.sim.clip_bytes(&n).unwrap());
    }
}

/// The control handle on a real camera, the interval an hour: sync now
/// runs a cycle at once, a pause refuses it, resume runs one, stop ends
/// the watch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_handle_drives_a_watch_of_a_real_camera() {
    let rig = start_rig(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(50_000))).await;
    let (syncer, mut rx) = rig.syncer_with(rig.config(), None);
    let shutdown = Shutdown::new();
    let watcher = Watcher::new(syncer, Duration::from_secs(3600), &shutdown);
    let control = watcher.control();
    let run = tokio::spawn(async move { watcher.run().await });
    // Waits (at most 20 s) for the next cycle's end and the wait after it.
    let mut next_wait = async |what: &str| {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match rx.recv().await.expect("events flow") {
                    Event::NextCycle { delay, camera_away } => return (delay, camera_away),
                    _ => continue,
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{what}: no cycle ran in 20 s"))
    };
    assert_eq!(
        next_wait("the first cycle").await,
        (Duration::from_secs(3600), false)
    );
    for n in rig.names() {
        rig.assert_archived(&n, &rig.sim.clip_bytes(&n).unwrap());
    }
    let listed = || {
        rig.sim
            .requests()
            .iter()
            .filter(|r| r.cmd == Some(3015))
            .count()
    };
    let before = listed();
    assert!(control.sync_now());
    next_wait("sync now").await;
    assert!(listed() > before, "sync now listed the camera again");

    assert!(control.pause());
    assert!(!control.sync_now(), "refused while paused");
    let before = listed();
    assert!(control.resume());
    next_wait("resume").await;
    assert!(listed() > before, "resume ran a cycle");

    control.stop();
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("stop ends the watch")
        .unwrap()
        .unwrap();
    assert!(!shutdown.is_stopping(), "the stop stays with the watcher");
}
