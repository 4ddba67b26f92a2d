//! End-to-end tests of the pipeline against the simulated camera.

mod harness;

mod anchor;
mod appendonly;
mod cycle;
mod deletes;
mod doctor;
mod faults;
mod identity;
mod import;
mod import_move;
mod journey_outputs;
mod journeys;
mod picks;
mod places;
mod policies;
mod shared;
mod since;
mod store_full;
mod triage;
mod watch;
