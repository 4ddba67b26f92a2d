//! A transfer's speed and time left: one rule for the status model (each
//! download, the cycle) and the terminal's overall progress line.

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
