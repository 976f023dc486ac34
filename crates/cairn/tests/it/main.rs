//! Integration tests: each starts the real `cairn` binary on port 0 with its own data dir.

mod admin_commands;
mod console;
mod disk_full;
mod durability;
mod edge_fuzz;
mod edge_hardening;
mod harness;
mod iam_core;
mod iam_query;
mod lookup;
mod named_errors;
mod s3_streaming;
mod short_target;
mod sigv4;
mod sts_sessions;
mod trails;
