//! The archive on S3-compatible object storage against a real Garage on
//! 127.0.0.1 (issue 23): clips end up in the bucket byte-identical and
//! leave staging; a clip is deleted from the camera only once its object is
//! complete; with the store unreachable mid-sync the downloads go on into
//! staging and nothing is deleted, and the next run uploads them; the real
//! process killed with SIGKILL mid-upload resumes and uploads the staged
//! clip. Reported ignored, with the reason, without a Garage binary
//! (`.ci/garage.sh` builds it).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use viofo_pipeline::archive::{ObjectArchive, ObjectConfig};
use viofo_pipeline::{CycleOutcome, Event};
use viofo_sim::{ClipSpec, SimConfig};
use viofo_store::ClipState;
use viofo_testkit::{Garage, Relay, Rig, walk};
use viofosync_reliability::{DELETE_SETTLE, viofosync_binary};

/// Above one upload part (8 MiB): uploaded in parts.
const BIG: u64 = 9 * 1024 * 1024 + 4321;

/// Why the scenarios cannot run here, if they cannot.
pub(crate) fn probe() -> Result<(), String> {
    viofo_testkit::garage_binary().map(|_| ())
}

async fn garage(bucket: &str) -> Garage {
    let bucket = bucket.to_owned();
    tokio::task::spawn_blocking(move || {
        let g = Garage::start().expect("Garage starts");
        g.create_bucket(&bucket).expect("bucket created");
        g
    })
    .await
    .expect("Garage set up")
}

fn object_config(g: &Garage, endpoint: &str, bucket: &str) -> ObjectConfig {
    ObjectConfig {
        url: format!("s3://{bucket}/cam"),
        endpoint: Some(endpoint.to_owned()),
        region: Some(g.region.clone()),
        access_key_id: Some(g.key_id.clone()),
        secret_access_key: Some(g.secret.clone()),
    }
}

fn deleting(rig: &Rig, object: ObjectConfig) -> viofo_pipeline::SyncConfig {
    let mut cfg = rig.config();
    cfg.object = Some(Box::new(object));
    cfg.delete_after_download = true;
    cfg.delete_settle = DELETE_SETTLE;
    cfg
}

/// The clips (not sidecars) left in a staging folder.
fn staged_clips(staging: &Path) -> Vec<String> {
    walk(staging)
        .into_iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .filter(|r| r.ends_with(".MP4"))
        .collect()
}

/// Sync into the bucket: every clip byte-identical read back through the
/// store (multipart: its ETag names two parts), its GPX beside it, deleted
/// from the camera, gone from staging; a second run changes nothing.
pub(crate) async fn sync_into_the_bucket() {
    let g = garage("dashcam").await;
    let rig = Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(BIG))).await;
    let object = object_config(&g, &g.endpoint, "dashcam");
    let bucket = ObjectArchive::open(&object).unwrap();
    let names = rig.names();
    let bytes: Vec<Vec<u8>> = names
        .iter()
        .map(|n| rig.sim.clip_bytes(n).unwrap())
        .collect();
    let s = rig.cycle(deleting(&rig, object.clone())).await.unwrap();
    assert_eq!(s.outcome, CycleOutcome::Completed, "{s:?}");
    assert_eq!(s.clips, 3);
    for (n, b) in names.iter().zip(&bytes) {
        let got = bucket.read(&format!("cam/{n}")).await.unwrap();
        assert!(got == *b, "{n}: the object is not the camera's bytes");
        let (size, etag) = bucket.stat(&format!("cam/{n}")).await.unwrap().unwrap();
        assert_eq!(size, BIG);
        assert!(etag.ends_with("-2"), "{n}: multipart ETag {etag}");
        let gpx = bucket.read(&format!("cam/{n}.gpx")).await.unwrap();
        assert!(gpx.starts_with(b"<?xml"), "{n}: GPX sidecar");
        assert_eq!(rig.row(n).await.state, ClipState::Done);
    }
    let mut deleted = rig.sim.deleted();
    deleted.sort();
    assert_eq!(deleted, names);
    assert!(
        staged_clips(&rig.archive).is_empty(),
        "{:?}",
        walk(&rig.archive)
    );
    let keys = bucket.keys().await.unwrap();
    assert_eq!(keys.len(), 6, "{keys:?}");
    let again = rig.cycle(deleting(&rig, object)).await.unwrap();
    assert_eq!(again.clips, 0);
    assert_eq!(bucket.keys().await.unwrap(), keys);
}

/// The store unreachable mid-sync (cut after the first download): the
/// downloads go on into staging, nothing is deleted from the camera that
/// is not complete in the bucket, the cycle says what it left; once the
/// store is back the next run uploads the staged clips, then deletes.
pub(crate) async fn store_unreachable_mid_sync() {
    let g = garage("offsite").await;
    let relay = Arc::new(Relay::start(&g.endpoint).await);
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(4).size(2_000_000))).await;
    let names = rig.names();
    let bytes: Vec<Vec<u8>> = names
        .iter()
        .map(|n| rig.sim.clip_bytes(n).unwrap())
        .collect();
    let direct = ObjectArchive::open(&object_config(&g, &g.endpoint, "offsite")).unwrap();
    let through_relay = object_config(&g, &relay.endpoint, "offsite");
    let cut = relay.clone();
    let hook: viofo_testkit::Hook = Arc::new(move |e: &Event| {
        if matches!(e, Event::ItemDone { .. }) {
            cut.cut();
        }
    });
    let (syncer, _rx) = rig.syncer_with(deleting(&rig, through_relay.clone()), Some(hook));
    let s = tokio::time::timeout(
        Duration::from_secs(120),
        syncer.run_cycle(&viofo_pipeline::Shutdown::new()),
    )
    .await
    .expect("the cycle ends")
    .unwrap();
    assert_eq!(s.clips, 4, "every download went on: {s:?}");
    assert_eq!(s.outcome, CycleOutcome::CompletedWithFailures, "{s:?}");
    assert!(
        s.note
            .as_deref()
            .is_some_and(|n| n.contains("not yet uploaded")),
        "{s:?}"
    );
    // Nothing deleted whose object is not complete (at most the first, if
    // its upload beat the cut).
    let deleted = rig.sim.deleted();
    for d in &deleted {
        let i = names.iter().position(|n| n == d).unwrap();
        assert!(
            direct.read(&format!("cam/{d}")).await.unwrap() == bytes[i],
            "{d}"
        );
    }
    assert!(deleted.len() <= 1, "{deleted:?}");
    assert!(
        staged_clips(&rig.archive).len() >= 3,
        "{:?}",
        walk(&rig.archive)
    );
    // The store is back: the staged clips are uploaded, then deleted.
    relay.mend();
    let s = rig.cycle(deleting(&rig, through_relay)).await.unwrap();
    assert_eq!(s.outcome, CycleOutcome::Completed, "{s:?}");
    for (n, b) in names.iter().zip(&bytes) {
        assert!(direct.read(&format!("cam/{n}")).await.unwrap() == *b, "{n}");
    }
    let mut deleted = rig.sim.deleted();
    deleted.sort();
    assert_eq!(deleted, names);
    assert!(staged_clips(&rig.archive).is_empty());
}

/// The real process killed with SIGKILL in the middle of a multipart
/// upload: nothing was deleted whose object is not complete; the next run
/// uploads the staged clip (and the rest), deletes, exits 0, and staging
/// is empty.
pub(crate) async fn killed_mid_upload_then_resumed() {
    let bin = viofosync_binary().expect("the viofosync binary");
    let g = garage("fleet").await;
    let relay = Relay::start(&g.endpoint).await;
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(3 * BIG))).await;
    let names = rig.names();
    let bytes: Vec<Vec<u8>> = names
        .iter()
        .map(|n| rig.sim.clip_bytes(n).unwrap())
        .collect();
    let direct = ObjectArchive::open(&object_config(&g, &g.endpoint, "fleet")).unwrap();
    let home = rig.root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let staging = rig.root.path().join("staging");
    let url = rig.sim.base_url();
    let run = |endpoint: &str| {
        let mut cmd = viofosync_reliability::sync_command(
            &bin,
            &home,
            &url,
            Path::new("s3://fleet/cam"),
            &rig.db,
            &["--gps", "--delete-settle", "200ms"],
        );
        cmd.env("VIOFOSYNC_S3_ENDPOINT", endpoint)
            .env("VIOFOSYNC_S3_REGION", &g.region)
            .env("VIOFOSYNC_S3_ACCESS_KEY_ID", &g.key_id)
            .env("VIOFOSYNC_S3_SECRET_ACCESS_KEY", &g.secret)
            .env("VIOFOSYNC_S3_STAGING", &staging)
            .stderr(std::process::Stdio::null());
        cmd
    };
    // The rig's store handle is not the process's: close it first.
    rig.store.close().await.ok();
    let mut child = run(&relay.endpoint).spawn().expect("viofosync starts");
    // Mid-upload: more than one part of the first clip sent.
    let deadline = Instant::now() + Duration::from_secs(120);
    while relay.sent() < 12 * 1024 * 1024 {
        assert!(Instant::now() < deadline, "no upload seen");
        assert!(
            child.try_wait().unwrap().is_none(),
            "viofosync ended before the upload"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success());
    for d in rig.sim.deleted() {
        let i = names.iter().position(|n| *n == d).unwrap();
        assert!(
            direct.read(&format!("cam/{d}")).await.unwrap() == bytes[i],
            "{d}"
        );
    }
    assert!(!staged_clips(&staging).is_empty(), "the clip stays staged");
    let status = tokio::time::timeout(Duration::from_secs(180), run(&g.endpoint).status())
        .await
        .expect("the second run ends")
        .unwrap();
    assert!(status.success(), "{status}");
    for (n, b) in names.iter().zip(&bytes) {
        assert!(direct.read(&format!("cam/{n}")).await.unwrap() == *b, "{n}");
    }
    let mut deleted = rig.sim.deleted();
    deleted.sort();
    assert_eq!(deleted, names);
    assert!(staged_clips(&staging).is_empty(), "{:?}", walk(&staging));
}

/// Never over an object: other bytes at a clip's key go under the next
/// versioned key (`~2`), the object there untouched; the same bytes again
/// are recognised (size and ETag) and not sent; both for a single put and
/// a multipart upload.
pub(crate) async fn never_over_an_object() {
    let g = garage("keep").await;
    let bucket = ObjectArchive::open(&object_config(&g, &g.endpoint, "keep")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (size, name) in [(1000usize, "cam/a.MP4"), (BIG as usize, "cam/b.MP4")] {
        let first = dir.path().join("first");
        let other = dir.path().join("other");
        let a: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut b = a.clone();
        b[size / 2] ^= 0xff;
        std::fs::write(&first, &a).unwrap();
        std::fs::write(&other, &b).unwrap();
        let up = bucket.upload(&first, name).await.unwrap();
        assert_eq!((up.key.as_str(), up.existed), (name, false));
        let again = bucket.upload(&first, name).await.unwrap();
        assert_eq!((again.key.as_str(), again.existed), (name, true));
        let beside = bucket.upload(&other, name).await.unwrap();
        let versioned = name.replace(".MP4", "~2.MP4");
        assert_eq!(
            (beside.key.as_str(), beside.existed),
            (versioned.as_str(), false)
        );
        assert!(bucket.read(name).await.unwrap() == a, "{name} untouched");
        assert!(bucket.read(&versioned).await.unwrap() == b);
    }
}
