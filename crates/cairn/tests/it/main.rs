//! Integration tests: each starts the real `cairn` binary on port 0 with its own data dir.

mod admin_commands;
mod disk_full;
mod durability;
mod edge_fuzz;
mod edge_hardening;
mod harness;
mod iam_core;
mod iam_query;
mod logs;
mod lookup;
mod named_errors;
mod raw_http;
mod s3_connection;
mod s3_data_dir;
mod s3_encryption;
mod s3_memory;
mod s3_policy;
mod s3_recorded;
mod s3_streaming;
mod s3_util;
mod short_target;
mod sigv4;
mod sts_sessions;
mod trails;
