//! [`ClientConfig`]: how to reach the camera and how long to wait for it,
//! and the check of those values ([`ClientConfig::validate`]).

use std::time::Duration;

use reqwest::Url;

use crate::error::Error;

/// Most simultaneous connections a camera tolerates.
pub const MAX_CONNECTIONS: usize = 3;

/// How to reach the camera and how long to wait for it.
///
/// Build with [`ClientConfig::new`] and adjust the public fields.
/// [`ClientConfig::validate`] checks the values ([`Client::new`](crate::Client::new) runs it).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `http://host[:port]`, no query. There is no default: the caller
    /// names the camera (on a real camera's Wi-Fi this is usually
    /// `http://192.168.1.254`).
    pub base_url: String,
    /// Other addresses of the same camera (a VPN address, say), tried in
    /// order by [`Client::connect`](crate::Client::connect) when the one in
    /// use does not answer. Each is checked like `base_url`. Default none.
    pub fallback_urls: Vec<String>,
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
    /// Whole-call limit for [`Client::probe`](crate::Client::probe) (default 3 s).
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
            fallback_urls: Vec::new(),
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
    /// [`Client::new`](crate::Client::new) runs the same checks. Refused, each with a message
    /// naming the setting and the fix ([`Error::is_config`]):
    ///
    /// - `base_url`: empty; no `scheme://` (`127.0.0.1:`, `cam:8080`); a
    ///   scheme other than `http`/`https`; no host (`http://`, `http://:80`);
    ///   an empty port (`http://127.0.0.1:`); port 0 or a port that is not
    ///   a number 1..=65535; a user name or password; a query or fragment;
    /// - each of `fallback_urls` as `base_url`, the message naming its
    ///   place (`fallback address 1`); an address listed twice;
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

    /// [`validate`](Self::validate), returning the parsed addresses: the
    /// primary first, then the fallbacks in order.
    pub(crate) fn checked(&self) -> Result<Vec<Url>, Error> {
        let mut urls = vec![check_address(&self.base_url)?];
        for (i, f) in self.fallback_urls.iter().enumerate() {
            let n = i + 1;
            let url = check_address(f)
                .map_err(|e| Error::config(format!("fallback address {n}: {e}")))?;
            if urls.iter().any(|u| same_address(u, &url)) {
                return Err(Error::config(format!(
                    "fallback address {n} ({}) repeats an earlier address",
                    crate::validate::shown(f)
                )));
            }
            urls.push(url);
        }
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
        Ok(urls)
    }
}

fn same_address(a: &Url, b: &Url) -> bool {
    a.as_str().trim_end_matches('/') == b.as_str().trim_end_matches('/')
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
