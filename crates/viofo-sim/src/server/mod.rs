//! The camera's HTTP server and the state its tasks share with the `Sim`
//! handle (card, settings, faults, request log).
//!
//! A hand-written accept loop and a minimal HTTP/1.1 responder, so every
//! quirk (close-delimited bodies, resets, truncation, stalls) is under exact
//! control: HTTP parsing and replies are in [`http`], routing and fault
//! planning in [`route`], the shaped link in [`link`], the answers in
//! [`handlers`].

mod handlers;
mod http;
mod link;
mod route;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::card::{Card, Clip};
use crate::config::Settings;
use crate::faults::{Fault, RandomFaults};

use link::Bucket;
pub(crate) use link::accept_loop;

/// Commands that wedge real cameras; the sim refuses and records them.
pub const UNSAFE_COMMANDS: [u32; 9] = [3010, 3011, 3013, 3018, 3023, 4004, 8230, 9316, 9317];

const REQUEST_LOG_CAP: usize = 100_000;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The whole response was sent and the socket closed.
    Complete,
    /// The connection was reset mid-body (fault, offline, error).
    Dropped,
    /// The socket was closed cleanly before the announced body ended.
    Closed,
    /// The connection was reset without an answer.
    Reset,
    /// The client stopped reading or went away.
    ClientGone,
}

/// One request the simulator read, and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// HTTP status answered (`None` if the connection was reset instead).
    pub status: Option<u16>,
    /// cmd number for `/?custom=1&cmd=N` requests.
    pub cmd: Option<u32>,
    /// Clip name for downloads, HEADs and deletes.
    pub clip: Option<String>,
    /// First byte served (Range start; 0 without Range).
    pub range_start: u64,
    /// Body bytes written.
    pub body_bytes: u64,
    /// Body bytes the response announced or would have sent.
    pub body_len: u64,
    /// How it ended.
    pub outcome: Outcome,
}

/// Everything the server tasks and the `Sim` handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) bucket: Bucket,
    pub(crate) active: AtomicUsize,
    pub(crate) peak: AtomicUsize,
    pub(crate) refused: AtomicU64,
    pub(crate) max_connections: AtomicUsize,
    chunk_size: usize,
    request_timeout: Duration,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) card: Card,
    pub(crate) settings: Settings,
    pub(crate) deleted: Vec<String>,
    /// The clips deleted, as they were when deleted.
    pub(crate) deleted_clips: Vec<Clip>,
    pub(crate) requests: VecDeque<RequestRecord>,
    pub(crate) unsafe_cmds: Vec<u32>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) random: RandomFaults,
    rng: StdRng,
    pub(crate) offline_until: Option<Instant>,
    pub(crate) listing_override: Option<Bytes>,
}

impl Shared {
    pub(crate) fn new(card: Card, config: &crate::SimConfig) -> Self {
        Self {
            state: Mutex::new(State {
                card,
                settings: config.settings.clone(),
                deleted: Vec::new(),
                deleted_clips: Vec::new(),
                requests: VecDeque::new(),
                unsafe_cmds: Vec::new(),
                faults: Vec::new(),
                random: config.random_faults.clone(),
                rng: StdRng::seed_from_u64(config.seed ^ 0xfa17),
                offline_until: None,
                listing_override: None,
            }),
            bucket: Bucket::new(config.bandwidth, config.chunk_size),
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            max_connections: AtomicUsize::new(config.max_connections),
            chunk_size: config.chunk_size,
            request_timeout: config.request_timeout,
        }
    }

    /// Locks the state, bringing the recording up to date first.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.card.refresh(Instant::now());
        s
    }

    fn is_offline(&self) -> bool {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.offline_until.is_some_and(|t| Instant::now() < t)
    }

    fn log(&self, rec: RequestRecord) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.requests.len() >= REQUEST_LOG_CAP {
            s.requests.pop_front();
        }
        s.requests.push_back(rec);
    }
}
