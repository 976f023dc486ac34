//! The XML body of an S3 configuration call, read before s3s: checked against its declared
//! `Content-MD5` and `x-amz-checksum-*` (`super::integrity::check_whole_body`), and, for a
//! call Cairn does not carry out (PutBucketAcl's `AccessControlPolicy`, PutBucketCors,
//! PutBucketLogging, PutObjectAcl, …) and for PutBucketLifecycle, recorded in its
//! `requestParameters` as S3's records show it: the root element's name as the key, each
//! element's children and attributes (`xmlns`, `xsi:type`) as members, an element that
//! repeats as an array, a text-only element as its text. So a grant to everyone
//! (`Grantee.URI` `…/global/AllUsers`) is in the record a detection reads, though Cairn
//! refuses the call.
//!
//! The listener reads such a body before s3s (at most [`MAX_BODY`] bytes, a declared
//! length, no `aws-chunked` framing) and hands it on unchanged ([`take_small_body`]). It
//! reads CreateBucket's too: its `CreateBucketConfiguration.Tags`, which s3s skips, are
//! applied and recorded from it ([`tags_of`]).

use bytes::Bytes;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use super::access::CairnHost;

/// The largest body read before s3s: S3's configuration documents are small, but a
/// lifecycle configuration of 1,000 rules or a DeleteObjects list of 1,000 keys of 1,024
/// bytes each runs past a megabyte, and each must be recorded or checked whole.
pub const MAX_BODY: u64 = 2 * 1024 * 1024;

/// Deepest nesting converted.
const MAX_DEPTH: usize = 32;

/// Subresources of S3 configuration calls whose XML body is read before s3s: recorded as
/// sent for those Cairn does not carry out and for lifecycle rules (a detection reads the
/// rule's expiration), and checked against its declared digests for all.
const SUBRESOURCES: &[&str] = &[
    "lifecycle",
    "versioning",
    "encryption",
    "publicAccessBlock",
    "policy",
    "acl",
    "cors",
    "logging",
    "replication",
    "website",
    "notification",
    "ownershipControls",
    "accelerate",
    "requestPayment",
    "analytics",
    "metrics",
    "inventory",
    "intelligent-tiering",
    "object-lock",
    "legal-hold",
    "retention",
    "tagging",
];

/// Whether a PUT is CreateBucket: no query (a presigned URL's aside), and the path names only
/// a bucket (path style) or
/// nothing (a virtual-hosted bucket's `Host`). Its `CreateBucketConfiguration` may carry
/// `Tags`, which s3s does not read, so the body is read here too.
fn is_create_bucket(parts: &http::request::Parts, vhost: &CairnHost) -> bool {
    // No query but a presigned URL's signing parameters.
    let query = parts.uri.query().unwrap_or("");
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| !super::presign::is_signing_param(&k))
    {
        return false;
    }
    let path = parts.uri.path();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if vhost.bucket(host).is_some() {
        return path.is_empty() || path == "/";
    }
    let name = path.strip_prefix('/').unwrap_or(path);
    let name = name.strip_suffix('/').unwrap_or(name);
    !name.is_empty() && !name.contains('/')
}

/// Whether a request's body is read before s3s: a PUT naming one of [`SUBRESOURCES`], a
/// CreateBucket or a DeleteObjects (`POST ?delete`), with a declared length within
/// [`MAX_BODY`], not `aws-chunked`.
pub fn wanted(parts: &http::request::Parts, vhost: &CairnHost) -> bool {
    let query = parts.uri.query().unwrap_or("");
    let named = match parts.method {
        http::Method::PUT => {
            form_urlencoded::parse(query.as_bytes())
                .any(|(k, _)| SUBRESOURCES.contains(&k.as_ref()))
                || is_create_bucket(parts, vhost)
        }
        // DeleteObjects' list of keys.
        http::Method::POST => form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "delete"),
        _ => false,
    };
    let length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = parts
        .headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("aws-chunked"))
        || parts
            .headers
            .get("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("STREAMING-"));
    named && !chunked && length.is_some_and(|n| n > 0 && n <= MAX_BODY)
}

/// Reads `body` whole when [`wanted`]: the bytes, and a body that gives them again; the body
/// back untouched (and no bytes) otherwise. `Err` when the read failed, `true` when it came
/// too slowly rather than cut short: the request goes on with a body that fails likewise
/// (`super::failed_body`).
pub async fn take_small_body(
    parts: &http::request::Parts,
    vhost: &CairnHost,
    body: axum::body::Body,
    budget: &std::sync::Arc<tokio::sync::Semaphore>,
) -> Result<SmallBody, crate::body_budget::BodyError> {
    if !wanted(parts, vhost) {
        return Ok((body, None, Vec::new()));
    }
    // Read before s3s authenticates the call: the bytes past a small body count in the
    // server's body budget, as JSON and Query bodies do (recheck35: 900 unsigned 2 MiB
    // `?lifecycle` bodies held 1.4 GB).
    let (bytes, room) = crate::body_budget::read(body, MAX_BODY as usize, budget).await?;
    Ok((axum::body::Body::from(bytes.clone()), Some(bytes), room))
}

/// A request body as [`take_small_body`] leaves it: the body to go on with, the bytes read
/// (when it read them), and the room they hold in the body budget until the call ends.
pub type SmallBody = (
    axum::body::Body,
    Option<Bytes>,
    Vec<tokio::sync::OwnedSemaphorePermit>,
);

/// One element being read: its name and members, and its text.
struct Frame {
    name: String,
    members: Map<String, Value>,
    text: String,
}

fn frame(e: &BytesStart<'_>) -> Option<Frame> {
    let name = String::from_utf8(e.name().as_ref().to_vec()).ok()?;
    let mut members = Map::new();
    for a in e.attributes() {
        let a = a.ok()?;
        let key = String::from_utf8(a.key.as_ref().to_vec()).ok()?;
        let value = a.unescape_value().ok()?.into_owned();
        members.insert(key, Value::String(value));
    }
    Some(Frame {
        name,
        members,
        text: String::new(),
    })
}

fn value_of(f: Frame) -> Value {
    if f.members.is_empty() {
        Value::String(f.text.trim().to_owned())
    } else {
        Value::Object(f.members)
    }
}

/// Adds `value` as member `name`, turning a repeated member into an array.
fn add(members: &mut Map<String, Value>, name: String, value: Value) {
    match members.get_mut(&name) {
        None => {
            members.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(first) => {
            let first = first.take();
            members.insert(name, Value::Array(vec![first, value]));
        }
    }
}

/// The `Tags` of a recorded `CreateBucketConfiguration` (one `Tag` is an object, several an
/// array), as (key, value) pairs.
pub fn tags_of(config: &Value) -> Vec<(String, String)> {
    let text = |t: &Value, k: &str| {
        member(t, k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    match member(config, "Tags").and_then(|t| member(t, "Tag")) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| (text(t, "Key"), text(t, "Value")))
            .collect(),
        Some(t @ Value::Object(_)) => vec![(text(t, "Key"), text(t, "Value"))],
        _ => Vec::new(),
    }
}

/// The member of a recorded element named `local`, with or without a namespace prefix
/// (`Tags` or `s3:Tags`).
fn member<'v>(v: &'v Value, local: &str) -> Option<&'v Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| is_named(k, local))
        .map(|(_, v)| v)
}

/// `value` with the members named in `names` that hold an integer's text made numbers, at
/// any depth: CloudTrail records a lifecycle rule's `Days` as a number (a detection compares
/// it with one), though the XML carries text.
pub fn numbers(value: Value, names: &[&str]) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(t) if names.contains(&k.as_str()) => {
                            t.parse::<i64>().map_or(Value::String(t), Value::from)
                        }
                        other => numbers(other, names),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| numbers(v, names)).collect()),
        other => other,
    }
}

/// Whether an element name is `local`, with or without a namespace prefix.
pub fn is_named(name: &str, local: &str) -> bool {
    name.rsplit(':').next() == Some(local)
}

/// The body as recorded: (root element name, its value); `None` for a body that is not
/// well-formed XML or nests too deep.
pub fn to_record(body: &[u8]) -> Option<(String, Value)> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(frame(&e)?);
            }
            Event::Empty(e) => {
                let f = frame(&e)?;
                let name = f.name.clone();
                match stack.last_mut() {
                    Some(parent) => add(&mut parent.members, name, value_of(f)),
                    None => return Some((name, value_of(f))),
                }
            }
            Event::Text(t) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&t.decode().ok()?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&super::error_body::ref_text(&r)?);
                }
            }
            Event::End(_) => {
                let f = stack.pop()?;
                let name = f.name.clone();
                match stack.last_mut() {
                    Some(parent) => add(&mut parent.members, name, value_of(f)),
                    None => return Some((name, value_of(f))),
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_bucket_tags_are_read_with_or_without_a_namespace_prefix() {
        for body in [
            &br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Tags><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></Tags></CreateBucketConfiguration>"#[..],
            &br#"<s3:CreateBucketConfiguration xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Tags><s3:Tag><s3:Key>a</s3:Key><s3:Value>1</s3:Value></s3:Tag><s3:Tag><s3:Key>b</s3:Key><s3:Value></s3:Value></s3:Tag></s3:Tags></s3:CreateBucketConfiguration>"#[..],
        ] {
            let (root, config) = to_record(body).unwrap();
            assert!(is_named(&root, "CreateBucketConfiguration"), "{root}");
            assert_eq!(
                tags_of(&config),
                [("a".to_owned(), "1".to_owned()), ("b".to_owned(), String::new())]
            );
        }
    }

    /// The S3 user guide's PutBucketAcl record, from its request body.
    #[test]
    fn an_access_control_policy_is_recorded_as_s3_records_it() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>d25639Example</ID></Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>d25639Example</ID></Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>"#;
        let (root, v) = to_record(body).unwrap();
        assert_eq!(root, "AccessControlPolicy");
        assert_eq!(v["xmlns"], "http://s3.amazonaws.com/doc/2006-03-01/");
        assert_eq!(v["Owner"], json!({"ID": "d25639Example"}));
        let grants = &v["AccessControlList"]["Grant"];
        assert_eq!(
            grants[0]["Grantee"]["URI"],
            "http://acs.amazonaws.com/groups/global/AllUsers"
        );
        assert_eq!(grants[0]["Grantee"]["xsi:type"], "Group");
        assert_eq!(grants[1]["Permission"], "FULL_CONTROL");
    }

    #[test]
    fn malformed_or_deep_bodies_are_not_recorded() {
        assert!(to_record(b"<A><B></A>").is_none());
        assert!(to_record(b"<A>").is_none());
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(to_record(deep.as_bytes()).is_none());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = to_record(&body);
        }
    }
}
