//! Cairn's protocol edge: the only crate that knows HTTP, JSON 1.1 and S3 XML.
//!
//! A request flows: [`server`] (listener, body limit, request id) → [`auth`] (SigV4, which
//! also names the service from the credential scope) → [`cloudtrail`] (AWS JSON 1.1
//! dispatch on `X-Amz-Target`) or [`s3`] (REST, path-style) → `cairn-core` inside one
//! store write, together with the event [`recording`] builds → response. [`errors`] is the
//! one place that maps `cairn_core::ErrorKind` to AWS error codes and HTTP statuses.

pub mod auth;
pub mod body_budget;
pub mod body_rate;
pub mod cloudformation;
pub mod cloudtrail;
pub mod conn_deadline;
pub mod console;
pub mod credentials;
pub mod ec2;
pub mod errors;
pub mod iam;
pub mod json;
pub mod key_use;
pub mod kms;
pub mod listener;
pub mod logs;
pub mod model_check;
pub mod model_shapes;
pub mod monitoring;
pub mod protocol;
pub mod query;
pub mod query_record;
pub mod query_shapes;
pub mod recording;
pub mod request_encoding;
pub mod request_ids;
pub mod s3;
pub mod server;
pub mod sns;
pub mod sts;
pub mod unserved;
pub mod unsigned_rate;
pub mod wire;

pub use server::{AppState, Settings, router};
