//! Multipart uploads (data events): create, upload part, complete, abort, list parts and
//! uploads. Parts are durable files; completion joins them into the object's file.
//!
//! SSE: CreateMultipartUpload decides the sealing as PutObject does (headers, else the
//! bucket's default rule); for SSE-KMS it asks KMS for the object's data key as the caller,
//! kept wrapped with the upload. Parts are sealed on arrival under keys derived from it (S3
//! `Decrypt`s it as the caller), and completion seals the whole object under it (one more
//! `Decrypt`: why AWS needs `kms:Decrypt` for multipart SSE-KMS uploads). No byte is stored in
//! the clear but the parts of an upload begun before sealing existed (completing seals it).
//!
//! Checksums (`cairn_core::multipart_checksums`): an upload keeps the algorithm and type it
//! was created with; each part carries and keeps a checksum of that algorithm (ListParts
//! returns it); completion checks the checksums it lists and gives the object a COMPOSITE or
//! FULL_OBJECT checksum, which HeadObject and GetObject return on request.

use cairn_core::encryption::Seal;
use cairn_core::multipart_checksums::{self as sums, ListedPart, UploadChecksum};
use cairn_core::objects::{self, ObjectMeta};
use cairn_core::upload_listing;
use cairn_store::objects::{ObjectRow, PartRow};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use serde_json::json;

use super::CairnS3;
use super::bucket_ops::{host, initiator, timestamp};
use super::event::Spec;
use super::integrity::{Declared, Headers, checksum_headers};
use super::list_ops::common_prefixes;
use super::sse_ops::{SseFields, requested};
use super::upload_keys::with_keys;
use crate::recording::CallInfo;

/// AWS's largest part (and largest single PUT): 5 GiB.
pub(super) const MAX_PART_BYTES: i64 = 5 * 1024 * 1024 * 1024;

/// The part an UploadPart or UploadPartCopy writes: its upload's bucket, key and id, and its
/// number.
#[derive(Clone)]
pub(super) struct PartTarget {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub number: i64,
}

/// The [`PartTarget`] of an UploadPart or UploadPartCopy input (the two name its fields
/// alike).
macro_rules! part_target {
    ($input:expr) => {
        $crate::s3::multipart_ops::PartTarget {
            bucket: $input.bucket.clone(),
            key: $input.key.clone(),
            upload_id: $input.upload_id.clone(),
            number: i64::from($input.part_number),
        }
    };
}
pub(super) use part_target;

impl PartTarget {
    /// The data event `op` on this part, with `partNumber` and `uploadId` recorded.
    pub(super) fn spec<T>(&self, op: &'static str, host: &str) -> Spec<T> {
        Spec::new(op, false, true, Some(&self.bucket), Some(&self.key), host)
            .param("partNumber", json!(self.number.to_string()))
            .param("uploadId", json!(self.upload_id))
    }
}

/// A part's new file as UploadPart or UploadPartCopy wrote it.
pub(super) struct StoredPart {
    /// The file.
    pub file: String,
    /// Its plaintext size.
    pub size: i64,
    /// The part's ETag.
    pub etag: String,
    /// Its additional checksum (algorithm, base64), if any.
    pub checksum: Option<(String, String)>,
}

/// A part's ETag: SSE-S3 (and unsealed) parts keep the MD5 of their data; SSE-KMS ones the
/// MD5 of what is stored (as on S3).
pub(super) fn part_etag(upload_meta: &ObjectMeta, stored_md5: &str, plain_md5: &str) -> String {
    if upload_meta.sse_kms.is_some() {
        stored_md5.to_owned()
    } else {
        plain_md5.to_owned()
    }
}

impl CairnS3 {
    pub(super) async fn create_multipart_upload_op(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let wanted = requested(
            input.server_side_encryption.as_ref(),
            input.ssekms_key_id.as_ref(),
            input.ssekms_encryption_context.as_ref(),
            input.bucket_key_enabled,
        );
        // Authorized as `s3:PutObject`, with the encryption and ACL headers as its condition
        // keys (a policy that refuses unencrypted uploads refuses an unencrypted multipart
        // upload too) and in its record.
        let (sent, acl) = (
            wanted.clone(),
            input.acl.as_ref().map(|a| a.as_str().to_owned()),
        );
        let (class, tagging) = (
            input.storage_class.as_ref().map(|c| c.as_str().to_owned()),
            input.tagging.clone(),
        );
        let spec = || {
            let s = Spec::new(
                "CreateMultipartUpload",
                false,
                true,
                Some(&bucket),
                Some(&key),
                &host,
            )
            .param("uploads", json!(""));
            super::sse_ops::sse_params(s, &sent).write_keys(
                acl.as_deref(),
                class.as_deref(),
                tagging.as_deref(),
            )
        };
        let b = bucket.clone();
        let metadata = objects::check_user_metadata(input.metadata.iter().flatten());
        // As on S3, the upload keeps the checksum algorithm (and type) it was created with.
        let checksum = UploadChecksum::requested(
            input.checksum_algorithm.as_ref().map(|a| a.as_str()),
            input.checksum_type.as_ref().map(|t| t.as_str()),
        );
        let grants = super::integrity::any_grant!(input);
        let acl_ok = super::integrity::check_acl(input.acl.as_ref().map(|a| a.as_str()), grants);
        let tags = cairn_core::object_tags::from_header(tagging.as_deref());
        let sse_c = super::sse_c::check_write(super::sse_c::sse_c_asked!(input));
        let class_ok = super::integrity::check_storage_class(class.as_deref())
            .and(super::integrity::check_object_lock(
                super::integrity::lock_asked!(input, &req.headers),
            ))
            .and(super::integrity::check_website_redirect(
                input.website_redirect_location.as_deref(),
            ));
        let (checksum, tags) = self
            .admit(&info, spec, move |c| {
                objects::require_bucket(c, &b)?;
                metadata?;
                acl_ok?;
                sse_c?;
                class_ok?;
                Ok((checksum?, tags?))
            })
            .await?;
        let by_header = wanted.algorithm.is_some();
        let mut applied = None;
        let sealed = match self.sealing(&bucket, wanted).await {
            Ok(sealing) => {
                applied = Some(cairn_core::encryption::sse_applied(by_header, &sealing));
                self.upload_data_key(&info.ctx, &sealing, &bucket, &key)
                    .await
            }
            Err(e) => Err(e),
        };
        let seal = match sealed {
            // The data key itself is dropped: parts reopen it (SSE-KMS: through KMS as their
            // caller).
            Ok(k) => k.map(|(_, seal)| seal),
            Err(e) => return Err(self.record_failure(info, spec(), e).await),
        };
        let meta = ObjectMeta {
            content_type: super::object_ops::stored_content_type(input.content_type),
            cache_control: input.cache_control,
            content_disposition: input.content_disposition,
            website_redirect: input.website_redirect_location,
            content_encoding: super::integrity::stored_encoding(input.content_encoding),
            content_language: input.content_language,
            expires: super::object_ops::expires_text(input.expires.as_ref()),
            user: input.metadata.unwrap_or_default().into_iter().collect(),
            checksum_algorithm: checksum.as_ref().map(|c| c.algorithm.clone()),
            checksum_type: checksum.as_ref().map(|c| c.kind.clone()),
            // Kept by the upload and given to the object it completes.
            tags,
            ..Default::default()
        }
        .sealed(seal);
        let sse = SseFields::of(&meta);
        let checksum_algorithm = meta.checksum_algorithm.clone().map(ChecksumAlgorithm::from);
        let checksum_type = meta.checksum_type.clone().map(ChecksumType::from);
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let ctx = info.ctx.clone();
        let (b, k, id) = (bucket.clone(), key.clone(), upload_id.clone());
        // AWS records what sealed a multipart upload on its CreateMultipartUpload.
        let abort = self.recorded(info, spec().sse_applied(applied), move |c| {
            objects::require_bucket(c, &b)?;
            objects::create_upload(c, &ctx, &b, &k, &id, &meta)?;
            Ok(cairn_core::lifecycle::abort_date(c, &b, &k, ctx.now)?)
        });
        let (abort_date, abort_rule_id) = abort.await?.unzip();
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(bucket),
            key: Some(key),
            upload_id: Some(upload_id),
            server_side_encryption: sse.algorithm,
            ssekms_key_id: sse.key_id,
            ssekms_encryption_context: input.ssekms_encryption_context,
            bucket_key_enabled: sse.bucket_key,
            checksum_algorithm,
            checksum_type,
            abort_date: abort_date.map(|at| super::bucket_ops::timestamp(at as f64)),
            abort_rule_id,
            ..Default::default()
        }))
    }

    pub(super) async fn upload_part_op(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let part = part_target!(input);
        let keys = self
            .upload_keys(&part.bucket, &part.key, &part.upload_id)
            .await;
        let spec = |n: i64| with_keys(part.spec("UploadPart", &host).bytes_in(n), &keys);
        // Authorize, check the upload and the part's number and size, and the declared
        // digests, all before accepting the body; every failure is recorded.
        let declared_len = input.content_length;
        let sse_c = super::sse_c::check_read(super::sse_c::sse_c_asked!(input));
        let (upload, ()) = self
            .admit_part(
                &info,
                || spec(0),
                &part,
                move |_| {
                    sse_c?;
                    if declared_len.is_some_and(|n| n > MAX_PART_BYTES) {
                        return Err(cairn_core::ApiError::new(
                            cairn_core::ErrorKind::S3EntityTooLarge,
                            "Your proposed upload exceeds the maximum allowed size",
                        ));
                    }
                    Ok(())
                },
            )
            .await?;
        let upload_meta = ObjectMeta::decode(&upload.meta);
        let sse = SseFields::of(&upload_meta);
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
        // A part carries its upload's algorithm (computed here for a FULL_OBJECT upload's part
        // sent without one); another, or none for a COMPOSITE upload, is refused unread.
        let upload_checksum = UploadChecksum::of(&upload_meta);
        let declared = declared.and_then(|mut d| {
            if let Some(u) = &upload_checksum {
                d.request(&u.part_algorithm(&d.algorithms())?);
            }
            Ok(d)
        });
        let declared = match declared {
            Ok(d) => d,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        let received = match self
            .open_object_key_now(&info.ctx, &upload_meta, &part.bucket, &part.key)
            .await
        {
            Ok(Some(dk)) => self
                .receive_sealed_part(input.body, &declared, &dk)
                .await
                .map(|up| (up.written, up.computed, Some((up.plain_md5, up.plain_len)))),
            Ok(None) => self
                .receive(input.body, &declared)
                .await
                .map(|(w, c)| (w, c, None)),
            Err(e) => Err(e),
        };
        let (written, computed, plain) = match received {
            Ok(r) => r,
            Err(e) => return Err(self.record_failure(info, spec(0), e).await),
        };
        let plain_md5 = plain
            .as_ref()
            .map_or(written.md5_hex.clone(), |p| p.0.clone());
        let part_size = plain.as_ref().map_or(written.size, |p| p.1 as i64);
        if let Err(e) = super::integrity::check_decoded_length(&req.headers, part_size) {
            self.files.remove([written.file.clone()]).await;
            return Err(self.record_failure(info, spec(part_size), e).await);
        }
        let trailers = req.trailing_headers.and_then(|t| t.take());
        let checksums = match declared.verify(&plain_md5, computed, trailers.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                self.files.remove([written.file.clone()]).await;
                return Err(self.record_failure(info, spec(part_size), e).await);
            }
        };
        let part_etag = part_etag(&upload_meta, &written.md5_hex, &plain_md5);
        let stored = StoredPart {
            file: written.file,
            size: part_size,
            etag: part_etag.clone(),
            checksum: sums::part_checksum(upload_checksum.as_ref(), &checksums),
        };
        self.commit_part(info, spec(part_size), &part, stored)
            .await?;
        let sum = |a: &str| checksums.get(a).cloned();
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(part_etag)),
            server_side_encryption: sse.algorithm,
            ssekms_key_id: sse.key_id,
            bucket_key_enabled: sse.bucket_key,
            checksum_crc32: sum("CRC32"),
            checksum_crc32c: sum("CRC32C"),
            checksum_crc64nvme: sum("CRC64NVME"),
            checksum_sha1: sum("SHA1"),
            checksum_sha256: sum("SHA256"),
            ..Default::default()
        }))
    }

    pub(super) async fn complete_multipart_upload_op(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let info = self.call_info(&req).await?;
        let host = host(&req);
        let input = req.input;
        let (bucket, key, upload_id) = (
            input.bucket.clone(),
            input.key.clone(),
            input.upload_id.clone(),
        );
        let listed: Vec<ListedPart> = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|p| ListedPart {
                number: i64::from(p.part_number.unwrap_or(0)),
                etag: p.e_tag.map(|e| e.value().to_owned()).unwrap_or_default(),
                checksums: checksum_headers(
                    &p.checksum_crc32,
                    &p.checksum_crc32c,
                    &p.checksum_crc64nvme,
                    &p.checksum_sha1,
                    &p.checksum_sha256,
                ),
            })
            .collect();
        let requested: Vec<(i64, String)> =
            listed.iter().map(|l| (l.number, l.etag.clone())).collect();
        // The object-level checksum and type the request states, checked as S3 does.
        let stated = checksum_headers(
            &input.checksum_crc32,
            &input.checksum_crc32c,
            &input.checksum_crc64nvme,
            &input.checksum_sha1,
            &input.checksum_sha256,
        );
        let stated_type = input.checksum_type.as_ref().map(|t| t.as_str().to_owned());
        let keys = self.upload_keys(&bucket, &key, &upload_id).await;
        let if_headers = req.headers.clone();
        let spec = || {
            let s = Spec::new(
                "CompleteMultipartUpload",
                false,
                true,
                Some(&bucket),
                Some(&key),
                &host,
            )
            .param("uploadId", json!(upload_id))
            .if_keys(&if_headers);
            with_keys(s, &keys)
        };
        let conditions = super::preconditions::WriteConditions::new(
            input.if_match.clone(),
            input.if_none_match.clone(),
        );
        // No upload here is SSE-C: its parameters do not apply.
        let sse_c = super::sse_c::check_read(super::sse_c::sse_c_asked!(input));
        // Validate and pick the parts first, then build the object's file outside the writer.
        let (b, k, id, r) = (
            bucket.clone(),
            key.clone(),
            upload_id.clone(),
            requested.clone(),
        );

        let _turn = self.completions.turn(&upload_id).await;
        if self.completed_before(&bucket, &key, &upload_id).await {
            return self
                .complete_again(info, spec(), (&bucket, &key, &upload_id), &host)
                .await;
        }
        // Authorized before the parts are assembled: a caller who may not complete the upload
        // costs no copy.
        let (upload, parts, conditions, checksum) = self
            .admit(&info, spec, move |c| {
                objects::require_bucket(c, &b)?;
                let upload = objects::upload(c, &b, &k, &id)?;
                sse_c?;
                let parts = objects::parts_for_completion(c, &id, &r)?;
                let upload_checksum = UploadChecksum::of(&ObjectMeta::decode(&upload.meta));
                sums::check_listed(upload_checksum.as_ref(), &listed, &parts)?;
                let checksum = upload_checksum
                    .as_ref()
                    .and_then(|u| sums::object_checksum(u, &parts));
                sums::check_stated(
                    upload_checksum.as_ref(),
                    stated_type.as_deref(),
                    &stated,
                    checksum.as_deref(),
                )?;
                let conditions = conditions?;
                if !conditions.is_empty() {
                    conditions.check(objects::current(c, &b, &k)?.as_ref(), &k)?;
                }
                Ok((upload, parts, conditions, checksum))
            })
            .await?;
        let mut meta = ObjectMeta::decode(&upload.meta);
        let (written, size) = match self
            .assemble(&info.ctx, &meta, (&bucket, &key), &parts)
            .await
        {
            Ok((file, size, None)) => (file, size),
            Ok((file, size, new_seal)) => {
                meta = meta.sealed(new_seal);
                (file, size)
            }
            Err(e) => return Err(self.record_failure(info, spec(), e).await),
        };
        let etag = objects::multipart_etag(&parts);
        meta.completed_upload = Some(upload_id.clone());
        meta.parts_count = Some(parts.len() as i64);
        meta.part_sizes = parts.iter().map(|p| p.size).collect();
        if let (Some(algorithm), Some(value)) = (meta.checksum_algorithm.clone(), checksum) {
            meta.checksums = [(algorithm.clone(), value)].into();
            meta.part_checksums = parts
                .iter()
                .filter_map(|p| p.checksum.as_ref().map(|(_, v)| v.clone()))
                .collect();
        }
        meta.content_encoding = super::integrity::stored_encoding(meta.content_encoding.take());
        let row = ObjectRow {
            bucket: bucket.clone(),
            key: key.clone(),
            file: written.clone(),
            size,
            etag: etag.clone(),
            last_modified: 0.0,
            meta: meta.encode(),
        };
        let ctx = info.ctx.clone();
        let id = upload_id.clone();
        let committed = self
            .recorded(info, spec().bytes_in(0), move |c| {
                objects::upload(c, &row.bucket, &row.key, &id)?;
                if !conditions.is_empty() {
                    let current = objects::current(c, &row.bucket, &row.key)?;
                    conditions.check_at_commit(current.as_ref(), &row.key)?;
                }
                let (replaced, expiration) = objects::put_expiring(c, &ctx, row)?;
                let mut unused = objects::finish_upload(c, &id)?;
                unused.extend(replaced);
                Ok((unused, expiration))
            })
            .await;
        let (committed, expiration) = super::object_ops::split_expiration(committed);
        self.settle(written, committed).await?;
        Ok(S3Response::new(self.completion(
            &meta,
            (&bucket, &key, etag),
            &host,
            expiration,
        )))
    }

    pub(super) async fn abort_multipart_upload_op(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key, upload_id) = (
            req.input.bucket.clone(),
            req.input.key.clone(),
            req.input.upload_id.clone(),
        );
        let spec = Spec::new(
            "AbortMultipartUpload",
            false,
            true,
            Some(&bucket),
            Some(&key),
            &host(&req),
        )
        .param("uploadId", json!(upload_id));

        let files = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                objects::upload(c, &bucket, &key, &upload_id)?;
                objects::finish_upload(c, &upload_id)
            })
            .await?;
        self.files.remove(files).await;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(super) async fn list_parts_op(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let info = self.call_info(&req).await?;
        let (bucket, key, upload_id) = (
            req.input.bucket.clone(),
            req.input.key.clone(),
            req.input.upload_id.clone(),
        );
        let marker = req.input.part_number_marker.map(i64::from).unwrap_or(0);
        // S3 takes any max-parts from 0 (an empty page) and refuses a negative one, or a
        // negative part-number-marker, inside the call (so it is recorded).
        let given = req.input.max_parts.unwrap_or(1000);
        let max = given.clamp(0, 1000) as usize;
        let negative = if given < 0 {
            Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::S3InvalidArgument,
                "Argument max-parts must be an integer between 0 and 2147483647",
            ))
        } else if marker < 0 {
            Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::S3InvalidArgument,
                "Argument part-number-marker must be an integer between 0 and 2147483647",
            ))
        } else {
            Ok(())
        };
        let spec = Spec::new(
            "ListParts",
            true,
            true,
            Some(&bucket),
            Some(&key),
            &host(&req),
        )
        .param("uploadId", json!(upload_id));
        // The query as sent (`max-parts`, `part-number-marker`).
        let spec = super::list_ops::sent_query(spec, req.uri.query());

        let (b, k, id) = (bucket.clone(), key.clone(), upload_id.clone());
        let (upload, parts, account, abort) = self
            .recorded(info, spec, move |c| {
                let found = objects::require_bucket(c, &b)?;
                negative?;
                let upload = objects::upload(c, &b, &k, &id)?;
                // When a lifecycle rule will abort it, as CreateMultipartUpload said.
                let abort = cairn_core::lifecycle::abort_date(c, &b, &k, upload.initiated)?;
                Ok((
                    upload,
                    cairn_store::objects::list_parts(c, &id)?,
                    found.account,
                    abort,
                ))
            })
            .await?;
        let (abort_date, abort_rule_id) = abort.unzip();
        let upload_checksum = UploadChecksum::of(&ObjectMeta::decode(&upload.meta));
        let after: Vec<PartRow> = parts
            .into_iter()
            .filter(|p| p.part_number > marker)
            .collect();
        let truncated = max > 0 && after.len() > max;
        let page: Vec<PartRow> = after.into_iter().take(max).collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(bucket),
            key: Some(key),
            upload_id: Some(upload_id),
            is_truncated: Some(truncated),
            max_parts: Some(max as i32),
            part_number_marker: Some(marker as i32),
            next_part_number_marker: page.last().map(|p| p.part_number as i32),
            parts: Some(
                page.into_iter()
                    .map(|p| {
                        let sum = |a: &str| {
                            p.checksum
                                .as_ref()
                                .filter(|(algorithm, _)| algorithm == a)
                                .map(|(_, v)| v.clone())
                        };
                        Part {
                            checksum_crc32: sum("CRC32"),
                            checksum_crc32c: sum("CRC32C"),
                            checksum_crc64nvme: sum("CRC64NVME"),
                            checksum_sha1: sum("SHA1"),
                            checksum_sha256: sum("SHA256"),
                            e_tag: Some(ETag::Strong(p.etag)),
                            last_modified: Some(timestamp(p.last_modified)),
                            part_number: Some(p.part_number as i32),
                            size: Some(p.size),
                        }
                    })
                    .collect(),
            ),
            checksum_algorithm: upload_checksum
                .as_ref()
                .map(|u| ChecksumAlgorithm::from(u.algorithm.clone())),
            checksum_type: upload_checksum.map(|u| ChecksumType::from(u.kind)),
            // The account owns and started every upload (S3: the initiator, when an account,
            // "provides the same information as the Owner element").
            initiator: Some(initiator(&account)),
            owner: Some(Owner {
                display_name: Some(account.clone()),
                id: Some(account),
            }),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            abort_date: abort_date.map(|at| timestamp(at as f64)),
            abort_rule_id,
            ..Default::default()
        }))
    }

    pub(super) async fn list_multipart_uploads_op(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let info = self.call_info(&req).await?;
        let input = &req.input;
        let bucket = input.bucket.clone();
        let query = upload_listing::Query {
            prefix: input.prefix.clone().unwrap_or_default(),
            delimiter: input.delimiter.clone(),
            key_marker: input.key_marker.clone().unwrap_or_default(),
            upload_id_marker: input.upload_id_marker.clone(),
            max_uploads: input.max_uploads,
        };
        let (url, encoding_ok) = super::list_ops::url_encoding(input.encoding_type.as_ref());
        let spec = Spec::new(
            "ListMultipartUploads",
            true,
            true,
            Some(&bucket),
            None,
            &host(&req),
        )
        .param("uploads", json!(""));
        // The query as sent (`prefix`, `delimiter`, `max-uploads`, `key-marker`, …).
        let spec = super::list_ops::sent_query(spec, req.uri.query());

        let (b, q) = (bucket.clone(), query.clone());
        let (owner, listing) = self
            .recorded(info, spec, move |c| {
                let found = objects::require_bucket(c, &b)?;
                encoding_ok?;
                Ok((found.account, upload_listing::list(c, &b, &q)?))
            })
            .await?;
        let enc = |s: String| {
            if url {
                super::list_ops::url_encode(&s)
            } else {
                s
            }
        };
        let owner = Owner {
            display_name: Some(owner.clone()),
            id: Some(owner),
        };
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(bucket),
            prefix: Some(enc(query.prefix.clone())),
            delimiter: query.delimiter.clone().map(enc),
            key_marker: Some(enc(query.key_marker.clone())),
            upload_id_marker: Some(query.upload_id_marker.clone().unwrap_or_default()),
            max_uploads: Some(query.page_size() as i32),
            encoding_type: url.then(|| EncodingType::from_static(EncodingType::URL)),
            is_truncated: Some(listing.truncated),
            next_key_marker: listing
                .next_key_marker
                .filter(|_| listing.truncated)
                .map(enc),
            next_upload_id_marker: listing.next_upload_id_marker.filter(|_| listing.truncated),
            uploads: Some(
                listing
                    .uploads
                    .into_iter()
                    .map(|u| {
                        let checksum = UploadChecksum::of(&ObjectMeta::decode(&u.meta));
                        MultipartUpload {
                            checksum_algorithm: checksum
                                .as_ref()
                                .map(|c| ChecksumAlgorithm::from(c.algorithm.clone())),
                            checksum_type: checksum.map(|c| ChecksumType::from(c.kind)),
                            initiated: Some(timestamp(u.initiated)),
                            key: Some(enc(u.key)),
                            upload_id: Some(u.upload_id),
                            initiator: owner.id.as_deref().map(initiator),
                            owner: Some(owner.clone()),
                            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                        }
                    })
                    .collect(),
            ),
            common_prefixes: common_prefixes(listing.common_prefixes, &enc),
            ..Default::default()
        }))
    }

    /// Records `part`'s new file in its upload with the call's event `spec`; then the file
    /// of a part it replaced is deleted (or, if the commit failed, the new file).
    pub(super) async fn commit_part(
        &self,
        info: CallInfo,
        spec: Spec<Option<String>>,
        part: &PartTarget,
        stored: StoredPart,
    ) -> S3Result<()> {
        let file = stored.file.clone();
        let row = PartRow {
            part_number: part.number,
            file: stored.file,
            size: stored.size,
            etag: stored.etag,
            last_modified: 0.0,
            checksum: stored.checksum,
        };
        let ctx = info.ctx.clone();
        let p = part.clone();
        let committed = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &p.bucket)?;
                objects::put_part(c, &ctx, &p.bucket, &p.key, &p.upload_id, row)
            })
            .await;
        self.settle(file, committed).await
    }

    /// Builds a completed upload's file from its parts: each part opened and the whole
    /// sealed under the upload's data key (which the caller opens through KMS for SSE-KMS).
    /// An upload begun before sealing existed (no data key; its parts stored as written) is
    /// sealed under a new SSE-S3 key, returned to be recorded with the object: what it
    /// reports (`AES256`) is then true. Returns the file, the object's (plaintext) size, and
    /// that new sealing.
    async fn assemble(
        &self,
        ctx: &cairn_core::CallContext,
        meta: &ObjectMeta,
        (bucket, key): (&str, &str),
        parts: &[PartRow],
    ) -> Result<(String, i64, Option<Seal>), cairn_core::ApiError> {
        let fault = |e: std::io::Error| cairn_core::ApiError::from_file_io(&e);
        let pieces: Vec<(String, u64)> = parts
            .iter()
            .map(|p| (p.file.clone(), p.size as u64))
            .collect();
        let (dk, body, new_seal) = match self.open_object_key_now(ctx, meta, bucket, key).await? {
            Some(dk) => {
                let body = self.plain_parts(pieces, &dk);
                (dk, body, None)
            }
            None => {
                let (dk, s3) =
                    cairn_core::encryption::new_sse_s3_key(&self.kms_master, bucket, key)?;
                (dk, self.stored_parts(pieces), Some(Seal::S3(s3)))
            }
        };
        let up = self
            .seal_stream(body, &Declared::default(), &dk, None)
            .await?;
        let expected: i64 = parts.iter().map(|p| p.size).sum();
        if up.plain_len as i64 != expected {
            self.files.remove([up.written.file]).await;
            return Err(fault(std::io::Error::other("a part is short")));
        }
        Ok((up.written.file, expected, new_seal))
    }
}
