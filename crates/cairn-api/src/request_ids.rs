//! Request ids as AWS writes them. S3 answers with a 16-character upper-case hexadecimal
//! `x-amz-request-id` and a separate base64 host id (`x-amz-id-2`, the error body's
//! `HostId`, the record's `additionalEventData.x-amz-id-2`), as real S3 responses and
//! CloudTrail S3 records show (`A471D1060ED5FD07`, a 76-character host id); the other
//! services use UUIDs. The host id derives from the request id, so every layer that knows
//! one knows the other.

use base64::Engine;
use sha2::{Digest, Sha512};

/// A new S3 request id: 16 upper-case hexadecimal characters.
pub fn s3_request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

/// A new request id of a JSON or Query service: a UUID.
pub fn uuid_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The host id (`x-amz-id-2`) of request `request_id`: 76 base64 characters.
pub fn host_id(request_id: &str) -> String {
    let digest = Sha512::digest(format!("cairn host id {request_id}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..57])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_ids_look_like_s3s() {
        let id = s3_request_id();
        assert_eq!(id.len(), 16);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        let host = host_id(&id);
        assert_eq!(host.len(), 76);
        assert_eq!(host, host_id(&id));
        assert_ne!(host, host_id("other"));
    }
}
