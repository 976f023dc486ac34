//! CloudTrail semantics (and CloudWatch Logs and metrics), free of wire formats.
//!
//! Each operation is a plain function over a store connection (so it runs inside the
//! writer's group commit together with the event that records it) and typed inputs, and
//! returns typed outputs or an [`ApiError`]. The edge (`cairn-api`) turns wire shapes into
//! these inputs and the results back into wire shapes; this crate never sees JSON bodies,
//! HTTP or XML.

pub mod alarms;
pub mod authz;
pub mod bucket_config;
pub mod bucket_key;
pub mod bucket_ownership;
pub mod bucket_tags;
pub mod buckets;
pub mod clock;
pub mod cloudformation;
pub mod context;
pub mod encryption;
pub mod error;
pub mod iam;
pub mod insights;
pub mod kms;
pub mod lifecycle;
pub mod logs;
pub mod lookup;
pub mod metrics;
pub mod multipart_checksums;
pub mod net;
pub mod object_tags;
pub mod objects;
pub mod policy;
pub mod publish;
pub mod record;
pub mod routing;
pub mod selectors;
pub mod sns;
pub mod sns_delivery_policy;
pub mod sns_filter;
pub mod sns_pending;
pub mod sns_queue;
pub mod sns_resubscribe;
pub mod sns_sse;
pub mod sns_subscription_checks;
pub mod sns_topic_access;
pub mod sse;
pub mod sts;
pub mod tags;
pub mod token;
pub mod trail_logs;
pub mod trails;
pub mod upload_listing;
pub mod validate;
pub mod wildcard;

pub use context::CallContext;
pub use error::{ApiError, ErrorKind};

#[cfg(test)]
mod quota_tests;
