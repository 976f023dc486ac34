"""S3 records say how each request was signed, as AWS's do (`additionalEventData`
`SignatureVersion` SigV2/SigV4, `AuthenticationMethod` AuthHeader/QueryString): the field
AWS's guides use to find SigV2 and presigned-URL use in a trail."""

import json

import boto3
import botocore.config
import requests

from conftest import ACCESS_KEY, SECRET


def client(cairn, version):
    return boto3.client("s3", endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=botocore.config.Config(signature_version=version))


def signing_of(cairn, request_id):
    events = cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListBuckets"}])["Events"]
    for e in events:
        record = json.loads(e["CloudTrailEvent"])
        if record["requestID"] == request_id:
            extra = record["additionalEventData"]
            return extra["SignatureVersion"], extra["AuthenticationMethod"]
    raise AssertionError(f"no ListBuckets record with request id {request_id}")


def test_each_signing_style_is_recorded(cairn):
    seen = {}
    for version in ("s3v4", "s3"):
        listed = client(cairn, version).list_buckets()
        seen[(version, "header")] = listed["ResponseMetadata"]["RequestId"]
        url = client(cairn, version).generate_presigned_url("list_buckets", ExpiresIn=300)
        response = requests.get(url)
        assert response.status_code == 200, response.text
        seen[(version, "url")] = response.headers["x-amz-request-id"]
    assert signing_of(cairn, seen[("s3v4", "header")]) == ("SigV4", "AuthHeader")
    assert signing_of(cairn, seen[("s3v4", "url")]) == ("SigV4", "QueryString")
    assert signing_of(cairn, seen[("s3", "header")]) == ("SigV2", "AuthHeader")
    assert signing_of(cairn, seen[("s3", "url")]) == ("SigV2", "QueryString")
