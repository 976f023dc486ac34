"""Pages of CloudFormation's and S3's listings, through boto3: every item exactly once, tokens
Cairn did not give refused with AWS's errors, and the markers S3 documents.

CloudFormation pages its lists at 100 (ListExports "if the output exceeds 100 exported output
values"); a NextToken is refused with `ValidationError` when it is not one Cairn gave for that
listing. Each stack event has its own EventId. S3 refuses a ContinuationToken it did not
give with `InvalidArgument` ("The continuation token provided is incorrect"), returns
ListObjects' NextMarker only when a delimiter was given, and refuses a negative max-parts."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import err

MANY = 105


@pytest.fixture(scope="module")
def cfn(cairn):
    return cairn.client("cloudformation")


@pytest.fixture(scope="module")
def big_stack(cfn):
    """A stack of 105 log groups, each exported: its events, resources and exports each need
    two pages."""
    resources = {f"LG{i:03d}": {"Type": "AWS::Logs::LogGroup",
                                "Properties": {"LogGroupName": f"/pages/lg{i:03d}"}}
                 for i in range(MANY)}
    outputs = {f"O{i:03d}": {"Value": {"Ref": f"LG{i:03d}"}, "Export": {"Name": f"exp{i:03d}"}}
               for i in range(MANY)}
    cfn.create_stack(StackName="pages-big",
                     TemplateBody=json.dumps({"Resources": resources, "Outputs": outputs}))
    cfn.get_waiter("stack_create_complete").wait(StackName="pages-big",
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    return "pages-big"


def collect(cfn, op, key, field, **kw):
    pages, items = 0, []
    for page in cfn.get_paginator(op).paginate(**kw):
        pages += 1
        items += [x[field] for x in page[key]]
        assert pages <= 10, f"{op} does not end"
    return pages, items


def test_stack_events_have_distinct_ids(cfn, big_stack):
    pages, ids = collect(cfn, "describe_stack_events", "StackEvents", "EventId",
                         StackName=big_stack)
    # Each log group: CREATE_IN_PROGRESS twice (initiated), CREATE_COMPLETE; and the stack's two.
    assert len(ids) == 3 * MANY + 2 and pages == 4
    assert len(set(ids)) == len(ids)
    again = cfn.describe_stack_events(StackName=big_stack)["StackEvents"]
    assert [e["EventId"] for e in again] == ids[:100]
    # A resource event is named by its resource.
    lg = next(e for e in again if e["ResourceType"] == "AWS::Logs::LogGroup")
    assert lg["EventId"].startswith(lg["LogicalResourceId"] + "-")


def test_exports_and_resources_page_past_100(cfn, big_stack):
    first = cfn.list_exports()
    assert len(first["Exports"]) == 100 and "NextToken" in first
    pages, names = collect(cfn, "list_exports", "Exports", "Name")
    assert (pages, names) == (2, [f"exp{i:03d}" for i in range(MANY)])
    pages, logical = collect(cfn, "list_stack_resources", "StackResourceSummaries",
                             "LogicalResourceId", StackName=big_stack)
    assert (pages, logical) == (2, [f"LG{i:03d}" for i in range(MANY)])


def test_stacks_page_without_skipping_or_repeating(cfn, big_stack):
    _, listed = collect(cfn, "list_stacks", "StackSummaries", "StackName")
    _, described = collect(cfn, "describe_stacks", "Stacks", "StackName")
    assert listed.count(big_stack) == 1 and described.count(big_stack) == 1
    assert len(set(listed)) == len(listed) and len(set(described)) == len(described)


@pytest.mark.parametrize("op,kw", [
    ("list_stacks", {}),
    ("describe_stacks", {}),
    ("list_exports", {}),
    ("list_stack_resources", {"StackName": "pages-big"}),
    ("list_change_sets", {"StackName": "pages-big"}),
    ("describe_stack_events", {"StackName": "pages-big"}),
])
def test_a_token_cairn_did_not_give_is_refused(cfn, big_stack, op, kw):
    for token in ("garbage", "1"):
        with pytest.raises(ClientError) as e:
            getattr(cfn, op)(NextToken=token, **kw)
        assert err(e) == ("ValidationError", 400)
        assert e.value.response["Error"]["Message"] == f"{token} is not a valid NextToken"


def test_a_token_of_another_listing_is_refused(cfn, big_stack):
    token = cfn.list_exports()["NextToken"]
    with pytest.raises(ClientError) as e:
        cfn.list_stack_resources(StackName=big_stack, NextToken=token)
    assert err(e) == ("ValidationError", 400)
    token = cfn.list_stack_resources(StackName=big_stack)["NextToken"]
    assert len(cfn.list_stack_resources(StackName=big_stack, NextToken=token)
               ["StackResourceSummaries"]) == MANY - 100


def test_export_pages_start_after_the_last_name_listed(cfn, big_stack):
    """A keyset token: an export that goes away before the next page does not move it."""
    token = cfn.list_exports()["NextToken"]
    small = {"Resources": {"G": {"Type": "AWS::Logs::LogGroup"}},
             "Outputs": {"O": {"Value": "v", "Export": {"Name": "exp000a"}}}}
    cfn.create_stack(StackName="pages-small", TemplateBody=json.dumps(small))
    cfn.get_waiter("stack_create_complete").wait(StackName="pages-small",
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    second = cfn.list_exports(NextToken=token)["Exports"]
    assert [x["Name"] for x in second] == [f"exp{i:03d}" for i in range(100, MANY)]
    cfn.delete_stack(StackName="pages-small")
    cfn.get_waiter("stack_delete_complete").wait(StackName="pages-small",
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 60})


@pytest.fixture(scope="module")
def s3(cairn):
    client = cairn.client("s3")
    client.create_bucket(Bucket="pages-bkt")
    for k in ("a1", "a2", "a3", "b1"):
        client.put_object(Bucket="pages-bkt", Key=k, Body=b"x")
    return client


def test_list_objects_names_next_marker_only_with_a_delimiter(s3):
    page = s3.list_objects(Bucket="pages-bkt", MaxKeys=2, Prefix="a")
    assert page["IsTruncated"] is True and "NextMarker" not in page
    assert [o["Key"] for o in page["Contents"]] == ["a1", "a2"]
    page = s3.list_objects(Bucket="pages-bkt", MaxKeys=2, Delimiter="/")
    assert page["IsTruncated"] is True and page["NextMarker"] == "a2"


def test_list_parts_refuses_a_negative_max_parts(s3):
    up = s3.create_multipart_upload(Bucket="pages-bkt", Key="mp")["UploadId"]
    for n in (1, 2):
        s3.upload_part(Bucket="pages-bkt", Key="mp", UploadId=up, PartNumber=n, Body=b"p")
    for args, message in (
            ({"MaxParts": -1}, "Argument max-parts must be an integer between 0 and 2147483647"),
            ({"PartNumberMarker": -1},
             "Argument part-number-marker must be an integer between 0 and 2147483647")):
        with pytest.raises(ClientError) as e:
            s3.list_parts(Bucket="pages-bkt", Key="mp", UploadId=up, **args)
        assert err(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["Message"] == message
    empty = s3.list_parts(Bucket="pages-bkt", Key="mp", UploadId=up, MaxParts=0)
    assert empty.get("Parts", []) == [] and empty["MaxParts"] == 0
    assert empty["IsTruncated"] is False
    one = s3.list_parts(Bucket="pages-bkt", Key="mp", UploadId=up, MaxParts=1)
    assert [p["PartNumber"] for p in one["Parts"]] == [1] and one["IsTruncated"] is True


def test_delimiter_listings_page_like_a_model_of_s3(s3):
    """Keys under many prefixes of one or several keys, listed with a delimiter in pages of
    every size: the pages join into the keys and common prefixes S3 lists, once each."""
    import random
    rnd = random.Random(7)
    s3.create_bucket(Bucket="model-bkt")
    keys = sorted({f"p{rnd.randrange(60):02d}/" + ("x" * rnd.randrange(1, 4)) for _ in range(150)}
                  | {f"top{n}" for n in range(5)} | {f"p{n:02d}/deep/k" for n in range(0, 60, 7)})
    for k in keys:
        s3.put_object(Bucket="model-bkt", Key=k, Body=b"")
    want_prefixes = sorted({k.split("/")[0] + "/" for k in keys if "/" in k})
    want_keys = [k for k in keys if "/" not in k]
    for size in (1, 2, 3, 7, 16, 17, 1000):
        got_keys, got_prefixes, token = [], [], None
        while True:
            page = s3.list_objects_v2(Bucket="model-bkt", Delimiter="/", MaxKeys=size,
                                      **({"ContinuationToken": token} if token else {}))
            got_keys += [o["Key"] for o in page.get("Contents", [])]
            got_prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
        assert (got_keys, got_prefixes) == (want_keys, want_prefixes), size


def test_a_continuation_token_cairn_did_not_give_is_refused(s3, cairn):
    for token in ("AAAA", "YTE", "garbage"):
        with pytest.raises(ClientError) as e:
            s3.list_objects_v2(Bucket="pages-bkt", ContinuationToken=token)
        assert err(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["Message"] == \
            "The continuation token provided is incorrect"
    page = s3.list_objects_v2(Bucket="pages-bkt", MaxKeys=2)
    token = page["NextContinuationToken"]
    # A token of one bucket does not list another.
    s3.create_bucket(Bucket="pages-other")
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="pages-other", ContinuationToken=token)
    assert err(e) == ("InvalidArgument", 400)
    # Tokens outlive a restart (the key is the store's); this test runs last, as the server
    # moves to another port.
    cairn.restart()
    again = cairn.client("s3").list_objects_v2(Bucket="pages-bkt", ContinuationToken=token)
    assert [o["Key"] for o in again["Contents"]] == ["a3", "b1"]

