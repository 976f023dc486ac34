"""SSE-KMS through the real AWS CLI on the paths PutObject alone does not cover: `aws s3 cp
--sse aws:kms` of a file over the CLI's 8 MB threshold (a multipart upload), CopyObject with
and without SSE headers (the copy takes the request's encryption or the destination bucket's
default, never the source's), and a bucket default `aws:kms` rule applied to a multipart
upload sent without headers."""

import filecmp
import json
import os

import pytest

from conftest import serve_with_master_key

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    yield from serve_with_master_key()


def api(server, *args):
    return json.loads(server.cli("s3api", *args).stdout or "{}")


def test_cli_multipart_and_copies_with_sse_kms(server, tmp_path):
    key = json.loads(server.cli("kms", "create-key", "--description", "objects").stdout)
    key_arn = key["KeyMetadata"]["Arn"]
    server.cli("kms", "create-alias", "--alias-name", "alias/objects",
               "--target-key-id", key["KeyMetadata"]["KeyId"])
    for bucket in ("sse-src", "sse-dst", "sse-dflt"):
        server.cli("s3", "mb", f"s3://{bucket}")

    # Over 8 MB: the CLI uploads in parts, each with the upload's SSE-KMS settings.
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 123))
    server.cli("s3", "cp", str(big), "s3://sse-src/big.bin", "--sse", "aws:kms",
               "--sse-kms-key-id", "alias/objects", "--only-show-errors")
    head = api(server, "head-object", "--bucket", "sse-src", "--key", "big.bin")
    assert head["ServerSideEncryption"] == "aws:kms", head
    assert head["SSEKMSKeyId"] == key_arn, head
    assert head["ContentLength"] == big.stat().st_size
    back = tmp_path / "back.bin"
    server.cli("s3", "cp", "s3://sse-src/big.bin", str(back), "--only-show-errors")
    assert filecmp.cmp(big, back, shallow=False), "the sealed multipart object reads back exactly"

    # CopyObject with SSE headers seals the copy under the named key.
    small = tmp_path / "small.txt"
    small.write_text("a small secret\n" * 1000)
    server.cli("s3", "cp", str(small), "s3://sse-src/small.txt", "--only-show-errors")
    copied = api(server, "copy-object", "--bucket", "sse-dst", "--key", "sealed.txt",
                 "--copy-source", "sse-src/small.txt", "--server-side-encryption", "aws:kms",
                 "--ssekms-key-id", "alias/objects")
    assert copied["ServerSideEncryption"] == "aws:kms", copied
    assert copied["SSEKMSKeyId"] == key_arn, copied
    # Without headers the copy of a sealed source takes the destination's SSE-S3 default.
    plain = api(server, "copy-object", "--bucket", "sse-dst", "--key", "opened.txt",
                "--copy-source", "sse-dst/sealed.txt")
    assert plain["ServerSideEncryption"] == "AES256", plain
    assert "SSEKMSKeyId" not in plain, plain
    for name in ("sealed.txt", "opened.txt"):
        out = tmp_path / name
        server.cli("s3", "cp", f"s3://sse-dst/{name}", str(out), "--only-show-errors")
        assert out.read_text() == small.read_text()
    head = api(server, "head-object", "--bucket", "sse-dst", "--key", "sealed.txt")
    assert head["ServerSideEncryption"] == "aws:kms"

    # A bucket default aws:kms rule applies to a multipart upload sent without headers.
    server.cli("s3api", "put-bucket-encryption", "--bucket", "sse-dflt",
               "--server-side-encryption-configuration", json.dumps({"Rules": [
                   {"ApplyServerSideEncryptionByDefault": {
                       "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]}))
    server.cli("s3", "cp", str(big), "s3://sse-dflt/big.bin", "--only-show-errors")
    head = api(server, "head-object", "--bucket", "sse-dflt", "--key", "big.bin")
    assert head["ServerSideEncryption"] == "aws:kms", head
    assert head["SSEKMSKeyId"] == key_arn, head

    # An unknown key is S3's KMS.NotFoundException, for a copy and for a multipart upload.
    failed = server.cli("s3api", "copy-object", "--bucket", "sse-dst", "--key", "no.txt",
                        "--copy-source", "sse-src/small.txt", "--server-side-encryption",
                        "aws:kms", "--ssekms-key-id", "alias/none", check=False)
    assert failed.returncode != 0 and "KMS.NotFoundException" in failed.stderr, failed.stderr
    failed = server.cli("s3", "cp", str(big), "s3://sse-src/none.bin", "--sse", "aws:kms",
                        "--sse-kms-key-id", "alias/none", check=False)
    assert failed.returncode != 0 and "KMS.NotFoundException" in failed.stderr, failed.stderr

    # No multipart plaintext is stored in the clear (both uploads are sealed, parts too).
    probe = big.read_bytes()[4096:4160]
    objects = os.path.join(server.dir.name, "objects")
    for root, _, files in os.walk(objects):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert probe not in fh.read(), f"{f} holds the multipart plaintext"
