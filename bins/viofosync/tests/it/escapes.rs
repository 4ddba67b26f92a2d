//! Text from the camera never reaches the terminal raw: a firmware string
//! full of escape sequences (clear screen, retitle the window, bell,
//! carriage return) is printed escaped by `status`, before and after a
//! sync recorded the camera.

use crate::{Camera, Env, stderr, stdout};

/// Control characters other than newline and tab.
fn controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

#[test]
fn status_prints_a_hostile_firmware_string_escaped() {
    let cam = Camera::with_clips(1, 10_000);
    cam.sim()
        .set_firmware("V9\u{1b}[2J\u{1b}]0;owned\u{7}\r\u{9b}31mFAKE");
    let env = Env::new();
    for when in ["before a sync", "after a sync"] {
        let o = env.sync_cmd(&cam).arg("status").output().unwrap();
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{when}: {err}");
        assert!(controls(&out).is_empty(), "{when}: raw controls: {out:?}");
        assert!(controls(&err).is_empty(), "{when}: raw controls: {err:?}");
        // Still said, escaped.
        assert!(out.contains("V9\\u{1b}[2J"), "{when}: {out:?}");
        if when == "before a sync" {
            env.sync_ok(&cam, &["sync"]);
        }
    }
}
