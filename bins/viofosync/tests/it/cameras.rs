//! Several cameras in one configuration (issue 14): `[[camera]]` tables,
//! each camera in its own archive folder, `--camera`, one camera away
//! never stopping another, and the configuration errors.

use std::time::Duration;

use crate::{Camera, Env, Running, closed_port, files, ok, signal, stderr, stdout};

/// A configuration with the archive and two cameras; `extra_b` goes into
/// the second camera's table.
fn two_cameras(env: &Env, a: &str, b: &str, extra_b: &str) {
    let archive = env.make_archive();
    env.write_config(&format!(
        "archive = {archive:?}\nmax_used_disk = 100\nlisten = \"off\"\n\n\
         [[camera]]\nid = \"car-a\"\naddress = {a:?}\n\n\
         [[camera]]\nid = \"car-b\"\naddress = {b:?}\n{extra_b}\n"
    ));
}

#[test]
fn two_cameras_sync_into_their_own_folders_and_one_can_be_chosen() {
    // The same clip names on both cameras: kept apart by camera id.
    let a = Camera::with_clips(3, 60_000);
    let b = Camera::with_clips(2, 70_000);
    let env = Env::new();
    two_cameras(&env, &a.url, &b.url, "channels = \"front\"");
    let out = ok(env.cmd().args(["sync"]));
    assert!(out.contains("camera car-a: synced 3 clips"), "{out}");
    assert!(out.contains("camera car-b: synced 2 clips"), "{out}");
    let landed = files(&env.archive());
    for clip in a.sim().clips() {
        assert!(
            landed.contains(&format!("car-a/{}", clip.name)),
            "{landed:?}"
        );
    }
    for clip in b.sim().clips() {
        assert!(
            landed.contains(&format!("car-b/{}", clip.name)),
            "{landed:?}"
        );
    }
    let a_bytes =
        std::fs::read(env.archive().join("car-a").join(&a.sim().clips()[0].name)).unwrap();
    assert_eq!(a_bytes.len(), 60_000);

    // Only car-a: car-b is not asked anything.
    let before = b.sim().requests().len();
    let out = ok(env.cmd().args(["sync", "--camera", "car-a"]));
    assert!(out.contains("synced 0 clips"), "{out}");
    assert_eq!(b.sim().requests().len(), before);

    let o = env
        .cmd()
        .args(["sync", "--camera", "car-c"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("car-a, car-b"), "{}", stderr(&o));

    let out = ok(env.cmd().args(["config"]));
    assert!(out.contains("[[camera]] id = car-b"), "{out}");
    assert!(out.contains("channels = front"), "{out}");
}

#[test]
fn a_camera_away_is_named_and_the_other_syncs() {
    let a = Camera::with_clips(2, 50_000);
    let env = Env::new();
    two_cameras(
        &env,
        &a.url,
        &format!("http://127.0.0.1:{}", closed_port()),
        "",
    );
    let o = env.cmd().args(["sync"]).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("camera car-a: synced 2 clips"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("camera car-b"), "{}", stderr(&o));
}

#[test]
fn watch_keeps_syncing_one_camera_while_the_other_is_away() {
    let a = Camera::with_clips(2, 40_000);
    let b = Camera::with_clips(2, 40_000);
    let env = Env::new();
    two_cameras(&env, &a.url, &b.url, "");
    // car-b's Wi-Fi is gone for the whole test: its back-off (10 s, 30 s,
    // ...) must not hold car-a's cycles back.
    b.sim().go_offline(Duration::from_secs(3600));
    let mut cmd = env.std_cmd();
    cmd.args(["watch", "--interval", "200ms"]);
    let mut run = Running::spawn(cmd, false);
    run.expect_line("cycle done: 2 clips", Duration::from_secs(30));
    a.sim()
        .add_clip(viofo_sim::ClipDef::synthetic(
            "2025_1224_130000_000009F.MP4",
            viofo_sim::Folder::Movie,
            20_000,
        ))
        .unwrap();
    run.expect_line("cycle done: 1 clips", Duration::from_secs(10));
    assert!(
        env.archive()
            .join("car-a/2025_1224_130000_000009F.MP4")
            .is_file()
    );
    assert!(b.sim().downloaded().is_empty());
    signal(&run.child, rustix::process::Signal::TERM);
    assert_eq!(
        run.wait(Duration::from_secs(20)),
        Some(0),
        "{:#?}",
        run.seen
    );
}

#[test]
fn camera_tables_are_checked() {
    let env = Env::new();
    let cases = [
        (
            "address = \"127.0.0.1:1\"\n[[camera]]\nid = \"a\"\naddress = \"127.0.0.1:2\"",
            "beside [[camera]] tables",
        ),
        (
            "[[camera]]\naddress = \"127.0.0.1:2\"",
            "camera[1].id is missing",
        ),
        (
            "[[camera]]\nid = \"car/1\"\naddress = \"127.0.0.1:2\"",
            "camera[1].id",
        ),
        (
            "[[camera]]\nid = \"a\"\naddress = \"127.0.0.1:2\"\n[[camera]]\nid = \"A\"\naddress = \"127.0.0.1:3\"",
            "another camera has this id",
        ),
        (
            "[[camera]]\nid = \"a\"\naddress = \"127.0.0.1:2\"\n[[camera]]\nid = \"b\"\naddress = \"127.0.0.1:2\"",
            "cannot share one address",
        ),
        (
            "[[camera]]\nid = \"a\"\naddress = \"127.0.0.1:2\"\narchive = \"/tmp\"",
            "cannot be set per camera",
        ),
        ("[[camera]]\nid = \"a\"", "has no address"),
        (
            "[[camera]]\nid = \"a\"\naddress = \"127.0.0.1:2\"\nkeep = \"forever\"",
            "camera[1].keep",
        ),
    ];
    for (text, want) in cases {
        env.write_config(text);
        let o = env.cmd().args(["config"]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{text}: {}", stderr(&o));
    }
}

#[test]
fn timings_and_queue_take_one_camera() {
    let a = Camera::with_clips(2, 30_000);
    let b = Camera::with_clips(3, 30_000);
    let env = Env::new();
    two_cameras(&env, &a.url, &b.url, "");
    ok(env.cmd().args(["sync"]));
    let out = ok(env.cmd().args(["timings", "--camera", "car-b"]));
    assert!(out.contains("3 clips"), "{out}");
    assert!(!out.contains("2 clips"), "{out}");
    let out = ok(env.cmd().args(["queue", "--camera", "car-a"]));
    assert!(out.contains("2 clips"), "{out}");
}

/// Two free consecutive loopback ports.
fn two_ports() -> u16 {
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two free consecutive ports");
}

#[test]
fn watch_serves_each_cameras_status_on_its_own_port() {
    let a = Camera::with_clips(2, 30_000);
    let b = Camera::with_clips(3, 30_000);
    let env = Env::new();
    let archive = env.make_archive();
    let port = two_ports();
    env.write_config(&format!(
        "archive = {archive:?}\nmax_used_disk = 100\nlisten = \"127.0.0.1:{port}\"\n\n\
         [[camera]]\nid = \"car-a\"\naddress = {:?}\n\n\
         [[camera]]\nid = \"car-b\"\naddress = {:?}\n",
        a.url, b.url
    ));
    let mut cmd = env.std_cmd();
    cmd.args(["watch", "--interval", "1h"]);
    let mut run = Running::spawn(cmd, false);
    run.expect_line("watching", Duration::from_secs(20));
    for (p, id, done) in [(port, "car-a", 2), (port + 1, "car-b", 3)] {
        let v = crate::status::wait_for_status(p, Duration::from_secs(30), id, |v| {
            v["queue"]["done"] == done
        });
        assert_eq!(v["camera"]["id"], id, "{v:#}");
    }
    signal(&run.child, rustix::process::Signal::TERM);
    assert_eq!(
        run.wait(Duration::from_secs(20)),
        Some(0),
        "{:#?}",
        run.seen
    );
}
