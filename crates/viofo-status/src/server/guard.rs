//! Who may ask: the bearer token (or HTTP Basic with the token as its
//! password, so a browser can log in), the Host header of a loopback server
//! without a token (no DNS rebinding), and same-origin requests only.

use std::net::{IpAddr, Ipv6Addr};

use base64::Engine;
use hyper::header::{AUTHORIZATION, HOST, HeaderMap, ORIGIN};
use hyper::{Method, StatusCode};

/// Why a request is refused, and with which status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) reason: &'static str,
}

fn refuse(status: StatusCode, reason: &'static str) -> Refusal {
    Refusal { status, reason }
}

/// Checks one request's headers. `token` is the configured token (required
/// on a server bound beyond loopback, checked at start).
pub(crate) fn check(
    token: Option<&str>,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    if token.is_none() && host.is_some_and(|h| !is_loopback_host(h)) {
        // A loopback server reached under another name is a page of another
        // site talking to it through DNS rebinding.
        return Err(refuse(StatusCode::FORBIDDEN, "host not allowed"));
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let same = match (origin.to_str().ok(), host) {
            (Some(o), Some(h)) => is_same_origin(o, h),
            _ => false,
        };
        if !same {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "cross-origin request refused",
            ));
        }
    }
    if !is_safe(method) {
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if site.is_some_and(|s| !matches!(s, "same-origin" | "none")) {
            return Err(refuse(StatusCode::FORBIDDEN, "cross-site request refused"));
        }
    }
    if let Some(token) = token {
        let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        if !given.is_some_and(|g| authorizes(g, token)) {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "a valid status token is required",
            ));
        }
    }
    Ok(())
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `Bearer <token>`, or `Basic base64(<any user>:<token>)`.
fn authorizes(header: &str, token: &str) -> bool {
    let (scheme, value) = header.trim().split_once(' ').unwrap_or((header, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return ct_eq(value.as_bytes(), token.as_bytes());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(value) else {
            return false;
        };
        let password = raw
            .iter()
            .position(|b| *b == b':')
            .and_then(|i| raw.get(i + 1..))
            .unwrap_or_default();
        return ct_eq(password, token.as_bytes());
    }
    false
}

/// Compares in time that depends on the length only.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, _)) => return ip.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()),
            None => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Does `origin` (`scheme://authority`) name the server reached as `host`?
fn is_same_origin(origin: &str, host: &str) -> bool {
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.1.2.3:80",
            "[::1]:9",
            "[::1]",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:80",
            "10.0.0.1:80",
            "[::2]:80",
            "[::1",
            "localhost.evil",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn origin_must_match_host() {
        let get = Method::GET;
        let same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check(None, &get, &same).is_ok());
        let other_port = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9999"),
        ]);
        assert_eq!(
            check(None, &get, &other_port).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        let null = headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(check(None, &get, &null).is_err());
        let rebinding = headers(&[
            ("host", "evil.example:8080"),
            ("origin", "http://evil.example:8080"),
        ]);
        assert!(
            check(None, &get, &rebinding).is_err(),
            "a loopback server answers loopback names only"
        );
        let cross_site_post = headers(&[("host", "localhost:1"), ("sec-fetch-site", "cross-site")]);
        assert!(check(None, &Method::POST, &cross_site_post).is_err());
        assert!(
            check(None, &Method::GET, &cross_site_post).is_ok(),
            "a link from elsewhere may open the page"
        );
    }

    #[test]
    fn tokens() {
        let t = Some("s3cret");
        let get = Method::GET;
        assert!(check(t, &get, &headers(&[("authorization", "Bearer s3cret")])).is_ok());
        assert!(check(t, &get, &headers(&[("authorization", "bearer  s3cret ")])).is_ok());
        let basic = base64::engine::general_purpose::STANDARD.encode("me:s3cret");
        assert!(
            check(
                t,
                &get,
                &headers(&[("authorization", &format!("Basic {basic}"))])
            )
            .is_ok()
        );
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "s3cret",
            "Basic !!",
            "Basic czNjcmV0",
        ] {
            let e = check(t, &get, &headers(&[("authorization", wrong)])).unwrap_err();
            assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{wrong}");
        }
        assert!(check(t, &get, &HeaderMap::new()).is_err());
        // With a token any host name may be used (the NAS's name).
        assert!(
            check(
                t,
                &get,
                &headers(&[("host", "nas.lan:8080"), ("authorization", "Bearer s3cret")])
            )
            .is_ok()
        );
    }
}
