//! Served S3 calls that s3s refuses before their handler runs. s3s reads a request's XML
//! body, typed headers and query after the access check and before the handler: a malformed
//! lifecycle, tagging or `CompleteMultipartUpload` body (`MalformedXML`), header or query
//! value (`InvalidArgument`) would be answered without being authorized or recorded. The access
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

/// The served operations noted: every one but a browser form (PostObject). s3s parses a
/// request's typed headers and query (`Range`, `If-Unmodified-Since`, `max-keys`,
/// `partNumber`) and, for some, its whole XML body before the handler runs, so a malformed
/// value is refused before the handler could authorize and record it: unnoted, such a call
/// told a valid key from a bad one without leaving a record (s3four). What a form or its
/// policy is refused for before its signature is checked (a field the policy does not name,
/// a failed condition, no file) is answered and not recorded, as an unauthenticated request.
pub(super) fn noted(op: &str) -> Option<&'static str> {
    if op == "PostObject" {
        return None;
    }
    super::unserved::served_name(op)
}

/// Whether a call of `op` is a data event: an object call, or one of the bucket-level calls
/// CloudTrail logs as data events (the S3 user guide's data event list: DeleteObjects,
/// ListObjects, ListObjectsV2, ListObjectVersions, ListMultipartUploads).
pub(super) fn data_event(op: &str, names_key: bool) -> bool {
    names_key
        || matches!(
            op,
            "DeleteObjects"
                | "ListObjects"
                | "ListObjectsV2"
                | "ListObjectVersions"
                | "ListMultipartUploads"
        )
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
        "ListObjectsV2" => "ListObjects",
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
        data: data_event(p.op, p.key.is_some()),
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
        assert!(noted("GetObject").is_some() && noted("ListBuckets").is_some());
        assert!(noted("PostObject").is_none() && noted("NoSuchOperation").is_none());
        assert!(noted("DeleteObjects").is_some() && noted("PutObjectTagging").is_some());
        assert_eq!(event_name("ListObjectsV2"), "ListObjects");
        assert!(data_event("DeleteObjects", false) && data_event("ListObjectsV2", false));
        assert!(!data_event("GetBucketPolicy", false) && data_event("GetObject", true));
        assert_eq!(event_name("PutBucketTagging"), "PutBucketTagging");
    }
}
