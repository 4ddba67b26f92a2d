//! The token: required beyond loopback, checked on every request.

use std::net::SocketAddr;

use base64::Engine;
use viofo_status::{
    Action, Error, NoActions, NoPersistence, ServerConfig, StatusConfig, StatusModel, serve,
};

use crate::common::{Server, client};

#[test]
fn starting_beyond_loopback_without_a_token_is_a_configuration_error() {
    let lan: SocketAddr = "192.0.2.10:8740".parse().unwrap();
    let e = ServerConfig::default().validate(lan).unwrap_err();
    assert!(
        matches!(e, Error::TokenRequired { .. }) && e.is_config(),
        "{e}"
    );
    assert!(e.to_string().contains("status_token"), "{e}");
    let any: SocketAddr = "0.0.0.0:8740".parse().unwrap();
    assert!(ServerConfig::default().validate(any).is_err());
    assert!(
        ServerConfig::with_token(Some("t".into()))
            .validate(lan)
            .is_ok()
    );
    let local: SocketAddr = "127.0.0.1:8740".parse().unwrap();
    assert!(ServerConfig::default().validate(local).is_ok());
    // The token never shows in a debug print.
    let dbg = format!("{:?}", ServerConfig::with_token(Some("hunter2".into())));
    assert!(!dbg.contains("hunter2"), "{dbg}");
}

#[tokio::test]
async fn serve_refuses_a_bad_configuration_before_serving() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let status = StatusModel::new(StatusConfig::new("c", "/x"), NoPersistence);
    let e = serve(
        listener,
        ServerConfig::with_token(Some("  ".into())),
        status,
        NoActions,
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(e.is_config(), "{e}");
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_on_every_route() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Action>(8);
    let srv = Server::start(ServerConfig::with_token(Some("s3cret".into())), tx).await;
    let c = client();
    for path in ["/", "/metrics", "/api/status"] {
        let r = c.get(srv.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without a token");
        let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
        assert_eq!(challenges.len(), 2, "Basic and Bearer");
        let r = c
            .get(srv.url(path))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a wrong token");
        let r = c
            .get(srv.url(path))
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with the token");
    }
    let r = c
        .post(srv.url("/api/sync-now"))
        .bearer_auth("s3cre")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(rx.try_recv().is_err(), "a refused action is not delivered");
    // A browser logs in with HTTP Basic, the token as password.
    let basic = base64::engine::general_purpose::STANDARD.encode("me:s3cret");
    let r = c
        .post(srv.url("/api/sync-now"))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(rx.try_recv().unwrap(), Action::SyncNow);
    srv.stop().await;
}
