//! Several cameras (issue 14): the `[[camera]]` tables of the
//! configuration file. Each has a stable `id` (letters, digits, `-`, `_`),
//! an `address`, and may set the camera-scoped settings ([`SCOPED`]) for
//! its camera. A camera's settings are the effective top-level settings
//! with its table's values over them, except where a flag or an
//! environment variable set the key: what the command line says holds for
//! every camera. Without any `[[camera]]` table the single-camera
//! configuration works as before.

use std::collections::BTreeMap;
use std::path::Path;

use super::keys::KEYS;
use super::{ConfigError, Settings, Source};

/// The file key that holds the cameras.
pub(crate) const KEY: &str = "camera";

/// The settings a `[[camera]]` table may set, besides `id`.
pub(crate) const SCOPED: &[&str] = &[
    "address",
    "fallback_addresses",
    "channels",
    "priority",
    "locked_only",
    "include_parking",
    "keep",
    "camera_utc_offset",
    "delete_after_download",
    "delete_locked",
    "delete_archived",
    "delete_settle",
    "triage",
    "gps",
    "utc_offset",
    "spike_filter",
    "list_source",
    "max_connections",
    "timeout",
    "connect_timeout",
];

/// Longest camera id.
const MAX_ID_LEN: usize = 64;

/// One `[[camera]]` table, resolved.
#[derive(Debug, Clone)]
pub struct CameraEntry {
    /// Its id: the clips' camera id in the store, and its archive folder
    /// when there are several cameras.
    pub id: String,
    /// The effective settings for this camera (address and camera id set).
    pub settings: Settings,
    /// Where each of its keys came from.
    pub sources: BTreeMap<&'static str, Source>,
}

/// Checks a camera id: 1 to 64 letters, digits, `-` or `_`. It names a
/// folder of the archive, so nothing else is allowed.
pub(crate) fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(format!("must be 1 to {MAX_ID_LEN} characters"));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("may hold only letters, digits, `-` and `_`".into());
    }
    Ok(())
}

/// The cameras of the file's `camera` value (an array of tables), each on
/// top of `base` (the effective top-level settings, from `sources`).
pub(crate) fn parse(
    v: &toml::Value,
    file: &Path,
    base: &Settings,
    sources: &BTreeMap<&'static str, Source>,
) -> Result<Vec<CameraEntry>, ConfigError> {
    let err = |msg: String| ConfigError::new(format!("{}: {msg}", file.display()));
    let toml::Value::Array(items) = v else {
        return Err(err(format!(
            "`camera` must be [[camera]] tables (id, address, ...), not {}",
            v.type_str()
        )));
    };
    for top in ["address", "camera_id"] {
        if let Some(s) = sources.get(top) {
            return Err(err(format!(
                "`{top}` is set ({s}) beside [[camera]] tables: with [[camera]] tables each \
                 camera's id and address go in its table"
            )));
        }
    }
    let mut cameras: Vec<CameraEntry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        let toml::Value::Table(t) = item else {
            return Err(err(format!(
                "camera[{n}] must be a [[camera]] table, not {}",
                item.type_str()
            )));
        };
        let id = match t.get("id") {
            Some(toml::Value::String(s)) => s.trim().to_owned(),
            Some(other) => {
                return Err(err(format!("camera[{n}].id = {other}: must be a text")));
            }
            None => {
                return Err(err(format!(
                    "camera[{n}].id is missing: every camera needs a stable id \
                     (letters, digits, `-`, `_`), e.g. id = \"family-car\""
                )));
            }
        };
        check_id(&id).map_err(|why| err(format!("camera[{n}].id = {id:?}: {why}")))?;
        if cameras.iter().any(|c| c.id.eq_ignore_ascii_case(&id)) {
            return Err(err(format!(
                "camera[{n}].id = {id:?}: another camera has this id"
            )));
        }
        let mut settings = base.clone();
        let mut own = sources.clone();
        for (key, value) in t {
            if key == "id" {
                continue;
            }
            let Some(k) = KEYS
                .iter()
                .find(|k| k.name == key && SCOPED.contains(&k.name))
            else {
                if !KEYS.iter().any(|k| k.name == key)
                    && let Some(near) = super::suggest::closest(key, SCOPED.iter().copied())
                {
                    return Err(err(format!(
                        "camera[{n}]: unknown key `{key}`; did you mean `{near}`?"
                    )));
                }
                return Err(err(format!(
                    "camera[{n}]: `{key}` cannot be set per camera; a [[camera]] table takes \
                     id and {}",
                    SCOPED.join(", ")
                )));
            };
            let per_camera = matches!(k.name, "address" | "fallback_addresses");
            let overridden = matches!(
                sources.get(k.name),
                Some(Source::Flag(_) | Source::Env(_) | Source::LegacyEnv(_))
            );
            if overridden && !per_camera {
                continue;
            }
            let raw = super::file::scalar(&format!("camera[{n}].{key}"), value, file)?;
            (k.apply)(&mut settings, &raw).map_err(|why| {
                err(format!(
                    "invalid value {raw:?} for camera[{n}].{key}: {why}; allowed: {}",
                    k.accepts.describe()
                ))
            })?;
            own.insert(k.name, Source::File(file.to_path_buf()));
        }
        let Some(address) = settings.address.clone() else {
            return Err(err(format!(
                "camera[{n}] ({id}) has no address: give it one, e.g. address = \"192.168.1.254\""
            )));
        };
        // Each address, primary or fallback, reaches one camera: another
        // camera's address as a fallback archived that camera's clips as
        // this one's and deleted them from it (issue 18).
        let mine: Vec<(&str, &str)> = std::iter::once(("address", address.as_str()))
            .chain(
                settings
                    .client
                    .fallback_urls
                    .iter()
                    .map(|f| ("fallback address", f.as_str())),
            )
            .collect();
        for (i, (what, a)) in mine.iter().enumerate() {
            let norm = normal_address(a);
            if let Some((_, earlier)) = mine.iter().take(i).find(|(_, e)| normal_address(e) == norm)
            {
                return Err(err(format!(
                    "camera[{n}] ({id}): {what} {a} is the same address as its {earlier}"
                )));
            }
            for other in &cameras {
                if let Some(theirs) =
                    addresses_of(&other.settings).find(|(_, o)| normal_address(o) == norm)
                {
                    return Err(err(format!(
                        "camera[{n}] ({id}): its {what} {a} is the {} of camera {} ({}): \
                         two cameras cannot share one address (a fallback reaching another \
                         camera would archive and delete that camera's clips)",
                        theirs.0, other.id, theirs.1
                    )));
                }
            }
        }
        settings.camera_id = Some(id.clone());
        cameras.push(CameraEntry {
            id,
            settings,
            sources: own,
        });
    }
    if cameras.is_empty() {
        return Err(err(
            "`camera` holds no [[camera]] table: remove it or add one".to_owned(),
        ));
    }
    Ok(cameras)
}

/// A camera's addresses: its address, then its fallback addresses.
fn addresses_of(s: &Settings) -> impl Iterator<Item = (&'static str, &str)> {
    s.address.iter().map(|a| ("address", a.as_str())).chain(
        s.client
            .fallback_urls
            .iter()
            .map(|f| ("fallback address", f.as_str())),
    )
}

/// An address in one spelling, to compare addresses: scheme and host in
/// lower case, no trailing `/`, the scheme's default port written out,
/// `localhost` as `127.0.0.1`. `http://LocalHost/` and `127.0.0.1:80` are
/// the same address.
pub(crate) fn normal_address(address: &str) -> String {
    let a = address.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = a.split_once("://").unwrap_or(("http", a.as_str()));
    let rest = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) => (format!("[{h}]"), p.strip_prefix(':')),
            None => (rest.to_owned(), None),
        },
        None => match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (rest.to_owned(), None),
        },
    };
    let host = match host.as_str() {
        "localhost" | "localhost." => "127.0.0.1".to_owned(),
        "[::1]" => "127.0.0.1".to_owned(),
        _ => host,
    };
    let default = if scheme == "https" { "443" } else { "80" };
    let port = port
        .map(|p| p.trim_start_matches('0'))
        .filter(|p| !p.is_empty())
        .unwrap_or(default);
    format!("{scheme}://{host}:{port}")
}

/// The cameras for `viofosync config`: one block per camera with the keys
/// its table set.
pub(crate) fn render(cameras: &[CameraEntry], base: &BTreeMap<&'static str, Source>) -> String {
    let mut out = String::new();
    for c in cameras {
        out.push_str(&format!("[[camera]] id = {}\n", c.id));
        for k in KEYS {
            if c.sources.get(k.name) != base.get(k.name) {
                out.push_str(&format!("    {} = {}\n", k.name, (k.show)(&c.settings)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normal_address;

    #[test]
    fn one_address_in_its_spellings_is_one_address() {
        let same = [
            "http://127.0.0.1:80",
            "http://127.0.0.1",
            "http://127.0.0.1/",
            "127.0.0.1",
            "http://localhost",
            "HTTP://LocalHost:80/",
            "http://[::1]:80",
            "http://127.0.0.1:080",
        ];
        for a in same {
            assert_eq!(normal_address(a), "http://127.0.0.1:80", "{a}");
        }
        let cam = normal_address("http://192.168.1.254");
        for other in [
            "http://192.168.1.254:8080",
            "https://192.168.1.254",
            "http://192.168.1.253",
            "http://127.0.0.1",
        ] {
            assert_ne!(normal_address(other), cam, "{other}");
        }
        assert_eq!(
            normal_address("https://Cam.Example"),
            "https://cam.example:443"
        );
    }
}
