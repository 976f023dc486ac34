//! Additional checksums of multipart uploads, as S3 keeps them ("Checking object integrity"
//! in the S3 user guide): the algorithm and checksum type an upload is created with, the
//! checksum each part must carry, the checks CompleteMultipartUpload makes of the parts and
//! checksums it lists, and the completed object's checksum. `COMPOSITE` (the default for CRC32,
//! CRC32C, SHA1 and SHA256) is the algorithm's digest of the parts' raw checksums, suffixed
//! `-<number of parts>`; `FULL_OBJECT` (always for CRC64NVME, on request for CRC32 and CRC32C)
//! is the CRC of the whole object, combined from the parts' CRCs and sizes.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_store::objects::PartRow;
use crc_fast::CrcAlgorithm;
use sha2::Digest;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::objects::ObjectMeta;

/// The checksum type of a checksum of the parts' checksums.
pub const COMPOSITE: &str = "COMPOSITE";
/// The checksum type of a checksum of every byte of the object.
pub const FULL_OBJECT: &str = "FULL_OBJECT";

/// The algorithms S3 knows.
const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

/// What an upload was created with: an algorithm and a checksum type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadChecksum {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    pub algorithm: String,
    /// [`COMPOSITE`] or [`FULL_OBJECT`].
    pub kind: String,
}

fn invalid_request(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::S3InvalidRequest, message)
}

/// S3's `InvalidPart` message (a part missing, or its ETag or checksum not the uploaded one).
pub const INVALID_PART: &str = "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.";

impl UploadChecksum {
    /// CreateMultipartUpload's `x-amz-checksum-algorithm` and `x-amz-checksum-type`,
    /// validated, with S3's default type (FULL_OBJECT for CRC64NVME, else COMPOSITE).
    pub fn requested(algorithm: Option<&str>, kind: Option<&str>) -> ApiResult<Option<Self>> {
        let Some(algorithm) = algorithm.map(str::to_ascii_uppercase) else {
            return match kind {
                Some(_) => Err(invalid_request(
                    "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
                )),
                None => Ok(None),
            };
        };
        if !ALGORITHMS.contains(&algorithm.as_str()) {
            return Err(invalid_request(
                "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
            ));
        }
        let kind = match kind.map(str::to_ascii_uppercase) {
            None if algorithm == "CRC64NVME" => FULL_OBJECT.to_owned(),
            None => COMPOSITE.to_owned(),
            Some(k) if k == COMPOSITE || k == FULL_OBJECT => k,
            Some(_) => {
                return Err(invalid_request(
                    "Value for x-amz-checksum-type header is invalid.",
                ));
            }
        };
        let allowed = match kind.as_str() {
            COMPOSITE => algorithm != "CRC64NVME",
            _ => algorithm.starts_with("CRC"),
        };
        if !allowed {
            return Err(invalid_request(format!(
                "The {kind} checksum type cannot be used with the {} checksum algorithm.",
                algorithm.to_ascii_lowercase()
            )));
        }
        Ok(Some(Self { algorithm, kind }))
    }

    /// The upload's (or its object's) checksum, as kept in its metadata.
    pub fn of(meta: &ObjectMeta) -> Option<Self> {
        Some(Self {
            algorithm: meta.checksum_algorithm.clone()?,
            kind: meta
                .checksum_type
                .clone()
                .unwrap_or_else(|| COMPOSITE.to_owned()),
        })
    }

    /// Whether the object's checksum is of every byte.
    pub fn full_object(&self) -> bool {
        self.kind == FULL_OBJECT
    }

    fn mismatch(&self, actual: &str) -> ApiError {
        invalid_request(format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {actual}",
            self.algorithm.to_ascii_lowercase()
        ))
    }

    /// Checks the algorithms an UploadPart declares (its checksum headers, trailers and
    /// `x-amz-sdk-checksum-algorithm`) before its body is read: another algorithm than the
    /// upload's is `InvalidRequest`, and so is none for a COMPOSITE upload (its checksum is
    /// made of the parts'). A FULL_OBJECT upload's part with none is checksummed by the
    /// server. Returns the algorithm the part's checksum must be computed in.
    pub fn part_algorithm(&self, declared: &[String]) -> ApiResult<String> {
        if let Some(other) = declared.iter().find(|a| **a != self.algorithm) {
            return Err(self.mismatch(&other.to_ascii_lowercase()));
        }
        if declared.is_empty() && !self.full_object() {
            return Err(self.mismatch("null"));
        }
        Ok(self.algorithm.clone())
    }
}

/// The checksum a part keeps: of the upload's algorithm, or (an upload created without one)
/// the one its request carried, if any.
pub fn part_checksum(
    upload: Option<&UploadChecksum>,
    kept: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    match upload {
        Some(u) => kept
            .get(&u.algorithm)
            .map(|v| (u.algorithm.clone(), v.clone())),
        None => kept.iter().next().map(|(a, v)| (a.clone(), v.clone())),
    }
}

/// A part as CompleteMultipartUpload lists it.
#[derive(Clone, Debug, Default)]
pub struct ListedPart {
    /// Its number.
    pub number: i64,
    /// Its ETag.
    pub etag: String,
    /// The checksums given for it, by algorithm (base64).
    pub checksums: BTreeMap<String, String>,
}

/// Checks the checksums CompleteMultipartUpload lists against the `chosen` parts (found by
/// number and ETag, in the same order): a checksum given must be the part's (`InvalidPart`);
/// a COMPOSITE upload must list its algorithm's checksum for every part (`InvalidRequest`);
/// an upload with an algorithm lists parts 1, 2, 3… with no gap (`InvalidPartOrder`).
pub fn check_listed(
    upload: Option<&UploadChecksum>,
    listed: &[ListedPart],
    chosen: &[PartRow],
) -> ApiResult<()> {
    for (l, part) in listed.iter().zip(chosen) {
        for (algorithm, value) in &l.checksums {
            let stored = part.checksum.as_ref();
            if stored.map(|(a, v)| (a.as_str(), v.as_str()))
                != Some((algorithm.as_str(), value.trim()))
            {
                return Err(ApiError::new(ErrorKind::S3InvalidPart, INVALID_PART));
            }
        }
    }
    let Some(upload) = upload else {
        return Ok(());
    };
    if !upload.full_object()
        && let Some(l) = listed
            .iter()
            .find(|l| !l.checksums.contains_key(&upload.algorithm))
    {
        return Err(invalid_request(format!(
            "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
            upload.algorithm.to_ascii_lowercase(),
            l.number
        )));
    }
    if listed.iter().zip(1..).any(|(l, n)| l.number != n) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidPartOrder,
            "The list of parts was not in ascending order. Parts must be ordered by part number, starting at 1, with no gaps when they carry checksums.",
        ));
    }
    Ok(())
}

fn crc_algorithm(algorithm: &str) -> Option<CrcAlgorithm> {
    match algorithm {
        "CRC32" => Some(CrcAlgorithm::Crc32IsoHdlc),
        "CRC32C" => Some(CrcAlgorithm::Crc32Iscsi),
        "CRC64NVME" => Some(CrcAlgorithm::Crc64Nvme),
        _ => None,
    }
}

/// A CRC as S3 writes it: base64 of its big-endian bytes (4 for CRC32/CRC32C, 8 for CRC64).
fn crc_text(algorithm: &str, crc: u64) -> String {
    if algorithm == "CRC64NVME" {
        STANDARD.encode(crc.to_be_bytes())
    } else {
        STANDARD.encode((crc as u32).to_be_bytes())
    }
}

fn crc_value(text: &str) -> Option<u64> {
    let bytes = STANDARD.decode(text).ok()?;
    match bytes.len() {
        4 => Some(u64::from(u32::from_be_bytes(bytes.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

/// The completed object's checksum from its `parts` (in order), or `None` when a part has
/// no checksum of the upload's algorithm (parts stored before checksums were kept).
pub fn object_checksum(upload: &UploadChecksum, parts: &[PartRow]) -> Option<String> {
    let sums: Vec<&str> = parts
        .iter()
        .map(|p| match &p.checksum {
            Some((a, v)) if *a == upload.algorithm => Some(v.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if upload.full_object() {
        let crc = crc_algorithm(&upload.algorithm)?;
        let mut whole: Option<u64> = None;
        for (part, sum) in parts.iter().zip(&sums) {
            let value = crc_value(sum)?;
            whole = Some(match whole {
                None => value,
                Some(w) => crc_fast::checksum_combine(crc, w, value, part.size as u64),
            });
        }
        return whole.map(|w| crc_text(&upload.algorithm, w));
    }
    let mut joined = Vec::new();
    for sum in &sums {
        joined.extend(STANDARD.decode(sum).ok()?);
    }
    let digest = match upload.algorithm.as_str() {
        "SHA1" => STANDARD.encode(sha1::Sha1::digest(&joined)),
        "SHA256" => STANDARD.encode(sha2::Sha256::digest(&joined)),
        other => crc_text(other, crc_fast::checksum(crc_algorithm(other)?, &joined)),
    };
    Some(format!("{digest}-{}", parts.len()))
}

/// Checks the object-level checksum and type a CompleteMultipartUpload request states
/// against the upload's and the `computed` checksum. Without an upload algorithm they are
/// ignored, as S3 does; another algorithm is `InvalidRequest`; another type or value is
/// `BadDigest`. A COMPOSITE value may be given with or without its `-<parts>` suffix.
pub fn check_stated(
    upload: Option<&UploadChecksum>,
    kind: Option<&str>,
    stated: &BTreeMap<String, String>,
    computed: Option<&str>,
) -> ApiResult<()> {
    let Some(upload) = upload else {
        return Ok(());
    };
    if let Some(kind) = kind
        && !kind.eq_ignore_ascii_case(&upload.kind)
    {
        return Err(ApiError::new(
            ErrorKind::S3BadDigest,
            format!(
                "The {kind} checksum type you specified did not match the {} checksum type of the upload.",
                upload.kind
            ),
        ));
    }
    for (algorithm, value) in stated {
        if *algorithm != upload.algorithm {
            return Err(upload.mismatch(&algorithm.to_ascii_lowercase()));
        }
        let Some(computed) = computed else {
            continue;
        };
        let value = value.trim();
        let bare = computed.rsplit_once('-').map_or(computed, |(b, _)| b);
        let composite_bare = !upload.full_object() && value == bare;
        if value != computed && !composite_bare {
            return Err(ApiError::new(
                ErrorKind::S3BadDigest,
                format!("The {algorithm} you specified did not match the calculated checksum."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: i64, data: &[u8], algorithm: &str) -> PartRow {
        let value = match algorithm {
            "SHA256" => STANDARD.encode(sha2::Sha256::digest(data)),
            a => crc_text(a, crc_fast::checksum(crc_algorithm(a).unwrap(), data)),
        };
        PartRow {
            part_number: n,
            file: String::new(),
            size: data.len() as i64,
            etag: String::new(),
            last_modified: 0.0,
            checksum: Some((algorithm.to_owned(), value)),
        }
    }

    fn upload(algorithm: &str, kind: Option<&str>) -> UploadChecksum {
        UploadChecksum::requested(Some(algorithm), kind)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn types_default_and_combine_as_s3_allows() {
        assert_eq!(upload("CRC32", None).kind, COMPOSITE);
        assert_eq!(upload("crc64nvme", None).kind, FULL_OBJECT);
        assert_eq!(upload("CRC32C", Some("FULL_OBJECT")).kind, FULL_OBJECT);
        let refused = |a: Option<&str>, k: Option<&str>| {
            UploadChecksum::requested(a, k).unwrap_err().kind == ErrorKind::S3InvalidRequest
        };
        assert!(refused(Some("CRC64NVME"), Some("COMPOSITE")));
        assert!(refused(Some("SHA256"), Some("FULL_OBJECT")));
        assert!(refused(None, Some("COMPOSITE")));
        assert!(refused(Some("MD4"), None));
        assert_eq!(UploadChecksum::requested(None, None).unwrap(), None);
    }

    #[test]
    fn a_full_object_crc_is_the_crc_of_the_whole_object() {
        let (a, b) = (b"hello, ".as_slice(), b"multipart world".as_slice());
        let whole = [a, b].concat();
        for algorithm in ["CRC32", "CRC32C", "CRC64NVME"] {
            let u = upload(algorithm, Some(FULL_OBJECT));
            let got = object_checksum(&u, &[part(1, a, algorithm), part(2, b, algorithm)]);
            let crc = crc_fast::checksum(crc_algorithm(algorithm).unwrap(), &whole);
            assert_eq!(got, Some(crc_text(algorithm, crc)), "{algorithm}");
        }
    }

    #[test]
    fn a_composite_checksum_is_of_the_parts_checksums() {
        let parts = [part(1, b"one", "SHA256"), part(2, b"two", "SHA256")];
        let mut joined = sha2::Sha256::digest(b"one").to_vec();
        joined.extend(sha2::Sha256::digest(b"two"));
        let expected = format!("{}-2", STANDARD.encode(sha2::Sha256::digest(&joined)));
        assert_eq!(
            object_checksum(&upload("SHA256", None), &parts),
            Some(expected)
        );
        // A part stored without a checksum leaves the object without one.
        let mut old = parts.clone();
        old[1].checksum = None;
        assert_eq!(object_checksum(&upload("SHA256", None), &old), None);
    }

    #[test]
    fn listed_checksums_must_be_the_parts() {
        let u = upload("CRC32", None);
        let parts = [part(1, b"one", "CRC32"), part(2, b"two", "CRC32")];
        let listed = |sums: [&str; 2], numbers: [i64; 2]| -> Vec<ListedPart> {
            sums.iter()
                .zip(numbers)
                .map(|(s, n)| ListedPart {
                    number: n,
                    etag: String::new(),
                    checksums: [("CRC32".to_owned(), s.to_string())].into(),
                })
                .collect()
        };
        let good = [
            parts[0].checksum.clone().unwrap().1,
            parts[1].checksum.clone().unwrap().1,
        ];
        assert!(check_listed(Some(&u), &listed([&good[0], &good[1]], [1, 2]), &parts).is_ok());
        let wrong = check_listed(Some(&u), &listed([&good[0], "AAAAAA=="], [1, 2]), &parts);
        assert_eq!(wrong.unwrap_err().kind, ErrorKind::S3InvalidPart);
        let gap = check_listed(Some(&u), &listed([&good[0], &good[1]], [1, 3]), &parts);
        assert_eq!(gap.unwrap_err().kind, ErrorKind::S3InvalidPartOrder);
        let mut missing = listed([&good[0], &good[1]], [1, 2]);
        missing[1].checksums.clear();
        let e = check_listed(Some(&u), &missing, &parts).unwrap_err();
        assert_eq!(e.kind, ErrorKind::S3InvalidRequest);
        assert!(
            e.message
                .ends_with("It was missing for part 2 in the request.")
        );
    }

    #[test]
    fn parts_must_carry_the_uploads_algorithm() {
        let composite = upload("CRC32", None);
        assert_eq!(
            composite.part_algorithm(&["CRC32".into()]).unwrap(),
            "CRC32"
        );
        let e = composite.part_algorithm(&[]).unwrap_err();
        assert_eq!(
            e.message,
            "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null"
        );
        assert!(composite.part_algorithm(&["SHA1".into()]).is_err());
        let full = upload("CRC64NVME", None);
        assert_eq!(full.part_algorithm(&[]).unwrap(), "CRC64NVME");
    }
}
