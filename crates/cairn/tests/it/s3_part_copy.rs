//! UploadPartCopy: parts copied from (ranges of) existing objects, sealed under the upload's
//! encryption, the source read as the caller (`kms:Decrypt` for an SSE-KMS source), AWS's
//! range and precondition errors, and the `UploadPartCopy` data event.

use serde_json::json;

use crate::harness::Server;
use crate::s3_sse_copy_multipart::{
    assert_not_at_rest, call, copying_the_locked_source_is_refused, locked_source, new_key,
    plaintext, sse_kms, text, upload_id,
};
use crate::s3_util::{header as h, select_data_events, stored_records};

const MIB: usize = 1024 * 1024;

fn tag(body: &[u8], name: &str) -> String {
    let t = text(body);
    let open = format!("<{name}>");
    let start = t.find(&open).unwrap_or_else(|| panic!("no {name} in {t}")) + open.len();
    t[start..start + t[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn parts_copied_from_a_sealed_source_rebuild_it_under_the_uploads_key() {
    let server = Server::start();
    for b in ["/src", "/dst"] {
        assert_eq!(server.s3("PUT", b, b"").await.0, 200);
    }
    select_data_events(&server, "dst").await;
    let (_, src_key) = new_key(&server, json!({})).await;
    let (_, dst_key) = new_key(&server, json!({})).await;
    let source = plaintext(5 * MIB + 70_000, "source");
    let (s, _, body) = call(&server, "PUT", "/src/big", &sse_kms(&src_key), &source).await;
    assert_eq!(s, 200, "{}", text(&body));
    let (s, _, created) = call(
        &server,
        "POST",
        "/dst/joined?uploads",
        &sse_kms(&dst_key),
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", text(&created));
    let id = upload_id(&created);
    let part = |n: u32| format!("/dst/joined?partNumber={n}&uploadId={id}");

    // Two ranges copied; the second part re-copied over a first attempt of the whole source.
    let first = format!("bytes=0-{}", 5 * MIB - 1);
    let second = format!("bytes={}-{}", 5 * MIB, source.len() - 1);
    let mut etags = Vec::new();
    for (n, range) in [(1, first.as_str()), (2, "bytes=0-9"), (2, second.as_str())] {
        let (s, hd, body) = call(
            &server,
            "PUT",
            &part(n),
            &[
                ("x-amz-copy-source", "/src/big"),
                ("x-amz-copy-source-range", range),
            ],
            b"",
        )
        .await;
        assert_eq!(s, 200, "{}", text(&body));
        assert!(text(&body).contains("<CopyPartResult"), "{}", text(&body));
        assert!(text(&body).contains("<LastModified>"), "{}", text(&body));
        assert_eq!(h(&hd, "x-amz-server-side-encryption"), "aws:kms");
        assert_eq!(
            h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
            dst_key
        );
        etags.push((n, tag(&body, "ETag")));
    }
    etags.remove(1);
    let listed: String = etags
        .iter()
        .map(|(n, e)| format!("<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"))
        .collect();
    let (s, _, body) = call(
        &server,
        "POST",
        &format!("/dst/joined?uploadId={id}"),
        &[],
        format!("<CompleteMultipartUpload>{listed}</CompleteMultipartUpload>").as_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{}", text(&body));
    let (s, hd, got) = call(&server, "GET", "/dst/joined", &[], b"").await;
    assert_eq!(s, 200);
    assert_eq!(got.len(), source.len());
    assert!(got == source, "the copy differs from its source");
    assert_eq!(
        h(&hd, "x-amz-server-side-encryption-aws-kms-key-id"),
        dst_key
    );
    assert_not_at_rest(&server, &source, "copied parts");

    // The data events, and S3's Decrypt of the source as the caller.
    let copies: Vec<_> = stored_records(&server, "Data")
        .into_iter()
        .filter(|r| r["eventName"] == "UploadPartCopy")
        .collect();
    assert_eq!(copies.len(), 3, "{copies:?}");
    for r in &copies {
        assert_eq!(r["requestParameters"]["x-amz-copy-source"], "src/big");
        assert_eq!(r["requestParameters"]["uploadId"], id.as_str());
        assert_eq!(r["readOnly"], false);
        assert!(r.get("errorCode").is_none(), "{r}");
    }
    let decrypts = stored_records(&server, "Management")
        .into_iter()
        .filter(|r| {
            r["eventName"] == "Decrypt"
                && r["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
                && r["requestParameters"]["encryptionContext"]["aws:s3:arn"]
                    == "arn:aws:s3:::src/big"
        })
        .count();
    assert_eq!(decrypts, 3, "one Decrypt of the source per part copy");
}

#[tokio::test]
async fn bad_ranges_conditions_and_sources_get_s3s_errors() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/bkt", b"").await.0, 200);
    let source = plaintext(1000, "small");
    assert_eq!(call(&server, "PUT", "/bkt/src", &[], &source).await.0, 200);
    let (_, hd, _) = call(&server, "HEAD", "/bkt/src", &[], b"").await;
    let etag = h(&hd, "etag").to_owned();
    let (s, _, created) = call(&server, "POST", "/bkt/dst?uploads", &[], b"").await;
    assert_eq!(s, 200);
    let id = upload_id(&created);
    let path = format!("/bkt/dst?partNumber=1&uploadId={id}");
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, &'a str);
    const RANGE: &str = "x-amz-copy-source-range";
    const BAD: &str = "InvalidArgument";
    const FAILED: &str = "PreconditionFailed";
    let form = "must be of the form bytes=first-last";
    let outside = "Range specified is not valid for source object of size: 1000";
    let later = "Fri, 01 Jan 2100 00:00:00 GMT";
    let cases: &[Case] = &[
        (&[(RANGE, "0-9")], 400, BAD, form),
        (&[(RANGE, "bytes=5")], 400, BAD, form),
        (&[(RANGE, "bytes=0-1000")], 400, BAD, outside),
        (&[(RANGE, "bytes=9-3")], 400, BAD, outside),
        (
            &[("x-amz-copy-source-if-match", "\"0123\"")],
            412,
            FAILED,
            "",
        ),
        (
            &[("x-amz-copy-source-if-none-match", &etag)],
            412,
            FAILED,
            "",
        ),
        (
            &[("x-amz-copy-source-if-modified-since", later)],
            412,
            FAILED,
            "",
        ),
    ];
    for (extra, status, code, message) in cases {
        let mut headers = vec![("x-amz-copy-source", "/bkt/src")];
        headers.extend_from_slice(extra);
        let (s, _, body) = call(&server, "PUT", &path, &headers, b"").await;
        assert_eq!(s, *status, "{extra:?}: {}", text(&body));
        assert!(
            text(&body).contains(&format!("<Code>{code}</Code>")),
            "{}",
            text(&body)
        );
        assert!(text(&body).contains(message), "{}", text(&body));
    }
    // The conditions that hold let the copy through.
    let (s, _, body) = call(
        &server,
        "PUT",
        &path,
        &[
            ("x-amz-copy-source", "/bkt/src"),
            ("x-amz-copy-source-if-match", &etag),
            (
                "x-amz-copy-source-if-modified-since",
                "Sat, 01 Jan 2000 00:00:00 GMT",
            ),
            ("x-amz-copy-source-range", "bytes=10-19"),
        ],
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", text(&body));
    let (s, _, body) = call(&server, "GET", &format!("/bkt/dst?uploadId={id}"), &[], b"").await;
    assert_eq!(s, 200);
    assert!(text(&body).contains("<Size>10</Size>"), "{}", text(&body));

    for (source, upload, code) in [
        ("/bkt/missing", id.as_str(), "NoSuchKey"),
        ("/nobucket/src", id.as_str(), "NoSuchBucket"),
        ("/bkt/src", "0123456789abcdef", "NoSuchUpload"),
    ] {
        let (s, _, body) = call(
            &server,
            "PUT",
            &format!("/bkt/dst?partNumber=2&uploadId={upload}"),
            &[("x-amz-copy-source", source)],
            b"",
        )
        .await;
        assert_eq!(s, 404, "{source}: {}", text(&body));
        assert!(
            text(&body).contains(&format!("<Code>{code}</Code>")),
            "{}",
            text(&body)
        );
    }
}

#[tokio::test]
async fn a_part_copy_of_an_sse_kms_source_needs_kms_decrypt_as_the_caller() {
    let server = Server::start();
    locked_source(&server, &plaintext(10_000, "locked")).await;
    let (_, _, created) = call(&server, "POST", "/locked/dst?uploads", &[], b"").await;
    let id = upload_id(&created);
    let part = format!("/locked/dst?partNumber=1&uploadId={id}");
    copying_the_locked_source_is_refused(&server, &part).await;
    let (_, _, body) = call(
        &server,
        "GET",
        &format!("/locked/dst?uploadId={id}"),
        &[],
        b"",
    )
    .await;
    assert!(!text(&body).contains("<Part>"), "{}", text(&body));
}
