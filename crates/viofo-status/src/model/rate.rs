//! A transfer's speed and time left, and a running cycle's bytes done of
//! its total: one rule for the status model (each download, the cycle)
//! and the terminal's overall progress line.

use std::time::Duration;

/// Shortest time a speed is said over: before it, a burst of the first
/// bytes would show a speed far from the real one.
const MIN_ELAPSED: Duration = Duration::from_millis(200);

/// A transfer's speed and time left.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Throughput {
    /// Bytes per second since it began, once there is enough to say (at
    /// least 0.2 s and a byte).
    pub bytes_per_sec: Option<f64>,
    /// Whole seconds left at that speed (rounded up), when the total and a
    /// speed are known; 0 when the total is reached or passed.
    pub eta_secs: Option<u64>,
}

impl Throughput {
    /// The throughput of `done` bytes of `total` (if known) moved in
    /// `elapsed`.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    pub fn of(done: u64, total: Option<u64>, elapsed: Duration) -> Self {
        let secs = elapsed.as_secs_f64();
        let bytes_per_sec = (elapsed >= MIN_ELAPSED && done > 0).then(|| done as f64 / secs);
        let eta_secs = match (total, bytes_per_sec) {
            // Finite and non-negative: the cast saturates at u64::MAX.
            (Some(t), Some(s)) if s > 0.0 => {
                Some((t.saturating_sub(done) as f64 / s).ceil() as u64)
            }
            _ => None,
        };
        Self {
            bytes_per_sec,
            eta_secs,
        }
    }
}

/// A running cycle's bytes as `(done, total)`: `done` is the bytes of the
/// clips archived this cycle (`archived`) plus what each download in
/// flight has so far; `total`, once the pending clips' sizes are known
/// (`pending`, their sum), adds each download's expected size (never less
/// than what it has: a clip may grow) and the pending bytes. `in_flight`:
/// each download's `(bytes so far, expected size)`.
pub fn cycle_bytes(
    archived: u64,
    in_flight: impl IntoIterator<Item = (u64, Option<u64>)>,
    pending: Option<u64>,
) -> (u64, Option<u64>) {
    let (mut have, mut expected) = (0u64, 0u64);
    for (bytes, total) in in_flight {
        have = have.saturating_add(bytes);
        expected = expected.saturating_add(total.unwrap_or(bytes).max(bytes));
    }
    let done = archived.saturating_add(have);
    let total = pending.map(|p| archived.saturating_add(expected).saturating_add(p));
    (done, total)
}
