//! The trips pages and the archived files they link to, from a real store:
//! a journey's page lists its clips with links; a clip and its GPX are
//! served read-only by row id with Range, under the same access rules as
//! the page; nothing outside the archive is ever served.
// The fixture's listing is indexed by the test that wrote it.
#![allow(clippy::indexing_slicing)]

use viofo_status::{NoActions, NoPersistence, ServerConfig, StatusConfig, StatusModel};
use viofo_store::{Channel, ListedClip, NewJourney, Store, StoreOptions, TrackPoint};

use crate::common::{Server, client};

fn listed(name: &str, size: u64, at: i64) -> ListedClip {
    ListedClip {
        name: name.into(),
        remote_path: format!("/DCIM/Movie/{name}"),
        size,
        size_exact: true,
        locked: false,
        parking: false,
        channel: Channel::Front,
        recorded_at: Some(at),
    }
}

const T0: i64 = 1_766_577_600_000;

/// A store with two archived clips of one journey (one of them recorded
/// with a path outside the archive) and one clip still pending.
struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    archive: std::path::PathBuf,
    clip: i64,
    outside: i64,
    pending: i64,
    journey: i64,
    body: Vec<u8>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(archive.join("2025-12-24")).unwrap();
    std::fs::create_dir_all(archive.join("journeys")).unwrap();
    let store = Store::open(StoreOptions::at(dir.path().join("viofosync.db")))
        .await
        .unwrap();
    let listing = vec![
        listed("2025_1224_120000_000001F.MP4", 10_000, T0),
        listed("2025_1224_120100_000002F.MP4", 10, T0 + 60_000),
        listed("2025_1224_120200_000003F.MP4", 5_000, T0 + 120_000),
    ];
    store.reconcile("cam-1", &listing, |_| None).await.unwrap();
    let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let a = store
        .get_by_name("cam-1", &listing[0].name)
        .await
        .unwrap()
        .unwrap();
    let path = archive.join("2025-12-24").join(&listing[0].name);
    std::fs::write(&path, &body).unwrap();
    let mut gpx = path.as_os_str().to_owned();
    gpx.push(".gpx");
    std::fs::write(&gpx, "<gpx/>").unwrap();
    store.start_download(a.id, None).await.unwrap();
    store.finish_download(a.id, &path, 10_000).await.unwrap();
    // A row whose recorded path leads outside the archive: never served.
    let b = store
        .get_by_name("cam-1", &listing[1].name)
        .await
        .unwrap()
        .unwrap();
    let secret = dir.path().join("secret.MP4");
    std::fs::write(&secret, b"top secret").unwrap();
    store.start_download(b.id, None).await.unwrap();
    store
        .finish_download(b.id, &archive.join("..").join("secret.MP4"), 10)
        .await
        .unwrap();
    let c = store
        .get_by_name("cam-1", &listing[2].name)
        .await
        .unwrap()
        .unwrap();
    let points: Vec<TrackPoint> = (0..120i32)
        .map(|i| TrackPoint {
            time_ms: T0 + i64::from(i) * 1000,
            lat: 52.5 + f64::from(i) * 1e-4,
            lon: 13.4 + f64::from(i) * 2e-4,
            speed_mps: 10.0,
            course_deg: 45.0,
        })
        .collect();
    let summary = viofo_store::GpsSummary::default();
    store
        .set_track(
            a.id,
            viofo_store::Track {
                source: viofo_store::TrackSource::File,
                mode: None,
                clip_size: 10_000,
                summary,
                points,
                no_track: None,
            },
        )
        .await
        .unwrap();
    let trip_gpx = archive
        .join("journeys")
        .join("2025-12-24_1200_Home-Work.gpx");
    std::fs::write(&trip_gpx, "<gpx>trip</gpx>").unwrap();
    store
        .replace_journeys(
            "cam-1",
            T0,
            T0 + 180_000,
            vec![NewJourney {
                start_ms: T0,
                end_ms: T0 + 180_000,
                start_pos: Some((52.5, 13.4)),
                end_pos: Some((52.512, 13.424)),
                from_place: Some("Home <1>".into()),
                to_place: Some("Work".into()),
                distance_m: 2_345.0,
                clips: vec![a.id, b.id, c.id],
                bytes: 15_010,
                gpx_path: Some(trip_gpx.to_string_lossy().into_owned()),
                ..NewJourney::default()
            }],
        )
        .await
        .unwrap();
    let journey = store.journeys(Some("cam-1"), None, 10).await.unwrap()[0]
        .id
        .0;
    Fixture {
        _dir: dir,
        store,
        archive,
        clip: a.id.0,
        outside: b.id.0,
        pending: c.id.0,
        journey,
        body,
    }
}

async fn server(f: &Fixture, token: Option<&str>) -> Server {
    let status = StatusModel::new(StatusConfig::new("cam-1", &f.archive), NoPersistence);
    let cfg = ServerConfig::with_token(token.map(str::to_owned)).with_store(f.store.clone());
    Server::start_with(cfg, status, NoActions).await
}

#[tokio::test]
async fn trips_list_and_a_journeys_page_link_its_archived_clips() {
    let f = fixture().await;
    let s = server(&f, None).await;
    let c = client();
    let list = c.get(s.url("/trips")).send().await.unwrap();
    assert_eq!(list.status(), 200);
    let list = list.text().await.unwrap();
    assert!(
        list.contains(&format!("href=\"/trips/{}\"", f.journey)),
        "{list}"
    );
    assert!(list.contains("Home &lt;1&gt; → Work") && !list.contains("Home <1>"));
    assert!(
        list.contains("2.3 km") && list.contains("3 clips"),
        "{list}"
    );
    assert!(list.contains("<polyline class=\"track\""), "{list}");
    // The status page lists them too.
    let page = c
        .get(s.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Recent trips") && page.contains("<polyline"),
        "{page}"
    );

    let trip = c
        .get(s.url(&format!("/trips/{}", f.journey)))
        .send()
        .await
        .unwrap();
    assert_eq!(trip.status(), 200);
    let trip = trip.text().await.unwrap();
    assert!(
        trip.contains(&format!("href=\"/clips/{}\"", f.clip)),
        "{trip}"
    );
    assert!(
        trip.contains(&format!("href=\"/clips/{}/gpx\"", f.clip)),
        "{trip}"
    );
    assert!(
        trip.contains(&format!("href=\"/trips/{}/gpx\"", f.journey)),
        "{trip}"
    );
    // No link to a file outside the archive or not archived.
    assert!(
        !trip.contains(&format!("href=\"/clips/{}\"", f.outside)),
        "{trip}"
    );
    assert!(
        !trip.contains(&format!("href=\"/clips/{}\"", f.pending)),
        "{trip}"
    );
    assert!(
        trip.contains("Waiting") && trip.contains("Archived, finishing"),
        "{trip}"
    );
    let missing = c.get(s.url("/trips/999999")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn archived_files_are_served_read_only_with_ranges() {
    let f = fixture().await;
    let s = server(&f, None).await;
    let c = client();
    let url = s.url(&format!("/clips/{}", f.clip));
    let whole = c.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), f.body.as_slice());
    for (range, from, to) in [
        ("bytes=100-199", 100, 199),
        ("bytes=9990-", 9990, 9999),
        ("bytes=-16", 9984, 9999),
        ("bytes=9000-20000", 9000, 9999),
    ] {
        let r = c.get(&url).header("range", range).send().await.unwrap();
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {from}-{to}/10000").as_str(),
            "{range}"
        );
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            &f.body[from..=to],
            "{range}"
        );
    }
    let past = c
        .get(&url)
        .header("range", "bytes=10000-")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(past.headers()["content-range"], "bytes */10000");
    let head = c.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "10000");
    // Read only: no method that would change it.
    for m in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::POST,
    ] {
        let r = c.request(m.clone(), &url).send().await.unwrap();
        assert_eq!(r.status(), 405, "{m}");
    }
    let gpx = c
        .get(s.url(&format!("/clips/{}/gpx", f.clip)))
        .send()
        .await
        .unwrap();
    assert_eq!(gpx.status(), 200);
    assert_eq!(gpx.headers()["content-type"], "application/gpx+xml");
    assert_eq!(gpx.text().await.unwrap(), "<gpx/>");
    let trip = c
        .get(s.url(&format!("/trips/{}/gpx", f.journey)))
        .send()
        .await
        .unwrap();
    assert_eq!(trip.text().await.unwrap(), "<gpx>trip</gpx>");
    // The files are untouched.
    let on_disk = std::fs::read(
        f.archive
            .join("2025-12-24")
            .join("2025_1224_120000_000001F.MP4"),
    )
    .unwrap();
    assert_eq!(on_disk, f.body);
    s.stop().await;
}

#[tokio::test]
async fn nothing_outside_the_archive_or_not_archived_is_served() {
    let f = fixture().await;
    let s = server(&f, None).await;
    let c = client();
    for path in [
        format!("/clips/{}", f.outside),
        format!("/clips/{}", f.pending),
        format!("/clips/{}/gpx", f.pending),
        "/clips/999999".to_owned(),
        "/clips/-1".to_owned(),
        "/clips/+1".to_owned(),
        format!("/clips/{}/../../secret.MP4", f.clip),
        "/clips/..%2F..%2Fsecret.MP4".to_owned(),
        "/clips/%2e%2e/secret.MP4".to_owned(),
        format!("/clips/{}/other", f.clip),
        "/trips/1x/gpx".to_owned(),
    ] {
        let r = c.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("top secret"), "{path}");
    }
    s.stop().await;
    // Another camera's server does not serve this camera's files.
    let other = StatusModel::new(StatusConfig::new("cam-2", &f.archive), NoPersistence);
    let s = Server::start_with(
        ServerConfig::default().with_store(f.store.clone()),
        other,
        NoActions,
    )
    .await;
    let r = c
        .get(s.url(&format!("/clips/{}", f.clip)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(s.url(&format!("/trips/{}", f.journey)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn files_and_trips_need_the_token_like_the_page() {
    let f = fixture().await;
    let s = server(&f, Some("s3cret")).await;
    let c = client();
    for path in [
        format!("/clips/{}", f.clip),
        format!("/trips/{}", f.journey),
        "/trips".to_owned(),
        "/page.js".to_owned(),
    ] {
        let r = c.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let r = c
            .get(s.url(&path))
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let r = c
            .get(s.url(&path))
            .basic_auth("me", Some("s3cret"))
            .header("range", "bytes=0-0")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}");
    }
    s.stop().await;
    // Without a token: loopback names only, same origin only.
    let s = server(&f, None).await;
    let path = format!("/clips/{}", f.clip);
    let r = c
        .get(s.url(&path))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(s.url(&path))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    s.stop().await;
}
