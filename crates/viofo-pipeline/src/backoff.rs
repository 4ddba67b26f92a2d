//! The watch loop's back-off while the camera is away.

use std::time::Duration;

/// Back-off schedule for an absent camera: 10 s, 30 s, 2 min, then 10 min
/// for as long as it stays away; [`Backoff::reset`] after a success.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: usize,
}

impl Backoff {
    const STEPS: [Duration; 4] = [
        Duration::from_secs(10),
        Duration::from_secs(30),
        Duration::from_secs(120),
        Duration::from_secs(600),
    ];

    /// A schedule that has seen no failure yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one more failure and returns how long to wait before the
    /// next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let last = Self::STEPS.len() - 1;
        let delay = Self::STEPS
            .get(self.failures.min(last))
            .copied()
            .unwrap_or(Duration::from_secs(600));
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Forgets past failures: the next failure waits the shortest delay.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// How many failures in a row have been recorded.
    pub fn failures(&self) -> usize {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_schedule_then_stays_at_ten_minutes() {
        let mut b = Backoff::new();
        let got: Vec<u64> = (0..6).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(got, [10, 30, 120, 600, 600, 600]);
        assert_eq!(b.failures(), 6);
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new();
        b.next_delay();
        b.next_delay();
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(10));
    }
}
