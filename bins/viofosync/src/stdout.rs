//! Writing reports to stdout (and plain lines to stderr): once the reader
//! goes away (`viofosync status | head -1`) the rest of the output is
//! dropped quietly; nothing panics and the exit code stays the command's.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Stdout cannot take more: later output is dropped.
static GONE: AtomicBool = AtomicBool::new(false);
/// Stdout failed for a reason other than a closed pipe (a full disk).
static FAILED: AtomicBool = AtomicBool::new(false);

fn lost(e: &io::Error) {
    GONE.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        FAILED.store(true, Ordering::Relaxed);
        tracing::error!("cannot write to standard output: {e}");
    }
}

/// Text fit for a terminal: each control character (ESC, CR, BEL, DEL,
/// the C1 range ...) is written escaped (`\u{1b}`), so a firmware string,
/// clip name, path or error text from a camera or a card cannot move the
/// cursor, retitle the window or hide what was printed. Newlines and tabs
/// stay. Every report and error line passes through it ([`write_out`],
/// [`write_err`]); JSON output never holds a raw control character.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The text of `args`, [`printable`].
fn printable_args(args: fmt::Arguments<'_>) -> String {
    match args.as_str() {
        Some(s) => printable(s).into_owned(),
        None => {
            let text = args.to_string();
            match printable(&text) {
                std::borrow::Cow::Borrowed(_) => text,
                std::borrow::Cow::Owned(o) => o,
            }
        }
    }
}

/// Writes to stdout ([`printable`]); see the module's doc.
pub(crate) fn write_out(args: fmt::Arguments<'_>) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let text = printable_args(args);
    if let Err(e) = io::stdout().lock().write_all(text.as_bytes()) {
        lost(&e);
    }
}

/// Flushes stdout (for a line another process waits for).
pub(crate) fn flush_out() {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = io::stdout().lock().flush() {
        lost(&e);
    }
}

/// Writes to stderr, ignoring a closed or failing stderr (there is nowhere
/// left to say so).
pub(crate) fn write_err(args: fmt::Arguments<'_>) {
    let text = printable_args(args);
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Whether writing to stdout failed for a reason other than the reader
/// going away: the output is incomplete, so the command did not succeed.
pub(crate) fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// Stdout as an [`io::Write`] for writers that stream (GPS tracks), with
/// the same rule: once the reader is gone, writes are dropped.
pub(crate) struct Out;

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !GONE.load(Ordering::Relaxed)
            && let Err(e) = io::stdout().lock().write_all(buf)
        {
            lost(&e);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        flush_out();
        Ok(())
    }
}

/// `println!` for reports.
macro_rules! outln {
    () => {
        $crate::stdout::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for reports.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write_out(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::stdout::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_newlines_and_tabs_kept() {
        let cases = [
            ("V1.0 firmware", "V1.0 firmware"),
            ("a\tb\nc", "a\tb\nc"),
            ("V1\u{1b}[2J", "V1\\u{1b}[2J"),
            ("t\u{1b}]0;x\u{7}\r!", "t\\u{1b}]0;x\\u{7}\\r!"),
            ("c1\u{9b}31m del\u{7f}", "c1\\u{9b}31m del\\u{7f}"),
        ];
        for (raw, want) in cases {
            let got = printable(raw);
            assert_eq!(got, want, "{raw:?}");
            assert!(
                !got.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t')
            );
        }
    }
}
