//! Compressed request bodies. The AWS SDKs gzip the body of operations that carry the
//! `requestcompression` trait (CloudWatch's PutMetricData) once it reaches 10 KiB, with
//! `Content-Encoding: gzip`; the signature covers the compressed bytes. The body is inflated
//! here, bounded by the same limit as any body, before a service reads it, and only once
//! its signature (over the compressed bytes) is verified: no unsigned or wrongly signed body
//! takes a turn at inflating (recheck35: 800 unsigned 8 KiB bombs delayed a signed gzip'd
//! PutMetricData by 35 s).

use std::io::Read;

use bytes::Bytes;

/// Why a body could not be inflated.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyEncodingError {
    /// Inflated, the body exceeds the limit.
    TooLarge,
    /// The body is not the gzip stream its header says.
    Corrupt,
}

/// Inflations running at once: one a core, on the blocking pool, so inflating bodies never
/// stalls the threads that serve requests (recheck34b: 200 small gzip bombs, unsigned, held
/// a normal call 42 s) and at most this many inflated bodies are being built.
static INFLATING: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::sync::Arc::new(tokio::sync::Semaphore::new(cores))
    });

/// [`decoded_body`], inflating off the request threads, a few at a time.
pub async fn decoded_body_off_thread(
    headers: &[(String, String)],
    body: Bytes,
    max: usize,
) -> Result<Bytes, BodyEncodingError> {
    if !is_gzip(headers) {
        return Ok(body);
    }
    let Ok(_turn) = INFLATING.clone().acquire_owned().await else {
        return Err(BodyEncodingError::Corrupt);
    };
    tokio::task::spawn_blocking(move || inflate(&body, max))
        .await
        .unwrap_or(Err(BodyEncodingError::Corrupt))
}

/// Whether the body is sent gzip'd (`Content-Encoding: gzip`).
pub(crate) fn is_gzip(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-encoding") && v.trim().eq_ignore_ascii_case("gzip")
    })
}

/// The body as the service reads it: inflated when `Content-Encoding` is `gzip`, else as
/// received. `max` bounds the inflated size.
pub fn decoded_body(
    headers: &[(String, String)],
    body: Bytes,
    max: usize,
) -> Result<Bytes, BodyEncodingError> {
    if !is_gzip(headers) {
        return Ok(body);
    }
    inflate(&body, max)
}

/// The gzip stream `body` inflated, at most `max` bytes.
fn inflate(body: &[u8], max: usize) -> Result<Bytes, BodyEncodingError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| BodyEncodingError::Corrupt)?;
    if out.len() > max {
        return Err(BodyEncodingError::TooLarge);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        Bytes::from(e.finish().unwrap())
    }

    #[tokio::test]
    async fn bodies_are_inflated_off_the_request_threads_as_before() {
        let body = Bytes::from(vec![b'a'; 50_000]);
        let got = decoded_body_off_thread(&gzip_header(), gz(&body), body.len()).await;
        assert_eq!(got.unwrap(), body);
        let too_big = decoded_body_off_thread(&gzip_header(), gz(&body), 10).await;
        assert_eq!(too_big, Err(BodyEncodingError::TooLarge));
        let plain = decoded_body_off_thread(&[], Bytes::from_static(b"{}"), 10).await;
        assert_eq!(plain.unwrap(), Bytes::from_static(b"{}"));
    }

    fn gzip_header() -> Vec<(String, String)> {
        vec![("content-encoding".into(), "gzip".into())]
    }

    #[test]
    fn gzip_bodies_are_inflated_within_the_limit() {
        let body = b"Action=PutMetricData&Namespace=Big".repeat(100);
        assert_eq!(
            decoded_body(&gzip_header(), gz(&body), body.len()).unwrap(),
            Bytes::from(body.clone())
        );
        assert_eq!(
            decoded_body(&gzip_header(), gz(&body), body.len() - 1),
            Err(BodyEncodingError::TooLarge)
        );
        // A small bomb: 64 MiB of zeros in a few KiB stops at the limit.
        let bomb = gz(&vec![0u8; 64 << 20]);
        assert_eq!(
            decoded_body(&gzip_header(), bomb, 8 << 20),
            Err(BodyEncodingError::TooLarge)
        );
        assert_eq!(
            decoded_body(&gzip_header(), Bytes::from_static(b"not gzip"), 100),
            Err(BodyEncodingError::Corrupt)
        );
        // Without the header nothing changes.
        assert_eq!(
            decoded_body(&[], Bytes::from_static(b"{}"), 10).unwrap(),
            Bytes::from_static(b"{}")
        );
    }
}
