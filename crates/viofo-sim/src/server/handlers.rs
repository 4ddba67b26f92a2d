//! The answers: serving one connection's request (downloads with `Range`,
//! deletes, listings, HTML pages, commands) and the camera's reactions to
//! them (locks on download, growth on listing).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};

use super::http::{BodySource, Reply, Request, parse_range, read_head};
use super::link::{ActiveGuard, reset, write_reply};
use super::route::{Plan, Route, route};
use super::{Outcome, RequestRecord, Shared, State, UNSAFE_COMMANDS};
use crate::card::{Body, Clip};
use crate::config::{Folder, Settings};
use crate::pages;

/// Status answered to refused and unknown commands.
const UNKNOWN_STATUS: i32 = -256;

fn clip_body(clip: &Clip) -> BodySource {
    match &clip.body {
        Body::Synth(s) => BodySource::Synth(s.at(clip.size)),
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

pub(super) async fn serve_conn(shared: Arc<Shared>, mut stream: TcpStream, mut guard: ActiveGuard) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
