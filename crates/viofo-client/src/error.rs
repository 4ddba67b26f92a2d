//! The crate's one public error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong talking to the camera or writing a clip.
///
/// Branch on the predicates ([`is_retryable`](Error::is_retryable),
/// [`is_offline`](Error::is_offline), ...), not on the message. The message
/// names the clip, path or command involved.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
    context: String,
    /// The address asked (`http://host[:port]` or `host:port`), when known.
    pub(crate) url: Option<String>,
}

/// Which step a timeout happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Connect,
    Idle,
    Total,
}

/// What went wrong, as this layer says it. A variant with a `#[source]`
/// never puts that source's text in its own message: the cause is reached
/// through [`std::error::Error::source`], so a chain printer (anyhow's
/// `{:#}`, or [`Error`]'s own `{:#}`) shows each cause once.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Kind {
    #[error("camera unreachable")]
    Connect(#[source] reqwest::Error),
    #[error("timed out ({0:?})")]
    Timeout(Phase),
    #[error("connection failed")]
    Transport(#[source] reqwest::Error),
    #[error(
        "something at this address answers, but it is not a Novatek dashcam (HTTP {status} to the heartbeat)"
    )]
    NotDashcam { status: u16 },
    /// A 200 to the heartbeat whose body is no camera's answer (an HTML
    /// page, XML with another root, text, a body over the reply cap); the
    /// text says which.
    #[error("something at this address answers, but it is not a Novatek dashcam ({0})")]
    NotDashcamReply(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("body ended after {got} of {expected} bytes")]
    ShortBody { expected: u64, got: u64 },
    #[error("body longer than the expected {expected} bytes")]
    LongBody { expected: u64 },
    #[error("size changed: {0}")]
    SizeChanged(String),
    #[error("the .part does not end with the camera's bytes")]
    ResumeMismatch,
    #[error("cannot verify the size: {0}")]
    SizeUnknown(String),
    #[error("{}", io_message(path, source))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("invalid input")]
    InvalidInput,
    /// A configuration value refused by [`ClientConfig::validate`]; the
    /// text says which and why (the error's context stays empty).
    ///
    /// [`ClientConfig::validate`]: crate::ClientConfig::validate
    #[error("{0}")]
    Config(String),
    #[error("response larger than the {limit}-byte cap")]
    TooLarge { limit: u64 },
    #[error("listing has more than {limit} items")]
    TooManyItems { limit: usize },
    #[error("malformed response")]
    Malformed,
    #[error("response cut short")]
    Truncated,
    #[error("camera answered status {0}")]
    CameraStatus(i64),
    #[error(
        "the camera ignores Range: it answered 200 with the whole file instead of 206 Partial Content"
    )]
    RangeIgnored,
}

/// This layer's words for a local I/O error: the path, unless the cause's
/// own text already names it (fs-err messages do). The cause itself is the
/// error's source, never repeated here.
fn io_message(path: &std::path::Path, source: &io::Error) -> String {
    let p = path.display().to_string();
    if source.to_string().contains(&p) {
        "local file".to_owned()
    } else {
        format!("local file {p}")
    }
}

impl Error {
    pub(crate) fn new(kind: Kind, context: impl Into<String>) -> Self {
        Error {
            kind,
            context: context.into(),
            url: None,
        }
    }
    /// The address asked, for [`for_people`](Self::for_people).
    pub(crate) fn at(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
    pub(crate) fn invalid_input(context: impl Into<String>) -> Self {
        Self::new(Kind::InvalidInput, context)
    }
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config(message.into()), "")
    }
    pub(crate) fn malformed(context: impl Into<String>) -> Self {
        Self::new(Kind::Malformed, context)
    }
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        source: io::Error,
        context: impl Into<String>,
    ) -> Self {
        Self::new(
            Kind::Io {
                path: path.into(),
                source,
            },
            context,
        )
    }
    pub(crate) fn cancelled(context: impl Into<String>) -> Self {
        Self::new(Kind::Cancelled, context)
    }
    pub(crate) fn timeout(phase: Phase, context: impl Into<String>) -> Self {
        Self::new(Kind::Timeout(phase), context)
    }
    /// Classifies a reqwest error.
    pub(crate) fn http(e: reqwest::Error, context: impl Into<String>) -> Self {
        let url = e.url().map(|u| {
            let host = u.host_str().unwrap_or_default();
            match u.port_or_known_default() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_owned(),
            }
        });
        let kind = if e.is_connect() && e.is_timeout() {
            Kind::Timeout(Phase::Connect)
        } else if e.is_connect() {
            Kind::Connect(e)
        } else if e.is_timeout() {
            Kind::Timeout(Phase::Total)
        } else {
            Kind::Transport(e)
        };
        let mut out = Self::new(kind, context);
        out.url = url;
        out
    }
    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// A resumed `.part` did not end with the camera's bytes (the download
    /// starts over once by itself; this is seen only if that happens twice).
    pub fn is_resume_mismatch(&self) -> bool {
        matches!(self.kind, Kind::ResumeMismatch)
    }

    /// Worth trying again later: timeouts, resets, refused or failed
    /// connections, short or cut-off bodies, a size that could not be
    /// checked or changed underneath us, 5xx answers, a non-zero camera
    /// status on a heartbeat. Not: 404 and other 4xx, disk full and other
    /// local I/O errors, cancellation, bad names, malformed or oversized
    /// listings.
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            Kind::Connect(_)
            | Kind::Timeout(_)
            | Kind::Transport(_)
            | Kind::ShortBody { .. }
            | Kind::SizeChanged(_)
            | Kind::ResumeMismatch
            | Kind::SizeUnknown(_)
            | Kind::Truncated
            | Kind::CameraStatus(_) => true,
            Kind::Status(s) => *s >= 500 || *s == 408 || *s == 429,
            Kind::LongBody { .. }
            | Kind::Io { .. }
            | Kind::Cancelled
            | Kind::InvalidInput
            | Kind::Config(_)
            | Kind::NotDashcam { .. }
            | Kind::NotDashcamReply(_)
            | Kind::TooLarge { .. }
            | Kind::TooManyItems { .. }
            | Kind::RangeIgnored
            | Kind::Malformed => false,
        }
    }

    /// The camera answered 404: the file (or page) is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, Kind::Status(404))
    }

    /// A local write failed because the disk is full (ENOSPC / quota).
    pub fn is_disk_full(&self) -> bool {
        match &self.kind {
            Kind::Io { source, .. } => {
                matches!(
                    source.kind(),
                    io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
                ) || source.raw_os_error() == Some(28)
            }
            _ => false,
        }
    }

    /// A local file operation failed (the archive cannot be written: read
    /// only, no permission, disk full, a folder missing): the camera is not
    /// at fault, and the clip is not either.
    pub fn is_local_io(&self) -> bool {
        matches!(self.kind, Kind::Io { .. })
    }

    /// The caller's cancellation token fired.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, Kind::Cancelled)
    }

    /// The camera looks gone: the connection was refused or could not be
    /// made in time.
    pub fn is_offline(&self) -> bool {
        matches!(self.kind, Kind::Connect(_) | Kind::Timeout(Phase::Connect))
    }

    /// The input was refused before anything was sent or written: a bad
    /// name, path, destination or configuration.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self.kind, Kind::InvalidInput | Kind::Config(_))
    }

    /// The client's configuration was refused ([`ClientConfig::validate`],
    /// also run by [`Client::new`]): an address with an empty port or port
    /// 0, a scheme other than http(s), no host, a zero timeout, a
    /// connection limit outside 1..=3. Never retryable; also
    /// [`is_invalid_input`](Error::is_invalid_input).
    ///
    /// [`ClientConfig::validate`]: crate::ClientConfig::validate
    /// [`Client::new`]: crate::Client::new
    pub fn is_config(&self) -> bool {
        matches!(self.kind, Kind::Config(_))
    }

    /// A timeout (connect, idle read or total) fired.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }

    /// A ranged read ([`Client::read_range`]) was answered 200 with the
    /// whole file: this camera (or something between) ignores `Range`, so
    /// reading parts of a clip is impossible; the body was not read. Not
    /// retryable: turn ranged reads off for this camera (downloads still
    /// work, from byte 0).
    ///
    /// [`Client::read_range`]: crate::Client::read_range
    pub fn is_range_ignored(&self) -> bool {
        matches!(self.kind, Kind::RangeIgnored)
    }

    /// The HTTP status the camera answered, when that is the error.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            Kind::Status(s) | Kind::NotDashcam { status: s } => Some(s),
            _ => None,
        }
    }

    /// Something at the configured address answers HTTP, but not as a
    /// Novatek dashcam: it answered 404 to the heartbeat (cmd 3016), or a
    /// body that is no camera's answer (an HTML page, XML whose root is not
    /// `<Function>`, plain text, more than the reply cap), as a router, NAS
    /// or other web server would. Wrong address or wrong network; not
    /// retryable, not [`is_offline`](Error::is_offline), not
    /// [`is_not_found`](Error::is_not_found) (no file is missing).
    pub fn is_not_dashcam(&self) -> bool {
        matches!(
            self.kind,
            Kind::NotDashcam { .. } | Kind::NotDashcamReply(_)
        )
    }

    /// For people, when the camera cannot be reached or something else
    /// answers at its address: one line with the cause
    /// once and what to try, e.g. "cannot reach the camera at
    /// 192.168.1.254:80 (connection refused): is this machine on the
    /// camera's Wi-Fi?". `None` for other errors (their chain says it), or
    /// when the address asked is not known.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use viofo_client::{Client, ClientConfig};
    /// // Nothing listens on port 9 of 127.0.0.1 ("discard").
    /// let client = Client::new(ClientConfig::new("http://127.0.0.1:9")).unwrap();
    /// let e = client.probe().await.unwrap_err();
    /// assert_eq!(
    ///     e.for_people().as_deref(),
    ///     Some("cannot reach the camera at 127.0.0.1:9 (connection refused): is this machine on the camera's Wi-Fi?")
    /// );
    /// # }
    /// ```
    pub fn for_people(&self) -> Option<String> {
        let at = host_port(self.url.as_deref()?);
        let unreachable = |why: &str| {
            format!(
                "cannot reach the camera at {at} ({why}): is this machine on the camera's Wi-Fi?"
            )
        };
        match &self.kind {
            Kind::Connect(e) => Some(unreachable(&connect_cause(e))),
            Kind::Timeout(Phase::Connect) => Some(unreachable("no answer in time")),
            Kind::NotDashcam { .. } | Kind::NotDashcamReply(_) | Kind::Malformed => {
                Some(format!("{at} answers, but not as a Viofo camera"))
            }
            _ => None,
        }
    }
}

/// `host:port` of an address (`http://host[:port]`), the port made explicit.
pub(crate) fn host_port(address: &str) -> String {
    let rest = address
        .strip_prefix("http://")
        .map(|r| (r, 80))
        .or_else(|| address.strip_prefix("https://").map(|r| (r, 443)));
    let Some((rest, port)) = rest else {
        return address.trim_end_matches('/').to_owned();
    };
    let rest = rest.trim_end_matches('/');
    let has_port = rest
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if has_port {
        rest.to_owned()
    } else {
        format!("{rest}:{port}")
    }
}

/// Why a connection could not be made, in a few words, from the operating
/// system's error at the root of `e`.
fn connect_cause(e: &reqwest::Error) -> String {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                    "no route to it".to_owned()
                }
                io::ErrorKind::TimedOut => "no answer in time".to_owned(),
                io::ErrorKind::AddrNotAvailable => "address not available".to_owned(),
                _ => io.to_string(),
            };
        }
        if cause.to_string().contains("dns error") {
            return "its name does not resolve".to_owned();
        }
        next = cause.source();
    }
    "no connection".to_owned()
}

/// `{}` is this layer's text only (what was being done, and what went
/// wrong); the cause, if any, is [`source`](std::error::Error::source).
/// `{:#}` adds every cause, `: `-separated, each once: the one-line form for
/// logs and stored reasons.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            write!(f, "{}", self.kind)?;
        } else {
            write!(f, "{}: {}", self.context, self.kind)?;
        }
        if f.alternate() {
            let mut cause = std::error::Error::source(self);
            while let Some(c) = cause {
                write!(f, ": {c}")?;
                cause = c.source();
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let e = Error::new(Kind::Status(404), "GET /DCIM/Movie/x.MP4");
        assert!(e.is_not_found() && !e.is_retryable());
        assert!(e.to_string().contains("/DCIM/Movie/x.MP4"));
        assert!(Error::new(Kind::Status(503), "").is_retryable());
        assert!(
            Error::new(
                Kind::ShortBody {
                    expected: 2,
                    got: 1
                },
                ""
            )
            .is_retryable()
        );
        let full = Error::io(
            "/a/b.part",
            io::Error::from_raw_os_error(28),
            "writing x.MP4",
        );
        assert!(full.is_disk_full() && !full.is_retryable());
        assert!(full.to_string().contains("/a/b.part"));
        let cause = std::error::Error::source(&full).unwrap().to_string();
        assert!(!full.to_string().contains(&cause), "{full} repeats {cause}");
        assert_eq!(format!("{full:#}"), format!("{full}: {cause}"));
        assert!(Error::cancelled("x").is_cancelled());
        assert!(Error::timeout(Phase::Connect, "x").is_offline());
        assert!(!Error::timeout(Phase::Idle, "x").is_offline());
        assert!(Error::timeout(Phase::Idle, "x").is_retryable());
        assert!(Error::invalid_input("x").is_invalid_input());
        let nd = Error::new(Kind::NotDashcam { status: 404 }, "heartbeat (cmd 3016)");
        assert!(nd.is_not_dashcam() && !nd.is_retryable() && !nd.is_not_found());
        let ri = Error::new(Kind::RangeIgnored, "bytes 0-99 of /DCIM/Movie/x.MP4");
        assert!(ri.is_range_ignored() && !ri.is_retryable() && ri.status().is_none());
        assert!(ri.to_string().contains("ignores Range"), "{ri}");
    }

    #[test]
    fn io_errors_that_name_their_path_are_not_repeated() {
        let named = io::Error::other("failed to write to file `/a/b.part`: disk on fire");
        let e = Error::io("/a/b.part", named, "writing x.MP4");
        assert_eq!(e.to_string(), "writing x.MP4: local file");
        assert_eq!(
            format!("{e:#}"),
            "writing x.MP4: local file: failed to write to file `/a/b.part`: disk on fire"
        );
    }
}
