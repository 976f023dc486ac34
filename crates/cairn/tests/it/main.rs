//! Integration tests: each starts the real `cairn` binary on port 0 with its own data dir.

mod durability;
mod edge_fuzz;
mod events_log;
mod events_selection;
mod harness;
mod lookup;
mod named_errors;
mod s3_streaming;
mod sigv4;
mod trails;
