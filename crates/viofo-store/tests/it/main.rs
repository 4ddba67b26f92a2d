//! Integration tests of viofo-store (one binary; modules below).

mod cameras;
mod common;
mod concurrency;
mod copy;
mod cycles;
mod deferral;
mod full;
mod idle;
mod import;
mod journeys;
mod legacy;
mod lifecycle;
mod lock;
mod owner;
mod pruned;
mod reconcile;
mod scale;
mod skipped;
mod timings;
mod tracks;
mod unawaited;
