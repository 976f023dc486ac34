//! Trail delivery.
//!
//! [`Delivery::run_once`] is one step of the worker:
//! 1. plan log files for every logging trail and every deleted trail still draining: routing
//!    reads events on a reader connection, one record at a time, and cuts files at
//!    [`DEFAULT_MAX_FILE_BYTES`] of JSON or [`DEFAULT_MAX_EVENTS_PER_FILE`] events; only the
//!    plan (seq lists and keys) and the cursor advance are committed on the writer;
//! 2. write the planned files (idempotently: same key, same bytes), streaming each through
//!    gzip into its object file, after checking the bucket policy lets CloudTrail write;
//! 3. write the digests that are due.
//!
//! Insights events ([`insights`]) are planned into `CloudTrail-Insight/` files in the same
//! ledger before step 2, so they are written, notified and digested like log files.
//!
//! Each trail fails and recovers on its own: a failure is recorded in the trail's status
//! (GetTrailStatus `LatestDeliveryError` / `LatestDigestDeliveryError`, as an S3 error code)
//! and retried later; it never stops another trail. Damaged stored state (an unparsable
//! record, an undecodable plan, a planned event that is gone) stops only that trail's
//! delivery, visibly, and never loses or skips an event.
//!
//! SNS notifications of delivered files go through [`Notifier`]: per-subscription queues with
//! timeouts, SNS's HTTP/S retry policy and a bounded backlog, so a subscriber can hold up
//! nothing but its own notifications.
//!
//! The server calls `run_once` every delivery interval; `cairn flush` calls it on demand.

mod cwl;
mod digest;
mod insights;
mod keys;
mod mail;
mod notice;
mod notify;
mod plan;
mod publish;
mod put;
pub mod sns_message;
mod sns_sign;
mod worker;

pub use cwl::LogsOutcome;
pub use keys::KeyRing;
pub use notify::{
    AddressGuard, MAX_ATTEMPTS_AT_ONCE, Notification, Notifier, NotifierConfig, NotifyStats,
    RetryPolicy, admin_base_url,
};
pub use publish::{publish, send_confirmation};
pub use sns_sign::SnsSigner;
pub use worker::{
    DEFAULT_MAX_EVENTS_PER_FILE, DEFAULT_MAX_EVENTS_PER_STEP, DEFAULT_MAX_FILE_BYTES, Delivery,
    Outcome,
};

/// Delivery failures. All are retried on a later step; none loses an event.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] cairn_store::StoreError),
    /// A file could not be written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// An external bucket refused.
    #[error("external bucket: {0}")]
    External(#[from] cairn_buckets::ExternalError),
    /// A local bucket refused the write, with the S3 error code S3 would answer.
    #[error("{code}: {message}")]
    Refused {
        /// `NoSuchBucket`, `AccessDenied`, …
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Stored delivery state is damaged (an unparsable record, an undecodable plan, a
    /// planned event that is gone): the trail's delivery stops here until it is repaired.
    #[error("damaged delivery state: {0}")]
    Damaged(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
}

impl DeliveryError {
    /// Whether the failed attempt is known to have written nothing: Cairn refused it before
    /// writing, or the bucket's store answered a refusal (not a fault that may have come
    /// after the object was stored).
    pub fn wrote_nothing(&self) -> bool {
        const REFUSALS: &[&str] = &[
            "AccessDenied",
            "NoSuchBucket",
            "AllAccessDisabled",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "InvalidBucketName",
            "PermanentRedirect",
            "AccountProblem",
        ];
        match self {
            Self::Refused { .. } => true,
            Self::External(_) => REFUSALS.contains(&self.s3_code().as_str()),
            _ => false,
        }
    }

    /// The S3 error code GetTrailStatus reports for this failure.
    pub fn s3_code(&self) -> String {
        match self {
            Self::Refused { code, .. } => (*code).to_owned(),
            Self::External(e) => external_code(e),
            Self::Io(io) if io.kind() == std::io::ErrorKind::NotFound => "NoSuchBucket".into(),
            Self::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                "AccessDenied".into()
            }
            Self::Store(_) | Self::Io(_) | Self::Damaged(_) | Self::Signing(_) => {
                "InternalError".into()
            }
        }
    }
}

/// The S3 error code of an external store's failure: the `<Code>` of S3's XML error when
/// the store passed it on, else the code its kind of failure stands for.
fn external_code(e: &cairn_buckets::ExternalError) -> String {
    use object_store::Error as E;
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push('\n');
        text.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(code) = text
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric()))
    {
        return code.to_owned();
    }
    match e {
        cairn_buckets::ExternalError::Store(E::NotFound { .. }) => "NoSuchBucket".into(),
        cairn_buckets::ExternalError::Store(
            E::PermissionDenied { .. } | E::Unauthenticated { .. },
        ) => "AccessDenied".into(),
        _ => "InternalError".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_codes_name_the_real_failure() {
        let refused = DeliveryError::Refused {
            code: "AccessDenied",
            message: "no".into(),
        };
        assert_eq!(refused.s3_code(), "AccessDenied");
        let missing = DeliveryError::External(cairn_buckets::ExternalError::Store(
            object_store::Error::NotFound {
                path: "k".into(),
                source: "gone".into(),
            },
        ));
        assert_eq!(missing.s3_code(), "NoSuchBucket");
        let slow = DeliveryError::External(cairn_buckets::ExternalError::Store(
            object_store::Error::Generic {
                store: "S3",
                source: "Server error: <Error><Code>SlowDown</Code><Message>m</Message></Error>"
                    .into(),
            },
        ));
        assert_eq!(slow.s3_code(), "SlowDown");
        assert_eq!(
            DeliveryError::Damaged("x".into()).s3_code(),
            "InternalError"
        );
    }

    /// Only a refusal proves nothing was written (so a pending file may be renamed).
    #[test]
    fn only_refusals_wrote_nothing() {
        let refused = DeliveryError::Refused {
            code: "AccessDenied",
            message: "no".into(),
        };
        assert!(refused.wrote_nothing());
        let store = |source: &str| {
            DeliveryError::External(cairn_buckets::ExternalError::Store(
                object_store::Error::Generic {
                    store: "S3",
                    source: source.to_owned().into(),
                },
            ))
        };
        assert!(store("<Error><Code>NoSuchBucket</Code></Error>").wrote_nothing());
        assert!(!store("<Error><Code>InternalError</Code></Error>").wrote_nothing());
        assert!(!store("connection reset").wrote_nothing());
        assert!(!DeliveryError::Io(std::io::Error::other("disk")).wrote_nothing());
    }
}
