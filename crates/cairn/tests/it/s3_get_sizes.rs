//! GetObject across the sizes where the read path changes: objects up to 256 KiB are read
//! and opened whole on the reader, larger ones stream frame by frame. Whole objects and
//! ranges (within a frame, across frames, the last byte) must come back exact either way,
//! sealed under SSE-S3 (every bucket's default) or SSE-KMS.

use crate::harness::*;
use crate::s3_util::{header, s3_request};

fn bytes_of(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn every_size_and_range_reads_back_exactly() {
    let server = Server::start();
    let (s, _) = server.s3("PUT", "/sizes", b"").await;
    assert_eq!(s, 200);
    const FRAME: usize = 64 * 1024;
    let sizes = [
        0,
        1,
        FRAME - 1,
        FRAME,
        FRAME + 1,
        256 * 1024,
        256 * 1024 + 1,
        300_000,
    ];
    for (n, size) in sizes.into_iter().enumerate() {
        for kms in [false, true] {
            let body = bytes_of(size, n as u32 + 7);
            let key = format!("/sizes/o-{size}-{kms}");
            let headers = if kms {
                vec![(
                    "x-amz-server-side-encryption".to_owned(),
                    "aws:kms".to_owned(),
                )]
            } else {
                vec![]
            };
            let (s, h, _) = server
                .send(s3_request(&server.addr, "PUT", &key, headers, body.clone()))
                .await;
            assert_eq!(s, 200, "PUT {key}");
            let sse = if kms { "aws:kms" } else { "AES256" };
            assert_eq!(header(&h, "x-amz-server-side-encryption"), sse);

            let (s, _, got) = server
                .send(s3_request(&server.addr, "GET", &key, vec![], vec![]))
                .await;
            assert_eq!(s, 200, "GET {key}");
            assert!(got == body, "GET {key}: {} bytes back", got.len());

            let mut ranges = vec![(0, 0)];
            if size > 2 {
                ranges.push((1, size - 2));
                ranges.push((size - 1, size - 1));
            }
            if size > FRAME + 10 {
                ranges.push((FRAME - 5, FRAME + 5));
            }
            for (a, b) in ranges.into_iter().filter(|_| size > 0) {
                let (s, h, got) = server
                    .send(s3_request(
                        &server.addr,
                        "GET",
                        &key,
                        vec![("range".to_owned(), format!("bytes={a}-{b}"))],
                        vec![],
                    ))
                    .await;
                assert_eq!(s, 206, "GET {key} bytes={a}-{b}");
                assert_eq!(header(&h, "content-range"), format!("bytes {a}-{b}/{size}"));
                assert!(got == body[a..=b], "GET {key} bytes={a}-{b}");
            }
        }
    }
}
