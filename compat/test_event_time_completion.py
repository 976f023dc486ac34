"""A record's `eventTime` is when its call completed, as CloudTrail's record reference says
("The date and time the request was completed"), left out by earlier sessions (upgrade4 #2;
failed before the fix): a slow upload was recorded as of its first byte."""

import datetime
import http.client
import time
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET, cloudtrail_policy


def test_a_slow_upload_is_recorded_when_it_completed(cairn):
    s3, ct = cairn.client("s3"), cairn.client("cloudtrail")
    s3.create_bucket(Bucket="slow-logs")
    s3.put_bucket_policy(Bucket="slow-logs", Policy=cloudtrail_policy("slow-logs"))
    s3.create_bucket(Bucket="slow-data")
    ct.create_trail(Name="slow", S3BucketName="slow-logs")
    ct.put_event_selectors(TrailName="slow", EventSelectors=[{"DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::slow-data/"]}]}])
    ct.start_logging(Name="slow")
    body = b"x" * 4096
    url = cairn.endpoint + "/slow-data/slow.bin"
    req = AWSRequest("PUT", url, data=body, headers={
        "Content-Length": str(len(body)), "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(req)
    target = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(target.hostname, target.port)
    started = time.time()
    conn.putrequest("PUT", target.path, skip_accept_encoding=True)
    for k, v in req.headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(body[:1024])
    time.sleep(2.2)  # the slow client: the rest of the body comes later
    conn.send(body[1024:])
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    finished = time.time()
    records = [r for r in cairn.records("Data")
               if r["eventName"] == "PutObject" and r["requestParameters"]["key"] == "slow.bin"]
    assert len(records) == 1, records
    at = datetime.datetime.strptime(records[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert int(started) + 2 <= at <= finished, (started, at, finished)
