//! The pipeline tests' rig: `viofo-testkit`'s, with the client timeouts and
//! the test-sized waits these tests are written for.

use std::time::Duration;

use viofo_client::ClientConfig;
use viofo_sim::SimConfig;
pub(crate) use viofo_testkit::{CAMERA, Hook, Rig, wait_for};

/// A rig for `cfg` whose [`Rig::config`] has test-sized waits (in-run
/// retry back-off, the newest clip's settle time) and no disk guard (the
/// machine's own disk use must not decide a test).
pub(crate) async fn start_rig(cfg: SimConfig) -> Rig {
    Rig::builder(cfg)
        .client_config(client_config)
        .test_sized_waits()
        .start()
        .await
}

/// Short connect and probe timeouts, a 5 s idle timeout, the client's
/// defaults otherwise.
fn client_config(base_url: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base_url);
    c.connect_timeout = Duration::from_secs(2);
    c.idle_timeout = Duration::from_secs(5);
    c.probe_timeout = Duration::from_secs(2);
    c
}
