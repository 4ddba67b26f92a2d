//! The actions: delivered to the embedding program, same-origin only.

use viofo_status::{Action, ActionError, NoActions, ServerConfig};

use crate::common::{Server, client};

#[tokio::test]
async fn each_action_reaches_the_program() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(8);
    let srv = Server::start(ServerConfig::default(), tx).await;
    let c = client();
    for a in Action::ALL {
        let r = c
            .post(srv.url(&format!("/api/{}", a.as_str())))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{a:?}");
        let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(v["action"], a.as_str());
        assert_eq!(v["accepted"], true);
        assert_eq!(rx.try_recv().unwrap(), a);
    }
    srv.stop().await;
}

#[tokio::test]
async fn the_pages_form_is_sent_back_to_the_page() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(8);
    let srv = Server::start(ServerConfig::default(), tx).await;
    let origin = format!("http://{}", srv.addr);
    let r = client()
        .post(srv.url("/api/pause"))
        .header("origin", &origin)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html,application/xhtml+xml")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    assert_eq!(rx.try_recv().unwrap(), Action::Pause);
    srv.stop().await;
}

#[tokio::test]
async fn cross_origin_and_cross_site_actions_are_refused_and_not_delivered() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(8);
    let srv = Server::start(ServerConfig::default(), tx).await;
    let c = client();
    let host = srv.addr.to_string();
    let cases: [(&str, &str); 5] = [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("origin", "http://127.0.0.1:1"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (name, value) in cases {
        let r = c
            .post(srv.url("/api/sync-now"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{name}: {value}");
    }
    // DNS rebinding: another site's name resolving to 127.0.0.1.
    let r = c
        .post(srv.url("/api/sync-now"))
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(rx.try_recv().is_err(), "nothing delivered");
    // The same request from the page's own origin goes through.
    let r = c
        .post(srv.url("/api/sync-now"))
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(rx.try_recv().unwrap(), Action::SyncNow);
    srv.stop().await;
}

#[tokio::test]
async fn actions_need_post_and_a_busy_or_absent_program_says_so() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(1);
    let srv = Server::start(ServerConfig::default(), tx).await;
    let c = client();
    let r = c.get(srv.url("/api/sync-now")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    assert_eq!(
        c.post(srv.url("/api/pause")).send().await.unwrap().status(),
        202
    );
    let r = c.post(srv.url("/api/resume")).send().await.unwrap();
    assert_eq!(r.status(), 429, "the one slot is taken");
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(rx.try_recv().unwrap(), Action::Pause);
    assert!(rx.try_recv().is_err());
    srv.stop().await;

    let srv = Server::start(ServerConfig::default(), NoActions).await;
    let r = c.post(srv.url("/api/retry-failed")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    srv.stop().await;

    let handler = |a: Action| {
        if a == Action::Pause {
            Ok(())
        } else {
            Err(ActionError::Busy)
        }
    };
    let srv = Server::start(ServerConfig::default(), handler).await;
    assert_eq!(
        c.post(srv.url("/api/pause")).send().await.unwrap().status(),
        202
    );
    assert_eq!(
        c.post(srv.url("/api/resume"))
            .send()
            .await
            .unwrap()
            .status(),
        429
    );
    srv.stop().await;
}
