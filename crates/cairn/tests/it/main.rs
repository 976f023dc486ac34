//! Integration tests: each starts the real `cairn` binary on port 0 with its own data dir.

mod admin_commands;
mod delivery_lock;
mod delivery_notify;
mod delivery_trails;
mod disk_full;
mod durability;
mod edge_fuzz;
mod edge_hardening;
mod events_log;
mod events_selection;
mod harness;
mod iam_core;
mod iam_query;
mod insights;
mod logs;
mod lookup;
mod named_errors;
mod s3_streaming;
mod short_target;
mod sigv4;
mod sts_sessions;
mod trails;
