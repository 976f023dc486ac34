"""CloudFormation as AWS behaves where an outside tester found Cairn differing: the calls a
stack makes are forward access requests (aws:CalledVia, aws:ViaAWSService), a role's delete
removes only the policies it has, change sets list the resources a replacement reaches, every
event of an operation carries its token, and the texts of unknown properties and rollbacks."""

import json

import botocore.exceptions
import pytest

from conftest import cloudtrail_policy

ACCOUNT = "123456789012"
CFN = "cloudformation.amazonaws.com"


def template(resources):
    return json.dumps({"Resources": resources})


def user_client(cairn, name, statements, service="cloudformation"):
    """A client of a new IAM user whose only policy is `statements`."""
    iam = cairn.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda svc=service: cairn.client_with(key["AccessKeyId"], key["SecretAccessKey"], svc)


def trail_bucket(cairn, name):
    s3 = cairn.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=cloudtrail_policy(name))


def trail_template(bucket, logging=True):
    return template({"Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
        "S3BucketName": bucket, "IsLogging": logging}}})


def wait(cfn, name, waiter):
    """Waits for an operation's end; returns the stack's status (failed ends included)."""
    try:
        cfn.get_waiter(waiter).wait(StackName=name)
    except botocore.exceptions.WaiterError:
        pass
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except botocore.exceptions.ClientError as e:
        assert "does not exist" in e.response["Error"]["Message"]
        return "DELETE_COMPLETE"


def events(cfn, name):
    return list(reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]))


def reasons(cfn, name, logical_id, status):
    return [e.get("ResourceStatusReason") for e in events(cfn, name)
            if e["LogicalResourceId"] == logical_id and e["ResourceStatus"] == status]


ALLOW_ALL = [{"Effect": "Allow", "Action": ["cloudformation:*", "cloudtrail:*"], "Resource": "*"}]


def deny_via(key, operator="ForAnyValue:StringEquals"):
    return {"Effect": "Deny", "Resource": "*",
            "Action": ["cloudtrail:CreateTrail", "cloudtrail:DeleteTrail",
                       "cloudtrail:StopLogging"],
            "Condition": {operator: {key: CFN}}}


@pytest.mark.parametrize("key,operator", [
    ("aws:CalledVia", "ForAnyValue:StringEquals"),
    ("aws:CalledViaFirst", "StringEquals"),
    ("aws:CalledViaLast", "StringEquals"),
])
def test_a_deny_on_calls_via_cloudformation_holds_for_the_stacks_calls(cairn, key, operator):
    tag = key.split(":")[1].lower()
    bucket = f"fas-{tag}"
    trail_bucket(cairn, bucket)
    client = user_client(cairn, f"fas-{tag}", ALLOW_ALL + [deny_via(key, operator)])
    cfn = client()
    cfn.create_stack(StackName=f"fas-{tag}", TemplateBody=trail_template(bucket))
    assert wait(cfn, f"fas-{tag}", "stack_create_complete") == "ROLLBACK_COMPLETE"
    [reason] = reasons(cfn, f"fas-{tag}", "Trail", "CREATE_FAILED")
    assert "cloudtrail:CreateTrail" in reason and "explicit deny" in reason, reason
    trails = cairn.client("cloudtrail").describe_trails()["trailList"]
    assert [t for t in trails if t["S3BucketName"] == bucket] == []
    # The same user may still call CloudTrail itself: the deny is only for calls via a service.
    ct = client("cloudtrail")
    ct.create_trail(Name=f"direct-{tag}", S3BucketName=bucket)
    ct.delete_trail(Name=f"direct-{tag}")


def test_stop_logging_and_delete_through_a_stack_are_denied(cairn):
    trail_bucket(cairn, "fas-stop")
    root = cairn.client("cloudformation")
    root.create_stack(StackName="fas-stop", TemplateBody=trail_template("fas-stop"))
    assert wait(root, "fas-stop", "stack_create_complete") == "CREATE_COMPLETE"
    cfn = user_client(cairn, "fas-stopper", ALLOW_ALL + [deny_via("aws:CalledVia")])()
    cfn.update_stack(StackName="fas-stop", TemplateBody=trail_template("fas-stop", logging=False))
    assert wait(cfn, "fas-stop", "stack_update_complete") == "UPDATE_ROLLBACK_COMPLETE"
    [reason] = reasons(cfn, "fas-stop", "Trail", "UPDATE_FAILED")
    assert "cloudtrail:StopLogging" in reason and "explicit deny" in reason, reason
    cfn.delete_stack(StackName="fas-stop")
    assert wait(cfn, "fas-stop", "stack_delete_complete") == "DELETE_FAILED"
    [reason] = reasons(cfn, "fas-stop", "Trail", "DELETE_FAILED")
    assert "cloudtrail:DeleteTrail" in reason and "explicit deny" in reason, reason
    name = root.describe_stack_resource(StackName="fas-stop", LogicalResourceId="Trail")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert cairn.client("cloudtrail").get_trail_status(Name=name)["IsLogging"] is True


def test_an_allow_only_via_a_service_lets_the_stack_act_and_the_record_is_unchanged(cairn):
    trail_bucket(cairn, "fas-via")
    client = user_client(cairn, "fas-via", [
        {"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*",
         "Condition": {"Bool": {"aws:ViaAWSService": "true"}}}])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client("cloudtrail").create_trail(Name="fas-direct", S3BucketName="fas-via")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    cfn = client()
    cfn.create_stack(StackName="fas-via", TemplateBody=trail_template("fas-via"))
    assert wait(cfn, "fas-via", "stack_create_complete") == "CREATE_COMPLETE"
    [record] = [r for r in cairn.records("Management")
                if r["eventName"] == "CreateTrail" and r["userIdentity"].get("userName") == "fas-via"
                and "errorCode" not in r]
    assert record["userIdentity"]["invokedBy"] == CFN
    assert record["sourceIPAddress"] == CFN and record["userAgent"] == CFN
    cfn.delete_stack(StackName="fas-via")
    assert wait(cfn, "fas-via", "stack_delete_complete") == "DELETE_COMPLETE"


def test_a_service_roles_calls_are_forward_access_requests_too(cairn):
    # AWS (CloudFormation User Guide, "FAS requests and permission evaluation"): with or
    # without a service role, CloudFormation makes each resource operation with a forward
    # access session, so the FAS condition keys are set in both cases.
    iam = cairn.client("iam")
    iam.create_role(RoleName="fas-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": CFN}}]}))
    iam.put_role_policy(RoleName="fas-role", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": ALLOW_ALL + [deny_via("aws:CalledVia")]}))
    trail_bucket(cairn, "fas-role")
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="fas-role", TemplateBody=trail_template("fas-role"),
                     RoleARN=f"arn:aws:iam::{ACCOUNT}:role/fas-role")
    assert wait(cfn, "fas-role", "stack_create_complete") == "ROLLBACK_COMPLETE"
    [reason] = reasons(cfn, "fas-role", "Trail", "CREATE_FAILED")
    assert "assumed-role/fas-role/" in reason and "explicit deny" in reason, reason


@pytest.mark.parametrize("prop,value", [
    ("Policies", [{"PolicyName": "inline", "PolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]),
    ("ManagedPolicyArns", ["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
])
def test_a_role_whose_policy_was_refused_is_deleted_by_the_rollback(cairn, prop, value):
    tag = prop.lower()
    cfn = user_client(cairn, f"no-role-policies-{tag}", [
        {"Effect": "Allow", "Action": ["cloudformation:*", "iam:*"], "Resource": "*"},
        {"Effect": "Deny", "Resource": "*", "Action": [
            "iam:PutRolePolicy", "iam:DeleteRolePolicy",
            "iam:AttachRolePolicy", "iam:DetachRolePolicy"]}])()
    role = f"orphan-{tag}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": CFN}}]}
    cfn.create_stack(StackName=f"orphan-{tag}", Capabilities=["CAPABILITY_NAMED_IAM"],
                     TemplateBody=template({"R": {"Type": "AWS::IAM::Role", "Properties": {
                         "RoleName": role, "AssumeRolePolicyDocument": trust, prop: value}}}))
    assert wait(cfn, f"orphan-{tag}", "stack_create_complete") == "ROLLBACK_COMPLETE"
    [reason] = reasons(cfn, f"orphan-{tag}", "R", "CREATE_FAILED")
    assert "explicit deny" in reason, reason
    assert reasons(cfn, f"orphan-{tag}", "R", "DELETE_COMPLETE") == [None]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cairn.client("iam").get_role(RoleName=role)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_a_roles_delete_removes_the_policies_it_has(cairn):
    iam, cfn = cairn.client("iam"), cairn.client("cloudformation")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": CFN}}]}
    cfn.create_stack(StackName="strip", Capabilities=["CAPABILITY_NAMED_IAM"],
                     TemplateBody=template({"R": {"Type": "AWS::IAM::Role", "Properties": {
                         "RoleName": "strip-role", "AssumeRolePolicyDocument": trust,
                         "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                         "Policies": [{"PolicyName": "a", "PolicyDocument": {
                             "Version": "2012-10-17", "Statement": [{
                                 "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}]}}}))
    assert wait(cfn, "strip", "stack_create_complete") == "CREATE_COMPLETE"
    # One policy the template named is already gone; another was added outside the stack.
    iam.delete_role_policy(RoleName="strip-role", PolicyName="a")
    iam.put_role_policy(RoleName="strip-role", PolicyName="extra", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:*", "Resource": "*"}]}))
    cfn.delete_stack(StackName="strip")
    assert wait(cfn, "strip", "stack_delete_complete") == "DELETE_COMPLETE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName="strip-role")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_a_change_set_lists_the_resources_a_replacement_reaches(cairn):
    cfn = cairn.client("cloudformation")

    def body(topic_name):
        return template({
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic_name}},
            "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
                "TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "a@example.com"}},
            "Other": {"Type": "AWS::SNS::Topic", "Properties": {
                "DisplayName": {"Fn::GetAtt": ["Topic", "TopicName"]}}}})

    cfn.create_stack(StackName="reach", TemplateBody=body("reach-one"))
    assert wait(cfn, "reach", "stack_create_complete") == "CREATE_COMPLETE"
    cfn.create_change_set(StackName="reach", ChangeSetName="rename",
                          TemplateBody=body("reach-two"))
    cfn.get_waiter("change_set_create_complete").wait(StackName="reach", ChangeSetName="rename")
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in
               cfn.describe_change_set(StackName="reach", ChangeSetName="rename")["Changes"]}
    assert sorted(changes) == ["Other", "Sub", "Topic"]
    assert (changes["Topic"]["Action"], changes["Topic"]["Replacement"]) == ("Modify", "True")
    assert (changes["Sub"]["Action"], changes["Sub"]["Replacement"]) == ("Modify", "Conditional")
    assert changes["Sub"]["Scope"] == ["Properties"]
    assert changes["Sub"]["Details"] == [{
        "Target": {"Attribute": "Properties", "Name": "TopicArn", "RequiresRecreation": "Always"},
        "Evaluation": "Dynamic", "ChangeSource": "ResourceReference", "CausingEntity": "Topic"}]
    assert changes["Other"]["Replacement"] == "False"
    assert changes["Other"]["Details"] == [{
        "Target": {"Attribute": "Properties", "Name": "DisplayName",
                   "RequiresRecreation": "Never"},
        "Evaluation": "Dynamic", "ChangeSource": "ResourceAttribute",
        "CausingEntity": "Topic.TopicName"}]
    sub_before = changes["Sub"]["PhysicalResourceId"]
    cfn.execute_change_set(StackName="reach", ChangeSetName="rename")
    assert wait(cfn, "reach", "stack_update_complete") == "UPDATE_COMPLETE"
    sub_after = cfn.describe_stack_resource(StackName="reach", LogicalResourceId="Sub")[
        "StackResourceDetail"]["PhysicalResourceId"]
    assert sub_after != sub_before and ":reach-two:" in sub_after


def test_every_event_of_an_operation_carries_its_token(cairn):
    cfn = cairn.client("cloudformation")
    topic = {"T": {"Type": "AWS::SNS::Topic", "Properties": {}}}
    cfn.create_stack(StackName="tokens", TemplateBody=template(topic), ClientRequestToken="c-1")
    assert wait(cfn, "tokens", "stack_create_complete") == "CREATE_COMPLETE"
    topic["T"]["Properties"]["DisplayName"] = "shown"
    cfn.update_stack(StackName="tokens", TemplateBody=template(topic), ClientRequestToken="u-1")
    assert wait(cfn, "tokens", "stack_update_complete") == "UPDATE_COMPLETE"
    stack_id = cfn.describe_stacks(StackName="tokens")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="tokens", ClientRequestToken="d-1")
    assert wait(cfn, stack_id, "stack_delete_complete") == "DELETE_COMPLETE"
    got = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ClientRequestToken"))
           for e in events(cfn, stack_id)]
    stack_events = [(s, t) for (lid, s, t) in got if lid == "tokens"]
    assert stack_events == [
        ("CREATE_IN_PROGRESS", "c-1"), ("CREATE_COMPLETE", "c-1"),
        ("UPDATE_IN_PROGRESS", "u-1"), ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "u-1"),
        ("UPDATE_COMPLETE", "u-1"), ("DELETE_IN_PROGRESS", "d-1"), ("DELETE_COMPLETE", "d-1")]
    assert all(t is not None for (_, _, t) in got), got

    cfn.create_stack(StackName="tokens-failed", ClientRequestToken="f-1",
                     TemplateBody=template({"T": {"Type": "AWS::SNS::Topic",
                                                  "Properties": {"TopicName": "bad name!"}}}))
    assert wait(cfn, "tokens-failed", "stack_create_complete") == "ROLLBACK_COMPLETE"
    assert {e.get("ClientRequestToken") for e in events(cfn, "tokens-failed")} == {"f-1"}


def test_unknown_properties_are_refused_as_aws_refuses_them(cairn):
    cfn = cairn.client("cloudformation")
    trail_bucket(cairn, "schema-bucket")

    def failed(name, props):
        cfn.create_stack(StackName=name, TemplateBody=template({"Trail": {
            "Type": "AWS::CloudTrail::Trail", "Properties": {
                "S3BucketName": "schema-bucket", **props}}}))
        assert wait(cfn, name, "stack_create_complete") == "ROLLBACK_COMPLETE"
        [reason] = reasons(cfn, name, "Trail", "CREATE_FAILED")
        return reason

    assert failed("schema-bogus", {"IsLogging": True, "Bogus": 1}) == (
        "Properties validation failed for resource Trail with message: "
        "#: extraneous key [Bogus] is not permitted")
    assert failed("schema-required", {}) == (
        "Properties validation failed for resource Trail with message: "
        "#: required key [IsLogging] not found")
    # A property AWS's schema has and Cairn does not implement keeps Cairn's own reason.
    cfn.create_stack(StackName="schema-unimplemented", TemplateBody=template({"B": {
        "Type": "AWS::S3::Bucket", "Properties": {
            "WebsiteConfiguration": {"IndexDocument": "index.html"}}}}))
    assert wait(cfn, "schema-unimplemented", "stack_create_complete") == "ROLLBACK_COMPLETE"
    [reason] = reasons(cfn, "schema-unimplemented", "B", "CREATE_FAILED")
    assert reason.startswith(
        "Cairn cannot honour the property of AWS::S3::Bucket [WebsiteConfiguration]"), reason


def test_a_rollback_reason_is_separated_from_the_failure(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_stack(StackName="no-export", TemplateBody=json.dumps({
        "Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {}}},
        "Outputs": {"O": {"Value": {"Fn::ImportValue": "s1-TrailArn"}}}}))
    assert wait(cfn, "no-export", "stack_create_complete") == "ROLLBACK_COMPLETE"
    assert reasons(cfn, "no-export", "no-export", "ROLLBACK_IN_PROGRESS") == [
        "No export named s1-TrailArn found. Rollback requested by user."]


def test_a_change_set_names_its_stack_by_id_too(cairn):
    # CreateChangeSet's StackName is a StackNameOrId: the stack id a client kept works as well
    # as the name (it was refused with a pattern message that the id matched).
    cfn = cairn.client("cloudformation")
    topic = {"T": {"Type": "AWS::SNS::Topic", "Properties": {}}}
    stack_id = cfn.create_stack(StackName="by-id", TemplateBody=template(topic))["StackId"]
    assert wait(cfn, "by-id", "stack_create_complete") == "CREATE_COMPLETE"
    two = dict(topic, U={"Type": "AWS::SNS::Topic", "Properties": {}})
    made = cfn.create_change_set(StackName=stack_id, ChangeSetName="add-one",
                                 TemplateBody=template(two))
    assert made["StackId"] == stack_id
    cfn.get_waiter("change_set_create_complete").wait(StackName=stack_id, ChangeSetName="add-one")
    cfn.execute_change_set(StackName=stack_id, ChangeSetName="add-one")
    assert wait(cfn, "by-id", "stack_update_complete") == "UPDATE_COMPLETE"
    gone = stack_id.replace("/by-id/", "/by-id-gone/")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.create_change_set(StackName=gone, ChangeSetName="x", TemplateBody=template(two),
                              ChangeSetType="UPDATE")
    assert e.value.response["Error"]["Message"] == f"Stack [{gone}] does not exist"
    # Its changes fit one page, so DescribeChangeSet never gives a token: one sent is forged.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.describe_change_set(StackName=stack_id, ChangeSetName="add-one", NextToken="junk")
    assert e.value.response["Error"]["Message"] == "junk is not a valid NextToken"


def test_a_stack_whose_create_change_set_was_never_run_is_deleted_at_once(cairn):
    cfn = cairn.client("cloudformation")
    cfn.create_change_set(StackName="reviewed", ChangeSetName="cs", ChangeSetType="CREATE",
                          TemplateBody=template({"T": {"Type": "AWS::SNS::Topic"}}))
    cfn.get_waiter("change_set_create_complete").wait(StackName="reviewed", ChangeSetName="cs",
                                                      WaiterConfig={"Delay": 1})
    stack_id = cfn.describe_stacks(StackName="reviewed")["Stacks"][0]["StackId"]
    assert cfn.describe_stacks(StackName="reviewed")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    cfn.delete_stack(StackName="reviewed")
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig={"Delay": 1,
                                                                                  "MaxAttempts": 5})
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    statuses = [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
                if e["LogicalResourceId"] == "reviewed"]
    assert statuses[:2] == ["DELETE_COMPLETE", "DELETE_IN_PROGRESS"]
    # The name is free again.
    cfn.create_stack(StackName="reviewed", TemplateBody=template({"T": {"Type": "AWS::SNS::Topic"}}))
    cfn.get_waiter("stack_create_complete").wait(StackName="reviewed", WaiterConfig={"Delay": 1})


def test_one_template_exporting_a_name_twice_fails_and_rolls_back(cairn):
    cfn = cairn.client("cloudformation")
    body = json.dumps({
        "Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dup-export"}}},
        "Outputs": {"A": {"Value": "x", "Export": {"Name": "same"}},
                    "B": {"Value": "y", "Export": {"Name": "same"}}}})
    cfn.create_stack(StackName="dup-export", TemplateBody=body)
    with pytest.raises(Exception):
        cfn.get_waiter("stack_create_complete").wait(StackName="dup-export",
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    stack = cfn.describe_stacks(StackName="dup-export")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in
               cfn.describe_stack_events(StackName="dup-export")["StackEvents"]]
    assert any("The Outputs section contains duplicate Export names: [same]" in r for r in reasons), reasons
    topics = [t["TopicArn"] for t in cairn.client("sns").list_topics()["Topics"]]
    assert not any(t.endswith(":dup-export") for t in topics)
    assert cfn.list_exports()["Exports"] == [] or all(
        e["Name"] != "same" for e in cfn.list_exports()["Exports"])


def test_the_description_alone_is_no_update_and_is_bounded(cairn):
    cfn = cairn.client("cloudformation")
    body = lambda d: json.dumps({"Description": d,  # noqa: E731
                                 "Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
    cfn.create_stack(StackName="described", TemplateBody=body("first"))
    cfn.get_waiter("stack_create_complete").wait(StackName="described", WaiterConfig={"Delay": 1})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.update_stack(StackName="described", TemplateBody=body("second"))
    assert e.value.response["Error"]["Message"] == "No updates are to be performed."
    assert cfn.describe_stacks(StackName="described")["Stacks"][0]["Description"] == "first"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cfn.validate_template(TemplateBody=body("d" * 1025))
    assert e.value.response["Error"]["Message"] == \
        "Template format error: 'Description' length is greater than 1024."
