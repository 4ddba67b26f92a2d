//! `--camera` with an id neither configured nor known to the state
//! database: exit 2 naming the configured cameras, in every command that
//! takes `--camera` (issue 21: `retry-failed`, `places` and `trips` take it
//! too), before the camera or the store is touched.

use crate::{Env, stderr};

#[test]
fn an_unknown_camera_id_is_a_configuration_error_naming_the_known_ones() {
    let env = Env::new();
    let archive = env.make_archive();
    env.write_config(&format!(
        "archive = {archive:?}\n\n[[camera]]\nid = \"front\"\naddress = \"127.0.0.1:9\"\n\n\
         [[camera]]\nid = \"rear\"\naddress = \"127.0.0.1:10\"\n"
    ));
    let commands: &[&[&str]] = &[
        &["sync"],
        &["watch"],
        &["status"],
        &["status", "--json"],
        &["queue"],
        &["timings"],
        &["retry-failed"],
        &["places"],
        &["trips"],
    ];
    for cmd in commands {
        let o = env
            .cmd()
            .args(*cmd)
            .args(["--camera", "nosuch"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
        insta::assert_snapshot!(format!("unknown_camera_{}", cmd.join("_")), stderr(&o));
    }
}
