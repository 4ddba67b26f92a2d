//! Routing: what a request asks for (a command, an HTML page, a clip, a
//! delete link), and which injected or random faults apply to it.

use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;

use super::State;
use super::http::percent_decode;
use crate::config::Folder;
use crate::faults::{FaultKind, Target};

/// What a request asks for.
#[derive(Debug, Clone)]
pub(super) enum Route {
    Cmd {
        cmd: u32,
        params: Vec<(String, String)>,
    },
    Html(Folder),
    Clip(String),
    DelLink(String),
    NotFound,
}

pub(super) fn route(target: &str) -> Route {
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
pub(super) struct Plan {
    pub(super) drop_after: Option<u64>,
    pub(super) close_after: Option<u64>,
    pub(super) stall: Option<(u64, Duration)>,
    pub(super) drop_frac: Option<f64>,
    pub(super) stall_frac: Option<(f64, Duration)>,
    pub(super) status: Option<u16>,
    pub(super) reset: bool,
    pub(super) offline: Option<Duration>,
    pub(super) refuse_delete: Option<i32>,
    pub(super) delay: Duration,
}

impl State {
    pub(super) fn plan(&mut self, method: &str, raw: &str, route: &Route) -> Plan {
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
}
