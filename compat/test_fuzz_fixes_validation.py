"""Findings of an outside fuzz tester, driven with boto3 with its own parameter validation
off (so the server's checks are what answers): an oversized name that used to make
`cairn verify-store` report a false tamper (the module's server is verified when it stops),
the error codes the SDK maps for CloudWatch's tagging operations, and the model's required
members, enums, ranges and lengths checked at the edge of every JSON and Query service."""

import json

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET, err

NO_VALIDATION = Config(parameter_validation=False, retries={"max_attempts": 1})


def raw(cairn, service):
    return boto3.client(service, endpoint_url=cairn.endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        config=NO_VALIDATION)


def refused(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    return err(e), e.value.response["Error"]["Message"]


def test_oversized_names_leave_the_index_derivable_from_the_record(cairn):
    iam, sns = raw(cairn, "iam"), raw(cairn, "sns")
    huge = "b" * 200_000
    for call, kwargs in [
        (iam.get_group, {"GroupName": huge}),
        (iam.get_user, {"UserName": huge}),
        (iam.get_role, {"RoleName": huge}),
        (iam.get_instance_profile, {"InstanceProfileName": huge}),
        (iam.get_policy, {"PolicyArn": "arn:aws:iam::123456789012:policy/" + huge}),
        (iam.delete_access_key, {"AccessKeyId": "AKIA" + "C" * 200_000, "UserName": "u"}),
        (sns.add_permission, {"TopicArn": "arn:aws:sns:us-east-1:123456789012:" + "t" * 1_000_000,
                              "Label": "l", "AWSAccountId": ["123456789012"], "ActionName": ["Publish"]}),
        (sns.get_topic_attributes, {"TopicArn": "arn:aws:sns:us-east-1:123456789012:" + "t" * 200_000}),
    ]:
        with pytest.raises(botocore.exceptions.ClientError):
            call(**kwargs)
    # Normal-size names are still found by LookupEvents (verify-store runs when the module ends).
    iam.create_group(GroupName="fuzz-group")
    ct = cairn.client("cloudtrail")
    found = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName",
                                                "AttributeValue": "fuzz-group"}])["Events"]
    assert [e["EventName"] for e in found] == ["CreateGroup"]
    assert {"ResourceType": "AWS::IAM::Group", "ResourceName": "fuzz-group"} in found[0]["Resources"]


def test_cloudwatch_tagging_of_a_missing_alarm_is_resource_not_found_exception(cairn):
    cw = cairn.client("cloudwatch")
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:absent"
    for call, kwargs in [(cw.tag_resource, {"ResourceARN": arn, "Tags": [{"Key": "k", "Value": "v"}]}),
                         (cw.untag_resource, {"ResourceARN": arn, "TagKeys": ["k"]}),
                         (cw.list_tags_for_resource, {"ResourceARN": arn})]:
        with pytest.raises(cw.exceptions.ResourceNotFoundException) as e:
            call(**kwargs)
        assert err(e) == ("ResourceNotFoundException", 404)
    # The alarm operations keep their own `ResourceNotFound`.
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.set_alarm_state(AlarmName="absent", StateValue="OK", StateReason="x")


def test_missing_required_members_are_refused(cairn):
    sns, cfn, iam, ct = (raw(cairn, s) for s in ("sns", "cloudformation", "iam", "cloudtrail"))
    (code, message) = refused(sns.delete_topic)
    assert code == ("ValidationError", 400)
    assert message == ("1 validation error detected: Value null at 'topicArn' failed to satisfy "
                       "constraint: Member must not be null")
    topic = cairn.client("sns").create_topic(Name="fuzz")["TopicArn"]
    assert refused(sns.tag_resource, ResourceArn=topic)[0] == ("ValidationError", 400)
    assert refused(cfn.delete_stack)[0] == ("ValidationError", 400)
    cairn.client("iam").create_role(RoleName="fuzz-role", AssumeRolePolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
        '{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'))
    cairn.client("iam").create_user(UserName="fuzz-user")
    for call, kwargs in [(iam.tag_role, {"RoleName": "fuzz-role"}),
                         (iam.tag_user, {"UserName": "fuzz-user"}),
                         (iam.untag_role, {"RoleName": "fuzz-role"}),
                         (iam.untag_user, {"UserName": "fuzz-user"}),
                         (iam.tag_policy, {"PolicyArn": "arn:aws:iam::123456789012:policy/p"}),
                         (iam.untag_policy, {"PolicyArn": "arn:aws:iam::123456789012:policy/p"})]:
        (code, message) = refused(call, **kwargs)
        assert code == ("ValidationError", 400), call
        assert "Member must not be null" in message
    trail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/none"
    for call in (ct.add_tags, ct.remove_tags):
        (code, message) = refused(call, ResourceId=trail)
        assert code == ("ValidationException", 400)
        assert message.endswith("Value null at 'tagsList' failed to satisfy constraint: Member must not be null")
    # The topic is still there: the refused DeleteTopic did nothing, and it is recorded as
    # the failure it was (not as a success).
    assert topic in [t["TopicArn"] for t in cairn.client("sns").list_topics()["Topics"]]
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DeleteTopic"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert [r.get("errorCode") for r in records] == ["ValidationError"]


def test_enum_members_take_only_their_values(cairn):
    cfn, cw, iam, kms = (raw(cairn, s) for s in ("cloudformation", "cloudwatch", "iam", "kms"))
    (code, message) = refused(cfn.list_stacks, StackStatusFilter=["NOT_A_STATUS"])
    assert code == ("ValidationError", 400)
    assert message.startswith("1 validation error detected: Value '[NOT_A_STATUS]' at 'stackStatusFilter' "
                              "failed to satisfy constraint: Member must satisfy constraint: "
                              "[Member must satisfy enum value set: [")
    assert refused(cfn.delete_stack, StackName="s", DeletionMode="NOPE")[0] == ("ValidationError", 400)
    for kwargs in ({"Statistic": "Bogus"}, {"Unit": "Parsecs"}):
        (code, message) = refused(cw.describe_alarms_for_metric, MetricName="m", Namespace="n", **kwargs)
        assert code == ("ValidationError", 400) and "Member must satisfy enum value set" in message
    assert refused(iam.list_entities_for_policy, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess",
                   PolicyUsageFilter="Sometimes")[0] == ("ValidationError", 400)
    assert refused(iam.simulate_principal_policy, PolicySourceArn="arn:aws:iam::123456789012:user/fuzz-user",
                   ActionNames=["s3:ListBucket"],
                   ContextEntries=[{"ContextKeyName": "aws:x", "ContextKeyValues": ["1"],
                                    "ContextKeyType": "nonsense"}])[0][0] in ("ValidationError", "InvalidInput")
    key = cairn.client("kms").create_key()["KeyMetadata"]["KeyId"]
    (code, message) = refused(kms.list_key_rotations, KeyId=key, IncludeKeyMaterial="SOMETIMES")
    assert code == ("ValidationException", 400) and "includeKeyMaterial" in message
    for bad in (3, ["ALL_KEY_MATERIAL"], {"a": 1}):
        assert refused(kms.list_key_rotations, KeyId=key, IncludeKeyMaterial=bad)[0] == \
            ("SerializationException", 400)
    assert cairn.client("kms").list_key_rotations(KeyId=key, IncludeKeyMaterial="ALL_KEY_MATERIAL")


def test_ranges_and_lengths(cairn):
    iam, cw, kms = (raw(cairn, s) for s in ("iam", "cloudwatch", "kms"))
    cairn.client("iam").create_role(RoleName="range-role", AssumeRolePolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
        '{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'))
    for n in (0, -1, 1001):
        (code, message) = refused(iam.list_instance_profiles_for_role, RoleName="range-role", MaxItems=n)
        assert code == ("ValidationError", 400), n
        assert f"Value '{n}' at 'maxItems'" in message
    assert iam.list_instance_profiles_for_role(RoleName="range-role", MaxItems=1000)["InstanceProfiles"] == []
    for names in (["a" * 256], [""]):
        assert refused(cw.describe_alarms, AlarmNames=names)[0] == ("ValidationError", 400)
    assert cw.describe_alarms(AlarmNames=["a" * 255])["MetricAlarms"] == []
    key = cairn.client("kms").create_key()["KeyMetadata"]["KeyId"]
    assert refused(kms.list_grants, KeyId=key, GranteePrincipal="")[0] == ("ValidationException", 400)


def test_nan_is_no_time(cairn):
    """The JSON string "NaN" (which botocore cannot send itself: it is put in the body just
    before signing) is no timestamp, as "not-a-date" is not."""
    ct = raw(cairn, "cloudtrail")
    member = {}

    def nan_body(request, **_):
        body = json.loads(request.data)
        body[member["name"]] = "NaN"
        request.data = json.dumps(body).encode()

    ct.meta.events.register("before-sign.cloudtrail.*", nan_body)
    for call in (ct.lookup_events, ct.list_public_keys):
        for name in ("StartTime", "EndTime"):
            member["name"] = name
            assert refused(call, **{name: 1_700_000_000})[0] == ("SerializationException", 400)


def test_list_insights_metric_data_answers_its_modelled_error(cairn):
    ct = raw(cairn, "cloudtrail")
    base = {"EventSource": "iam.amazonaws.com", "EventName": "CreateUser", "InsightType": "ApiCallRateInsight"}
    for extra in ({"StartTime": 1_800_000_000, "EndTime": 1_700_000_000}, {"MaxResults": 0},
                  {"NextToken": "forged"}):
        assert refused(ct.list_insights_metric_data, **base, **extra)[0] == ("InvalidParameterException", 400)
