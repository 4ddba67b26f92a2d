//! The value parsers and printers every setting (and `sim`/`demo`'s own
//! flags, with the `sim` feature) go through: addresses, paths, booleans,
//! numbers, percentages, durations, sizes, priorities, channels.

use std::path::PathBuf;
use std::time::Duration;

use viofo_store::{Channel, Policy};

/// `192.168.1.254`, `cam:8080`, `http://cam[:port]` → `http://host[:port]`,
/// checked by the client's own rules ([`viofo_client::ClientConfig::validate`]:
/// an empty port, port 0, another scheme, credentials are refused).
pub fn parse_address(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty".into());
    }
    let url = if v.contains("://") {
        v.trim_end_matches('/').to_owned()
    } else {
        format!("http://{}", v.trim_end_matches('/'))
    };
    viofo_client::ClientConfig::new(url.clone())
        .validate()
        .map_err(|e| e.to_string())?;
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    if rest.contains('/') {
        return Err("an address has no path".into());
    }
    Ok(url)
}

/// `http://192.168.1.254` → `192.168.1.254`.
pub fn camera_id_of(address: &str) -> String {
    address
        .split_once("://")
        .map_or(address, |(_, r)| r)
        .trim_end_matches('/')
        .to_owned()
}

/// A path; `~/` is the home folder.
pub fn parse_path(v: &str) -> Result<PathBuf, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty path".into());
    }
    if let Some(rest) = v.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return Ok(home.join(rest));
    }
    Ok(PathBuf::from(v))
}

/// `127.0.0.1:8740`, `[::1]:8740`, `0.0.0.0:8740` → the address;
/// `off` (or `none`) → `None`.
pub fn parse_listen(v: &str) -> Result<Option<std::net::SocketAddr>, String> {
    if is_none_word(v) {
        return Ok(None);
    }
    v.trim()
        .parse()
        .map(Some)
        .map_err(|_| "not IP:PORT (give the IP address, not a host name)".to_owned())
}

/// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("not a boolean".into()),
    }
}

/// The words that switch an optional limit off.
pub fn is_none_word(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "none" | "off" | "0" | "false" | "never"
    )
}

/// A whole number in `lo..=hi`.
pub fn parse_range(v: &str, (lo, hi): (usize, usize)) -> Result<usize, String> {
    let n: usize = v
        .trim()
        .parse()
        .map_err(|_| "not a whole number".to_owned())?;
    if !(lo..=hi).contains(&n) {
        return Err(format!("out of range {lo}..={hi}"));
    }
    Ok(n)
}

/// What [`parse_range`] accepts, in words.
pub fn range_words((lo, hi): (usize, usize)) -> String {
    let all: Vec<String> = (lo..=hi).map(|n| n.to_string()).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() && all.len() <= 5 => {
            format!("{} or {last}", rest.join(", "))
        }
        _ => format!("a whole number from {lo} to {hi}"),
    }
}

/// A percentage above 0 and at most 100 (`90`, `90%`, `87.5`).
pub fn parse_percent(v: &str) -> Result<f64, String> {
    let t = v.trim().trim_end_matches('%').trim();
    let p: f64 = t.parse().map_err(|_| "not a number".to_owned())?;
    if !(p > 0.0 && p <= 100.0) {
        return Err("out of range".into());
    }
    Ok(p)
}

/// Unit of a bare number.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    Seconds,
    Days,
}

/// `30d`, `2w`, `12h`, `90m`, `45s`, `500ms`, `1.5` (bare: `unit`).
pub fn parse_duration(v: &str, unit: Unit) -> Result<Duration, String> {
    let t = v.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| "not a duration".to_owned())?;
    let mult = match (suffix.trim(), unit) {
        ("", Unit::Seconds) | ("s" | "sec" | "secs", _) => 1.0,
        ("", Unit::Days) | ("d" | "day" | "days", _) => 86_400.0,
        ("ms", _) => 0.001,
        ("m" | "min" | "mins", _) => 60.0,
        ("h" | "hour" | "hours", _) => 3_600.0,
        ("w" | "week" | "weeks", _) => 7.0 * 86_400.0,
        _ => return Err(format!("unknown unit {suffix:?}")),
    };
    Duration::try_from_secs_f64(n * mult).map_err(|_| "out of range".to_owned())
}

/// [`parse_duration`] in seconds, refusing zero.
pub fn parse_positive_duration(v: &str) -> Result<Duration, String> {
    let d = parse_duration(v, Unit::Seconds)?;
    if d.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(d)
}

/// A flag's duration (`sim`, `demo`): `5ms`, `2s`, `1.5s`, `1m`, `0`.
pub fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s, Unit::Seconds).map_err(|why| format!("{s:?}: {why} (e.g. 5ms, 2s, 1m)"))
}

/// The shortest exact form: `2w`, `30d`, `90m`, `45s`, `500ms`.
pub fn show_duration(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 || s == 0 {
        return format!("{}ms", d.as_millis());
    }
    for (unit, len) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s.is_multiple_of(len) {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

/// Largest size [`parse_size`] takes (a petabyte: far above any clip,
/// link or archive quota, far below overflow).
const MAX_SIZE: f64 = 1e15;

/// `300MB`, `1.5GB`, `2TiB`, `1000000` → bytes (KB/MB/GB/TB are powers
/// of 1000, KiB/MiB/GiB/TiB of 1024; a bare number is bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a size: {s:?} (e.g. 300MB, 1.5GB or 1000000)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        u => return Err(format!("unknown size unit {u:?} in {s:?}")),
    };
    let v = n * mult;
    if !v.is_finite() || !(0.0..=MAX_SIZE).contains(&v) {
        return Err(format!("size out of range: {s:?}"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range checked above
    Ok(v.round() as u64)
}

/// The shortest exact form [`parse_size`] reads back: `2TiB`, `500GB`,
/// `1500000B`.
pub fn show_size(n: u64) -> String {
    let units = [
        ("TiB", 1u64 << 40),
        ("TB", 1_000_000_000_000),
        ("GiB", 1 << 30),
        ("GB", 1_000_000_000),
        ("MiB", 1 << 20),
        ("MB", 1_000_000),
        ("KiB", 1 << 10),
        ("KB", 1_000),
    ];
    for (unit, len) in units {
        if n >= len && n.is_multiple_of(len) {
            return format!("{}{unit}", n / len);
        }
    }
    format!("{n}B")
}

/// A synthetic clip's size: [`parse_size`], at most what the client
/// downloads ([`viofo_client::MAX_CLIP_SIZE`]).
pub fn clip_size_arg(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if n > viofo_client::MAX_CLIP_SIZE {
        return Err(format!(
            "{s:?} is larger than the biggest clip viofosync downloads ({} bytes)",
            viofo_client::MAX_CLIP_SIZE
        ));
    }
    Ok(n)
}

/// `oldest`/`date`, `newest`/`rdate`, `locked`/`type`, `recent:HOURS`,
/// `journeys`.
pub fn parse_priority(v: &str) -> Result<Policy, String> {
    let t = v.trim().to_ascii_lowercase();
    Ok(match t.as_str() {
        "oldest" | "date" => Policy::OldestFirst,
        "newest" | "rdate" => Policy::NewestFirst,
        "locked" | "type" => Policy::LockedFirst,
        "journeys" => Policy::Journeys,
        other => {
            let Some(h) = other.strip_prefix("recent:") else {
                return Err("not a priority".into());
            };
            let h = h.trim().trim_end_matches('h');
            let hours: u32 = h.parse().map_err(|_| "not a number of hours".to_owned())?;
            if hours == 0 {
                return Err("recent:HOURS needs at least 1 hour".into());
            }
            Policy::RecentFirst { hours }
        }
    })
}

/// The form [`parse_priority`] reads back.
pub fn show_priority(p: Policy) -> String {
    match p {
        Policy::OldestFirst => "oldest".into(),
        Policy::NewestFirst => "newest".into(),
        Policy::LockedFirst => "locked".into(),
        Policy::RecentFirst { hours } => format!("recent:{hours}"),
        Policy::Journeys => "journeys".into(),
    }
}

/// `front,rear` (or `F,R`), `all` → the channels (empty: all).
pub fn parse_channels(v: &str) -> Result<Vec<Channel>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let c = match part.to_ascii_lowercase().as_str() {
            "all" => return Ok(Vec::new()),
            "front" | "f" => Channel::Front,
            "rear" | "r" => Channel::Rear,
            "interior" | "i" => Channel::Interior,
            "telephoto" | "t" => Channel::Telephoto,
            _ => return Err(format!("unknown channel {part:?}")),
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The form [`parse_channels`] reads back.
pub fn show_channels(c: &[Channel]) -> String {
    if c.is_empty() {
        return "all".into();
    }
    c.iter()
        .map(|c| match c {
            Channel::Front => "front",
            Channel::Rear => "rear",
            Channel::Interior => "interior",
            Channel::Telephoto => "telephoto",
            _ => "unknown",
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `+02:00`, `-05:30`.
pub fn show_utc_offset(o: time::UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if h < 0 || m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

/// Parse `±HH:MM` (also `±HH`, `±HHMM` and `Z`) into a UTC offset.
pub fn parse_utc_offset(s: &str) -> Result<time::UtcOffset, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") {
        return Ok(time::UtcOffset::UTC);
    }
    let bad = || format!("invalid UTC offset {s:?}: expected ±HH:MM, e.g. +02:00 or -05:30");
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1i8, s.get(1..).unwrap_or("")),
        Some(b'-') => (-1i8, s.get(1..).unwrap_or("")),
        _ => return Err(bad()),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => (rest.get(..2).unwrap_or(""), rest.get(2..).unwrap_or("")),
        None => (rest, "00"),
    };
    let digits = |v: &str| !v.is_empty() && v.len() <= 2 && v.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(bad());
    }
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    if h > 18 || m > 59 {
        return Err(bad());
    }
    time::UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())
}
