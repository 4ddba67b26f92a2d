//! The three surfaces: `/metrics`, `/api/status`, `/`.

use std::time::Duration;

use viofo_pipeline::{CycleMode, Event, EventSink};
use viofo_status::{NoActions, ServerConfig, StatusSnapshot, SyncState};

use crate::common::{Server, client};

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_documented_names() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    srv.status.emit(Event::CycleStarted {
        mode: CycleMode::Pipelined,
    });
    srv.status.emit(Event::ItemStarted {
        name: "a.MP4".into(),
        size: Some(400),
    });
    srv.status.emit(Event::ItemProgress {
        name: "a.MP4".into(),
        bytes: 100,
        total: Some(400),
    });
    let r = client().get(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = r.text().await.unwrap();
    for line in [
        "viofosync_downloaded_bytes_total 0",
        "viofosync_clips_archived_total 0",
        "viofosync_clips_failed_total 0",
        "viofosync_clips_deleted_total 0",
        "viofosync_clips_pruned_total 0",
        "viofosync_clips_skipped_total 0",
        "viofosync_cycles_total{outcome=\"completed\"} 0",
        "viofosync_queue_clips{state=\"pending\"} 0",
        "viofosync_camera_online 0",
        "viofosync_current_download_bytes 100",
        "viofosync_current_download_size_bytes 400",
        "viofosync_current_download_progress_ratio 0.25",
        "viofosync_disk_used_bytes 0",
        "viofosync_archive_bytes 0",
        "viofosync_download_duration_seconds_count 0",
        "viofosync_download_gap_seconds_count 0",
        "viofosync_tail_stage_duration_seconds_count{stage=\"gps\"} 0",
        "# EOF",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn api_status_is_the_model_as_json() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    srv.status.emit(Event::CameraOnline {
        firmware: Some("VIOFO_A329S_V2.0_260313".into()),
        model: Some("A329S".into()),
    });
    srv.status.emit(Event::CycleStarted {
        mode: CycleMode::Pipelined,
    });
    srv.status.emit(Event::ItemStarted {
        name: "b.MP4".into(),
        size: Some(1_000),
    });
    let r = client().get(srv.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The documented field names (docs/STATUS.md).
    assert_eq!(v["schema"], 1);
    assert_eq!(v["state"], "downloading");
    assert_eq!(v["camera"]["id"], "cam-1");
    assert_eq!(v["camera"]["online"], true);
    assert_eq!(v["camera"]["firmware"], "VIOFO_A329S_V2.0_260313");
    assert_eq!(v["camera"]["model"], "A329S");
    assert_eq!(v["downloads"][0]["clip"], "b.MP4");
    assert_eq!(v["downloads"][0]["total"], 1_000);
    assert_eq!(v["cycle"]["mode"], "pipelined");
    for key in [
        "queue",
        "failed",
        "last_cycles",
        "disk",
        "archive",
        "errors",
        "next_cycle",
        "generated_at",
    ] {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
    for state in [
        "pending",
        "downloading",
        "downloaded",
        "done",
        "failed",
        "gone",
        "pruned",
        "skipped",
    ] {
        assert!(v["queue"][state].is_u64(), "queue.{state}");
    }
    let snap: StatusSnapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(snap.state, SyncState::Downloading);
    srv.stop().await;
}

#[tokio::test]
async fn the_page_escapes_a_clip_named_like_a_script() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    let evil = "<script>alert(1)</script>";
    srv.status.emit(Event::CameraOnline {
        firmware: Some("<b>fw</b>".into()),
        model: Some("<i>model</i>".into()),
    });
    srv.status.emit(Event::CycleStarted {
        mode: CycleMode::Pipelined,
    });
    srv.status.emit(Event::ItemStarted {
        name: evil.into(),
        size: Some(2_000),
    });
    srv.status.emit(Event::ItemProgress {
        name: evil.into(),
        bytes: 500,
        total: Some(2_000),
    });
    let r = client().get(srv.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("<script>alert"),
        "markup from the camera reached the page:\n{html}"
    );
    // The one script is the page's own, same origin.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("<script src=\"/page.js\" defer></script>"));
    assert!(!html.contains("<b>fw"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;fw&lt;/b&gt;"), "{html}");
    assert!(
        html.contains("(&lt;i&gt;model&lt;/i&gt;, firmware"),
        "{html}"
    );
    // State, current download with its bar, cycle, queue, disk; no asset.
    assert!(
        html.contains("id=\"state\" data-state=\"downloading\""),
        "{html}"
    );
    assert!(
        html.contains("Copying clips from the camera now.\">Syncing</span>"),
        "{html}"
    );
    assert!(
        html.contains("role=\"progressbar\" aria-valuenow=\"25\""),
        "{html}"
    );
    for id in ["downloads", "cycle", "queue", "disk"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    for external in [
        "src=\"http",
        "src=\"//",
        "<link",
        "href=\"http",
        "href=\"//",
    ] {
        assert!(!html.contains(external), "external reference {external:?}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn head_answers_without_a_body_and_unknown_paths_404() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    let c = client();
    let r = c.head(srv.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(c.get(srv.url("/nope")).send().await.unwrap().status(), 404);
    assert_eq!(
        c.get(srv.url("/api/delete")).send().await.unwrap().status(),
        404,
        "no other camera command"
    );
    let r = c.post(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    srv.stop().await;
}

#[tokio::test]
async fn shutdown_ends_the_server_with_a_client_connected() {
    let srv = Server::start(ServerConfig::default(), NoActions).await;
    // An idle connection that never sends anything.
    let _idle = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let c = client();
    assert_eq!(
        c.get(srv.url("/api/status")).send().await.unwrap().status(),
        200
    );
    let addr = srv.addr;
    tokio::time::timeout(Duration::from_secs(5), srv.stop())
        .await
        .expect("stopped within the grace");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}
