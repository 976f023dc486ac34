"""Each CloudTrail operation is authorized on the members it acts on, never on a member of
another operation that a hand-made request adds (outside tester lake4):
- AddTags/RemoveTags on `ResourceId` alone. They used to be authorized on `ResourceIdList`
  (ListTags' member) when present, so `"ResourceIdList": []` skipped the check and naming a
  permitted trail got past a Deny on the one tagged;
- `EventDataStoreOwnerAccountId` moves only the query operations to another account's store;
  on any other Lake operation it used to move the check away from the caller's own stores;
- ListTags counts its 20 resources before it looks any up."""

import json

import botocore
import pytest

from conftest import cloudtrail_policy, user_with

STORES = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/*"


def with_extra_members(client, operation, members):
    """`client` with `members` added to the JSON body of `operation` before it is signed."""
    def add(request, **_):
        body = json.loads(request.body or b"{}")
        body.update(members)
        request.data = json.dumps(body).encode()
        if "Content-Length" in request.headers:
            del request.headers["Content-Length"]
    client.meta.events.register(f"before-sign.cloudtrail.{operation}", add)
    return client


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def trails(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="member-authz")
    s3.put_bucket_policy(Bucket="member-authz", Policy=cloudtrail_policy("member-authz"))
    ct = cairn.client("cloudtrail")
    return [ct.create_trail(Name=n, S3BucketName="member-authz")["TrailARN"] for n in ("guarded", "open")]


def tags_of(cairn, arn):
    listed = cairn.client("cloudtrail").list_tags(ResourceIdList=[arn])["ResourceTagList"]
    return listed[0].get("TagsList", [])


def test_add_and_remove_tags_are_authorized_on_resource_id(cairn, trails):
    guarded, open_ = trails
    nobody = user_with(cairn, "tags-nobody", [
        {"Effect": "Allow", "Action": "cloudtrail:ListTags", "Resource": "*"}])
    tagger = user_with(cairn, "tags-open-only", [
        {"Effect": "Allow", "Action": ["cloudtrail:AddTags", "cloudtrail:RemoveTags"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["cloudtrail:AddTags", "cloudtrail:RemoveTags"], "Resource": guarded}])
    tag = [{"Key": "team", "Value": "abac"}]
    for client, extra in ((nobody("cloudtrail"), {"ResourceIdList": []}),
                          (tagger("cloudtrail"), {"ResourceIdList": [open_]})):
        client = with_extra_members(client, "AddTags", extra)
        assert code(lambda: client.add_tags(ResourceId=guarded, TagsList=tag)) == "AccessDeniedException"
    assert tags_of(cairn, guarded) == []
    cairn.client("cloudtrail").add_tags(ResourceId=guarded, TagsList=tag)
    remover = with_extra_members(tagger("cloudtrail"), "RemoveTags", {"ResourceIdList": [open_]})
    assert code(lambda: remover.remove_tags(ResourceId=guarded, TagsList=tag)) == "AccessDeniedException"
    assert tags_of(cairn, guarded) == tag
    # The permitted trail still takes tags from the same user.
    tagger("cloudtrail").add_tags(ResourceId=open_, TagsList=tag)
    assert tags_of(cairn, open_) == tag


def test_owner_account_moves_only_the_query_operations(cairn):
    user = user_with(cairn, "lake-denied", [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:*", "Resource": STORES}])("cloudtrail")
    client = with_extra_members(user, "DeleteEventDataStore",
                                {"EventDataStoreOwnerAccountId": "111122223333"})
    assert code(lambda: client.delete_event_data_store(
        EventDataStore="0b6cd4a1-1111-2222-3333-444455556666")) == "AccessDeniedException"


def test_list_tags_counts_its_resources_before_looking_them_up(cairn, trails):
    nobody = user_with(cairn, "list-nobody", [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}])("cloudtrail")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        nobody.list_tags(ResourceIdList=[trails[0]] * 21)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "at most 20" in e.value.response["Error"]["Message"]


def test_tag_operations_take_no_trail_arn_of_another_partition(cairn, trails):
    """ctapi5: AddTags, RemoveTags and ListTags reached the `arn:aws:` trail through an
    `arn:aws-cn:` (or any other partition's) ARN, while a Deny written for the trail's ARN was
    judged against the ARN as sent; every other trail operation names no trail so."""
    guarded, _ = trails
    tagger = user_with(cairn, "tags-partition", [
        {"Effect": "Allow", "Action": ["cloudtrail:AddTags", "cloudtrail:RemoveTags",
                                       "cloudtrail:ListTags"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["cloudtrail:AddTags", "cloudtrail:RemoveTags"], "Resource": guarded}])
    ct = tagger("cloudtrail")
    tag = [{"Key": "env", "Value": "sandbox"}]
    for partition in ("aws-cn", "aws-us-gov", "xyz"):
        foreign = guarded.replace("arn:aws:", f"arn:{partition}:")
        assert code(lambda: ct.add_tags(ResourceId=foreign, TagsList=tag)) == "ResourceNotFoundException"
        assert code(lambda: ct.remove_tags(ResourceId=foreign, TagsList=tag)) == "ResourceNotFoundException"
        assert code(lambda: ct.list_tags(ResourceIdList=[foreign])) == "ResourceNotFoundException"
    assert {"Key": "env", "Value": "sandbox"} not in tags_of(cairn, guarded)
