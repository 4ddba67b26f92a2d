//! `watch`'s status surfaces (issue 13): the page, `/api/status` and
//! `/metrics` served on 127.0.0.1 while it syncs the simulator, the
//! actions (sync now, pause, resume, retry failed), a non-loopback
//! `listen` refused without `status_token`, and `status --json`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::StoreCheck;

use crate::{Camera, Env, Running, signal, stderr, stdout};

/// One HTTP/1.1 request to 127.0.0.1:`port`: (status code, body).
pub(crate) fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {raw:?}"));
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (code, body)
}

/// `/api/status` as JSON.
fn api_status(port: u16) -> serde_json::Value {
    let (code, body) = http(port, "GET", "/api/status");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Polls `/api/status` (every 20 ms, for at most `limit`) until `want`
/// holds; returns that snapshot.
pub(crate) fn wait_for_status(
    port: u16,
    limit: Duration,
    what: &str,
    want: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        let v = api_status(port);
        if want(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within {limit:?}: {v:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The port of the status server a `watch` announced on stderr.
pub(crate) fn announced_port(run: &mut Running) -> u16 {
    let line = run.expect_line(
        "status server on http://127.0.0.1:",
        Duration::from_secs(20),
    );
    let rest = line.split("http://127.0.0.1:").nth(1).unwrap();
    rest.trim_end_matches(|c: char| !c.is_ascii_digit())
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// A `watch` of a slow camera: `/api/status` shows the download in flight
/// and then the finished cycle, `/metrics` the bytes; sync-now runs a cycle
/// at once (the interval is an hour), pause shows and holds back sync-now,
/// resume and retry-failed answer; SIGTERM exits 0 and nothing is lost.
#[test]
fn watch_serves_status_and_metrics_while_it_syncs_and_takes_actions() {
    let cam = Camera::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(300_000))
            .bandwidth(600_000),
    );
    let catalog = cam.catalog();
    let env = Env::new();
    let mut cmd = env.sync_std_cmd(&cam);
    cmd.args(["watch", "--interval", "1h", "--listen", "127.0.0.1:0"]);
    let mut run = Running::spawn(cmd, false);
    let port = announced_port(&mut run);

    let v = wait_for_status(port, Duration::from_secs(20), "download in flight", |v| {
        v["state"] == "downloading" && v["downloads"].as_array().is_some_and(|d| !d.is_empty())
    });
    let clip = v["downloads"][0]["clip"].as_str().unwrap().to_owned();
    assert!(catalog.names().contains(&clip), "{v:#}");
    let (code, page) = http(port, "GET", "/");
    assert_eq!(code, 200);
    assert!(
        page.contains("<html") || page.contains("<!DOCTYPE"),
        "{page}"
    );

    let v = wait_for_status(port, Duration::from_secs(30), "the finished cycle", |v| {
        v["state"] == "waiting" && v["queue"]["done"] == 3 && v["last_cycles"][0].is_object()
    });
    assert_eq!(v["camera"]["online"], true, "{v:#}");
    assert_eq!(v["camera"]["id"], viofo_testkit::CAMERA, "{v:#}");
    wait_for_status(port, Duration::from_secs(10), "the camera's model", |v| {
        v["camera"]["model"] == "A329S"
    });
    let (code, metrics) = http(port, "GET", "/metrics");
    assert_eq!(code, 200);
    assert!(
        metrics.contains("viofosync_clips_archived_total 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("viofosync_downloaded_bytes_total 900000"),
        "{metrics}"
    );

    // Sync now: the hour's wait ends and the new clip is archived.
    let added = "2025_1224_130000_000009F.MP4";
    cam.sim()
        .add_clip(viofo_sim::ClipDef::synthetic(
            added,
            viofo_sim::Folder::Movie,
            20_000,
        ))
        .unwrap();
    // Nothing is deleted: the camera's clips now are what must be kept.
    let catalog = cam.catalog();
    let (code, body) = http(port, "POST", "/api/sync-now");
    assert!((200..300).contains(&code), "{code} {body}");
    run.expect_line("cycle done: 1 clips", Duration::from_secs(30));

    // Pause shows in the status and the metrics; sync-now is refused until resumed.
    let (code, body) = http(port, "POST", "/api/pause");
    assert!((200..300).contains(&code), "{code} {body}");
    wait_for_status(port, Duration::from_secs(10), "paused", |v| {
        v["state"] == "paused"
    });
    let (_, metrics) = http(port, "GET", "/metrics");
    assert!(metrics.contains("viofosync_paused 1"), "{metrics}");
    // Sync now while paused is refused (409), not accepted and ignored.
    let (code, body) = http(port, "POST", "/api/sync-now");
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("resume first"), "{body}");
    run.expect_line("sync now refused while paused", Duration::from_secs(10));
    let (code, _) = http(port, "POST", "/api/resume");
    assert!((200..300).contains(&code));
    wait_for_status(port, Duration::from_secs(10), "resumed", |v| {
        v["state"] != "paused"
    });
    let (code, _) = http(port, "POST", "/api/retry-failed");
    assert!((200..300).contains(&code));
    run.expect_line(
        "0 failed clips returned to the queue",
        Duration::from_secs(10),
    );

    signal(&run.child, rustix::process::Signal::TERM);
    assert_eq!(
        run.wait(Duration::from_secs(20)),
        Some(0),
        "{:#?}",
        run.seen
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server stops with the watch"
    );

    // `status --json` prints the same model, read only.
    let out = crate::ok(env.sync_cmd(&cam).args(["status", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["queue"]["done"], 4, "{v:#}");
    assert_eq!(v["camera"]["online"], true, "{v:#}");
    assert_eq!(v["camera"]["model"], "A329S", "{v:#}");
    assert!(
        v["last_cycles"].as_array().is_some_and(|c| c.len() >= 2),
        "{v:#}"
    );
    cam.assert_no_loss(&catalog, &env, StoreCheck::Settled);
}

/// A status server beyond loopback needs `status_token`: without one
/// `watch` stops with exit 2 before asking the camera anything (nothing
/// is bound, no traffic leaves 127.0.0.1).
#[test]
fn a_non_loopback_listen_without_a_token_exits_2() {
    let cam = Camera::with_clips(1, 10_000);
    let env = Env::new();
    let o = env
        .sync_cmd(&cam)
        .args(["watch", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{}{err}", stdout(&o));
    assert!(
        err.contains("status_token") && err.contains("0.0.0.0"),
        "{err}"
    );
    assert!(
        cam.sim().requests().is_empty(),
        "{:?}",
        cam.sim().requests()
    );
    assert!(!env.default_db().exists(), "nothing created");

    let o = env
        .sync_cmd(&cam)
        .args(["watch", "--listen", "localhost:80"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`listen`"), "{}", stderr(&o));

    // `config` never shows the token.
    let out = env.run_ok(&["config", "--status-token", "s3cret-token"]);
    assert!(
        !out.contains("s3cret-token") && out.contains("***"),
        "{out}"
    );
}

/// `status` shows the camera asked about: the configured one by default,
/// another with `--camera ID` (known to the state database only: not
/// asked), each with its own queue and its own last cycle, whichever
/// camera ran last; `status --json` prints that camera's model.
#[test]
fn status_shows_the_camera_asked_about_not_the_last_cycle_of_any() {
    let a = Camera::with_clips(2, 10_000);
    let b = Camera::with_clips(3, 10_000);
    let env = Env::new();
    crate::ok(
        env.sync_cmd(&a)
            .env("VIOFOSYNC_CAMERA_ID", "cam-a")
            .arg("sync"),
    );
    std::fs::create_dir_all(env.path("archive-b")).unwrap();
    crate::ok(
        env.sync_cmd(&b)
            .env("VIOFOSYNC_CAMERA_ID", "cam-b")
            .env("VIOFOSYNC_ARCHIVE", env.path("archive-b"))
            .arg("sync"),
    );
    let status_a = || {
        let mut c = env.sync_cmd(&a);
        c.env("VIOFOSYNC_CAMERA_ID", "cam-a");
        c
    };

    // The configured camera, though cam-b ran the last cycle.
    let out = crate::ok(status_a().arg("status"));
    assert!(out.contains("camera: http://127.0.0.1:"), "{out}");
    assert!(out.contains("queue (cam-a): 0 pending"), "{out}");
    assert!(out.contains("2 done"), "{out}");
    let last = out.lines().find(|l| l.starts_with("last cycle")).unwrap();
    assert!(
        last.starts_with("last cycle: #1 ") && last.contains(": 2 clips"),
        "{out}"
    );

    // Another camera the state database knows.
    let asked_b = b.sim().requests().len();
    let out = crate::ok(status_a().args(["status", "--camera", "cam-b"]));
    assert!(out.contains("camera cam-b: not configured"), "{out}");
    assert!(out.contains("queue (cam-b): 0 pending"), "{out}");
    assert!(out.contains("3 done"), "{out}");
    let last = out.lines().find(|l| l.starts_with("last cycle")).unwrap();
    assert!(
        last.starts_with("last cycle: #2 ") && last.contains(": 3 clips"),
        "{out}"
    );

    // The JSON is the /api/status model of the camera asked about.
    let json = |args: &[&str]| -> serde_json::Value {
        let out = crate::ok(status_a().args(args));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["last_cycles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let v = json(&["status", "--json"]);
    assert_eq!(v["camera"]["id"], "cam-a", "{v:#}");
    assert_eq!(v["camera"]["online"], true, "{v:#}");
    assert_eq!(v["queue"]["done"], 2, "{v:#}");
    assert_eq!(ids(&v), vec![1], "{v:#}");
    let v = json(&["status", "--json", "--camera", "cam-b"]);
    assert_eq!(v["camera"]["id"], "cam-b", "{v:#}");
    assert_eq!(v["camera"]["online"], false, "not asked: {v:#}");
    assert_eq!(v["queue"]["done"], 3, "{v:#}");
    assert_eq!(ids(&v), vec![2], "{v:#}");
    assert_eq!(b.sim().requests().len(), asked_b, "cam-b is not asked");
}
