//! `downloads = 3` against a camera that takes one connection at a time
//! (issue 21): the refused extra connections are recognised, said once in
//! words, and the sync goes on with what the camera takes.

use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::StoreCheck;

use crate::{Camera, Env, stderr, stdout};

#[test]
fn a_camera_that_takes_one_connection_is_synced_with_one() {
    let cam = Camera::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(6).size(1_000_000))
            // Slow enough that the three downloads overlap.
            .bandwidth(20_000_000)
            .max_connections(1)
            .delete_delay(std::time::Duration::from_millis(10)),
    );
    let catalog = cam.catalog();
    let env = Env::new();
    let o = env
        .sync_cmd(&cam)
        .env("VIOFOSYNC_DOWNLOADS", "3")
        .env("VIOFOSYNC_DELETE_AFTER_DOWNLOAD", "true")
        .env("VIOFOSYNC_DELETE_SETTLE", "0")
        .arg("sync")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{}{err}", stdout(&o));
    assert!(stdout(&o).contains("synced 6 clips"), "{}", stdout(&o));
    assert!(
        cam.sim().refused_connections() >= 1,
        "the camera refused the extra connections"
    );
    // Said once, in words; nothing else warns.
    let said: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("connection at once: it refused one more"))
        .collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(said[0].contains("takes 1 connection at once"), "{err}");
    let others: Vec<&str> = err
        .lines()
        .filter(|l| (l.contains(" WARN ") || l.contains(" ERROR ")) && !said.contains(l))
        .collect();
    assert!(others.is_empty(), "{err}");
    assert!(!err.contains("offline"), "{err}");
    let report = cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
    assert_eq!(report.archived.len(), 6, "{report:?}");
}
