"""Operations of a served service that Cairn does not carry out (CloudWatch PutDashboard and
PutCompositeAlarm, SNS CreatePlatformApplication, CloudFormation CreateStackSet, IAM
CreateLoginProfile, STS GetFederationToken, …) still
pass the gate: a caller without permission is denied, an allowed one is told InvalidAction,
and both attempts are in event history. A name that is no AWS operation stays an
unrecorded InvalidAction, as on AWS."""

import json

import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def records(cairn, name):
    events = cairn.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


@pytest.fixture(scope="module")
def nobody(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="unserved-nobody")
    key = iam.create_access_key(UserName="unserved-nobody")["AccessKey"]
    return lambda service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], service)


CALLS = [
    ("cloudwatch", "PutDashboard", "monitoring.amazonaws.com",
     lambda c: c.put_dashboard(DashboardName="d", DashboardBody="{}")),
    ("cloudwatch", "PutCompositeAlarm", "monitoring.amazonaws.com",
     lambda c: c.put_composite_alarm(AlarmName="c", AlarmRule="ALARM(x)")),
    ("sns", "CreatePlatformApplication", "sns.amazonaws.com",
     lambda c: c.create_platform_application(Name="p", Platform="GCM", Attributes={})),
    ("cloudformation", "CreateStackSet", "cloudformation.amazonaws.com",
     lambda c: c.create_stack_set(StackSetName="s", TemplateBody="{}")),
    ("iam", "CreateLoginProfile", "iam.amazonaws.com",
     lambda c: c.create_login_profile(UserName="unserved-nobody", Password="Passw0rd!Passw0rd")),
    ("sts", "GetFederationToken", "sts.amazonaws.com",
     lambda c: c.get_federation_token(Name="fed")),
]


@pytest.mark.parametrize("service,name,source,call", CALLS, ids=[c[1] for c in CALLS])
def test_an_unserved_operation_is_authorized_and_recorded(cairn, nobody, service, name, source, call):
    denied = error(lambda: call(nobody(service)))
    assert denied in ("AccessDenied", "AccessDeniedException", "AuthorizationError"), denied
    assert error(lambda: call(cairn.client(service))) == "InvalidAction"
    got = records(cairn, name)
    assert {r["eventSource"] for r in got} == {source}
    by_user = {r["userIdentity"].get("userName", r["userIdentity"]["type"]): r for r in got}
    assert by_user["unserved-nobody"]["errorCode"] == denied
    assert f"{service}:{name}" in by_user["unserved-nobody"]["errorMessage"]
    assert by_user["Root"]["errorCode"] == "InvalidAction"


def test_a_name_that_is_no_operation_is_not_recorded(cairn):
    # botocore cannot call an operation its model lacks: sign the Query request by hand.
    request = AWSRequest(method="POST", url=cairn.endpoint + "/",
                         data="Action=MakeItSo&Version=2010-08-01",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "monitoring", "us-east-1").add_auth(request)
    response = requests.post(request.url, data=request.body, headers=dict(request.headers))
    assert response.status_code == 400 and b"InvalidAction" in response.content
    assert records(cairn, "MakeItSo") == []


def test_unsupported_kms_operations_are_authorized_under_the_key_policy(cairn, nobody):
    kms = cairn.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    theirs = nobody("kms")
    for call in (lambda c: c.get_public_key(KeyId=key),
                 lambda c: c.sign(KeyId=key, Message=b"hi", MessageType="RAW",
                                  SigningAlgorithm="RSASSA_PSS_SHA_256"),
                 lambda c: c.create_custom_key_store(CustomKeyStoreName="x")):
        assert error(lambda: call(theirs)) == "AccessDeniedException"
        assert error(lambda: call(kms)) == "UnsupportedOperationException"
    denied = [r for r in records(cairn, "GetPublicKey")
              if r["userIdentity"].get("userName") == "unserved-nobody"]
    assert denied and denied[0]["errorCode"] == "AccessDeniedException"
    assert "kms:GetPublicKey" in denied[0]["errorMessage"]
