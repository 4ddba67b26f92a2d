//! Percent-encoding for the URL path and the delete argument.

use std::fmt::Write;

fn push_encoded(out: &mut String, b: u8) {
    let _ = write!(out, "%{b:02X}");
}

/// Encodes a slash-separated path: every byte outside RFC 3986 unreserved
/// characters and `/` is percent-encoded (validated names never need it,
/// but the encoding is right for any input).
pub(crate) fn path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            push_encoded(&mut out, b);
        }
    }
    out
}

/// Encodes a query value. `:` stays literal (the camera's FPATH form
/// `A:\DCIM\...`); the backslash becomes `%5C` as common clients send it;
/// `&`, `=`, `#`, `+`, space and every other byte outside unreserved
/// characters are encoded so the value cannot add parameters.
pub(crate) fn query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
            out.push(char::from(b));
        } else {
            push_encoded(&mut out, b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(
            path("/DCIM/Movie/a b(1)+.MP4"),
            "/DCIM/Movie/a%20b%281%29%2B.MP4"
        );
        assert_eq!(
            query_value("A:\\DCIM\\Movie\\x.MP4"),
            "A:%5CDCIM%5CMovie%5Cx.MP4"
        );
        assert_eq!(query_value("/DCIM/x.MP4"), "/DCIM/x.MP4");
        assert_eq!(query_value("a&b=c#d+e f"), "a%26b%3Dc%23d%2Be%20f");
        assert_eq!(query_value("ü"), "%C3%BC");
    }
}
