//! The page for people (issue 21): states, buttons and outcomes in words,
//! buttons disabled with their reason, sync now while paused answered
//! truthfully, recent activity, the camera's address, and one page for
//! several cameras.

use std::time::Duration;

use viofo_pipeline::{Event, EventSink as _};
use viofo_status::{Action, NoPersistence, ServerConfig, StatusConfig, StatusModel};

use crate::common::{Server, client};

fn model(id: &str) -> StatusModel {
    StatusModel::new(StatusConfig::new(id, "/nonexistent/archive"), NoPersistence)
}

#[tokio::test]
async fn sync_now_while_paused_is_refused_not_swallowed() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(8);
    let status = model("cam-1");
    let srv = Server::start_with(ServerConfig::default(), status.clone(), tx).await;
    let c = client();
    status.set_paused(true);
    let r = c.post(srv.url("/api/sync-now")).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["accepted"], false);
    assert_eq!(v["error"], "paused: resume first");
    assert!(rx.try_recv().is_err(), "a refused action is not handed on");
    // The page says so on the disabled button, and offers Resume.
    let page = c
        .get(srv.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            "<button id=\"btn-sync-now\" disabled title=\"Paused: resume first\">Sync now</button>"
        ),
        "{page}"
    );
    assert!(page.contains(">Resume</button>") && !page.contains(">Pause</button>"));
    // Resumed: taken.
    status.set_paused(false);
    let r = c.post(srv.url("/api/sync-now")).send().await.unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(rx.try_recv().unwrap(), Action::SyncNow);
    srv.stop().await;
}

#[tokio::test]
async fn the_page_speaks_words_with_plurals_and_reasons() {
    let status = model("cam-<1>");
    status.set_address("192.168.1.254:80");
    status.emit(Event::CameraOnline {
        firmware: Some("v1.0".into()),
        model: Some("A329S".into()),
    });
    status.emit(Event::CycleStarted {
        mode: viofo_store::CycleMode::Pipelined,
    });
    status.emit(Event::ItemStarted {
        name: "a.MP4".into(),
        size: Some(100),
    });
    status.emit(Event::ItemDone {
        name: "a.MP4".into(),
        bytes: 100,
        duration: Duration::from_secs(1),
    });
    status.emit(Event::ItemFailed {
        name: "<b.MP4>".into(),
        error: "HTTP 404 <gone>".into(),
        retryable: false,
    });
    status.emit(Event::ItemSkipped {
        name: "p.MP4".into(),
        reason: "parked at Home".into(),
    });
    let srv = Server::start_with(ServerConfig::default(), status, viofo_status::NoActions).await;
    let r = client().get(srv.url("/")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let page = r.text().await.unwrap();
    for want in [
        ">Syncing</span>",
        "data-state=\"downloading\"",
        "1 clip archived",
        "at 192.168.1.254:80",
        "(A329S, firmware v1.0)",
        "<span class=\"ago\">(just now)</span>",
        "<button id=\"btn-retry-failed\" disabled title=\"No failed clips\">Retry failed</button>",
        "<th title=\"Seen on the camera, waiting to be downloaded\" data-state=\"pending\">Waiting</th>",
        "id=\"recent\"",
        "<td>Skipped</td><td>parked at Home</td>",
        "<td>&lt;b.MP4&gt;</td><td>Failed</td><td>HTTP 404 &lt;gone&gt;</td>",
        "Camera <b>cam-&lt;1&gt;</b>",
        "<script src=\"/page.js\" defer></script>",
    ] {
        assert!(page.contains(want), "missing {want:?} in\n{page}");
    }
    for raw in ["1 clips", "camera_lost", ">downloading<", "<b.MP4>"] {
        assert!(!page.contains(raw), "{raw:?} in\n{page}");
    }
    let js = client().get(srv.url("/page.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.text().await.unwrap().contains("time[datetime]"));
    srv.stop().await;
}

#[tokio::test]
async fn one_page_shows_every_camera_and_each_ones_page_stays_reachable() {
    let (one, two) = (model("front"), model("van 2"));
    two.set_paused(true);
    let cfg = ServerConfig::default().with_cameras(vec![one.clone(), two.clone()]);
    let srv = Server::start_with(cfg, one, viofo_status::NoActions).await;
    let c = client();
    let page = c
        .get(srv.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"cameras\""), "{page}");
    assert!(page.contains("data-camera=\"front\"") && page.contains("data-camera=\"van 2\""));
    assert!(
        page.contains("<a href=\"/camera/van%202\">van 2</a>"),
        "{page}"
    );
    assert!(page.contains(">Paused</span>"), "{page}");
    let other = c.get(srv.url("/camera/van%202")).send().await.unwrap();
    assert_eq!(other.status(), 200);
    let other = other.text().await.unwrap();
    assert!(
        other.contains("Camera <b>van 2</b>")
            && other.contains("id=\"state\" data-state=\"paused\"")
    );
    assert!(other.contains("buttons are on its own status server") && !other.contains("<form"));
    let none = c.get(srv.url("/camera/nosuch")).send().await.unwrap();
    assert_eq!(none.status(), 404);
    srv.stop().await;
}
