//! The HTML directory pages (`/DCIM/Movie`, `/DCIM/Movie/Parking`,
//! `/DCIM/Movie/RO`).
//!
//! Read with quick-xml in a lenient mode (unmatched and unclosed tags
//! allowed, HTML attribute syntax, entities never expanded except the
//! predefined ones, character references and `&nbsp;`). The page is a flat
//! token stream: each link to a media file starts an entry; the first text
//! after it that reads as a size (`102.00 MB`) is its size, the first that
//! reads as `YYYY/MM/DD HH:MM:SS` its time. Links with a query
//! (`X.MP4?del=1`) and links to folders are ignored; links outside `/DCIM`
//! and invalid names are skipped with a reason.

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{Listing, ListingLimits, MAX_FIELD_BYTES};
use crate::error::{Error, Kind};
use crate::recording::{MAX_CLIP_SIZE, Recording, Size, parse_camera_time};
use crate::validate::shown;

struct Entry {
    href: String,
    path: String,
    size: Option<u64>,
    time: Option<time::PrimitiveDateTime>,
}

/// Parses one HTML directory page served at `page_path` (e.g.
/// `/DCIM/Movie/RO`), used to resolve relative links.
///
/// Items in an `RO` folder are locked, in a `Parking` folder parking.
/// Sizes are [`Size::Approx`]; an entry whose size is not shown gets
/// `Size::Approx(0)`. A markup error fails the page (malformed); more than
/// `limits.max_items` entries fails it too. A page cut off inside markup
/// (a tag with no `>` at the end) keeps its complete rows and sets
/// [`Listing::truncated`]; the row in progress is dropped into
/// [`Listing::skipped`] unless its size and date were read; with no
/// complete row the page fails as cut short (retryable). A page cut off in
/// plain text cannot be told from a complete one: HTML has no end marker.
pub fn parse_html_listing(
    doc: &[u8],
    page_path: &str,
    limits: ListingLimits,
) -> Result<Listing, Error> {
    let mut listing = Listing::default();
    let mut seen = HashSet::new();
    parse_into(doc, page_path, limits, &mut listing, &mut seen)?;
    Ok(listing)
}

/// As [`parse_html_listing`], adding to an existing listing (several pages
/// make one listing; duplicates across pages are dropped).
pub(crate) fn parse_into(
    doc: &[u8],
    page_path: &str,
    limits: ListingLimits,
    listing: &mut Listing,
    seen: &mut HashSet<String>,
) -> Result<(), Error> {
    let what = format!("HTML page {page_path}");
    let mut reader = Reader::from_reader(doc);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
    }
    let mut current: Option<Entry> = None;
    let mut text = String::new();
    let mut items = listing.recordings.len() + listing.skipped.len();
    let before = items;
    let base = page_path.trim_end_matches('/');
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) if super::xml::is_cut_off(&e) => {
                if let Some(entry) = current.as_mut() {
                    absorb_text(entry, &text);
                }
                return cut_off(listing, seen, current, before, &what, &e);
            }
            Err(e) => return Err(Error::malformed(format!("{what}: {e}"))),
        };
        let is_text = matches!(ev, Event::Text(_) | Event::GeneralRef(_) | Event::CData(_));
        if !is_text && !text.is_empty() {
            if let Some(entry) = current.as_mut() {
                absorb_text(entry, &text);
            }
            text.clear();
        }
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                if !e.local_name().as_ref().eq_ignore_ascii_case(b"a") {
                    continue;
                }
                let Some(href) = e
                    .html_attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(b"href"))
                else {
                    continue;
                };
                let href = match href.unescape_value() {
                    Ok(v) => v.into_owned(),
                    Err(err) => {
                        count(&mut items, limits, &what)?;
                        listing.skip(
                            shown(&String::from_utf8_lossy(&href.value)),
                            format!("bad link: {err}"),
                        );
                        continue;
                    }
                };
                match classify(&href, base) {
                    Link::Ignore => {}
                    Link::Bad(why) => {
                        count(&mut items, limits, &what)?;
                        listing.skip(shown(&href), why);
                    }
                    Link::File(path) => {
                        if current.as_ref().is_some_and(|c| c.path == path) {
                            continue;
                        }
                        if let Some(done) = current.take() {
                            finish(done, listing, seen);
                        }
                        count(&mut items, limits, &what)?;
                        current = Some(Entry {
                            href,
                            path,
                            size: None,
                            time: None,
                        });
                    }
                }
            }
            Event::Text(t) => push_bounded(&mut text, &String::from_utf8_lossy(&t)),
            Event::CData(t) => push_bounded(&mut text, &String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let c = if &*r == b"nbsp" {
                    ' '
                } else {
                    super::xml::resolve_ref(&r).unwrap_or(' ')
                };
                push_bounded(&mut text, c.encode_utf8(&mut [0; 4]));
            }
            Event::Eof => break,
            Event::End(_)
            | Event::DocType(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::Comment(_) => {}
        }
    }
    if let Some(entry) = current.as_mut() {
        absorb_text(entry, &text);
    }
    if let Some(done) = current.take() {
        finish(done, listing, seen);
    }
    Ok(())
}

/// The end of a page cut off inside markup: rows finished before the cut
/// are kept; the row in progress is kept only if its size and date were
/// both read, otherwise recorded in [`Listing::skipped`]. The cut is
/// logged once and added to [`Listing::truncated`]. A page with no complete
/// row fails as cut short (retryable).
fn cut_off(
    listing: &mut Listing,
    seen: &mut HashSet<String>,
    current: Option<Entry>,
    before: usize,
    what: &str,
    e: &quick_xml::Error,
) -> Result<(), Error> {
    let mut dropped = None;
    if let Some(entry) = current {
        if entry.size.is_some() && entry.time.is_some() {
            finish(entry, listing, seen);
        } else {
            let label = shown(&entry.href);
            listing.skip_quiet(
                label.clone(),
                "cut off before its row ended (page truncated)",
            );
            dropped = Some(label);
        }
    }
    let complete =
        listing.recordings.len() + listing.skipped.len() - before - usize::from(dropped.is_some());
    if complete == 0 {
        return Err(Error::new(
            Kind::Truncated,
            format!("{what}: cut off ({e}) before any complete row"),
        ));
    }
    let reason = match dropped {
        Some(label) => format!("{what} cut off ({e}); partial row {label} dropped"),
        None => format!("{what} cut off ({e})"),
    };
    tracing::warn!(reason = %reason, "HTML page cut off: keeping every complete row before the cut");
    listing.mark_truncated(reason);
    Ok(())
}

fn count(items: &mut usize, limits: ListingLimits, what: &str) -> Result<(), Error> {
    *items += 1;
    if *items > limits.max_items {
        return Err(Error::new(
            Kind::TooManyItems {
                limit: limits.max_items,
            },
            what.to_owned(),
        ));
    }
    Ok(())
}

fn push_bounded(buf: &mut String, s: &str) {
    if buf.len() + s.len() <= MAX_FIELD_BYTES {
        buf.push_str(s);
    }
}

fn absorb_text(entry: &mut Entry, text: &str) {
    let t = text.trim();
    if t.is_empty() {
        return;
    }
    if entry.size.is_none()
        && let Some(s) = parse_html_size(t)
    {
        entry.size = Some(s);
        return;
    }
    if entry.time.is_none() {
        entry.time = parse_camera_time(t);
    }
}

fn finish(entry: Entry, listing: &mut Listing, seen: &mut HashSet<String>) {
    let size = entry.size.unwrap_or(0);
    if size > MAX_CLIP_SIZE {
        listing.skip(shown(&entry.href), format!("absurd size {size}"));
        return;
    }
    match Recording::from_listed_path(&entry.path, Size::Approx(size)) {
        Ok(mut rec) => {
            rec.end = entry.time;
            listing.push_unique(seen, rec);
        }
        Err(e) => listing.skip(shown(&entry.href), e.to_string()),
    }
}

enum Link {
    /// Navigation, a folder, a `?del=1` action link.
    Ignore,
    /// Not acceptable, with the reason.
    Bad(String),
    /// A decoded absolute path to a file.
    File(String),
}

fn classify(href: &str, base: &str) -> Link {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') || href.contains('?') {
        return Link::Ignore;
    }
    if href.contains("://") || href.starts_with("//") || href.contains(':') {
        return Link::Bad("link is not a camera path".to_owned());
    }
    let decoded = match percent_decode(href) {
        Some(d) => d,
        None => return Link::Bad("bad percent-encoding in link".to_owned()),
    };
    let path = if decoded.starts_with('/') {
        decoded
    } else {
        format!("{base}/{decoded}")
    };
    if path.ends_with('/') {
        return Link::Ignore;
    }
    let last = path.rsplit('/').next().unwrap_or("");
    let under_dcim = path
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("/DCIM/"));
    if !under_dcim {
        if last == ".." || last == "." || path.eq_ignore_ascii_case("/DCIM") {
            return Link::Ignore;
        }
        return Link::Bad("link outside /DCIM".to_owned());
    }
    if last == ".." || last == "." {
        return Link::Ignore;
    }
    if !last.contains('.') {
        // A folder link (`Parking`, `RO`).
        return Link::Ignore;
    }
    Link::File(path)
}

/// Decodes `%XX` escapes; `None` for a bad escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a rounded size such as `102.00 MB`, `512KB`, `1,234 B`, `3.5 GiB`
/// or a bare number of bytes. Units are powers of 1024. No floats: the
/// number is read as integer and fraction digits.
pub(crate) fn parse_html_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(s.len());
    let (num, unit) = (s.get(..split)?, s.get(split..)?.trim());
    let num: String = num.chars().filter(|c| *c != ',').collect();
    if num.is_empty() {
        return None;
    }
    let mult: u128 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" | "BYTES" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return None,
    };
    let (int, frac) = num.split_once('.').unwrap_or((&num, ""));
    if int.is_empty() && frac.is_empty() || int.len() > 15 || frac.len() > 9 || frac.contains('.') {
        return None;
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_val: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let scale = 10u128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    let bytes = int
        .checked_mul(mult)?
        .checked_add(frac_val.checked_mul(mult)? / scale)?;
    u64::try_from(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// The shape Novatek firmware serves: a table with a name link, a
    /// delete link, a rounded size and a date per row.
    const PAGE: &str = r#"<!DOCTYPE html>
<html><head><title>Index of /DCIM/Movie</title></head><body>
<h1>Index of /DCIM/Movie</h1>
<table>
<tr><th>Name</th><th>Size</th><th>Date</th></tr>
<tr><td><a href="/DCIM/">..</a></td></tr>
<tr><td><a href="/DCIM/Movie/Parking/"><b>Parking</b></a></td><td>&nbsp;</td></tr>
<tr><td><a href="/DCIM/Movie/RO"><b>RO</b></a></td></tr>
<tr><td><a href="/DCIM/Movie/2025_1224_120324_000002F.MP4"><b>2025_1224_120324_000002F.MP4</b></a></td>
<td align=right>102.00 MB</td><td>2025/12/24 12:04:06</td>
<td><a href="/DCIM/Movie/2025_1224_120324_000002F.MP4?del=1">Remove</a></td></tr>
<tr><td><a href="2025_1224_120324_000002R.MP4">2025_1224_120324_000002R.MP4</a></td>
<td align=right>51.5MB</td><td>2025/12/24 12:04:06</td><br></tr>
</table></body></html>"#;

    fn parse(doc: &str, page: &str) -> Listing {
        parse_html_listing(doc.as_bytes(), page, ListingLimits::default()).unwrap()
    }

    #[test]
    fn described_shape() {
        let l = parse(PAGE, "/DCIM/Movie");
        assert!(l.skipped.is_empty(), "{:?}", l.skipped);
        let [f, r] = l.recordings.as_slice() else {
            panic!("{l:?}")
        };
        assert_eq!(f.remote_path(), "/DCIM/Movie/2025_1224_120324_000002F.MP4");
        assert_eq!(f.size(), Size::Approx(102 << 20));
        assert_eq!(f.end(), Some(datetime!(2025-12-24 12:04:06)));
        assert!(!f.is_locked() && !f.is_parking());
        assert_eq!(r.remote_path(), "/DCIM/Movie/2025_1224_120324_000002R.MP4");
        assert_eq!(r.size(), Size::Approx(51 * (1 << 20) + (1 << 19)));
    }

    #[test]
    fn folders_set_flags() {
        let doc = r#"<a href="/DCIM/Movie/RO/x.MP4">x</a> 1 KB <a href="/DCIM/Movie/Parking/y.MP4">y</a> 2 KB"#;
        let l = parse(doc, "/DCIM/Movie/RO");
        assert!(l.recordings[0].is_locked() && !l.recordings[0].is_parking());
        assert!(l.recordings[1].is_parking() && !l.recordings[1].is_locked());
        assert_eq!(l.recordings[1].size(), Size::Approx(2048));
    }

    #[test]
    fn hostile_links() {
        let doc = r#"<html>
<a href="/etc/passwd">p</a>
<a href="../../../etc/x.MP4">t</a>
<a href="/DCIM/Movie/../../x.MP4">t2</a>
<a href="/DCIM/Movie/%2e%2e/%2e%2e/y.MP4">t3</a>
<a href="/DCIM/Movie/a%00b.MP4">nul</a>
<a href="/DCIM/Movie/a%zz.MP4">badpct</a>
<a href="http://evil/DCIM/x.MP4">abs</a>
<a href="/DCIM/Movie/big.MP4">big</a> 999999 TB
<a href="/DCIM/Movie/ok.MP4">ok</a> 1.00 MB
<a href="/DCIM/Movie/ok.MP4">ok again</a>
<a href="/DCIM/Movie/ok.MP4?del=1">del</a>
<a href="/DCIM/Movie/nosize.MP4">n</a>
</html>"#;
        let l = parse(doc, "/DCIM/Movie");
        let names: Vec<_> = l
            .recordings
            .iter()
            .map(|r| r.file_name().as_str())
            .collect();
        assert_eq!(names, ["ok.MP4", "nosize.MP4"], "{:#?}", l.skipped);
        assert_eq!(l.recordings[1].size(), Size::Approx(0));
        assert_eq!(l.skipped.len(), 8, "{:#?}", l.skipped);
    }

    #[test]
    fn item_cap_and_junk() {
        let doc = r#"<a href="a.MP4">a</a><a href="b.MP4">b</a><a href="c.MP4">c</a>"#;
        let e = parse_html_listing(
            doc.as_bytes(),
            "/DCIM/Movie",
            ListingLimits { max_items: 2 },
        )
        .unwrap_err();
        assert!(e.to_string().contains("more than 2"), "{e}");
        let junk: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let _ = parse_html_listing(&junk, "/DCIM/Movie", ListingLimits::default());
        let deep = "<div>".repeat(100_000);
        assert!(
            parse_html_listing(deep.as_bytes(), "/DCIM/Movie", ListingLimits::default()).is_ok()
        );
    }

    #[test]
    fn page_cut_off_keeps_complete_rows() {
        // PAGE cut inside the second file's link tag: the first row is
        // complete, the second never started.
        let at = PAGE
            .find(r#"<a href="2025_1224_120324_000002R.MP4"#)
            .unwrap();
        let cut = &PAGE[..at + 12];
        let (l, warns) = crate::test_log::capture_warnings(|| {
            parse_html_listing(cut.as_bytes(), "/DCIM/Movie", ListingLimits::default())
        });
        let l = l.unwrap();
        assert_eq!(l.recordings.len(), 1, "{l:?}");
        assert_eq!(l.recordings[0].size(), Size::Approx(102 << 20));
        assert!(l.skipped.is_empty(), "{:?}", l.skipped);
        assert!(l.truncated.as_deref().unwrap().contains("/DCIM/Movie"));
        assert_eq!(warns.len(), 1, "{warns:?}");

        // Cut inside the second row, after its link but before its size:
        // that entry is dropped with a reason.
        let at = PAGE.find("51.5MB").unwrap();
        let cut = format!("{}<td align=right", &PAGE[..at]);
        let l =
            parse_html_listing(cut.as_bytes(), "/DCIM/Movie", ListingLimits::default()).unwrap();
        assert_eq!(l.recordings.len(), 1);
        let [s] = l.skipped.as_slice() else {
            panic!("{:?}", l.skipped)
        };
        assert!(
            s.item.contains("000002R.MP4") && s.reason.contains("cut off"),
            "{s:?}"
        );
        assert!(l.truncated.is_some());

        // Cut after the whole second row: both kept.
        let at = PAGE.find("</table>").unwrap();
        let cut = format!("{}</tab", &PAGE[..at]);
        let l =
            parse_html_listing(cut.as_bytes(), "/DCIM/Movie", ListingLimits::default()).unwrap();
        assert_eq!(l.recordings.len(), 2, "{:?}", l.skipped);
        assert!(l.truncated.is_some());

        // Cut before any file row: refused, retryably.
        let at = PAGE.find("<table>").unwrap();
        let cut = format!("{}<tab", &PAGE[..at]);
        let e = parse_html_listing(cut.as_bytes(), "/DCIM/Movie", ListingLimits::default())
            .unwrap_err();
        assert!(e.is_retryable(), "{e}");

        // A complete page is not marked.
        assert!(parse(PAGE, "/DCIM/Movie").truncated.is_none());
    }

    #[test]
    fn sizes() {
        for (s, v) in [
            ("102.00 MB", Some(102 << 20)),
            ("102MB", Some(102 << 20)),
            ("1.5 GB", Some(3 << 29)),
            ("1,234 B", Some(1234)),
            ("1234", Some(1234)),
            ("0.5K", Some(512)),
            ("", None),
            ("MB", None),
            ("1.2.3 MB", None),
            ("12 parsecs", None),
            ("2025/12/24 12:04:06", None),
            ("99999999999999999999999 TB", None),
        ] {
            assert_eq!(parse_html_size(s), v, "{s}");
        }
    }
}
