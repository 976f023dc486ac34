//! Served S3 calls that s3s refuses before their handler runs. s3s reads a request's XML
//! body and typed headers after the access check and before the handler: a malformed
//! lifecycle, tagging or `CompleteMultipartUpload` body (`MalformedXML`) or header value
//! (`InvalidArgument`) would be answered without being authorized or recorded. The access
//! check leaves a [`Pending`] note in the request's [`PendingSlot`]; the handler takes it
//! when it starts (`CairnS3::call_info`), since it authorizes and records the call itself.
//! A request that ends in an error with its note still there is settled by [`settle`]: it
//! is authorized and recorded with the error s3s answered, or answered `AccessDenied` (and
//! recorded so) when the caller may not make the call at all, as for any other call.

use std::sync::{Arc, Mutex, PoisonError};

use s3s::{S3Error, S3Request};

use super::CairnS3;
use super::unserved::Unhandled;

/// A served call the access check let through, awaiting its handler.
pub struct Pending {
    s3: CairnS3,
    req: S3Request<()>,
    bucket: Option<String>,
    key: Option<String>,
    op: &'static str,
}

impl Pending {
    /// The note of served operation `op` on `bucket`/`key`.
    pub(super) fn new(
        s3: CairnS3,
        req: S3Request<()>,
        (bucket, key): (Option<String>, Option<String>),
        op: &'static str,
    ) -> Self {
        Self {
            s3,
            req,
            bucket,
            key,
            op,
        }
    }
}

/// Where one request's [`Pending`] note is kept (shared by the clones of its
/// `RequestMeta`).
#[derive(Clone, Default)]
pub struct PendingSlot(Arc<Mutex<Option<Pending>>>);

impl std::fmt::Debug for PendingSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingSlot")
    }
}

impl PendingSlot {
    /// Leaves the note of a call let through.
    pub(super) fn put(&self, p: Pending) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(p);
    }

    /// Whether a note is still there: the call's handler has not started.
    pub(super) fn is_noted(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Takes the note: the handler runs (and records), or the request is settled.
    pub(super) fn take(&self) -> Option<Pending> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The served operations noted: those whose whole body s3s reads and parses before the
/// handler runs (an XML document or a policy), so a body that is malformed, cut short or does
/// not match its signed `x-amz-content-sha256` is refused before the handler. A browser form
/// (PostObject) is not noted: what its form or policy is refused for before its signature
/// is checked (a field the policy does not name, a failed condition, no file) is answered
/// and not recorded, as an unauthenticated request. Other served calls pay nothing for this.
const NOTED: &[&str] = &[
    "CreateBucket",
    "PutBucketLifecycleConfiguration",
    "PutBucketTagging",
    "PutBucketEncryption",
    "PutBucketPolicy",
    "PutPublicAccessBlock",
    "PutBucketVersioning",
    "PutBucketOwnershipControls",
    "PutObjectTagging",
    "DeleteObjects",
    "CompleteMultipartUpload",
];

/// `op` as a `'static` name if it is noted.
pub(super) fn noted(op: &str) -> Option<&'static str> {
    NOTED.iter().find(|n| **n == op).copied()
}

/// The `eventName` of a served operation, as its handler records it.
fn event_name(op: &'static str) -> &'static str {
    match op {
        "GetBucketLifecycleConfiguration" => "GetBucketLifecycle",
        "PutBucketLifecycleConfiguration" => "PutBucketLifecycle",
        "GetBucketNotificationConfiguration" => "GetBucketNotification",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" => "PutBucketPublicAccessBlock",
        "DeletePublicAccessBlock" => "DeleteBucketPublicAccessBlock",
        other => other,
    }
}

/// Settles a request that ended in the error (`code`, `message`) with its note still in
/// `slot`: `None` when there is none or the call is authorized and recorded (its error
/// stands); otherwise the error to answer instead (`AccessDenied`, or the record's failure).
pub async fn settle(slot: &PendingSlot, code: &str, message: &str) -> Option<S3Error> {
    let p = slot.take()?;
    let name = event_name(p.op);
    let call = Unhandled {
        name,
        read_only: ["Get", "List", "Head"]
            .iter()
            .any(|prefix| p.op.starts_with(prefix)),
        data: p.key.is_some(),
        action: super::event::action_of(name).to_owned(),
        refused: Some((code.to_owned(), message.to_owned())),
    };
    p.s3.gatekeep(p.req, (p.bucket, p.key), call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_operations_are_named_as_their_handlers_record_them() {
        assert_eq!(
            event_name("PutBucketLifecycleConfiguration"),
            "PutBucketLifecycle"
        );
        assert_eq!(
            super::super::event::action_of(event_name("PutBucketLifecycleConfiguration")),
            "s3:PutLifecycleConfiguration"
        );
        assert_eq!(
            event_name("PutPublicAccessBlock"),
            "PutBucketPublicAccessBlock"
        );
        assert!(noted("GetObject").is_none() && noted("PutObject").is_none());
        assert!(noted("DeleteObjects").is_some() && noted("PutObjectTagging").is_some());
        assert_eq!(event_name("PutBucketTagging"), "PutBucketTagging");
    }
}
