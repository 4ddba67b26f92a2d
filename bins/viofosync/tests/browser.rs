//! A real browser loads `watch`'s status page (issues 13 and 21): headless
//! Chromium (Debian's `chromium`) dumps the rendered DOM of the pages a
//! running `viofosync watch` serves on 127.0.0.1 while it syncs the
//! simulator, and the test checks what a person reads there: the trips
//! list with its tracks and one trip's map and clips (an archived clip
//! fetched by range), a sync in progress (state, clip, times in the
//! browser's time zone), a paused watch (sync now disabled with its reason,
//! and refused over HTTP), and a camera away. A screenshot of each lands in
//! the test's output folder (`target/tmp/viofosync-browser/*.png`).
//!
//! A libtest-mimic harness (`harness = false`): without Chromium the test
//! is reported *ignored* with the reason, never passed. `.ci/run` installs
//! Chromium when it is missing.
// A test binary: JSON indexing gives Null rather than panicking, and the
// skip reason and the screenshot's path go to stderr.
#![allow(clippy::indexing_slicing, clippy::print_stderr)]

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use viofo_sim::{ClipDef, ClipSpec, Folder, Sim, SimConfig};

/// The Chromium binary, when one is installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let browser = chromium();
    let missing = browser.is_none();
    if missing && !args.list {
        eprintln!(
            "browser::status_page_in_chromium: SKIPPED: no chromium on PATH \
             (Debian: apt-get install chromium; .ci/run installs it)"
        );
    }
    let trial = Trial::test("browser::status_page_in_chromium", move || {
        status_page_in_chromium(browser.as_deref().ok_or("no chromium on PATH")?)
    })
    .with_ignored_flag(missing);
    libtest_mimic::run(&args, vec![trial]).exit_code()
}

/// Runs Chromium headless on `url` with `extra` flags, at most 90 s;
/// returns its stdout.
fn run_chromium(
    browser: &Path,
    profile: &Path,
    extra: &[String],
    url: &str,
) -> Result<String, Failed> {
    let mut child = Command::new(browser)
        // The reader's time zone: the page's times are shown in it.
        .env("TZ", "Asia/Kolkata")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1000,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", browser.display()))?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let dom = reader.join().map_err(|_| "reader panicked")?;
            if !status.success() {
                return Err(format!("chromium exited with {status}").into());
            }
            return Ok(dom);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("chromium did not finish in 90 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One request to 127.0.0.1:`port`; the whole answer (head and body).
fn http(port: u16, method: &str, path: &str, extra: &str) -> Result<String, Failed> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n{extra}Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// `GET /api/status` on 127.0.0.1:`port`.
fn api_status(port: u16) -> Result<serde_json::Value, Failed> {
    let raw = http(port, "GET", "/api/status", "")?;
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).map_err(|e| format!("{e}: {raw}").into())
}

/// Polls `/api/status` until `done` holds, at most `secs`.
fn until(
    port: u16,
    secs: u64,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value, Failed> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = api_status(port)?;
        if done(&v) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("not {what} within {secs} s: {v:#}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The page's DOM as Chromium renders it (its script run).
struct Browser<'a> {
    bin: &'a Path,
    profile: PathBuf,
    out: PathBuf,
    port: u16,
}

impl Browser<'_> {
    fn dom(&self, path: &str) -> Result<String, Failed> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        run_chromium(self.bin, &self.profile, &["--dump-dom".to_owned()], &url)
    }

    /// Checks `dom` holds each `(what, text)`.
    fn expect(dom: &str, wants: &[(&str, &str)]) -> Result<(), Failed> {
        for (what, want) in wants {
            if !dom.contains(want) {
                return Err(format!("the page lacks {what} ({want:?}):\n{dom}").into());
            }
        }
        Ok(())
    }

    fn shot(&self, path: &str, name: &str) -> Result<(), Failed> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let shot = self.out.join(name);
        let _ = std::fs::remove_file(&shot);
        run_chromium(
            self.bin,
            &self.profile,
            &[format!("--screenshot={}", shot.display())],
            &url,
        )?;
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        if size == 0 {
            return Err(format!("no screenshot at {}", shot.display()).into());
        }
        eprintln!("screenshot: {} ({size} bytes)", shot.display());
        Ok(())
    }
}

/// The first `<time>` of `dom`: its `datetime` and the text the script
/// gave it, which must be that time in Asia/Kolkata (UTC+05:30).
fn check_local_time(dom: &str) -> Result<(), Failed> {
    let at = dom
        .split("<time datetime=\"")
        .nth(1)
        .ok_or_else(|| format!("no <time> in {dom}"))?;
    let (stamp, rest) = at.split_once('"').ok_or("no datetime")?;
    let shown = rest
        .split_once('>')
        .and_then(|(_, r)| r.split_once("</time>"))
        .map(|(t, _)| t)
        .ok_or("no <time> text")?;
    let t = time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{stamp}: {e}"))?
        .to_offset(time::macros::offset!(+5:30));
    let want = format!("{:02}:{:02}", t.hour(), t.minute());
    if shown.contains("UTC") || !shown.ends_with(&want) {
        return Err(format!("{stamp} shown as {shown:?}, not the local {want}").into());
    }
    Ok(())
}

fn status_page_in_chromium(browser: &Path) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Three 1 MB clips of one drive, recorded in the last hours: archived
    // at once, they make a trip.
    let sim = rt
        .block_on(Sim::start(
            SimConfig::default().with_clips(ClipSpec::synthetic(3).size(1_000_000).recent()),
        ))
        .map_err(|e| e.to_string())?;
    let url = sim.base_url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_viofosync"))
        .env_clear()
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("VIOFOSYNC_ADDRESS", &url)
        .env("VIOFOSYNC_ARCHIVE", &archive)
        .env("VIOFOSYNC_MAX_USED_DISK", "100")
        .env("VIOFOSYNC_ON_INTERRUPT", "cancel")
        .args(["watch", "--interval", "1h", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = (|| -> Result<(), Failed> {
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let port: u16 = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .map_err(|e| format!("no status server line: {e}"))?;
            if let Some(rest) = line.split("status server on http://127.0.0.1:").nth(1) {
                break rest
                    .split('/')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| format!("no port in {line:?}"))?;
            }
        };
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viofosync-browser");
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let b = Browser {
            bin: browser,
            profile: dir.path().join("profile"),
            out,
            port,
        };

        // The trips: the first cycle archives the three clips; the journey
        // follows from their tracks.
        until(port, 60, "archived", |v| {
            v["cycle"].is_null() && v["archive"]["clips"].as_u64() >= Some(3)
        })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let trip = loop {
            let raw = http(port, "GET", "/trips", "")?;
            if let Some(id) = raw
                .split("data-trip=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
            {
                break id.to_owned();
            }
            if Instant::now() > deadline {
                return Err(format!("no trip listed:\n{raw}").into());
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let dom = b.dom("/trips")?;
        Browser::expect(
            &dom,
            &[
                ("the trip's link", &format!("href=\"/trips/{trip}\"")),
                ("its track", "<polyline class=\"track\""),
                ("its start mark", "class=\"start\""),
                ("its clips", "3 clips"),
                ("how much is archived", "100% archived"),
            ],
        )?;
        check_local_time(&dom)?;
        b.shot("/trips", "status-trips.png")?;
        let dom = b.dom(&format!("/trips/{trip}"))?;
        Browser::expect(
            &dom,
            &[
                ("the map", "<polyline class=\"track\""),
                ("the clips table", "id=\"clips\""),
                (
                    "a link to an archived clip",
                    "class=\"clip-file\" href=\"/clips/",
                ),
            ],
        )?;
        b.shot(&format!("/trips/{trip}"), "status-trip.png")?;
        // The linked clip, by range: its first box is `ftyp`.
        let clip = dom
            .split("class=\"clip-file\" href=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .ok_or("no clip link")?;
        let part = http(port, "GET", clip, "Range: bytes=4-7\r\n")?;
        if !part.starts_with("HTTP/1.1 206") || !part.ends_with("ftyp") {
            return Err(format!("GET {clip} bytes=4-7: {part}").into());
        }

        // A sync in progress: a 6 MB clip at 300 kB/s is in flight for 20 s.
        sim.set_bandwidth(Some(300_000));
        let now = time::OffsetDateTime::now_utc();
        let name = format!(
            "{:04}_{:02}{:02}_{:02}{:02}{:02}_000004F.MP4",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        sim.add_clip(ClipDef::synthetic(&name, Folder::Movie, 6_000_000))
            .map_err(|e| e.to_string())?;
        let asked = http(port, "POST", "/api/sync-now", "")?;
        if !asked.starts_with("HTTP/1.1 202") {
            return Err(format!("sync now: {asked}").into());
        }
        until(port, 30, "downloading the new clip", |v| {
            v["downloads"][0]["clip"].as_str() == Some(name.as_str())
        })?;
        let dom = b.dom("/")?;
        Browser::expect(
            &dom,
            &[
                ("the state", "data-state=\"downloading\""),
                ("the state in words", ">Syncing</span>"),
                ("the current clip", name.as_str()),
                ("the queue", "id=\"queue\""),
                (
                    "a column explained",
                    "title=\"Seen on the camera, waiting to be downloaded\"",
                ),
                ("recent activity", "<td>Archived</td>"),
                ("the camera's address", url.trim_start_matches("http://")),
                ("the trips", "Recent trips"),
            ],
        )?;
        check_local_time(&dom)?;
        b.shot("/", "status-syncing.png")?;

        // Paused: sync now is disabled with its reason, and refused.
        let asked = http(port, "POST", "/api/pause", "")?;
        if !asked.starts_with("HTTP/1.1 202") {
            return Err(format!("pause: {asked}").into());
        }
        until(port, 30, "paused", |v| {
            v["state"] == "paused" && v["cycle"].is_null()
        })?;
        let refused = http(port, "POST", "/api/sync-now", "")?;
        if !refused.starts_with("HTTP/1.1 409") || !refused.contains("paused: resume first") {
            return Err(format!("sync now while paused: {refused}").into());
        }
        let dom = b.dom("/")?;
        Browser::expect(
            &dom,
            &[
                ("the state in words", ">Paused</span>"),
                ("sync now disabled", "id=\"btn-sync-now\" disabled"),
                ("why", "Paused: resume first"),
                ("resume", ">Resume</button>"),
            ],
        )?;
        b.shot("/", "status-paused.png")?;

        // The camera away: resumed, the next cycle finds no camera.
        sim.go_offline(Duration::from_secs(600));
        for action in ["resume", "sync-now"] {
            let asked = http(port, "POST", &format!("/api/{action}"), "")?;
            if !asked.starts_with("HTTP/1.1 202") {
                return Err(format!("{action}: {asked}").into());
            }
            if action == "resume" {
                until(port, 30, "resumed", |v| v["state"] != "paused")?;
            }
        }
        until(port, 60, "camera away", |v| {
            v["next_cycle"]["camera_away"] == true && v["state"] == "waiting"
        })?;
        let dom = b.dom("/")?;
        Browser::expect(
            &dom,
            &[
                ("the state in words", ">Camera away</span>"),
                ("not an error", "Nothing is wrong."),
                ("when it is asked again", "Asking the camera again at"),
            ],
        )?;
        b.shot("/", "status-camera-away.png")?;
        Ok(())
    })();
    // SIGTERM: the watch stops.
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("watch did not stop after SIGTERM".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    rt.block_on(sim.shutdown());
    result?;
    if code != Some(0) {
        return Err(format!("watch exited with {code:?}").into());
    }
    Ok(())
}
