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

/// Writes to stdout; see the module's doc.
pub(crate) fn write_out(args: fmt::Arguments<'_>) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = io::stdout().lock().write_fmt(args) {
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
    let _ = io::stderr().lock().write_fmt(args);
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
