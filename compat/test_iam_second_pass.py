"""IAM found by a second outside pass (each failed before its fix):
- a key used only for calls the event log does not keep (S3 object calls no trail selects,
  PutLogEvents, Publish) showed as never used in GetAccessKeyLastUsed and the credential
  report, which CIS unused-credential checks read;
- CreateRole took the reserved `/aws-service-role/` path (a look-alike service-linked role);
- GetAccountAuthorizationDetails left out users' permissions boundaries;
- the root user's own key was invisible to ListAccessKeys and GetAccessKeyLastUsed;
- root's GetUser CreateDate was the time of the call;
- trust policies took service principals that name no service."""

import csv
import io
import json
import os
import subprocess
import time

import boto3

import botocore.exceptions
import pytest

ACCOUNT = "123456789012"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}


def code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def until(condition, what, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def user_with_key(cairn, name, policy):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": policy, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


@pytest.mark.parametrize("service", ["s3", "logs", "sns"])
def test_a_key_used_only_for_unrecorded_calls_shows_its_last_use(cairn, service):
    iam = cairn.client("iam")
    if service == "s3":
        cairn.client("s3").create_bucket(Bucket="lastuse-bkt")
        key_id, client = user_with_key(cairn, "lastuse-s3", "s3:PutObject")
        client("s3").put_object(Bucket="lastuse-bkt", Key="k", Body=b"x")
    elif service == "logs":
        cairn.client("logs").create_log_group(logGroupName="lastuse-group")
        cairn.client("logs").create_log_stream(logGroupName="lastuse-group", logStreamName="s")
        key_id, client = user_with_key(cairn, "lastuse-logs", "logs:PutLogEvents")
        client("logs").put_log_events(logGroupName="lastuse-group", logStreamName="s",
                                      logEvents=[{"timestamp": int(time.time() * 1000), "message": "m"}])
    else:
        topic = cairn.client("sns").create_topic(Name="lastuse-topic")["TopicArn"]
        key_id, client = user_with_key(cairn, "lastuse-sns", "sns:Publish")
        client("sns").publish(TopicArn=topic, Message="m")

    def used():
        last = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
        return last["ServiceName"] == service and last["Region"] == "us-east-1" and "LastUsedDate" in last
    until(used, f"{service} use of {key_id}")


def test_the_credential_report_shows_a_use_the_event_log_does_not_keep(cairn):
    cairn.client("s3").create_bucket(Bucket="lastuse-report")
    key_id, client = user_with_key(cairn, "lastuse-report", "s3:GetObject")
    cairn.client("s3").put_object(Bucket="lastuse-report", Key="k", Body=b"x")
    client("s3").get_object(Bucket="lastuse-report", Key="k")["Body"].read()
    iam = cairn.client("iam")
    until(lambda: iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]["ServiceName"] == "s3",
          "the noted use")
    iam.generate_credential_report()
    report = iam.get_credential_report()["Content"].decode()
    row = next(r for r in csv.DictReader(io.StringIO(report)) if r["user"] == "lastuse-report")
    assert row["access_key_1_last_used_service"] == "s3" and row["access_key_1_last_used_date"] != "N/A"


def test_the_service_linked_role_path_is_reserved(cairn):
    iam = cairn.client("iam")
    for path in ("/aws-service-role/", "/aws-service-role/ecs.amazonaws.com/"):
        assert code(lambda: iam.create_role(RoleName="AWSServiceRoleForECS", Path=path,
                                            AssumeRolePolicyDocument=json.dumps(TRUST))) == (
            "InvalidInput", "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles")
    iam.create_role(RoleName="ordinary-role", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(TRUST))


def test_authorization_details_carry_users_boundaries(cairn):
    iam = cairn.client("iam")
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.create_user(UserName="bounded-user", PermissionsBoundary=boundary)
    users = iam.get_account_authorization_details(Filter=["User"])["UserDetailList"]
    mine = next(u for u in users if u["UserName"] == "bounded-user")
    assert mine["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                           "PermissionsBoundaryArn": boundary}


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory):
    """A server whose root key is generated (`AKIA…`, 20 characters, as AWS's are), not the
    suite's short fixed one."""
    from conftest import cairn_binary
    data = tmp_path_factory.mktemp("root-key") / "data"
    # The API's clock runs two minutes ahead (within SigV4's five-minute skew): a date that follows
    # the clock, not the root user's creation, shows.
    clock = data.parent / "clock"
    clock.write_text(str(time.time() + 120))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_ROOT_")}
    proc = subprocess.Popen([cairn_binary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data),
                             "--clock-file", str(clock)],
                            stdout=subprocess.PIPE, env=dict(env, CAIRN_LOG="warn"), text=True)
    for line in proc.stdout:
        if line.startswith("cairn listening on "):
            break
    exported = subprocess.run([cairn_binary(), "env", "--data-dir", str(data)], capture_output=True,
                              text=True, check=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in exported.splitlines()
                  if line.startswith("export "))
    values = {k: v.strip("'\"") for k, v in values.items()}
    iam = boto3.client("iam", endpoint_url=values["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"])
    yield iam, values["AWS_ACCESS_KEY_ID"]
    proc.kill()
    proc.wait()


def test_the_root_user_sees_its_own_key(generated_root):
    iam, root_key = generated_root
    listed = iam.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [root_key]
    assert listed[0]["Status"] == "Active" and "UserName" not in listed[0]
    until(lambda: iam.get_access_key_last_used(AccessKeyId=root_key)["AccessKeyLastUsed"]["ServiceName"] == "iam",
          "the root key's use")
    assert "UserName" not in iam.get_access_key_last_used(AccessKeyId=root_key)
    # Not the time of the call: the root user's creation time, as the credential report has it.
    created = iam.get_user()["User"]["CreateDate"]
    iam.generate_credential_report()
    report = iam.get_credential_report()["Content"].decode()
    root = next(r for r in csv.DictReader(io.StringIO(report)) if r["user"] == "<root_account>")
    assert created.strftime("%Y-%m-%dT%H:%M:%S+00:00") == root["user_creation_time"]


def test_a_service_principal_must_name_a_service(cairn):
    iam = cairn.client("iam")
    for service in ("amazonaws.com", "*", "not a service"):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": service}}]}
        got = code(lambda: iam.create_role(RoleName="bad-principal", AssumeRolePolicyDocument=json.dumps(trust)))
        assert got == ("MalformedPolicyDocument", f'Invalid principal in policy: "SERVICE":"{service}"'), got


def test_a_call_a_service_makes_for_the_caller_is_not_the_keys_use(cairn):
    """S3's KMS call for an SSE-KMS object is recorded with the caller's key but made by S3
    (`invokedBy`): the key's last use is the S3 call it signed, not `kms`."""
    key = cairn.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket="lastuse-kms")
    s3.put_object(Bucket="lastuse-kms", Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    key_id, client = user_with_key(cairn, "lastuse-kms", ["s3:GetObject", "kms:Decrypt"])
    client("s3").get_object(Bucket="lastuse-kms", Key="k")["Body"].read()
    iam = cairn.client("iam")
    until(lambda: "LastUsedDate" in iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"],
          "the use")
    assert iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]["ServiceName"] == "s3"
