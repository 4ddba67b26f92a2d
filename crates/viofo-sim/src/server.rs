//! The camera's HTTP server: a hand-written accept loop and a minimal
//! HTTP/1.1 responder, so every quirk (close-delimited bodies, resets,
//! truncation, stalls) is under exact control.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};
use tokio_util::sync::CancellationToken;

use crate::card::{Body, Card, Clip};
use crate::config::{Folder, Settings};
use crate::faults::{Fault, FaultKind, RandomFaults, Target};
use crate::pages;
use crate::synth::SynthReader;

/// Commands that wedge real cameras; the sim refuses and records them.
pub const UNSAFE_COMMANDS: [u32; 9] = [3010, 3011, 3013, 3018, 3023, 4004, 8230, 9316, 9317];

/// Status answered to refused and unknown commands.
const UNKNOWN_STATUS: i32 = -256;
const REQUEST_LOG_CAP: usize = 100_000;
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The whole response was sent and the socket closed.
    Complete,
    /// The connection was reset mid-body (fault, offline, error).
    Dropped,
    /// The socket was closed cleanly before the announced body ended.
    Closed,
    /// The connection was reset without an answer.
    Reset,
    /// The client stopped reading or went away.
    ClientGone,
}

/// One request the simulator read, and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// HTTP status answered (`None` if the connection was reset instead).
    pub status: Option<u16>,
    /// cmd number for `/?custom=1&cmd=N` requests.
    pub cmd: Option<u32>,
    /// Clip name for downloads, HEADs and deletes.
    pub clip: Option<String>,
    /// First byte served (Range start; 0 without Range).
    pub range_start: u64,
    /// Body bytes written.
    pub body_bytes: u64,
    /// Body bytes the response announced or would have sent.
    pub body_len: u64,
    /// How it ended.
    pub outcome: Outcome,
}

/// Everything the server tasks and the `Sim` handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) bucket: Bucket,
    pub(crate) active: AtomicUsize,
    pub(crate) peak: AtomicUsize,
    pub(crate) refused: AtomicU64,
    pub(crate) max_connections: AtomicUsize,
    chunk_size: usize,
    request_timeout: Duration,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) card: Card,
    pub(crate) settings: Settings,
    pub(crate) deleted: Vec<String>,
    /// The clips deleted, as they were when deleted.
    pub(crate) deleted_clips: Vec<Clip>,
    pub(crate) requests: VecDeque<RequestRecord>,
    pub(crate) unsafe_cmds: Vec<u32>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) random: RandomFaults,
    rng: StdRng,
    pub(crate) offline_until: Option<Instant>,
    pub(crate) listing_override: Option<Bytes>,
}

impl Shared {
    pub(crate) fn new(card: Card, config: &crate::SimConfig) -> Self {
        Self {
            state: Mutex::new(State {
                card,
                settings: config.settings.clone(),
                deleted: Vec::new(),
                deleted_clips: Vec::new(),
                requests: VecDeque::new(),
                unsafe_cmds: Vec::new(),
                faults: Vec::new(),
                random: config.random_faults.clone(),
                rng: StdRng::seed_from_u64(config.seed ^ 0xfa17),
                offline_until: None,
                listing_override: None,
            }),
            bucket: Bucket::new(config.bandwidth, config.chunk_size),
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            max_connections: AtomicUsize::new(config.max_connections),
            chunk_size: config.chunk_size,
            request_timeout: config.request_timeout,
        }
    }

    /// Locks the state, bringing the recording up to date first.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.card.refresh(Instant::now());
        s
    }

    fn is_offline(&self) -> bool {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.offline_until.is_some_and(|t| Instant::now() < t)
    }

    fn log(&self, rec: RequestRecord) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.requests.len() >= REQUEST_LOG_CAP {
            s.requests.pop_front();
        }
        s.requests.push_back(rec);
    }
}

/// One token bucket shared by every connection: the Wi-Fi link.
#[derive(Debug)]
pub(crate) struct Bucket {
    inner: Mutex<BucketState>,
    chunk: u64,
}

#[derive(Debug)]
struct BucketState {
    rate: Option<u64>,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: Option<u64>, chunk: usize) -> Self {
        Self {
            inner: Mutex::new(BucketState {
                rate,
                tokens: 0.0,
                last: Instant::now(),
            }),
            chunk: chunk as u64,
        }
    }

    pub(crate) fn set_rate(&self, rate: Option<u64>) {
        let mut b = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        b.rate = rate.filter(|r| *r > 0);
        b.tokens = 0.0;
        b.last = Instant::now();
    }

    /// Reserves `n` bytes of link time and waits until they may be sent.
    async fn take(&self, n: u64) {
        let wait = {
            let mut b = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(rate) = b.rate else { return };
            let now = Instant::now();
            let burst = (rate as f64 / 50.0).max(self.chunk as f64);
            let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens = (b.tokens + elapsed * rate as f64).min(burst);
            b.last = now;
            b.tokens -= n as f64;
            if b.tokens >= 0.0 {
                0.0
            } else {
                -b.tokens / rate as f64
            }
        };
        if wait > 0.0 {
            sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

/// Decrements the live-connection count when released or dropped (once).
struct ActiveGuard(Arc<Shared>, bool);

impl ActiveGuard {
    fn new(shared: Arc<Shared>) -> Self {
        Self(shared, false)
    }

    /// The connection stops counting: called just before the last bytes
    /// of a complete answer are written. A client may open its next
    /// connection the instant those bytes arrive, before this task runs
    /// again; counting it until then would reset that connection over a
    /// limit the client kept (a race the tests saw on a loaded machine).
    fn release(&mut self) {
        if !self.1 {
            self.1 = true;
            self.0.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.release();
    }
}

fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Accepts connections until `cancel` fires.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            a = listener.accept() => a,
        };
        while conns.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if shared.is_offline() {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            reset(stream);
            continue;
        }
        let max = shared.max_connections.load(Ordering::SeqCst);
        let active = shared.active.load(Ordering::SeqCst);
        if active >= max {
            tracing::debug!(active, max, "resetting a connection above the limit");
            shared.refused.fetch_add(1, Ordering::SeqCst);
            reset(stream);
            continue;
        }
        let now_active = shared.active.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak.fetch_max(now_active, Ordering::SeqCst);
        let guard = ActiveGuard::new(shared.clone());
        conns.spawn(serve_conn(shared.clone(), stream, guard));
    }
    conns.shutdown().await;
}

/// A parsed request head.
#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    range: Option<String>,
}

async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 2048];
    let end = loop {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(tmp.get(..n).unwrap_or_default());
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buf.len() > 16 * 1024 {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target)) = (first.next(), first.next()) else {
        return Ok(None);
    };
    let range = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("range")
            .then(|| v.trim().to_owned())
    });
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        range,
    }))
}

/// What a request asks for.
#[derive(Debug, Clone)]
enum Route {
    Cmd {
        cmd: u32,
        params: Vec<(String, String)>,
    },
    Html(Folder),
    Clip(String),
    DelLink(String),
    NotFound,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn route(target: &str) -> Route {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path);
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.as_str())
    };
    if path == "/" || path.is_empty() {
        if let Some(cmd) = param("cmd").and_then(|c| c.parse().ok()) {
            return Route::Cmd { cmd, params };
        }
        return Route::NotFound;
    }
    let trimmed = path.trim_end_matches('/');
    if let Some(f) = Folder::ALL
        .into_iter()
        .find(|f| f.url_dir().eq_ignore_ascii_case(trimmed))
    {
        return Route::Html(f);
    }
    if path.len() > 6
        && path
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("/DCIM/"))
    {
        if param("del") == Some("1") {
            return Route::DelLink(path);
        }
        return Route::Clip(path);
    }
    Route::NotFound
}

fn matches(target: &Target, method: &str, raw: &str, route: &Route) -> bool {
    match target {
        Target::Any => true,
        Target::Cmd(n) => matches!(route, Route::Cmd { cmd, .. } if cmd == n),
        Target::Download => method == "GET" && matches!(route, Route::Clip(_)),
        Target::Head => method == "HEAD",
        Target::Delete => {
            matches!(route, Route::Cmd { cmd: 4003, .. } | Route::DelLink(_))
        }
        Target::Html => matches!(route, Route::Html(_)),
        Target::PathContains(s) => raw.contains(s.as_str()),
    }
}

/// Faults decided for one request.
#[derive(Debug, Default)]
struct Plan {
    drop_after: Option<u64>,
    close_after: Option<u64>,
    stall: Option<(u64, Duration)>,
    drop_frac: Option<f64>,
    stall_frac: Option<(f64, Duration)>,
    status: Option<u16>,
    reset: bool,
    offline: Option<Duration>,
    refuse_delete: Option<i32>,
    delay: Duration,
}

impl State {
    fn plan(&mut self, method: &str, raw: &str, route: &Route) -> Plan {
        let mut plan = Plan::default();
        let is_delete = matches(&Target::Delete, method, raw, route);
        if let Some(i) = self
            .faults
            .iter()
            .position(|f| f.remaining != Some(0) && matches(&f.target, method, raw, route))
        {
            let kind = self.faults.get(i).map(|f| f.kind.clone());
            if let Some(f) = self.faults.get_mut(i)
                && let Some(n) = &mut f.remaining
            {
                *n -= 1;
                if *n == 0 {
                    self.faults.remove(i);
                }
            }
            match kind {
                Some(FaultKind::DropAfter(n)) => plan.drop_after = Some(n),
                Some(FaultKind::CloseAfter(n)) => plan.close_after = Some(n),
                Some(FaultKind::Stall { after, for_ }) => plan.stall = Some((after, for_)),
                Some(FaultKind::Status(c)) => plan.status = Some(c),
                Some(FaultKind::Reset) => plan.reset = true,
                Some(FaultKind::Offline(d)) => plan.offline = Some(d),
                Some(FaultKind::RefuseDelete(s)) => plan.refuse_delete = Some(s),
                Some(FaultKind::Delay(d)) => plan.delay = d,
                None => {}
            }
            return plan;
        }
        let r = self.random.clone();
        if r.is_off() {
            return plan;
        }
        let rng = &mut self.rng;
        let roll = |rng: &mut StdRng, p: f64| p > 0.0 && rng.random::<f64>() < p;
        if roll(rng, r.offline_rate) {
            plan.offline = Some(r.offline_for);
        } else if method == "HEAD" && roll(rng, r.head_drop_rate) {
            plan.reset = true;
        } else if roll(rng, r.error_rate) {
            plan.status = Some(500);
        } else if is_delete && roll(rng, r.delete_refuse_rate) {
            plan.refuse_delete = Some(-1);
        } else {
            if roll(rng, r.drop_rate) {
                plan.drop_frac = Some(rng.random::<f64>());
            }
            if roll(rng, r.stall_rate) {
                plan.stall_frac = Some((rng.random::<f64>(), r.stall_for));
            }
        }
        plan
    }
}

/// A response to write.
struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: BodySource,
    start: u64,
    len: u64,
    content_length: bool,
    clip: Option<String>,
    /// A download whose body ends at the end of this clip (by id).
    completes: Option<u64>,
}

enum BodySource {
    Bytes(Bytes),
    Synth(SynthReader),
    File(std::path::PathBuf, Option<tokio::fs::File>),
}

impl BodySource {
    async fn fill(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BodySource::Bytes(b) => {
                let from = usize::try_from(pos).unwrap_or(usize::MAX);
                let src = b.get(from..).unwrap_or_default();
                let n = src.len().min(buf.len());
                if let (Some(d), Some(s)) = (buf.get_mut(..n), src.get(..n)) {
                    d.copy_from_slice(s);
                }
                Ok(n)
            }
            BodySource::Synth(r) => Ok(r.read_at(pos, buf)),
            BodySource::File(path, file) => {
                if file.is_none() {
                    let mut f = tokio::fs::File::open(&*path).await?;
                    f.seek(io::SeekFrom::Start(pos)).await?;
                    *file = Some(f);
                }
                let Some(f) = file else { return Ok(0) };
                let mut n = 0;
                while n < buf.len() {
                    let got = f.read(buf.get_mut(n..).unwrap_or_default()).await?;
                    if got == 0 {
                        break;
                    }
                    n += got;
                }
                Ok(n)
            }
        }
    }
}

impl Reply {
    fn doc(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let body: Bytes = body.into();
        Self {
            status,
            content_type,
            headers: Vec::new(),
            len: body.len() as u64,
            body: BodySource::Bytes(body),
            start: 0,
            content_length: true,
            clip: None,
            completes: None,
        }
    }

    fn xml(body: String) -> Self {
        Self::doc(200, "text/xml", body)
    }

    fn error(status: u16) -> Self {
        Self::doc(
            status,
            "text/html",
            format!("<html><body><h1>{status}</h1></body></html>\n"),
        )
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn parse_range(h: &str) -> Option<(u64, Option<u64>)> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let start = a.trim().parse().ok()?;
    let end = if b.trim().is_empty() {
        None
    } else {
        Some(b.trim().parse().ok()?)
    };
    Some((start, end))
}

fn clip_body(clip: &Clip) -> BodySource {
    match &clip.body {
        Body::Synth(l) => BodySource::Synth(SynthReader::new(l.clone(), clip.size)),
        Body::Bytes(b) => BodySource::Bytes(b.clone()),
        Body::File(p) => BodySource::File(p.clone(), None),
    }
}

fn download(clip: &Clip, range: Option<&str>, settings: &Settings) -> Reply {
    let size = clip.size;
    let mut reply = Reply {
        status: 200,
        content_type: "video/mp4",
        headers: vec![("Accept-Ranges", "bytes".to_owned())],
        body: clip_body(clip),
        start: 0,
        len: size,
        content_length: true,
        clip: Some(clip.name.clone()),
        completes: Some(clip.id),
    };
    if settings.ignore_range {
        return reply;
    }
    if let Some((start, end)) = range.and_then(parse_range) {
        if start >= size {
            let mut r = Reply::error(416);
            r.headers.push(("Content-Range", format!("bytes */{size}")));
            r.clip = Some(clip.name.clone());
            return r;
        }
        let last = end.unwrap_or(size - 1).min(size - 1);
        if last < start {
            return reply;
        }
        reply.status = 206;
        reply.start = start;
        reply.len = last - start + 1;
        if last + 1 < size {
            reply.completes = None;
        }
        reply
            .headers
            .push(("Content-Range", format!("bytes {start}-{last}/{size}")));
    }
    reply
}

/// Maps a delete `str=` to a URL path if the firmware accepts its form.
fn delete_path(arg: &str, settings: &Settings) -> Option<String> {
    let b = arg.as_bytes();
    let drive = b.len() > 3
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.get(1) == Some(&b':')
        && b.get(2) == Some(&b'\\');
    if drive {
        return settings
            .delete_forms
            .drive_backslash
            .then(|| format!("/{}", arg.get(3..).unwrap_or("").replace('\\', "/")));
    }
    if arg.starts_with('/') {
        return settings.delete_forms.slash.then(|| arg.to_owned());
    }
    None
}

enum DeleteCheck {
    /// May go: the clip's id and name.
    Ok(u64, String),
    Refused(i32, Option<String>),
}

fn check_delete(state: &State, url: Option<String>, refuse: Option<i32>) -> DeleteCheck {
    let Some(url) = url else {
        return DeleteCheck::Refused(-1, None);
    };
    let Some(clip) = state.card.find_url(&url) else {
        return DeleteCheck::Refused(-1, None);
    };
    let name = Some(clip.name.clone());
    if let Some(s) = refuse {
        return DeleteCheck::Refused(s, name);
    }
    if clip.growing || (clip.is_locked() && !state.settings.delete_locked) {
        return DeleteCheck::Refused(-1, name);
    }
    DeleteCheck::Ok(clip.id, clip.name.clone())
}

/// Performs a checked delete after the camera's delay.
async fn do_delete(shared: &Shared, check: DeleteCheck, delay: Duration) -> (i32, Option<String>) {
    sleep(delay).await;
    match check {
        DeleteCheck::Refused(s, name) => (s, name),
        DeleteCheck::Ok(id, name) => {
            let mut s = shared.lock();
            match s.card.remove_id(id) {
                Some(c) if !c.growing => {
                    s.deleted.push(c.name.clone());
                    let name = c.name.clone();
                    s.deleted_clips.push(c);
                    (0, Some(name))
                }
                Some(c) => {
                    // Started recording into it meanwhile: put it back.
                    s.card.clips.push(c);
                    (-1, Some(name))
                }
                None => (-1, Some(name)),
            }
        }
    }
}

async fn respond(
    shared: &Shared,
    req: &Request,
    route: &Route,
    plan: &Plan,
    settings: &Settings,
) -> Reply {
    let is_head = req.method == "HEAD";
    if req.method != "GET" && !is_head {
        return Reply::error(405);
    }
    match route {
        Route::NotFound => Reply::error(404),
        Route::Html(folder) => {
            let mut s = shared.lock();
            s.card.listing_served(Some(*folder));
            let now = s.card.camera_now(Instant::now());
            Reply::doc(
                200,
                "text/html",
                pages::html_dir(*folder, &s.card.clips, now),
            )
        }
        Route::Clip(path) => {
            let s = shared.lock();
            match s.card.find_url(path) {
                Some(clip) => download(clip, req.range.as_deref(), settings),
                None => Reply::error(404),
            }
        }
        Route::DelLink(path) => {
            let check = check_delete(&shared.lock(), Some(path.clone()), plan.refuse_delete);
            let (status, name) = do_delete(shared, check, settings.delete_delay).await;
            let folder = Folder::ALL
                .into_iter()
                .rev()
                .find(|f| {
                    path.to_ascii_lowercase()
                        .starts_with(&format!("{}/", f.url_dir().to_ascii_lowercase()))
                })
                .unwrap_or(Folder::Movie);
            let mut r = if status == 0 {
                let s = shared.lock();
                let now = s.card.camera_now(Instant::now());
                Reply::doc(
                    200,
                    "text/html",
                    pages::html_dir(folder, &s.card.clips, now),
                )
            } else {
                Reply::error(403)
            };
            r.clip = name;
            r
        }
        Route::Cmd { cmd, params } => {
            let cmd = *cmd;
            match cmd {
                3015 => {
                    let mut s = shared.lock();
                    s.card.listing_served(None);
                    let body = match &s.listing_override {
                        Some(b) => b.clone(),
                        None => Bytes::from(pages::cut_listing(
                            pages::listing(&s.card.clips, settings.listing_shape),
                            settings.listing_end,
                        )),
                    };
                    let mut r = Reply::doc(200, "text/xml", body);
                    r.content_length = settings.listing_content_length;
                    r
                }
                3016 => Reply::xml(pages::status(3016, 0)),
                3012 => Reply::xml(pages::with_value(3012, "String", &settings.firmware)),
                3014 => Reply::xml(pages::state(shared.lock().card.is_recording())),
                3017 => {
                    let used = shared.lock().card.used();
                    let free = settings.card_capacity.saturating_sub(used);
                    Reply::xml(pages::with_value(3017, "Value", &free.to_string()))
                }
                2001 => {
                    let par = params
                        .iter()
                        .find(|(k, _)| k == "par")
                        .map(|(_, v)| v.as_str());
                    match par {
                        Some("0") | Some("1") => {
                            shared
                                .lock()
                                .card
                                .set_recording(par == Some("1"), Instant::now());
                            Reply::xml(pages::status(2001, 0))
                        }
                        _ => Reply::xml(pages::status(2001, -1)),
                    }
                }
                4003 => {
                    let arg = params
                        .iter()
                        .find(|(k, _)| k == "str")
                        .map(|(_, v)| v.clone());
                    let url = arg.as_deref().and_then(|a| delete_path(a, settings));
                    let check = check_delete(&shared.lock(), url, plan.refuse_delete);
                    let (status, name) = do_delete(shared, check, settings.delete_delay).await;
                    let mut r = if status == 0 && settings.delete_empty_body {
                        Reply::doc(200, "text/xml", Bytes::new())
                    } else {
                        Reply::xml(pages::status(4003, status))
                    };
                    r.clip = name;
                    r
                }
                c if UNSAFE_COMMANDS.contains(&c) => {
                    tracing::warn!(cmd = c, "refusing an unsafe command");
                    shared.lock().unsafe_cmds.push(c);
                    Reply::xml(pages::status(c, UNKNOWN_STATUS))
                }
                c => Reply::xml(pages::status(c, UNKNOWN_STATUS)),
            }
        }
    }
}

async fn serve_conn(shared: Arc<Shared>, mut stream: TcpStream, mut guard: ActiveGuard) {
    let req = match timeout(shared.request_timeout, read_head(&mut stream)).await {
        Ok(Ok(Some(r))) => r,
        _ => {
            drop(guard);
            return;
        }
    };
    let route = route(&req.target);
    let cmd = match &route {
        Route::Cmd { cmd, .. } => Some(*cmd),
        _ => None,
    };
    let mut rec = RequestRecord {
        method: req.method.clone(),
        target: req.target.clone(),
        status: None,
        cmd,
        clip: None,
        range_start: 0,
        body_bytes: 0,
        body_len: 0,
        outcome: Outcome::Reset,
    };
    let (plan, settings) = {
        let mut s = shared.lock();
        (s.plan(&req.method, &req.target, &route), s.settings.clone())
    };
    if let Some(d) = plan.offline {
        shared.lock().offline_until = Some(Instant::now() + d);
    }
    let head_refused = req.method == "HEAD" && !settings.head_supported;
    if plan.offline.is_some() || plan.reset || head_refused {
        drop(guard);
        reset(stream);
        shared.log(rec);
        return;
    }
    let delay = settings.latency + plan.delay;
    if !delay.is_zero() {
        sleep(delay).await;
    }
    let mut reply = match plan.status {
        Some(code) => Reply::error(code),
        None => respond(&shared, &req, &route, &plan, &settings).await,
    };
    if shared.is_offline() {
        drop(guard);
        reset(stream);
        shared.log(rec);
        return;
    }
    rec.status = Some(reply.status);
    rec.clip = reply.clip.clone();
    rec.range_start = reply.start;
    rec.body_len = reply.len;
    let is_head = req.method == "HEAD";
    let outcome = write_reply(
        &shared,
        &mut stream,
        &mut reply,
        &plan,
        is_head,
        &mut rec.body_bytes,
        &mut guard,
    )
    .await;
    rec.outcome = outcome;
    drop(guard);
    match outcome {
        Outcome::Complete | Outcome::Closed => {
            let _ = stream.shutdown().await;
            drop(stream);
        }
        Outcome::Dropped | Outcome::Reset => reset(stream),
        Outcome::ClientGone => drop(stream),
    }
    shared.log(rec);
}

async fn write_reply(
    shared: &Shared,
    stream: &mut TcpStream,
    reply: &mut Reply,
    plan: &Plan,
    is_head: bool,
    sent: &mut u64,
    guard: &mut ActiveGuard,
) -> Outcome {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nServer: viofo-sim\r\nContent-Type: {}\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type
    );
    if reply.content_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.len));
    }
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    // An answer that is complete with its head stops counting before it.
    if is_head || reply.len == 0 || plan.close_after == Some(0) {
        guard.release();
    }
    match timeout(WRITE_TIMEOUT, stream.write_all(head.as_bytes())).await {
        Ok(Ok(())) => {}
        _ => return Outcome::ClientGone,
    }
    if is_head {
        return Outcome::Complete;
    }
    let total = reply.len;
    #[allow(clippy::cast_possible_truncation)] // saturating float cast, f in 0..1
    let frac = |f: f64| ((total as f64) * f) as u64;
    let drop_at = plan.drop_after.or(plan.drop_frac.map(frac));
    let close_at = plan.close_after;
    let mut stall = plan.stall.or(plan.stall_frac.map(|(f, d)| (frac(f), d)));
    let chunk = shared.chunk_size as u64;
    let mut buf = vec![0u8; shared.chunk_size];
    loop {
        if let Some(at) = drop_at
            && *sent >= at
        {
            return Outcome::Dropped;
        }
        if let Some(at) = close_at
            && *sent >= at
        {
            return Outcome::Closed;
        }
        if *sent >= total {
            return Outcome::Complete;
        }
        if let Some((at, d)) = stall
            && *sent >= at
        {
            stall = None;
            sleep(d).await;
        }
        if shared.is_offline() {
            return Outcome::Dropped;
        }
        let mut n = chunk.min(total - *sent);
        for cut in [drop_at, close_at, stall.map(|(a, _)| a)]
            .into_iter()
            .flatten()
        {
            if cut > *sent {
                n = n.min(cut - *sent);
            }
        }
        shared.bucket.take(n).await;
        let Some(dst) = buf.get_mut(..usize::try_from(n).unwrap_or(0)) else {
            return Outcome::Dropped;
        };
        let got = match reply.body.fill(reply.start + *sent, dst).await {
            Ok(0) | Err(_) => return Outcome::Dropped,
            Ok(g) => g,
        };
        let end = *sent + got as u64;
        if end >= total {
            // The camera reacts before the last bytes leave (a lock armed
            // with `lock_on_download`), so the client's next request sees it.
            if let Some(id) = reply.completes {
                shared.lock().card.download_completed(id);
            }
        }
        if end >= total || close_at.is_some_and(|at| end >= at) {
            guard.release();
        }
        match timeout(
            WRITE_TIMEOUT,
            stream.write_all(dst.get(..got).unwrap_or_default()),
        )
        .await
        {
            Ok(Ok(())) => *sent += got as u64,
            _ => return Outcome::ClientGone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route("/?custom=1&cmd=3015&par=1"),
            Route::Cmd { cmd: 3015, .. }
        ));
        assert!(matches!(route("/DCIM/Movie/"), Route::Html(Folder::Movie)));
        assert!(matches!(route("/DCIM/Movie/RO"), Route::Html(Folder::Ro)));
        assert!(matches!(
            route("/dcim/movie/parking"),
            Route::Html(Folder::Parking)
        ));
        assert!(matches!(route("/DCIM/Movie/X.MP4"), Route::Clip(p) if p == "/DCIM/Movie/X.MP4"));
        assert!(matches!(
            route("/DCIM/Movie/X.MP4?del=1"),
            Route::DelLink(_)
        ));
        assert!(matches!(route("/etc/passwd"), Route::NotFound));
        match route("/?custom=1&cmd=4003&str=A:%5CDCIM%5CMovie%5CX.MP4") {
            Route::Cmd { params, .. } => {
                assert!(params.contains(&("str".into(), "A:\\DCIM\\Movie\\X.MP4".into())))
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=100-"), Some((100, None)));
        assert_eq!(parse_range("bytes=1-5"), Some((1, Some(5))));
        assert_eq!(parse_range("bytes=-5"), None);
        assert_eq!(parse_range("bytes=1-2,4-5"), None);
        assert_eq!(parse_range("items=1-"), None);
    }

    #[test]
    fn delete_forms() {
        let mut s = crate::SimConfig::default().settings;
        assert_eq!(
            delete_path("A:\\DCIM\\Movie\\X.MP4", &s).as_deref(),
            Some("/DCIM/Movie/X.MP4")
        );
        assert_eq!(
            delete_path("/DCIM/Movie/X.MP4", &s).as_deref(),
            Some("/DCIM/Movie/X.MP4")
        );
        assert_eq!(delete_path("DCIM/Movie/X.MP4", &s), None);
        s.delete_forms.slash = false;
        assert_eq!(delete_path("/DCIM/Movie/X.MP4", &s), None);
        s.delete_forms.drive_backslash = false;
        assert_eq!(delete_path("A:\\DCIM\\Movie\\X.MP4", &s), None);
    }
}
