"""Multipart uploads keep additional checksums as S3 does: UploadPart stores its part's checksum,
ListParts returns it, CompleteMultipartUpload checks the ones it lists and gives the object a
COMPOSITE checksum (the algorithm over the parts' raw checksums, `-<parts>`) or a FULL_OBJECT one
(the CRC of every byte), which HeadObject and GetObject return with `x-amz-checksum-mode`.
Expected values are computed here with zlib and hashlib (CRC32C and CRC64NVME need awscrt, which
is not installed: CRC64NVME is checked by its independence of the part split)."""

import base64
import hashlib
import random
import zlib

import boto3
import boto3.s3.transfer
import botocore.config
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY, SECRET, err

MIB = 1024 * 1024
BUCKET = "mp-checksums"


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket=BUCKET)
    return c


@pytest.fixture(scope="module")
def bare(cairn):
    """A client that sends a checksum only where the API requires one."""
    return boto3.client(
        "s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
        config=botocore.config.Config(request_checksum_calculation="when_required"))


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32(data):
    return zlib.crc32(data).to_bytes(4, "big")


def data(n, seed):
    return random.Random(seed).randbytes(n)


PART1, PART2 = data(5 * MIB, 3), data(300_000, 5)


def upload(s3, key, algorithm, parts, kind=None, **complete):
    extra = {"ChecksumType": kind} if kind else {}
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm=algorithm, **extra)
    assert up["ChecksumAlgorithm"] == algorithm
    listed = []
    for n, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up["UploadId"], PartNumber=n,
                           Body=body, ChecksumAlgorithm=algorithm)
        listed.append({"PartNumber": n, "ETag": r["ETag"],
                       f"Checksum{algorithm}": r[f"Checksum{algorithm}"]})
    return up["UploadId"], listed


def complete(s3, key, upload_id, listed, **extra):
    return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": listed}, **extra)


def test_sha256_parts_are_listed_and_make_a_composite_checksum(s3):
    upload_id, listed = upload(s3, "sha", "SHA256", [PART1, PART2])
    sums = [hashlib.sha256(p).digest() for p in (PART1, PART2)]
    assert [p["ChecksumSHA256"] for p in listed] == [b64(s) for s in sums]
    parts = s3.list_parts(Bucket=BUCKET, Key="sha", UploadId=upload_id)
    assert [p.get("ChecksumSHA256") for p in parts["Parts"]] == [b64(s) for s in sums]
    assert parts["ChecksumAlgorithm"] == "SHA256"
    assert parts["ChecksumType"] == "COMPOSITE"
    done = complete(s3, "sha", upload_id, listed)
    composite = b64(hashlib.sha256(b"".join(sums)).digest()) + "-2"
    assert done["ChecksumSHA256"] == composite
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=BUCKET, Key="sha", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == composite
    assert head["ChecksumType"] == "COMPOSITE"
    # One part read back carries that part's checksum; without the mode, none.
    got = s3.get_object(Bucket=BUCKET, Key="sha", PartNumber=2, ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == b64(sums[1])
    assert got["Body"].read() == PART2
    assert "ChecksumSHA256" not in s3.head_object(Bucket=BUCKET, Key="sha")


def test_upload_file_is_a_composite_crc32(s3, tmp_path):
    body = data(12 * MIB, 7)
    path = tmp_path / "big.bin"
    path.write_bytes(body)
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MIB,
                                              multipart_chunksize=5 * MIB)
    s3.upload_file(str(path), BUCKET, "file.bin", Config=config)
    parts = [body[i:i + 5 * MIB] for i in range(0, len(body), 5 * MIB)]
    expected = b64(crc32(b"".join(crc32(p) for p in parts))) + "-3"
    head = s3.head_object(Bucket=BUCKET, Key="file.bin", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == expected
    assert head["ChecksumType"] == "COMPOSITE"
    assert head["ContentLength"] == len(body)
    got = s3.get_object(Bucket=BUCKET, Key="file.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body


def test_upload_file_with_a_full_object_crc32(s3, tmp_path):
    body = data(11 * MIB, 11)
    path = tmp_path / "full.bin"
    path.write_bytes(body)
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MIB,
                                              multipart_chunksize=5 * MIB)
    whole = b64(crc32(body))
    # s3transfer sends a given full-object checksum with ChecksumType FULL_OBJECT.
    s3.upload_file(str(path), BUCKET, "full.bin", Config=config,
                   ExtraArgs={"ChecksumCRC32": whole})
    head = s3.head_object(Bucket=BUCKET, Key="full.bin", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == whole
    assert head["ChecksumType"] == "FULL_OBJECT"
    with pytest.raises(boto3.exceptions.S3UploadFailedError) as e:
        s3.upload_file(str(path), BUCKET, "wrong.bin", Config=config,
                       ExtraArgs={"ChecksumCRC32": b64(crc32(b"other"))})
    assert "BadDigest" in str(e.value)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=BUCKET, Key="wrong.bin")


def test_full_object_crc32_when_asked(s3):
    upload_id, listed = upload(s3, "crc-full", "CRC32", [PART1, PART2], kind="FULL_OBJECT")
    done = complete(s3, "crc-full", upload_id, listed)
    assert done["ChecksumCRC32"] == b64(crc32(PART1 + PART2))
    assert done["ChecksumType"] == "FULL_OBJECT"


def test_crc64nvme_is_full_object_whatever_the_parts(s3, bare):
    # No client-side CRC64NVME without awscrt: the parts go without one, which a FULL_OBJECT
    # upload allows (the server computes them).
    def store(key, parts):
        up = bare.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC64NVME")
        assert up["ChecksumType"] == "FULL_OBJECT"
        listed = []
        for n, body in enumerate(parts, 1):
            r = bare.upload_part(Bucket=BUCKET, Key=key, UploadId=up["UploadId"],
                                 PartNumber=n, Body=body)
            assert len(base64.b64decode(r["ChecksumCRC64NVME"])) == 8
            listed.append({"PartNumber": n, "ETag": r["ETag"]})
        return complete(bare, key, up["UploadId"], listed)["ChecksumCRC64NVME"]

    whole = PART1 + PART2
    a = store("nvme-a", [PART1, PART2])
    b = store("nvme-b", [whole[:5 * MIB + 1000], whole[5 * MIB + 1000:]])
    assert a == b and "-" not in a
    head = s3.head_object(Bucket=BUCKET, Key="nvme-a", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == a
    assert head["ChecksumType"] == "FULL_OBJECT"


def test_a_wrong_part_checksum_is_invalid_part(s3):
    upload_id, listed = upload(s3, "wrong-part", "CRC32", [PART1, PART2])
    listed[1]["ChecksumCRC32"] = b64(crc32(b"not this part"))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete(s3, "wrong-part", upload_id, listed)
    assert err(e) == ("InvalidPart", 400)
    # A COMPOSITE upload must list every part's checksum.
    del listed[1]["ChecksumCRC32"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete(s3, "wrong-part", upload_id, listed)
    assert err(e) == ("InvalidRequest", 400)
    assert "It was missing for part 2" in e.value.response["Error"]["Message"]


def test_a_stated_type_or_object_checksum_must_match(s3):
    upload_id, listed = upload(s3, "stated", "CRC32", [PART1, PART2])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete(s3, "stated", upload_id, listed, ChecksumType="FULL_OBJECT")
    assert err(e) == ("BadDigest", 400)
    upload_id, listed = upload(s3, "stated-full", "CRC32", [PART1, PART2], kind="FULL_OBJECT")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        complete(s3, "stated-full", upload_id, listed, ChecksumCRC32=b64(crc32(b"x")))
    assert err(e) == ("BadDigest", 400)
    done = complete(s3, "stated-full", upload_id, listed,
                    ChecksumCRC32=b64(crc32(PART1 + PART2)))
    assert done["ChecksumType"] == "FULL_OBJECT"


def test_parts_must_carry_the_uploads_algorithm(s3, bare):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="algo", ChecksumAlgorithm="CRC32")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="algo", UploadId=up["UploadId"], PartNumber=1,
                       Body=b"x", ChecksumAlgorithm="SHA1")
    assert err(e) == ("InvalidRequest", 400)
    assert e.value.response["Error"]["Message"] == (
        "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha1")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bare.upload_part(Bucket=BUCKET, Key="algo", UploadId=up["UploadId"], PartNumber=1,
                         Body=b"x")
    assert e.value.response["Error"]["Message"].endswith("actual checksum Type: null")


def test_invalid_create_combinations_are_refused(s3):
    for algorithm, kind in (("CRC64NVME", "COMPOSITE"), ("SHA256", "FULL_OBJECT")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.create_multipart_upload(Bucket=BUCKET, Key="bad", ChecksumAlgorithm=algorithm,
                                       ChecksumType=kind)
        assert err(e) == ("InvalidRequest", 400)


def test_uploads_without_an_algorithm_are_unchanged(s3):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="plain")
    r = s3.upload_part(Bucket=BUCKET, Key="plain", UploadId=up["UploadId"], PartNumber=1,
                       Body=b"plain part")
    done = complete(s3, "plain", up["UploadId"], [{"PartNumber": 1, "ETag": r["ETag"]}])
    assert "ChecksumType" not in done
    head = s3.head_object(Bucket=BUCKET, Key="plain", ChecksumMode="ENABLED")
    assert not [k for k in head if k.startswith("Checksum")]


def test_a_copy_of_a_multipart_object_keeps_only_whole_object_checksums(s3):
    upload_id, listed = upload(s3, "copy-composite", "SHA256", [PART1, PART2])
    complete(s3, "copy-composite", upload_id, listed)
    upload_id, listed = upload(s3, "copy-full", "CRC32", [PART1, PART2], kind="FULL_OBJECT")
    complete(s3, "copy-full", upload_id, listed)
    for directive in ("COPY", "REPLACE"):
        # A copy is one part: the composite "<sum>-2" does not describe it, but the copy
        # keeps the source's algorithm (CopyObject's `x-amz-checksum-algorithm`: "copied from
        # the source object"), as a checksum of every byte.
        s3.copy_object(Bucket=BUCKET, Key="copied-composite", MetadataDirective=directive,
                       CopySource={"Bucket": BUCKET, "Key": "copy-composite"})
        head = s3.head_object(Bucket=BUCKET, Key="copied-composite", ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == b64(hashlib.sha256(PART1 + PART2).digest()), head
        assert head["ChecksumType"] == "FULL_OBJECT"
        assert "ChecksumCRC64NVME" not in head
        assert "PartsCount" not in s3.head_object(Bucket=BUCKET, Key="copied-composite",
                                                  PartNumber=1)
        # A CRC of every byte still does.
        s3.copy_object(Bucket=BUCKET, Key="copied-full", MetadataDirective=directive,
                       CopySource={"Bucket": BUCKET, "Key": "copy-full"})
        head = s3.head_object(Bucket=BUCKET, Key="copied-full", ChecksumMode="ENABLED")
        assert head["ChecksumCRC32"] == b64(crc32(PART1 + PART2))
        assert head["ChecksumType"] == "FULL_OBJECT"


def test_listed_uploads_name_their_checksum_algorithm_and_type(s3, bare):
    made = {
        "lmu/sha": s3.create_multipart_upload(Bucket=BUCKET, Key="lmu/sha",
                                              ChecksumAlgorithm="SHA256"),
        "lmu/crc": s3.create_multipart_upload(Bucket=BUCKET, Key="lmu/crc",
                                              ChecksumAlgorithm="CRC32",
                                              ChecksumType="FULL_OBJECT"),
        "lmu/none": bare.create_multipart_upload(Bucket=BUCKET, Key="lmu/none"),
    }
    listed = {u["Key"]: u for u in
              s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu/")["Uploads"]}
    assert (listed["lmu/sha"]["ChecksumAlgorithm"], listed["lmu/sha"]["ChecksumType"]) == \
        ("SHA256", "COMPOSITE")
    assert (listed["lmu/crc"]["ChecksumAlgorithm"], listed["lmu/crc"]["ChecksumType"]) == \
        ("CRC32", "FULL_OBJECT")
    assert "ChecksumAlgorithm" not in listed["lmu/none"]
    for key, up in made.items():
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up["UploadId"])
