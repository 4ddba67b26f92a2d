//! `watch`'s MQTT settings (issue 13): the password shown as `***` by
//! `config`, and a `mqtt_url` that is not usable refused with exit 2
//! before the camera or the store is touched. The broker test itself is
//! tests/mqtt.rs (a real Mosquitto).

use crate::{Camera, Env, stderr, stdout};

#[test]
fn config_shows_the_mqtt_password_as_stars() {
    let env = Env::new();
    let out = env.run_ok(&[
        "config",
        "--mqtt-url",
        "mqtt://127.0.0.1:1883",
        "--mqtt-username",
        "ha",
        "--mqtt-password",
        "pa55-word-xyz",
    ]);
    assert!(!out.contains("pa55-word-xyz"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("mqtt_password") && l.contains("= ***")),
        "{out}"
    );
    assert!(out.contains("mqtt://127.0.0.1:1883"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("mqtt_discovery_prefix") && l.contains("homeassistant")),
        "{out}"
    );
    // Off by default.
    let out = env.run_ok(&["config"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("mqtt_url") && l.contains("= off")),
        "{out}"
    );
}

#[test]
fn a_bad_mqtt_url_exits_2_before_touching_the_camera() {
    let cam = Camera::with_clips(1, 10_000);
    let env = Env::new();
    for url in ["http://127.0.0.1:1883", "mqtt://user:s3cret@127.0.0.1"] {
        let o = env
            .sync_cmd(&cam)
            .args(["watch", "--listen", "off", "--mqtt-url", url])
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{url}: {}{err}", stdout(&o));
        assert!(err.contains("mqtt_url"), "{err}");
        assert!(
            !err.contains("s3cret"),
            "the URL's password repeated: {err}"
        );
    }
    // A password without a user name is refused too.
    let o = env
        .sync_cmd(&cam)
        .args([
            "watch",
            "--listen",
            "off",
            "--mqtt-url",
            "mqtt://127.0.0.1",
            "--mqtt-password",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        cam.sim().requests().is_empty(),
        "{:?}",
        cam.sim().requests()
    );
    assert!(!env.default_db().exists(), "nothing created");
}
