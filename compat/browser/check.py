"""boto3 checks the browser tests run after acting in the console: prints one JSON object.

usage: check.py ENDPOINT COMMAND [ARGS...]
  trail NAME                 the trail, its status, selectors, tags, and its bucket's policy
  lookup KEY VALUE           LookupEvents items for one attribute (all pages, read-only too)
  put-event NAME             makes a CloudTrail call whose parameters contain HTML (a failing
                             GetTrail on a name with <script>)
  unicode-events GROUP       a log group whose events hold a right-to-left override and a
                             very long error message
  trails                     DescribeTrails
  delete-trail NAME          DeleteTrail
  keys BUCKET PREFIX         the object keys under a prefix
"""

import json
import sys

import boto3
from botocore.config import Config


def clients(endpoint):
    cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    ct = boto3.client("cloudtrail", endpoint_url=endpoint, config=cfg)
    s3 = boto3.client("s3", endpoint_url=endpoint, config=cfg)
    return ct, s3


def trail(endpoint, name):
    ct, s3 = clients(endpoint)
    t = ct.get_trail(Name=name)["Trail"]
    status = ct.get_trail_status(Name=name)
    selectors = ct.get_event_selectors(TrailName=name)
    tags = ct.list_tags(ResourceIdList=[t["TrailARN"]])["ResourceTagList"][0].get("TagsList", [])
    policy = json.loads(s3.get_bucket_policy(Bucket=t["S3BucketName"])["Policy"])
    try:
        insights = ct.get_insight_selectors(TrailName=name).get("InsightSelectors", [])
    except ct.exceptions.InsightNotEnabledException:
        insights = []
    return {
        "insightSelectors": insights,
        "trail": t,
        "isLogging": status["IsLogging"],
        "eventSelectors": selectors.get("EventSelectors", []),
        "tags": tags,
        "bucketPolicy": policy,
    }


def lookup(endpoint, key, value):
    ct, _ = clients(endpoint)
    items = []
    kwargs = {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}
    while True:
        page = ct.lookup_events(**kwargs)
        for e in page["Events"]:
            e["EventTime"] = e["EventTime"].timestamp()
            items.append(e)
        if "NextToken" not in page:
            return {"events": items}
        kwargs["NextToken"] = page["NextToken"]


def put_event(endpoint, name):
    ct, _ = clients(endpoint)
    try:
        ct.create_trail(Name=name, S3BucketName="<b>no-such-bucket</b>")
    except ct.exceptions.ClientError as e:
        return {"error": e.response["Error"]["Code"]}
    return {"error": None}


def unicode_events(endpoint, group):
    """A log group with a stream named with a right-to-left override, and a refused stream
    name long enough to give a 500-character error message."""
    cfg = Config(retries={"max_attempts": 1})
    logs = boto3.client("logs", endpoint_url=endpoint, config=cfg)
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="\u202egpj.exe")
    try:
        logs.create_log_stream(logGroupName=group, logStreamName="\u05d0" * 513)
    except logs.exceptions.ClientError as e:
        return {"error": e.response["Error"]["Code"]}
    return {"error": None}


def insights_burst(endpoint, name):
    """A logging trail with API call rate Insights on, then a burst of 12 AddTags calls."""
    ct, s3 = clients(endpoint)
    bucket = f"{name}-bucket"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}))
    arn = ct.create_trail(Name=name, S3BucketName=bucket)["TrailARN"]
    ct.start_logging(Name=name)
    ct.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    for i in range(12):
        ct.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}", "Value": "v"}])
    return {"arn": arn}


def main():
    endpoint, command, *args = sys.argv[1:]
    if command == "trail":
        out = trail(endpoint, *args)
    elif command == "lookup":
        out = lookup(endpoint, *args)
    elif command == "put-event":
        out = put_event(endpoint, *args)
    elif command == "unicode-events":
        out = unicode_events(endpoint, *args)
    elif command == "keys":
        _, s3 = clients(endpoint)
        bucket, prefix = args
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        out = {"keys": [o["Key"] for p in pages for o in p.get("Contents", [])]}
    elif command == "insights-burst":
        out = insights_burst(endpoint, *args)
    elif command == "trails":
        ct, _ = clients(endpoint)
        out = ct.describe_trails()
        out.pop("ResponseMetadata", None)
    elif command == "delete-trail":
        ct, _ = clients(endpoint)
        ct.delete_trail(Name=args[0])
        out = {}
    else:
        raise SystemExit(f"unknown command {command}")
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
