use super::*;
use crate::Channel;
use time::macros::datetime;

const CAPTURE: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<LIST>
  <ALLFile><File>
    <NAME>2025_1224_120324_000002PF.MP4</NAME>
    <FPATH>A:\DCIM\Movie\RO\2025_1224_120324_000002PF.MP4</FPATH>
    <SIZE>132120576</SIZE>
    <TIMECODE>1536712835</TIMECODE>
    <TIME>2025/12/24 12:04:06</TIME>
    <ATTR>33</ATTR>
  </File></ALLFile>
</LIST>
"#;

fn parse(doc: &str) -> Result<Listing, Error> {
    parse_xml_listing(doc.as_bytes(), ListingLimits::default())
}

fn file(name: &str, fpath: &str, size: &str) -> String {
    format!(
        "<File><NAME>{name}</NAME><FPATH>{fpath}</FPATH><SIZE>{size}</SIZE><TIME>2025/01/01 00:01:00</TIME><ATTR>32</ATTR></File>"
    )
}

#[test]
fn captured_shape() {
    let l = parse(CAPTURE).unwrap();
    assert!(l.skipped.is_empty(), "{:?}", l.skipped);
    let [r] = l.recordings.as_slice() else {
        panic!("{l:?}")
    };
    assert_eq!(r.file_name().as_str(), "2025_1224_120324_000002PF.MP4");
    assert_eq!(
        r.remote_path(),
        "/DCIM/Movie/RO/2025_1224_120324_000002PF.MP4"
    );
    assert_eq!(
        r.listed_path(),
        "A:\\DCIM\\Movie\\RO\\2025_1224_120324_000002PF.MP4"
    );
    assert_eq!(r.size(), Size::Exact(132_120_576));
    assert!(r.is_locked() && r.is_parking() && !r.is_event());
    assert_eq!(r.channel(), Channel::Front);
    assert_eq!(r.start(), Some(datetime!(2025-12-24 12:03:24)));
    assert_eq!(r.end(), Some(datetime!(2025-12-24 12:04:06)));
}

#[test]
fn file_directly_under_list_and_attr_lock() {
    let doc = format!(
        "<LIST>{}<File><NAME>b.MP4</NAME><FPATH>A:\\DCIM\\Movie\\b.MP4</FPATH><SIZE>7</SIZE><ATTR>33</ATTR></File></LIST>",
        file("a.MP4", "A:\\DCIM\\Movie\\a.MP4", "5")
    );
    let l = parse(&doc).unwrap();
    assert_eq!(l.recordings.len(), 2);
    assert!(!l.recordings[0].is_locked());
    assert!(
        l.recordings[1].is_locked(),
        "ATTR 33 outside RO still locks"
    );
    assert_eq!(l.recordings[1].end(), None);
}

#[test]
fn trailing_garbage_after_complete_document_is_fine() {
    let doc = format!("{CAPTURE}\u{0}\u{0}<<<garbage");
    assert_eq!(parse(&doc).unwrap().recordings.len(), 1);
}

#[test]
fn hostile_items_are_skipped_not_fatal() {
    let items = [
        file("..", "A:\\DCIM\\Movie\\..", "1"),
        file("x.MP4", "A:\\DCIM\\..\\..\\etc\\x.MP4", "1"),
        file("passwd.MP4", "/etc/passwd.MP4", "1"),
        file("n&#0;.MP4", "A:\\DCIM\\Movie\\n&#0;.MP4", "1"),
        file("n&#1;.MP4", "A:\\DCIM\\Movie\\n&#1;.MP4", "1"),
        file(
            "big.MP4",
            "A:\\DCIM\\Movie\\big.MP4",
            "99999999999999999999",
        ),
        file("big2.MP4", "A:\\DCIM\\Movie\\big2.MP4", "1099511627776"),
        file("neg.MP4", "A:\\DCIM\\Movie\\neg.MP4", "-1"),
        file("other.MP4", "A:\\DCIM\\Movie\\real.MP4", "1"),
        file("e.MP4", "A:\\DCIM\\Movie\\e&custom;.MP4", "1"),
        "<File><NAME>nofpath.MP4</NAME><SIZE>1</SIZE></File>".to_owned(),
        "<File><FPATH>A:\\DCIM\\Movie\\nosize.MP4</FPATH></File>".to_owned(),
        "<File/>".to_owned(),
        format!(
            "<File><NAME>{0}</NAME><FPATH>{0}</FPATH><SIZE>1</SIZE></File>",
            "y".repeat(5000)
        ),
        file("ok.MP4", "A:\\DCIM\\Movie\\ok.MP4", "1"),
        file("ok.MP4", "A:\\DCIM\\Movie\\ok.MP4", "1"),
    ];
    let doc = format!("<LIST><ALLFile>{}</ALLFile></LIST>", items.concat());
    let l = parse(&doc).unwrap();
    let names: Vec<_> = l
        .recordings
        .iter()
        .map(|r| r.file_name().as_str())
        .collect();
    assert_eq!(names, ["ok.MP4"]);
    assert_eq!(l.skipped.len(), items.len() - 1, "{:#?}", l.skipped);
    assert!(
        l.skipped
            .iter()
            .all(|s| !s.reason.is_empty() && !s.item.contains('\0'))
    );
    assert!(l.skipped.iter().any(|s| s.reason.contains("duplicate")));
    assert!(l.skipped.iter().any(|s| s.reason.contains("absurd")));
}

#[test]
fn doctype_and_entities_are_refused() {
    let billion = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><LIST><File><NAME>&lol2;</NAME></File></LIST>"#;
    let e = parse(billion).unwrap_err();
    assert!(
        !e.is_retryable() && e.to_string().contains("DOCTYPE"),
        "{e}"
    );
    let xxe = r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><LIST></LIST>"#;
    assert!(parse(xxe).is_err());
}

#[test]
fn deep_nesting_is_refused() {
    let doc = format!(
        "<LIST>{}{}</LIST>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let e = parse(&doc).unwrap_err();
    assert!(e.to_string().contains("deeper"), "{e}");
}

#[test]
fn item_cap() {
    let one = file("a.MP4", "A:\\DCIM\\Movie\\a.MP4", "1");
    let doc = format!("<LIST>{}</LIST>", one.repeat(11));
    let e = parse_xml_listing(doc.as_bytes(), ListingLimits { max_items: 10 }).unwrap_err();
    assert!(matches!(e.kind(), Kind::TooManyItems { limit: 10 }), "{e}");
    assert!(e.to_string().contains("more than 10"));
    let ok = parse_xml_listing(doc.as_bytes(), ListingLimits { max_items: 11 }).unwrap();
    assert_eq!(ok.recordings.len() + ok.skipped.len(), 11);
}

#[test]
fn truncated_and_malformed() {
    let cut = &CAPTURE[..CAPTURE.len() / 2];
    let e = parse(cut).unwrap_err();
    assert!(e.is_retryable(), "a cut-off document is retryable: {e}");
    assert!(parse("").unwrap_err().is_retryable());
    let e = parse("<LIST><File></Wrong></LIST>").unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    let e = parse("<Function><Cmd>3015</Cmd><Status>-256</Status></Function>").unwrap_err();
    assert!(e.to_string().contains("not <LIST>"), "{e}");
    // Binary junk must not panic.
    let junk: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let _ = parse_xml_listing(&junk, ListingLimits::default());
}

/// Two items in the real capture's shape, ending exactly as a real
/// Novatek capture does: `...</ATTR></File>\n</ALLFile>\n</LIST` (the
/// final `>` missing).
const REAL_CUT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<LIST>\n<ALLFile><File>\n<NAME>2025_1224_120324_000002PF.MP4</NAME>\n<FPATH>A:\\DCIM\\Movie\\RO\\2025_1224_120324_000002PF.MP4</FPATH>\n<SIZE>132120576</SIZE>\n<TIMECODE>1536712835</TIMECODE>\n<TIME>2025/12/24 12:04:06</TIME>\n<ATTR>33</ATTR></File>\n<File>\n<NAME>2025_1224_120424_000003F.MP4</NAME>\n<FPATH>A:\\DCIM\\Movie\\2025_1224_120424_000003F.MP4</FPATH>\n<SIZE>132120577</SIZE>\n<TIMECODE>1536712899</TIMECODE>\n<TIME>2025/12/24 12:05:06</TIME>\n<ATTR>32</ATTR></File>\n</ALLFile>\n</LIST";

fn names(l: &Listing) -> Vec<&str> {
    l.recordings
        .iter()
        .map(|r| r.file_name().as_str())
        .collect()
}

#[test]
fn real_novatek_listing_without_the_final_gt_keeps_every_item() {
    assert!(REAL_CUT.ends_with("</ATTR></File>\n</ALLFile>\n</LIST"));
    let l = parse(REAL_CUT).unwrap();
    assert_eq!(
        names(&l),
        [
            "2025_1224_120324_000002PF.MP4",
            "2025_1224_120424_000003F.MP4"
        ]
    );
    assert_eq!(l.recordings[1].size(), Size::Exact(132_120_577));
    assert!(l.skipped.is_empty(), "{:?}", l.skipped);
    // Only the root's `>` is missing: nothing inside it was lost.
    assert!(l.is_complete(), "{:?}", l.truncated);
    // The same document with its `>` is the same listing.
    let whole = parse(&format!("{REAL_CUT}>")).unwrap();
    assert!(whole.truncated.is_none() && whole.is_complete());
    assert_eq!(whole.recordings, l.recordings);
    // With trailing whitespace, and in another case, too.
    assert!(
        parse(&format!("{}\r\n", REAL_CUT.replace("</LIST", "</list")))
            .unwrap()
            .is_complete()
    );
}

#[test]
fn an_empty_card_ending_without_the_final_gt_is_an_empty_listing() {
    for doc in ["<LIST>\n</LIST", "<LIST><ALLFile>\n</ALLFile>\n</LIST"] {
        let l = parse(doc).unwrap();
        assert!(l.recordings.is_empty() && l.skipped.is_empty(), "{doc}");
        assert!(l.is_complete(), "{doc}");
    }
}

#[test]
fn cut_inside_the_root_is_truncated_not_complete() {
    // `</ALLFile` cut: an element inside the root is still open.
    let head = REAL_CUT.split_once("\n</ALLFile>").map(|(h, _)| h).unwrap();
    let (l, warns) = crate::test_log::capture_warnings(|| parse(&format!("{head}\n</ALLFile")));
    let l = l.unwrap();
    assert_eq!(l.recordings.len(), 2);
    assert!(!l.is_complete());
    assert!(
        l.truncated
            .as_deref()
            .is_some_and(|w| w.contains("cut off"))
    );
    assert_eq!(warns.len(), 1, "one warning per listing: {warns:?}");
}

#[test]
fn cut_mid_item_keeps_complete_items_and_drops_the_partial_one() {
    let head = REAL_CUT.split_once("</ALLFile>").map(|(h, _)| h).unwrap();
    for tail in [
        "<File>\n<NAME>2025_1224_120524_000004F.MP4</NAME>\n<FPATH>A:\\DCIM\\Mo",
        "<File>\n<NAME>2025_1224_120524_000004F.MP4</NAME>\n<SIZE>13</SI",
        "<File>\n<NAME>2025_1224_120524_000004F.MP4</NAME>\n<FPATH>A:\\DCIM\\Movie\\2025_1224_120524_000004F.MP4</FPATH><SIZE>5</SIZE></File",
    ] {
        let doc = format!("{head}{tail}");
        let (l, warns) = crate::test_log::capture_warnings(|| parse(&doc));
        let l = l.unwrap();
        assert_eq!(l.recordings.len(), 2, "{tail}");
        let [s] = l.skipped.as_slice() else {
            panic!("{tail}: {:?}", l.skipped)
        };
        assert_eq!(s.item, "\"2025_1224_120524_000004F.MP4\"");
        assert!(s.reason.contains("cut off"), "{s:?}");
        let why = l.truncated.as_deref().unwrap();
        assert!(why.contains("2025_1224_120524_000004F.MP4"), "{why}");
        assert_eq!(warns.len(), 1, "{tail}: {warns:?}");
    }
    // A partial item with no name yet is named by its position.
    let doc = format!("{head}<File>\n<NA");
    let l = parse(&doc).unwrap();
    assert_eq!(l.skipped[0].item, "item #3");
}

#[test]
fn cut_before_any_complete_item_is_refused() {
    for doc in [
        "<LIST><ALLFile>\n</ALLFile",
        "<LIST><ALLFile><File><NAME>2025_1224_120324_000002F.MP4</NAME>",
        "<LIST><ALLFile><File><NAME>2025_1224_120324_000002F.MP4</NAME></File",
        "<?xml version=\"1.0\"?>\n<LI",
    ] {
        let e = parse(doc).unwrap_err();
        assert!(matches!(e.kind(), Kind::Truncated), "{doc}: {e}");
        assert!(e.is_retryable(), "{doc}: {e}");
    }
    // Complete items that were all invalid still count as complete.
    let doc = format!(
        "<LIST>{}</LIST",
        file("x.exe", "A:\\DCIM\\Movie\\x.exe", "1")
    );
    let l = parse(&doc).unwrap();
    assert!(l.recordings.is_empty() && l.skipped.len() == 1);
    assert!(l.is_complete(), "only the root's `>` is missing");
}

#[test]
fn listed_photo_is_a_photo_not_a_parking_clip() {
    let doc = format!(
        "<LIST><ALLFile>{}{}</ALLFile></LIST>",
        file(
            "2026_0505_175704_047965PF.JPG",
            "A:\\DCIM\\Photo\\2026_0505_175704_047965PF.JPG",
            "1843200"
        ),
        file(
            "2026_0505_175704_047965PF.MP4",
            "A:\\DCIM\\Movie\\2026_0505_175704_047965PF.MP4",
            "5"
        ),
    );
    let l = parse(&doc).unwrap();
    let [photo, clip] = l.recordings.as_slice() else {
        panic!("{l:?}")
    };
    assert!(photo.is_photo() && !photo.is_parking(), "{photo:?}");
    assert!(!clip.is_photo() && clip.is_parking(), "{clip:?}");
}

#[test]
fn function_replies() {
    let r = parse_function(
        b"<?xml version=\"1.0\"?><Function><Cmd>3016</Cmd><Status>0</Status></Function>",
        "t",
    )
    .unwrap();
    assert_eq!(r.status(), Some(0));
    let r = parse_function(
            b"<Function>\n<Cmd>2001</Cmd>\n<Status>1</Status>\n<Cmd>2002</Cmd>\n<Status>0</Status>\n</Function>",
            "t",
        )
        .unwrap();
    assert_eq!(r.status_for(2001), Some(1));
    assert_eq!(r.status_for(2002), Some(0));
    assert_eq!(r.status_for(3001), None);
    let r = parse_function(b"<Function><Cmd>3012</Cmd><Status>0</Status><String>VIOFO_A329S_V2.0_260313</String></Function>", "t").unwrap();
    assert_eq!(r.get("String"), Some("VIOFO_A329S_V2.0_260313"));
    assert!(
        parse_function(b"<Function><Cmd>3016</Cmd>", "t")
            .unwrap_err()
            .is_retryable()
    );
    assert!(parse_function(b"<!DOCTYPE x><Function/>", "t").is_err());
    let deep = format!("{}{}", "<a>".repeat(1000), "</a>".repeat(1000));
    assert!(parse_function(deep.as_bytes(), "t").is_err());
}
