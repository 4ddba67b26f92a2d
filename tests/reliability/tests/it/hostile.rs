//! Scenario 5, hostile camera: every hostile listing is rejected or its bad
//! items skipped with a clear message; nothing is written outside the
//! archive; memory stays bounded.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use viofo_client::{Client, ListSource};
use viofo_pipeline::Event;
use viofo_sim::{ClipSpec, SimConfig};
use viofo_testkit::{Catalog, Rig, note, test_client_config, walk};
use viofosync_reliability::hostile::{HostileServer, Reply};
use viofosync_reliability::peak_rss;

fn item(name: &str, fpath: &str, size: &str) -> String {
    format!(
        "<ALLFile><File>\n<NAME>{name}</NAME>\n<FPATH>{fpath}</FPATH>\n<SIZE>{size}</SIZE>\n<TIMECODE>1</TIMECODE>\n<TIME>2025/12/24 12:00:00</TIME>\n<ATTR>32</ATTR>\n</File></ALLFile>\n"
    )
}

fn doc(items: &[String]) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<LIST>\n");
    for i in items {
        s.push_str(i);
    }
    s.push_str("</LIST>\n");
    s.into_bytes()
}

/// Hostile XML listings: (label, body, whether the good items must survive).
fn hostile_listings(good: &[String]) -> Vec<(&'static str, Vec<u8>, bool)> {
    let with_good = |bad: Vec<String>| {
        let mut v = good.to_vec();
        v.extend(bad);
        doc(&v)
    };
    let traversal = with_good(vec![
        item(
            "../../../evil1.MP4",
            "A:\\DCIM\\Movie\\..\\..\\..\\evil1.MP4",
            "1000",
        ),
        item("evil2.MP4", "A:\\DCIM\\Movie\\..\\..\\evil2.MP4", "1000"),
        item("passwd", "/etc/passwd", "1000"),
        item("evil3.MP4", "A:\\..\\..\\tmp\\evil3.MP4", "1000"),
        item("sub/evil4.MP4", "A:\\DCIM\\Movie\\sub/evil4.MP4", "1000"),
        item("C:\\evil5.MP4", "C:\\evil5.MP4", "1000"),
        item(
            "evil6.MP4",
            "A:\\DCIM\\Movie\\%2e%2e\\%2e%2e\\evil6.MP4",
            "1000",
        ),
        item("evil7.MP4", "\\\\server\\share\\evil7.MP4", "1000"),
        item("..", "A:\\DCIM\\Movie\\..", "1000"),
        item(
            &"A".repeat(5000),
            &format!("A:\\DCIM\\Movie\\{}.MP4", "A".repeat(5000)),
            "1000",
        ),
        item("evil8.MP4", "A:\\DCIM\\Movie\\..%5c..%5cevil8.MP4", "1000"),
        item("evil9.MP4", "file:///etc/evil9.MP4", "1000"),
    ]);
    // NUL as a raw byte and as a character reference, in an otherwise
    // well-formed listing beside the good items.
    let nul = with_good(vec![
        item("evil\u{0}x.MP4", "A:\\DCIM\\Movie\\evil\u{0}x.MP4", "1000"),
        item("evil&#0;y.MP4", "A:\\DCIM\\Movie\\evil&#0;y.MP4", "1000"),
    ]);
    let sizes = with_good(vec![
        item(
            "2025_1224_130000_000101F.MP4",
            "A:\\DCIM\\Movie\\2025_1224_130000_000101F.MP4",
            "99999999999999999999999999",
        ),
        item(
            "2025_1224_130100_000102F.MP4",
            "A:\\DCIM\\Movie\\2025_1224_130100_000102F.MP4",
            "-5",
        ),
        item(
            "2025_1224_130200_000103F.MP4",
            "A:\\DCIM\\Movie\\2025_1224_130200_000103F.MP4",
            "18446744073709551615",
        ),
        item(
            "2025_1224_130300_000104F.MP4",
            "A:\\DCIM\\Movie\\2025_1224_130300_000104F.MP4",
            "1e12",
        ),
        item(
            "2025_1224_130400_000105F.MP4",
            "A:\\DCIM\\Movie\\2025_1224_130400_000105F.MP4",
            "0x10",
        ),
        item(
            "2025_1224_130500_000106F.MP4",
            "A:\\DCIM\\Movie\\2025_1224_130500_000106F.MP4",
            "9223372036854775807",
        ),
    ]);
    let mut deep = String::from("<?xml version=\"1.0\"?>\n<LIST>");
    deep.push_str(&"<ALLFile>".repeat(200_000));
    deep.push_str(&"</ALLFile>".repeat(200_000));
    deep.push_str("</LIST>");
    let laughs = {
        let mut s =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE LIST [\n<!ENTITY lol \"lol\">\n");
        s.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
        for i in 2..10 {
            let prev = i - 1;
            s.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">\n",
                format!("&lol{prev};").repeat(10)
            ));
        }
        s.push_str("]>\n<LIST><ALLFile><File><NAME>&lol9;.MP4</NAME><FPATH>A:\\DCIM\\Movie\\&lol9;.MP4</FPATH><SIZE>1</SIZE></File></ALLFile></LIST>\n");
        s.into_bytes()
    };
    let xxe = b"<?xml version=\"1.0\"?>\n<!DOCTYPE LIST [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<LIST><ALLFile><File><NAME>&xxe;</NAME><FPATH>A:\\DCIM\\Movie\\&xxe;</FPATH><SIZE>1</SIZE></File></ALLFile></LIST>\n".to_vec();
    let mut truncated = with_good(vec![]);
    truncated.truncate(truncated.len() / 2);
    vec![
        ("path traversal names and FPATHs", traversal, true),
        ("NUL bytes", nul, true),
        ("absurd sizes", sizes, true),
        ("truncated XML", truncated, false),
        (
            "mismatched tags",
            b"<LIST><ALLFile><File><NAME>a.MP4</NAME></ALLFile></File></LIST>".to_vec(),
            false,
        ),
        (
            "binary garbage",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            false,
        ),
        ("empty body", Vec::new(), false),
        ("deeply nested XML", deep.into_bytes(), false),
        ("billion laughs", laughs, false),
        ("external entity", xxe, false),
    ]
}

/// A listing must fail with a clear error, or skip its bad items with a
/// reason and keep only valid ones.
async fn list_clearly(client: &Client, source: ListSource, good: &[String], label: &str) {
    match tokio::time::timeout(Duration::from_secs(30), client.list(source)).await {
        Err(_) => panic!("{label}: listing hung"),
        Ok(Err(e)) => {
            let msg = format!("{e:#}");
            assert!(msg.len() > 10, "{label}: unclear error {msg:?}");
            note(&format!("hostile_camera: {label}: rejected: {msg}"));
        }
        Ok(Ok(l)) => {
            for r in &l.recordings {
                let n = r.file_name().as_str();
                assert!(
                    good.iter().any(|g| g == n),
                    "{label}: accepted a recording that is not one of the good ones: {n:?} ({})",
                    r.remote_path()
                );
                assert!(
                    r.remote_path().starts_with("/DCIM/"),
                    "{label}: {}",
                    r.remote_path()
                );
                assert!(
                    !r.remote_path().contains(".."),
                    "{label}: {}",
                    r.remote_path()
                );
            }
            for s in &l.skipped {
                assert!(
                    !s.reason.is_empty(),
                    "{label}: skipped without a reason: {s:?}"
                );
            }
            note(&format!(
                "hostile_camera: {label}: {} accepted, {} skipped ({})",
                l.recordings.len(),
                l.skipped.len(),
                l.skipped
                    .iter()
                    .take(3)
                    .map(|s| s.reason.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
}

async fn hostile_xml_listings() {
    let rig =
        Rig::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(100_000))).await;
    let catalog = Catalog::of(&rig.sim);
    let good_names = catalog.names();
    let good: Vec<String> = rig
        .sim
        .clips()
        .iter()
        .map(|c| item(&c.name, &c.fpath, &c.size.to_string()))
        .collect();
    let client = rig.client();
    let mut cfg = rig.config();
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    for (label, body, keeps_good) in hostile_listings(&good) {
        rig.sim.set_listing_override(Some(Bytes::from(body)));
        list_clearly(&client, ListSource::Xml, &good_names, label).await;
        if keeps_good {
            let l = client.list(ListSource::Xml).await.expect(label);
            let mut names: Vec<String> = l
                .recordings
                .iter()
                .map(|r| r.file_name().as_str().to_owned())
                .collect();
            names.sort();
            // The good clips survive, unless a previous case deleted them.
            let present: Vec<String> = good_names
                .iter()
                .filter(|n| rig.sim.clip(n).is_some())
                .cloned()
                .collect();
            assert!(
                present.iter().all(|p| names.contains(p)),
                "{label}: good items lost: {names:?}"
            );
            assert!(!l.skipped.is_empty(), "{label}: nothing skipped");
        }
        // A whole cycle over the hostile listing: completes or stops clearly.
        match rig.cycle(cfg.clone()).await {
            Ok(s) => assert!(s.clips <= 2, "{label}: {s:?}"),
            Err(e) => assert!(format!("{e:#}").len() > 10, "{label}: unclear error {e:#}"),
        }
    }
    rig.sim.set_listing_override(None);
    rig.cycle(cfg).await.expect("the real listing syncs");
    let report = rig.check(&catalog).await;
    report.assert_ok();
    assert_eq!(report.archived.len(), 2);
    assert!(
        rig.strays().is_empty(),
        "written outside the archive: {:?}",
        rig.strays()
    );
    let journeys = rig.archive.join("journeys");
    for f in walk(&rig.archive) {
        let n = f.path.file_name().unwrap().to_string_lossy().into_owned();
        // The journeys' merged tracks (named by time and place, never by
        // anything the camera says) have their own folder.
        if f.path.parent() == Some(journeys.as_path()) && n.ends_with(".gpx") {
            continue;
        }
        // The archive's owner lock, named by us.
        if n == viofo_pipeline::archive::LOCK_FILE {
            continue;
        }
        assert!(
            good_names.iter().any(|g| n.starts_with(g.as_str())),
            "unexpected file in the archive: {}",
            f.path.display()
        );
    }
    for r in rig.sim.requests() {
        assert!(
            r.target.starts_with("/DCIM/") || r.target.starts_with("/?custom=1&cmd="),
            "request outside the camera's folders: {}",
            r.target
        );
        let t = r.target.to_ascii_lowercase();
        assert!(
            !t.contains("..") && !t.contains("%2e%2e") && !t.contains("evil"),
            "hostile request sent: {}",
            r.target
        );
    }
    assert!(rig.sim.unsafe_commands().is_empty());
}

/// A 100 MB listing, generated lazily by a hostile server: the client stops
/// at its cap with a clear error instead of reading it all.
async fn huge_listing() {
    const LEN: u64 = 100_000_000;
    let unit = item(
        "2025_1224_120000_000001F.MP4",
        "A:\\DCIM\\Movie\\2025_1224_120000_000001F.MP4",
        "1000",
    )
    .into_bytes();
    let handler = Arc::new(move |target: &str| {
        if target.contains("cmd=3015") {
            Reply::Stream {
                head: b"<?xml version=\"1.0\"?>\n<LIST>\n".to_vec(),
                unit: unit.clone(),
                len: LEN,
            }
        } else {
            Reply::NotFound
        }
    });
    let server = HostileServer::start(handler).await;
    let client = Client::new(test_client_config(&server.base_url())).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(60), client.list(ListSource::Xml))
        .await
        .expect("bounded")
        .expect_err("a 100 MB listing is refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("cap") || msg.contains("large") || msg.contains("items"),
        "unclear error for a 100 MB listing: {msg}"
    );
    let sent = server.body_bytes_sent();
    assert!(
        sent < 40_000_000,
        "the client read {sent} bytes of a 100 MB listing (cap 16 MiB)"
    );
    note(&format!(
        "hostile_camera: 100 MB listing: rejected after {sent} bytes: {msg}"
    ));
}

/// HTML pages whose links point outside /DCIM: never requested, never
/// written.
async fn hostile_html_pages() {
    let page = r#"<html><body><table>
<tr><td><a href="/etc/passwd"><b>passwd</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="../../evil1.MP4"><b>evil1.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="/DCIM/Movie/../../../etc/evil2.MP4"><b>evil2.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="http://127.0.0.2:9/DCIM/Movie/evil3.MP4"><b>evil3.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="/SD/evil4.MP4"><b>evil4.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="javascript:alert(1)"><b>evil5.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="/DCIM/Movie/%2e%2e/%2e%2e/evil6.MP4"><b>evil6.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="//127.0.0.2/DCIM/Movie/evil7.MP4"><b>evil7.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:00:00</td></tr>
<tr><td><a href="/DCIM/Movie/2025_1224_120000_000001F.MP4"><b>2025_1224_120000_000001F.MP4</b></a></td><td align=right>1.00 KB</td><td align=right>2025/12/24 12:01:00</td></tr>
</table></body></html>"#;
    let handler = Arc::new(move |target: &str| {
        if target == "/DCIM/Movie" || target == "/DCIM/Movie/" {
            Reply::Body(page.as_bytes().to_vec())
        } else if target.contains("cmd=3016") {
            Reply::Body(
                b"<?xml version=\"1.0\"?><Function><Cmd>3016</Cmd><Status>0</Status></Function>"
                    .to_vec(),
            )
        } else if target.contains("cmd=3014") {
            Reply::Body(
                b"<?xml version=\"1.0\"?><Function><Cmd>2001</Cmd><Status>0</Status></Function>"
                    .to_vec(),
            )
        } else if target.contains("cmd=3012") {
            Reply::Body(b"<?xml version=\"1.0\"?><Function><Cmd>3012</Cmd><Status>0</Status><String>VIOFO_A329S_V2.0_260313</String></Function>".to_vec())
        } else {
            Reply::NotFound
        }
    });
    let server = HostileServer::start(handler).await;
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("archive");
    let store =
        viofo_store::Store::open(viofo_store::StoreOptions::at(root.path().join("state.db")))
            .await
            .unwrap();
    let client = Client::new(test_client_config(&server.base_url())).unwrap();
    list_clearly(
        &client,
        ListSource::Html,
        &["2025_1224_120000_000001F.MP4".to_owned()],
        "HTML hrefs outside /DCIM",
    )
    .await;
    let mut cfg = viofo_pipeline::SyncConfig::new("hostile", &archive);
    cfg.list_source = ListSource::Html;
    cfg.delete_after_download = true;
    cfg.delete_settle = viofosync_reliability::DELETE_SETTLE;
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let ev = events.clone();
    let syncer = viofo_pipeline::Syncer::new(client, store.clone(), cfg, move |e: Event| {
        ev.lock().unwrap().push(e);
    })
    .unwrap();
    let res = tokio::time::timeout(
        Duration::from_secs(60),
        syncer.run_cycle(&viofo_pipeline::Shutdown::new()),
    )
    .await
    .expect("bounded");
    if let Err(e) = &res {
        assert!(format!("{e:#}").len() > 10, "unclear error: {e:#}");
    }
    for t in server.targets() {
        assert!(
            t.starts_with("/DCIM/Movie") || t.starts_with("/?custom=1&cmd="),
            "requested a path outside the camera's folders: {t}"
        );
        let l = t.to_ascii_lowercase();
        assert!(
            !l.contains("..") && !l.contains("%2e") && !l.contains("evil"),
            "followed a hostile link: {t}"
        );
        assert!(
            !l.contains("4003") && !l.contains("del=1"),
            "sent a delete for a clip it never archived: {t}"
        );
    }
    let written: Vec<_> = walk(root.path())
        .into_iter()
        .map(|f| f.path)
        .filter(|p| !p.starts_with(&archive) && !p.to_string_lossy().contains("state.db"))
        .collect();
    assert!(
        written.is_empty(),
        "written outside the archive: {written:?}"
    );
    assert!(
        walk(&archive)
            .iter()
            .all(|f| !f.path.to_string_lossy().contains("evil")),
        "a hostile link reached the archive"
    );
}

pub(crate) async fn hostile_camera() {
    let before = peak_rss();
    hostile_xml_listings().await;
    huge_listing().await;
    hostile_html_pages().await;
    if let (Some(b), Some(a)) = (before, peak_rss()) {
        let grew = a.saturating_sub(b);
        note(&format!(
            "hostile_camera: peak RSS {} -> {} MB",
            b >> 20,
            a >> 20
        ));
        // Generous: the client caps a listing at 16 MiB; the deep document is
        // 3.8 MB; other tests share this process.
        assert!(grew < 160 << 20, "peak RSS grew by {} MB", grew >> 20);
    } else {
        note("hostile_camera: VmHWM unavailable; memory bound not measured");
    }
}
