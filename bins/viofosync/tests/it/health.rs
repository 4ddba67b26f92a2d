//! `viofosync health` (the container image's health check): exit 0 while
//! a `watch`'s status page answers on `listen`, 1 when nothing answers or
//! the answer is a refusal.

use std::time::Duration;

use viofo_sim::{ClipSpec, SimConfig};

use crate::status::announced_port;
use crate::{Camera, Env, Running, signal};

#[test]
fn health_passes_while_watch_serves_and_fails_otherwise() {
    let cam = Camera::start(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(10_000)));
    let env = Env::new();
    let mut cmd = env.sync_std_cmd(&cam);
    cmd.env("VIOFOSYNC_STATUS_TOKEN", "s3cret").args([
        "watch",
        "--interval",
        "1h",
        "--listen",
        "127.0.0.1:0",
    ]);
    let mut run = Running::spawn(cmd, false);
    let port = announced_port(&mut run);
    let listen = format!("127.0.0.1:{port}");
    let health = |token: &str, listen: &str| {
        env.cmd()
            .env("VIOFOSYNC_STATUS_TOKEN", token)
            .args(["health", "--listen", listen])
            .output()
            .unwrap()
    };

    let ok = health("s3cret", &listen);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{out} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("healthy"), "{out}");

    // The wrong token: the server refuses, so not healthy.
    let refused = health("wrong", &listen);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("401"), "{err}");

    signal(&run.child, rustix::process::Signal::TERM);
    assert_eq!(
        run.wait(Duration::from_secs(20)),
        Some(0),
        "{:#?}",
        run.seen
    );

    // Nothing answers any more.
    let gone = health("s3cret", &listen);
    let err = String::from_utf8_lossy(&gone.stderr);
    assert_eq!(gone.status.code(), Some(1), "{err}");
    assert!(
        err.contains("unhealthy") && err.contains("does not answer"),
        "{err}"
    );
}

#[test]
fn health_with_the_status_page_off_is_unhealthy() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["health", "--listen", "off"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("listen is off"), "{err}");
}
