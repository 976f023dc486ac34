//! Listing a bucket's objects (data events): ListObjects (v1, with `Marker`),
//! ListObjectsV2 (continuation tokens) and ListObjectVersions (every object the `null` version),
//! with prefixes, delimiters and `encoding-type=url`.
//! Their records carry the query as sent, the listed objects as an `ARNPrefix` resource and
//! the listing's size as `bytesTransferredOut`, as S3's do.

use cairn_core::objects;
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::{Value, json};

use super::CairnS3;
use super::bucket_ops::timestamp;
use super::event::Spec;
use super::object_ops::{host_of, strong};

/// Characters `encoding-type=url` leaves as they are: unreserved and `/`.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub(super) fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, KEY_ENCODE).to_string()
}

/// A listing's page size (`max-keys`, at most 1000), and S3's refusal of a negative one
/// (checked inside the operation, so the call is recorded).
fn max_keys(given: Option<i32>) -> (usize, Result<(), ApiError>) {
    let n = given.unwrap_or(1000);
    let negative = if n < 0 {
        Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647",
        ))
    } else {
        Ok(())
    };
    (n.clamp(0, 1000) as usize, negative)
}

/// `spec` with the listing's query recorded as sent (`prefix`, `delimiter`, `encoding-type`,
/// `max-keys`, `marker`, `list-type`, `start-after`, `continuation-token`, …), as S3's
/// records show it: nothing that was not sent, and no presigned URL's signing parameters.
pub(super) fn sent_query<T>(spec: Spec<T>, query: Option<&str>) -> Spec<T> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| !super::presign::is_signing_param(k))
        .fold(spec, |s, (k, v)| s.param(&k, json!(v)))
}

/// The length of a listing's XML body, as s3s writes it (`bytesTransferredOut`).
fn xml_len<T: s3s::xml::Serialize>(out: &T) -> i64 {
    let mut buf = Vec::with_capacity(1024);
    let mut ser = s3s::xml::Serializer::new(&mut buf);
    match ser.decl().and_then(|()| out.serialize(&mut ser)) {
        Ok(()) => buf.len() as i64,
        Err(_) => 0,
    }
}

/// What every listing of a bucket's objects shares: its query (prefix, delimiter, page size,
/// encoding), the refusals of a bad page size or encoding (checked inside the call, so it is
/// recorded), and its record.
struct Listing {
    prefix: String,
    delimiter: Option<String>,
    max: usize,
    /// `max-keys` as sent: the `s3:max-keys` condition key is present only then, with the
    /// value sent (s3five: it was always there, capped at 1000).
    max_sent: Option<i32>,
    url: bool,
    refused: Result<(), ApiError>,
}

impl Listing {
    fn new(
        prefix: Option<&String>,
        delimiter: Option<&String>,
        max_keys_given: Option<i32>,
        encoding: Option<&EncodingType>,
    ) -> Self {
        let (max, negative) = max_keys(max_keys_given);
        let (url, encoding_ok) = url_encoding(encoding);
        Self {
            prefix: prefix.cloned().unwrap_or_default(),
            delimiter: delimiter.cloned(),
            max,
            max_sent: max_keys_given,
            url,
            refused: negative.and(encoding_ok),
        }
    }

    /// The listing's record: `name`, its objects as an `ARNPrefix` resource, its condition
    /// keys, its query as sent and its size.
    fn spec<T: s3s::xml::Serialize>(
        &self,
        name: &'static str,
        bucket: &str,
        headers: &http::HeaderMap,
        query: Option<&str>,
    ) -> Spec<T> {
        let mut spec = Spec::new(name, true, true, Some(bucket), None, &host_of(headers))
            .lists(&self.prefix)
            .condition("s3:prefix", self.prefix.clone());
        if let Some(n) = self.max_sent {
            spec = spec.condition("s3:max-keys", n.to_string());
        }
        let spec = spec
            .delimiter_key(self.delimiter.as_deref())
            .response(|out: &T| (Value::Null, xml_len(out)));
        sent_query(spec, query)
    }

    /// A key, prefix or marker as the listing answers it (`encoding-type=url` or not).
    fn enc(&self, s: String) -> String {
        if self.url { url_encode(&s) } else { s }
    }
}

impl CairnS3 {
    pub(super) async fn list_objects_op(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let bucket = input.bucket.clone();
        let marker = input.marker.clone().unwrap_or_default();
        let q = Listing::new(
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
            input.max_keys,
            input.encoding_type.as_ref(),
        );
        let spec = q.spec("ListObjects", &bucket, &req.headers, req.uri.query());

        self.recorded(info, spec, move |c| {
            let found = objects::require_bucket(c, &bucket)?;
            q.refused.clone()?;
            let (prefix, delimiter, max, url) =
                (q.prefix.clone(), q.delimiter.clone(), q.max, q.url);
            let listing = objects::list(c, &bucket, &prefix, delimiter.as_deref(), &marker, max)?;
            let enc = |s: String| q.enc(s);
            // ListObjects (v1) always names each object's owner: the bucket's account, which
            // writes every object here.
            let owner = Some(owner_of(&found.account));
            Ok(ListObjectsOutput {
                name: Some(bucket),
                prefix: Some(enc(prefix)),
                marker: Some(enc(marker)),
                max_keys: Some(max as i32),
                is_truncated: Some(listing.truncated),
                // Only with a delimiter (the model says so); without one the last key listed
                // is the next marker.
                next_marker: (listing.truncated && delimiter.is_some())
                    .then(|| listing.last.clone().map(enc))
                    .flatten(),
                delimiter: delimiter.map(enc),
                encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
                contents: Some(
                    listing
                        .objects
                        .into_iter()
                        .map(|o| object_entry(o, &enc, owner.clone()))
                        .collect(),
                ),
                common_prefixes: common_prefixes(listing.common_prefixes, &enc),
                ..Default::default()
            })
        })
        .await
        .map(S3Response::new)
    }

    pub(super) async fn list_objects_v2_op(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let bucket = input.bucket.clone();
        let q = Listing::new(
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
            input.max_keys,
            input.encoding_type.as_ref(),
        );
        // A continuation token is the last key listed, sealed for this bucket with the
        // server's token key; one Cairn did not give fails inside the operation, so the call
        // is recorded.
        let scope = token_scope(&bucket);
        let after = match &input.continuation_token {
            Some(t) => self.token_key.open(&scope, t).ok_or_else(|| {
                ApiError::new(
                    ErrorKind::S3InvalidArgument,
                    "The continuation token provided is incorrect",
                )
            }),
            None => Ok(input.start_after.clone().unwrap_or_default()),
        };
        let key = self.token_key.clone();
        // CloudTrail names ListObjectsV2 calls `ListObjects`, with the `list-type=2` they sent.
        let spec = q.spec("ListObjects", &bucket, &req.headers, req.uri.query());

        self.recorded(info, spec, move |c| {
            let found = objects::require_bucket(c, &bucket)?;
            q.refused.clone()?;
            let (prefix, delimiter, max, url) =
                (q.prefix.clone(), q.delimiter.clone(), q.max, q.url);
            let listing = objects::list(c, &bucket, &prefix, delimiter.as_deref(), &after?, max)?;
            let enc = |s: String| q.enc(s);
            // ListObjectsV2 names owners only when asked (`fetch-owner=true`).
            let owner = (input.fetch_owner == Some(true)).then(|| owner_of(&found.account));
            let key_count = (listing.objects.len() + listing.common_prefixes.len()) as i32;
            Ok(ListObjectsV2Output {
                name: Some(bucket),
                prefix: Some(enc(prefix)),
                max_keys: Some(max as i32),
                key_count: Some(key_count),
                continuation_token: input.continuation_token,
                is_truncated: Some(listing.truncated),
                next_continuation_token: listing
                    .truncated
                    .then(|| listing.last.clone().map(|l| key.seal(&scope, &l)))
                    .flatten(),
                delimiter: delimiter.map(enc),
                encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
                start_after: input.start_after.map(enc),
                contents: Some(
                    listing
                        .objects
                        .into_iter()
                        .map(|o| object_entry(o, &enc, owner.clone()))
                        .collect(),
                ),
                common_prefixes: common_prefixes(listing.common_prefixes, &enc),
                ..Default::default()
            })
        })
        .await
        .map(S3Response::new)
    }
}

impl CairnS3 {
    /// ListObjectVersions: every object is the `null` version (see [`super::versions`]), so
    /// a bucket's versions are its objects, each the latest, with no delete markers; paged by
    /// `key-marker` (a `version-id-marker` needs one, and can only be `null`).
    pub(super) async fn list_object_versions_op(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let bucket = input.bucket.clone();
        let marker = input.key_marker.clone().unwrap_or_default();
        let q = Listing::new(
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
            input.max_keys,
            input.encoding_type.as_ref(),
        );
        let version_marker = match (&input.version_id_marker, &input.key_marker) {
            (Some(_), None) => Err(ApiError::new(
                ErrorKind::S3InvalidArgument,
                "A version-id marker cannot be specified without a key marker.",
            )),
            (Some(v), Some(_)) => super::versions::named(Some(v)).map(|_| ()),
            _ => Ok(()),
        };
        let spec = q.spec("ListObjectVersions", &bucket, &req.headers, req.uri.query());

        self.recorded(info, spec, move |c| {
            let found = objects::require_bucket(c, &bucket)?;
            q.refused.clone()?;
            version_marker?;
            let (prefix, delimiter, max, url) =
                (q.prefix.clone(), q.delimiter.clone(), q.max, q.url);
            let listing = objects::list(c, &bucket, &prefix, delimiter.as_deref(), &marker, max)?;
            let enc = |s: String| q.enc(s);
            let owner = owner_of(&found.account);
            let next = listing.truncated.then(|| listing.last.clone()).flatten();
            Ok(ListObjectVersionsOutput {
                name: Some(bucket),
                prefix: Some(enc(prefix)),
                key_marker: Some(enc(marker)),
                version_id_marker: input.version_id_marker,
                max_keys: Some(max as i32),
                is_truncated: Some(listing.truncated),
                next_version_id_marker: next.as_ref().map(|_| "null".to_owned()),
                next_key_marker: next.map(enc),
                delimiter: delimiter.map(enc),
                encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
                versions: Some(
                    listing
                        .objects
                        .into_iter()
                        .map(|o| version_entry(o, &enc, owner.clone()))
                        .collect(),
                ),
                common_prefixes: common_prefixes(listing.common_prefixes, &enc),
                ..Default::default()
            })
        })
        .await
        .map(S3Response::new)
    }
}

fn version_entry(o: ObjectRow, enc: &dyn Fn(String) -> String, owner: Owner) -> ObjectVersion {
    let (checksum_algorithm, checksum_type) = listed_checksum(&o);
    ObjectVersion {
        checksum_algorithm,
        checksum_type,
        owner: Some(owner),
        e_tag: Some(strong(&o.etag)),
        key: Some(enc(o.key)),
        last_modified: Some(timestamp(o.last_modified)),
        size: Some(o.size),
        storage_class: Some(ObjectVersionStorageClass::from_static(
            ObjectVersionStorageClass::STANDARD,
        )),
        is_latest: Some(true),
        version_id: Some("null".to_owned()),
        ..Default::default()
    }
}

/// Whether a listing asked for `encoding-type=url`; any other value is S3's
/// `InvalidArgument` "Invalid Encoding Method specified in Request" (checked inside the
/// call, so it is recorded).
pub(super) fn url_encoding(given: Option<&EncodingType>) -> (bool, Result<(), ApiError>) {
    match given.map(|e| e.as_str()) {
        None => (false, Ok(())),
        Some(EncodingType::URL) => (true, Ok(())),
        Some(_) => (
            false,
            Err(ApiError::new(
                ErrorKind::S3InvalidArgument,
                "Invalid Encoding Method specified in Request",
            )),
        ),
    }
}

/// What a ListObjectsV2 continuation token is bound to: its bucket.
fn token_scope(bucket: &str) -> String {
    format!("s3\nListObjectsV2\n{bucket}")
}

/// A listing's `CommonPrefixes`, each encoded as the listing asked.
pub(super) fn common_prefixes(
    prefixes: Vec<String>,
    enc: &dyn Fn(String) -> String,
) -> Option<Vec<CommonPrefix>> {
    Some(
        prefixes
            .into_iter()
            .map(|p| CommonPrefix {
                prefix: Some(enc(p)),
            })
            .collect(),
    )
}

/// An object owner as listings name it (the account, as GetBucketAcl names it).
fn owner_of(account: &str) -> Owner {
    Owner {
        display_name: Some(account.to_owned()),
        id: Some(account.to_owned()),
    }
}

/// A listed object's `ChecksumAlgorithm` and `ChecksumType`, when it was stored with a
/// checksum (the metadata is decoded only then).
fn listed_checksum(o: &ObjectRow) -> (Option<Vec<ChecksumAlgorithm>>, Option<ChecksumType>) {
    if !o.meta.contains("\"checksums\":{\"") {
        return (None, None);
    }
    let meta = cairn_core::objects::ObjectMeta::decode(&o.meta);
    if meta.checksums.is_empty() {
        return (None, None);
    }
    let algorithms = meta
        .checksums
        .keys()
        .map(|a| ChecksumAlgorithm::from(a.clone()))
        .collect();
    let kind = meta
        .checksum_type
        .unwrap_or_else(|| ChecksumType::FULL_OBJECT.to_owned());
    (Some(algorithms), Some(ChecksumType::from(kind)))
}

fn object_entry(o: ObjectRow, enc: &dyn Fn(String) -> String, owner: Option<Owner>) -> Object {
    let (checksum_algorithm, checksum_type) = listed_checksum(&o);
    Object {
        checksum_algorithm,
        checksum_type,
        owner,
        e_tag: Some(strong(&o.etag)),
        key: Some(enc(o.key)),
        last_modified: Some(timestamp(o.last_modified)),
        size: Some(o.size),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        ..Default::default()
    }
}
