//! S3 with the AWS SDK for Rust's defaults: flexible checksums (CRC32 unless told otherwise)
//! on uploads, recorded off the wire by an interceptor, checked by Cairn and returned on
//! request; multipart uploads, HeadObject, DeleteObjects and typed errors.

use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart, Delete,
    ObjectIdentifier,
};

use crate::cairn::Cairn;
use crate::wire::Wire;

const BUCKET: &str = "rust-sdk-objects";

/// CRC32 of `data` as S3 writes it: big-endian bytes, base64.
fn crc32_b64(data: &[u8]) -> String {
    aws_smithy_types::base64::encode(crc32fast::hash(data).to_be_bytes())
}

async fn s3_with_wire(cairn: &Cairn) -> (aws_sdk_s3::Client, Wire) {
    let wire = Wire::default();
    let config = aws_sdk_s3::config::Builder::from(&cairn.config().await)
        .force_path_style(true)
        .interceptor(wire.clone())
        .build();
    (aws_sdk_s3::Client::from_conf(config), wire)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_checksums_are_sent_verified_and_returned() {
    let cairn = Cairn::start();
    let (s3, wire) = s3_with_wire(&cairn).await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");

    let body = "hello from the Rust SDK\n".repeat(1000).into_bytes();
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("notes/hello.txt")
        .content_type("text/plain")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject with the SDK's default checksum");
    // An in-memory body: the CRC32 goes in a signed header, the payload hash is signed too.
    assert_eq!(
        wire.last("x-amz-sdk-checksum-algorithm").as_deref(),
        Some("CRC32")
    );
    assert_eq!(wire.last("x-amz-checksum-crc32"), Some(crc32_b64(&body)));
    assert!(
        wire.last("x-amz-content-sha256")
            .is_some_and(|h| h.len() == 64),
        "a signed payload"
    );
    assert_eq!(wire.last("content-encoding"), None);
    // The SDK computed a CRC32 by default and Cairn answers with the same value.
    assert_eq!(put.checksum_crc32(), Some(crc32_b64(&body).as_str()));
    assert!(
        put.e_tag().is_some_and(|t| t.starts_with('"')),
        "a quoted ETag: {put:?}"
    );

    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("notes/hello.txt")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.checksum_crc32(), Some(crc32_b64(&body).as_str()));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.e_tag(), put.e_tag());
    // The SDK validates the returned checksum while it reads the body.
    let read = got
        .body
        .collect()
        .await
        .expect("the body, checksum validated")
        .into_bytes();
    assert_eq!(&read[..], &body[..]);

    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("notes/hello.txt")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.checksum_crc32(), Some(crc32_b64(&body).as_str()));
    assert_eq!(head.e_tag(), put.e_tag());

    // A file body streams: the SDK sends it aws-chunked with the CRC32 in a trailer after
    // the last chunk, over plain HTTP signing every chunk and the trailer (SigV4 chained
    // chunk signatures); Cairn verifies them and the CRC32, and answers with it.
    let file = cairn.data_dir().with_extension("upload");
    std::fs::write(&file, &body).expect("write the file to upload");
    let stream = ByteStream::from_path(&file).await.expect("a file body");
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("notes/streamed.txt")
        .body(stream)
        .send()
        .await
        .expect("PutObject of a streamed file");
    std::fs::remove_file(&file).expect("remove the uploaded file");
    assert_eq!(
        wire.last("content-encoding").as_deref(),
        Some("aws-chunked")
    );
    assert_eq!(
        wire.last("x-amz-trailer").as_deref(),
        Some("x-amz-checksum-crc32")
    );
    assert_eq!(
        wire.last("x-amz-content-sha256").as_deref(),
        Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    );
    assert_eq!(
        wire.last("x-amz-decoded-content-length"),
        Some(body.len().to_string())
    );
    assert_eq!(put.checksum_crc32(), Some(crc32_b64(&body).as_str()));
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("notes/streamed.txt")
        .send()
        .await;
    let got = got
        .expect("GetObject")
        .body
        .collect()
        .await
        .expect("the body")
        .into_bytes();
    assert_eq!(&got[..], &body[..], "stored decoded, without chunk framing");

    // A checksum the body does not match is refused, and nothing is stored.
    let wrong = s3
        .put_object()
        .bucket(BUCKET)
        .key("notes/wrong.txt")
        .checksum_crc32(crc32_b64(b"something else"))
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect_err("a wrong CRC32 is refused");
    assert_eq!(wrong.raw_response().map(|r| r.status().as_u16()), Some(400));
    let code = wrong.into_service_error().meta().code().map(str::to_string);
    assert_eq!(code.as_deref(), Some("BadDigest"));
    let missing = s3
        .head_object()
        .bucket(BUCKET)
        .key("notes/wrong.txt")
        .send()
        .await;
    assert!(matches!(
        missing.map_err(|e| e.into_service_error()),
        Err(HeadObjectError::NotFound(_))
    ));

    // Another algorithm the SDK offers: SHA-256, also verified and returned.
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("notes/sha.txt")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject with SHA-256");
    assert!(put.checksum_sha256().is_some(), "SHA-256 echoed: {put:?}");
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("notes/sha.txt")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.checksum_sha256(), put.checksum_sha256());

    drop(s3);
    cairn.stop_and_verify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_delete_objects_and_typed_errors() {
    let cairn = Cairn::start();
    let (s3, _wire) = s3_with_wire(&cairn).await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");

    // Two parts, the first at S3's 5 MiB minimum; CRC32 per part, as the SDK defaults to.
    let part1: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let part2 = b"the last, short part".repeat(50);
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("big/object.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload_id = upload.upload_id().expect("an UploadId");
    assert_eq!(upload.checksum_algorithm(), Some(&ChecksumAlgorithm::Crc32));
    let mut parts = Vec::new();
    for (number, data) in [(1, &part1), (2, &part2)] {
        let part = s3
            .upload_part()
            .bucket(BUCKET)
            .key("big/object.bin")
            .upload_id(upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .expect("UploadPart");
        assert_eq!(part.checksum_crc32(), Some(crc32_b64(data).as_str()));
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_string))
                .set_checksum_crc32(part.checksum_crc32().map(str::to_string))
                .build(),
        );
    }
    let listed = s3
        .list_parts()
        .bucket(BUCKET)
        .key("big/object.bin")
        .upload_id(upload_id)
        .send()
        .await
        .expect("ListParts");
    let sizes: Vec<_> = listed.parts().iter().map(|p| p.size()).collect();
    assert_eq!(sizes, [Some(part1.len() as i64), Some(part2.len() as i64)]);
    let done = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("big/object.bin")
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    let etag = done.e_tag().expect("the object's ETag");
    assert!(
        etag.ends_with("-2\""),
        "a multipart ETag names its part count: {etag}"
    );
    // The object's checksum is COMPOSITE (S3's default for CRC32): the CRC32 of the parts'
    // CRC32s, suffixed with the part count; HeadObject returns it when asked.
    let composite = {
        let mut joined = crc32fast::hash(&part1).to_be_bytes().to_vec();
        joined.extend(crc32fast::hash(&part2).to_be_bytes());
        format!("{}-2", crc32_b64(&joined))
    };
    assert_eq!(done.checksum_crc32(), Some(composite.as_str()));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    let listed_sums: Vec<_> = listed.parts().iter().map(|p| p.checksum_crc32()).collect();
    assert_eq!(
        listed_sums,
        [
            Some(crc32_b64(&part1).as_str()),
            Some(crc32_b64(&part2).as_str())
        ]
    );
    let summed = s3
        .head_object()
        .bucket(BUCKET)
        .key("big/object.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("Head with checksums");
    assert_eq!(summed.checksum_crc32(), Some(composite.as_str()));
    assert_eq!(summed.checksum_type(), Some(&ChecksumType::Composite));

    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("big/object.bin")
        .send()
        .await
        .expect("Head");
    assert_eq!(
        head.content_length(),
        Some((part1.len() + part2.len()) as i64)
    );
    assert_eq!(head.e_tag(), Some(etag));
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("big/object.bin")
        .send()
        .await
        .expect("Get");
    let read = got
        .body
        .collect()
        .await
        .expect("the whole object")
        .into_bytes();
    assert_eq!(read.len(), part1.len() + part2.len());
    assert!(
        read.starts_with(&part1) && read.ends_with(&part2),
        "the parts in order"
    );

    // DeleteObjects (the SDK sends its required checksum), one key that never existed.
    for key in ["a.txt", "b.txt"] {
        let body = ByteStream::from(key.as_bytes().to_vec());
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body)
            .send()
            .await
            .expect("PutObject");
    }
    let ids = ["a.txt", "b.txt", "big/object.bin", "never.txt"]
        .map(|key| ObjectIdentifier::builder().key(key).build().unwrap());
    let delete = Delete::builder()
        .set_objects(Some(ids.to_vec()))
        .build()
        .unwrap();
    let deleted = s3
        .delete_objects()
        .bucket(BUCKET)
        .delete(delete)
        .send()
        .await
        .expect("DeleteObjects");
    let mut keys: Vec<_> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    keys.sort();
    assert_eq!(keys, ["a.txt", "b.txt", "big/object.bin", "never.txt"]);
    assert!(
        deleted.errors().is_empty(),
        "no errors: {:?}",
        deleted.errors()
    );
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(listed.key_count(), Some(0));

    // Typed errors: NoSuchKey on GetObject, NotFound on HeadObject (no body to carry a code).
    let err = s3
        .get_object()
        .bucket(BUCKET)
        .key("a.txt")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    match err.into_service_error() {
        GetObjectError::NoSuchKey(e) => assert!(e.message().is_some(), "a message: {e:?}"),
        other => panic!("expected NoSuchKey, got {other:?}"),
    }
    let err = s3
        .head_object()
        .bucket(BUCKET)
        .key("b.txt")
        .send()
        .await
        .expect_err("deleted");
    assert!(matches!(
        err.into_service_error(),
        HeadObjectError::NotFound(_)
    ));

    drop(s3);
    cairn.stop_and_verify();
}
