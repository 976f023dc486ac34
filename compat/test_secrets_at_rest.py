"""Secrets stay out of records and out of the database in the clear (the secrets tester's
findings): a CloudFormation `AWS::IAM::AccessKey`'s secret is sealed at rest like IAM's own
copy and still resolves for `Fn::GetAtt` after a restart; the database files are 0600; and
KMS calls Cairn does not carry out never record the members KMS's model marks sensitive."""

import base64
import json
import os
import stat

import botocore.exceptions
import pytest


def data_files(cairn):
    d = cairn.dir.name
    return [os.path.join(d, f) for f in os.listdir(d) if f.startswith("cairn.db")]


def access_key_template(outputs):
    return json.dumps({
        "Resources": {
            "User": {"Type": "AWS::IAM::User"},
            "Key": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}},
        },
        "Outputs": {name: {"Value": {"Fn::GetAtt": ["Key", "SecretAccessKey"]}} for name in outputs},
    })


def outputs(cfn, name):
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"].endswith("_COMPLETE") and "ROLLBACK" not in stack["StackStatus"], stack
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_stack_access_key_secret_is_sealed_at_rest_and_still_resolves(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="keys", TemplateBody=access_key_template([]),
                     Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName="keys")
    key_id = cfn.describe_stack_resource(StackName="keys", LogicalResourceId="Key")[
        "StackResourceDetail"]["PhysicalResourceId"]
    # What the database files held before anything asked for the secret.
    cairn.restart()
    before = {}
    for path in data_files(cairn):
        with open(path, "rb") as f:
            before[path] = f.read()
    # An update after the restart resolves the sealed attribute (a stack's Outputs are kept
    # as given, so the secret is only asked for now).
    cfn = cairn.client("cloudformation")
    cfn.update_stack(StackName="keys", TemplateBody=access_key_template(["Secret"]),
                     Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_update_complete").wait(StackName="keys")
    secret = outputs(cfn, "keys")["Secret"]
    assert len(secret) == 40
    sts = cairn.client_with(key_id, secret, "sts")
    assert sts.get_caller_identity()["Arn"].startswith("arn:aws:iam::123456789012:user/")
    needles = [secret.encode(), base64.b64encode(secret.encode())]
    assert before and not [p for p, data in before.items() if any(n in data for n in needles)]


def test_the_database_files_are_owner_only(cairn):
    cairn.client("sns").create_topic(Name="touch")  # something written, so the WAL exists
    files = data_files(cairn)
    assert any(f.endswith("cairn.db") for f in files) and any(f.endswith("-wal") for f in files)
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_kms_calls_not_carried_out_record_no_sensitive_member(cairn):
    kms = cairn.client("kms")
    with pytest.raises(botocore.exceptions.ClientError):
        kms.create_custom_key_store(
            CustomKeyStoreName="cks", CloudHsmClusterId="cluster-1234567890a",
            TrustAnchorCertificate="cert", KeyStorePassword="HSM-PASSWORD-1")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(botocore.exceptions.ClientError):
        kms.sign(KeyId=key, Message=b"SIGN-MESSAGE-SECRET", SigningAlgorithm="RSASSA_PSS_SHA_256")
    records = {r["eventName"]: r for r in cairn.records("Management")
               if r["eventSource"] == "kms.amazonaws.com"}
    store = records["CreateCustomKeyStore"]["requestParameters"]
    assert store["customKeyStoreName"] == "cks" and "keyStorePassword" not in store
    sign = records["Sign"]["requestParameters"]
    assert sign["keyId"] == key and "message" not in sign
    text = json.dumps(list(records.values()))
    assert "HSM-PASSWORD-1" not in text
    assert base64.b64encode(b"SIGN-MESSAGE-SECRET").decode() not in text


def test_sse_c_is_blocked_as_on_a_new_s3_bucket_and_its_key_never_kept(cairn):
    """S3 blocks SSE-C on new buckets (April 2026): writes asking for it are 403 AccessDenied
    and nothing is written; no object is SSE-C, so SSE-C headers on a read are 400. Cairn used
    to store such an object as SSE-S3 and serve it to anyone, key or not."""
    from conftest import err
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="ssec")
    s3.put_object(Bucket="ssec", Key="plain", Body=b"x")
    key = b"K" * 32
    sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    for call in (lambda: s3.put_object(Bucket="ssec", Key="c", Body=b"secret", **sse_c),
                 lambda: s3.create_multipart_upload(Bucket="ssec", Key="c", **sse_c),
                 lambda: s3.copy_object(Bucket="ssec", Key="c", CopySource="ssec/plain", **sse_c)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("AccessDenied", 403)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="ssec", Key="c")
    assert err(e)[1] == 404
    assert all(u["Key"] != "c" for u in s3.list_multipart_uploads(Bucket="ssec").get("Uploads", []))
    upload = s3.create_multipart_upload(Bucket="ssec", Key="mp")["UploadId"]
    part = s3.upload_part(Bucket="ssec", Key="mp", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    for call in (lambda: s3.get_object(Bucket="ssec", Key="plain", **sse_c),
                 lambda: s3.upload_part(Bucket="ssec", Key="mp", UploadId=upload, PartNumber=1,
                                        Body=b"p", **sse_c),
                 lambda: s3.complete_multipart_upload(Bucket="ssec", Key="mp", UploadId=upload,
                                                      MultipartUpload={"Parts": [
                                                          {"PartNumber": 1, "ETag": part}]},
                                                      **sse_c),
                 lambda: s3.upload_part_copy(Bucket="ssec", Key="mp", UploadId=upload,
                                             PartNumber=1, CopySource="ssec/plain",
                                             CopySourceSSECustomerAlgorithm="AES256",
                                             CopySourceSSECustomerKey=key),
                 lambda: s3.copy_object(Bucket="ssec", Key="d", CopySource="ssec/plain",
                                        CopySourceSSECustomerAlgorithm="AES256",
                                        CopySourceSSECustomerKey=key)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ("InvalidRequest", 400)
    text = json.dumps(cairn.records("Data") + cairn.records("Management"))
    assert base64.b64encode(key).decode() not in text and key.decode() not in text
