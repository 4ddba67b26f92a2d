//! Real-firmware behaviours the sync must survive: clips that grow while the
//! camera says it is not recording, one name in two folders, a lock pressed
//! during a download, reset bursts and cut listings.

use std::time::Duration;

use crate::{get, read_response, send, xml_value};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use viofo_sim::{
    ClipDef, ClipSpec, Fault, Folder, ListingEnd, LockStyle, Outcome, Sim, SimConfig, Target,
};

fn enc(s: &str) -> String {
    s.replace('\\', "%5C")
}

/// Every `<File>` entry of a listing with the given NAME: (FPATH, SIZE, ATTR).
fn entries(doc: &str, name: &str) -> Vec<(String, u64, String)> {
    doc.split("<File>")
        .filter(|e| e.contains(&format!("<NAME>{name}</NAME>")))
        .map(|e| {
            (
                xml_value(e, "FPATH").unwrap(),
                xml_value(e, "SIZE").unwrap().parse().unwrap(),
                xml_value(e, "ATTR").unwrap(),
            )
        })
        .collect()
}

async fn listing(sim: &Sim) -> String {
    get(sim.addr(), "/?custom=1&cmd=3015&par=1").await.text()
}

fn recording_flag(doc: &str) -> String {
    let i = doc.find("<Cmd>2001</Cmd>").unwrap();
    xml_value(&doc[i..], "Status").unwrap()
}

fn decode(r: viofo_sim::ClipReader) -> Vec<(i64, f64, f64)> {
    let got = viofo_gps::extract_reader(r, &viofo_gps::Options::default()).unwrap();
    got.points
        .iter()
        .map(|p| (p.time.unix_timestamp(), p.lat, p.lon))
        .collect()
}

async fn quick(config: SimConfig) -> Sim {
    Sim::start(config.delete_delay(Duration::ZERO))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_clip_grows_silently_while_the_camera_says_not_recording() {
    let sim = quick(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(300_000))).await;
    let newest = sim.clips()[1].clone();
    let before = sim.clip_bytes(&newest.name).unwrap();
    let doc = listing(&sim).await;
    assert_eq!(entries(&doc, &newest.name)[0].1, 300_000);

    assert!(sim.grow_clip(&newest.name, 123_456));
    let doc = listing(&sim).await;
    assert_eq!(entries(&doc, &newest.name)[0].1, 423_456);
    let state = get(sim.addr(), "/?custom=1&cmd=3014").await.text();
    assert_eq!(recording_flag(&state), "0");
    let info = sim.clip(&newest.name).unwrap();
    assert_eq!(info.size, 423_456);
    assert!(!info.growing, "the camera does not say it is recording");

    // Downloads serve the new bytes: the front region rewritten, the rest
    // of the old bytes kept, a new tail after them.
    let r = get(sim.addr(), &newest.url_path).await;
    assert_eq!(r.header("content-length").unwrap(), "423456");
    assert!(r.body == sim.clip_bytes(&newest.name).unwrap());
    assert!(r.body[0x2000..300_000] == before[0x2000..]);
    assert!(r.body[..0x2000] != before[..0x2000], "mdat size rewritten");
    // A resume from the old size gets exactly the new tail.
    let tail = crate::request(
        sim.addr(),
        "GET",
        &newest.url_path,
        &[("Range", "bytes=300000-")],
    )
    .await;
    assert_eq!(tail.status, 206);
    assert!(tail.body == r.body[300_000..]);
    // The GPS track still decodes, and says what the sim says it holds.
    let expected: Vec<(i64, f64, f64)> = sim
        .gps_points(&newest.name)
        .unwrap()
        .iter()
        .map(|p| (p.time.assume_utc().unix_timestamp(), p.lat, p.lon))
        .collect();
    let got = decode(sim.clip_reader(&newest.name).unwrap());
    assert_eq!(got.len(), expected.len());
    assert!(!got.is_empty());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.0, e.0);
        assert!((g.1 - e.1).abs() < 1e-6 && (g.2 - e.2).abs() < 1e-6);
    }

    // The camera accepts the delete: the bytes grown since a download are lost.
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", enc(&newest.fpath)),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "0");
    let gone = sim.deleted_clips();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].size, 423_456);
    let mut lost = Vec::new();
    sim.deleted_clip_reader(&newest.name)
        .unwrap()
        .read_to_end_sync(&mut lost);
    assert!(lost == r.body);

    // Only synthetic, existing clips grow.
    assert!(!sim.grow_clip("nope.MP4", 1));
    sim.add_clip(ClipDef::from_bytes(
        "2025_1224_130000_000009F.MP4",
        Folder::Movie,
        &b"tiny"[..],
    ))
    .unwrap();
    assert!(!sim.grow_clip("2025_1224_130000_000009F.MP4", 1));
}

trait ReadAll {
    fn read_to_end_sync(self, out: &mut Vec<u8>);
}

impl ReadAll for viofo_sim::ClipReader {
    fn read_to_end_sync(mut self, out: &mut Vec<u8>) {
        std::io::Read::read_to_end(&mut self, out).unwrap();
    }
}

#[tokio::test]
async fn a_clip_grows_on_every_listing_served() {
    let sim = quick(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(200_000))).await;
    let c = sim.clips()[2].clone();
    let other = sim.clips()[0].clone();
    assert!(sim.set_growth_per_listing(&c.name, 10_000));
    assert!(!sim.set_growth_per_listing("nope.MP4", 10_000));
    let mut sizes = Vec::new();
    for _ in 0..3 {
        sizes.push(entries(&listing(&sim).await, &c.name)[0].1);
    }
    assert_eq!(sizes, [210_000, 220_000, 230_000]);
    assert_eq!(sim.clip(&other.name).unwrap().size, 200_000);
    // The HTML page of its folder is a listing too; another folder's is not.
    get(sim.addr(), "/DCIM/Movie/RO").await;
    assert_eq!(sim.clip(&c.name).unwrap().size, 230_000);
    let page = get(sim.addr(), "/DCIM/Movie").await.text();
    assert!(page.contains(&viofo_sim::html_size(240_000)), "{page}");
    // Each download serves what the last listing showed, and GPS decodes.
    let r = get(sim.addr(), &c.url_path).await;
    assert_eq!(r.body.len(), 240_000);
    assert!(!decode(sim.clip_reader(&c.name).unwrap()).is_empty());
    // 0 stops it.
    assert!(sim.set_growth_per_listing(&c.name, 0));
    listing(&sim).await;
    assert_eq!(sim.clip(&c.name).unwrap().size, 240_000);
}

#[tokio::test]
async fn one_name_in_two_folders_with_different_content() {
    const NAME: &str = "2025_1224_120000_000001F.MP4";
    let sim = quick(
        SimConfig::default()
            .with_clip(ClipDef::synthetic(NAME, Folder::Movie, 150_000))
            .with_clip(ClipDef::synthetic(NAME, Folder::Ro, 150_000).allow_same_name()),
    )
    .await;
    let doc = listing(&sim).await;
    let listed = entries(&doc, NAME);
    assert_eq!(listed.len(), 2, "{doc}");
    assert!(listed.contains(&(format!("A:\\DCIM\\Movie\\{NAME}"), 150_000, "32".into())));
    assert!(listed.contains(&(format!("A:\\DCIM\\Movie\\RO\\{NAME}"), 150_000, "33".into())));
    let movie = sim.clip_at(Folder::Movie, NAME).unwrap();
    let ro = sim.clip_at(Folder::Ro, NAME).unwrap();
    assert!(!movie.locked && ro.locked);
    let movie_bytes = sim.clip_bytes_at(Folder::Movie, NAME).unwrap();
    let ro_bytes = sim.clip_bytes_at(Folder::Ro, NAME).unwrap();
    assert!(movie_bytes != ro_bytes);
    assert!(get(sim.addr(), &movie.url_path).await.body == movie_bytes);
    assert!(get(sim.addr(), &ro.url_path).await.body == ro_bytes);
    assert!(
        sim.gps_points_at(Folder::Movie, NAME).unwrap()
            != sim.gps_points_at(Folder::Ro, NAME).unwrap()
    );
    // Name-based calls take the first in listing order.
    assert_eq!(
        sim.clip(NAME).unwrap().folder,
        listed_first_folder(&doc, NAME)
    );

    // A third copy added at run time, same size: still distinct content.
    let parked = sim
        .add_clip(ClipDef::synthetic(NAME, Folder::Parking, 150_000).allow_same_name())
        .unwrap();
    assert_eq!(parked.folder, Folder::Parking);
    assert!(sim.clip_bytes_at(Folder::Parking, NAME).unwrap() != movie_bytes);
    // Refused: a same-folder duplicate, and any duplicate without asking.
    let again = ClipDef::synthetic(NAME, Folder::Parking, 1).allow_same_name();
    assert!(sim.add_clip(again).unwrap_err().is_config());
    let err = Sim::start(
        SimConfig::default()
            .with_clip(ClipDef::synthetic(NAME, Folder::Movie, 1))
            .with_clip(ClipDef::synthetic(NAME, Folder::Ro, 1)),
    )
    .await
    .unwrap_err();
    assert!(err.is_config());

    // Deleting one path deletes that clip only.
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", enc(&movie.fpath)),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "0");
    assert!(sim.clip_at(Folder::Movie, NAME).is_none());
    assert!(sim.clip_bytes_at(Folder::Ro, NAME).unwrap() == ro_bytes);
    assert_eq!(sim.deleted_clips()[0].folder, Folder::Movie);
}

fn listed_first_folder(doc: &str, name: &str) -> Folder {
    let fpath = &entries(doc, name)[0].0;
    if fpath.contains("\\RO\\") {
        Folder::Ro
    } else if fpath.contains("\\Parking\\") {
        Folder::Parking
    } else {
        Folder::Movie
    }
}

/// Reads exactly the head and `Content-Length` body bytes, leaving the
/// socket open (the server has not closed it yet when this returns).
async fn read_exact_response(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1);
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    body
}

#[tokio::test]
async fn the_lock_button_pressed_during_a_download() {
    let sim = quick(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(100_000))).await;
    let [a, b, c] = <[_; 3]>::try_from(sim.clips()).unwrap();

    // Moved to RO the moment the last byte is served: locked before the
    // client has even seen the socket close.
    assert!(sim.lock_on_download(&a.name));
    assert!(!sim.lock_on_download("nope.MP4"));
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    send(&mut s, "GET", &a.url_path, &[]).await;
    let body = read_exact_response(&mut s).await;
    assert_eq!(body.len(), 100_000);
    let now = sim.clip(&a.name).unwrap();
    assert!(now.locked);
    assert_eq!(now.folder, Folder::Ro);
    drop(read_response(&mut s).await);
    let doc = listing(&sim).await;
    assert_eq!(
        entries(&doc, &a.name),
        [(now.fpath.clone(), 100_000, "33".to_owned())]
    );
    assert_eq!(get(sim.addr(), &a.url_path).await.status, 404);
    // Its new path cannot be deleted (locked).
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", enc(&now.fpath)),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "-1");

    // ATTR 33 in place: the path stays, the lock shows in the listing.
    assert!(sim.lock_on_download_with(&b.name, LockStyle::AttrInPlace));
    // A cut download and a range short of the end do not complete it...
    sim.inject(Fault::drop_after(40_000).on(Target::Download));
    assert!(get(sim.addr(), &b.url_path).await.body.len() <= 40_000);
    let part = crate::request(sim.addr(), "GET", &b.url_path, &[("Range", "bytes=0-999")]).await;
    assert_eq!(part.status, 206);
    assert!(!sim.clip(&b.name).unwrap().locked);
    // ...the resumed tail does.
    let tail = crate::request(sim.addr(), "GET", &b.url_path, &[("Range", "bytes=40000-")]).await;
    assert_eq!(tail.body.len(), 60_000);
    let now = sim.clip(&b.name).unwrap();
    assert!(now.locked);
    assert_eq!(now.url_path, b.url_path);
    let doc = listing(&sim).await;
    assert_eq!(entries(&doc, &b.name)[0].2, "33");
    let doc = get(
        sim.addr(),
        &format!("/?custom=1&cmd=4003&str={}", enc(&b.fpath)),
    )
    .await
    .text();
    assert_eq!(xml_value(&doc, "Status").unwrap(), "-1");
    // A plain lock in place works too.
    assert!(sim.lock_clip_with(&c.name, LockStyle::AttrInPlace));
    assert!(sim.clip(&c.name).unwrap().locked);
    assert_eq!(sim.clip(&c.name).unwrap().folder, Folder::Movie);
}

#[tokio::test(start_paused = true)]
async fn a_reset_burst_then_a_healthy_camera() {
    let sim = quick(SimConfig::default().with_clips(ClipSpec::synthetic(1).size(50_000))).await;
    let c = sim.clips()[0].clone();
    sim.inject(Fault::reset_burst(20));
    let t = Instant::now();
    for k in 0..20 {
        let r = get(sim.addr(), &c.url_path).await;
        assert!(
            r.status == 0 && r.body.is_empty(),
            "attempt {k}: {}",
            r.status
        );
        // The heartbeat in between is answered: the camera looks alive.
        assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
    }
    assert!(t.elapsed() < Duration::from_millis(100));
    let resets = sim
        .requests()
        .iter()
        .filter(|r| r.outcome == Outcome::Reset)
        .count();
    assert_eq!(resets, 20);
    assert_eq!(get(sim.addr(), &c.url_path).await.body.len(), 50_000);

    // Every request, heartbeats included.
    sim.inject(Fault::reset_burst(3).on(Target::Any));
    for _ in 0..3 {
        assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 0);
    }
    assert_eq!(get(sim.addr(), "/?custom=1&cmd=3016").await.status, 200);
}

#[tokio::test]
async fn listings_cut_like_real_firmware() {
    let sim = quick(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(3).size(123_456))
            .listing_end(ListingEnd::MissingFinalGt),
    )
    .await;
    let names: Vec<String> = sim.clips().into_iter().map(|c| c.name).collect();
    let doc = listing(&sim).await;
    assert!(doc.ends_with("</File></ALLFile>\n</LIST"), "{doc}");
    for n in &names {
        assert_eq!(entries(&doc, n)[0].1, 123_456);
    }

    sim.set_listing_end(ListingEnd::CutMidItem);
    sim.set_listing_content_length(true);
    let r = get(sim.addr(), "/?custom=1&cmd=3015&par=1").await;
    let doc = r.text();
    assert_eq!(r.header("content-length").unwrap(), doc.len().to_string());
    for n in &names[..2] {
        assert!(doc.contains(&format!("<NAME>{n}</NAME>")));
        assert_eq!(entries(&doc, n)[0].1, 123_456);
    }
    let last = doc.rfind("<File>").unwrap();
    assert!(doc[last..].contains(&format!("<NAME>{}</NAME>", names[2])));
    assert!(!doc[last..].contains("</SIZE>"), "{}", &doc[last..]);
    assert!(doc.ends_with("<SIZE>123"), "{doc}");

    // The cut follows the card.
    sim.add_clip(ClipDef::synthetic(
        "2025_1224_130000_000009F.MP4",
        Folder::Movie,
        98_765,
    ))
    .unwrap();
    assert!(listing(&sim).await.ends_with("<SIZE>98"));

    sim.set_listing_end(ListingEnd::Complete);
    assert!(listing(&sim).await.ends_with("</LIST>\n"));
}
