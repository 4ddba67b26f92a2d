//! `trips --since`'s words: today, yesterday, Nd, a day on the camera's
//! clock, an instant; anything else is refused.

use time::macros::{datetime, offset};
use viofo_pipeline::CameraClock;
use viofo_pipeline::journeys::since_ms;

#[test]
fn since_takes_words_days_and_instants_on_the_camera_clock() {
    let clock = CameraClock::new(offset!(+2));
    // 2026-03-29 00:00 at UTC+2 = 2026-03-28 22:00 UTC.
    let midnight = 1_774_735_200_000;
    let now = datetime!(2026-03-29 10:00 UTC);
    assert_eq!(since_ms("2026-03-29", clock, now), Some(midnight));
    assert_eq!(
        since_ms("2026-03-29T00:00:00Z", clock, now),
        Some(1_774_742_400_000)
    );
    assert_eq!(since_ms("today", clock, now), Some(midnight));
    assert_eq!(
        since_ms(" Yesterday ", clock, now),
        Some(midnight - 86_400_000)
    );
    // 23:30 UTC is already the next day on the camera's clock.
    let late = datetime!(2026-03-28 23:30 UTC);
    assert_eq!(since_ms("today", clock, late), Some(midnight));
    let now_ms = 1_774_778_400_000;
    assert_eq!(since_ms("7d", clock, now), Some(now_ms - 7 * 86_400_000));
    assert_eq!(since_ms("0d", clock, now), Some(now_ms));
    for bad in ["", "soon", "-1d", "d", "2026-13-01", "7 days"] {
        assert_eq!(since_ms(bad, clock, now), None, "{bad:?}");
    }
}
