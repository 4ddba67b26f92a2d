//! viofo-daemon's tests: a fleet of simulated cameras on 127.0.0.1.

mod fleet;
