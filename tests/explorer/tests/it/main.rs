//! The explorer's own tests: its generator is deterministic, its checker
//! catches what it must, and the CI budget of seeds holds every invariant.

mod checker;
mod ci;
mod generator;
