//! Listing parsers: the cmd=3015 XML document and the HTML directory pages.
//!
//! Both are pure functions over a byte slice the client has already read
//! (with a byte cap), so they can be tested on captured and hostile
//! documents without a network.

pub(crate) mod html;
pub(crate) mod xml;

use std::collections::HashSet;

use crate::recording::Recording;

pub use html::parse_html_listing;
pub use xml::parse_xml_listing;

/// Where to read the list of recordings from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListSource {
    /// `GET /?custom=1&cmd=3015&par=1`: one XML document with exact sizes.
    Xml,
    /// The HTML pages `/DCIM/Movie`, `/DCIM/Movie/Parking`, `/DCIM/Movie/RO`:
    /// faster on some firmware, shows SSD clips the XML may miss, but sizes
    /// are rounded ([`Size::Approx`](crate::Size::Approx)).
    Html,
}

/// The result of a listing: the valid recordings and what was skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Valid recordings, in document order, without duplicates.
    pub recordings: Vec<Recording>,
    /// Items that were refused, each with the reason (also logged with
    /// `tracing::warn!`).
    pub skipped: Vec<Skipped>,
    /// `Some(reason)` when the document was cut off before its end (a real
    /// Novatek firmware ends its XML listing with `</LIST` and no `>`; a
    /// camera may close the socket mid-document). The listing then holds
    /// every complete item before the cut; an item cut in half is in
    /// [`skipped`](Listing::skipped). Clips after the cut may be missing,
    /// so a clip absent from a truncated listing is not proof that it is
    /// gone from the camera. `None` for a complete document.
    pub truncated: Option<String>,
}

/// One listing item that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// What the item was called (name, path or position), escaped and
    /// shortened for display.
    pub item: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Caps applied while parsing a listing.
#[derive(Clone, Copy, Debug)]
pub struct ListingLimits {
    /// Most items (valid or not) a document may hold.
    pub max_items: usize,
}

impl Default for ListingLimits {
    fn default() -> Self {
        ListingLimits { max_items: 100_000 }
    }
}

/// Most element nesting a camera document may have.
pub(crate) const MAX_DEPTH: usize = 16;

/// Longest text accepted inside one field.
pub(crate) const MAX_FIELD_BYTES: usize = 4096;

impl Listing {
    /// Whether the document was read to its end (see
    /// [`truncated`](Listing::truncated)).
    pub fn is_complete(&self) -> bool {
        self.truncated.is_none()
    }

    /// Records that the document was cut off, keeping earlier reasons
    /// (several HTML pages make one listing).
    pub(crate) fn mark_truncated(&mut self, reason: String) {
        self.truncated = Some(match self.truncated.take() {
            Some(earlier) => format!("{earlier}; {reason}"),
            None => reason,
        });
    }

    /// Records a skipped item without logging (the caller logs once).
    pub(crate) fn skip_quiet(&mut self, item: String, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            item,
            reason: reason.into(),
        });
    }

    pub(crate) fn skip(&mut self, item: String, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(item = %item, reason = %reason, "skipping listing item");
        self.skipped.push(Skipped { item, reason });
    }

    /// Adds `rec` unless its remote path (ignoring case) is in `seen`.
    pub(crate) fn push_unique(&mut self, seen: &mut HashSet<String>, rec: Recording) {
        if seen.insert(rec.remote_path().to_ascii_lowercase()) {
            self.recordings.push(rec);
        } else {
            let item = crate::validate::shown(rec.listed_path());
            self.skip(item, "duplicate of an earlier item");
        }
    }
}
