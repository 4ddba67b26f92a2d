//! Response documents: the XML listing, command replies and HTML pages.

use std::fmt::Write as _;

use time::PrimitiveDateTime;

use crate::card::Clip;
use crate::config::{Folder, ListingEnd, ListingShape};

/// `%Y/%m/%d %H:%M:%S`.
pub(crate) fn camera_time(t: PrimitiveDateTime) -> String {
    crate::names::format_time(
        t,
        time::macros::format_description!("[year]/[month]/[day] [hour]:[minute]:[second]"),
    )
}

/// FAT-packed date/time: `date << 16 | time`.
pub(crate) fn timecode(t: PrimitiveDateTime) -> u32 {
    let y = u32::try_from(t.year() - 1980).unwrap_or(0) & 0x7f;
    let date = (y << 9) | (u32::from(u8::from(t.month())) << 5) | u32::from(t.day());
    let time =
        (u32::from(t.hour()) << 11) | (u32::from(t.minute()) << 5) | u32::from(t.second() / 2);
    (date << 16) | time
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// cmd=3015.
pub(crate) fn listing(clips: &[Clip], shape: ListingShape) -> String {
    let mut s = String::with_capacity(64 + clips.len() * 280);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<LIST>\n");
    for c in clips {
        let (open, close) = match shape {
            ListingShape::Nested => ("<ALLFile><File>", "</File></ALLFile>"),
            ListingShape::Flat => ("<File>", "</File>"),
        };
        let _ = write!(
            s,
            "{open}\n<NAME>{}</NAME>\n<FPATH>{}</FPATH>\n<SIZE>{}</SIZE>\n<TIMECODE>{}</TIMECODE>\n<TIME>{}</TIME>\n<ATTR>{}</ATTR>\n{close}\n",
            escape(&c.name),
            escape(&format!("{}{}", c.folder.fpath_dir(), c.name)),
            c.size,
            timecode(c.end),
            camera_time(c.end),
            c.attr(),
        );
    }
    s.push_str("</LIST>\n");
    s
}

/// Cuts a cmd=3015 document the way `end` says (see [`ListingEnd`]).
pub(crate) fn cut_listing(mut doc: String, end: ListingEnd) -> String {
    match end {
        ListingEnd::Complete => {}
        ListingEnd::MissingFinalGt => {
            if let Some(i) = doc.rfind("</LIST>") {
                doc.truncate(i + "</LIST".len());
            }
        }
        ListingEnd::CutMidItem => {
            let item = doc.rfind("<File>");
            let size = item.and_then(|i| doc.get(i..)?.find("<SIZE>").map(|s| i + s + 6));
            match size {
                Some(v) => {
                    let digits = doc
                        .get(v..)
                        .map_or(0, |r| r.bytes().take_while(u8::is_ascii_digit).count());
                    // Keep at least one digit and drop at least one (a cut
                    // SIZE still parses as a number: a parser must drop it).
                    doc.truncate(v + (digits / 2).clamp(1, digits.saturating_sub(1).max(1)));
                }
                None => {
                    if let Some(i) = doc.find("<LIST>") {
                        doc.truncate(i + "<LIST>".len());
                    }
                }
            }
        }
    }
    doc
}

/// `<Function><Cmd>N</Cmd><Status>S</Status></Function>`.
pub(crate) fn status(cmd: u32, status: i32) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Function>\n<Cmd>{cmd}</Cmd>\n<Status>{status}</Status>\n</Function>\n"
    )
}

/// A reply carrying one extra element (`<Value>`, `<String>`).
pub(crate) fn with_value(cmd: u32, tag: &str, value: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Function>\n<Cmd>{cmd}</Cmd>\n<Status>0</Status>\n<{tag}>{}</{tag}>\n</Function>\n",
        escape(value)
    )
}

/// cmd=3014: repeated Cmd/Status pairs; 2001 is the recording flag.
pub(crate) fn state(recording: bool) -> String {
    let pairs: [(u32, u32); 8] = [
        (1002, 0),
        (2001, u32::from(recording)),
        (2002, 2),
        (2003, 1),
        (2007, 1),
        (3007, 0),
        (3008, 1),
        (9212, 0),
    ];
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<Function>\n");
    for (cmd, status) in pairs {
        let _ = write!(s, "<Cmd>{cmd}</Cmd>\n<Status>{status}</Status>\n");
    }
    s.push_str("</Function>\n");
    s
}

/// Rounded size as the HTML pages show it, e.g. `102.00 MB`.
pub fn html_size(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b >= K * K * K {
        format!("{:.2} GB", b / (K * K * K))
    } else if b >= K * K {
        format!("{:.2} MB", b / (K * K))
    } else if b >= K {
        format!("{:.2} KB", b / K)
    } else {
        format!("{bytes} B")
    }
}

/// Novatek-style directory page for one folder.
pub(crate) fn html_dir(folder: Folder, clips: &[Clip], now: PrimitiveDateTime) -> String {
    let dir = folder.url_dir();
    let title = escape(folder.fpath_dir());
    let mut s = format!(
        "<html>\n<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n<title>Index of {title}</title></head>\n<body>\n<h1>Index of {title}</h1>\n<table class=\"table\">\n<tr><th>Name</th><th>Size</th><th>Date</th><th></th></tr>\n"
    );
    if folder == Folder::Movie {
        for sub in [Folder::Parking, Folder::Ro] {
            let name = sub.url_dir().rsplit('/').next().unwrap_or("");
            let _ = writeln!(
                s,
                "<tr><td><a href=\"{}/\"><b>{name}</b></a></td><td align=right>&lt;DIR&gt;</td><td align=right>{}</td><td></td></tr>",
                sub.url_dir(),
                camera_time(now)
            );
        }
    }
    for c in clips.iter().filter(|c| c.folder == folder) {
        let href = format!("{dir}/{}", escape(&c.name));
        let _ = writeln!(
            s,
            "<tr><td><a href=\"{href}\"><b>{}</b></a></td><td align=right>{}</td><td align=right>{}</td><td><a href=\"{href}?del=1\">Remove</a></td></tr>",
            escape(&c.name),
            html_size(c.size),
            camera_time(c.end)
        );
    }
    s.push_str("</table>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sizes_are_rounded_like_the_camera() {
        assert_eq!(html_size(106_954_752), "102.00 MB");
        assert_eq!(html_size(132_120_576), "126.00 MB");
        assert_eq!(html_size(2_000), "1.95 KB");
        assert_eq!(html_size(12), "12 B");
        assert_eq!(html_size(3 << 30), "3.00 GB");
    }

    #[test]
    fn listings_are_cut_like_real_firmware() {
        let doc = "<?xml?>\n<LIST>\n<ALLFile><File>\n<NAME>A</NAME>\n<SIZE>123456</SIZE>\n</File></ALLFile>\n<ALLFile><File>\n<NAME>B</NAME>\n<SIZE>987654</SIZE>\n</File></ALLFile>\n</LIST>\n";
        let whole = cut_listing(doc.to_owned(), ListingEnd::Complete);
        assert_eq!(whole, doc);
        let gt = cut_listing(doc.to_owned(), ListingEnd::MissingFinalGt);
        assert!(gt.ends_with("</File></ALLFile>\n</LIST"), "{gt}");
        let mid = cut_listing(doc.to_owned(), ListingEnd::CutMidItem);
        assert!(mid.ends_with("<NAME>B</NAME>\n<SIZE>987"), "{mid}");
        assert!(mid.contains("<SIZE>123456</SIZE>\n</File></ALLFile>"));
        let empty = "<?xml?>\n<LIST>\n</LIST>\n".to_owned();
        assert!(cut_listing(empty, ListingEnd::CutMidItem).ends_with("<LIST>"));
        let one = "<File><SIZE>7</SIZE></File>".to_owned();
        assert!(cut_listing(one, ListingEnd::CutMidItem).ends_with("<SIZE>7"));
    }

    #[test]
    fn timecode_packs_fat_date_and_time() {
        let t = datetime!(2025-12-24 12:04:06);
        let tc = timecode(t);
        assert_eq!(tc >> 16, ((2025 - 1980) << 9) | (12 << 5) | 24);
        assert_eq!(tc & 0xffff, (12 << 11) | (4 << 5) | 3);
        assert_eq!(camera_time(t), "2025/12/24 12:04:06");
    }
}
