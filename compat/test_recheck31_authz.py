"""Permission bypasses found by outside tester recheck31 (each failed before its fix):
- a copy's read of its source was authorized without how the request was signed
  (`s3:signatureAge`, `s3:authType`): a presigned or old CopyObject copied an object a Deny
  kept from GetObject, and an Allow that needs header signing refused every copy;
- `s3:RequestObjectTag/<key>` and `kms:EncryptionContext:<key>` took the last of two
  case-variant keys (`env=prod&Env=x`, `{"ENV": "prod", "env": "x"}`), so their order
  dodged a Deny on the `env` value."""

import datetime
import json
from unittest import mock

import botocore.exceptions
import pytest
import urllib3


def user(cairn, name, policy):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": policy}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service, **kw: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"],
                                                   service, **kw)


def presigned_copy(s3, bucket, source, dest, signed_ago):
    at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
        datetime.timedelta(seconds=signed_ago)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        return s3.generate_presigned_url("copy_object", ExpiresIn=3600, Params={
            "Bucket": bucket, "Key": dest, "CopySource": f"{bucket}/{source}"})


def test_a_copy_reads_its_source_as_the_request_was_signed(cairn):
    cairn.client("s3").create_bucket(Bucket="copy-age")
    cairn.client("s3").put_object(Bucket="copy-age", Key="secret", Body=b"top secret")
    denied = user(cairn, "copy-age-deny", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"s3:signatureAge": "30000"}}},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}}}])("s3")
    http = urllib3.PoolManager()
    for ago in (0, 120):
        url = presigned_copy(denied, "copy-age", "secret", f"copy-{ago}", ago)
        got = http.request("PUT", url, headers={"x-amz-copy-source": "copy-age/secret"})
        assert got.status == 403 and b"AccessDenied" in got.data, got.data
    # Header-signed now: allowed.
    denied.copy_object(Bucket="copy-age", Key="fresh", CopySource="copy-age/secret")
    keys = [o["Key"] for o in cairn.client("s3").list_objects_v2(Bucket="copy-age")["Contents"]]
    assert sorted(keys) == ["fresh", "secret"]

    allowed = user(cairn, "copy-age-allow", [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*",
         "Condition": {"StringEquals": {"s3:authType": "REST-HEADER"},
                       "NumericLessThan": {"s3:signatureAge": "600000"}}}])("s3")
    allowed.copy_object(Bucket="copy-age", Key="copied", CopySource="copy-age/secret")
    upload = allowed.create_multipart_upload(Bucket="copy-age", Key="mp")["UploadId"]
    allowed.upload_part_copy(Bucket="copy-age", Key="mp", UploadId=upload, PartNumber=1,
                             CopySource="copy-age/secret")


@pytest.mark.parametrize("tags", ["env=prod&Env=x", "Env=x&env=prod", "ENV=x&env=prod"])
def test_case_variant_object_tags_do_not_dodge_a_deny(cairn, tags):
    name = "tagcase-" + str(abs(hash(tags)) % 10000)
    cairn.client("s3").create_bucket(Bucket=name)
    s3 = user(cairn, name, [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["s3:PutObject", "s3:PutObjectTagging"], "Resource": "*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/env": "prod"}}}])("s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=name, Key="k", Body=b"1", Tagging=tags)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    s3.put_object(Bucket=name, Key="k", Body=b"1")
    tag_set = [{"Key": k, "Value": v} for k, v in (p.split("=") for p in tags.split("&"))]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_tagging(Bucket=name, Key="k", Tagging={"TagSet": tag_set})
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert cairn.client("s3").get_object_tagging(Bucket=name, Key="k")["TagSet"] == []


@pytest.mark.parametrize("context", [{"ENV": "prod", "env": "x"}, {"env": "x", "Env": "prod"},
                                     {"env": "prod"}])
def test_case_variant_encryption_context_does_not_dodge_a_deny(cairn, context):
    key_id = cairn.client("kms").create_key()["KeyMetadata"]["KeyId"]
    name = "eccase-" + str(abs(hash(json.dumps(context, sort_keys=True))) % 10000)
    kms = user(cairn, name, [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:env": "prod"}}}])("kms")
    for call in (lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=context),
                 lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256",
                                               EncryptionContext=context)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"env": "dev", "ENV": "test"})
