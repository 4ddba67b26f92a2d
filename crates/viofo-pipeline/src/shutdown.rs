//! Two-stage shutdown, injected into every long-running loop.

use tokio_util::sync::CancellationToken;

/// Shutdown requests for a sync: the first asks it to stop (start no new
/// download, finish or cancel the current one as configured, drain the
/// tail); the second aborts (cancel everything in flight; what is not done
/// is resumed next time, nothing is lost).
///
/// Clones share state. The binary calls [`Shutdown::request`] on each
/// SIGINT/SIGTERM; tests call [`Shutdown::stop`] / [`Shutdown::abort`].
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    stop: CancellationToken,
    abort: CancellationToken,
}

impl Shutdown {
    /// Nothing requested yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One more request: the first stops, the second aborts.
    pub fn request(&self) {
        if self.stop.is_cancelled() {
            self.abort();
        } else {
            self.stop();
        }
    }

    /// Asks for a graceful stop.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Asks for a fast stop (implies [`Shutdown::stop`]).
    pub fn abort(&self) {
        self.stop.cancel();
        self.abort.cancel();
    }

    /// A shutdown of its own that follows this one: a request made here
    /// reaches it too, one made on it stays with it (a watch stops one
    /// cycle, or one camera of several, without stopping the rest).
    pub fn child(&self) -> Self {
        Self {
            stop: self.stop.child_token(),
            abort: self.abort.child_token(),
        }
    }

    /// A stop (or abort) was requested.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// An abort was requested.
    pub fn is_aborting(&self) -> bool {
        self.abort.is_cancelled()
    }

    /// Resolves once a stop is requested.
    pub async fn stopped(&self) {
        self.stop.cancelled().await;
    }

    /// Resolves once an abort is requested.
    pub async fn aborted(&self) {
        self.abort.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_request_stops_second_aborts() {
        let s = Shutdown::new();
        assert!(!s.is_stopping());
        s.request();
        assert!(s.is_stopping() && !s.is_aborting());
        let clone = s.clone();
        clone.request();
        assert!(s.is_aborting());
    }

    #[test]
    fn a_child_follows_its_parent_and_not_the_other_way_round() {
        let parent = Shutdown::new();
        let child = parent.child();
        child.abort();
        assert!(child.is_aborting() && !parent.is_stopping());
        let child = parent.child();
        parent.stop();
        assert!(child.is_stopping() && !child.is_aborting());
        parent.abort();
        assert!(child.is_aborting());
    }
}
