//! The log file body: `{"Records":[<record>,…]}`, each record its canonical bytes, gzipped.
//!
//! [`body`] and [`gzip`] build small files in memory (digests, tests); [`BodyWriter`] streams
//! a log file of any size through gzip into any writer, hashing the uncompressed bytes on the
//! way, so no file is ever held whole in memory.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

const OPEN: &[u8] = b"{\"Records\":[";
const CLOSE: &[u8] = b"]}";

/// Bytes the body of `records` takes, uncompressed: the framing plus each record and its
/// separator. Delivery bounds files with it before writing them.
pub fn body_len(record_lens: impl IntoIterator<Item = usize>) -> usize {
    let mut total = OPEN.len() + CLOSE.len();
    for (i, len) in record_lens.into_iter().enumerate() {
        total += len + usize::from(i > 0);
    }
    total
}

/// The uncompressed body.
pub fn body<'a>(records: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = OPEN.to_vec();
    for (i, r) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.as_bytes());
    }
    out.extend_from_slice(CLOSE);
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

/// What a finished [`BodyWriter`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodySummary {
    /// Lower-case hex SHA-256 of the uncompressed body (what digests list).
    pub sha256: String,
    /// Uncompressed length.
    pub len: u64,
    /// Records written.
    pub records: usize,
}

/// Streams `{"Records":[…]}` through gzip (level 6) into `W`.
pub struct BodyWriter<W: Write> {
    gz: GzEncoder<W>,
    sha: Sha256,
    len: u64,
    records: usize,
}

impl<W: Write> BodyWriter<W> {
    /// Starts a body (writes the opening bytes).
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut w = Self {
            gz: GzEncoder::new(out, Compression::new(6)),
            sha: Sha256::new(),
            len: 0,
            records: 0,
        };
        w.put(OPEN)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.sha.update(bytes);
        self.len += bytes.len() as u64;
        self.gz.write_all(bytes)
    }

    /// Appends one record's canonical bytes.
    pub fn record(&mut self, record: &str) -> std::io::Result<()> {
        if self.records > 0 {
            self.put(b",")?;
        }
        self.put(record.as_bytes())?;
        self.records += 1;
        Ok(())
    }

    /// Closes the body and the gzip stream; returns the writer and what was written.
    pub fn finish(mut self) -> std::io::Result<(W, BodySummary)> {
        self.put(CLOSE)?;
        let out = self.gz.finish()?;
        Ok((
            out,
            BodySummary {
                sha256: hex::encode(self.sha.finalize()),
                len: self.len,
                records: self.records,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut back)
            .unwrap();
        back
    }

    #[test]
    fn body_wraps_records_verbatim_and_gzip_round_trips() {
        let b = body([r#"{"eventID":"a"}"#, r#"{"eventID":"b"}"#]);
        assert_eq!(b, br#"{"Records":[{"eventID":"a"},{"eventID":"b"}]}"#);
        assert_eq!(gunzip(&gzip(&b)), b);
        assert_eq!(body([]), br#"{"Records":[]}"#);
    }

    #[test]
    fn the_streamed_body_equals_the_built_one_and_its_hash_and_length_are_right() {
        for records in [
            vec![],
            vec![r#"{"eventID":"a"}"#],
            vec![r#"{"eventID":"a"}"#, r#"{"eventID":"b","x":[1,2]}"#, "{}"],
        ] {
            let mut w = BodyWriter::new(Vec::new()).unwrap();
            for r in &records {
                w.record(r).unwrap();
            }
            let (gz, summary) = w.finish().unwrap();
            let expected = body(records.iter().copied());
            assert_eq!(gunzip(&gz), expected);
            assert_eq!(summary.sha256, crate::sha256_hex(&expected));
            assert_eq!(summary.len as usize, expected.len());
            assert_eq!(summary.records, records.len());
            assert_eq!(body_len(records.iter().map(|r| r.len())), expected.len());
        }
    }
}
