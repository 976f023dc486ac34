//! GetObjectAttributes: an object's ETag, checksum, parts, storage class and size in one
//! read, without its bytes. It needs `s3:GetObject` and `s3:GetObjectAttributes` (the
//! version actions for a named version), is a data event like GetObject, and answers only
//! the attributes `x-amz-object-attributes` asks for. Its document's `ETag` is unquoted, as
//! S3 writes it there (unlike every header and other document).

use cairn_core::authz::{Permission, ResourcePolicy};
use cairn_core::objects::{self, Object};
use cairn_core::{ApiError, ErrorKind};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::CairnS3;
use super::checksum_fields::ChecksumFields;
use super::event::Spec;

/// The attributes S3 knows (`x-amz-object-attributes`).
const KNOWN: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];

/// Parts answered when `x-amz-max-parts` is not given, as ListParts.
const DEFAULT_MAX_PARTS: i32 = 1000;

/// The attributes asked for; one S3 does not know is `InvalidArgument`.
fn asked(list: &[ObjectAttributes]) -> Result<Vec<String>, ApiError> {
    // An SDK may send the list as one comma-separated header value.
    let names: Vec<String> = list
        .iter()
        .flat_map(|a| a.as_str().split(','))
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    if names.is_empty() || names.iter().any(|a| !KNOWN.contains(&a.as_str())) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Invalid attribute name specified.",
        ));
    }
    Ok(names)
}

/// The object's checksum as the document's `Checksum` carries it.
fn checksum_of(obj: &Object) -> Option<Checksum> {
    let sums = ChecksumFields::of(&obj.meta);
    let any = sums.crc32.is_some()
        || sums.crc32c.is_some()
        || sums.crc64nvme.is_some()
        || sums.sha1.is_some()
        || sums.sha256.is_some();
    any.then_some(Checksum {
        checksum_crc32: sums.crc32,
        checksum_crc32c: sums.crc32c,
        checksum_crc64nvme: sums.crc64nvme,
        checksum_sha1: sums.sha1,
        checksum_sha256: sums.sha256,
        checksum_type: sums.kind,
    })
}

/// A multipart object's parts after `marker`, at most `max` of them; `None` for an object
/// uploaded whole. Each part is listed only when the object has an additional checksum (the
/// model: without one "the response doesn't return Part").
fn parts_of(obj: &Object, marker: i32, max: i32) -> Option<GetObjectAttributesParts> {
    let total = obj.meta.parts_count?;
    let algorithm = obj.meta.checksum_algorithm.as_deref();
    let mut parts = Vec::new();
    let mut next = None;
    let mut truncated = false;
    for (i, size) in obj.meta.part_sizes.iter().enumerate() {
        let number = i as i32 + 1;
        if number <= marker {
            continue;
        }
        if parts.len() as i32 >= max {
            truncated = true;
            break;
        }
        let sums = match (algorithm, obj.meta.part_checksums.get(i)) {
            (Some(a), Some(v)) => ChecksumFields::single(a, v.clone()),
            _ => ChecksumFields::default(),
        };
        parts.push(ObjectPart {
            part_number: Some(number),
            size: Some(*size),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
        });
        next = Some(number);
    }
    Some(GetObjectAttributesParts {
        is_truncated: Some(truncated),
        max_parts: Some(max),
        next_part_number_marker: next,
        part_number_marker: Some(marker),
        parts: algorithm.map(|_| parts),
        total_parts_count: Some(total as i32),
    })
}

impl CairnS3 {
    pub(super) async fn get_object_attributes_op(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let info = self.call_info(&req).await?;
        let host = super::bucket_ops::host(&req);
        let input = req.input;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let version_id = input.version_id.clone();
        let object_arn = format!("arn:aws:s3:::{bucket}/{key}");
        let read = match version_id {
            Some(_) => "s3:GetObjectVersion",
            None => "s3:GetObject",
        };
        let spec = Spec::new(
            "GetObjectAttributes",
            true,
            true,
            Some(&bucket),
            Some(&key),
            &host,
        )
        .param("attributes", serde_json::json!(""))
        .version(version_id.as_deref())
        .also_needs(
            Permission::new(read, object_arn).under(ResourcePolicy::Bucket(bucket.clone())),
        );
        let names = asked(&input.object_attributes);
        let (max, marker) = (
            input.max_parts.unwrap_or(DEFAULT_MAX_PARTS).clamp(0, 1000),
            input.part_number_marker.unwrap_or(0).max(0),
        );
        let (evaluator, ctx) = (self.gate.evaluator(), info.ctx.clone());
        let sse_c = super::sse_c::check_read(super::sse_c::sse_c_asked!(input));
        let (obj, names) = self
            .recorded(info, spec, move |c| {
                objects::require_bucket(c, &bucket)?;
                let obj =
                    super::object_ops::current_version(c, (&bucket, &key), version_id.as_deref())
                        .map_err(|e| {
                        super::object_ops::missing_key(evaluator.as_ref(), c, &ctx, &bucket, e)
                    })?;
                sse_c?;
                Ok((obj, names?))
            })
            .await?;
        let wants = |a: &str| names.iter().any(|n| n == a);
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: wants("ETag").then(|| super::object_ops::strong(&obj.row.etag)),
            checksum: wants("Checksum").then(|| checksum_of(&obj)).flatten(),
            object_parts: wants("ObjectParts")
                .then(|| parts_of(&obj, marker, max))
                .flatten(),
            storage_class: wants("StorageClass")
                .then(|| StorageClass::from_static(StorageClass::STANDARD)),
            object_size: wants("ObjectSize").then_some(obj.row.size),
            last_modified: Some(super::bucket_ops::timestamp(obj.row.last_modified)),
            version_id: input.version_id,
            ..Default::default()
        }))
    }
}

/// A GetObjectAttributes document with its `ETag` unquoted, as S3 writes it; `None` for
/// any other document.
pub(super) fn unquoted_etag(doc: &str) -> Option<String> {
    let root = doc.find("<GetObjectAttributesResponse")?;
    let open = root + doc[root..].find("<ETag>\"")?;
    let value = open + "<ETag>\"".len();
    let close = value + doc[value..].find("\"</ETag>")?;
    Some(format!(
        "{}<ETag>{}</ETag>{}",
        &doc[..open],
        &doc[value..close],
        &doc[close + "\"</ETag>".len()..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_or_no_attributes_are_invalid() {
        let list = |v: &[&str]| -> Vec<ObjectAttributes> {
            v.iter()
                .map(|s| ObjectAttributes::from((*s).to_owned()))
                .collect()
        };
        assert_eq!(
            asked(&list(&["ETag,ObjectSize"])).unwrap(),
            ["ETag", "ObjectSize"]
        );
        assert!(asked(&list(&["ETag", "Size"])).is_err());
        assert!(asked(&list(&[])).is_err());
    }

    #[test]
    fn the_document_etag_loses_its_quotes() {
        let doc = "<?xml version=\"1.0\"?><GetObjectAttributesResponse><ETag>\"abc\"</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>";
        assert_eq!(
            unquoted_etag(doc).unwrap(),
            "<?xml version=\"1.0\"?><GetObjectAttributesResponse><ETag>abc</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>"
        );
        assert!(
            unquoted_etag("<CopyObjectResult><ETag>\"abc\"</ETag></CopyObjectResult>").is_none()
        );
    }
}
