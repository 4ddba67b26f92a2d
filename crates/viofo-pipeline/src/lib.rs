//! viofo-pipeline: placeholder, being written (see the workspace README).
#![deny(missing_docs)]
