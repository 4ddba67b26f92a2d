use crate::{get, xml_value};
use viofo_sim::{ClipSpec, ListingShape, Sim, SimConfig};

async fn sim(clips: usize) -> Sim {
    Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(clips).size(150_000).rear(true)))
        .await
        .unwrap()
}

#[tokio::test]
async fn listing_is_close_delimited_and_lists_every_clip() {
    let sim = sim(3).await;
    let r = get(sim.addr(), "/?custom=1&cmd=3015&par=1").await;
    assert_eq!(r.status, 200);
    assert!(r.error.is_none());
    assert_eq!(r.header("content-length"), None, "{}", r.head);
    assert_eq!(r.header("transfer-encoding"), None);
    let doc = r.text();
    assert!(doc.starts_with("<?xml"));
    assert!(doc.trim_end().ends_with("</LIST>"));
    let clips = sim.clips();
    assert_eq!(clips.len(), 6);
    assert_eq!(doc.matches("<ALLFile><File>").count(), 6);
    for c in &clips {
        let entry = doc
            .split("<File>")
            .find(|e| e.contains(&format!("<NAME>{}</NAME>", c.name)))
            .unwrap();
        assert_eq!(xml_value(entry, "FPATH").unwrap(), c.fpath);
        assert_eq!(xml_value(entry, "SIZE").unwrap(), c.size.to_string());
        assert_eq!(
            xml_value(entry, "ATTR").unwrap(),
            if c.locked { "33" } else { "32" }
        );
        assert!(
            xml_value(entry, "TIME")
                .unwrap()
                .starts_with("2025/12/24 12:0")
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn listing_shapes_and_optional_content_length() {
    let sim = sim(2).await;
    sim.set_listing_shape(ListingShape::Flat);
    sim.set_listing_content_length(true);
    let r = get(sim.addr(), "/?custom=1&cmd=3015&par=1").await;
    let doc = r.text();
    assert!(!doc.contains("ALLFile"));
    assert_eq!(doc.matches("<File>").count(), 4);
    assert_eq!(
        r.header("content-length").unwrap(),
        r.body.len().to_string()
    );
}

#[tokio::test]
async fn listing_override_is_served_verbatim() {
    let sim = sim(1).await;
    let hostile =
        b"<LIST><ALLFile><File><NAME>../../etc/passwd</NAME><SIZE>99999999999999999999</SIZE>\0"
            .to_vec();
    sim.set_listing_override(Some(hostile.clone().into()));
    assert_eq!(
        get(sim.addr(), "/?custom=1&cmd=3015&par=1").await.body,
        hostile
    );
    sim.set_listing_override(None);
    assert!(
        get(sim.addr(), "/?custom=1&cmd=3015&par=1")
            .await
            .text()
            .contains("<LIST>")
    );
}

#[tokio::test]
async fn heartbeat_firmware_state_and_free_space() {
    let sim = Sim::start(
        SimConfig::default()
            .with_clips(ClipSpec::synthetic(2).size(100_000))
            .firmware("VIOFO_A229_PRO_V1.3_250101")
            .card_capacity(1_000_000),
    )
    .await
    .unwrap();
    let hb = get(sim.addr(), "/?custom=1&cmd=3016").await.text();
    assert_eq!(xml_value(&hb, "Cmd").unwrap(), "3016");
    assert_eq!(xml_value(&hb, "Status").unwrap(), "0");
    let fw = get(sim.addr(), "/?custom=1&cmd=3012").await.text();
    assert_eq!(
        xml_value(&fw, "String").unwrap(),
        "VIOFO_A229_PRO_V1.3_250101"
    );
    let free = get(sim.addr(), "/?custom=1&cmd=3017").await.text();
    assert_eq!(xml_value(&free, "Value").unwrap(), "800000");

    let flag = |doc: String| {
        let i = doc.find("<Cmd>2001</Cmd>").unwrap();
        xml_value(&doc[i..], "Status").unwrap()
    };
    assert_eq!(
        flag(get(sim.addr(), "/?custom=1&cmd=3014").await.text()),
        "0"
    );
    sim.set_recording(true);
    assert_eq!(
        flag(get(sim.addr(), "/?custom=1&cmd=3014").await.text()),
        "1"
    );
    assert_eq!(
        xml_value(
            &get(sim.addr(), "/?custom=1&cmd=2001&par=0").await.text(),
            "Status"
        )
        .unwrap(),
        "0"
    );
    assert!(!sim.is_recording());
}

#[tokio::test]
async fn unsafe_commands_are_refused_and_recorded() {
    let sim = sim(1).await;
    for cmd in [4004, 3010, 9316] {
        let doc = get(sim.addr(), &format!("/?custom=1&cmd={cmd}"))
            .await
            .text();
        assert_ne!(xml_value(&doc, "Status").unwrap(), "0");
    }
    assert_eq!(sim.unsafe_commands(), vec![4004, 3010, 9316]);
    assert_eq!(sim.clips().len(), 2, "delete-all must not delete anything");
    // A harmless command is not recorded as unsafe.
    get(sim.addr(), "/?custom=1&cmd=3016").await;
    assert_eq!(sim.unsafe_commands().len(), 3);
}

#[tokio::test]
async fn html_pages_show_rounded_sizes_and_delete_links() {
    let sim = Sim::start(
        SimConfig::default().with_clips(
            ClipSpec::synthetic(6)
                .size(106_954_752)
                .parking_every(3)
                .locked_every(2),
        ),
    )
    .await
    .unwrap();
    let movie = get(sim.addr(), "/DCIM/Movie").await;
    assert_eq!(movie.status, 200);
    let page = movie.text();
    assert!(page.contains("href=\"/DCIM/Movie/Parking/\""));
    assert!(page.contains("href=\"/DCIM/Movie/RO/\""));
    for c in sim.clips() {
        let page = get(sim.addr(), &format!("{}/", c.folder.url_dir()))
            .await
            .text();
        assert!(page.contains(&format!("href=\"{}\"", c.url_path)), "{page}");
        assert!(page.contains(&format!("href=\"{}?del=1\"", c.url_path)));
        assert!(page.contains("102.00 MB"));
        assert!(!page.contains("106954752"));
        for other in sim.clips().iter().filter(|o| o.folder != c.folder) {
            assert!(!page.contains(&format!(">{}<", other.name)));
        }
    }
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let sim = sim(1).await;
    assert_eq!(get(sim.addr(), "/DCIM/Movie/NOPE.MP4").await.status, 404);
    assert_eq!(get(sim.addr(), "/etc/passwd").await.status, 404);
    let r = crate::request(sim.addr(), "POST", "/?custom=1&cmd=3016", &[]).await;
    assert_eq!(r.status, 405);
    let log = sim.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].status, Some(404));
}
