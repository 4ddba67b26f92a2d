//! What each request gets: the guard, the body limit and the time limit
//! around it, then the page, the metrics, the JSON status or an action.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::App;
use super::guard;
use crate::actions::{Action, ActionError};

/// What a connection over the limit is told before it is closed.
pub(crate) const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\nretry-after: 1\r\n\r\n";

pub(crate) type Resp = Response<BoxBody<Bytes, std::io::Error>>;

/// Any body as the server's body type.
pub(crate) fn boxed<B>(body: B) -> BoxBody<Bytes, std::io::Error>
where
    B: hyper::body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<std::io::Error>,
{
    body.map_err(Into::into).boxed()
}

/// Answers one request within the request time limit.
pub(crate) async fn handle(app: &App, req: Request<Incoming>) -> Resp {
    match tokio::time::timeout(app.config.request_timeout, route(app, req)).await {
        Ok(r) => r,
        Err(_) => text(StatusCode::REQUEST_TIMEOUT, "request took too long"),
    }
}

async fn route(app: &App, req: Request<Incoming>) -> Resp {
    if let Err(r) = guard::check(app.config.token.as_deref(), req.method(), req.headers()) {
        let mut resp = text(r.status, r.reason);
        if r.status == StatusCode::UNAUTHORIZED {
            let h = resp.headers_mut();
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"viofosync\", charset=\"UTF-8\""),
            );
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"viofosync\""),
            );
        }
        return resp;
    }
    let (parts, body) = req.into_parts();
    let limit = app.config.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return too_large();
    }
    // A body without a length (chunked) is read up to the limit only.
    if Limited::new(body, limit).collect().await.is_err() {
        return too_large();
    }
    let path = parts.uri.path();
    let get = matches!(parts.method, Method::GET | Method::HEAD);
    let action = path.strip_prefix("/api/").and_then(Action::from_path);
    if let Some(action) = action {
        if parts.method != Method::POST {
            return not_allowed("POST");
        }
        return act(app, action, &parts.headers);
    }
    if !get {
        return if known(path) {
            not_allowed("GET, HEAD")
        } else {
            text(StatusCode::NOT_FOUND, "not found")
        };
    }
    match path {
        "/" => page(app, &app.status, false).await,
        "/page.js" => ok(
            "text/javascript; charset=utf-8",
            Bytes::from_static(crate::page::assets::SCRIPT.as_bytes()),
        ),
        "/metrics" => ok(
            crate::metrics::CONTENT_TYPE,
            app.status.render_metrics().into(),
        ),
        "/api/status" => {
            let body = serde_json::to_vec(&app.status.snapshot()).unwrap_or_default();
            ok("application/json", body.into())
        }
        "/trips" => match app.trips(super::library::LIST_TRIPS).await {
            Some(t) => html(crate::page::trips::render_list(&t, viofo_store::now_ms())),
            None => text(
                StatusCode::NOT_FOUND,
                "no trips: this server reads no store",
            ),
        },
        _ => by_id(app, path, &parts.headers).await,
    }
}

/// Paths that answer `GET`.
fn known(path: &str) -> bool {
    matches!(
        path,
        "/" | "/page.js" | "/metrics" | "/api/status" | "/trips"
    ) || ["/trips/", "/clips/", "/camera/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// `/trips/<id>`, `/trips/<id>/gpx`, `/clips/<id>`, `/clips/<id>/gpx`,
/// `/camera/<id>`: the id is a store row id (or a camera id), never a path.
async fn by_id(app: &App, path: &str, headers: &hyper::HeaderMap) -> Resp {
    let not_found = || text(StatusCode::NOT_FOUND, "not found");
    if let Some(id) = path.strip_prefix("/camera/") {
        let id = percent_decode(id.trim_end_matches('/'));
        return match app
            .config
            .cameras
            .iter()
            .find(|m| Some(m.config().camera_id.as_str()) == id.as_deref())
        {
            Some(m) => page(app, m, true).await,
            None => not_found(),
        };
    }
    let (kind, rest) = if let Some(r) = path.strip_prefix("/trips/") {
        ("trip", r)
    } else if let Some(r) = path.strip_prefix("/clips/") {
        ("clip", r)
    } else {
        return not_found();
    };
    let (id, gpx) = match rest.split_once('/') {
        Some((id, "gpx")) => (id, true),
        Some(_) => return not_found(),
        None => (rest, false),
    };
    // Digits only: `+1`, `01x` and the like are not ids.
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return not_found();
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let file = match (kind, gpx) {
        ("trip", false) => {
            return match app.trip(id).await {
                Some((t, clips)) => html(crate::page::trips::render_trip(
                    &t,
                    &clips,
                    viofo_store::now_ms(),
                )),
                None => not_found(),
            };
        }
        ("trip", true) => app.trip_gpx(id).await,
        _ => app.clip_file(id, gpx).await,
    };
    match file {
        Some((real, name)) => super::files::send(real, &name, headers).await,
        None => not_found(),
    }
}

/// `%XX` decoded; `None` when not valid UTF-8 or a bad escape.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn html(body: String) -> Resp {
    let mut r = ok("text/html; charset=utf-8", body.into());
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

/// The status page of `model` (this server's camera, or another one's at
/// `/camera/<id>`: `peer`), with the trips and the cameras overview.
async fn page(app: &App, model: &crate::StatusModel, peer: bool) -> Resp {
    let snapshot = model.snapshot();
    let mut cameras = Vec::new();
    if !app.config.cameras.is_empty() {
        let own = app.status.config().camera_id.as_str();
        if !app
            .config
            .cameras
            .iter()
            .any(|m| m.config().camera_id == own)
        {
            cameras.push(app.status.snapshot());
        }
        cameras.extend(app.config.cameras.iter().map(crate::StatusModel::snapshot));
    }
    let extras = crate::page::PageExtras {
        trips: app.trips(super::library::BRIEF_TRIPS).await,
        cameras,
        peer,
    };
    html(crate::page::render_with(&snapshot, &extras))
}

fn act(app: &App, action: Action, headers: &hyper::HeaderMap) -> Resp {
    if action == Action::SyncNow && app.status.snapshot().state == crate::SyncState::Paused {
        // It would be taken and then ignored: say so instead.
        tracing::info!(
            action = action.as_str(),
            "status server: sync now refused while paused"
        );
        let body = serde_json::json!({
            "action": action.as_str(),
            "accepted": false,
            "error": "paused: resume first",
        });
        let mut r = ok("application/json", body.to_string().into());
        *r.status_mut() = StatusCode::CONFLICT;
        return r;
    }
    let result = app.actions.handle(action);
    tracing::info!(
        action = action.as_str(),
        ok = result.is_ok(),
        "status server: action asked"
    );
    match result {
        Ok(()) => {
            let wants_page = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            if wants_page {
                // The page's form: back to the page.
                let mut r = text(StatusCode::SEE_OTHER, "accepted");
                r.headers_mut()
                    .insert(header::LOCATION, HeaderValue::from_static("/"));
                return r;
            }
            let body = serde_json::json!({ "action": action.as_str(), "accepted": true });
            let mut r = ok("application/json", body.to_string().into());
            *r.status_mut() = StatusCode::ACCEPTED;
            r
        }
        Err(e) => {
            let status = match e {
                ActionError::Busy => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            let body = serde_json::json!({
                "action": action.as_str(),
                "accepted": false,
                "error": e.to_string(),
            });
            let mut r = ok("application/json", body.to_string().into());
            *r.status_mut() = status;
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
    }
}

fn ok(content_type: &'static str, body: Bytes) -> Resp {
    let mut r = Response::new(
        Full::new(body)
            .map_err(|never: std::convert::Infallible| -> std::io::Error { match never {} })
            .boxed(),
    );
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

pub(crate) fn text(status: StatusCode, msg: &'static str) -> Resp {
    let mut r = ok(
        "text/plain; charset=utf-8",
        Bytes::from_static(msg.as_bytes()),
    );
    *r.status_mut() = status;
    r
}

fn too_large() -> Resp {
    let mut r = text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    // The rest of the body is not read: this connection is done.
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn not_allowed(allow: &'static str) -> Resp {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}
