//! Integration tests of viofo-status (one binary; modules below): the
//! server on 127.0.0.1:0 with a plain HTTP client, the model refreshed from
//! a real store, and a real sync against the simulator.

mod actions;
mod auth;
mod common;
mod limits;
mod model;
mod pages;
mod surfaces;
mod trips;
