"""Version ids on an S3 store that keeps no versions: `null` names the current object, any
other id a version that does not exist, and nothing but the current object is ever touched."""

import botocore.exceptions
import pytest

UNKNOWN = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"  # well-formed, never issued


def err(excinfo):
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(cairn):
    c = cairn.client("s3")
    c.create_bucket(Bucket="ver-bkt")
    c.put_object(Bucket="ver-bkt", Key="k", Body=b"live")
    return c


def live(s3):
    return s3.get_object(Bucket="ver-bkt", Key="k")["Body"].read()


def test_reads_name_only_the_null_version(s3):
    got = s3.get_object(Bucket="ver-bkt", Key="k", VersionId="null")
    assert got["Body"].read() == b"live"
    assert got["VersionId"] == "null"
    assert s3.head_object(Bucket="ver-bkt", Key="k", VersionId="null")["ContentLength"] == 4
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="ver-bkt", Key="k", VersionId=UNKNOWN)
    assert err(e) == ("NoSuchVersion", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ver-bkt", Key="k", VersionId=UNKNOWN)
    assert err(e)[1] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="ver-bkt", Key="k", VersionId="bogus")
    assert err(e) == ("InvalidArgument", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ver-bkt", Key="k", VersionId="bogus")
    assert err(e)[1] == 400


def test_deleting_another_version_leaves_the_object(s3):
    out = s3.delete_object(Bucket="ver-bkt", Key="k", VersionId=UNKNOWN)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert live(s3) == b"live"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket="ver-bkt", Key="k", VersionId="bogus")
    assert err(e) == ("InvalidArgument", 400)
    assert live(s3) == b"live"
    out = s3.delete_objects(Bucket="ver-bkt", Delete={"Objects": [
        {"Key": "k", "VersionId": UNKNOWN}, {"Key": "k", "VersionId": "bogus"}]})
    assert [(d["Key"], d["VersionId"]) for d in out["Deleted"]] == [("k", UNKNOWN)]
    assert [(x["Key"], x["Code"]) for x in out["Errors"]] == [("k", "InvalidArgument")]
    assert live(s3) == b"live"


def test_copy_source_versions(s3):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="ver-bkt", Key="copy", CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": UNKNOWN})
    assert err(e) == ("NoSuchVersion", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket="ver-bkt", Key="copy", CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": "bogus"})
    assert err(e) == ("InvalidArgument", 400)
    s3.copy_object(Bucket="ver-bkt", Key="copy", CopySource={"Bucket": "ver-bkt", "Key": "k", "VersionId": "null"})
    assert s3.get_object(Bucket="ver-bkt", Key="copy")["Body"].read() == b"live"


def test_delete_of_the_null_version_deletes_the_object(s3):
    s3.put_object(Bucket="ver-bkt", Key="gone", Body=b"x")
    out = s3.delete_object(Bucket="ver-bkt", Key="gone", VersionId="null")
    assert out["VersionId"] == "null"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ver-bkt", Key="gone")
    assert err(e)[1] == 404
