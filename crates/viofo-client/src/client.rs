//! [`Client`]: the request plumbing and every call except downloads (see
//! `download.rs`); its configuration is in `config.rs`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use reqwest::header::{CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::command::{Command, model_from_firmware};
pub use crate::config::{ClientConfig, MAX_CONNECTIONS};
use crate::error::{Error, Kind, Phase};
use crate::limiter::{Class, Limiter, Permit};
use crate::listing::xml::parse_function;
use crate::listing::{ListSource, Listing, ListingLimits, html, parse_xml_listing};
use crate::recording::Recording;

/// Cap on a short command's answer (they are a few hundred bytes).
const MAX_REPLY_BYTES: u64 = 1 << 20;

/// The HTML pages read by [`ListSource::Html`], in order. The first must
/// exist; the others may answer 404 (no such folder).
pub(crate) const HTML_PAGES: [&str; 3] = ["/DCIM/Movie", "/DCIM/Movie/Parking", "/DCIM/Movie/RO"];

/// Firmware and storage facts from [`Client::info`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraInfo {
    /// The firmware string as reported (cmd 3012), e.g. `VIOFO_A329S_V2.0_260313`.
    pub firmware: String,
    /// The model read from the firmware string (`A329S`), if recognisable.
    pub model: Option<String>,
    /// Free space on the card in bytes (cmd 3017), if the answer held a number.
    pub free_space: Option<u64>,
}

/// What the camera said to a delete (see [`Client::delete`]).
///
/// Three answers, of which only one is a confirmation:
///
/// | variant | the camera answered | the file is | predicate |
/// |---|---|---|---|
/// | [`Confirmed`](DeleteAnswer::Confirmed) | `<Status>0</Status>` | deleted | [`is_confirmed`](DeleteAnswer::is_confirmed) |
/// | [`EmptyBody`](DeleteAnswer::EmptyBody) | HTTP 200, empty body | **unknown** | [`is_ambiguous`](DeleteAnswer::is_ambiguous) |
/// | [`Refused`](DeleteAnswer::Refused) | a non-zero `<Status>` to every path form | still there | [`is_refused`](DeleteAnswer::is_refused) |
///
/// `EmptyBody` is **not** a confirmation: treat it as "maybe deleted" and
/// check the next listing before recording the clip as gone from the
/// camera. (What the camera answered, not what was decided: the store's
/// `DeleteOutcome` records the decision.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteAnswer {
    /// `<Status>0</Status>`: the camera says the file is deleted.
    Confirmed,
    /// Ambiguous, not confirmed: HTTP 200 with an empty body. Some firmware
    /// answers a successful delete this way, but so might a firmware that
    /// ignored the request. Whether the file is gone is unknown until a
    /// listing no longer shows it.
    EmptyBody,
    /// Every path form was answered with a non-zero status (the last one
    /// is given): the file is still there.
    Refused {
        /// The camera's `<Status>` value.
        status: i64,
    },
}

impl DeleteAnswer {
    /// The camera confirmed the delete (`<Status>0</Status>`). False for
    /// the ambiguous empty answer.
    pub fn is_confirmed(self) -> bool {
        matches!(self, DeleteAnswer::Confirmed)
    }

    /// The camera answered 200 with an empty body: the file may or may not
    /// be gone; check the next listing.
    pub fn is_ambiguous(self) -> bool {
        matches!(self, DeleteAnswer::EmptyBody)
    }

    /// The camera refused the delete; the file is still there.
    pub fn is_refused(self) -> bool {
        matches!(self, DeleteAnswer::Refused { .. })
    }
}

/// `confirmed`, `unconfirmed: empty answer (check the next listing)`,
/// `refused: status N`.
impl std::fmt::Display for DeleteAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeleteAnswer::Confirmed => f.write_str("confirmed"),
            DeleteAnswer::EmptyBody => {
                f.write_str("unconfirmed: empty answer (check the next listing)")
            }
            DeleteAnswer::Refused { status } => write!(f, "refused: status {status}"),
        }
    }
}

/// An async client for one camera. Cheap to clone; clones share the
/// connection limiter.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// The primary address, then the fallbacks (no trailing `/`).
    pub(crate) bases: Vec<String>,
    /// Index into `bases` of the address in use.
    pub(crate) current: AtomicUsize,
    pub(crate) cfg: ClientConfig,
    pub(crate) limiter: Limiter,
}

/// A body read with a cap; `cut` is the transport error that ended it, if
/// it did not end cleanly.
pub(crate) struct Body {
    pub(crate) bytes: Vec<u8>,
    pub(crate) cut: Option<Error>,
}

impl Client {
    /// Checks `cfg` ([`ClientConfig::validate`]) and builds the client.
    /// Nothing is sent.
    pub fn new(cfg: ClientConfig) -> Result<Client, Error> {
        let bases = cfg
            .checked()?
            .iter()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .collect();
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            // The camera closes the socket after each request; never pool.
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .user_agent(concat!("viofo-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::invalid_input(format!("building the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                bases,
                current: AtomicUsize::new(0),
                limiter: Limiter::new(cfg.max_connections),
                cfg,
            }),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// Connections this client (and its clones) hold right now.
    pub fn connections_in_use(&self) -> usize {
        self.inner.limiter.in_use()
    }

    pub(crate) fn url_at(base: &str, target: &str) -> Result<Url, Error> {
        Url::parse(&format!("{base}{target}"))
            .map_err(|e| Error::invalid_input(format!("URL for {target}: {e}")))
    }

    /// Sends one request (connection closed after it) and waits for the
    /// answer's headers, at most `connect_timeout + idle_timeout`.
    /// The caller holds `permit` (a refused extra connection waits for
    /// another under a lower limit: `adapt.rs`).
    pub(crate) async fn send(
        &self,
        permit: &mut Permit,
        method: Method,
        target: &str,
        extra: HeaderMap,
        what: &str,
    ) -> Result<reqwest::Response, Error> {
        self.send_at(permit, self.address(), method, target, extra, what)
            .await
    }

    /// One try of [`send_at`](Self::send_at).
    pub(crate) async fn send_once_at(
        &self,
        base: &str,
        method: Method,
        target: &str,
        extra: HeaderMap,
        what: &str,
    ) -> Result<reqwest::Response, Error> {
        let url = Self::url_at(base, target)?;
        let req = self
            .inner
            .http
            .request(method, url)
            .header(CONNECTION, HeaderValue::from_static("close"))
            .headers(extra);
        let wait = self.inner.cfg.connect_timeout + self.inner.cfg.idle_timeout;
        match tokio::time::timeout(wait, req.send()).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(Error::http(e, what)),
            Err(_) => Err(Error::timeout(Phase::Idle, format!("{what}: no answer"))),
        }
    }

    /// Reads a whole body, at most `cap` bytes, each chunk within the idle
    /// timeout. A transport error ends the body and is returned beside
    /// what was read (the caller decides whether the bytes are complete).
    pub(crate) async fn read_body(
        &self,
        mut resp: reqwest::Response,
        cap: u64,
        what: &str,
    ) -> Result<Body, Error> {
        if let Some(len) = header_len(&resp)
            && len > cap
        {
            return Err(Error::new(
                Kind::TooLarge { limit: cap },
                format!("{what} (Content-Length {len})"),
            ));
        }
        let mut bytes = Vec::new();
        loop {
            match tokio::time::timeout(self.inner.cfg.idle_timeout, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    if (bytes.len() as u64).saturating_add(chunk.len() as u64) > cap {
                        return Err(Error::new(Kind::TooLarge { limit: cap }, what.to_owned()));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(Ok(None)) => return Ok(Body { bytes, cut: None }),
                Ok(Err(e)) => {
                    return Ok(Body {
                        bytes,
                        cut: Some(Error::http(e, what)),
                    });
                }
                Err(_) => {
                    return Ok(Body {
                        bytes,
                        cut: Some(Error::timeout(Phase::Idle, format!("{what}: body stalled"))),
                    });
                }
            }
        }
    }

    /// Runs `fut` within `limit`, mapping expiry to a total timeout.
    pub(crate) async fn within<T>(
        limit: Duration,
        what: &str,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(
                Phase::Total,
                format!("{what}: took longer than {limit:?}"),
            )),
        }
    }

    /// Sends a command and returns its body (which must parse as a
    /// `<Function>` answer unless empty).
    async fn command(&self, cmd: Command, class: Class, limit: Duration) -> Result<Body, Error> {
        self.command_at(self.address(), cmd, class, limit).await
    }

    /// [`command`](Self::command) sent to `base` (one of `bases`).
    pub(crate) async fn command_at(
        &self,
        base: &str,
        cmd: Command,
        class: Class,
        limit: Duration,
    ) -> Result<Body, Error> {
        let what = format!("cmd {}", cmd.number());
        // The limit starts once a slot is ours: it bounds the camera, not
        // our own queue.
        let mut permit = self.inner.limiter.acquire(class).await;
        Self::within(limit, &what, async {
            let resp = self
                .send_at(
                    &mut permit,
                    base,
                    Method::GET,
                    &cmd.target(),
                    HeaderMap::new(),
                    &what,
                )
                .await?;
            check_status(&resp, &what)?;
            self.read_body(resp, MAX_REPLY_BYTES, &what).await
        })
        .await
    }

    /// Sends a command and parses its `<Function>` answer. A body cut off
    /// by the camera is accepted when the document is complete.
    async fn function(
        &self,
        cmd: Command,
        limit: Duration,
    ) -> Result<crate::listing::xml::FunctionReply, Error> {
        let what = format!("cmd {}", cmd.number());
        let body = self.command(cmd, Class::Normal, limit).await?;
        match parse_function(&body.bytes, &what) {
            Ok(r) => Ok(r),
            Err(e) => Err(body.cut.unwrap_or(e)),
        }
    }

    /// Firmware string and model (cmd 3012), free space (cmd 3017).
    pub async fn info(&self) -> Result<CameraInfo, Error> {
        let limit = self.inner.cfg.command_timeout;
        let fw = self.function(Command::Firmware, limit).await?;
        let firmware = fw
            .get("String")
            .map(str::to_owned)
            .ok_or_else(|| Error::malformed("cmd 3012: no <String> in the answer"))?;
        let space = self.function(Command::FreeSpace, limit).await?;
        let free_space = space
            .get("Value")
            .or_else(|| space.get("String"))
            .and_then(|v| v.parse::<u64>().ok());
        if free_space.is_none() {
            tracing::warn!(answer = ?space.fields, "cmd 3017: no free-space number");
        }
        Ok(CameraInfo {
            model: model_from_firmware(&firmware),
            firmware,
            free_space,
        })
    }

    /// Whether the camera is recording (cmd 3014, the status paired with
    /// cmd 2001; any non-zero value counts as recording). An answer
    /// without that pair is an error: treat the state as unknown.
    pub async fn recording_state(&self) -> Result<bool, Error> {
        let reply = self
            .function(Command::State, self.inner.cfg.command_timeout)
            .await?;
        match reply.status_for(2001) {
            Some(s) => Ok(s != 0),
            None => Err(Error::malformed(
                "cmd 3014: no status for cmd 2001 in the answer",
            )),
        }
    }

    /// Lists the recordings from the chosen source. Invalid items are
    /// skipped (see [`Listing::skipped`]); the call fails on transport
    /// errors, a malformed document, or a listing over the byte or item cap.
    ///
    /// A document the camera ended early but cleanly (a real Novatek
    /// firmware ends its XML with `</LIST` and no `>`) is accepted when it
    /// holds at least one complete item, with [`Listing::truncated`] set;
    /// one ended early by a failed connection (reset, stall, short of its
    /// `Content-Length`) is a retryable error.
    pub async fn list(&self, source: ListSource) -> Result<Listing, Error> {
        match source {
            ListSource::Xml => self.list_xml().await,
            ListSource::Html => self.list_html().await,
        }
    }

    fn limits(&self) -> ListingLimits {
        ListingLimits {
            max_items: self.inner.cfg.max_listing_items,
        }
    }

    async fn list_xml(&self) -> Result<Listing, Error> {
        const WHAT: &str = "XML listing (cmd 3015)";
        let body = {
            let mut permit = self.inner.limiter.acquire(Class::Normal).await;
            Self::within(self.inner.cfg.listing_timeout, WHAT, async {
                let resp = self
                    .send(
                        &mut permit,
                        Method::GET,
                        &Command::ListAll.target(),
                        HeaderMap::new(),
                        WHAT,
                    )
                    .await?;
                check_status(&resp, WHAT)?;
                self.read_body(resp, self.inner.cfg.max_listing_bytes, WHAT)
                    .await
            })
            .await?
        };
        match parse_xml_listing(&body.bytes, self.limits()) {
            // The link failed mid-document (reset, stall, Content-Length not
            // reached): the bytes are not what the camera meant to send, and
            // another try is likely to get them all.
            Ok(listing) => match body.cut {
                Some(cut) if listing.truncated.is_some() => Err(cut),
                Some(cut) => {
                    tracing::debug!(error = %format_args!("{cut:#}"), "listing connection ended abruptly after a complete document");
                    Ok(listing)
                }
                None => Ok(listing),
            },
            Err(e) => Err(match body.cut {
                Some(cut) if matches!(e.kind(), Kind::Truncated) => cut,
                _ => e,
            }),
        }
    }

    async fn list_html(&self) -> Result<Listing, Error> {
        let mut listing = Listing::default();
        let mut seen = HashSet::new();
        let mut budget = self.inner.cfg.max_listing_bytes;
        for (i, page) in HTML_PAGES.iter().enumerate() {
            let what = format!("HTML page {page}");
            let body = {
                let mut permit = self.inner.limiter.acquire(Class::Normal).await;
                Self::within(self.inner.cfg.listing_timeout, &what, async {
                    let resp = self
                        .send(
                            &mut permit,
                            Method::GET,
                            &crate::encode::path(page),
                            HeaderMap::new(),
                            &what,
                        )
                        .await?;
                    if resp.status() == StatusCode::NOT_FOUND && i > 0 {
                        tracing::debug!(page, "no such folder on the camera");
                        return Ok(None);
                    }
                    check_status(&resp, &what)?;
                    self.read_body(resp, budget, &what).await.map(Some)
                })
                .await?
            };
            let Some(body) = body else { continue };
            if let Some(cut) = body.cut {
                // HTML has no end marker we can trust: a cut page may have
                // lost rows.
                return Err(cut);
            }
            budget = budget.saturating_sub(body.bytes.len() as u64);
            html::parse_into(&body.bytes, page, self.limits(), &mut listing, &mut seen)?;
        }
        Ok(listing)
    }

    /// The exact size the camera reports for `rec` by HEAD.
    pub async fn head(&self, rec: &Recording) -> Result<u64, Error> {
        let what = format!("HEAD {}", rec.remote_path());
        let mut permit = self.inner.limiter.acquire(Class::Normal).await;
        Self::within(
            self.inner.cfg.command_timeout,
            &what,
            self.head_unlimited(&mut permit, rec, &what),
        )
        .await
    }

    /// HEAD without taking a permit (the caller holds `permit`).
    pub(crate) async fn head_unlimited(
        &self,
        permit: &mut Permit,
        rec: &Recording,
        what: &str,
    ) -> Result<u64, Error> {
        let resp = self
            .send(
                permit,
                Method::HEAD,
                &crate::encode::path(rec.remote_path()),
                HeaderMap::new(),
                what,
            )
            .await?;
        check_status(&resp, what)?;
        header_len(&resp).ok_or_else(|| {
            Error::new(
                Kind::SizeUnknown("no Content-Length".into()),
                what.to_owned(),
            )
        })
    }

    /// Deletes `rec` on the camera with cmd 4003: first with the path as
    /// listed (`A:\DCIM\...`), then, if refused, with the other form
    /// (`/DCIM/...`, or `A:\DCIM\...` when the listing gave the slash
    /// form). Runs in the delete class of the limiter (see the crate
    /// docs): it waits while downloads wait.
    ///
    /// Only [`DeleteAnswer::Confirmed`] is a confirmation; an empty 200
    /// answer is [`DeleteAnswer::EmptyBody`], which is ambiguous
    /// ([`DeleteAnswer::is_ambiguous`]): check the next listing.
    ///
    /// A 404 is an error ([`Error::is_not_found`]); so is a non-200 answer
    /// or an unparsable body. The caller decides whether a locked clip may
    /// be deleted; this call does not check.
    pub async fn delete(&self, rec: &Recording) -> Result<DeleteAnswer, Error> {
        let listed = rec.listed_path().to_owned();
        let other = if listed.starts_with('/') {
            format!("A:{}", rec.remote_path().replace('/', "\\"))
        } else {
            rec.remote_path().to_owned()
        };
        let mut last = 0;
        for form in [listed, other] {
            let what = format!("delete {form}");
            let body = self
                .command(
                    Command::Delete(form.clone()),
                    Class::Delete,
                    self.inner.cfg.command_timeout,
                )
                .await?;
            if body.bytes.iter().all(u8::is_ascii_whitespace) {
                if let Some(cut) = body.cut {
                    return Err(cut);
                }
                return Ok(DeleteAnswer::EmptyBody);
            }
            let reply = parse_function(&body.bytes, &what).map_err(|e| body.cut.unwrap_or(e))?;
            match reply.status() {
                Some(0) => return Ok(DeleteAnswer::Confirmed),
                Some(s) => {
                    tracing::info!(path = %form, status = s, "camera refused delete");
                    last = s;
                }
                None => {
                    return Err(Error::malformed(format!(
                        "{what}: no <Status> in the answer"
                    )));
                }
            }
        }
        Ok(DeleteAnswer::Refused { status: last })
    }
}

/// The Content-Length header, if present and numeric.
pub(crate) fn header_len(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Any status but 200 is an error for commands, listings and HEAD.
pub(crate) fn check_status(resp: &reqwest::Response, what: &str) -> Result<(), Error> {
    if resp.status() == StatusCode::OK {
        Ok(())
    } else {
        Err(Error::new(
            Kind::Status(resp.status().as_u16()),
            what.to_owned(),
        ))
    }
}

/// `bytes a-b/total` or `bytes a-b/*` (a `Content-Range` answer), shared
/// by downloads and ranged reads.
pub(crate) fn parse_content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    if b < a {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => {
            let t: u64 = t.parse().ok()?;
            if b >= t {
                return None;
            }
            Some(t)
        }
    };
    Some((a, b, total))
}

#[cfg(test)]
mod tests;
