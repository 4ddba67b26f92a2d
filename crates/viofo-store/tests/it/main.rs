//! Integration tests of viofo-store (one binary; modules below).

mod common;
mod concurrency;
mod legacy;
mod lifecycle;
mod lock;
mod reconcile;
mod timings;
