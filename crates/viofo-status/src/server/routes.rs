//! What each request gets: the guard, the body limit and the time limit
//! around it, then the page, the metrics, the JSON status or an action.

use bytes::Bytes;
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

type Resp = Response<Full<Bytes>>;

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
    match path {
        "/" | "/metrics" | "/api/status" if !get => not_allowed("GET, HEAD"),
        "/" => page(app),
        "/metrics" => ok(
            crate::metrics::CONTENT_TYPE,
            app.status.render_metrics().into(),
        ),
        "/api/status" => {
            let body = serde_json::to_vec(&app.status.snapshot()).unwrap_or_default();
            ok("application/json", body.into())
        }
        _ => match path.strip_prefix("/api/").and_then(Action::from_path) {
            Some(_) if parts.method != Method::POST => not_allowed("POST"),
            Some(action) => act(app, action, &parts.headers),
            None => text(StatusCode::NOT_FOUND, "not found"),
        },
    }
}

fn page(app: &App) -> Resp {
    let mut r = ok(
        "text/html; charset=utf-8",
        crate::page::render(&app.status.snapshot()).into(),
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

fn act(app: &App, action: Action, headers: &hyper::HeaderMap) -> Resp {
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
    let mut r = Response::new(Full::new(body));
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

fn text(status: StatusCode, msg: &'static str) -> Resp {
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
