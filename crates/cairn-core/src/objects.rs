//! Object semantics over the store: object records,
//! listing with prefixes and delimiters, and multipart uploads. Object bytes are the edge's
//! business (files named by opaque ids); this module only sees their ids, sizes and ETags.

use std::collections::BTreeMap;

use cairn_store::Connection;
use cairn_store::buckets::{self, Bucket};
use cairn_store::objects::{self, ObjectRow, PartRow, UploadRow};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Headers, user metadata and checksums kept with an object (persisted as JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`, as the HTTP date it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `x-amz-website-redirect-location`, kept and returned as S3 does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect: Option<String>,
    /// `x-amz-meta-*`, names lower-cased without the prefix.
    pub user: BTreeMap<String, String>,
    /// Checksums by algorithm (`CRC32`, `CRC32C`, `SHA1`, `SHA256`, `CRC64NVME`), base64.
    pub checksums: BTreeMap<String, String>,
    /// The additional checksum algorithm a multipart upload was created with (kept by the
    /// object it completes); absent for other objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// How `checksums` covers a multipart upload's object: `COMPOSITE` or `FULL_OBJECT`
    /// (`crate::multipart_checksums`); absent for other objects, whose checksums are of every
    /// byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// Number of parts for multipart objects.
    pub parts_count: Option<i64>,
    /// The (plaintext) size of each part of a multipart object, in order; empty for other
    /// objects and for multipart objects completed before sizes were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_sizes: Vec<i64>,
    /// The checksum of each part of a multipart object, in order (base64, of
    /// `checksum_algorithm`); empty when the parts had none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_checksums: Vec<String>,
    /// SSE-KMS: the object's bytes are sealed frames under this wrapped data key
    /// (`crate::sse`); absent for objects stored as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_kms: Option<crate::sse::SseKms>,
    /// SSE-S3: the object's bytes are sealed frames under this data key, wrapped by the master
    /// key (`crate::encryption`); absent for objects stored as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_s3: Option<crate::encryption::SseS3>,
    /// The object's tags, in the order they were given (`crate::object_tags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The multipart upload that completed into this object ([`completed_by`]); absent for
    /// other objects and copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_upload: Option<String>,
}

impl ObjectMeta {
    /// Decodes stored JSON.
    pub fn decode(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// Encodes for storage.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("metadata serialises")
    }

    /// The checksums a copy of this object keeps: a copy is one part, so a multipart
    /// object's composite checksum (of its parts' checksums) does not describe it; checksums
    /// of every byte do.
    pub fn copied_checksums(&self) -> BTreeMap<String, String> {
        if self.checksum_type.as_deref() == Some("COMPOSITE") {
            BTreeMap::new()
        } else {
            self.checksums.clone()
        }
    }
}

/// An object as readers see it.
#[derive(Clone, Debug)]
pub struct Object {
    /// The stored row.
    pub row: ObjectRow,
    /// Decoded metadata.
    pub meta: ObjectMeta,
}

/// The bucket, or `NoSuchBucket`.
pub fn require_bucket(conn: &Connection, bucket: &str) -> ApiResult<Bucket> {
    buckets::get(conn, bucket)?.ok_or_else(crate::buckets::no_such_bucket)
}

/// S3's `NoSuchKey`: its message names no key (S3's error body carries the key in a `<Key>`
/// element of its own).
fn no_such_key() -> ApiError {
    ApiError::new(ErrorKind::S3NoSuchKey, "The specified key does not exist.")
}

/// Validates an object key: 1–1024 bytes.
pub fn check_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 1024 {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Object keys must be 1 to 1024 bytes long.",
        ));
    }
    Ok(())
}

/// S3's limit on user-defined metadata (`x-amz-meta-*`): 2 KB, the UTF-8 bytes of every name
/// and value together.
pub const MAX_USER_METADATA_BYTES: usize = 2048;

/// Validates user-defined metadata against [`MAX_USER_METADATA_BYTES`].
pub fn check_user_metadata<'a>(
    pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> ApiResult<()> {
    let size: usize = pairs.into_iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_USER_METADATA_BYTES {
        return Err(ApiError::new(
            ErrorKind::S3MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size",
        ));
    }
    Ok(())
}

/// Reads an object's record.
pub fn get(conn: &Connection, bucket: &str, key: &str) -> ApiResult<Object> {
    let row = objects::get(conn, bucket, key)?.ok_or_else(no_such_key)?;
    let meta = ObjectMeta::decode(&row.meta);
    Ok(Object { row, meta })
}

/// The key's current record, if any (for conditions checked in the writing transaction).
pub fn current(conn: &Connection, bucket: &str, key: &str) -> ApiResult<Option<ObjectRow>> {
    Ok(objects::get(conn, bucket, key)?)
}

/// Stores an object record; returns the data file it replaced (to delete after commit).
pub fn put(conn: &Connection, ctx: &CallContext, row: ObjectRow) -> ApiResult<Option<String>> {
    check_key(&row.key)?;
    let row = ObjectRow {
        last_modified: ctx.now,
        ..row
    };
    Ok(objects::put(conn, &row)?)
}

/// [`put`], with the `x-amz-expiration` the stored object has under its bucket's lifecycle
/// rules ([`crate::lifecycle::expiration`]).
pub fn put_expiring(
    conn: &Connection,
    ctx: &CallContext,
    row: ObjectRow,
) -> ApiResult<(Option<String>, Option<String>)> {
    let stored = ObjectRow {
        last_modified: ctx.now,
        ..row.clone()
    };
    let replaced = put(conn, ctx, row)?;
    let expiration = crate::lifecycle::expiration(conn, &stored.bucket, &stored)?;
    Ok((replaced, expiration))
}

/// Deletes an object record (deleting a missing key succeeds, as in S3); returns its file.
pub fn delete(conn: &Connection, bucket: &str, key: &str) -> ApiResult<Option<String>> {
    Ok(objects::delete(conn, bucket, key)?)
}

/// One page of a listing.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Objects.
    pub objects: Vec<ObjectRow>,
    /// Common prefixes (with delimiter).
    pub common_prefixes: Vec<String>,
    /// Whether more follow.
    pub truncated: bool,
    /// The last key or prefix returned (the next marker).
    pub last: Option<String>,
}

/// Lists keys after `after` with `prefix`, rolling keys that contain `delimiter` after the
/// prefix into common prefixes; at most `max` entries (objects plus prefixes).
pub fn list(
    conn: &Connection,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    after: &str,
    max: usize,
) -> ApiResult<Listing> {
    let mut out = Listing::default();
    if max == 0 {
        return Ok(out);
    }
    let mut cursor = after.to_owned();
    // After a skip past a common prefix the next keys are often under another one, so a
    // small batch is read first (a batch of 1,000 would mostly be skipped), growing while
    // its keys are used.
    let mut batch_size = 1000;
    loop {
        let batch = objects::list(conn, bucket, prefix, &cursor, batch_size)?;
        if batch.is_empty() {
            return Ok(out);
        }
        batch_size = (batch_size * 4).min(1000);
        for row in batch {
            cursor = row.key.clone();
            let rolled = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                row.key[prefix.len()..]
                    .find(d)
                    .map(|i| row.key[..prefix.len() + i + d.len()].to_owned())
            });
            if let Some(cp) = &rolled
                && out.common_prefixes.last() == Some(cp)
            {
                continue;
            }
            // A common prefix given back as the marker (or token) ended the page before:
            // continue after its keys instead of listing it again.
            if let Some(cp) = rolled.as_ref().filter(|cp| *cp == after) {
                cursor = format!("{cp}\u{10FFFF}");
                break;
            }
            if out.objects.len() + out.common_prefixes.len() == max {
                out.truncated = true;
                return Ok(out);
            }
            match rolled {
                Some(cp) => {
                    out.last = Some(cp.clone());
                    out.common_prefixes.push(cp.clone());
                    // Skip every key under this prefix: continue after its last possible key.
                    cursor = format!("{cp}\u{10FFFF}");
                    batch_size = 16;
                    break;
                }
                None => {
                    out.last = Some(row.key.clone());
                    out.objects.push(row);
                }
            }
        }
    }
}

/// S3's `NoSuchUpload` for `id`, in S3's words, which do not repeat the id (s3four).
pub fn no_such_upload(_id: &str) -> ApiError {
    ApiError::new(
        ErrorKind::S3NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

/// Starts a multipart upload.
pub fn create_upload(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
    key: &str,
    upload_id: &str,
    meta: &ObjectMeta,
) -> ApiResult<()> {
    check_key(key)?;
    objects::create_upload(
        conn,
        &UploadRow {
            upload_id: upload_id.to_owned(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            initiated: ctx.now,
            meta: meta.encode(),
        },
    )?;
    Ok(())
}

/// The object a multipart upload completed, when the upload is gone and the object at its key
/// is still the one it made: a CompleteMultipartUpload sent again (an SDK retrying after a
/// lost answer) is answered with it, as S3 answers, instead of `NoSuchUpload`.
pub fn completed_by(
    conn: &Connection,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> ApiResult<Option<ObjectRow>> {
    if objects::get_upload(conn, upload_id)?.is_some() {
        return Ok(None);
    }
    Ok(objects::get(conn, bucket, key)?
        .filter(|row| ObjectMeta::decode(&row.meta).completed_upload.as_deref() == Some(upload_id)))
}

/// The upload, checked against its bucket and key.
pub fn upload(conn: &Connection, bucket: &str, key: &str, upload_id: &str) -> ApiResult<UploadRow> {
    objects::get_upload(conn, upload_id)?
        .filter(|u| u.bucket == bucket && u.key == key)
        .ok_or_else(|| no_such_upload(upload_id))
}

/// A part number must be 1–10000.
pub fn check_part_number(part_number: i64) -> ApiResult<()> {
    if !(1..=10_000).contains(&part_number) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    Ok(())
}

/// Records a part; returns the file of a part it replaced.
pub fn put_part(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part: PartRow,
) -> ApiResult<Option<String>> {
    upload(conn, bucket, key, upload_id)?;
    check_part_number(part.part_number)?;
    Ok(objects::put_part(
        conn,
        upload_id,
        &PartRow {
            last_modified: ctx.now,
            ..part
        },
    )?)
}

/// The parts a CompleteMultipartUpload names, checked against the uploaded ones: numbers
/// ascending, each present with the given ETag, every part but the last at least 5 MiB.
pub fn parts_for_completion(
    conn: &Connection,
    upload_id: &str,
    requested: &[(i64, String)],
) -> ApiResult<Vec<PartRow>> {
    if requested.is_empty() {
        // S3's answer to `<CompleteMultipartUpload/>` with no part (s3eight; as without a
        // body at all).
        return Err(ApiError::new(
            ErrorKind::S3MalformedXml,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    if requested.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidPartOrder,
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        ));
    }
    let uploaded = objects::list_parts(conn, upload_id)?;
    let mut chosen = Vec::with_capacity(requested.len());
    for (number, etag) in requested {
        let part = uploaded
            .iter()
            .find(|p| p.part_number == *number && p.etag == etag.trim_matches('"'))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::S3InvalidPart,
                    "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
                )
            })?;
        chosen.push(part.clone());
    }
    if chosen[..chosen.len() - 1]
        .iter()
        .any(|p| p.size < 5 * 1024 * 1024)
    {
        return Err(ApiError::new(
            ErrorKind::S3EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed object size.",
        ));
    }
    Ok(chosen)
}

/// The multipart ETag: MD5 over the parts' binary MD5s, then `-<count>`.
pub fn multipart_etag(parts: &[PartRow]) -> String {
    let mut joined = Vec::with_capacity(parts.len() * 16);
    for p in parts {
        joined.extend(hex::decode(&p.etag).unwrap_or_default());
    }
    format!("{}-{}", hex::encode(Md5::digest(&joined)), parts.len())
}

/// Finishes an upload (completed or aborted): removes its records and returns its parts'
/// files, which the caller deletes after the commit.
pub fn finish_upload(conn: &Connection, upload_id: &str) -> ApiResult<Vec<String>> {
    Ok(objects::delete_upload(conn, upload_id)?)
}
