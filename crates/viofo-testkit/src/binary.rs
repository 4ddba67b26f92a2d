//! Finding a workspace binary from a test of another package (the real
//! `viofosync`, the lock holder), building it when it is missing or stale.

use std::path::{Path, PathBuf};

use crate::note;

/// The folder holding the running test executable's profile output
/// (`target/<profile>`, i.e. the parent of `deps/`).
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/<test-binary>
    let mut dir = exe.parent()?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent()?;
    }
    Some(dir.to_path_buf())
}

/// Path of a binary built next to the running test executable
/// (`target/<profile>/<name>`), if it exists.
pub fn sibling_binary(name: &str) -> Option<PathBuf> {
    let p = profile_dir()?.join(name);
    p.is_file().then_some(p)
}

/// The workspace's root folder (this package lives in `crates/viofo-testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The newest modification time among the sources a workspace binary is
/// built from: every `Cargo.toml`, `Cargo.lock`, and every file under a
/// member's `src/` or `migrations/` (bounded depth).
fn newest_source(root: &Path) -> Option<std::time::SystemTime> {
    fn newest_under(dir: &Path, depth: usize, acc: &mut Option<std::time::SystemTime>) {
        if depth > 6 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                newest_under(&e.path(), depth + 1, acc);
            } else if let Ok(t) = m.modified() {
                *acc = Some(acc.map_or(t, |a| a.max(t)));
            }
        }
    }
    let mut acc = None;
    let mut consider = |p: &Path| {
        if let Ok(t) = std::fs::metadata(p).and_then(|m| m.modified()) {
            acc = Some(acc.map_or(t, |a: std::time::SystemTime| a.max(t)));
        }
    };
    consider(&root.join("Cargo.toml"));
    consider(&root.join("Cargo.lock"));
    let mut members: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    members.push(root.join("bins/viofosync"));
    for m in &members {
        consider(&m.join("Cargo.toml"));
    }
    for m in &members {
        for sub in ["src", "migrations"] {
            newest_under(&m.join(sub), 0, &mut acc);
        }
    }
    acc
}

/// A binary of this workspace, for a test of another package (which cannot
/// use `CARGO_BIN_EXE_<bin>`: that is set only for the binary's own
/// package). In order:
/// 1. the environment variable `env_override`, if set, names it;
/// 2. `target/<profile>/<bin>` beside this test executable, if it is no
///    older than the workspace's sources (`cargo test --workspace` builds it
///    there when `package` has integration tests or is being tested);
/// 3. otherwise it is built with `$CARGO build -p <package> --bin <bin>`
///    into the same target folder and profile (`CARGO` is set by
///    `cargo test`).
///
/// Not cached: callers keep the answer (see [`lock_holder_binary`]). The
/// error says what was tried.
pub fn workspace_binary(package: &str, bin: &str, env_override: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env_override).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{env_override}={} is not a file", p.display()))
        };
    }
    let root = workspace_root();
    let dir = profile_dir().ok_or("cannot tell where the test executable lives")?;
    let sibling = dir.join(bin);
    let built_at = std::fs::metadata(&sibling).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(src)) = (built_at, newest_source(&root))
        && built >= src
    {
        return Ok(sibling);
    }
    let Some(cargo) = std::env::var_os("CARGO") else {
        return Err(format!(
            "{} is missing or older than the sources and CARGO is not set: \
             build it (cargo build -p {package} --bin {bin}) or set {env_override}",
            sibling.display()
        ));
    };
    let target_dir = dir
        .parent()
        .ok_or("the test executable is not inside a target folder")?;
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(p) => p.to_owned(),
        None => return Err(format!("odd target folder {}", dir.display())),
    };
    note(&format!(
        "testkit: building {bin} ({} is missing or stale)",
        sibling.display()
    ));
    let out = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .arg("--profile")
        .arg(&profile)
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build -p {package} --bin {bin} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if sibling.is_file() {
        Ok(sibling)
    } else {
        Err(format!(
            "cargo build -p {package} --bin {bin} succeeded but {} is not there \
             (a --target triple layout?); set {env_override}",
            sibling.display()
        ))
    }
}

/// The `viofo-lock-holder` binary of this crate (see [`LockHolder`](crate::LockHolder)),
/// found or built by [`workspace_binary`]; `VIOFO_LOCK_HOLDER_BIN` may name
/// it. Decided once per process.
pub fn lock_holder_binary() -> Result<PathBuf, String> {
    static BIN: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        workspace_binary(
            "viofo-testkit",
            "viofo-lock-holder",
            "VIOFO_LOCK_HOLDER_BIN",
        )
    })
    .clone()
}
