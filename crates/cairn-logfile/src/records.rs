//! The log file body: `{"Records":[<record>,…]}`, each record its canonical bytes, gzipped.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// The uncompressed body.
pub fn body<'a>(records: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = b"{\"Records\":[".to_vec();
    for (i, r) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Gzip at level 6, CloudTrail's (and zlib's default) level.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 6 + 64),
        Compression::new(6),
    );
    enc.write_all(bytes).expect("writing to memory cannot fail");
    enc.finish().expect("writing to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn body_wraps_records_verbatim_and_gzip_round_trips() {
        let b = body([r#"{"eventID":"a"}"#, r#"{"eventID":"b"}"#]);
        assert_eq!(b, br#"{"Records":[{"eventID":"a"},{"eventID":"b"}]}"#);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&b)[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b);
        assert_eq!(body([]), br#"{"Records":[]}"#);
    }
}
