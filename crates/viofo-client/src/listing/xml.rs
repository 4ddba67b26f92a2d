//! The XML listing (cmd=3015) and the small `<Function>` answers.
//!
//! Parsed with quick-xml as a flat event stream: no DTD, no entity
//! expansion beyond the five predefined ones and character references
//! (a `<!DOCTYPE>` rejects the document), nesting capped at [`MAX_DEPTH`].

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesRef, Event};

use super::{Listing, ListingLimits, MAX_DEPTH, MAX_FIELD_BYTES};
use crate::error::{Error, Kind};
use crate::recording::{Recording, Size, parse_camera_time};
use crate::validate::shown;

/// Did the input run out inside markup (`</LIST` with no `>`, an open
/// comment, CDATA or declaration)? Such an error can only happen at the end
/// of the input: the document was cut off, not written wrong.
pub(crate) fn is_cut_off(e: &XmlError) -> bool {
    matches!(
        e,
        XmlError::Syntax(
            SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedPIOrXmlDecl
                | SyntaxError::UnclosedDoctype
        ) | XmlError::IllFormed(IllFormedError::MissingEndTag(_))
    )
}

/// Maps a quick-xml error: running out of input inside markup means the
/// document was cut short (worth a retry); anything else is malformed.
fn xml_error(e: XmlError, what: &str) -> Error {
    if is_cut_off(&e) {
        Error::new(Kind::Truncated, format!("{what}: {e}"))
    } else {
        Error::malformed(format!("{what}: {e}"))
    }
}

/// Resolves `&...;`: the five predefined entities and character references.
/// Anything else (a custom entity) is refused.
pub(crate) fn resolve_ref(r: &BytesRef<'_>) -> Result<char, String> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err("bad character reference".to_owned()),
        };
    }
    match &**r {
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"amp" => Ok('&'),
        b"quot" => Ok('"'),
        b"apos" => Ok('\''),
        other => Err(format!(
            "entity reference {} not allowed",
            shown(&String::from_utf8_lossy(other))
        )),
    }
}

fn new_reader(doc: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(doc);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    reader
}

#[derive(Default)]
struct Item {
    name: Option<String>,
    fpath: Option<String>,
    size: Option<String>,
    time: Option<String>,
    attr: Option<String>,
    problem: Option<String>,
}

impl Item {
    fn label(&self, index: usize) -> String {
        match (&self.name, &self.fpath) {
            (Some(n), _) => shown(n),
            (None, Some(p)) => shown(p),
            (None, None) => format!("item #{index}"),
        }
    }

    fn slot(&mut self, field: &str) -> Option<&mut Option<String>> {
        Some(match field.to_ascii_uppercase().as_str() {
            "NAME" => &mut self.name,
            "FPATH" => &mut self.fpath,
            "SIZE" => &mut self.size,
            "TIME" => &mut self.time,
            "ATTR" => &mut self.attr,
            _ => return None,
        })
    }

    fn push_text(&mut self, field: &str, text: &str) {
        if self.problem.is_some() {
            return;
        }
        let Some(slot) = self.slot(field) else {
            return;
        };
        let s = slot.get_or_insert_with(String::new);
        if s.len() + text.len() > MAX_FIELD_BYTES {
            self.problem = Some(format!("{field} longer than {MAX_FIELD_BYTES} bytes"));
        } else {
            s.push_str(text);
        }
    }

    fn into_recording(self) -> Result<Recording, String> {
        if let Some(p) = self.problem {
            return Err(p);
        }
        let fpath = self.fpath.ok_or("no FPATH")?;
        let fpath = fpath.trim();
        let size_text = self.size.ok_or("no SIZE")?;
        let size: u64 = size_text
            .trim()
            .parse()
            .map_err(|_| format!("SIZE {} is not a byte count", shown(&size_text)))?;
        let mut rec =
            Recording::from_listed_path(fpath, Size::Exact(size)).map_err(|e| e.to_string())?;
        if let Some(name) = &self.name
            && name.trim() != rec.file_name().as_str()
        {
            return Err(format!("NAME {} does not match FPATH", shown(name)));
        }
        if let Some(attr) = &self.attr {
            match attr.trim().parse::<u32>() {
                Ok(a) => rec.locked |= a & 1 != 0,
                Err(_) => tracing::debug!(attr = %shown(attr), "ignoring unparsable ATTR"),
            }
        }
        rec.end = self.time.as_deref().and_then(parse_camera_time);
        Ok(rec)
    }
}

/// Parses a cmd=3015 listing document.
///
/// Accepts `<LIST><ALLFile><File>...` and `<LIST><File>...`. Invalid items
/// are skipped with a reason; the document as a whole fails only when it is
/// malformed (including any `<!DOCTYPE>`, nesting deeper than 16), not a
/// `<LIST>`, has more than `limits.max_items` items, or is cut short before
/// any complete item (reported as retryable). Anything after the closing
/// `</LIST>` is ignored.
///
/// A real Novatek firmware ends every listing with `</LIST` and no `>`:
/// when that is all that is missing (every element inside the root was
/// closed), the listing is complete, even with no item (an emptied card);
/// this is logged once per process. A document cut off anywhere else after
/// at least one complete `<File>` item is accepted as truncated: every
/// complete item is kept, an item cut in half is put in
/// [`Listing::skipped`], the cut is logged once with `tracing::warn!` and
/// described in [`Listing::truncated`] (so an absent clip is no proof that
/// it is gone).
pub fn parse_xml_listing(doc: &[u8], limits: ListingLimits) -> Result<Listing, Error> {
    const WHAT: &str = "XML listing";
    let mut reader = new_reader(doc);
    let mut listing = Listing::default();
    let mut seen = HashSet::new();
    // Element names currently open.
    let mut stack: Vec<String> = Vec::new();
    let mut item: Option<Item> = None;
    let mut items = 0usize;
    let mut saw_root = false;
    // Items whose `</File>` was read (valid or skipped).
    let mut complete = 0usize;
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) if saw_root && is_cut_off(&e) => {
                if item.is_none() && stack.len() == 1 && ends_with_open_root_end(doc) {
                    // Only the root's final `>` is missing: every element
                    // inside it was closed, so nothing was lost. A real
                    // Novatek firmware ends every listing so.
                    note_missing_final_gt();
                    return Ok(listing);
                }
                return cut_off(listing, item, items, complete, format!("cut off ({e})"));
            }
            Err(e) => return Err(xml_error(e, WHAT)),
        };
        match ev {
            Event::DocType(_) => {
                return Err(Error::malformed(format!("{WHAT}: DOCTYPE not allowed")));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::malformed(format!(
                        "{WHAT}: nested deeper than {MAX_DEPTH}"
                    )));
                }
                if stack.is_empty() {
                    if saw_root {
                        break;
                    }
                    if !name.eq_ignore_ascii_case("LIST") {
                        return Err(Error::malformed(format!(
                            "{WHAT}: root element is <{}>, not <LIST>",
                            shown(&name)
                        )));
                    }
                    saw_root = true;
                } else if item.is_none() && is_file_slot(&stack, &name) {
                    items += 1;
                    if items > limits.max_items {
                        return Err(Error::new(
                            Kind::TooManyItems {
                                limit: limits.max_items,
                            },
                            WHAT,
                        ));
                    }
                    item = Some(Item::default());
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() {
                    return Err(Error::malformed(format!(
                        "{WHAT}: empty root <{}/>",
                        shown(&name)
                    )));
                }
                if item.is_none() && is_file_slot(&stack, &name) {
                    items += 1;
                    if items > limits.max_items {
                        return Err(Error::new(
                            Kind::TooManyItems {
                                limit: limits.max_items,
                            },
                            WHAT,
                        ));
                    }
                    listing.skip(format!("item #{items}"), "empty <File/>");
                }
            }
            Event::Text(t) => {
                if let (Some(it), Some(field)) = (item.as_mut(), field_name(&stack)) {
                    match t.decode() {
                        Ok(s) => it.push_text(&field, &s),
                        Err(_) => it.problem = Some(format!("{field} is not valid text")),
                    }
                }
            }
            Event::CData(t) => {
                if let (Some(it), Some(field)) = (item.as_mut(), field_name(&stack)) {
                    match t.decode() {
                        Ok(s) => it.push_text(&field, &s),
                        Err(_) => it.problem = Some(format!("{field} is not valid text")),
                    }
                }
            }
            Event::GeneralRef(r) => {
                if let (Some(it), Some(field)) = (item.as_mut(), field_name(&stack)) {
                    match resolve_ref(&r) {
                        Ok(c) => it.push_text(&field, c.encode_utf8(&mut [0; 4])),
                        Err(why) => it.problem = Some(why),
                    }
                }
            }
            Event::End(_) => {
                let closed = stack.pop();
                if closing_file(&stack, closed.as_deref())
                    && let Some(it) = item.take()
                {
                    complete += 1;
                    let label = it.label(items);
                    match it.into_recording() {
                        Ok(rec) => listing.push_unique(&mut seen, rec),
                        Err(why) => listing.skip(label, why),
                    }
                }
                if stack.is_empty() {
                    // Root closed: the document is complete; ignore the rest
                    // (a camera may close the socket abruptly after it).
                    return Ok(listing);
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if saw_root {
        cut_off(
            listing,
            item,
            items,
            complete,
            "ends before </LIST>".to_owned(),
        )
    } else {
        Err(Error::new(
            Kind::Truncated,
            format!("{WHAT}: no <LIST> element"),
        ))
    }
}

/// Does the document end with `</LIST` (any case, then only whitespace)?
fn ends_with_open_root_end(doc: &[u8]) -> bool {
    let end = doc.trim_ascii_end();
    end.len()
        .checked_sub(6)
        .and_then(|at| end.get(at..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(b"</LIST"))
}

/// Says once per process (then at debug level) that the camera ends its
/// listings with `</LIST` and no `>`.
fn note_missing_final_gt() {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::debug!("XML listing ends with </LIST and no '>'; accepted, nothing is missing");
    } else {
        tracing::warn!(
            "XML listing ends with </LIST and no '>' (known Novatek firmware behaviour); accepted: \
             every item inside it was closed, nothing is missing (said once)"
        );
    }
}

/// The end of a document that stops before `</LIST>`: every complete item
/// is kept, an item cut in half is recorded in [`Listing::skipped`], the cut
/// is logged once and put in [`Listing::truncated`]. With no complete item
/// there is nothing to trust: the listing fails as cut short (retryable).
fn cut_off(
    mut listing: Listing,
    partial: Option<Item>,
    items: usize,
    complete: usize,
    why: String,
) -> Result<Listing, Error> {
    const WHAT: &str = "XML listing";
    if complete == 0 {
        return Err(Error::new(
            Kind::Truncated,
            format!("{WHAT}: {why}, before any complete item"),
        ));
    }
    let reason = match partial {
        Some(it) => {
            let label = it.label(items);
            listing.skip_quiet(label.clone(), "cut off before </File> (listing truncated)");
            format!("{why}; partial item {label} dropped")
        }
        None => why,
    };
    tracing::warn!(
        kept = listing.recordings.len(),
        reason = %reason,
        "XML listing cut off: keeping every complete item before the cut"
    );
    listing.mark_truncated(format!("{WHAT} {reason}"));
    Ok(listing)
}

/// Is a `<File>` opening here a listing item? Its parent must be `LIST` or
/// `ALLFile`.
fn is_file_slot(stack: &[String], name: &str) -> bool {
    name.eq_ignore_ascii_case("File")
        && stack
            .last()
            .is_some_and(|p| p.eq_ignore_ascii_case("LIST") || p.eq_ignore_ascii_case("ALLFile"))
}

/// After popping, is the element just closed the `<File>` item?
fn closing_file(stack_after: &[String], closed: Option<&str>) -> bool {
    closed.is_some_and(|c| c.eq_ignore_ascii_case("File"))
        && stack_after
            .last()
            .is_some_and(|p| p.eq_ignore_ascii_case("LIST") || p.eq_ignore_ascii_case("ALLFile"))
}

/// The field being read: the element directly inside `<File>`.
fn field_name(stack: &[String]) -> Option<String> {
    match stack {
        [.., file, field] if file.eq_ignore_ascii_case("File") => Some(field.clone()),
        _ => None,
    }
}

/// A flat `<Function>` answer: the leaf elements in order, as (name, text).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FunctionReply {
    pub(crate) fields: Vec<(String, String)>,
}

impl FunctionReply {
    /// The first field called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// The first `<Status>` as a number.
    pub(crate) fn status(&self) -> Option<i64> {
        self.get("Status")?.parse().ok()
    }

    /// The `<Status>` that follows `<Cmd>cmd</Cmd>` (cmd 3014 style pairs).
    pub(crate) fn status_for(&self, cmd: u32) -> Option<i64> {
        let mut iter = self.fields.iter();
        while let Some((n, v)) = iter.next() {
            if n.eq_ignore_ascii_case("Cmd") && v.trim().parse::<u32>().ok() == Some(cmd) {
                let (n2, v2) = iter.next()?;
                return if n2.eq_ignore_ascii_case("Status") {
                    v2.trim().parse().ok()
                } else {
                    None
                };
            }
        }
        None
    }
}

/// Most fields a `<Function>` answer may have.
const MAX_REPLY_FIELDS: usize = 4096;

/// Parses a small `<Function>...</Function>` answer into its leaf fields.
pub(crate) fn parse_function(doc: &[u8], what: &str) -> Result<FunctionReply, Error> {
    let mut reader = new_reader(doc);
    let mut depth = 0usize;
    let mut current: Option<(String, String)> = None;
    let mut reply = FunctionReply::default();
    let mut saw_root = false;
    loop {
        match reader.read_event().map_err(|e| xml_error(e, what))? {
            Event::DocType(_) => {
                return Err(Error::malformed(format!("{what}: DOCTYPE not allowed")));
            }
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::malformed(format!(
                        "{what}: nested deeper than {MAX_DEPTH}"
                    )));
                }
                saw_root = true;
                current = Some((
                    String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    String::new(),
                ));
            }
            Event::Text(t) => {
                if let Some((_, v)) = current.as_mut() {
                    let s = t
                        .decode()
                        .map_err(|e| Error::malformed(format!("{what}: {e}")))?;
                    if v.len() + s.len() > MAX_FIELD_BYTES {
                        return Err(Error::malformed(format!("{what}: field too long")));
                    }
                    v.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, v)) = current.as_mut() {
                    let c = resolve_ref(&r)
                        .map_err(|why| Error::malformed(format!("{what}: {why}")))?;
                    v.push(c);
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(leaf) = current.take() {
                    if reply.fields.len() >= MAX_REPLY_FIELDS {
                        return Err(Error::malformed(format!("{what}: too many fields")));
                    }
                    reply.fields.push(leaf);
                }
                if depth == 0 {
                    return Ok(reply);
                }
            }
            Event::Empty(e) => {
                saw_root = true;
                if depth == 0 {
                    return Ok(reply);
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if reply.fields.len() < MAX_REPLY_FIELDS {
                    reply.fields.push((name, String::new()));
                }
            }
            Event::CData(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                let why = if saw_root { "ends early" } else { "empty" };
                return Err(Error::new(Kind::Truncated, format!("{what}: {why}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}
