"""GetContextKeysForCustomPolicy and GetContextKeysForPrincipalPolicy list the context keys
policies read (condition keys and policy variables, as written, once each), as the IAM CLI
reference's example shows; the principal form reads a user's own and its groups' policies,
is authorized on the principal's ARN, and both are recorded."""

import json

import pytest
from botocore.exceptions import ClientError

EXAMPLE = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
           '"Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}",'
           '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}')


def doc(condition):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": condition}]})


def test_custom_policy_keys_match_the_cli_reference_example(cairn):
    iam = cairn.client("iam")
    assert iam.get_context_keys_for_custom_policy(
        PolicyInputList=[EXAMPLE])["ContextKeyNames"] == ["aws:username", "aws:CurrentTime"]
    both = iam.get_context_keys_for_custom_policy(PolicyInputList=[
        EXAMPLE, doc({"StringEquals": {"AWS:USERNAME": "x", "s3:prefix": "home/"}})])
    assert both["ContextKeyNames"] == ["aws:username", "aws:CurrentTime", "s3:prefix"]
    plain = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    assert iam.get_context_keys_for_custom_policy(PolicyInputList=[plain])["ContextKeyNames"] == []
    with pytest.raises(ClientError) as e:
        iam.get_context_keys_for_custom_policy(PolicyInputList=['{"Statement":'])
    assert e.value.response["Error"]["Code"] == "InvalidInput"


def test_principal_keys_include_group_policies_and_the_input_list(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="ck-user")
    iam.put_user_policy(UserName="ck-user", PolicyName="mfa",
                        PolicyDocument=doc({"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    iam.create_group(GroupName="ck-group")
    iam.add_user_to_group(UserName="ck-user", GroupName="ck-group")
    iam.put_group_policy(GroupName="ck-group", PolicyName="net",
                         PolicyDocument=doc({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    arn = iam.get_user(UserName="ck-user")["User"]["Arn"]
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)["ContextKeyNames"]
    assert keys == ["aws:MultiFactorAuthPresent", "aws:SourceIp"]
    keys = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=arn, PolicyInputList=[EXAMPLE])["ContextKeyNames"]
    assert keys == ["aws:MultiFactorAuthPresent", "aws:SourceIp", "aws:username",
                    "aws:CurrentTime"]
    with pytest.raises(ClientError) as e:
        iam.get_context_keys_for_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:user/nobody")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_principal_form_is_authorized_on_the_principal_and_recorded(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="ck-target")
    iam.create_user(UserName="ck-reader")
    target = iam.get_user(UserName="ck-target")["User"]["Arn"]
    iam.put_user_policy(UserName="ck-reader", PolicyName="only-self", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:GetContextKeysForPrincipalPolicy",
             "Resource": "arn:aws:iam::123456789012:user/ck-reader"}]}))
    key = iam.create_access_key(UserName="ck-reader")["AccessKey"]
    reader = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "iam")
    with pytest.raises(ClientError) as e:
        reader.get_context_keys_for_principal_policy(PolicySourceArn=target)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    own = reader.get_context_keys_for_principal_policy(
        PolicySourceArn="arn:aws:iam::123456789012:user/ck-reader")
    assert own["ContextKeyNames"] == []
    ct = cairn.client("cloudtrail")
    events = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName",
         "AttributeValue": "GetContextKeysForPrincipalPolicy"}])["Events"]]
    by_user = [e for e in events if e["userIdentity"].get("userName") == "ck-reader"]
    assert sorted(e.get("errorCode", "") for e in by_user) == ["", "AccessDenied"]
    assert all(e["eventSource"] == "iam.amazonaws.com" and e["readOnly"] for e in by_user)
