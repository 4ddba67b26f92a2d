//! The container image's environment (`VIOFOSYNC_CONTAINER` set): the
//! names only the old Python image's scripts knew (`PUID`, `PGID`, `TZ`,
//! `RUN_ONCE`, `VERBOSE`, `QUIET`, `CRON`) read as that image read them,
//! into a [`Plan`] of settings for the process that starts in it.
//!
//! The names the Python tool itself knew (`ADDRESS`, `KEEP`, ...) are
//! rows of [`crate::keys::KEYS`] and are read everywhere; these are read
//! by the pure [`translate`] and only in the image: on a host `TZ` is the
//! host's zone and `VERBOSE` a build tool's switch, not ours. Switching to
//! the [`User`] is the caller's (it is the process's, not configuration).

/// Set by the Containerfile: the process runs in the viofosync image.
pub const MARKER: &str = "VIOFOSYNC_CONTAINER";

/// The user the image runs as when `PUID`/`PGID` are not given (the first
/// user of most NAS systems and Linux installs).
pub const DEFAULT_USER: u32 = 1000;

/// Where the image's `TZ` sets the camera's clock offset.
const CAMERA_UTC_OFFSET: &str = "VIOFOSYNC_CAMERA_UTC_OFFSET";

/// The uid/gid to run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// `PUID`, else [`DEFAULT_USER`].
    pub uid: u32,
    /// `PGID`, else [`DEFAULT_USER`].
    pub gid: u32,
    /// `PUID` or `PGID` was given (not the image's default).
    pub explicit: bool,
}

/// What the old image's names ask of this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// `None` outside the image.
    pub user: Option<User>,
    /// `RUN_ONCE`: the image's `watch` becomes one `sync`.
    pub run_once: bool,
    /// `VERBOSE`: as many `-v`.
    pub verbose: u8,
    /// `QUIET`: `-q` (it overrides `VERBOSE`, as it did).
    pub quiet: bool,
    /// `VIOFOSYNC_*` values derived from the old names (`TZ`), read as if
    /// set in the environment; a value set there itself wins.
    pub env: Vec<(&'static str, String)>,
    /// Lines for the log: what each old name was taken to mean.
    pub notes: Vec<String>,
}

impl Plan {
    /// A derived `VIOFOSYNC_*` value.
    pub fn env(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

/// Reads the old image's names from `env` (`None` or blank: unset). Outside
/// the image (no [`MARKER`]) they mean nothing. `zone_offset` gives a
/// time zone's current UTC offset in seconds (`TZ=Europe/London`).
pub fn translate(
    env: &dyn Fn(&str) -> Option<String>,
    zone_offset: &dyn Fn(&str) -> Result<i32, String>,
) -> Result<Plan, String> {
    let get = |n: &str| {
        env(n)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if get(MARKER).is_none() {
        return Ok(Plan::default());
    }
    let mut plan = Plan {
        user: Some(user(get("PUID"), get("PGID"))?),
        // The old entrypoint tested `-z $RUN_ONCE`: any value is "once".
        run_once: get("RUN_ONCE").is_some(),
        verbose: match get("VERBOSE") {
            None => 0,
            Some(v) => match v.parse::<u8>() {
                Ok(n) => n.min(2),
                Err(_) => {
                    return Err(format!(
                        "VERBOSE={v:?}: not a number; give 0, 1 or 2 (or -v/-vv after the \
                         command)"
                    ));
                }
            },
        },
        quiet: get("QUIET").is_some(),
        ..Plan::default()
    };
    if plan.run_once {
        plan.notes
            .push("RUN_ONCE is set: one sync, then exit (instead of watch)".into());
    }
    if get("CRON").is_some() {
        plan.notes.push(
            "CRON: watch syncs every `interval` (VIOFOSYNC_INTERVAL, default 60s) instead of \
             cron's 10 minutes, and logs downloads and errors as cron mode did"
                .into(),
        );
    }
    if let Some(tz) = get("TZ") {
        let secs = zone_offset(&tz).map_err(|why| {
            format!(
                "TZ={tz:?}: {why}; give a zone such as Europe/London, or the camera's offset \
                 as {CAMERA_UTC_OFFSET}=+01:00"
            )
        })?;
        if get(CAMERA_UTC_OFFSET).is_none() {
            let offset = show_offset(secs);
            plan.notes.push(format!(
                "TZ={tz}: the camera's clock is taken as {offset} (its offset now; set \
                 {CAMERA_UTC_OFFSET} to fix it)"
            ));
            plan.env.push((CAMERA_UTC_OFFSET, offset));
        }
    }
    Ok(plan)
}

/// `PUID`/`PGID`: numbers; 0 (root) is refused, unset is the default.
fn user(puid: Option<String>, pgid: Option<String>) -> Result<User, String> {
    let id = |name: &str, v: Option<&String>| -> Result<u32, String> {
        let Some(v) = v else {
            return Ok(DEFAULT_USER);
        };
        match v.parse::<u32>() {
            Ok(0) => Err(format!(
                "{name}=0: the image does not run as root; give the NAS user's id (e.g. \
                 {name}={DEFAULT_USER}), or leave it unset for {DEFAULT_USER}"
            )),
            Ok(u32::MAX) | Err(_) => Err(format!(
                "{name}={v:?}: not a numeric id (e.g. {name}={DEFAULT_USER}; `id -u` on the \
                 NAS shows it)"
            )),
            Ok(n) => Ok(n),
        }
    };
    Ok(User {
        uid: id("PUID", puid.as_ref())?,
        gid: id("PGID", pgid.as_ref())?,
        explicit: puid.is_some() || pgid.is_some(),
    })
}

/// `+01:00`, `-08:00`, `+05:45`: seconds rounded to the minute.
pub fn show_offset(secs: i32) -> String {
    let s = i64::from(secs);
    let sign = if s < 0 { '-' } else { '+' };
    let m = (s.abs() + 30) / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A zone's UTC offset now, from the time-zone data (`/usr/share/zoneinfo`
/// in the image).
pub fn zone_offset(tz: &str) -> Result<i32, String> {
    let zone = tz::TimeZone::from_posix_tz(tz).map_err(|e| format!("unknown time zone ({e})"))?;
    let now = zone
        .find_current_local_time_type()
        .map_err(|e| format!("no offset for now ({e})"))?;
    Ok(now.ut_offset())
}
