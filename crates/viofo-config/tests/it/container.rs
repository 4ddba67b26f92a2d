//! The container image's old names, table-tested: what each value is
//! taken to mean, and which are refused with their replacement named.

use viofo_config::container::{DEFAULT_USER, Plan, User, show_offset, translate, zone_offset};

/// London in winter, Los Angeles in summer; anything else is unknown.
fn zones(tz: &str) -> Result<i32, String> {
    match tz {
        "Europe/London" => Ok(0),
        "America/Los_Angeles" => Ok(-7 * 3600),
        "Asia/Kathmandu" => Ok(5 * 3600 + 45 * 60),
        _ => Err("unknown time zone".into()),
    }
}

fn run(vars: &[(&str, &str)]) -> Result<Plan, String> {
    let env = |n: &str| {
        vars.iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| (*v).to_owned())
    };
    translate(&env, &zones)
}

fn in_image(vars: &[(&str, &str)]) -> Result<Plan, String> {
    let mut all = vec![("VIOFOSYNC_CONTAINER", "1")];
    all.extend_from_slice(vars);
    run(&all)
}

/// Environment variables of one case.
type Vars = &'static [(&'static str, &'static str)];

const DEFAULT: User = User {
    uid: DEFAULT_USER,
    gid: DEFAULT_USER,
    explicit: false,
};

#[test]
fn outside_the_image_the_old_image_names_mean_nothing() {
    let plan = run(&[
        ("PUID", "0"),
        ("TZ", "Nowhere/Atlantis"),
        ("RUN_ONCE", "1"),
        ("VERBOSE", "lots"),
        ("QUIET", "1"),
    ])
    .unwrap();
    assert_eq!(plan, Plan::default());
}

#[test]
fn user_ids() {
    let cases: &[(Vars, Option<User>)] = &[
        (&[], Some(DEFAULT)),
        // The old compose file's blank values are unset.
        (&[("PUID", ""), ("PGID", " ")], Some(DEFAULT)),
        (
            &[("PUID", "1026"), ("PGID", "100")],
            Some(User {
                uid: 1026,
                gid: 100,
                explicit: true,
            }),
        ),
        (
            &[("PUID", " 99 ")],
            Some(User {
                uid: 99,
                gid: DEFAULT_USER,
                explicit: true,
            }),
        ),
        (
            &[("PGID", "65534")],
            Some(User {
                uid: DEFAULT_USER,
                gid: 65534,
                explicit: true,
            }),
        ),
    ];
    for (vars, want) in cases {
        assert_eq!(in_image(vars).unwrap().user, *want, "{vars:?}");
    }
}

#[test]
fn bad_user_ids_are_refused_with_the_way_out() {
    let cases: &[(Vars, &str)] = &[
        (&[("PUID", "0")], "PUID=0: the image does not run as root"),
        (&[("PGID", "0")], "PGID=0: the image does not run as root"),
        (&[("PUID", "dashcam")], "PUID=\"dashcam\": not a numeric id"),
        (&[("PGID", "-1")], "PGID=\"-1\": not a numeric id"),
        (&[("PUID", "4294967295")], "not a numeric id"),
    ];
    for (vars, want) in cases {
        let err = in_image(vars).unwrap_err();
        assert!(err.contains(want), "{vars:?}: {err}");
    }
}

#[test]
fn run_once_verbose_quiet_cron() {
    // (variables, run_once, verbose, quiet, notes mention)
    let cases: &[(Vars, bool, u8, bool, Option<&str>)] = &[
        (&[], false, 0, false, None),
        (&[("RUN_ONCE", "")], false, 0, false, None),
        // Any value was "once" to the old entrypoint (`-z $RUN_ONCE`).
        (&[("RUN_ONCE", "1")], true, 0, false, Some("RUN_ONCE")),
        (&[("RUN_ONCE", "false")], true, 0, false, Some("one sync")),
        (&[("VERBOSE", "0")], false, 0, false, None),
        (&[("VERBOSE", "1")], false, 1, false, None),
        (&[("VERBOSE", "5")], false, 2, false, None),
        (&[("QUIET", "yes")], false, 0, true, None),
        (&[("QUIET", ""), ("VERBOSE", "1")], false, 1, false, None),
        (&[("QUIET", "1"), ("VERBOSE", "1")], false, 1, true, None),
        (
            &[("CRON", "1")],
            false,
            0,
            false,
            Some("VIOFOSYNC_INTERVAL"),
        ),
        (&[("CRON", "")], false, 0, false, None),
    ];
    for (vars, once, verbose, quiet, note) in cases {
        let p = in_image(vars).unwrap();
        assert_eq!(
            (p.run_once, p.verbose, p.quiet),
            (*once, *verbose, *quiet),
            "{vars:?}"
        );
        match note {
            Some(n) => assert!(
                p.notes.iter().any(|l| l.contains(n)),
                "{vars:?}: {:?}",
                p.notes
            ),
            None => assert!(p.notes.is_empty(), "{vars:?}: {:?}", p.notes),
        }
    }
}

#[test]
fn verbose_not_a_number_is_refused() {
    let err = in_image(&[("VERBOSE", "yes")]).unwrap_err();
    assert!(
        err.contains("VERBOSE=\"yes\"") && err.contains("-v"),
        "{err}"
    );
}

#[test]
fn tz_sets_the_camera_clock_unless_it_is_set() {
    let cases: &[(Vars, Option<&str>)] = &[
        (&[("TZ", "Europe/London")], Some("+00:00")),
        (&[("TZ", "America/Los_Angeles")], Some("-07:00")),
        (&[("TZ", "Asia/Kathmandu")], Some("+05:45")),
        (&[("TZ", "")], None),
        (
            &[
                ("TZ", "Europe/London"),
                ("VIOFOSYNC_CAMERA_UTC_OFFSET", "+02:00"),
            ],
            None,
        ),
    ];
    for (vars, want) in cases {
        let p = in_image(vars).unwrap();
        assert_eq!(
            p.env("VIOFOSYNC_CAMERA_UTC_OFFSET").as_deref(),
            *want,
            "{vars:?}"
        );
        assert_eq!(p.notes.len(), usize::from(want.is_some()), "{vars:?}");
    }
}

#[test]
fn unknown_tz_is_refused_naming_the_offset_setting() {
    let err = in_image(&[("TZ", "Nowhere/Atlantis")]).unwrap_err();
    assert!(
        err.contains("TZ=\"Nowhere/Atlantis\"") && err.contains("VIOFOSYNC_CAMERA_UTC_OFFSET"),
        "{err}"
    );
}

#[test]
fn offsets_are_shown_to_the_minute() {
    for (secs, want) in [
        (0, "+00:00"),
        (3600, "+01:00"),
        (-8 * 3600, "-08:00"),
        (5 * 3600 + 45 * 60, "+05:45"),
        (-(3 * 3600 + 30 * 60), "-03:30"),
        // Local mean time of old zones: to the nearest minute.
        (-75, "-00:01"),
        (29, "+00:00"),
    ] {
        assert_eq!(show_offset(secs), want, "{secs}");
    }
}

#[test]
fn the_real_zone_data_gives_offsets() {
    // The build host's time-zone data (the image copies the same files).
    assert_eq!(zone_offset("Asia/Kathmandu"), Ok(5 * 3600 + 45 * 60));
    assert_eq!(zone_offset("UTC"), Ok(0));
    assert!(zone_offset("Nowhere/Atlantis").is_err());
}
