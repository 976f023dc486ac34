//! CopyObject (a data event on the destination that also needs `s3:GetObject` on the
//! source). The copy is sealed as a PutObject would be: the request's SSE headers, else the
//! destination bucket's default rule; the source's encryption is not carried over (as on S3).
//! An SSE-KMS source is opened with `Decrypt` as the caller, and an SSE-KMS destination gets
//! a data key from `GenerateDataKey` as the caller (both recorded, via S3); SSE-S3 keys are
//! Cairn's own. The bytes stream through a few frames of memory, opened and sealed again
//! under the copy's own data key.

use cairn_core::objects::{self, ObjectMeta};
use cairn_core::{ApiError, ErrorKind};
use cairn_store::objects::ObjectRow;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::CairnS3;
use super::bucket_ops::{host, timestamp};
use super::copy_source::{Source, open_object_file, source_conditions, source_record};
use super::event::Spec;
use super::object_ops::strong;
use super::preconditions::WriteConditions;
use super::sse_ops::{SseFields, requested, sse_applied};
use cairn_core::encryption::{Seal, Sealing};

/// AWS's largest copy source for CopyObject (larger objects are copied with UploadPartCopy).
const MAX_COPY_SOURCE_BYTES: i64 = 5 * 1024 * 1024 * 1024;

impl CairnS3 {
    pub(super) async fn copy_object_op(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let bare = || Spec::new("CopyObject", false, true, Some(&bucket), Some(&key), &host);
        let src = match Source::of(&input.copy_source) {
            Ok(s) => s,
            Err(e) => return Err(self.record_failure(info, bare(), e).await),
        };
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let directive_ok = match input.metadata_directive.as_ref().map(|d| d.as_str()) {
            None | Some(MetadataDirective::COPY | MetadataDirective::REPLACE) => Ok(()),
            Some(_) => Err(ApiError::new(
                ErrorKind::S3InvalidArgument,
                "Unknown metadata directive.",
            )),
        };
        // The copy's tags: the source's (`COPY`, the default) or the header's (`REPLACE`).
        let new_tags = match input.tagging_directive.as_ref().map(|d| d.as_str()) {
            None | Some(TaggingDirective::COPY) => Ok(None),
            Some(TaggingDirective::REPLACE) => {
                cairn_core::object_tags::from_header(input.tagging.as_deref()).map(Some)
            }
            Some(_) => Err(ApiError::new(
                ErrorKind::S3InvalidArgument,
                "Unknown tagging directive.",
            )),
        };
        let sse_c = super::sse_c::check_write(super::sse_c::sse_c_asked!(input));
        let source_sse_c = super::sse_c::check_read(super::sse_c::copy_source_sse_c_asked!(input));
        // `x-amz-checksum-algorithm`: the copy's checksum is computed anew with it.
        let (algorithm, algorithm_ok) =
            super::integrity::copy_algorithm(input.checksum_algorithm.as_ref().map(|a| a.as_str()));
        let grants = super::integrity::any_grant!(input);
        let acl_ok = super::integrity::check_acl(input.acl.as_ref().map(|a| a.as_str()), grants);
        let same = src.bucket == bucket && src.key == key;
        let wanted = requested(
            input.server_side_encryption.as_ref(),
            input.ssekms_key_id.as_ref(),
            input.ssekms_encryption_context.as_ref(),
            input.bucket_key_enabled,
        );
        // A copy sends no body: nothing is transferred in, whatever the source's size. The
        // encryption headers are recorded as sent.
        let sent = wanted.clone();
        let directive = input
            .metadata_directive
            .as_ref()
            .map(|d| d.as_str().to_owned());
        let storage_class = input.storage_class.as_ref().map(|c| c.as_str().to_owned());
        let class_ok = super::integrity::check_storage_class(storage_class.as_deref())
            .and(super::integrity::check_object_lock(
                super::integrity::lock_asked!(input, &req.headers),
            ))
            .and(super::integrity::check_website_redirect(
                input.website_redirect_location.as_deref(),
            ));
        let acl = input.acl.as_ref().map(|a| a.as_str().to_owned());
        // The header's tags count only when they replace the source's.
        let tagging = input.tagging.clone().filter(|_| {
            input
                .tagging_directive
                .as_ref()
                .is_some_and(|d| d.as_str() == TaggingDirective::REPLACE)
        });
        let if_headers = req.headers.clone();
        let spec = || {
            let s = super::sse_ops::sse_params(src.read_by(bare().if_keys(&if_headers)), &sent);
            let s = match &directive {
                Some(d) => s.condition("s3:x-amz-metadata-directive", d.clone()),
                None => s,
            };
            s.write_keys(acl.as_deref(), storage_class.as_deref(), tagging.as_deref())
        };
        // Changing only the encryption is a legal copy onto itself.
        // So is changing only the checksum (the S3 user guide: copy an object to change its
        // checksum algorithm).
        // So is setting a website redirect (it is never copied, so a copy in place is how an
        // object's is changed) or another storage class (every object is kept as STANDARD).
        let changes_in_place = !wanted.is_empty()
            || algorithm.is_some()
            || input.website_redirect_location.is_some()
            || storage_class.as_deref().is_some_and(|c| c != "STANDARD");
        let (sb, sk, sv, db) = (
            src.bucket.clone(),
            src.key.clone(),
            src.version,
            bucket.clone(),
        );
        let conditions = source_conditions!(input);
        // s3s's CopyObject input does not carry the destination's conditions: read the headers.
        let destination = WriteConditions::from_headers(&req.headers);
        let (dk, files) = (key.clone(), self.files.clone());
        let metadata = if replace {
            objects::check_user_metadata(input.metadata.iter().flatten())
        } else {
            Ok(())
        };
        let (source, source_file, destination, new_tags) = self
            .admit(
                &info,
                &spec,
                move |c| {
                    objects::require_bucket(c, &sb)?;
                    objects::require_bucket(c, &db)?;
                    metadata?;
                    directive_ok?;
                    acl_ok?;
                    let new_tags = new_tags?;
                    sse_c?;
                    class_ok?;
                    algorithm_ok?;
                    let destination = destination?;
                    let source = source_record(c, (&sb, &sk, sv))?;
                    source_sse_c?;
                    conditions.check(&source.row)?;
                    if !destination.is_empty() {
                        destination.check(objects::current(c, &db, &dk)?.as_ref(), &dk)?;
                    }
                    if same && !replace && !changes_in_place {
                        return Err(ApiError::new(
                            ErrorKind::S3InvalidRequest,
                            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
                        ));
                    }
                    if source.row.size > MAX_COPY_SOURCE_BYTES {
                        return Err(ApiError::new(
                            ErrorKind::S3InvalidRequest,
                            format!(
                                "The specified copy source is larger than the maximum allowable size for a copy source: {MAX_COPY_SOURCE_BYTES}"
                            ),
                        ));
                    }
                    let file = open_object_file(&files, &source.row)?;
                    Ok((source, file, destination, new_tags))
                },
            )
            .await?;
        let by_header = wanted.algorithm.is_some();
        let sealing = match self.sealing(&bucket, wanted).await {
            Ok(s) => s,
            Err(e) => return Err(self.record_failure(info, spec(), e).await),
        };
        let placed = match self
            .place_copy(
                &info.ctx,
                (&source, source_file),
                &sealing,
                (&bucket, &key),
                algorithm.as_deref(),
            )
            .await
        {
            Ok(p) => p,
            Err(e) => return Err(self.record_failure(info, spec(), e).await),
        };
        let tags = new_tags.unwrap_or_else(|| source.meta.tags.clone());
        // A checksum asked for replaces the source's; else the source's are kept.
        let copied = match source.meta.copied_checksums() {
            c if c.is_empty() || algorithm.is_some() => placed.checksums.clone(),
            c => c,
        };
        // A copy's redirect is the request's only: S3 never copies the source's.
        let redirect = input.website_redirect_location.clone();
        let meta = if replace {
            ObjectMeta {
                website_redirect: redirect,
                content_type: super::object_ops::stored_content_type(input.content_type),
                cache_control: input.cache_control,
                content_disposition: input.content_disposition,
                content_encoding: super::integrity::stored_encoding(input.content_encoding),
                content_language: input.content_language,
                expires: super::object_ops::expires_text(input.expires.as_ref()),
                user: input.metadata.unwrap_or_default().into_iter().collect(),
                checksums: copied.clone(),
                parts_count: None,
                tags,
                ..Default::default()
            }
            .sealed(placed.seal.clone())
        } else {
            ObjectMeta {
                checksums: copied,
                checksum_algorithm: None,
                checksum_type: None,
                parts_count: None,
                part_sizes: Vec::new(),
                part_checksums: Vec::new(),
                tags,
                completed_upload: None,
                website_redirect: redirect,
                ..source.meta.clone()
            }
            .sealed(placed.seal.clone())
        };
        let row = ObjectRow {
            bucket: bucket.clone(),
            key: key.clone(),
            file: placed.file.clone(),
            size: source.row.size,
            etag: placed.etag.clone(),
            last_modified: 0.0,
            meta: meta.encode(),
        };
        let ctx = info.ctx.clone();
        let now = ctx.now;
        let committed = self
            .recorded(
                info,
                sse_applied(spec(), &meta)
                    .sse_applied(cairn_core::encryption::sse_applied(by_header, &sealing)),
                move |c| {
                    objects::require_bucket(c, &row.bucket)?;
                    if !destination.is_empty() {
                        let current = objects::current(c, &row.bucket, &row.key)?;
                        destination.check_at_commit(current.as_ref(), &row.key)?;
                    }
                    objects::put_expiring(c, &ctx, row)
                },
            )
            .await;
        let (committed, expiration) = super::object_ops::split_expiration(committed);
        self.settle(placed.file, committed).await?;
        let sse = SseFields::of(&meta);
        // The copy's checksums, as CopyObjectResult carries them.
        let mut result = CopyObjectResult {
            e_tag: Some(strong(&placed.etag)),
            last_modified: Some(timestamp(now)),
            ..Default::default()
        };
        super::checksum_fields::set_checksums!(
            result,
            super::checksum_fields::ChecksumFields::of(&meta)
        );
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(result),
            server_side_encryption: sse.algorithm,
            ssekms_key_id: sse.key_id,
            ssekms_encryption_context: input.ssekms_encryption_context,
            bucket_key_enabled: sse.bucket_key,
            expiration,
            ..Default::default()
        }))
    }

    /// Writes the copy's file as `sealing` says: the source's plaintext (its data key opened
    /// as for a GetObject: `Decrypt` as the caller for SSE-KMS) sealed under a new data key.
    async fn place_copy(
        &self,
        ctx: &cairn_core::CallContext,
        (source, source_file): (&objects::Object, std::fs::File),
        sealing: &Sealing,
        (bucket, key): (&str, &str),
        algorithm: Option<&str>,
    ) -> Result<Placed, ApiError> {
        let size = source.row.size as u64;
        let plain = self
            .source_plaintext(ctx, source, source_file, 0..size, copy_fault)
            .await?;
        // A copy keeps the source's checksums. From a source with only a composite one
        // (which does not describe a single-part copy) the copy gets the same algorithm's
        // full-object checksum, as CopyObject copies the algorithm; from a source with none,
        // S3's default.
        let mut declared = super::integrity::Declared::default();
        match algorithm {
            Some(a) => declared.request(a),
            None if source.meta.copied_checksums().is_empty() => {
                let composite = source
                    .meta
                    .checksum_algorithm
                    .clone()
                    .or_else(|| source.meta.checksums.keys().next().cloned());
                declared.request(
                    composite
                        .as_deref()
                        .unwrap_or(super::object_ops::DEFAULT_CHECKSUM),
                )
            }
            None => {}
        }
        match self.upload_data_key(ctx, sealing, bucket, key).await? {
            Some((dk, seal)) => {
                let up = self.seal_stream(plain, &declared, &dk, None).await?;
                let checksums = declared.verify(&up.plain_md5, up.computed, None)?;
                // SSE-S3 copies keep the MD5 of their data as ETag; SSE-KMS ones do not.
                let etag = match seal {
                    Seal::Kms(_) => up.written.md5_hex,
                    Seal::S3(_) => up.plain_md5,
                };
                Ok(Placed {
                    file: up.written.file,
                    etag,
                    seal: Some(seal),
                    checksums,
                })
            }
            None => {
                let (written, computed) = self
                    .receive(Some(StreamingBlob::wrap(plain)), &declared)
                    .await?;
                let checksums = declared.verify(&written.md5_hex, computed, None)?;
                Ok(Placed {
                    file: written.file,
                    etag: written.md5_hex,
                    seal: None,
                    checksums,
                })
            }
        }
    }
}

/// The copy's new file.
struct Placed {
    file: String,
    etag: String,
    seal: Option<Seal>,
    /// The default checksum computed on the way, when the source had none to copy.
    checksums: std::collections::BTreeMap<String, String>,
}

fn copy_fault(e: std::io::Error) -> ApiError {
    ApiError::from_file_io(&e)
}
