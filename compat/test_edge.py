"""Errors every client can parse, and bucket policies that bind bucket-level calls (issue 7)."""

import json
import os
import subprocess

import botocore.exceptions
import pytest

from conftest import ACCESS_KEY


def test_unserved_query_services_answer_in_xml_the_cli_parses(cairn):
    for args, code in ((["ec2", "describe-instances"], "InvalidAction"),
                       (["rds", "describe-db-instances"], "InvalidAction"),
                       (["sqs", "list-queues"], "UnknownOperationException"),
                       (["kinesis", "list-streams"], "UnknownOperationException")):
        out = cairn.cli(*args, check=False)
        assert out.returncode != 0
        assert "Unable to parse response" not in out.stderr, out.stderr
        assert f"({code})" in out.stderr, out.stderr
        assert "Cairn does not serve" in out.stderr, out.stderr


def test_a_query_call_whose_credential_does_not_parse_gets_its_service_error(cairn):
    # An access key containing "/" breaks the credential scope: IAM, not S3, must answer.
    env = dict(os.environ, AWS_ACCESS_KEY_ID="/abc", AWS_SECRET_ACCESS_KEY="x",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    out = subprocess.run(["aws", "--endpoint-url", cairn.endpoint, "iam", "list-users"],
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "(Unknown)" not in out.stderr and "(IncompleteSignature)" in out.stderr, out.stderr


def test_s3_signature_errors_carry_aws_message_and_request_id(cairn):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY="wrong-secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    out = subprocess.run(["aws", "--endpoint-url", cairn.endpoint, "s3api", "list-buckets"],
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "(SignatureDoesNotMatch)" in out.stderr, out.stderr
    assert "The request signature we calculated does not match" in out.stderr, out.stderr
    bad = cairn.client("s3")
    bad._request_signer._credentials.secret_key = "wrong-secret"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.list_buckets()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["RequestId"]


def test_a_bucket_policy_deny_binds_bucket_level_calls(cairn):
    """A Deny binds bucket-level calls too. The one exception is S3's: the owning account's
    root user may always get, put and delete the bucket policy, so no policy locks its owner
    out for good."""
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="deny-bkt")
    s3.put_bucket_policy(Bucket="deny-bkt", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "KeepThisPolicy", "Effect": "Deny", "Principal": "*",
        "Action": ["s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucket",
                   "s3:PutLifecycleConfiguration"],
        "Resource": "arn:aws:s3:::deny-bkt"}]}))
    iam = cairn.client("iam")
    iam.create_user(UserName="s3-admin")
    iam.attach_user_policy(UserName="s3-admin", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    key = iam.create_access_key(UserName="s3-admin")["AccessKey"]
    admin = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")
    lifecycle = {"Rules": [{"ID": "x", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}]}
    for call in (lambda: admin.delete_bucket_policy(Bucket="deny-bkt"),
                 lambda: admin.put_bucket_policy(Bucket="deny-bkt", Policy="{}"),
                 lambda: s3.delete_bucket(Bucket="deny-bkt"),
                 lambda: s3.put_bucket_lifecycle_configuration(Bucket="deny-bkt",
                                                               LifecycleConfiguration=lifecycle)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        assert "explicit deny in a resource-based policy" in e.value.response["Error"]["Message"]
    assert "KeepThisPolicy" in s3.get_bucket_policy(Bucket="deny-bkt")["Policy"]
    denied = [r for r in cairn.records("Management")
              if r["eventName"] == "DeleteBucketPolicy" and r.get("errorCode") == "AccessDenied"]
    assert denied and "deny-bkt" in denied[0]["requestParameters"]["bucketName"]
    assert denied[0]["userIdentity"]["userName"] == "s3-admin"
    # The owner's root user can still remove the policy.
    s3.delete_bucket_policy(Bucket="deny-bkt")
    s3.put_bucket_lifecycle_configuration(Bucket="deny-bkt", LifecycleConfiguration=lifecycle)


def test_an_oversized_unsigned_form_post_is_answered_in_the_query_protocol(cairn):
    """An unsigned STS call (AssumeRoleWithWebIdentity) over the body limit got S3's error
    document, which the Query SDKs cannot read (model-driven fuzz tester)."""
    import urllib.error
    import urllib.request
    body = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=" + b"x" * (9 << 20)
    req = urllib.request.Request(cairn.endpoint.rstrip("/") + "/", data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 413
    text = e.value.read().decode()
    assert text.startswith("<ErrorResponse") or "<ErrorResponse" in text, text
    assert "<Code>RequestEntityTooLargeException</Code>" in text


def test_a_body_over_the_limit_is_read_before_its_refusal(cairn):
    """A client still sending a body over the limit when the server refused it got a reset
    connection (EPIPE: the JS SDK's PutLogEvents of 20 MB) instead of the 413; the body is now
    read and discarded first, so the client reads the refusal."""
    import socket
    from urllib.parse import urlparse
    u = urlparse(cairn.endpoint)
    body = b"{" + b" " * (20 << 20) + b"}"
    head = (f"POST / HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: application/x-amz-json-1.1\r\n"
            f"X-Amz-Target: Logs_20140328.PutLogEvents\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection((u.hostname, u.port), timeout=30) as s:
        s.sendall(head.encode())
        s.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
