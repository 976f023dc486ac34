"""What running the AWS CLI's own reference examples (awscli/examples/<service>/*.rst) against
Cairn found, fixed: KMS's predefined `alias/aws/<service>` aliases, and the IAM listings that
leave out what only GetUser shows."""

import json

import botocore.exceptions
import pytest

from conftest import serve_with_master_key

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    yield from serve_with_master_key()


def aliases_of(kms, **kw):
    out, marker = [], None
    while True:
        page = kms.list_aliases(**kw, **({"Marker": marker} if marker else {}))
        out.extend(page["Aliases"])
        if not page.get("Truncated"):
            return out
        marker = page["NextMarker"]


def test_predefined_aliases_are_listed_without_a_key_until_describe_key_creates_it(server):
    kms = server.client("kms")
    mine = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/zz-mine", TargetKeyId=mine)
    listed = {a["AliasName"]: a for a in aliases_of(kms)}
    # Predefined, with no key yet: a name and an ARN only (ListAliases' documented shape).
    assert listed["alias/aws/ebs"] == {
        "AliasName": "alias/aws/ebs", "AliasArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/ebs"}
    assert listed["alias/zz-mine"]["TargetKeyId"] == mine
    # Paging one at a time gives the same aliases once each, in name order.
    one_by_one = [a["AliasName"] for a in aliases_of(kms, Limit=1)]
    assert one_by_one == sorted(listed) and len(set(one_by_one)) == len(one_by_one)
    # A key's own listing has no predefined aliases.
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=mine)["Aliases"]] == ["alias/zz-mine"]

    # DescribeKey of a predefined alias creates its AWS managed key, as AWS services do.
    m = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert (m["KeyManager"], m["KeyState"], m["Description"]) == (
        "AWS", "Enabled", "Default KMS key that protects my EBS objects when no other key is defined")
    again = kms.describe_key(KeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/ebs")["KeyMetadata"]
    assert again["KeyId"] == m["KeyId"]
    after = {a["AliasName"]: a for a in aliases_of(kms)}
    assert after["alias/aws/ebs"]["TargetKeyId"] == m["KeyId"]
    assert sorted(after) == sorted(listed)
    # Its key policy lets the account use it only through the service.
    policy = json.loads(kms.get_key_policy(KeyId=m["KeyId"], PolicyName="default")["Policy"])
    assert any("kms:ViaService" in json.dumps(s) for s in policy["Statement"])
    # EC2 encrypts EBS volumes: the key is used through ec2.
    assert "ec2.us-east-1.amazonaws.com" in json.dumps(policy)

    # Other names under alias/aws/ are not predefined, and nothing is created for them.
    for name in ("alias/aws/nope", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/nope"):
        with pytest.raises(kms.exceptions.NotFoundException):
            kms.describe_key(KeyId=name)
    assert "alias/aws/nope" not in {a["AliasName"] for a in aliases_of(kms)}
    # Another region's alias ARN creates nothing here either.
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/rds")
    assert "TargetKeyId" not in {a["AliasName"]: a for a in aliases_of(kms)}["alias/aws/rds"]

    # The DescribeKey that created the key is recorded as the read it is.
    ct = server.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DescribeKey"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    created = [r for r in records if r["requestParameters"] == {"keyId": "alias/aws/ebs"}]
    assert len(created) == 1 and created[0]["readOnly"] is True
    assert created[0]["resources"][0]["ARN"] == m["Arn"]


def test_a_denied_describe_key_creates_no_managed_key(server):
    iam, kms = server.client("iam"), server.client("kms")
    iam.create_user(UserName="no-kms")
    iam.put_user_policy(UserName="no-kms", PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="no-kms")["AccessKey"]
    theirs = server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "kms")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        theirs.describe_key(KeyId="alias/aws/lambda")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "TargetKeyId" not in {a["AliasName"]: a for a in aliases_of(kms)}["alias/aws/lambda"]


def test_user_listings_leave_out_the_boundary_and_tags(server):
    iam = server.client("iam")
    boundary = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    iam.create_user(UserName="bounded", PermissionsBoundary=boundary,
                    Tags=[{"Key": "team", "Value": "a"}])
    iam.create_group(GroupName="bounded-group")
    iam.add_user_to_group(GroupName="bounded-group", UserName="bounded")
    got = iam.get_user(UserName="bounded")["User"]
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert got["Tags"] == [{"Key": "team", "Value": "a"}]
    # ListUsers "does not return PermissionsBoundary or Tags" (its API reference); nor does
    # GetGroup's user list.
    listed = [u for u in iam.list_users()["Users"] if u["UserName"] == "bounded"]
    members = iam.get_group(GroupName="bounded-group")["Users"]
    for u in listed + members:
        assert "PermissionsBoundary" not in u and "Tags" not in u
        assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/bounded"


def allowing(server, name, actions):
    """Credentials of a new user allowed `actions` on everything."""
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_create_bucket_tags_are_applied_authorized_and_recorded(server):
    s3 = server.client("s3")
    # The CLI's own example (s3/mb.rst, Example 3).
    server.cli("s3", "mb", "s3://tagged-at-birth", "--tags", "Key1", "Value1", "--tags", "Key2", "Value2")
    assert s3.get_bucket_tagging(Bucket="tagged-at-birth")["TagSet"] == [
        {"Key": "Key1", "Value": "Value1"}, {"Key": "Key2", "Value": "Value2"}]
    record = [r for r in server.records("Management") if r["eventName"] == "CreateBucket"
              and r["requestParameters"]["bucketName"] == "tagged-at-birth"][0]
    assert record["requestParameters"]["CreateBucketConfiguration"]["Tags"] == {"Tag": [
        {"Key": "Key1", "Value": "Value1"}, {"Key": "Key2", "Value": "Value2"}]}
    # Outside us-east-1, with a location constraint and one tag.
    west = server.client("s3", region="eu-west-1")
    west.create_bucket(Bucket="tagged-west", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1", "Tags": [{"Key": "team", "Value": "a"}]})
    assert west.get_bucket_tagging(Bucket="tagged-west")["TagSet"] == [{"Key": "team", "Value": "a"}]
    # Tagging at creation needs s3:TagResource: without it nothing is created.
    theirs = server.client_with(*allowing(server, "no-tagger", ["s3:CreateBucket"]), "s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        theirs.create_bucket(Bucket="tagged-denied", CreateBucketConfiguration={
            "Tags": [{"Key": "k", "Value": "v"}]})
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert "tagged-denied" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    theirs.create_bucket(Bucket="untagged-allowed")
    # Invalid tags fail the whole call.
    with pytest.raises(botocore.exceptions.ClientError):
        s3.create_bucket(Bucket="tagged-badly", CreateBucketConfiguration={
            "Tags": [{"Key": "aws:reserved", "Value": "v"}]})
    assert "tagged-badly" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_acls_are_refused_as_on_a_bucket_owner_enforced_bucket(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="no-acls")
    for acl in ("private", "bucket-owner-full-control"):
        s3.put_object(Bucket="no-acls", Key=acl, Body=b"x", ACL=acl)
    refused = [
        lambda: s3.put_object(Bucket="no-acls", Key="k", Body=b"x", ACL="public-read"),
        lambda: s3.put_object(Bucket="no-acls", Key="k", Body=b"x",
                              GrantRead="uri=http://acs.amazonaws.com/groups/global/AllUsers"),
        lambda: s3.copy_object(Bucket="no-acls", Key="c", CopySource="no-acls/private",
                               ACL="public-read-write"),
        lambda: s3.create_multipart_upload(Bucket="no-acls", Key="m", ACL="authenticated-read"),
    ]
    for call in refused:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert (e.value.response["Error"]["Code"],
                e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
            "AccessControlListNotSupported", 400)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="no-acls")["Contents"]] == [
        "bucket-owner-full-control", "private"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket="public-bucket", ACL="public-read")
    assert e.value.response["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"
    s3.create_bucket(Bucket="writer-owned", ACL="log-delivery-write", ObjectOwnership="ObjectWriter")


def test_sns_unsubscribe_is_idempotent_and_unknown_protocols_name_cairn(server):
    sns = server.client("sns")
    topic = sns.create_topic(Name="twice")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)
    sns.delete_topic(TopicArn=topic)
    sns.unsubscribe(SubscriptionArn=sub)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.unsubscribe(SubscriptionArn="not-a-subscription")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.subscribe(TopicArn=sns.create_topic(Name="pigeons")["TopicArn"], Protocol="carrier-pigeon", Endpoint="x")
    assert "Amazon SNS does not support this protocol string" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.subscribe(TopicArn=sns.create_topic(Name="q")["TopicArn"], Protocol="sqs",
                      Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:q")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"
    assert "Cairn does not deliver to the sqs protocol" in e.value.response["Error"]["Message"]


def test_put_metric_data_too_old_says_what_cloudwatch_says(server):
    cw = server.client("cloudwatch")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_data(Namespace="App", MetricData=[
            {"MetricName": "m", "Value": 1.0, "Timestamp": "2013-06-12T20:28:20Z"}])
    assert e.value.response["Error"]["Message"] == (
        "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.")


def test_more_aws_managed_policies_attach_and_grant_what_they_say(server):
    iam = server.client("iam")
    # put-user-permissions-boundary.rst, example 2, and the policies IaC attaches to roles.
    iam.create_user(UserName="power")
    iam.put_user_permissions_boundary(
        UserName="power", PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess")
    iam.attach_user_policy(UserName="power", PolicyArn="arn:aws:iam::aws:policy/PowerUserAccess")
    key = iam.create_access_key(UserName="power")["AccessKey"]
    s3 = server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "s3")
    s3.create_bucket(Bucket="power-bucket")
    theirs = server.client_with(key["AccessKeyId"], key["SecretAccessKey"], "iam")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        theirs.create_user(UserName="not-allowed")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName="fn", PolicyArn=basic)
    got = iam.get_policy(PolicyArn=basic)["Policy"]
    assert (got["Path"], got["DefaultVersionId"]) == ("/service-role/", "v1")
    assert got["Description"] == "Provides write permissions to CloudWatch Logs."
    listed = {p["PolicyName"] for p in iam.list_policies(Scope="AWS", PathPrefix="/service-role/")["Policies"]}
    assert listed == {"AWSLambdaBasicExecutionRole", "AmazonECSTaskExecutionRolePolicy"}


def test_account_alias_and_summary(server):
    iam = server.client("iam")
    assert iam.list_account_aliases()["AccountAliases"] == []
    # list-account-aliases.rst / create-account-alias.rst.
    server.cli("iam", "create-account-alias", "--account-alias", "mycompany")
    assert iam.list_account_aliases()["AccountAliases"] == ["mycompany"]
    iam.create_account_alias(AccountAlias="mycompany-two")  # replaces: one alias an account
    assert iam.list_account_aliases()["AccountAliases"] == ["mycompany-two"]
    for bad, code in (("My_Company", "ValidationError"), ("a--b", "ValidationError")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            iam.create_account_alias(AccountAlias=bad)
        assert e.value.response["Error"]["Code"] == code, bad
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_account_alias(AccountAlias="mycompany")
    iam.delete_account_alias(AccountAlias="mycompany-two")
    assert iam.list_account_aliases()["AccountAliases"] == []
    summary = iam.get_account_summary()["SummaryMap"]
    users = len(iam.list_users()["Users"])
    assert summary["Users"] == users and summary["UsersQuota"] == 5000
    assert summary["AccessKeysPerUserQuota"] == 2 and summary["Policies"] == 0
    recorded = {r["eventName"] for r in server.records("Management")}
    assert {"CreateAccountAlias", "DeleteAccountAlias", "ListAccountAliases",
            "GetAccountSummary"} <= recorded
