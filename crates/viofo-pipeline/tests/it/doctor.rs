//! The doctor's checks against a simulated camera and a scratch archive,
//! and errors said in one line with each cause once.

use viofo_client::ClientConfig;
use viofo_pipeline::causes::one_line;
use viofo_pipeline::doctor::{Check, Doctor, Problem};
use viofo_sim::{Sim, SimConfig};

async fn checks(d: &Doctor) -> Vec<Check> {
    let mut found = Vec::new();
    d.run(|c| found.push(c)).await;
    found
}

#[tokio::test]
async fn a_camera_that_answers_and_an_archive_made_with_init_pass() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let mut d = Doctor {
        state_db: Some(dir.path().join("state.db")),
        archive: Some(archive.clone()),
        camera: Some(ClientConfig::new(sim.base_url())),
        ..Doctor::default()
    };
    let missing = checks(&d).await;
    assert!(
        missing
            .iter()
            .any(|c| matches!(c, Check::Fail(Problem::Config, t) if t.contains("does not exist"))),
        "{missing:?}"
    );
    assert!(!archive.exists(), "created without init");
    d.init = true;
    let found = checks(&d).await;
    assert!(archive.is_dir());
    assert!(
        !found.iter().any(|c| matches!(c, Check::Fail(..))),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|c| matches!(c, Check::Ok(t) if t.contains("answers: model"))),
        "{found:?}"
    );
    d.max_used_disk = Some(0.0);
    let full = checks(&d).await;
    assert!(
        full.iter()
            .any(|c| matches!(c, Check::Fail(Problem::DiskFull, _))),
        "{full:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_camera_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let d = Doctor {
        state_db: Some(dir.path().join("state.db")),
        camera: Some(ClientConfig::new(format!("http://127.0.0.1:{port}"))),
        ..Doctor::default()
    };
    let found = checks(&d).await;
    assert!(
        found
            .iter()
            .any(|c| matches!(c, Check::Fail(Problem::CameraUnreachable, _))),
        "{found:?}"
    );
}

#[derive(Debug)]
struct Layer(&'static str, Option<Box<Layer>>);

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Layer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|l| l as _)
    }
}

#[test]
fn each_cause_once() {
    // A layer that embeds its source, then one that does not.
    let e = Layer(
        "starting",
        Some(Box::new(Layer(
            "opening x: refused",
            Some(Box::new(Layer("refused", None))),
        ))),
    );
    assert_eq!(one_line(&e), "starting: opening x: refused");
    let e = Layer(
        "a",
        Some(Box::new(Layer("a", Some(Box::new(Layer("b", None)))))),
    );
    assert_eq!(one_line(&e), "a: b");
}
