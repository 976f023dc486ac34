//! The checksums an object answers with (`x-amz-checksum-*` and `x-amz-checksum-type`), for
//! PutObject, GetObject, HeadObject and CopyObject's result.

use cairn_core::objects::ObjectMeta;
use s3s::dto::{ChecksumMode, ChecksumType, Range};

/// Sets an s3s output's `checksum_*` and `checksum_type` fields from a [`ChecksumFields`]
/// (PutObject, GetObject, HeadObject and CopyObject's result name them alike).
macro_rules! set_checksums {
    ($out:expr, $sums:expr) => {{
        let sums = $sums;
        $out.checksum_crc32 = sums.crc32;
        $out.checksum_crc32c = sums.crc32c;
        $out.checksum_crc64nvme = sums.crc64nvme;
        $out.checksum_sha1 = sums.sha1;
        $out.checksum_sha256 = sums.sha256;
        $out.checksum_type = sums.kind;
    }};
}
pub(super) use set_checksums;

/// The checksums of an object, for responses that asked for them (`x-amz-checksum-mode`).
#[derive(Default)]
pub(super) struct ChecksumFields {
    pub(super) crc32: Option<String>,
    pub(super) crc32c: Option<String>,
    pub(super) crc64nvme: Option<String>,
    pub(super) sha1: Option<String>,
    pub(super) sha256: Option<String>,
    /// `x-amz-checksum-type`: a multipart object's `COMPOSITE` or `FULL_OBJECT`, else
    /// `FULL_OBJECT` (with any checksum).
    pub(super) kind: Option<ChecksumType>,
}

impl ChecksumFields {
    pub(super) fn of(meta: &ObjectMeta) -> Self {
        let get = |a: &str| meta.checksums.get(a).cloned();
        let kind = (!meta.checksums.is_empty()).then(|| {
            let kind = meta
                .checksum_type
                .as_deref()
                .unwrap_or(ChecksumType::FULL_OBJECT);
            ChecksumType::from(kind.to_owned())
        });
        Self {
            crc32: get("CRC32"),
            crc32c: get("CRC32C"),
            crc64nvme: get("CRC64NVME"),
            sha1: get("SHA1"),
            sha256: get("SHA256"),
            kind,
        }
    }

    /// What a GetObject or HeadObject with `x-amz-checksum-mode: ENABLED` answers: nothing for
    /// a byte range (checksums cover whole objects or parts); for `partNumber` of a multipart
    /// object, that part's checksum; else the object's.
    pub(super) fn answered(meta: &ObjectMeta, range: Option<&Range>, part: Option<i32>) -> Self {
        if range.is_some() {
            return Self::default();
        }
        let Some(n) = part.filter(|_| meta.parts_count.is_some()) else {
            return Self::of(meta);
        };
        let value = usize::try_from(n - 1)
            .ok()
            .and_then(|i| meta.part_checksums.get(i).cloned());
        let (Some(algorithm), Some(value)) = (meta.checksum_algorithm.as_deref(), value) else {
            return Self::default();
        };
        Self::single(algorithm, value)
    }

    /// One checksum of `algorithm` (a part's).
    pub(super) fn single(algorithm: &str, value: String) -> Self {
        let mut out = Self::default();
        let slot = match algorithm {
            "CRC32" => &mut out.crc32,
            "CRC32C" => &mut out.crc32c,
            "CRC64NVME" => &mut out.crc64nvme,
            "SHA1" => &mut out.sha1,
            "SHA256" => &mut out.sha256,
            _ => return out,
        };
        *slot = Some(value);
        out
    }
}

pub(super) fn checksum_mode_enabled(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}
