//! Which of the camera's addresses is in use: [`Client::address`],
//! [`Client::connect`] (the primary, then the fallbacks) and
//! [`Client::probe`].

use std::sync::atomic::Ordering;

use crate::client::Client;
use crate::command::Command;
use crate::error::{Error, Kind};
use crate::limiter::Class;
use crate::listing::xml::parse_function;

/// The address [`Client::connect`] reached.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// The address in use now (`http://host[:port]`).
    pub address: String,
    /// Whether it differs from the one in use before the call.
    pub changed: bool,
}

impl Client {
    /// The address in use (`http://host[:port]`): the primary until
    /// [`connect`](Self::connect) moved to a fallback.
    pub fn address(&self) -> &str {
        self.base(self.inner.current.load(Ordering::Relaxed))
    }

    /// Whether the address in use is a fallback, not the primary.
    pub fn at_fallback(&self) -> bool {
        self.inner.current.load(Ordering::Relaxed) != 0
    }

    /// Whether fallback addresses are configured.
    pub fn has_fallbacks(&self) -> bool {
        self.inner.bases.len() > 1
    }

    /// `bases[i]`; the primary for an index out of range (never the case:
    /// `current` only takes indices of `bases`).
    fn base(&self, i: usize) -> &str {
        let b = &self.inner.bases;
        b.get(i).or_else(|| b.first()).map_or("", String::as_str)
    }

    /// [`probe`](Self::probe)s the address in use; when it does not answer,
    /// the primary address and then each of
    /// [`ClientConfig::fallback_urls`](crate::ClientConfig::fallback_urls) in order, keeping the first that
    /// answers for every later request (until it fails a `connect` in its
    /// turn). Each try has the probe's time limit. When none answers, the
    /// error is the one of the address that was in use.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use viofo_client::{Client, ClientConfig};
    /// let sim = viofo_sim::Sim::start(viofo_sim::SimConfig::default()).await?;
    /// // Nothing listens on port 9 of 127.0.0.1 ("discard"); the simulator
    /// // is the fallback.
    /// let mut cfg = ClientConfig::new("http://127.0.0.1:9");
    /// cfg.fallback_urls = vec![sim.base_url()];
    /// let client = Client::new(cfg)?;
    /// let c = client.connect().await?;
    /// assert!(c.changed);
    /// assert_eq!(client.address(), sim.base_url().trim_end_matches('/'));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(&self) -> Result<Connected, Error> {
        let n = self.inner.bases.len();
        let was = self.inner.current.load(Ordering::Relaxed);
        let first = match self.probe_at(was).await {
            Ok(()) => {
                return Ok(Connected {
                    address: self.base(was).to_owned(),
                    changed: false,
                });
            }
            Err(e) => e,
        };
        for i in (0..n).filter(|&i| i != was) {
            match self.probe_at(i).await {
                Ok(()) => {
                    self.inner.current.store(i, Ordering::Relaxed);
                    return Ok(Connected {
                        address: self.base(i).to_owned(),
                        changed: true,
                    });
                }
                Err(e) => {
                    tracing::debug!(address = %self.base(i), "no answer: {e}");
                }
            }
        }
        Err(first)
    }

    /// Heartbeat (cmd 3016) within `probe_timeout`: `Ok` when the camera
    /// answers status 0 (or an empty 200). A 404 means something else
    /// answers at this address ([`Error::is_not_dashcam`]).
    pub async fn probe(&self) -> Result<(), Error> {
        self.probe_at(self.inner.current.load(Ordering::Relaxed))
            .await
    }

    /// [`probe`](Self::probe) of `bases[i]`.
    async fn probe_at(&self, i: usize) -> Result<(), Error> {
        let base = self.base(i);
        let body = self
            .command_at(
                base,
                Command::Heartbeat,
                Class::Normal,
                self.inner.cfg.probe_timeout,
            )
            .await
            .map_err(|e| match (e.status(), e.kind()) {
                (Some(404), _) => Error::new(
                    Kind::NotDashcam { status: 404 },
                    format!("{base}: heartbeat (cmd 3016)"),
                )
                .at(base),
                (_, Kind::TooLarge { limit }) => {
                    not_dashcam(base, format!("an answer over {limit} bytes"))
                }
                _ if e.url.is_none() => e.at(base),
                _ => e,
            })?;
        if body.bytes.iter().all(u8::is_ascii_whitespace) {
            return match body.cut {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        let reply = match (parse_function(&body.bytes, "cmd 3016"), body.cut) {
            // Cut off by the link: what came may be a camera's, half sent.
            (Err(_), Some(cut)) => return Err(cut.at(base)),
            // A camera's answer that ends early is a short read.
            (Err(e), None)
                if matches!(e.kind(), Kind::Truncated) && looks_like_function(&body.bytes) =>
            {
                return Err(e.at(base));
            }
            (Err(_), None) => return Err(not_dashcam(base, not_xml_words(&body.bytes))),
            (Ok(reply), _) if !reply.root.eq_ignore_ascii_case("Function") => {
                return Err(not_dashcam(
                    base,
                    format!("<{}> instead of <Function>", tag_name(&reply.root)),
                ));
            }
            (Ok(reply), _) => reply,
        };
        match reply.status() {
            Some(0) | None => Ok(()),
            Some(s) => Err(Error::new(Kind::CameraStatus(s), "heartbeat (cmd 3016)")),
        }
    }
}

/// The heartbeat at `base` was answered, but `why` is no camera's answer.
fn not_dashcam(base: &str, why: String) -> Error {
    Error::new(
        Kind::NotDashcamReply(format!("{why} to the heartbeat")),
        format!("{base}: heartbeat (cmd 3016)"),
    )
    .at(base)
}

/// The body starts with the camera's `<Function>` root (after an XML
/// declaration and blanks).
fn looks_like_function(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body.get(..256).unwrap_or(body));
    let mut rest = text.trim_start();
    if rest.starts_with("<?")
        && let Some(end) = rest.find("?>")
    {
        rest = rest.get(end + 2..).unwrap_or_default().trim_start();
    }
    rest.get(..9)
        .is_some_and(|r| r.eq_ignore_ascii_case("<Function"))
}

/// An element name from the camera, printable: its letters, digits and
/// `-_.:` only.
fn tag_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.:".contains(*c))
        .take(40)
        .collect()
}

/// What a heartbeat body that is not a camera's answer looks like.
fn not_xml_words(body: &[u8]) -> String {
    let head = String::from_utf8_lossy(body.get(..512).unwrap_or(body)).to_ascii_lowercase();
    if head.contains("<!doctype html") || head.contains("<html") {
        "an HTML page".to_owned()
    } else {
        "a body that is not the camera's XML".to_owned()
    }
}
