//! Inside the container image (`VIOFOSYNC_CONTAINER` set): the old image's
//! environment names applied to this process (read by
//! [`viofo_config::container::translate`]), and the switch to the NAS
//! user's uid/gid before anything touches a file.

mod health;

pub(crate) use health::{HealthArgs, health};
pub(crate) use viofo_config::container::Plan;
use viofo_config::container::{User, translate, zone_offset};

/// The old image's names of this process applied before anything else
/// runs: the user switched to, `RUN_ONCE`'s `watch` made a `sync`,
/// `VERBOSE`/`QUIET` where the command line gave neither `-v` nor `-q`.
/// The plan's `env` and `notes` are for the configuration and the log.
pub(crate) fn start(mut cli: crate::Cli) -> Result<(crate::Cli, Plan), String> {
    let env = |n: &str| std::env::var(n).ok();
    let plan = translate(&env, &zone_offset)?;
    if let Some(user) = plan.user {
        switch_user(user)?;
    }
    if plan.run_once {
        cli.command = match cli.command {
            crate::Command::Watch(c) => crate::Command::Sync(c),
            other => other,
        };
    }
    if cli.verbose == 0 && cli.quiet == 0 {
        if plan.quiet {
            cli.quiet = 1;
        } else {
            cli.verbose = plan.verbose;
        }
    }
    Ok((cli, plan))
}

/// Runs as `user` when started as root: the groups, the gid, then the uid,
/// before the runtime starts a thread (so the whole process changes).
/// Started as another user (`--user`), it stays that user; `PUID` or
/// `PGID` given and different from it is refused.
pub(crate) fn switch_user(user: User) -> Result<(), String> {
    use rustix::process::{Gid, Uid, getegid, geteuid};
    let (uid, gid) = (geteuid().as_raw(), getegid().as_raw());
    if uid != 0 {
        if user.explicit && (uid, gid) != (user.uid, user.gid) {
            return Err(format!(
                "PUID/PGID ask for {}:{} but the container was started as {uid}:{gid} \
                 (--user): give one or the other",
                user.uid, user.gid
            ));
        }
        return Ok(());
    }
    let (to_uid, to_gid) = (Uid::from_raw(user.uid), Gid::from_raw(user.gid));
    let why = |what: &str, e: rustix::io::Errno| {
        format!("cannot switch to {}:{} ({what}: {e})", user.uid, user.gid)
    };
    rustix::thread::set_thread_groups(&[to_gid]).map_err(|e| why("setgroups", e))?;
    rustix::thread::set_thread_res_gid(to_gid, to_gid, to_gid).map_err(|e| why("setgid", e))?;
    rustix::thread::set_thread_res_uid(to_uid, to_uid, to_uid).map_err(|e| why("setuid", e))?;
    Ok(())
}
