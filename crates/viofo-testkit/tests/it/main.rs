//! Tests of the testkit itself (one binary; modules below): the checker
//! and the lock holder do what the suites rely on.

mod checker;
mod lock_holder;
