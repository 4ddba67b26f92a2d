//! The watch loop's back-off while the camera is away.

use std::time::Duration;

/// Back-off schedule for an absent camera: 10 s, 30 s, 2 min, then 10 min
/// for as long as it stays away; [`Backoff::reset`] after a success.
/// [`Backoff::with_steps`] sets another schedule (tests, embedders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    steps: Vec<Duration>,
    failures: usize,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::with_steps(Self::STEPS)
    }
}

impl Backoff {
    const STEPS: [Duration; 4] = [
        Duration::from_secs(10),
        Duration::from_secs(30),
        Duration::from_secs(120),
        Duration::from_secs(600),
    ];

    /// The default schedule, with no failure seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A schedule of its own: the n-th failure in a row waits `steps[n]`,
    /// and every later one the last step. An empty list means the default.
    pub fn with_steps(steps: impl Into<Vec<Duration>>) -> Self {
        let mut steps = steps.into();
        if steps.is_empty() {
            steps = Self::STEPS.to_vec();
        }
        Self { steps, failures: 0 }
    }

    /// Records one more failure and returns how long to wait before the
    /// next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self
            .steps
            .get(self.failures)
            .or(self.steps.last())
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
    fn a_schedule_of_its_own_and_an_empty_one() {
        let ms = Duration::from_millis;
        let mut b = Backoff::with_steps([ms(1), ms(2)]);
        let got: Vec<Duration> = (0..4).map(|_| b.next_delay()).collect();
        assert_eq!(got, [ms(1), ms(2), ms(2), ms(2)]);
        assert_eq!(Backoff::with_steps(Vec::new()), Backoff::new());
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
