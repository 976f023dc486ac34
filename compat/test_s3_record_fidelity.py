"""S3 data events compared with AWS's own (fixtures/s3_records.json: real ListObjects records
from the OTRF dataset, Panther's CopyObject/PutObject rule events), found by an outside
tester: writes record the encryption headers they sent and the encryption applied (with an
SSE-KMS object's key among the resources), a copy transfers no bytes in, and listings record
the query as sent, the objects they cover as an `ARNPrefix` resource and the listing's size."""

import json
import os

import pytest

ACCOUNT = "123456789012"
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "s3_records.json")


@pytest.fixture(scope="module")
def aws():
    with open(FIXTURES) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def s3(cairn):
    """A client, with a logging trail that selects every S3 data event."""
    from conftest import cloudtrail_policy
    c = cairn.client("s3")
    c.create_bucket(Bucket="fidelity-trail")
    c.put_bucket_policy(Bucket="fidelity-trail", Policy=cloudtrail_policy("fidelity-trail"))
    ct = cairn.client("cloudtrail")
    ct.create_trail(Name="fidelity", S3BucketName="fidelity-trail")
    ct.put_event_selectors(TrailName="fidelity", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
    ct.start_logging(Name="fidelity")
    c.create_bucket(Bucket="fidelity-bkt")
    return c


def records(cairn, name, bucket="fidelity-bkt", key=None):
    found = [r for r in cairn.records("Data") if r["eventName"] == name
             and r["requestParameters"].get("bucketName") == bucket
             and (key is None or r["requestParameters"].get("key") == key)]
    assert found, f"no {name} record for {bucket}/{key}"
    return found


def body_sizes(client):
    """The byte length of each response body the client receives, by request id."""
    sizes = {}

    def keep(http_response, **_):
        sizes[http_response.headers.get("x-amz-request-id")] = len(http_response.content)
    client.meta.events.register("after-call.s3", keep)
    return sizes


def test_sse_kms_put_and_copy_record_their_encryption(cairn, s3, aws):
    key = cairn.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_object(Bucket="fidelity-bkt", Key="secret", Body=b"x" * 10,
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    s3.copy_object(Bucket="fidelity-bkt", Key="secret", CopySource="fidelity-bkt/secret",
                   ServerSideEncryption="aws:kms", SSEKMSKeyId=key, BucketKeyEnabled=True)
    put = records(cairn, "PutObject", key="secret")[-1]
    copy = records(cairn, "CopyObject", key="secret")[-1]
    for r in (put, copy):
        assert r["requestParameters"]["x-amz-server-side-encryption"] == "aws:kms", r
        assert r["requestParameters"]["x-amz-server-side-encryption-aws-kms-key-id"] == key
        assert r["responseElements"]["x-amz-server-side-encryption"] == "aws:kms"
        assert r["responseElements"]["x-amz-server-side-encryption-aws-kms-key-id"] == key
        assert {"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key} in r["resources"]
    assert copy["requestParameters"]["x-amz-server-side-encryption-bucket-key-enabled"] == "true"
    assert copy["responseElements"]["x-amz-server-side-encryption-bucket-key-enabled"] == "true"
    assert "x-amz-server-side-encryption-bucket-key-enabled" not in put["responseElements"]
    # What Panther's AWS.S3.CopyObject.CrossAccount.Encryption.KMS rule reads is where its
    # fixture has it, and the rule (same-account key) decides as it would on AWS.
    fixture = aws["panther_copy_object_kms"]
    assert set(fixture["requestParameters"]) <= set(copy["requestParameters"])
    assert {r["type"] for r in fixture["resources"]} <= {r["type"] for r in copy["resources"]}
    key_account = copy["requestParameters"]["x-amz-server-side-encryption-aws-kms-key-id"].split(":")[4]
    assert key_account == copy["recipientAccountId"]


def test_a_plain_put_records_the_default_sse_s3(cairn, s3, aws):
    s3.put_object(Bucket="fidelity-bkt", Key="plain", Body=b"hello")
    put = records(cairn, "PutObject", key="plain")[-1]
    assert put["responseElements"] == aws["panther_put_object_sse_s3"]["responseElements"] \
        == {"x-amz-server-side-encryption": "AES256"}
    assert not any(k.startswith("x-amz-server-side-encryption") for k in put["requestParameters"])
    assert [r["type"] for r in put["resources"]] == ["AWS::S3::Object", "AWS::S3::Bucket"]
    # S3 wraps the user agent in brackets, as every S3 record AWS writes does.
    assert put["userAgent"].startswith("[Boto3/") and put["userAgent"].endswith("]")


def test_copies_transfer_nothing_in_and_sizes_are_plaintext(cairn, s3):
    s3.put_object(Bucket="fidelity-bkt", Key="src", Body=b"a" * 100)
    s3.copy_object(Bucket="fidelity-bkt", Key="dst", CopySource="fidelity-bkt/src")
    s3.get_object(Bucket="fidelity-bkt", Key="dst")["Body"].read()
    up = s3.create_multipart_upload(Bucket="fidelity-bkt", Key="mp")["UploadId"]
    s3.upload_part(Bucket="fidelity-bkt", Key="mp", UploadId=up, PartNumber=1, Body=b"b" * 70)
    s3.upload_part_copy(Bucket="fidelity-bkt", Key="mp", UploadId=up, PartNumber=2,
                        CopySource="fidelity-bkt/src")
    s3.abort_multipart_upload(Bucket="fidelity-bkt", Key="mp", UploadId=up)
    extra = lambda name, key: records(cairn, name, key=key)[-1]["additionalEventData"]
    assert extra("CopyObject", "dst")["bytesTransferredIn"] == 0
    assert extra("UploadPartCopy", "mp")["bytesTransferredIn"] == 0
    assert extra("UploadPart", "mp")["bytesTransferredIn"] == 70
    assert extra("PutObject", "src")["bytesTransferredIn"] == 100
    assert extra("GetObject", "dst")["bytesTransferredOut"] == 100
    assert s3.head_object(Bucket="fidelity-bkt", Key="dst")["ContentLength"] == 100
    [listed] = s3.list_objects_v2(Bucket="fidelity-bkt", Prefix="dst")["Contents"]
    assert listed["Size"] == 100


def test_listings_record_the_query_as_sent(cairn, s3, aws):
    s3.create_bucket(Bucket="listing-bkt")
    for k in ("a", "logs/1", "logs/2"):
        s3.put_object(Bucket="listing-bkt", Key=k, Body=b"x")
    sizes = body_sizes(s3)
    plain = s3.list_objects_v2(Bucket="listing-bkt")["ResponseMetadata"]["RequestId"]
    s3.list_objects_v2(Bucket="listing-bkt", Prefix="logs/", Delimiter="/", MaxKeys=5,
                       StartAfter="logs/0")
    s3.list_objects(Bucket="listing-bkt", Marker="a")
    v2, filtered, v1 = records(cairn, "ListObjects", bucket="listing-bkt")[-3:]
    host = v2["requestParameters"]["Host"]
    # boto3 sends list-type and encoding-type=url and nothing else it was not given.
    assert v2["requestParameters"] == {"bucketName": "listing-bkt", "Host": host,
                                       "list-type": "2", "encoding-type": "url"}
    assert filtered["requestParameters"] == {
        "bucketName": "listing-bkt", "Host": host, "list-type": "2", "encoding-type": "url",
        "prefix": "logs/", "delimiter": "/", "max-keys": "5", "start-after": "logs/0"}
    assert v1["requestParameters"] == {"bucketName": "listing-bkt", "Host": host,
                                       "encoding-type": "url", "marker": "a"}
    bucket = {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::listing-bkt"}
    assert v2["resources"] == [{"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::listing-bkt/"}, bucket]
    assert filtered["resources"][0] == {"type": "AWS::S3::Object",
                                        "ARNPrefix": "arn:aws:s3:::listing-bkt/logs/"}
    # bytesTransferredOut is the listing's size, as the client received it.
    assert v2["requestID"] == plain
    assert v2["additionalEventData"]["bytesTransferredOut"] == sizes[plain] > 0
    assert v2["additionalEventData"]["bytesTransferredIn"] == 0
    # AWS's own records of the same listing: the same parameters and resources, in shape.
    for name in ("otrf_list_objects_v2", "otrf_list_objects_v2_delimiter"):
        real = aws[name]
        assert [sorted(r) for r in real["resources"]] == [sorted(r) for r in v2["resources"]]
        assert set(real["additionalEventData"]) - {"CipherSuite"} <= set(v2["additionalEventData"])


def test_the_cli_listing_records_what_aws_records(cairn, s3, aws):
    cairn.cli("s3", "mb", "s3://cli-listing-bkt")
    cairn.cli("s3", "ls", "s3://cli-listing-bkt")
    listed = records(cairn, "ListObjects", bucket="cli-listing-bkt")[-1]
    real = aws["otrf_list_objects_v2_delimiter"]
    assert set(listed["requestParameters"]) == set(real["requestParameters"])
    for name in ("prefix", "list-type", "encoding-type", "delimiter"):
        assert listed["requestParameters"][name] == real["requestParameters"][name], name
    assert listed["resources"][0] == {"type": "AWS::S3::Object",
                                      "ARNPrefix": "arn:aws:s3:::cli-listing-bkt/"}


def test_no_such_key_names_no_key_in_its_message(cairn, s3):
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="fidelity-bkt", Key="missing-key")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["Error"]["Message"] == "The specified key does not exist."
    failed = records(cairn, "GetObject", key="missing-key")[-1]
    assert failed["errorMessage"] == "The specified key does not exist."


def test_request_and_host_ids_are_shaped_as_s3s(cairn, s3):
    """S3's request id is 16 upper-case hex characters and its host id (x-amz-id-2) a
    separate base64 string, in the response, an error body and the record (real records:
    `A471D1060ED5FD07`, OTRF's ec2_proxy_s3_exfiltration)."""
    import re
    seen = {}

    def keep(http_response, **_):
        seen["headers"] = dict(http_response.headers)
        seen["body"] = http_response.content
    s3.meta.events.register("after-call.s3.PutObject", keep)
    s3.put_object(Bucket="fidelity-bkt", Key="ids", Body=b"x")
    rid, host = seen["headers"]["x-amz-request-id"], seen["headers"]["x-amz-id-2"]
    assert re.fullmatch(r"[0-9A-F]{16}", rid), rid
    assert re.fullmatch(r"[A-Za-z0-9+/]{76}", host) and host != rid, host
    put = [r for r in records(cairn, "PutObject", key="ids") if r["requestID"] == rid]
    assert put and put[0]["additionalEventData"]["x-amz-id-2"] == host
    missing = cairn.client("s3")
    missing.meta.events.register("after-call.s3.GetObject", keep)
    with pytest.raises(missing.exceptions.NoSuchKey):
        missing.get_object(Bucket="fidelity-bkt", Key="absent")
    assert f"<HostId>{seen['headers']['x-amz-id-2']}</HostId>".encode() in seen["body"]


def test_an_acl_cairn_refuses_is_recorded_with_its_grants(cairn, s3):
    """PutBucketAcl is not carried out, but its record keeps the AccessControlPolicy as S3's
    records show it (the S3 user guide's PutBucketAcl example), so a grant to everyone is seen."""
    everyone = "http://acs.amazonaws.com/groups/global/AllUsers"
    with pytest.raises(Exception):
        s3.put_bucket_acl(Bucket="fidelity-bkt", AccessControlPolicy={
            "Owner": {"ID": "owner-id"},
            "Grants": [{"Grantee": {"Type": "Group", "URI": everyone}, "Permission": "READ"}]})
    [acl] = [r for r in cairn.records("Management") if r["eventName"] == "PutBucketAcl"
             and r["requestParameters"].get("bucketName") == "fidelity-bkt"]
    policy = acl["requestParameters"]["AccessControlPolicy"]
    assert policy["xmlns"] == "http://s3.amazonaws.com/doc/2006-03-01/"
    assert policy["Owner"] == {"ID": "owner-id"}
    grant = policy["AccessControlList"]["Grant"]
    assert grant["Grantee"]["URI"] == everyone and grant["Grantee"]["xsi:type"] == "Group"
    assert grant["Permission"] == "READ"
    assert acl["errorCode"] == "AccessControlListNotSupported"
    assert acl["additionalEventData"]["bytesTransferredIn"] > 0


def test_a_role_sessions_s3_data_events_have_no_web_identity_member(cairn, s3):
    """A role session's S3 data events carry `sessionContext` without `webIdFederationData`
    (the OTRF capture: the same session's ListBuckets has `{}`, its GetObject none)."""
    iam = cairn.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="s3-session-rf", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="s3-session-rf", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    iam.create_user(UserName="s3-assumer-rf")
    iam.put_user_policy(UserName="s3-assumer-rf", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="s3-assumer-rf")["AccessKey"]
    sts = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/s3-session-rf",
                                            RoleSessionName="rf")["Credentials"]
    session = cairn.client_with(creds["AccessKeyId"], creds["SecretAccessKey"], "s3",
                                token=creds["SessionToken"])
    session.list_buckets()
    session.put_object(Bucket="fidelity-bkt", Key="by-session", Body=b"x")
    put = records(cairn, "PutObject", key="by-session")[-1]
    assert put["userIdentity"]["type"] == "AssumedRole"
    assert list(put["userIdentity"]["sessionContext"]) == ["sessionIssuer", "attributes"]
    listed = [r for r in cairn.records("Management") if r["eventName"] == "ListBuckets"
              and r["userIdentity"].get("accessKeyId") == creds["AccessKeyId"]]
    assert listed and listed[-1]["userIdentity"]["sessionContext"]["webIdFederationData"] == {}


def test_delete_objects_names_the_objects_as_an_arn_prefix(cairn, s3):
    """Before (s3ver3 F3), a DeleteObjects record named only the bucket: detections keyed on
    `AWS::S3::Object` resources missed batch deletes."""
    s3.create_bucket(Bucket="batch-del-bkt")
    s3.put_object(Bucket="batch-del-bkt", Key="a", Body=b"x")
    s3.delete_objects(Bucket="batch-del-bkt", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    [rec] = records(cairn, "DeleteObjects", bucket="batch-del-bkt")[-1:]
    assert rec["resources"] == [
        {"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::batch-del-bkt/"},
        {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::batch-del-bkt"}]


def test_upload_listings_record_their_query_as_sent(cairn, s3):
    """Before (s3ver3 F4), ListMultipartUploads and ListParts records left out the query
    members the client sent, which ListObjects' records keep."""
    s3.create_bucket(Bucket="uploads-query-bkt")
    up = s3.create_multipart_upload(Bucket="uploads-query-bkt", Key="q/mp")["UploadId"]
    s3.list_multipart_uploads(Bucket="uploads-query-bkt", Prefix="q/", Delimiter="/",
                              MaxUploads=7, KeyMarker="a")
    s3.list_parts(Bucket="uploads-query-bkt", Key="q/mp", UploadId=up, MaxParts=5,
                  PartNumberMarker=0)
    [uploads] = records(cairn, "ListMultipartUploads", bucket="uploads-query-bkt")[-1:]
    params = uploads["requestParameters"]
    for k, v in {"uploads": "", "prefix": "q/", "delimiter": "/", "max-uploads": "7",
                 "key-marker": "a"}.items():
        assert params.get(k) == v, (k, params)
    [parts] = records(cairn, "ListParts", bucket="uploads-query-bkt")[-1:]
    params = parts["requestParameters"]
    assert (params["uploadId"], params["max-parts"], params["part-number-marker"]) == (up, "5", "0"), params


def test_part_reads_record_their_part_number(cairn, s3):
    """Before (s3ver3 F4), HeadObject and GetObject with `partNumber` left it out of the
    record."""
    # A client of its own: the module's records every body it receives.
    c = cairn.client("s3")
    c.create_bucket(Bucket="part-read-bkt")
    c.put_object(Bucket="part-read-bkt", Key="obj", Body=b"x" * 10)
    c.head_object(Bucket="part-read-bkt", Key="obj", PartNumber=1)
    assert c.get_object(Bucket="part-read-bkt", Key="obj", PartNumber=1)["Body"].read() == b"x" * 10
    for name in ("HeadObject", "GetObject"):
        [rec] = records(cairn, name, bucket="part-read-bkt")[-1:]
        assert rec["requestParameters"].get("partNumber") == "1", rec
