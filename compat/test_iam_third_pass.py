"""IAM, third outside pass (iamapi3): creating a user, role or policy with Tags needs the
entity's Tag action too, with the request tags as its conditions (an ABAC Deny on tagging was
bypassed by creating with the tag); and a Query list or map index outside 1 to 1,000, which
IAM acted on but the record left out, is refused before anything runs."""

import json

import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def test_creating_with_tags_needs_the_tag_action(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="tagger")
    iam.put_user_policy(UserName="tagger", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateUser", "iam:CreateRole", "iam:CreatePolicy",
                                           "iam:TagUser", "iam:TagRole"], "Resource": "*"},
            {"Effect": "Deny", "Action": ["iam:TagUser", "iam:TagRole", "iam:TagPolicy"],
             "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/team": "admin"}}}]}))
    key = iam.create_access_key(UserName="tagger")["AccessKey"]
    tagger = cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], "iam")
    admin = [{"Key": "team", "Value": "admin"}]
    for call, action in [
        (lambda: tagger.create_user(UserName="sneaky", Tags=admin), "iam:TagUser"),
        (lambda: tagger.create_role(RoleName="sneaky", AssumeRolePolicyDocument=TRUST, Tags=admin),
         "iam:TagRole"),
        # TagPolicy is not allowed at all: any tag on a new policy is refused.
        (lambda: tagger.create_policy(PolicyName="sneaky", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                     "Resource": "*"}]}),
            Tags=[{"Key": "team", "Value": "ops"}]), "iam:TagPolicy"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDenied", e.value.response
        assert action in e.value.response["Error"]["Message"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="sneaky")
    # Other tags, and no tags, pass.
    tagger.create_user(UserName="fine", Tags=[{"Key": "team", "Value": "ops"}])
    tagger.create_role(RoleName="fine", AssumeRolePolicyDocument=TRUST)
    assert iam.list_user_tags(UserName="fine")["Tags"] == [{"Key": "team", "Value": "ops"}]


def raw_iam(cairn, body):
    req = AWSRequest(method="POST", url=cairn.endpoint, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "iam", "us-east-1").add_auth(req)
    return requests.post(cairn.endpoint, data=req.body, headers=dict(req.headers))


def test_list_indexes_outside_1_to_1000_are_refused(cairn):
    iam = cairn.client("iam")
    iam.create_user(UserName="indexed")
    for index in ("0", "1001", "999999999999", "01"):
        r = raw_iam(cairn, f"Action=TagUser&Version=2010-05-08&UserName=indexed"
                           f"&Tags.member.{index}.Key=hidden&Tags.member.{index}.Value=v")
        assert r.status_code == 400, (index, r.text)
        assert "<Code>MalformedQueryString</Code>" in r.text, r.text
    assert iam.list_user_tags(UserName="indexed")["Tags"] == []
    r = raw_iam(cairn, "Action=TagUser&Version=2010-05-08&UserName=indexed"
                       "&Tags.member.1.Key=shown&Tags.member.1.Value=v")
    assert r.status_code == 200, r.text
    [record] = [r for r in cairn.records("Management")
                if r["eventName"] == "TagUser" and r["requestParameters"]["userName"] == "indexed"]
    assert record["requestParameters"]["tags"] == [{"key": "shown", "value": "v"}]
