//! The digest file and the string its signature covers.

use serde::{Deserialize, Serialize};

/// One log file listed in a digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    /// Bucket.
    pub s3_bucket: String,
    /// Full key (with prefix).
    pub s3_object: String,
    /// Hex SHA-256 of the uncompressed file.
    pub hash_value: String,
    /// `SHA-256`.
    pub hash_algorithm: String,
    /// Newest event time in the file.
    pub newest_event_time: String,
    /// Oldest event time in the file.
    pub oldest_event_time: String,
}

/// A digest file, fields in CloudTrail's order. The `previous*` members are always present
/// (null at the start of a chain): awscli requires `previousDigestSignature` to exist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// Account.
    pub aws_account_id: String,
    /// Start of the period (delivery times).
    pub digest_start_time: String,
    /// End of the period.
    pub digest_end_time: String,
    /// Bucket the digest is in.
    pub digest_s3_bucket: String,
    /// Its key.
    pub digest_s3_object: String,
    /// MD5 fingerprint of the signing key.
    pub digest_public_key_fingerprint: String,
    /// `SHA256withRSA`.
    pub digest_signature_algorithm: String,
    /// Newest event time over all listed files, or null.
    pub newest_event_time: Option<String>,
    /// Oldest event time over all listed files, or null.
    pub oldest_event_time: Option<String>,
    /// Previous digest's bucket.
    pub previous_digest_s3_bucket: Option<String>,
    /// Previous digest's key.
    pub previous_digest_s3_object: Option<String>,
    /// Hex SHA-256 of the previous digest's uncompressed bytes.
    pub previous_digest_hash_value: Option<String>,
    /// `SHA-256`, when there is a previous digest.
    pub previous_digest_hash_algorithm: Option<String>,
    /// Hex signature of the previous digest.
    pub previous_digest_signature: Option<String>,
    /// The log files delivered in the period.
    pub log_files: Vec<LogFileEntry>,
}

impl Digest {
    /// The bytes written (before gzip): compact JSON with `/` escaped as `\/`, as CloudTrail
    /// writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_string(self)
            .expect("a digest always serialises")
            .replace('/', "\\/")
            .into_bytes()
    }
}

/// The string signed with SHA256withRSA:
/// `<digestEndTime>\n<bucket>/<key>\n<hex sha256 of the uncompressed digest>\n<previous signature or null>`.
pub fn signing_string(
    end_time: &str,
    bucket: &str,
    key: &str,
    digest_sha256_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{digest_sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of the third-party datasets beside the repository (`../shared`, or
    /// `$CAIRN_SHARED_DIR`), or `None` (and a note that the test skipped) when they are absent.
    fn shared(name: &str) -> Option<String> {
        let root = std::env::var("CAIRN_SHARED_DIR")
            .unwrap_or_else(|_| format!("{}/../../../shared", env!("CARGO_MANIFEST_DIR")));
        let path = format!("{root}/datasets/cloudtrail/digest/{name}");
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("skipped: {path} is absent (the shared datasets are not here)");
                None
            }
            Err(e) => panic!("{path}: {e}"),
        }
    }

    #[test]
    fn signing_string_matches_the_awscli_vector() {
        let Some(text) = shared("signing-string-test-vectors.json") else {
            return;
        };
        let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
        let v = &vectors["string_to_sign"][0];
        let f = &v["digest_fields"];
        let s = signing_string(
            f["digestEndTime"].as_str().unwrap(),
            f["digestS3Bucket"].as_str().unwrap(),
            f["digestS3Object"].as_str().unwrap(),
            &crate::sha256_hex(
                v["decompressed_digest_bytes_utf8"]
                    .as_str()
                    .unwrap()
                    .as_bytes(),
            ),
            f["previousDigestSignature"].as_str(),
        );
        assert_eq!(s, v["expected_string_to_sign"].as_str().unwrap());
    }

    #[test]
    fn real_and_documented_digests_parse_and_the_real_one_reserialises_byte_exact() {
        let Some(real) = shared("llm-guard-real-digest_20231015T230404Z.json") else {
            return;
        };
        let d: Digest = serde_json::from_str(&real).unwrap();
        assert_eq!(d.digest_end_time, "2023-10-15T23:04:04Z");
        assert_eq!(d.log_files.len(), 5);
        assert_eq!(
            d.previous_digest_signature.as_deref().map(str::len),
            Some(512)
        );
        assert_eq!(
            String::from_utf8(d.to_bytes()).unwrap(),
            real,
            "field order and \\/ escaping match CloudTrail's"
        );
        assert_eq!(
            crate::sha256_hex(real.as_bytes()),
            "4277102dccf54c0c247738ca5e6e3504b7370206ef1c82855994ec23441ae1ed"
        );
        for doc in [
            "awsdocs-digest-example-1.json",
            "awsdocs-digest-example-2.json",
        ] {
            let d: Digest = serde_json::from_str(&shared(doc).unwrap()).unwrap();
            assert_eq!(d.digest_signature_algorithm, "SHA256withRSA");
        }
        let empty: Digest =
            serde_json::from_str(&shared("awsdocs-digest-example-2.json").unwrap()).unwrap();
        assert!(empty.log_files.is_empty() && empty.newest_event_time.is_none());
    }
}
