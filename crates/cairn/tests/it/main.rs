//! Integration tests: each starts the real `cairn` binary on port 0 with its own data dir.

mod delivery_lock;
mod delivery_notify;
mod delivery_trails;
mod durability;
mod edge_fuzz;
mod harness;
mod lookup;
mod named_errors;
mod s3_streaming;
mod sigv4;
mod trails;
