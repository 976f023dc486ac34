//! The AWS SDK for Rust against the real `cairn` binary: one test binary (one link of the
//! SDK crates), one server per test, tests run in parallel.

mod cairn;
mod cloudtrail;
mod identity;
mod monitoring;
mod s3;
mod sns;
mod wire;
