//! `viofosync doctor`: the configuration's own checks, then every check a
//! sync depends on ([`viofo_pipeline::doctor`]), each printed OK, WARN or
//! FAIL.

use anyhow::Result;
use viofo_pipeline::doctor::{Check, Doctor, Problem};

use crate::config::Loaded;
use crate::errors::Exit;
use crate::output;
use crate::stdout::outln;

/// The exit code of a failed check's kind.
fn exit(p: Problem) -> Exit {
    match p {
        Problem::Config => Exit::Config,
        Problem::CameraUnreachable => Exit::CameraUnreachable,
        Problem::DiskFull => Exit::DiskFull,
        Problem::Other => Exit::Other,
    }
}

/// `doctor`: the exit code is the first failure's class (configuration 2,
/// camera 3, disk 4, other 1). With `init` a missing archive folder is
/// created; nothing else is ever created or changed.
pub(crate) async fn doctor(l: &Loaded, init: bool) -> Result<Exit> {
    let mut fails = Vec::new();
    let mut print = |c: Check| match c {
        Check::Ok(what) => outln!("OK    {what}"),
        Check::Warn(what) => outln!("WARN  {what}"),
        Check::DiskSpace {
            used_percent,
            available,
        } => outln!(
            "OK    archive disk {used_percent:.1}% used, {} free",
            output::bytes(available)
        ),
        Check::Fail(p, what) => {
            outln!("FAIL  {what}");
            fails.push(exit(p));
        }
    };
    let s = &l.settings;
    print(if l.file_found {
        Check::Ok(format!("configuration file {}", l.file.display()))
    } else {
        Check::Warn(format!(
            "no configuration file at {} (environment and flags only)",
            l.file.display()
        ))
    });
    print(match &s.address {
        Some(a) => Check::Ok(format!("address {a} ({})", l.source("address"))),
        None => Check::Fail(Problem::Config, "no camera address (set `address`)".into()),
    });
    if s.archive.is_none() {
        print(Check::Fail(
            Problem::Config,
            "no archive folder (set `archive`)".into(),
        ));
    }
    let doctor = Doctor {
        state_db: s.state_db.clone().or_else(viofo_store::default_db_path),
        archive: s.archive.clone(),
        init,
        allow_network_fs: s.allow_network_fs,
        import_legacy: s.import_legacy,
        camera_id: l.camera_id(),
        max_used_disk: s.sync.max_used_disk,
        camera: s.address.as_deref().map(|a| s.client_config(a)),
    };
    doctor.run(&mut print).await;
    let code = fails.first().copied().unwrap_or(Exit::Success);
    if code == Exit::Success {
        outln!("all checks passed");
    }
    Ok(code)
}
