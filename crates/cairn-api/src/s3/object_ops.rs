//! Object-level operations (data events): put, get, head, delete, batch delete. Every
//! failure after the caller is identified is recorded: the checks made before a body is
//! accepted ([`CairnS3::admit`]), the body itself ([`CairnS3::receive`]) and the operation.

use cairn_core::objects::{self, ObjectMeta};
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};

use super::CairnS3;
use super::bucket_ops::{host, timestamp};
use super::checksum_fields::{ChecksumFields, checksum_mode_enabled, set_checksums};
use super::event::Spec;
use super::integrity::{Declared, Headers, body_fault, checksum_headers};
use super::preconditions::{Unmodified, WriteConditions, check_conditions, span_of};
use crate::recording::CallInfo;
use cairn_buckets::local::{WriteError, Written};

/// The checksum S3 adds to an object uploaded (or copied from one) without any.
pub(super) const DEFAULT_CHECKSUM: &str = "CRC64NVME";

pub(super) fn strong(etag: &str) -> ETag {
    ETag::Strong(etag.to_owned())
}

/// `x-amz-server-side-encryption: AES256`: every object is encrypted at rest by default on
/// S3 since 2023-01-05, and its responses say so.
pub(super) fn sse_s3() -> Option<ServerSideEncryption> {
    Some(ServerSideEncryption::from_static(
        ServerSideEncryption::AES256,
    ))
}

/// Objects up to this size (plaintext) are read and opened whole on the reader thread that
/// looked them up, and answered from memory: one thread hand-off per GET instead of one
/// per file operation. Larger objects stream.
const SMALL_GET_BYTES: u64 = 256 * 1024;

/// A GetObject's bytes: read already, or a file to stream (sealed, with its data key).
enum ObjectBytes {
    Read(bytes::Bytes),
    Sealed(std::fs::File, cairn_core::kms::Secret),
    Plain(std::fs::File),
}

/// Reads and opens `span` of a small object now (on the blocking reader), or leaves a large
/// one to stream. A sealed small object whose frames do not open is an internal error,
/// never wrong bytes.
fn small_object_bytes(
    file: std::fs::File,
    size: u64,
    span: std::ops::Range<u64>,
    data_key: Option<cairn_core::kms::Secret>,
) -> Result<ObjectBytes, ApiError> {
    if size > SMALL_GET_BYTES {
        return Ok(match data_key {
            Some(k) => ObjectBytes::Sealed(file, k),
            None => ObjectBytes::Plain(file),
        });
    }
    let broken = |what: &str| {
        tracing::error!(what, "small object does not read");
        ApiError::new(ErrorKind::Internal, "object file unreadable")
    };
    // Sized from the file up front: growing the buffer by doubling costs reallocations and
    // copies on every GET.
    let stored_len = file
        .metadata()
        .map_or(0, |m| m.len().min(SMALL_GET_BYTES * 2));
    let mut stored = Vec::with_capacity(stored_len as usize + 1);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, SMALL_GET_BYTES * 2),
        &mut stored,
    )
    .map_err(|_| broken("read"))?;
    let plain = match data_key {
        Some(k) => cairn_core::sse::frames::open_all(k.expose(), &stored, size)
            .map_err(|_| broken("open"))?,
        None => stored,
    };
    let (start, end) = (span.start as usize, span.end as usize);
    if plain.len() as u64 != size || end > plain.len() || start > end {
        return Err(broken("length"));
    }
    Ok(ObjectBytes::Read(
        bytes::Bytes::from(plain).slice(start..end),
    ))
}

impl CairnS3 {
    /// Records a call that failed before reaching the store (and returns its S3 error).
    pub(super) async fn record_failure<T: Send + 'static>(
        &self,
        info: CallInfo,
        spec: Spec<T>,
        e: ApiError,
    ) -> S3Error {
        match self.recorded(info, spec, move |_| Err(e)).await {
            Err(err) => err,
            Ok(_) => unreachable!("the operation always fails"),
        }
    }

    /// The checks a call passes before it accepts a body: its permissions, then `check` on a
    /// reader (the bucket exists, the upload exists…). A failure is recorded with `spec`.
    pub(super) async fn admit<T, R, S, C>(&self, info: &CallInfo, spec: S, check: C) -> S3Result<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        S: Fn() -> Spec<T>,
        C: FnOnce(&cairn_store::Connection) -> cairn_core::error::ApiResult<R> + Send + 'static,
    {
        let outcome = match self
            .gate
            .check(&info.ctx, spec().permissions(info.signing.as_ref()))
            .await
        {
            Err(e) => Err(e),
            Ok(()) => self
                .store
                .read(move |c| Ok(check(c)))
                .await
                .unwrap_or_else(|e| Err(e.into())),
        };
        match outcome {
            Ok(r) => Ok(r),
            Err(e) => Err(self.record_failure(info.clone(), spec(), e).await),
        }
    }

    /// Streams an upload's body into a new durable file, computing the checksums `declared`
    /// names on the way. A body that fails is reported as S3 does (see [`body_fault`]).
    pub(super) async fn receive(
        &self,
        body: Option<StreamingBlob>,
        declared: &Declared,
    ) -> Result<(Written, Checksum), ApiError> {
        use futures::StreamExt;
        let mut hasher = declared.hasher();
        let result = match body {
            Some(body) => {
                let hashed = body.map(|chunk| {
                    if let Ok(bytes) = &chunk {
                        hasher.update(bytes);
                    }
                    chunk
                });
                self.files.write(hashed).await
            }
            None => {
                self.files
                    .write(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
                    .await
            }
        };
        match result {
            Ok(written) => Ok((written, hasher.finalize())),
            Err(WriteError::Body(m)) => {
                tracing::debug!(error = %m, "request body failed");
                Err(body_fault(&m))
            }
            Err(WriteError::Io(e)) => Err(ApiError::from_file_io(&e)),
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
        // How S3 seals the object (the headers, else the bucket's default rule); the headers
        // are recorded as sent.
        let requested = super::sse_ops::requested(
            input.server_side_encryption.as_ref(),
            input.ssekms_key_id.as_ref(),
            input.ssekms_encryption_context.as_ref(),
            input.bucket_key_enabled,
        );
        let sent = requested.clone();
        let (class, tagging) = (
            input.storage_class.as_ref().map(|c| c.as_str().to_owned()),
            input.tagging.clone(),
        );
        let if_headers = req.headers.clone();
        let spec = |n: i64| {
            let s = Spec::new("PutObject", false, true, Some(&bucket), Some(&key), &host)
                .bytes_in(n)
                .if_keys(&if_headers);
            super::sse_ops::sse_params(s, &sent).write_keys(
                acl.as_deref(),
                class.as_deref(),
                tagging.as_deref(),
            )
        };
        let (b, k) = (bucket.clone(), key.clone());
        let declared_len = input.content_length;
        let metadata = objects::check_user_metadata(input.metadata.iter().flatten());
        let conditions = WriteConditions::new(input.if_match.clone(), input.if_none_match.clone());
        let grants = super::integrity::any_grant!(input);
        let acl_ok = super::integrity::check_acl(acl.as_deref(), grants);
        let tags = cairn_core::object_tags::from_header(tagging.as_deref());
        let sse_c = super::sse_c::check_write(super::sse_c::sse_c_asked!(input));
        let class_ok = super::integrity::check_storage_class(class.as_deref())
            .and(super::integrity::check_object_lock(
                super::integrity::lock_asked!(input, &req.headers),
            ))
            .and(super::integrity::check_website_redirect(
                input.website_redirect_location.as_deref(),
            ));
        let (conditions, tags) = self
            .admit(
                &info,
                || spec(0),
                move |c| {
                    objects::require_bucket(c, &b)?;
                    objects::check_key(&k)?;
                    metadata?;
                    acl_ok?;
                    let tags = tags?;
                    sse_c?;
                    class_ok?;
                    let conditions = conditions?;
                    if !conditions.is_empty() {
                        conditions.check(objects::current(c, &b, &k)?.as_ref(), &k)?;
                    }
                    // AWS's largest single PUT is 5 GiB: refused before a byte is accepted.
                    if declared_len.is_some_and(|n| n > super::multipart_ops::MAX_PART_BYTES) {
                        return Err(ApiError::new(
                            ErrorKind::S3EntityTooLarge,
                            "Your proposed upload exceeds the maximum allowed size",
                        ));
                    }
                    Ok((conditions, tags))
                },
            )
            .await?;
        let declared = Declared::parse(Headers {
            content_md5: input.content_md5.as_deref(),
            checksums: checksum_headers(
                &input.checksum_crc32,
                &input.checksum_crc32c,
                &input.checksum_crc64nvme,
                &input.checksum_sha1,
                &input.checksum_sha256,
            ),
            algorithm: input.checksum_algorithm.as_ref().map(|a| a.as_str()),
            all: &req.headers,
        });
        let mut declared = match declared {
            Ok(d) => d,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        // An object uploaded without a checksum gets S3's default one, CRC64NVME (the S3 API
        // reference's `ChecksumCRC64NVME`: "or if it was uploaded without a checksum").
        declared.request(DEFAULT_CHECKSUM);
        // The sealing, then for SSE-KMS a data key from KMS as the caller and the body sealed
        // on its way in.
        // S3 answers SSE-KMS writes with the context they were given (PutObjectOutput's
        // `SSEKMSEncryptionContext`, as CopyObject and CreateMultipartUpload do).
        let context = input.ssekms_encryption_context.clone();
        let by_header = requested.algorithm.is_some();
        let sealing = match self.sealing(&bucket, requested).await {
            Ok(s) => s,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        let data_key = match self
            .upload_data_key(&info.ctx, &sealing, &bucket, &key)
            .await
        {
            Ok(k) => k,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        let mut seal = None;
        let (written, computed, plain) = if let Some((dk, sealed)) = data_key {
            match self.receive_sealed(input.body, &declared, &dk).await {
                Ok(up) => {
                    seal = Some(sealed);
                    (up.written, up.computed, Some((up.plain_md5, up.plain_len)))
                }
                Err(e) => return Err(self.record_failure(info, spec(0), e).await),
            }
        } else {
            match self.receive(input.body, &declared).await {
                Ok((w, c)) => (w, c, None),
                Err(e) => return Err(self.record_failure(info, spec(0), e).await),
            }
        };
        let plain_md5 = plain
            .as_ref()
            .map_or(written.md5_hex.clone(), |p| p.0.clone());
        let size = plain.as_ref().map_or(written.size, |p| p.1 as i64);
        if let Err(e) = super::integrity::check_decoded_length(&req.headers, size) {
            self.files.remove([written.file.clone()]).await;
            return Err(self.record_failure(info, spec(size), e).await);
        }
        let trailers = trailing.and_then(|t| t.take());
        let checksums = match declared.verify(&plain_md5, computed, trailers.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                self.files.remove([written.file.clone()]).await;
                return Err(self.record_failure(info, spec(size), e).await);
            }
        };
        let meta = ObjectMeta {
            content_type: stored_content_type(input.content_type),
            cache_control: input.cache_control,
            content_disposition: input.content_disposition,
            content_encoding: super::integrity::stored_encoding(input.content_encoding),
            content_language: input.content_language,
            expires: expires_text(input.expires.as_ref()),
            website_redirect: input.website_redirect_location,
            user: input.metadata.unwrap_or_default().into_iter().collect(),
            checksums,
            parts_count: None,
            tags,
            ..Default::default()
        }
        .sealed(seal);
        // SSE-S3 objects keep the MD5 of their data as ETag; SSE-KMS ones do not (as on S3).
        let etag = if meta.sse_kms.is_some() {
            written.md5_hex.clone()
        } else {
            plain_md5.clone()
        };
        let row = ObjectRow {
            bucket: bucket.clone(),
            key: key.clone(),
            file: written.file.clone(),
            size,
            etag: etag.clone(),
            last_modified: 0.0,
            meta: meta.encode(),
        };
        let ctx = info.ctx.clone();
        let applied = super::sse_ops::sse_applied(spec(size), &meta)
            .sse_applied(cairn_core::encryption::sse_applied(by_header, &sealing));
        let result = self
            .recorded(info, applied, move |c| {
                objects::require_bucket(c, &row.bucket)?;
                if !conditions.is_empty() {
                    let current = objects::current(c, &row.bucket, &row.key)?;
                    conditions.check_at_commit(current.as_ref(), &row.key)?;
                }
                objects::put_expiring(c, &ctx, row)
            })
            .await;
        let (result, expiration) = split_expiration(result);
        self.settle(written.file.clone(), result).await?;
        let sse = super::sse_ops::SseFields::of(&meta);
        let mut out = PutObjectOutput {
            e_tag: Some(strong(&etag)),
            size: Some(size),
            server_side_encryption: sse.algorithm,
            ssekms_encryption_context: context.filter(|_| sse.key_id.is_some()),
            ssekms_key_id: sse.key_id,
            bucket_key_enabled: sse.bucket_key,
            expiration,
            ..Default::default()
        };
        set_checksums!(out, ChecksumFields::of(&meta));
        Ok(S3Response::new(out))
    }

    pub(super) async fn get_object_op(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let info = self.call_info(&req).await?;
        let etags = super::preconditions::EtagHeaders::of(&req.headers);
        self.get_object_as(info, req.input, &host_of(&req.headers), etags)
            .await
    }

    /// GetObject for `info`'s caller: a signed request's, or a service's reading on a
    /// caller's behalf (CloudFormation's `TemplateURL`), authorized and recorded alike.
    pub(crate) async fn get_object_as(
        &self,
        info: CallInfo,
        input: GetObjectInput,
        host: &str,
        etags: super::preconditions::EtagHeaders,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let version_id = input.version_id.clone();
        let spec = Spec::new("GetObject", true, true, Some(&bucket), Some(&key), host)
            .version(version_id.as_deref())
            .part_number(input.part_number)
            .response_overrides(&super::response_overrides::ResponseOverrides::of_get(
                &input,
            ))
            .response(
                |(o, r, _, _): &(objects::Object, Option<std::ops::Range<u64>>, _, _)| {
                    let n = r.as_ref().map_or(o.row.size, |r| (r.end - r.start) as i64);
                    (serde_json::Value::Null, n)
                },
            );
        let files = self.files.clone();
        let evaluator = self.gate.evaluator();
        let slot = super::sse_ops::EventSlot::default();
        let (this, ctx, slot_op) = (self.clone(), info.ctx.clone(), slot.clone());
        let sse_c = super::sse_c::check_read(super::sse_c::sse_c_asked!(input));
        let unmodified = Unmodified::default();
        let seen = unmodified.clone();
        let got = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                let mut obj = current_version(c, (&bucket, &key), version_id.as_deref())
                    .map_err(|e| missing_key(evaluator.as_ref(), c, &ctx, &bucket, e))?;
                sse_c?;
                super::object_tagging_ops::hide_unreadable_tags(
                    evaluator.as_ref(),
                    c,
                    &ctx,
                    &mut obj,
                );
                check_conditions(
                    &obj.row,
                    &seen,
                    &etags,
                    input.if_modified_since.as_ref(),
                    input.if_unmodified_since.as_ref(),
                )?;
                let range = span_of(input.range.as_ref(), input.part_number, &obj)?;
                // Opened while the record is read (a later commit may delete the file).
                let file = super::copy_source::open_object_file(&files, &obj.row)?;
                let data_key =
                    this.open_object_key(c, &ctx, &obj.meta, (&bucket, &key), &slot_op)?;
                let span = range.clone().unwrap_or(0..obj.row.size as u64);
                let bytes = small_object_bytes(file, obj.row.size as u64, span, data_key)?;
                let expiration = cairn_core::lifecycle::expiration(c, &bucket, &obj.row)?;
                Ok((obj, range, bytes, expiration))
            })
            .await;
        self.append_slot(&slot).await?;
        let (obj, range, bytes, expiration) = got.map_err(|e| unmodified.answer(e))?;
        let full = 0..obj.row.size as u64;
        let span = range.clone().unwrap_or(full);
        let body = match bytes {
            ObjectBytes::Read(b) => {
                StreamingBlob::wrap(futures::stream::once(
                    async move { Ok::<_, std::io::Error>(b) },
                ))
            }
            ObjectBytes::Sealed(file, k) => StreamingBlob::wrap(
                super::sse_ops::decrypting(file, obj.row.size as u64, span.clone(), k)
                    .await
                    .map_err(S3Error::internal_error)?,
            ),
            ObjectBytes::Plain(file) => StreamingBlob::wrap(
                cairn_buckets::local::ObjectFiles::read_opened(file, span.clone())
                    .await
                    .map_err(S3Error::internal_error)?,
            ),
        };
        let sse = super::sse_ops::SseFields::of(&obj.meta);
        let mut out = GetObjectOutput {
            accept_ranges: Some("bytes".into()),
            body: Some(body),
            ssekms_key_id: sse.key_id,
            bucket_key_enabled: sse.bucket_key,
            content_length: Some((span.end - span.start) as i64),
            content_range: range.as_ref().map(|r| content_range(r, obj.row.size)),
            e_tag: Some(strong(&obj.row.etag)),
            last_modified: Some(timestamp(obj.row.last_modified)),
            server_side_encryption: sse.algorithm,
            version_id: input.version_id,
            expiration,
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
        out.expires = expires_of(&obj.meta);
        out.website_redirect_location = obj.meta.website_redirect.clone();
        // Only for a read of one part (the model: "only returned if you specify partNumber").
        out.parts_count = obj
            .meta
            .parts_count
            .filter(|_| input.part_number.is_some())
            .map(|n| n as i32);
        // `x-amz-tagging-count`, when the object has tags the caller may read.
        out.tag_count = Some(obj.meta.tags.len() as i32).filter(|n| *n > 0);
        // Checksums cover the whole object (or a part), so a ranged read carries none (as on
        // S3).
        if checksum_mode_enabled(input.checksum_mode.as_ref()) {
            set_checksums!(
                out,
                ChecksumFields::answered(&obj.meta, input.range.as_ref(), input.part_number)
            );
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
        let overrides = super::response_overrides::ResponseOverrides::of_head(&input);
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let version_id = input.version_id.clone();
        let spec = Spec::new(
            "HeadObject",
            true,
            true,
            Some(&bucket),
            Some(&key),
            &host_of(&req.headers),
        )
        .version(version_id.as_deref())
        .part_number(input.part_number)
        .response_overrides(&overrides);

        let (evaluator, ctx) = (self.gate.evaluator(), info.ctx.clone());
        let sse_c = super::sse_c::check_read(super::sse_c::sse_c_asked!(input));
        let overrides_ok = overrides.check();
        let unmodified = Unmodified::default();
        let seen = unmodified.clone();
        let etags = super::preconditions::EtagHeaders::of(&req.headers);
        let (obj, range, expiration) = self
            .recorded(info, spec, move |c| {
                overrides_ok?;
                objects::require_bucket(c, &bucket)?;
                let mut obj = current_version(c, (&bucket, &key), version_id.as_deref())
                    .map_err(|e| missing_key(evaluator.as_ref(), c, &ctx, &bucket, e))?;
                sse_c?;
                super::object_tagging_ops::hide_unreadable_tags(
                    evaluator.as_ref(),
                    c,
                    &ctx,
                    &mut obj,
                );
                check_conditions(
                    &obj.row,
                    &seen,
                    &etags,
                    input.if_modified_since.as_ref(),
                    input.if_unmodified_since.as_ref(),
                )?;
                // A range or part changes only the length (and the status), as on S3.
                let range = span_of(input.range.as_ref(), input.part_number, &obj)?;
                let expiration = cairn_core::lifecycle::expiration(c, &bucket, &obj.row)?;
                Ok((obj, range, expiration))
            })
            .await
            .map_err(|e| unmodified.answer(e))?;
        let sse = super::sse_ops::SseFields::of(&obj.meta);
        let mut out = HeadObjectOutput {
            accept_ranges: Some("bytes".into()),
            ssekms_key_id: sse.key_id,
            bucket_key_enabled: sse.bucket_key,
            content_length: Some(
                range
                    .as_ref()
                    .map_or(obj.row.size, |r| (r.end - r.start) as i64),
            ),
            content_range: range.as_ref().map(|r| content_range(r, obj.row.size)),
            e_tag: Some(strong(&obj.row.etag)),
            last_modified: Some(timestamp(obj.row.last_modified)),
            server_side_encryption: sse.algorithm,
            version_id: input.version_id,
            expiration,
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
        out.expires = expires_of(&obj.meta);
        overrides.apply_to_head(&mut out);
        out.website_redirect_location = obj.meta.website_redirect.clone();
        // Only for a read of one part (the model: "only returned if you specify partNumber").
        out.parts_count = obj
            .meta
            .parts_count
            .filter(|_| input.part_number.is_some())
            .map(|n| n as i32);
        if checksum_mode_enabled(input.checksum_mode.as_ref()) {
            set_checksums!(
                out,
                ChecksumFields::answered(&obj.meta, input.range.as_ref(), input.part_number)
            );
        }
        let mut resp = S3Response::new(out);
        // `x-amz-tagging-count` (the model's HeadObject `TagCount`; s3s's output has no field
        // for it).
        if !obj.meta.tags.is_empty() {
            resp.headers.insert(
                "x-amz-tagging-count",
                http::HeaderValue::from(obj.meta.tags.len()),
            );
        }
        if range.is_some() {
            // s3s answers every HeadObject 200; the marker asks for 206 (see `super::answer`).
            resp.extensions.insert(PartialContent);
        }
        Ok(resp)
    }
}

/// A response extension: the answer is `206 Partial Content` (a HeadObject of a range or
/// part, which s3s would answer 200).
#[derive(Clone, Copy, Debug)]
pub(super) struct PartialContent;

/// A read of a missing key: `NoSuchKey` only for a caller who may list the bucket
/// (`s3:ListBucket`); anyone else learns nothing and gets `AccessDenied`, as on S3.
pub(super) fn missing_key(
    evaluator: &dyn cairn_core::authz::Evaluator,
    conn: &cairn_store::Connection,
    ctx: &cairn_core::CallContext,
    bucket: &str,
    e: ApiError,
) -> ApiError {
    if e.kind != ErrorKind::S3NoSuchKey {
        return e;
    }
    let list =
        cairn_core::authz::Permission::new("s3:ListBucket", format!("arn:aws:s3:::{bucket}"))
            .under(cairn_core::authz::ResourcePolicy::Bucket(bucket.to_owned()));
    match evaluator.authorize(conn, ctx, &list) {
        Ok(()) => e,
        Err(denied) => denied,
    }
}

/// `Content-Range` of a ranged or part read.
fn content_range(r: &std::ops::Range<u64>, size: i64) -> String {
    format!("bytes {}-{}/{}", r.start, r.end.saturating_sub(1), size)
}

/// The object a read names: the current one, `NoSuchVersion` for a version Cairn never
/// issued (see [`super::versions`]).
pub(super) fn current_version(
    conn: &cairn_store::Connection,
    (bucket, key): (&str, &str),
    version_id: Option<&str>,
) -> Result<objects::Object, ApiError> {
    match super::versions::named(version_id)? {
        super::versions::Version::Current => objects::get(conn, bucket, key),
        super::versions::Version::Unknown => Err(super::versions::no_such_version()),
    }
}

pub(super) fn host_of(headers: &http::HeaderMap) -> String {
    headers
        .get(http::header::HOST)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// An `Expires` header as kept with the object: its HTTP-date text.
pub(super) fn expires_text(t: Option<&s3s::dto::Timestamp>) -> Option<String> {
    let mut buf = Vec::new();
    t?.format(s3s::dto::TimestampFormat::HttpDate, &mut buf)
        .ok()?;
    String::from_utf8(buf).ok()
}

/// The `Expires` header a stored object answers with.
pub(super) fn expires_of(meta: &ObjectMeta) -> Option<s3s::dto::Timestamp> {
    let text = meta.expires.as_deref()?;
    s3s::dto::Timestamp::parse(s3s::dto::TimestampFormat::HttpDate, text).ok()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn fill_headers(
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

/// A commit's result and the stored object's `x-amz-expiration`, apart.
pub(super) fn split_expiration<T>(
    r: S3Result<(T, Option<String>)>,
) -> (S3Result<T>, Option<String>) {
    match r {
        Ok((t, expiration)) => (Ok(t), expiration),
        Err(e) => (Err(e), None),
    }
}

/// The type an object is stored with: the request's, else `binary/octet-stream`, as S3 types
/// an object written without one, however it is written (PutObject, CopyObject with
/// `REPLACE`, CreateMultipartUpload) (s3four: the last two stored none).
pub(super) fn stored_content_type(requested: Option<impl ToString>) -> Option<String> {
    Some(requested.map_or_else(|| "binary/octet-stream".to_owned(), |c| c.to_string()))
}
