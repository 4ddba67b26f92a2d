//! [`Client`]: configuration, the request plumbing, and every call except
//! downloads (see `download.rs`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::command::{Command, model_from_firmware};
use crate::error::{Error, Kind, Phase};
use crate::limiter::{Class, Limiter};
use crate::listing::xml::parse_function;
use crate::listing::{ListSource, Listing, ListingLimits, html, parse_xml_listing};
use crate::recording::Recording;

/// Most simultaneous connections a camera tolerates.
pub const MAX_CONNECTIONS: usize = 3;

/// Cap on a short command's answer (they are a few hundred bytes).
const MAX_REPLY_BYTES: u64 = 1 << 20;

/// The HTML pages read by [`ListSource::Html`], in order. The first must
/// exist; the others may answer 404 (no such folder).
pub(crate) const HTML_PAGES: [&str; 3] = ["/DCIM/Movie", "/DCIM/Movie/Parking", "/DCIM/Movie/RO"];

/// How to reach the camera and how long to wait for it.
///
/// Build with [`ClientConfig::new`] and adjust the public fields.
/// [`ClientConfig::validate`] checks the values ([`Client::new`] runs it).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `http://host[:port]`, no query. There is no default: the caller
    /// names the camera (on a real camera's Wi-Fi this is usually
    /// `http://192.168.1.254`).
    pub base_url: String,
    /// Most connections in flight at once, 1..=3 (default 3). Shared by
    /// all clones of the client.
    pub max_connections: usize,
    /// Limit for establishing a TCP connection (default 5 s). Failing it
    /// means the camera is offline ([`Error::is_offline`]).
    pub connect_timeout: Duration,
    /// Longest wait for the answer's headers, and for each body chunk:
    /// a stalled socket fails after this long even mid-body (default 15 s).
    pub idle_timeout: Duration,
    /// Whole-call limit for short commands: info, state, HEAD, each delete
    /// attempt (default 30 s). Like every limit here it starts once a
    /// connection slot is ours: it bounds the camera, not the local queue.
    pub command_timeout: Duration,
    /// Whole-call limit for [`Client::probe`] (default 3 s).
    pub probe_timeout: Duration,
    /// Limit for reading a listing (each HTML page; default 120 s).
    pub listing_timeout: Duration,
    /// Most bytes a listing may have (all HTML pages together; default
    /// 16 MiB).
    pub max_listing_bytes: u64,
    /// Most items a listing may have (default 100 000).
    pub max_listing_items: usize,
}

impl ClientConfig {
    /// Defaults for everything but the camera's address.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            max_connections: MAX_CONNECTIONS,
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            command_timeout: Duration::from_secs(30),
            probe_timeout: Duration::from_secs(3),
            listing_timeout: Duration::from_secs(120),
            max_listing_bytes: 16 << 20,
            max_listing_items: 100_000,
        }
    }
}

impl ClientConfig {
    /// Checks every value without building a client or sending anything;
    /// [`Client::new`] runs the same checks. Refused, each with a message
    /// naming the setting and the fix ([`Error::is_config`]):
    ///
    /// - `base_url`: empty; no `scheme://` (`127.0.0.1:`, `cam:8080`); a
    ///   scheme other than `http`/`https`; no host (`http://`, `http://:80`);
    ///   an empty port (`http://127.0.0.1:`); port 0 or a port that is not
    ///   a number 1..=65535; a user name or password; a query or fragment;
    /// - `max_connections` outside 1..=[`MAX_CONNECTIONS`];
    /// - any timeout of zero;
    /// - `max_listing_bytes` or `max_listing_items` of zero.
    ///
    /// ```
    /// use viofo_client::ClientConfig;
    ///
    /// let e = ClientConfig::new("http://127.0.0.1:").validate().unwrap_err();
    /// assert!(e.is_config());
    /// assert!(e.to_string().contains("empty port"));
    /// assert!(ClientConfig::new("http://127.0.0.1:8080").validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        self.checked().map(|_| ())
    }

    /// [`validate`](Self::validate), returning the parsed address.
    fn checked(&self) -> Result<Url, Error> {
        let url = check_address(&self.base_url)?;
        if self.max_connections == 0 || self.max_connections > MAX_CONNECTIONS {
            return Err(Error::config(format!(
                "max_connections must be 1..={MAX_CONNECTIONS}, not {}",
                self.max_connections
            )));
        }
        for (name, d) in [
            ("connect_timeout", self.connect_timeout),
            ("idle_timeout", self.idle_timeout),
            ("command_timeout", self.command_timeout),
            ("probe_timeout", self.probe_timeout),
            ("listing_timeout", self.listing_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::config(format!("{name} must not be zero")));
            }
        }
        if self.max_listing_bytes == 0 {
            return Err(Error::config("max_listing_bytes must not be zero"));
        }
        if self.max_listing_items == 0 {
            return Err(Error::config("max_listing_items must not be zero"));
        }
        Ok(url)
    }
}

/// Checks the camera address (see [`ClientConfig::validate`]). The raw
/// text is checked before the URL parser sees it, because the parser
/// quietly accepts an empty port (`http://127.0.0.1:` means port 80 to it).
fn check_address(base_url: &str) -> Result<Url, Error> {
    let shown = crate::validate::shown(base_url);
    let bad = |why: String| Error::config(format!("camera address {shown}: {why}"));
    let text = base_url.trim();
    if text.is_empty() {
        return Err(Error::config(
            "no camera address: give one as http://host[:port]",
        ));
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(bad(format!(
            "no scheme: write it as http://{}",
            text.trim_end_matches(':')
        )));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad(format!(
            "scheme {} is not http or https",
            crate::validate::shown(scheme)
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("a user name or password is not allowed".to_owned()));
    }
    // `[v6]:port` or `host:port`.
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, after)) => (h, after.strip_prefix(':')),
            None => return Err(bad("unclosed `[` in the host".to_owned())),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err(bad("no host: write it as http://host[:port]".to_owned()));
    }
    match port {
        Some("") => {
            return Err(bad(
                "empty port after `:`: give a port 1-65535, or leave out the `:` for port 80"
                    .to_owned(),
            ));
        }
        Some(p) => match p.parse::<u16>() {
            Ok(0) => return Err(bad("port 0 is not a port to connect to".to_owned())),
            Ok(_) => {}
            Err(_) => {
                return Err(bad(format!(
                    "port {} is not a number 1-65535",
                    crate::validate::shown(p)
                )));
            }
        },
        None => {}
    }
    let url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host: write it as http://host[:port]".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a query or fragment is not allowed".to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a user name or password is not allowed".to_owned()));
    }
    Ok(url)
}

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
/// | [`Confirmed`](DeleteOutcome::Confirmed) | `<Status>0</Status>` | deleted | [`is_confirmed`](DeleteOutcome::is_confirmed) |
/// | [`ConfirmedEmptyBody`](DeleteOutcome::ConfirmedEmptyBody) | HTTP 200, empty body | **unknown** | [`is_ambiguous`](DeleteOutcome::is_ambiguous) |
/// | [`Refused`](DeleteOutcome::Refused) | a non-zero `<Status>` to every path form | still there | [`is_refused`](DeleteOutcome::is_refused) |
///
/// Despite its name, `ConfirmedEmptyBody` is **not** a confirmation: treat
/// it as "maybe deleted" and check the next listing before recording the
/// clip as gone from the camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// `<Status>0</Status>`: the camera says the file is deleted.
    Confirmed,
    /// Ambiguous, not confirmed: HTTP 200 with an empty body. Some firmware
    /// answers a successful delete this way, but so might a firmware that
    /// ignored the request. Whether the file is gone is unknown until a
    /// listing no longer shows it. (The name is kept for compatibility;
    /// [`is_confirmed`](DeleteOutcome::is_confirmed) is false for it.)
    ConfirmedEmptyBody,
    /// Every path form was answered with a non-zero status (the last one
    /// is given): the file is still there.
    Refused {
        /// The camera's `<Status>` value.
        status: i64,
    },
}

impl DeleteOutcome {
    /// The camera confirmed the delete (`<Status>0</Status>`). False for
    /// the ambiguous empty answer.
    pub fn is_confirmed(self) -> bool {
        matches!(self, DeleteOutcome::Confirmed)
    }

    /// The camera answered 200 with an empty body: the file may or may not
    /// be gone; check the next listing.
    pub fn is_ambiguous(self) -> bool {
        matches!(self, DeleteOutcome::ConfirmedEmptyBody)
    }

    /// The camera refused the delete; the file is still there.
    pub fn is_refused(self) -> bool {
        matches!(self, DeleteOutcome::Refused { .. })
    }
}

/// `confirmed`, `unconfirmed: empty answer (check the next listing)`,
/// `refused: status N`.
impl std::fmt::Display for DeleteOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeleteOutcome::Confirmed => f.write_str("confirmed"),
            DeleteOutcome::ConfirmedEmptyBody => {
                f.write_str("unconfirmed: empty answer (check the next listing)")
            }
            DeleteOutcome::Refused { status } => write!(f, "refused: status {status}"),
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
    pub(crate) base: String,
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
        let url = cfg.checked()?;
        let base = url.as_str().trim_end_matches('/').to_owned();
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
                base,
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

    pub(crate) fn url(&self, target: &str) -> Result<Url, Error> {
        Url::parse(&format!("{}{target}", self.inner.base))
            .map_err(|e| Error::invalid_input(format!("URL for {target}: {e}")))
    }

    /// Sends one request (connection closed after it) and waits for the
    /// answer's headers, at most `connect_timeout + idle_timeout`.
    pub(crate) async fn send(
        &self,
        method: Method,
        target: &str,
        extra: HeaderMap,
        what: &str,
    ) -> Result<reqwest::Response, Error> {
        let url = self.url(target)?;
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
        let what = format!("cmd {}", cmd.number());
        // The limit starts once a slot is ours: it bounds the camera, not
        // our own queue.
        let _permit = self.inner.limiter.acquire(class).await;
        Self::within(limit, &what, async {
            let resp = self
                .send(Method::GET, &cmd.target(), HeaderMap::new(), &what)
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

    /// Heartbeat (cmd 3016) within `probe_timeout`: `Ok` when the camera
    /// answers status 0 (or an empty 200). A 404 means something else
    /// answers at this address ([`Error::is_not_dashcam`]).
    pub async fn probe(&self) -> Result<(), Error> {
        let body = self
            .command(
                Command::Heartbeat,
                Class::Normal,
                self.inner.cfg.probe_timeout,
            )
            .await
            .map_err(|e| match e.status() {
                Some(404) => Error::new(
                    Kind::NotDashcam { status: 404 },
                    format!("{}: heartbeat (cmd 3016)", self.inner.base),
                ),
                _ => e,
            })?;
        if body.bytes.iter().all(u8::is_ascii_whitespace) {
            return match body.cut {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        let reply = parse_function(&body.bytes, "cmd 3016").map_err(|e| body.cut.unwrap_or(e))?;
        match reply.status() {
            Some(0) | None => Ok(()),
            Some(s) => Err(Error::new(Kind::CameraStatus(s), "heartbeat (cmd 3016)")),
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
            let _permit = self.inner.limiter.acquire(Class::Normal).await;
            Self::within(self.inner.cfg.listing_timeout, WHAT, async {
                let resp = self
                    .send(
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
                let _permit = self.inner.limiter.acquire(Class::Normal).await;
                Self::within(self.inner.cfg.listing_timeout, &what, async {
                    let resp = self
                        .send(
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
        let _permit = self.inner.limiter.acquire(Class::Normal).await;
        Self::within(
            self.inner.cfg.command_timeout,
            &what,
            self.head_unlimited(rec, &what),
        )
        .await
    }

    /// HEAD without taking a permit (the caller holds one).
    pub(crate) async fn head_unlimited(&self, rec: &Recording, what: &str) -> Result<u64, Error> {
        let resp = self
            .send(
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
    /// Only [`DeleteOutcome::Confirmed`] is a confirmation; an empty 200
    /// answer is [`DeleteOutcome::ConfirmedEmptyBody`], which is ambiguous
    /// ([`DeleteOutcome::is_ambiguous`]): check the next listing.
    ///
    /// A 404 is an error ([`Error::is_not_found`]); so is a non-200 answer
    /// or an unparsable body. The caller decides whether a locked clip may
    /// be deleted; this call does not check.
    pub async fn delete(&self, rec: &Recording) -> Result<DeleteOutcome, Error> {
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
                return Ok(DeleteOutcome::ConfirmedEmptyBody);
            }
            let reply = parse_function(&body.bytes, &what).map_err(|e| body.cut.unwrap_or(e))?;
            match reply.status() {
                Some(0) => return Ok(DeleteOutcome::Confirmed),
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
        Ok(DeleteOutcome::Refused { status: last })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_checked() {
        let mut c = ClientConfig::new("http://127.0.0.1:1");
        assert!(Client::new(c.clone()).is_ok());
        c.max_connections = 4;
        assert!(Client::new(c.clone()).unwrap_err().is_invalid_input());
        c.max_connections = 0;
        assert!(Client::new(c.clone()).unwrap_err().is_invalid_input());
        c.max_connections = 2;
        c.idle_timeout = Duration::ZERO;
        assert!(Client::new(c).unwrap_err().is_invalid_input());
        for bad in [
            "",
            "127.0.0.1",
            "ftp://127.0.0.1",
            "http://127.0.0.1/?x=1",
            "http://u:p@127.0.0.1",
        ] {
            assert!(
                Client::new(ClientConfig::new(bad))
                    .unwrap_err()
                    .is_invalid_input(),
                "{bad}"
            );
        }
    }

    #[test]
    fn validate_refuses_bad_addresses_with_a_clear_message() {
        for (bad, says) in [
            ("http://127.0.0.1:", "empty port"),
            ("127.0.0.1:", "no scheme"),
            ("http://127.0.0.1:0", "port 0"),
            ("http://127.0.0.1:00", "port 0"),
            ("http://[::1]:", "empty port"),
            ("http://[::1]:0", "port 0"),
            ("http://127.0.0.1:65536", "not a number"),
            ("http://127.0.0.1:x", "not a number"),
            ("ftp://127.0.0.1", "not http or https"),
            ("file:///etc/passwd", "not http or https"),
            ("cam:8080", "no scheme"),
            ("127.0.0.1", "no scheme"),
            ("", "no camera address"),
            ("  ", "no camera address"),
            ("http://", "no host"),
            ("http:///DCIM", "no host"),
            ("http://:80", "no host"),
            ("http://[::1", "unclosed"),
            ("http://127.0.0.1/?x=1", "query"),
            ("http://127.0.0.1#top", "query or fragment"),
            ("http://u:p@127.0.0.1", "user name or password"),
            ("http://:p@127.0.0.1", "user name or password"),
        ] {
            let cfg = ClientConfig::new(bad);
            let e = cfg.validate().expect_err(bad);
            assert!(
                e.is_config() && e.is_invalid_input() && !e.is_retryable(),
                "{bad}: {e}"
            );
            let msg = e.to_string();
            assert!(msg.contains(says), "{bad}: {msg}");
            if !bad.trim().is_empty() {
                assert!(
                    msg.contains(&format!("{bad:?}")),
                    "names the address: {msg}"
                );
            }
            let e = Client::new(cfg).expect_err(bad);
            assert!(e.is_config(), "Client::new runs validate: {bad}: {e}");
        }
        for good in [
            "http://127.0.0.1",
            "http://127.0.0.1:1",
            "http://127.0.0.1:8080/",
            "HTTP://127.0.0.1:65535",
            "https://[::1]:8443",
            "http://localhost",
        ] {
            ClientConfig::new(good)
                .validate()
                .unwrap_or_else(|e| panic!("{good}: {e}"));
            Client::new(ClientConfig::new(good)).unwrap();
        }
    }

    #[test]
    fn validate_refuses_bad_limits() {
        let ok = ClientConfig::new("http://127.0.0.1");
        type Spoil = fn(&mut ClientConfig);
        let cases: [(&str, Spoil); 9] = [
            ("max_connections", |c| c.max_connections = 0),
            ("max_connections", |c| c.max_connections = 4),
            ("connect_timeout", |c| c.connect_timeout = Duration::ZERO),
            ("idle_timeout", |c| c.idle_timeout = Duration::ZERO),
            ("command_timeout", |c| c.command_timeout = Duration::ZERO),
            ("probe_timeout", |c| c.probe_timeout = Duration::ZERO),
            ("listing_timeout", |c| c.listing_timeout = Duration::ZERO),
            ("max_listing_bytes", |c| c.max_listing_bytes = 0),
            ("max_listing_items", |c| c.max_listing_items = 0),
        ];
        for (name, spoil) in cases {
            let mut c = ok.clone();
            spoil(&mut c);
            let e = c.validate().expect_err(name);
            assert!(e.is_config() && e.to_string().contains(name), "{e}");
            assert!(Client::new(c).unwrap_err().is_config());
        }
    }

    #[test]
    fn urls() {
        let c = Client::new(ClientConfig::new("http://127.0.0.1:8080/")).unwrap();
        assert_eq!(
            c.url("/DCIM/Movie/x.MP4").unwrap().as_str(),
            "http://127.0.0.1:8080/DCIM/Movie/x.MP4"
        );
        assert_eq!(
            c.url(&Command::ListAll.target()).unwrap().as_str(),
            "http://127.0.0.1:8080/?custom=1&cmd=3015&par=1"
        );
    }
}
