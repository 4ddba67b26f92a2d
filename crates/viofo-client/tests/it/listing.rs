//! Listings from the simulator: both XML shapes, HTML, quirks, hostile
//! documents and caps.

use bytes::Bytes;
use viofo_client::{Channel, Client, ListSource, Size};
use viofo_sim::{ClipDef, ClipSpec, Fault, Folder, ListingShape, Sim, SimConfig, Target};

use crate::{client, config};

async fn mixed_sim() -> Sim {
    Sim::start(
        SimConfig::default()
            .with_clips(
                ClipSpec::synthetic(6)
                    .size_range(50_000, 3_000_000)
                    .rear(true)
                    .parking_every(3)
                    .locked_every(4),
            )
            .with_clip(ClipDef::synthetic(
                "20260827204333_000029.MP4",
                Folder::Movie,
                4_321,
            ))
            .seed(7),
    )
    .await
    .unwrap()
}

/// Every clip on the card is listed with the facts the simulator holds.
fn check_against_sim(sim: &Sim, listing: &viofo_client::Listing, exact: bool) {
    assert!(listing.skipped.is_empty(), "{:?}", listing.skipped);
    let clips = sim.clips();
    assert_eq!(listing.recordings.len(), clips.len());
    for clip in &clips {
        let r = listing
            .recordings
            .iter()
            .find(|r| r.file_name().as_str() == clip.name)
            .unwrap_or_else(|| panic!("{} missing", clip.name));
        assert_eq!(r.remote_path(), clip.url_path);
        assert_eq!(r.is_locked(), clip.locked, "{}", clip.name);
        assert_eq!(r.is_parking(), clip.parking, "{}", clip.name);
        assert_eq!(r.end(), Some(clip.end), "{}", clip.name);
        assert_eq!(r.start(), Some(clip.start), "{}", clip.name);
        if exact {
            assert_eq!(r.size(), Size::Exact(clip.size));
            assert_eq!(r.listed_path(), clip.fpath);
        } else {
            let Size::Approx(a) = r.size() else {
                panic!("{:?}", r.size())
            };
            assert!(
                a.abs_diff(clip.size) <= clip.size / 100 + 1024,
                "{} vs {}",
                a,
                clip.size
            );
        }
        let want = if clip.name.ends_with("F.MP4") {
            Channel::Front
        } else if clip.name.ends_with("R.MP4") {
            Channel::Rear
        } else {
            Channel::Unknown
        };
        assert_eq!(r.channel(), want, "{}", clip.name);
    }
    assert!(clips.iter().any(|c| c.locked) && clips.iter().any(|c| c.parking));
}

#[tokio::test(start_paused = true)]
async fn xml_both_shapes_with_and_without_content_length() {
    let sim = mixed_sim().await;
    let c = client(&sim);
    for shape in [ListingShape::Nested, ListingShape::Flat] {
        for cl in [false, true] {
            sim.set_listing_shape(shape);
            sim.set_listing_content_length(cl);
            let l = c.list(ListSource::Xml).await.unwrap();
            check_against_sim(&sim, &l, true);
        }
    }
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn html_pages_give_the_same_clips_with_rounded_sizes() {
    let sim = mixed_sim().await;
    let c = client(&sim);
    let l = c.list(ListSource::Html).await.unwrap();
    check_against_sim(&sim, &l, false);
    let pages: Vec<_> = sim.requests().iter().map(|r| r.target.clone()).collect();
    assert!(
        pages.iter().any(|t| t.starts_with("/DCIM/Movie/RO")),
        "{pages:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn hostile_items_are_skipped_with_reasons() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let c = client(&sim);
    let item = |name: &str, fpath: &str, size: &str| {
        format!(
            "<File><NAME>{name}</NAME><FPATH>{fpath}</FPATH><SIZE>{size}</SIZE><ATTR>32</ATTR></File>"
        )
    };
    let doc = format!(
        "<?xml version=\"1.0\"?><LIST><ALLFile>{}{}{}{}{}</ALLFile></LIST>",
        item("x.MP4", "A:\\DCIM\\..\\..\\x.MP4", "1"),
        item("evil.MP4", "/etc/evil.MP4", "1"),
        item("n&#1;.MP4", "A:\\DCIM\\Movie\\n&#1;.MP4", "1"),
        item(
            "huge.MP4",
            "A:\\DCIM\\Movie\\huge.MP4",
            "18446744073709551615"
        ),
        item("ok.MP4", "A:\\DCIM\\Movie\\ok.MP4", "10"),
    );
    sim.set_listing_override(Some(Bytes::from(doc)));
    let l = c.list(ListSource::Xml).await.unwrap();
    assert_eq!(l.recordings.len(), 1);
    assert_eq!(l.recordings[0].remote_path(), "/DCIM/Movie/ok.MP4");
    assert_eq!(l.skipped.len(), 4, "{:?}", l.skipped);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn malformed_truncated_and_entity_documents() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let c = client(&sim);
    let cases: [(&str, bool); 4] = [
        ("<LIST><File><NAME>a.MP4</NAME></Oops></LIST>", false),
        ("<LIST><ALLFile><File><NAME>a.MP4</NAME>", true),
        (
            "<!DOCTYPE x [<!ENTITY a \"aaaaaaaa\">]><LIST>&a;</LIST>",
            false,
        ),
        ("", true),
    ];
    for (doc, retry) in cases {
        sim.set_listing_override(Some(Bytes::from(doc)));
        let e = c.list(ListSource::Xml).await.unwrap_err();
        assert_eq!(e.is_retryable(), retry, "{doc}: {e}");
    }
    let deep = format!("<LIST>{}</LIST>", "<a>".repeat(50_000));
    sim.set_listing_override(Some(Bytes::from(deep)));
    let e = c.list(ListSource::Xml).await.unwrap_err();
    assert!(!e.is_retryable() && e.to_string().contains("deeper"), "{e}");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn byte_and_item_caps() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(12).size(1000)))
        .await
        .unwrap();
    let mut cfg = config(&sim);
    cfg.max_listing_items = 10;
    let c = Client::new(cfg.clone()).unwrap();
    let e = c.list(ListSource::Xml).await.unwrap_err();
    assert!(
        !e.is_retryable() && e.to_string().contains("more than 10"),
        "{e}"
    );
    let e = c.list(ListSource::Html).await.unwrap_err();
    assert!(e.to_string().contains("more than 10"), "{e}");

    cfg.max_listing_items = 1000;
    cfg.max_listing_bytes = 64 * 1024;
    let c = Client::new(cfg).unwrap();
    let mut huge = String::from("<LIST>");
    while huge.len() < 200_000 {
        huge.push_str(
            "<File><NAME>a.MP4</NAME><FPATH>A:\\DCIM\\Movie\\a.MP4</FPATH><SIZE>1</SIZE></File>",
        );
    }
    huge.push_str("</LIST>");
    for cl in [false, true] {
        sim.set_listing_content_length(cl);
        sim.set_listing_override(Some(Bytes::from(huge.clone())));
        let e = c.list(ListSource::Xml).await.unwrap_err();
        assert!(!e.is_retryable() && e.to_string().contains("cap"), "{e}");
    }
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn cut_listings_keep_complete_items_unless_the_link_failed() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(20).size(1000)))
        .await
        .unwrap();
    let c = client(&sim);
    sim.inject(Fault::drop_after(700).on(Target::Cmd(3015)));
    let e = c.list(ListSource::Xml).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    // A clean close mid-document with no Content-Length (how the camera
    // ends every listing) keeps the complete items and says it was cut.
    sim.inject(Fault::close_after(700).on(Target::Cmd(3015)));
    let l = c.list(ListSource::Xml).await.unwrap();
    assert!(l.truncated.is_some(), "{l:?}");
    assert!(!l.recordings.is_empty() && l.recordings.len() < 20, "{l:?}");
    // The same close short of a Content-Length is a failed link: retry.
    sim.set_listing_content_length(true);
    sim.inject(Fault::close_after(700).on(Target::Cmd(3015)));
    let e = c.list(ListSource::Xml).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    sim.set_listing_content_length(false);
    // So is a close before any complete item.
    sim.inject(Fault::close_after(100).on(Target::Cmd(3015)));
    let e = c.list(ListSource::Xml).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    sim.inject(Fault::status(503).on(Target::Cmd(3015)));
    let e = c.list(ListSource::Xml).await.unwrap_err();
    assert!(e.is_retryable() && e.status() == Some(503), "{e}");
    sim.inject(Fault::drop_after(100).on(Target::Html));
    assert!(c.list(ListSource::Html).await.unwrap_err().is_retryable());

    // A reset right after a complete document (trailing junk never read)
    // is fine.
    let doc = "<?xml version=\"1.0\"?><LIST><File><NAME>a.MP4</NAME><FPATH>A:\\DCIM\\Movie\\a.MP4</FPATH><SIZE>5</SIZE></File></LIST>\n";
    let body = format!("{doc}{}", " ".repeat(100_000));
    sim.set_listing_override(Some(Bytes::from(body)));
    sim.inject(Fault::drop_after(doc.len() as u64 + 10).on(Target::Cmd(3015)));
    let l = c.list(ListSource::Xml).await.unwrap();
    assert_eq!(l.recordings.len(), 1);
    sim.shutdown().await;
}

/// The tail of a real Novatek capture: `...</ATTR></File>\n</ALLFile>\n</LIST`
/// with the final `>` missing. Every item before it is complete.
#[tokio::test(start_paused = true)]
async fn real_novatek_listing_without_the_final_gt() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let c = client(&sim);
    let item = |n: u32, folder: &str, attr: u32| {
        format!(
            "<File>\n<NAME>2025_1224_1203{n:02}_0000{n:02}F.MP4</NAME>\n<FPATH>A:\\DCIM\\Movie\\{folder}2025_1224_1203{n:02}_0000{n:02}F.MP4</FPATH>\n<SIZE>1321205{n:02}</SIZE>\n<TIMECODE>1536712835</TIMECODE>\n<TIME>2025/12/24 12:04:06</TIME>\n<ATTR>{attr}</ATTR></File>\n"
        )
    };
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<LIST>\n<ALLFile>{}{}{}</ALLFile>\n</LIST",
        item(1, "", 32),
        item(2, "RO\\", 33),
        item(3, "", 32),
    );
    assert!(doc.ends_with("</ATTR></File>\n</ALLFile>\n</LIST"));
    for cl in [false, true] {
        sim.set_listing_content_length(cl);
        sim.set_listing_override(Some(Bytes::from(doc.clone())));
        let l = c.list(ListSource::Xml).await.unwrap();
        let names: Vec<_> = l
            .recordings
            .iter()
            .map(|r| r.file_name().as_str())
            .collect();
        assert_eq!(
            names,
            [
                "2025_1224_120301_000001F.MP4",
                "2025_1224_120302_000002F.MP4",
                "2025_1224_120303_000003F.MP4"
            ]
        );
        assert!(l.recordings[1].is_locked());
        assert!(l.skipped.is_empty(), "{:?}", l.skipped);
        assert!(
            l.is_complete(),
            "only the root's `>` is missing: {:?}",
            l.truncated
        );
    }
    sim.shutdown().await;
}
