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
                    items = next_item(items, limits)?;
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
                    items = next_item(items, limits)?;
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

/// Counts one more item, refusing a listing with more than
/// `limits.max_items`.
fn next_item(items: usize, limits: ListingLimits) -> Result<usize, Error> {
    let n = items.saturating_add(1);
    if n > limits.max_items {
        return Err(Error::new(
            Kind::TooManyItems {
                limit: limits.max_items,
            },
            "XML listing",
        ));
    }
    Ok(n)
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
    /// The root element's name (`Function` on a camera).
    pub(crate) root: String,
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
                if !saw_root {
                    reply.root = root_name(&e);
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
                if !saw_root {
                    reply.root = root_name(&e);
                }
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

/// An element's local name, capped (it is the camera's text).
fn root_name(e: &quick_xml::events::BytesStart<'_>) -> String {
    let name = e.local_name();
    let name = name.as_ref();
    String::from_utf8_lossy(name.get(..64).unwrap_or(name)).into_owned()
}

#[cfg(test)]
mod tests;
