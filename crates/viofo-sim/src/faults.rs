//! Fault injection: explicit per-request rules and seeded-random rates.

use std::time::Duration;

/// Which requests a [`Fault`] applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every request.
    Any,
    /// `/?custom=1&cmd=N` requests with this command number.
    Cmd(u32),
    /// GET of a clip.
    Download,
    /// Any HEAD request.
    Head,
    /// Deletes: cmd=4003 or `X.MP4?del=1`.
    Delete,
    /// The HTML directory pages.
    Html,
    /// Requests whose path+query contains this text.
    PathContains(String),
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Reset the connection (RST) after this many body bytes.
    DropAfter(u64),
    /// Close the connection cleanly (FIN) after this many body bytes: a short
    /// body.
    CloseAfter(u64),
    /// Stop sending for `for_` after `after` body bytes, then go on.
    Stall {
        /// Body bytes sent before the stall.
        after: u64,
        /// How long nothing is sent.
        for_: Duration,
    },
    /// Answer this HTTP status (e.g. 500) with a short body.
    Status(u16),
    /// Reset the connection without answering (e.g. a dropped HEAD).
    Reset,
    /// Go offline for this long, starting with this request (reset).
    Offline(Duration),
    /// Refuse a delete with this non-zero `<Status>`.
    RefuseDelete(i32),
    /// Extra delay before answering.
    Delay(Duration),
}

/// One injected fault: a kind, a target and how many times it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) target: Target,
    pub(crate) remaining: Option<u64>,
}

impl Fault {
    /// A fault of this kind for any request, once.
    pub fn new(kind: FaultKind) -> Self {
        let target = match kind {
            FaultKind::RefuseDelete(_) => Target::Delete,
            _ => Target::Any,
        };
        Self {
            kind,
            target,
            remaining: Some(1),
        }
    }

    /// Reset the connection after `bytes` body bytes.
    pub fn drop_after(bytes: u64) -> Self {
        Self::new(FaultKind::DropAfter(bytes))
    }

    /// Close cleanly after `bytes` body bytes (short body).
    pub fn close_after(bytes: u64) -> Self {
        Self::new(FaultKind::CloseAfter(bytes))
    }

    /// Stall for `for_` after `after` body bytes.
    pub fn stall(after: u64, for_: Duration) -> Self {
        Self::new(FaultKind::Stall { after, for_ })
    }

    /// Answer HTTP `code` instead.
    pub fn status(code: u16) -> Self {
        Self::new(FaultKind::Status(code))
    }

    /// Reset the connection without an answer.
    pub fn reset() -> Self {
        Self::new(FaultKind::Reset)
    }

    /// A burst of connection resets, as a parked car's Wi-Fi drops them:
    /// the next `count` downloads are reset without an answer (all at once
    /// if the client retries at once: no time passes in the sim), then the
    /// camera is healthy. Other requests (heartbeats, listings) still get
    /// answers, so a client probing between attempts sees a live camera;
    /// `.on(Target::Any)` resets those too. For a burst measured in time
    /// instead, see [`Fault::offline`].
    pub fn reset_burst(count: u64) -> Self {
        Self::reset().on(Target::Download).times(count)
    }

    /// Drop HEAD requests (reset) — `Fault::reset().on(Target::Head)`.
    pub fn drop_head() -> Self {
        Self::reset().on(Target::Head)
    }

    /// Go offline for `d` when this request arrives.
    pub fn offline(d: Duration) -> Self {
        Self::new(FaultKind::Offline(d))
    }

    /// Refuse deletes with this `<Status>` (targets deletes).
    pub fn refuse_delete(status: i32) -> Self {
        Self::new(FaultKind::RefuseDelete(status))
    }

    /// Delay the answer by `d`.
    pub fn delay(d: Duration) -> Self {
        Self::new(FaultKind::Delay(d))
    }

    /// Which requests it applies to.
    pub fn on(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Fire for the next `n` matching requests (default 1).
    pub fn times(mut self, n: u64) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Fire for every matching request until cleared.
    pub fn always(mut self) -> Self {
        self.remaining = None;
        self
    }
}

/// Seeded-random faults: each rate is a probability per request in `0..=1`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RandomFaults {
    /// Reset a body-bearing response at a random byte.
    pub drop_rate: f64,
    /// Stall a body-bearing response at a random byte for `stall_for`.
    pub stall_rate: f64,
    /// How long random stalls last.
    pub stall_for: Duration,
    /// Answer 500.
    pub error_rate: f64,
    /// Reset HEAD requests.
    pub head_drop_rate: f64,
    /// Refuse deletes with Status -1.
    pub delete_refuse_rate: f64,
    /// Go offline for `offline_for`.
    pub offline_rate: f64,
    /// How long random offline periods last.
    pub offline_for: Duration,
}

impl RandomFaults {
    pub(crate) fn is_off(&self) -> bool {
        self.drop_rate <= 0.0
            && self.stall_rate <= 0.0
            && self.error_rate <= 0.0
            && self.head_drop_rate <= 0.0
            && self.delete_refuse_rate <= 0.0
            && self.offline_rate <= 0.0
    }
}
