//! The camera's addresses and identity from the command line (issue 14):
//! `fallback_addresses`, a different device at the address refused with
//! exit 2 and accepted with `--accept-camera`.

use viofo_sim::{ClipSpec, SimConfig};

use crate::{Camera, Env, closed_port, ok, stderr};

#[test]
fn a_fallback_address_syncs_when_the_primary_does_not_answer() {
    let cam = Camera::with_clips(2, 100_000);
    let env = Env::new();
    let primary = format!("http://127.0.0.1:{}", closed_port());
    let out = ok(env
        .sync_cmd(&cam)
        .args(["sync"])
        .env("VIOFOSYNC_ADDRESS", &primary)
        .env("VIOFOSYNC_FALLBACK_ADDRESSES", &cam.url));
    assert!(out.contains("synced 2 clips"), "{out}");

    // status shows the address that answers, and the one last used.
    let base = cam.url.trim_end_matches('/');
    let out = ok(env
        .sync_cmd(&cam)
        .args(["status"])
        .env("VIOFOSYNC_ADDRESS", &primary)
        .env("VIOFOSYNC_FALLBACK_ADDRESSES", &cam.url));
    assert!(out.contains(&format!("camera: {base} online")), "{out}");
    assert!(
        out.contains(&format!("last answered: at {base} as A329S")),
        "{out}"
    );

    let out = ok(env.cmd().args(["config"]).env(
        "VIOFOSYNC_FALLBACK_ADDRESSES",
        "127.0.0.1:9001, http://127.0.0.1:9002",
    ));
    let line = out
        .lines()
        .find(|l| l.starts_with("fallback_addresses"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("http://127.0.0.1:9001, http://127.0.0.1:9002"),
        "{line}"
    );
}

#[test]
fn a_bad_fallback_address_is_a_configuration_error() {
    let env = Env::new();
    let o = env
        .cmd()
        .args(["config"])
        .env(
            "VIOFOSYNC_FALLBACK_ADDRESSES",
            "http://127.0.0.1:9001,http://:80",
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fallback_addresses"), "{}", stderr(&o));
}

#[test]
fn another_camera_at_the_address_exits_2_until_accepted() {
    let first = Camera::with_clips(4, 100_000);
    let env = Env::new();
    ok(env.sync_cmd(&first).args(["sync"]));

    // The other car's camera, its clips named alike with other sizes.
    let other =
        Camera::start(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(120_000)));
    let o = env.sync_cmd(&other).args(["sync"]).output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is not camera") && err.contains("--accept-camera"),
        "{err}"
    );
    assert!(other.sim().downloaded().is_empty(), "nothing taken from it");

    let out = ok(env.sync_cmd(&other).args(["sync", "--accept-camera"]));
    assert!(out.contains("synced 4 clips"), "{out}");
}

/// Issue 18 item 4: camera b's fallback address is camera a's, spelled
/// otherwise (`localhost`, a trailing `/`), b deleting and a not. The
/// configuration is refused (exit 2, naming both cameras) before either
/// camera is asked anything: b never archives a's clips nor deletes them.
#[test]
fn a_fallback_address_of_another_camera_is_refused_and_nothing_is_deleted() {
    let a = Camera::with_clips(3, 60_000);
    let env = Env::new();
    let port = a
        .url
        .trim_end_matches('/')
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .unwrap();
    let archive = env.make_archive();
    env.write_config(&format!(
        "archive = {archive:?}\nmax_used_disk = 100\nlisten = \"off\"\n\n\
         [[camera]]\nid = \"car-a\"\naddress = {:?}\n\n\
         [[camera]]\nid = \"car-b\"\naddress = \"http://127.0.0.1:{}\"\n\
         fallback_addresses = \"http://LocalHost:{port}/\"\ndelete_after_download = true\n",
        a.url,
        closed_port()
    ));
    for args in [&["sync"][..], &["sync", "--camera", "car-b"]] {
        let o = env.cmd().args(args).output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("car-a") && err.contains("car-b") && err.contains("fallback address"),
            "{args:?}: {err}"
        );
    }
    assert!(a.sim().deleted().is_empty(), "{:?}", a.sim().deleted());
    assert!(a.sim().downloaded().is_empty());
    assert!(a.sim().requests().is_empty(), "no camera asked anything");
}
