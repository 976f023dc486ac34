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
    # SNS names its actions with the service in capitals (`SNS:Publish`).
    prefix = "SNS" if service == "sns" else service
    assert f"{prefix}:{name}" in by_user["unserved-nobody"]["errorMessage"]
    assert by_user["Root"]["errorCode"] == "InvalidAction"
    if name == "GetFederationToken":  # it makes credentials: a write, as AWS records it
        assert by_user["Root"]["readOnly"] is False


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
    for call, answer in (
            (lambda c: c.get_public_key(KeyId=key), "UnsupportedOperationException"),
            # Sign on a symmetric encryption key: AWS's own answer (kms4).
            (lambda c: c.sign(KeyId=key, Message=b"hi", MessageType="RAW",
                              SigningAlgorithm="RSASSA_PSS_SHA_256"), "InvalidKeyUsageException"),
            (lambda c: c.create_custom_key_store(CustomKeyStoreName="x"), "UnsupportedOperationException")):
        assert error(lambda: call(theirs)) == "AccessDeniedException"
        assert error(lambda: call(kms)) == answer
    denied = [r for r in records(cairn, "GetPublicKey")
              if r["userIdentity"].get("userName") == "unserved-nobody"]
    assert denied and denied[0]["errorCode"] == "AccessDenied"
    assert "kms:GetPublicKey" in denied[0]["errorMessage"]


EDS = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"


def lake_user(cairn, name, statements):
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "cloudtrail")


def test_lake_operations_are_authorized_on_the_stores_they_name(cairn):
    """CloudTrail Lake is not carried out, but its calls are authorized on the event data
    store, channel or dashboard they name (Service Authorization Reference), as a served
    call would be: a resource-scoped Allow lets the call reach its refusal, a Deny stops it
    and is recorded as AccessDenied."""
    ct = lake_user(cairn, "lake-user", [
        {"Effect": "Allow", "Action": ["cloudtrail:GetEventDataStore", "cloudtrail:StartQuery"],
         "Resource": EDS},
        {"Effect": "Allow", "Action": ["cloudtrail:DeleteEventDataStore",
                                       "cloudtrail:CreateEventDataStore", "cloudtrail:GetChannel"],
         "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:DeleteEventDataStore",
         "Resource": "arn:aws:cloudtrail:*:*:eventdatastore/*"},
        {"Effect": "Deny", "Action": "cloudtrail:GetChannel",
         "Resource": "arn:aws:cloudtrail:us-east-1:123456789012:channel/blocked"}])
    store_id = EDS.rsplit("/", 1)[1]
    assert error(lambda: ct.get_event_data_store(EventDataStore=EDS)) == "UnsupportedOperationException"
    assert error(lambda: ct.get_event_data_store(EventDataStore=store_id)) == "UnsupportedOperationException"
    # A statement's identifiers are read in lower case, as Trino reads them (AWS's ids are
    # lower-case UUIDs; this is the guide's mixed-case example id).
    assert error(lambda: ct.start_query(
        QueryStatement=f'SELECT eventName FROM "{store_id}" LIMIT 5')) == "AccessDeniedException"
    assert error(lambda: ct.start_query(
        QueryStatement="SELECT eventName FROM other-store-id")) == "AccessDeniedException"
    assert error(lambda: ct.get_event_data_store(
        EventDataStore=EDS.replace("EXAMPLE-", "OTHER-"))) == "AccessDeniedException"
    assert error(lambda: ct.delete_event_data_store(EventDataStore=EDS)) == "AccessDeniedException"
    assert error(lambda: ct.get_channel(Channel="open")) == "UnsupportedOperationException"
    assert error(lambda: ct.get_channel(Channel="blocked")) == "AccessDeniedException"
    # A new store with tags also needs cloudtrail:AddTags.
    assert error(lambda: ct.create_event_data_store(Name="store")) == "UnsupportedOperationException"
    assert error(lambda: ct.create_event_data_store(
        Name="store", TagsList=[{"Key": "k", "Value": "v"}])) == "AccessDeniedException"
    deleted = [r for r in records(cairn, "DeleteEventDataStore")
               if r["userIdentity"].get("userName") == "lake-user"]
    assert [r["errorCode"] for r in deleted] == ["AccessDenied"]
    assert "eventdatastore/EXAMPLE-" in deleted[0]["errorMessage"]


STORE_A = "5e2676f8-9fce-46ef-8142-3e36a94e6691"
STORE_B = "0b6cd4a1-2f3e-4c5d-8e9f-a0b1c2d3e4f5"


def store_arn(store):
    return f"arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{store}"


def test_start_query_is_authorized_on_every_store_the_statement_reads(cairn):
    """The stores a Lake statement reads come from its syntax tree, not the word after FROM:
    a comma join, a comment, a quote or bracket against FROM, `TABLE b` or an upper-case id
    still reads store B, and a word after FROM that is no table (UNNEST, IS DISTINCT FROM,
    extract, trim, a string) names no store."""
    only_a = lake_user(cairn, "lake-only-a", [
        {"Effect": "Allow", "Action": "cloudtrail:StartQuery", "Resource": store_arn(STORE_A)}])
    not_b = lake_user(cairn, "lake-not-b", [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:StartQuery", "Resource": store_arn(STORE_B)}])
    a, b = STORE_A, STORE_B
    reads_b = [f"SELECT eventName FROM {b}", f"SELECT eventName FROM {a}, {b}",
               f"SELECT eventName FROM {a},{b}", f"SELECT eventName FROM /* c */ {b}",
               f"SELECT eventName FROM -- c\n{b}", f'SELECT eventName FROM"{b}"',
               f"SELECT eventName FROM {b.upper()}", f"SELECT eventName FROM({b})",
               f"SELECT x.eventName FROM {a} x JOIN({b}) y ON x.eventID = y.eventID",
               f"SELECT eventName FROM {a} UNION ALL TABLE {b}",
               f"SELECT * FROM (WITH {b} AS (SELECT 1) SELECT * FROM {b}) x, {b}",
               # Trino's comments do not nest; sqlparser's do.
               f"SELECT 1 /* /* */ FROM {b} -- */",
               # Trino ends a line comment at a carriage return too.
               f"SELECT eventName FROM {a} -- x\r, {b}",
               # A store id inside a quoted alias adds no quote that would pair differently.
               f'SELECT (SELECT count(*) FROM {a}) AS "c {b}", eventName FROM {b} --"',
               # Valid Trino sqlparser refuses still names B.
               f"SELECT json_query(x, 'lax $' WITH ARRAY WRAPPER) FROM {a}, {b}"]
    for client in (only_a, not_b):
        for statement in reads_b:
            assert error(lambda: client.start_query(QueryStatement=statement)) \
                == "AccessDeniedException", statement
    reads_a = [f"SELECT r.arn FROM {a} CROSS JOIN UNNEST(resources) AS t(r)",
               f"SELECT eventName FROM {a} WHERE errorCode IS DISTINCT FROM 'AccessDenied'",
               f"SELECT extract(hour FROM eventTime), count(*) FROM {a} GROUP BY 1",
               f"SELECT trim(BOTH ' ' FROM eventName) FROM {a}",
               f"SELECT eventName FROM {a} WHERE errorMessage LIKE '%denied from console%'",
               f"WITH recent AS (SELECT * FROM {a}) SELECT eventName FROM recent"]
    for statement in reads_a:
        assert error(lambda: only_a.start_query(QueryStatement=statement)) \
            == "UnsupportedOperationException", statement
    # A statement that cannot be parsed is authorized on every store: only a caller allowed
    # on all of them gets past the gate.
    unparsed = "SELECT eventName FROM some-store-id"
    assert error(lambda: only_a.start_query(QueryStatement=unparsed)) == "AccessDeniedException"
    assert error(lambda: not_b.start_query(QueryStatement=unparsed)) == "UnsupportedOperationException"
    # A statement over AWS's 10,000 characters is refused by the model's length before it is
    # read at all (lake3: an 8 MB one was lexed on the writer thread before authorization,
    # stalling every recorded call for seconds).
    huge = "SELECT " + "+".join(["1"] * 40_000) + f" FROM {b}"
    assert error(lambda: not_b.start_query(QueryStatement=huge)) == "ValidationException"
    # One of just 10,000 characters, one flat expression nesting as deep as its terms, neither
    # crashes the server nor hides the store it names.
    deep = "SELECT " + "+".join(["1"] * 4_970) + f" FROM {b}"
    deep = deep + " " * (10_000 - len(deep))
    assert error(lambda: not_b.start_query(QueryStatement=deep)) == "AccessDeniedException"
    assert error(lambda: only_a.start_query(QueryStatement=reads_a[0])) == "UnsupportedOperationException"
    recorded = [r for r in records(cairn, "StartQuery")
                if r["userIdentity"].get("userName") == "lake-only-a"]
    denied = [r for r in recorded if r.get("errorCode") == "AccessDenied"]
    assert len(denied) == len(reads_b) + 1, [r["requestParameters"] for r in denied]
    assert all("UNNEST" not in r["errorMessage"] for r in denied)


def test_tags_of_lake_resources_are_not_found_not_invalid(cairn):
    ct = cairn.client("cloudtrail")
    for arn in (EDS, "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567890",
                "arn:aws:cloudtrail:us-east-1:123456789012:dashboard/exampleDash"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.add_tags(ResourceId=arn, TagsList=[{"Key": "k", "Value": "v"}])
        assert e.value.response["Error"]["Code"] == "ResourceNotFoundException", arn
        assert e.value.response["Error"]["Message"] == f"Resource not found: {arn}"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.list_tags(ResourceIdList=[arn])
        assert e.value.response["Error"]["Code"] == "ResourceNotFoundException", arn
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.list_tags(ResourceIdList=["arn:aws:cloudtrail:us-east-1:123456789012:widget/x"])
    assert e.value.response["Error"]["Code"] == "CloudTrailARNInvalidException"


def test_unserved_operations_are_checked_against_the_model_first(cairn):
    """A call Cairn does not carry out is still a call of AWS's model: a missing required
    member or a member of the wrong type is refused as for a served call, before the
    refusal that says Cairn does not carry it out."""
    ct, kms = cairn.client("cloudtrail"), cairn.client("kms")

    def raw(service, target, body):
        creds = Credentials(ACCESS_KEY, SECRET)
        prefix = {"cloudtrail": "CloudTrail_20131101", "kms": "TrentService"}[service]
        req = AWSRequest(method="POST", url=cairn.endpoint, data=json.dumps(body), headers={
            "X-Amz-Target": f"{prefix}.{target}", "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(creds, service, "us-east-1").add_auth(req)
        r = requests.post(cairn.endpoint, data=req.body, headers=dict(req.headers))
        return r.status_code, r.json().get("__type", "").split("#")[-1]

    assert raw("cloudtrail", "GetEventDataStore", {}) == (400, "ValidationException")
    assert raw("cloudtrail", "GetEventDataStore", {"EventDataStore": 5})[1] in (
        "SerializationException", "ValidationException")
    assert raw("cloudtrail", "GetEventDataStore", {"EventDataStore": "abc"}) == (
        400, "UnsupportedOperationException")
    assert raw("kms", "DeriveSharedSecret", {"KeyId": "k"}) == (400, "ValidationException")


def test_unserved_operations_are_held_to_every_constraint_of_the_model(cairn):
    """lake3: the Lake calls Cairn does not carry out were checked only for required members
    and types, so an 8 MB QueryStatement or a thousand stores in GenerateQuery's one-item list
    reached authorization (and its cost) before being refused. Every constraint of the model
    now comes first, and the refusal is recorded."""
    ct = cairn.client("cloudtrail")
    huge = "SELECT eventName FROM " + STORE_A + " WHERE " + " OR ".join(["1=1"] * 200_000)
    e = client_error(lambda: ct.start_query(QueryStatement=huge))
    assert e["Code"] == "ValidationException", e
    assert "Member must have length less than or equal to 10000" in e["Message"], e["Message"][:300]
    e = client_error(lambda: ct.generate_query(EventDataStores=[STORE_A, STORE_B], Prompt="all events"))
    assert e["Code"] == "ValidationException", e
    assert "less than or equal to 1" in e["Message"], e
    e = client_error(lambda: ct.create_event_data_store(Name="store", RetentionPeriod=5000))
    assert e["Code"] == "ValidationException", e
    refused = [r for r in records(cairn, "StartQuery") if r.get("errorCode") == "ValidationException"]
    assert refused, "the refusal is recorded"


def test_tags_an_operation_does_not_have_do_not_drive_its_authorization(cairn):
    """lake3: a TagsList sent with an operation that has no such member (ListTags,
    GenerateQuery) went into the request-tag context of every resource the call named: a
    Deny on a request tag then applied to a call that carries no tags, and n resources times
    m tags entries were built before the decision."""
    ct = lake_user(cairn, "lake-tag-context", [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blocked"}}}])
    ct.meta.events.register("before-call.cloudtrail.GenerateQuery", add_tags_member)
    assert error(lambda: ct.generate_query(EventDataStores=[STORE_A], Prompt="all events")) \
        == "UnsupportedOperationException"
    # The same Deny still applies to an operation that has tags.
    assert error(lambda: ct.create_event_data_store(
        Name="store", TagsList=[{"Key": "team", "Value": "blocked"}])) == "AccessDeniedException"


def add_tags_member(params, **_):
    """Adds a TagsList member to the JSON body botocore built (its own validation would refuse
    a member the operation lacks)."""
    body = json.loads(params["body"])
    body["TagsList"] = [{"Key": "team", "Value": "blocked"}]
    params["body"] = json.dumps(body).encode()


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]


def test_a_query_naming_the_stores_owner_is_authorized_in_that_account(cairn):
    """lake3: EventDataStoreOwnerAccountId was ignored, so a Deny on another account's event
    data stores did not apply to a query naming that account as their owner."""
    ct = lake_user(cairn, "lake-owner", [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["cloudtrail:StartQuery", "cloudtrail:DescribeQuery"],
         "Resource": "arn:aws:cloudtrail:*:111111111111:eventdatastore/*"}])
    statement = f"SELECT eventName FROM {STORE_A}"
    assert error(lambda: ct.start_query(QueryStatement=statement)) == "UnsupportedOperationException"
    assert error(lambda: ct.start_query(QueryStatement=statement,
                                        EventDataStoreOwnerAccountId="111111111111")) \
        == "AccessDeniedException"
    assert error(lambda: ct.describe_query(EventDataStore=STORE_A, QueryId="q" * 36,
                                           EventDataStoreOwnerAccountId="111111111111")) \
        == "AccessDeniedException"
