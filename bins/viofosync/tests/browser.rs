//! A real browser loads `watch`'s status page (issue 13): headless Chromium
//! (Debian's `chromium`) dumps the rendered DOM of the page a running
//! `viofosync watch` serves on 127.0.0.1 while it syncs the simulator, and
//! the test checks it shows the state, the clip being downloaded and the
//! queue; a screenshot lands in the test's output folder
//! (`target/tmp/viofosync-browser/status-page.png`).
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
use viofo_sim::{ClipSpec, Sim, SimConfig};

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

/// `GET /api/status` on 127.0.0.1:`port`.
fn api_status(port: u16) -> Result<serde_json::Value, Failed> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).map_err(|e| format!("{e}: {raw}").into())
}

fn status_page_in_chromium(browser: &Path) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Two 6 MB clips at 300 kB/s: a download is in flight for 40 s.
    let sim = rt
        .block_on(Sim::start(
            SimConfig::default()
                .with_clips(ClipSpec::synthetic(2).size(6_000_000))
                .bandwidth(300_000),
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
        // Bounded poll for the download in flight.
        let deadline = Instant::now() + Duration::from_secs(30);
        let clip = loop {
            let v = api_status(port)?;
            if let Some(c) = v["downloads"][0]["clip"].as_str() {
                break c.to_owned();
            }
            if Instant::now() > deadline {
                return Err(format!("no download in flight: {v:#}").into());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let page = format!("http://127.0.0.1:{port}/");
        let dom = run_chromium(
            browser,
            &dir.path().join("profile"),
            &["--dump-dom".to_owned()],
            &page,
        )?;
        for (what, want) in [
            ("the state", "id=\"state\">downloading<"),
            ("the current clip", clip.as_str()),
            ("the queue", "id=\"queue\""),
            ("the queue's pending count", "pending"),
        ] {
            if !dom.contains(want) {
                return Err(format!("the page lacks {what} ({want:?}):\n{dom}").into());
            }
        }
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viofosync-browser");
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let shot = out.join("status-page.png");
        let _ = std::fs::remove_file(&shot);
        run_chromium(
            browser,
            &dir.path().join("profile"),
            &[format!("--screenshot={}", shot.display())],
            &page,
        )?;
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        if size == 0 {
            return Err(format!("no screenshot at {}", shot.display()).into());
        }
        eprintln!("screenshot: {} ({size} bytes)", shot.display());
        Ok(())
    })();
    // SIGTERM: the watch stops (the download in flight is cancelled and
    // kept for the next run).
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
