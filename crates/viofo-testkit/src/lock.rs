//! Another process holding a SQLite database's write lock: [`LockHolder`]
//! runs the `viofo-lock-holder` binary of this crate and follows what it
//! says (`locked`, then `released`).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::binary::lock_holder_binary;

/// How long the holder keeps the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// This long after it was taken.
    For(Duration),
    /// Until [`LockHolder::release`] (the holder's stdin closes).
    UntilReleased,
}

/// A running `viofo-lock-holder` process that holds a database's write
/// lock (`BEGIN IMMEDIATE`). Killed when dropped.
///
/// The binary: `viofo-lock-holder <db> <hold-ms | until-eof>` opens the
/// database (WAL, 30 s busy timeout), takes the write lock, prints
/// `locked`, holds it for the given milliseconds or until its stdin ends,
/// releases it (nothing was written) and prints `released`.
#[derive(Debug)]
pub struct LockHolder {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    locked_at: Instant,
    released_after: Option<Duration>,
}

/// Bound on the holder's start and on each wait for one of its lines.
const WAIT: Duration = Duration::from_secs(30);

impl LockHolder {
    /// Starts a holder on `db` and returns once it says `locked` (bounded
    /// by 30 s). Panics if the binary cannot be found or built, or if the
    /// process says anything else first.
    pub async fn start(db: &Path, hold: Hold) -> LockHolder {
        let bin = lock_holder_binary().unwrap_or_else(|e| panic!("the lock holder binary: {e}"));
        let arg = match hold {
            Hold::For(d) => d.as_millis().to_string(),
            Hold::UntilReleased => "until-eof".to_owned(),
        };
        let mut child = Command::new(&bin)
            .arg(db)
            .arg(arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the holder's stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the holder locks within 30 s")
            .expect("read the holder's output");
        assert_eq!(first.as_deref(), Some("locked"), "the holder's first line");
        LockHolder {
            child,
            stdin,
            lines,
            locked_at: Instant::now(),
            released_after: None,
        }
    }

    /// Whether the process still runs (it has not exited, so it holds the
    /// lock unless it is just releasing it).
    pub fn is_running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("ask whether the holder exited")
            .is_none()
    }

    /// Tells a holder started with [`Hold::UntilReleased`] to release the
    /// lock (closes its stdin); then wait with [`LockHolder::released`].
    pub fn release(&mut self) {
        self.stdin = None;
    }

    /// Waits until the holder says `released` and exits successfully
    /// (each bounded by 30 s); returns how long it held the lock, from
    /// `locked` to `released` as seen here. Panics if it says anything
    /// else, ends its output first, or fails.
    ///
    /// Cancel-safe: usable as a `tokio::select!` branch in a loop.
    pub async fn released(&mut self) -> Duration {
        if self.released_after.is_none() {
            let line = tokio::time::timeout(WAIT, self.lines.next_line())
                .await
                .expect("the holder releases within 30 s of being waited for")
                .expect("read the holder's output");
            assert_eq!(line.as_deref(), Some("released"), "the holder's last line");
            self.released_after = Some(self.locked_at.elapsed());
        }
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the holder exits after releasing")
            .expect("wait for the holder");
        assert!(status.success(), "the lock holder failed: {status}");
        self.released_after.unwrap_or_default()
    }
}
