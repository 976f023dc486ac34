//! Object-level operations (data events): put, get, head, delete, batch delete, copy, list.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_core::objects::{self, ObjectMeta};
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use serde_json::json;

use super::bucket_ops::{host, timestamp};
use super::event::Spec;
use super::{CairnS3, s3_error};
use cairn_buckets::local::WriteError;
use cairn_core::authz::{Permission, ResourcePolicy, authorize_all};

/// Characters `encoding-type=url` leaves as they are: unreserved and `/`.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, KEY_ENCODE).to_string()
}

fn strong(etag: &str) -> ETag {
    ETag::Strong(etag.to_owned())
}

/// Collects the checksum headers a PutObject or UploadPart carried.
fn checksums(
    crc32: &Option<String>,
    crc32c: &Option<String>,
    crc64: &Option<String>,
    sha1: &Option<String>,
    sha256: &Option<String>,
) -> std::collections::BTreeMap<String, String> {
    [
        ("CRC32", crc32),
        ("CRC32C", crc32c),
        ("CRC64NVME", crc64),
        ("SHA1", sha1),
        ("SHA256", sha256),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
    .collect()
}

fn etag_matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

/// Applies If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since.
fn check_conditions(
    row: &ObjectRow,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Result<(), ApiError> {
    let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(row.last_modified as u64);
    let as_system =
        |t: &Timestamp| std::time::SystemTime::from(time::OffsetDateTime::from(t.clone()));
    let precondition = || {
        ApiError::new(
            ErrorKind::S3PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    let not_modified = || ApiError::new(ErrorKind::S3NotModified, "Not Modified");
    if let Some(c) = if_match
        && !etag_matches(c, &row.etag)
    {
        return Err(precondition());
    }
    if if_match.is_none()
        && let Some(t) = if_unmodified_since
        && modified > as_system(t)
    {
        return Err(precondition());
    }
    if let Some(c) = if_none_match
        && etag_matches(c, &row.etag)
    {
        return Err(not_modified());
    }
    if if_none_match.is_none()
        && let Some(t) = if_modified_since
        && modified <= as_system(t)
    {
        return Err(not_modified());
    }
    Ok(())
}

fn range_of(range: Option<&Range>, size: i64) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    match range {
        None => Ok(None),
        Some(r) => r.check(size as u64).map(Some).map_err(|_| {
            ApiError::new(
                ErrorKind::S3InvalidRange,
                "The requested range is not satisfiable",
            )
        }),
    }
}

pub(super) fn body_error(e: WriteError) -> S3Error {
    match e {
        WriteError::Body(m) => S3Error::with_message(S3ErrorCode::IncompleteBody, m),
        WriteError::Io(e) => S3Error::internal_error(e),
    }
}

impl CairnS3 {
    /// Records a call that failed before reaching the store (and returns its S3 error).
    pub(super) async fn record_failure<T: Send + 'static>(
        &self,
        info: crate::recording::CallInfo,
        spec: Spec<T>,
        e: ApiError,
    ) -> S3Error {
        match self.recorded(info, spec, move |_| Err(e)).await {
            Err(err) => err,
            Ok(_) => unreachable!("the operation always fails"),
        }
    }

    pub(super) async fn put_object_op(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let trailing = req.trailing_headers;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let acl = input.acl.as_ref().map(|a| a.as_str().to_owned());
        let spec = |n: i64| {
            let s =
                Spec::new("PutObject", false, true, Some(&bucket), Some(&key), &host).bytes_in(n);
            match &acl {
                Some(a) => s.condition("s3:x-amz-acl", a.clone()),
                None => s,
            }
        };
        let (b, k) = (bucket.clone(), key.clone());
        if let Err(e) = self.gate.check(&info.ctx, spec(0).permissions()).await {
            return Err(self.record_failure(info, spec(0), e).await);
        }
        let allowed = self
            .store
            .read(move |c| Ok(objects::require_bucket(c, &b).and_then(|_| objects::check_key(&k))))
            .await
            .map_err(|e| s3_error(&e.into()))?;
        if let Err(e) = allowed {
            return Err(self.record_failure(info, spec(0), e).await);
        }
        let written = match input.body {
            Some(body) => self.files.write(body).await.map_err(body_error)?,
            None => self
                .files
                .write(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
                .await
                .map_err(body_error)?,
        };
        if let Some(md5) = &input.content_md5 {
            let declared = STANDARD.decode(md5).map(hex::encode).unwrap_or_default();
            if declared != written.md5_hex {
                self.files.remove([written.file.clone()]).await;
                let e = ApiError::new(
                    ErrorKind::S3BadDigest,
                    "The Content-MD5 you specified did not match what we received.",
                );
                return Err(self.record_failure(info, spec(written.size), e).await);
            }
        }
        let mut meta = ObjectMeta {
            content_type: input.content_type.map(|c| c.to_string()),
            cache_control: input.cache_control,
            content_disposition: input.content_disposition,
            content_encoding: input.content_encoding,
            content_language: input.content_language,
            user: input.metadata.unwrap_or_default().into_iter().collect(),
            checksums: checksums(
                &input.checksum_crc32,
                &input.checksum_crc32c,
                &input.checksum_crc64nvme,
                &input.checksum_sha1,
                &input.checksum_sha256,
            ),
            parts_count: None,
        };
        // Checksums sent as aws-chunked trailers (verified by s3s) are kept like header ones.
        if let Some(trailers) = trailing.and_then(|t| t.take()) {
            for (algo, header) in [
                ("CRC32", "x-amz-checksum-crc32"),
                ("CRC32C", "x-amz-checksum-crc32c"),
                ("CRC64NVME", "x-amz-checksum-crc64nvme"),
                ("SHA1", "x-amz-checksum-sha1"),
                ("SHA256", "x-amz-checksum-sha256"),
            ] {
                if let Some(v) = trailers.get(header).and_then(|v| v.to_str().ok()) {
                    meta.checksums.insert(algo.to_owned(), v.to_owned());
                }
            }
        }
        let row = ObjectRow {
            bucket: bucket.clone(),
            key: key.clone(),
            file: written.file.clone(),
            size: written.size,
            etag: written.md5_hex.clone(),
            last_modified: 0.0,
            meta: meta.encode(),
        };
        let ctx = info.ctx.clone();
        let result = self
            .recorded(info, spec(written.size), move |c| {
                objects::require_bucket(c, &row.bucket)?;
                objects::put(c, &ctx, row)
            })
            .await;
        self.settle(written.file.clone(), result).await?;
        let mut out = PutObjectOutput {
            e_tag: Some(strong(&written.md5_hex)),
            size: Some(written.size),
            ..Default::default()
        };
        for (algo, value) in &meta.checksums {
            match algo.as_str() {
                "CRC32" => out.checksum_crc32 = Some(value.clone()),
                "CRC32C" => out.checksum_crc32c = Some(value.clone()),
                "CRC64NVME" => out.checksum_crc64nvme = Some(value.clone()),
                "SHA1" => out.checksum_sha1 = Some(value.clone()),
                "SHA256" => out.checksum_sha256 = Some(value.clone()),
                _ => {}
            }
        }
        Ok(S3Response::new(out))
    }

    pub(super) async fn get_object_op(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let spec = Spec::new(
            "GetObject",
            true,
            true,
            Some(&bucket),
            Some(&key),
            &host_of(&req.headers),
        )
        .response(|(o, r): &(objects::Object, Option<std::ops::Range<u64>>)| {
            let n = r.as_ref().map_or(o.row.size, |r| (r.end - r.start) as i64);
            (serde_json::Value::Null, n)
        });

        let (obj, range) = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                let obj = objects::get(c, &bucket, &key)?;
                check_conditions(
                    &obj.row,
                    input.if_match.as_ref(),
                    input.if_none_match.as_ref(),
                    input.if_modified_since.as_ref(),
                    input.if_unmodified_since.as_ref(),
                )?;
                let range = range_of(input.range.as_ref(), obj.row.size)?;
                Ok((obj, range))
            })
            .await?;
        let full = 0..obj.row.size as u64;
        let span = range.clone().unwrap_or(full);
        let stream = self
            .files
            .read(&obj.row.file, span.clone())
            .await
            .map_err(|_| {
                S3Error::with_message(S3ErrorCode::NoSuchKey, "The specified key does not exist.")
            })?;
        let mut out = GetObjectOutput {
            accept_ranges: Some("bytes".into()),
            body: Some(StreamingBlob::wrap(stream)),
            content_length: Some((span.end - span.start) as i64),
            content_range: range.as_ref().map(|r| {
                format!(
                    "bytes {}-{}/{}",
                    r.start,
                    r.end.saturating_sub(1),
                    obj.row.size
                )
            }),
            e_tag: Some(strong(&obj.row.etag)),
            last_modified: Some(timestamp(obj.row.last_modified)),
            ..Default::default()
        };
        fill_headers(
            &obj.meta,
            &mut out.content_type,
            &mut out.cache_control,
            &mut out.content_disposition,
            &mut out.content_encoding,
            &mut out.content_language,
            &mut out.metadata,
        );
        out.parts_count = obj.meta.parts_count.map(|n| n as i32);
        // Checksums cover the whole object, so a ranged read carries none (as on S3).
        if range.is_none()
            && input
                .checksum_mode
                .as_ref()
                .is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
        {
            out.checksum_crc32 = obj.meta.checksums.get("CRC32").cloned();
            out.checksum_crc32c = obj.meta.checksums.get("CRC32C").cloned();
            out.checksum_sha1 = obj.meta.checksums.get("SHA1").cloned();
            out.checksum_sha256 = obj.meta.checksums.get("SHA256").cloned();
        }
        let mut resp = S3Response::new(out);
        if range.is_some() {
            resp.status = Some(http::StatusCode::PARTIAL_CONTENT);
        }
        Ok(resp)
    }

    pub(super) async fn head_object_op(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let spec = Spec::new(
            "HeadObject",
            true,
            true,
            Some(&bucket),
            Some(&key),
            &host_of(&req.headers),
        );

        let obj = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                let obj = objects::get(c, &bucket, &key)?;
                check_conditions(
                    &obj.row,
                    input.if_match.as_ref(),
                    input.if_none_match.as_ref(),
                    input.if_modified_since.as_ref(),
                    input.if_unmodified_since.as_ref(),
                )?;
                Ok(obj)
            })
            .await?;
        let mut out = HeadObjectOutput {
            accept_ranges: Some("bytes".into()),
            content_length: Some(obj.row.size),
            e_tag: Some(strong(&obj.row.etag)),
            last_modified: Some(timestamp(obj.row.last_modified)),
            ..Default::default()
        };
        fill_headers(
            &obj.meta,
            &mut out.content_type,
            &mut out.cache_control,
            &mut out.content_disposition,
            &mut out.content_encoding,
            &mut out.content_language,
            &mut out.metadata,
        );
        out.parts_count = obj.meta.parts_count.map(|n| n as i32);
        if input
            .checksum_mode
            .as_ref()
            .is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
        {
            out.checksum_crc32 = obj.meta.checksums.get("CRC32").cloned();
            out.checksum_crc32c = obj.meta.checksums.get("CRC32C").cloned();
            out.checksum_sha1 = obj.meta.checksums.get("SHA1").cloned();
            out.checksum_sha256 = obj.meta.checksums.get("SHA256").cloned();
        }
        Ok(S3Response::new(out))
    }

    pub(super) async fn delete_object_op(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let spec = Spec::new(
            "DeleteObject",
            false,
            true,
            Some(&bucket),
            Some(&key),
            &host(&req),
        );

        let removed = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                objects::delete(c, &bucket, &key)
            })
            .await?;
        self.files.remove(removed).await;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    pub(super) async fn delete_objects_op(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let info = self.call_info(&req).await?;
        let bucket = req.input.bucket.clone();
        let keys: Vec<String> = req
            .input
            .delete
            .objects
            .iter()
            .map(|o| o.key.clone())
            .collect();
        let quiet = req.input.delete.quiet.unwrap_or(false);
        if keys.len() > 1000 {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "A batch delete may name at most 1000 keys.",
            ));
        }
        let spec = Spec::new(
            "DeleteObjects",
            false,
            true,
            Some(&bucket),
            None,
            &host(&req),
        )
        .param("delete", json!(""));
        let ctx = info.ctx.clone();
        let evaluator = self.gate.evaluator();
        let outcome = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                let mut deleted = Vec::new();
                let mut errors = Vec::new();
                let mut files = Vec::new();
                for key in keys {
                    // Each key is authorized on its own, as on AWS: a denied key is an
                    // error entry, the others still go.
                    let permission =
                        Permission::new("s3:DeleteObject", format!("arn:aws:s3:::{bucket}/{key}"))
                            .under(ResourcePolicy::Bucket(bucket.clone()));
                    match authorize_all(evaluator.as_ref(), c, &ctx, &[permission])
                        .and_then(|_| objects::delete(c, &bucket, &key))
                    {
                        Ok(file) => {
                            files.extend(file);
                            deleted.push(key);
                        }
                        Err(e) => errors.push((key, e)),
                    }
                }
                Ok((deleted, errors, files))
            })
            .await?;
        let (deleted, errors, files) = outcome;
        self.files.remove(files).await;
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!quiet).then(|| {
                deleted
                    .into_iter()
                    .map(|k| DeletedObject {
                        key: Some(k),
                        ..Default::default()
                    })
                    .collect()
            }),
            errors: (!errors.is_empty()).then(|| {
                errors
                    .into_iter()
                    .map(|(k, e)| {
                        let (code, _) = crate::errors::code_and_status(e.kind);
                        Error {
                            code: Some(code.to_owned()),
                            key: Some(k),
                            message: Some(e.message),
                            version_id: None,
                        }
                    })
                    .collect()
            }),
            ..Default::default()
        }))
    }

    pub(super) async fn copy_object_op(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let CopySource::Bucket {
            bucket: src_bucket,
            key: src_key,
            ..
        } = &input.copy_source
        else {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "Copying from access points is not supported.",
            ));
        };
        let (src_bucket, src_key) = (src_bucket.to_string(), src_key.to_string());
        let spec = |n: i64| {
            Spec::new("CopyObject", false, true, Some(&bucket), Some(&key), &host)
                .param(
                    "x-amz-copy-source",
                    json!(format!("{src_bucket}/{src_key}")),
                )
                .also_needs(
                    Permission::new(
                        "s3:GetObject",
                        format!("arn:aws:s3:::{src_bucket}/{src_key}"),
                    )
                    .under(ResourcePolicy::Bucket(src_bucket.clone())),
                )
                .bytes_in(n)
        };
        if let Err(e) = self.gate.check(&info.ctx, spec(0).permissions()).await {
            return Err(self.record_failure(info, spec(0), e).await);
        }
        let (sb, sk, db) = (src_bucket.clone(), src_key.clone(), bucket.clone());
        let source = self
            .store
            .read(move |c| {
                Ok(objects::require_bucket(c, &sb)
                    .and_then(|_| objects::require_bucket(c, &db))
                    .and_then(|_| objects::get(c, &sb, &sk)))
            })
            .await
            .map_err(|e| s3_error(&e.into()))?;
        let source = match source {
            Ok(s) => s,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        if let Some(c) = input.copy_source_if_match.as_ref()
            && !etag_matches(c, &source.row.etag)
        {
            let e = ApiError::new(
                ErrorKind::S3PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            );
            return Err(self.record_failure(info, spec(0), e).await);
        }
        let written = self
            .files
            .concat(std::slice::from_ref(&source.row.file))
            .await
            .map_err(body_error)?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let meta = if replace {
            ObjectMeta {
                content_type: input.content_type.map(|c| c.to_string()),
                cache_control: input.cache_control,
                content_disposition: input.content_disposition,
                content_encoding: input.content_encoding,
                content_language: input.content_language,
                user: input.metadata.unwrap_or_default().into_iter().collect(),
                checksums: source.meta.checksums.clone(),
                parts_count: None,
            }
        } else {
            source.meta.clone()
        };
        let row = ObjectRow {
            bucket: bucket.clone(),
            key: key.clone(),
            file: written.file.clone(),
            size: written.size,
            etag: source.row.etag.clone(),
            last_modified: 0.0,
            meta: meta.encode(),
        };
        let ctx = info.ctx.clone();
        let now = ctx.now;
        let committed = self
            .recorded(info, spec(written.size), move |c| {
                objects::require_bucket(c, &row.bucket)?;
                objects::put(c, &ctx, row)
            })
            .await;
        self.settle(written.file, committed).await?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(strong(&source.row.etag)),
                last_modified: Some(timestamp(now)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    pub(super) async fn list_objects_op(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let bucket = input.bucket.clone();
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone();
        let marker = input.marker.clone().unwrap_or_default();
        let max = input.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let spec = Spec::new(
            "ListObjects",
            true,
            true,
            Some(&bucket),
            None,
            &host_of(&req.headers),
        )
        .param("prefix", json!(prefix))
        .param("marker", json!(marker))
        .condition("s3:prefix", prefix.clone())
        .condition("s3:max-keys", max.to_string());

        let (b, p, d, m) = (
            bucket.clone(),
            prefix.clone(),
            delimiter.clone(),
            marker.clone(),
        );
        let listing = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &b)?;
                objects::list(c, &b, &p, d.as_deref(), &m, max)
            })
            .await?;
        let enc = |s: String| if url { url_encode(&s) } else { s };
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(bucket),
            prefix: Some(enc(prefix)),
            marker: Some(enc(marker)),
            max_keys: Some(max as i32),
            is_truncated: Some(listing.truncated),
            next_marker: listing
                .truncated
                .then(|| listing.last.clone().map(enc))
                .flatten(),
            delimiter: delimiter.map(enc),
            encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
            contents: Some(
                listing
                    .objects
                    .into_iter()
                    .map(|o| object_entry(o, &enc))
                    .collect(),
            ),
            common_prefixes: Some(
                listing
                    .common_prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc(p)),
                    })
                    .collect(),
            ),
            ..Default::default()
        }))
    }

    pub(super) async fn list_objects_v2_op(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let info = self.call_info(&req).await?;
        let input = req.input;
        let bucket = input.bucket.clone();
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone();
        let max = input.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let after = match &input.continuation_token {
            Some(t) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            {
                Some(k) => k,
                None => {
                    return Err(S3Error::with_message(
                        S3ErrorCode::InvalidArgument,
                        "The continuation token provided is incorrect",
                    ));
                }
            },
            None => input.start_after.clone().unwrap_or_default(),
        };
        let spec = Spec::new(
            "ListObjects",
            true,
            true,
            Some(&bucket),
            None,
            &host_of(&req.headers),
        )
        .param("list-type", json!("2"))
        .param("prefix", json!(prefix))
        .condition("s3:prefix", prefix.clone())
        .condition("s3:max-keys", max.to_string());

        let (b, p, d) = (bucket.clone(), prefix.clone(), delimiter.clone());
        let listing = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &b)?;
                objects::list(c, &b, &p, d.as_deref(), &after, max)
            })
            .await?;
        let enc = |s: String| if url { url_encode(&s) } else { s };
        let key_count = (listing.objects.len() + listing.common_prefixes.len()) as i32;
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(bucket),
            prefix: Some(enc(prefix)),
            max_keys: Some(max as i32),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            is_truncated: Some(listing.truncated),
            next_continuation_token: listing
                .truncated
                .then(|| {
                    listing
                        .last
                        .clone()
                        .map(|l| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(l))
                })
                .flatten(),
            delimiter: delimiter.map(enc),
            encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
            start_after: input.start_after.map(enc),
            contents: Some(
                listing
                    .objects
                    .into_iter()
                    .map(|o| object_entry(o, &enc))
                    .collect(),
            ),
            common_prefixes: Some(
                listing
                    .common_prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc(p)),
                    })
                    .collect(),
            ),
            ..Default::default()
        }))
    }
}

fn object_entry(o: ObjectRow, enc: &dyn Fn(String) -> String) -> Object {
    Object {
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

fn host_of(headers: &http::HeaderMap) -> String {
    headers
        .get(http::header::HOST)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn fill_headers(
    meta: &ObjectMeta,
    content_type: &mut Option<ContentType>,
    cache_control: &mut Option<String>,
    content_disposition: &mut Option<String>,
    content_encoding: &mut Option<String>,
    content_language: &mut Option<String>,
    metadata: &mut Option<Metadata>,
) {
    *content_type = meta.content_type.clone();
    *cache_control = meta.cache_control.clone();
    *content_disposition = meta.content_disposition.clone();
    *content_encoding = meta.content_encoding.clone();
    *content_language = meta.content_language.clone();
    if !meta.user.is_empty() {
        *metadata = Some(meta.user.clone().into_iter().collect());
    }
}
