"""Condition keys and operators as every service's policies read them (outside IAM tester's
findings, each of which failed before its fix):

- a resource's tags are `aws:ResourceTag/<key>` for SNS topics, CloudWatch Logs log groups
  and CloudWatch alarms too (a Deny on them was silently skipped), and an IAM role's tags
  for `sts:AssumeRole` (IAM's ABAC tutorial); SNS CreateTopic carries `aws:RequestTag`;
- S3 writes carry `s3:x-amz-server-side-encryption`, `…-aws-kms-key-id`, `s3:authType` and
  `s3:signatureversion` (the S3 guide's "deny unencrypted uploads" refused every upload);
- bucket and topic policies accept every condition operator (IpAddress, Numeric…, Date…),
  because they are read by the one policy evaluator;
- `iam:PermissionsBoundary` is the boundary a user already has for the calls that change its
  permissions (the delegated-administrator pattern)."""

import json

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


KEYS = {}


def user_clients(cairn, name, statements, tags=(), services=("s3",)):
    iam = cairn.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags])
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    KEYS[name] = (key["AccessKeyId"], key["SecretAccessKey"])
    return {s: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], s) for s in services}


def _keys_of(cairn, name):
    return KEYS[name]


def test_a_deny_on_resource_tags_holds_for_topics_log_groups_and_alarms(cairn):
    sns, logs, cw = (cairn.client(s) for s in ("sns", "logs", "cloudwatch"))
    prod = sns.create_topic(Name="rt-prod", Tags=[{"Key": "env", "Value": "prod"}])["TopicArn"]
    dev = sns.create_topic(Name="rt-dev", Tags=[{"Key": "env", "Value": "dev"}])["TopicArn"]
    for g, env in (("/rt/prod", "prod"), ("/rt/dev", "dev")):
        logs.create_log_group(logGroupName=g, tags={"env": env})
    for a, env in (("rt-prod", "prod"), ("rt-dev", "dev")):
        cw.put_metric_alarm(AlarmName=a, MetricName="M", Namespace="N", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold",
                            Tags=[{"Key": "env", "Value": env}])
    c = user_clients(cairn, "rt-operator", [
        {"Effect": "Allow", "Action": ["sns:*", "logs:*", "cloudwatch:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["sns:Publish", "sns:DeleteTopic", "logs:DeleteLogGroup",
                                      "cloudwatch:DeleteAlarms"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}],
        services=("sns", "logs", "cloudwatch"))
    assert code(lambda: c["sns"].publish(TopicArn=prod, Message="m")) == "AuthorizationError"
    assert code(lambda: c["sns"].delete_topic(TopicArn=prod)) == "AuthorizationError"
    assert code(lambda: c["logs"].delete_log_group(logGroupName="/rt/prod")) == "AccessDeniedException"
    assert code(lambda: c["cloudwatch"].delete_alarms(AlarmNames=["rt-prod"])) == "AccessDenied"
    # The same calls on the untagged-for-prod resources are allowed.
    c["sns"].publish(TopicArn=dev, Message="m")
    c["sns"].delete_topic(TopicArn=dev)
    c["logs"].delete_log_group(logGroupName="/rt/dev")
    c["cloudwatch"].delete_alarms(AlarmNames=["rt-dev"])
    assert sns.get_topic_attributes(TopicArn=prod)["Attributes"]["TopicArn"] == prod


def test_sns_create_topic_carries_its_request_tags(cairn):
    c = user_clients(cairn, "rt-creator", [
        {"Effect": "Allow", "Action": ["sns:CreateTopic", "sns:TagResource"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}}], services=("sns",))
    c["sns"].create_topic(Name="blue-topic", Tags=[{"Key": "team", "Value": "blue"}])
    assert code(lambda: c["sns"].create_topic(
        Name="red-topic", Tags=[{"Key": "team", "Value": "red"}])) == "AuthorizationError"


def test_the_s3_guides_deny_unencrypted_uploads_policy(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="sse-required")
    s3.put_bucket_policy(Bucket="sse-required", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*",
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::sse-required/*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
            {"Sid": "DenyKms", "Effect": "Deny", "Principal": "*",
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::sse-required/*",
             "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}]}))
    s3.put_object(Bucket="sse-required", Key="a", Body=b"x", ServerSideEncryption="AES256")
    assert code(lambda: s3.put_object(Bucket="sse-required", Key="b", Body=b"x")) == "AccessDenied"
    assert code(lambda: s3.put_object(Bucket="sse-required", Key="c", Body=b"x",
                                      ServerSideEncryption="aws:kms")) == "AccessDenied"
    assert code(lambda: s3.create_multipart_upload(Bucket="sse-required", Key="d")) == "AccessDenied"
    # An encrypted upload's parts and completion send no encryption header; they are judged
    # with the upload's own encryption, so the policy does not refuse them.
    up = s3.create_multipart_upload(Bucket="sse-required", Key="e",
                                    ServerSideEncryption="AES256")["UploadId"]
    etag = s3.upload_part(Bucket="sse-required", Key="e", UploadId=up, PartNumber=1,
                          Body=b"x" * 10)["ETag"]
    s3.complete_multipart_upload(Bucket="sse-required", Key="e", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.head_object(Bucket="sse-required", Key="e")["ServerSideEncryption"] == "AES256"
    # The high-level upload of a large file (multipart) works with --sse.
    s3.upload_fileobj(__import__("io").BytesIO(b"y" * (9 * 1024 * 1024)), "sse-required", "big",
                      ExtraArgs={"ServerSideEncryption": "AES256"},
                      Config=__import__("boto3").s3.transfer.TransferConfig(
                          multipart_threshold=5 * 1024 * 1024))


def test_s3_signing_keys(cairn):
    c = user_clients(cairn, "sigv4-only", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256",
                                        "s3:authType": "REST-HEADER"}}}])
    c["s3"].create_bucket(Bucket="signed-by-header")
    c["s3"].put_object(Bucket="signed-by-header", Key="k", Body=b"x")
    c2 = user_clients(cairn, "presigned-only", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}}}])
    assert code(lambda: c2["s3"].list_objects_v2(Bucket="signed-by-header")) == "AccessDenied"
    # The same user's presigned URL is a REST-QUERY-STRING request, and allowed.
    import requests
    url = c2["s3"].generate_presigned_url("get_object",
                                          Params={"Bucket": "signed-by-header", "Key": "k"})
    got = requests.get(url, timeout=30)
    assert got.status_code == 200 and got.content == b"x", got.text


def test_bucket_and_topic_policies_take_every_condition_operator(cairn):
    s3, sns = cairn.client("s3"), cairn.client("sns")
    s3.create_bucket(Bucket="ip-guarded")
    # The S3 guide's IP restriction: callers outside 10.0.0.0/8 are denied (the tests call
    # from 127.0.0.1), and a number and a date operator parse too.
    s3.put_bucket_policy(Bucket="ip-guarded", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::ip-guarded/*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::ip-guarded",
             "Condition": {"NumericGreaterThan": {"s3:max-keys": "100"},
                           "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}]}))
    s3.put_object(Bucket="ip-guarded", Key="k", Body=b"x")
    assert code(lambda: s3.get_object(Bucket="ip-guarded", Key="k")) == "AccessDenied"
    s3.list_objects_v2(Bucket="ip-guarded", MaxKeys=100)
    assert code(lambda: s3.list_objects_v2(Bucket="ip-guarded", MaxKeys=500)) == "AccessDenied"
    topic = sns.create_topic(Name="ip-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish",
             "Resource": topic, "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]}))
    assert "IpAddress" in sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    assert code(lambda: s3.put_bucket_policy(Bucket="ip-guarded", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::ip-guarded/*",
             "Condition": {"NoSuchOperator": {"aws:SourceIp": "10.0.0.0/8"}}}]}))) == "MalformedPolicy"


def test_assume_role_sees_the_roles_tags(cairn):
    # IAM's ABAC tutorial: a user may assume the roles of its own project only.
    iam = cairn.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}]})
    for role, project in (("abac-unicorn", "unicorn"), ("abac-pegasus", "pegasus")):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust,
                        Tags=[{"Key": "access-project", "Value": project}])
    c = user_clients(cairn, "abac-user", [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/abac-*",
        "Condition": {"StringEquals": {
            "iam:ResourceTag/access-project": "${aws:PrincipalTag/access-project}"}}}],
        tags=[("access-project", "unicorn")], services=("sts",))
    c["sts"].assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/abac-unicorn", RoleSessionName="abac")
    assert code(lambda: c["sts"].assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/abac-pegasus", RoleSessionName="abac")) == "AccessDenied"


def test_a_delegated_admin_may_change_users_within_its_boundary(cairn):
    iam = cairn.client("iam")
    boundary = iam.create_policy(PolicyName="DevBoundary", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
    c = user_clients(cairn, "delegated-admin", [{
        "Effect": "Allow",
        "Action": ["iam:CreateUser", "iam:AttachUserPolicy", "iam:PutUserPolicy"],
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}}],
        services=("iam",))
    c["iam"].create_user(UserName="dev-one", PermissionsBoundary=boundary)
    c["iam"].attach_user_policy(UserName="dev-one",
                                PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    c["iam"].put_user_policy(UserName="dev-one", PolicyName="inline", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                 "Resource": "*"}]}))
    iam.create_user(UserName="dev-unbounded")
    assert code(lambda: c["iam"].attach_user_policy(
        UserName="dev-unbounded",
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")) == "AccessDenied"


def test_a_principal_with_a_partial_wildcard_is_refused(cairn):
    # A wildcard cannot match part of a principal ARN: S3 refuses such a policy (it was
    # stored, and matched nobody), as IAM and KMS already did.
    s3, sns = cairn.client("s3"), cairn.client("sns")
    s3.create_bucket(Bucket="wild-principal")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::wild-principal/*"}]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket="wild-principal", Policy=json.dumps(policy))
    assert e.value.response["Error"]["Code"] == "MalformedPolicy"
    assert e.value.response["Error"]["Message"] == "Invalid principal in policy"
    topic = sns.create_topic(Name="wild-topic")["TopicArn"]
    policy["Statement"][0].update(Action="sns:Publish", Resource=topic)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                 AttributeValue=json.dumps(policy))
    assert e.value.response["Error"]["Code"] == "InvalidParameter"


def test_an_operation_cairn_does_not_carry_out_is_authorized_on_the_user_it_names(cairn):
    # A self-service policy grants iam:CreateLoginProfile on the caller's own user only;
    # Cairn does not carry it out, but the refusal must be InvalidAction, not a false
    # AccessDenied from authorizing it on "*".
    c = user_clients(cairn, "mfa-self", [{
        "Effect": "Allow", "Action": ["iam:CreateLoginProfile", "iam:ListMFADevices",
                                      "iam:ChangePassword"],
        "Resource": "arn:aws:iam::*:user/${aws:username}"}], services=("iam",))
    # hostile4: the IAM guide's (and IAMUserChangePassword's) grant on one's own user was
    # refused, as ChangePassword, which names no user, was authorized on "*".
    assert code(lambda: c["iam"].change_password(OldPassword="Old-Passw0rd!",
                                                 NewPassword="New-Passw0rd!")) == "InvalidAction"
    login = c["iam"].create_login_profile
    assert code(lambda: login(UserName="mfa-self", Password="Passw0rd!Passw0rd")) == "InvalidAction"
    assert code(lambda: login(Password="Passw0rd!Passw0rd")) == "InvalidAction", "the caller by default"
    assert code(lambda: login(UserName="someone-else", Password="Passw0rd!Passw0rd")) == "AccessDenied"
    # The IAM guide's self-service MFA policy: ListMFADevices of one's own user (none).
    assert c["iam"].list_mfa_devices()["MFADevices"] == []
    assert c["iam"].list_mfa_devices(UserName="mfa-self")["MFADevices"] == []
    assert code(lambda: c["iam"].list_mfa_devices(UserName="someone-else")) == "AccessDenied"


def test_alarm_calls_carry_their_request_tags_and_actions(cairn):
    sns = cairn.client("sns")
    page = sns.create_topic(Name="alarm-pager")["TopicArn"]
    c = user_clients(cairn, "alarm-writer", [
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricAlarm", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}},
        # A new alarm with tags is tagged too (cloudwatch:TagResource, as on AWS).
        {"Effect": "Allow", "Action": "cloudwatch:TagResource", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudwatch:PutMetricAlarm", "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {"cloudwatch:AlarmActions": "*:alarm-pager"}}}],
        services=("cloudwatch",))

    def put(name, team, actions=()):
        return c["cloudwatch"].put_metric_alarm(
            AlarmName=name, MetricName="M", Namespace="N", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
            AlarmActions=list(actions), Tags=[{"Key": "team", "Value": team}])

    put("blue-alarm", "blue")
    assert code(lambda: put("red-alarm", "red")) == "AccessDenied"
    assert code(lambda: put("paging-alarm", "blue", [page])) == "AccessDenied"


def test_sns_subscribe_carries_protocol_and_endpoint(cairn):
    topic = cairn.client("sns").create_topic(Name="subs-guarded")["TopicArn"]
    c = user_clients(cairn, "subscriber", [
        {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sns:Subscribe", "Resource": "*",
         "Condition": {"StringNotLike": {"sns:Endpoint": "*@example.com"}}},
        {"Effect": "Deny", "Action": "sns:Subscribe", "Resource": "*",
         "Condition": {"StringEquals": {"sns:Protocol": "sms"}}}], services=("sns",))
    c["sns"].subscribe(TopicArn=topic, Protocol="email", Endpoint="ok@example.com")
    assert code(lambda: c["sns"].subscribe(TopicArn=topic, Protocol="email",
                                           Endpoint="x@elsewhere.test")) == "AuthorizationError"
    assert code(lambda: c["sns"].subscribe(TopicArn=topic, Protocol="sms",
                                           Endpoint="+15550100@example.com")) == "AuthorizationError"


def test_logs_untag_carries_the_keys_it_removes(cairn):
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="/untag/me", tags={"owner": "a", "team": "b"})
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/untag/me"
    c = user_clients(cairn, "untagger", [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "logs:UntagResource", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}}],
        services=("logs",))
    c["logs"].untag_resource(resourceArn=arn, tagKeys=["team"])
    assert code(lambda: c["logs"].untag_resource(resourceArn=arn, tagKeys=["owner"])) == \
        "AccessDeniedException"


TOPIC_TEMPLATE = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
ROLE_TEMPLATE = json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}}}}})


def test_cloudformation_keys_role_resource_types_and_tags(cairn):
    iam = cairn.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="cfn-service-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="cfn-service-role", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    c = user_clients(cairn, "stack-maker", [
        {"Effect": "Allow", "Action": ["cloudformation:*", "iam:PassRole"], "Resource": "*"},
        # The user guide's service-role and resource-type guard rails.
        {"Effect": "Deny", "Action": "cloudformation:CreateStack", "Resource": "*",
         "Condition": {"Null": {"cloudformation:RoleArn": "true"}}},
        {"Effect": "Deny", "Action": ["cloudformation:CreateStack"], "Resource": "*",
         "Condition": {"ForAnyValue:StringLikeIfExists": {
             "cloudformation:ResourceTypes": ["AWS::IAM::*"]}}},
        {"Effect": "Deny", "Action": "cloudformation:CreateStack", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}}],
        services=("cloudformation",))
    cfn = c["cloudformation"]
    assert code(lambda: cfn.create_stack(StackName="no-role", TemplateBody=TOPIC_TEMPLATE,
                                         ResourceTypes=["AWS::SNS::Topic"])) == "AccessDenied"
    assert code(lambda: cfn.create_stack(StackName="no-types", TemplateBody=TOPIC_TEMPLATE,
                                         RoleARN=role)) == "AccessDenied"
    assert code(lambda: cfn.create_stack(StackName="iam-types", TemplateBody=ROLE_TEMPLATE,
                                         RoleARN=role, ResourceTypes=["AWS::IAM::Role"],
                                         Capabilities=["CAPABILITY_IAM"])) == "AccessDenied"
    assert code(lambda: cfn.create_stack(StackName="prod", TemplateBody=TOPIC_TEMPLATE,
                                         RoleARN=role, ResourceTypes=["AWS::SNS::*"],
                                         Tags=[{"Key": "env", "Value": "prod"}])) == "AccessDenied"
    cfn.create_stack(StackName="allowed", TemplateBody=TOPIC_TEMPLATE, RoleARN=role,
                     ResourceTypes=["AWS::SNS::*"], Tags=[{"Key": "env", "Value": "dev"}])
    # The declared list binds the template: a type outside it is refused, so the list cannot
    # be used to slip an IAM role past the guard rail.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_stack(StackName="smuggled", TemplateBody=ROLE_TEMPLATE, RoleARN=role,
                         ResourceTypes=["AWS::SNS::Topic"], Capabilities=["CAPABILITY_IAM"])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "AWS::IAM::Role" in e.value.response["Error"]["Message"]


def test_resource_tags_of_stacks_and_managed_policies(cairn):
    iam, cfn = cairn.client("iam"), cairn.client("cloudformation")
    cfn.create_stack(StackName="tagged-stack", TemplateBody=TOPIC_TEMPLATE,
                     Tags=[{"Key": "protected", "Value": "yes"}])
    cfn.get_waiter("stack_create_complete").wait(StackName="tagged-stack")
    policy = iam.create_policy(PolicyName="tagged-policy", Tags=[{"Key": "protected", "Value": "yes"}],
                               PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                   {"Effect": "Allow", "Action": "s3:ListBucket",
                                    "Resource": "*"}]}))["Policy"]["Arn"]
    c = user_clients(cairn, "tag-guarded", [
        {"Effect": "Allow", "Action": ["cloudformation:*", "iam:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["cloudformation:DeleteStack", "iam:CreatePolicyVersion"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/protected": "yes"}}}],
        services=("cloudformation", "iam"))
    assert code(lambda: c["cloudformation"].delete_stack(StackName="tagged-stack")) == "AccessDenied"
    assert code(lambda: c["iam"].create_policy_version(
        PolicyArn=policy, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))) == "AccessDenied"


def test_assume_role_carries_transitive_tag_keys(cairn):
    iam = cairn.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    iam.create_role(RoleName="transitive-role", AssumeRolePolicyDocument=trust)
    c = user_clients(cairn, "chainer", [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:TagSession", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"sts:TransitiveTagKeys": ["team"]}}}],
        services=("sts",))
    arn = f"arn:aws:iam::{ACCOUNT}:role/transitive-role"
    tags = [{"Key": "team", "Value": "a"}]
    c["sts"].assume_role(RoleArn=arn, RoleSessionName="plain-tags", Tags=tags)
    assert code(lambda: c["sts"].assume_role(RoleArn=arn, RoleSessionName="transitive",
                                             Tags=tags, TransitiveTagKeys=["team"])) == "AccessDenied"


def test_s3_request_keys_of_copies_versions_listings_and_buckets(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="keys-src")
    for k in ("public/a", "secret/b"):
        s3.put_object(Bucket="keys-src", Key=k, Body=b"x")
    c = user_clients(cairn, "s3-guarded", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringLike": {"s3:x-amz-copy-source": "keys-src/secret/*"}}},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringEquals": {"s3:x-amz-metadata-directive": "REPLACE"}}},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/class": "secret"}}},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringEquals": {"s3:x-amz-storage-class": "GLACIER"}}},
        {"Effect": "Deny", "Action": "s3:GetObjectVersion", "Resource": "*",
         "Condition": {"StringEquals": {"s3:VersionId": "null"}}},
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
         "Condition": {"StringEquals": {"s3:delimiter": "|"}}},
        {"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*",
         "Condition": {"StringEquals": {"s3:locationconstraint": "eu-west-1"}}},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringNotEquals": {"s3:ResourceAccount": ACCOUNT}}}])
    u = c["s3"]
    u.copy_object(Bucket="keys-src", Key="copy-a", CopySource="keys-src/public/a")
    assert code(lambda: u.copy_object(Bucket="keys-src", Key="copy-b",
                                      CopySource="keys-src/secret/b")) == "AccessDenied"
    assert code(lambda: u.copy_object(Bucket="keys-src", Key="copy-c", CopySource="keys-src/public/a",
                                      MetadataDirective="REPLACE")) == "AccessDenied"
    u.put_object(Bucket="keys-src", Key="t1", Body=b"x", Tagging="class=public")
    assert code(lambda: u.put_object(Bucket="keys-src", Key="t2", Body=b"x",
                                     Tagging="class=secret")) == "AccessDenied"
    assert code(lambda: u.put_object(Bucket="keys-src", Key="t3", Body=b"x",
                                     StorageClass="GLACIER")) == "AccessDenied"
    u.get_object(Bucket="keys-src", Key="public/a")  # the bucket's own account: allowed
    assert code(lambda: u.get_object(Bucket="keys-src", Key="public/a", VersionId="null")) == \
        "AccessDenied"
    u.list_objects_v2(Bucket="keys-src", Delimiter="/")
    assert code(lambda: u.list_objects_v2(Bucket="keys-src", Delimiter="|")) == "AccessDenied"
    eu = cairn.client_with(*_keys_of(cairn, "s3-guarded"), "s3", region="eu-west-1")
    assert code(lambda: eu.create_bucket(
        Bucket="keys-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})) == \
        "AccessDenied"


def test_bucket_tags_are_request_tags(cairn):
    c = user_clients(cairn, "bucket-tagger", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["s3:CreateBucket", "s3:PutBucketTagging"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}}])
    u = c["s3"]
    u.create_bucket(Bucket="tags-dev", CreateBucketConfiguration={
        "Tags": [{"Key": "env", "Value": "dev"}]})
    assert code(lambda: u.create_bucket(Bucket="tags-prod", CreateBucketConfiguration={
        "Tags": [{"Key": "env", "Value": "prod"}]})) == "AccessDenied"
    u.put_bucket_tagging(Bucket="tags-dev", Tagging={"TagSet": [{"Key": "env", "Value": "test"}]})
    assert code(lambda: u.put_bucket_tagging(Bucket="tags-dev", Tagging={
        "TagSet": [{"Key": "env", "Value": "prod"}]})) == "AccessDenied"


def test_a_resource_tag_read_through_a_policy_variable(cairn):
    # ABAC by variable: the caller's team tag must equal the topic's. The resource's tags are
    # gathered when a policy reads them in a condition key or in a variable like this one.
    sns = cairn.client("sns")
    blue = sns.create_topic(Name="var-blue", Tags=[{"Key": "team", "Value": "blue"}])["TopicArn"]
    red = sns.create_topic(Name="var-red", Tags=[{"Key": "team", "Value": "red"}])["TopicArn"]
    c = user_clients(cairn, "var-user", [
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"}}}],
        tags=[("team", "blue")], services=("sns",))
    c["sns"].publish(TopicArn=blue, Message="m")
    assert code(lambda: c["sns"].publish(TopicArn=red, Message="m")) == "AuthorizationError"


def test_resource_types_take_only_the_documented_forms(cairn):
    cfn = cairn.client("cloudformation")
    for bad in (["*"], ["AWS::I*"], ["AWS::IAM::Ro*"]):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cfn.create_stack(StackName="wild-types", TemplateBody=ROLE_TEMPLATE,
                             ResourceTypes=bad, Capabilities=["CAPABILITY_IAM"])
        assert e.value.response["Error"]["Code"] == "ValidationError", bad
    cfn.create_stack(StackName="family-types", TemplateBody=TOPIC_TEMPLATE,
                     ResourceTypes=["AWS::SNS::*", "Custom::*"])


def test_multipart_uploads_and_copies_carry_the_write_keys(cairn):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="write-keys")
    s3.put_object(Bucket="write-keys", Key="src", Body=b"x")
    c = user_clients(cairn, "write-keyed", [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringEquals": {"s3:x-amz-storage-class": "GLACIER"}}},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/class": "secret"}}}])
    u = c["s3"]
    assert code(lambda: u.create_multipart_upload(Bucket="write-keys", Key="m",
                                                  StorageClass="GLACIER")) == "AccessDenied"
    assert code(lambda: u.create_multipart_upload(Bucket="write-keys", Key="m",
                                                  Tagging="class=secret")) == "AccessDenied"
    assert code(lambda: u.copy_object(Bucket="write-keys", Key="c", CopySource="write-keys/src",
                                      StorageClass="GLACIER")) == "AccessDenied"
    u.create_multipart_upload(Bucket="write-keys", Key="ok", Tagging="class=public")
