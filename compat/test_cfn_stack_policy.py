"""Stack policies (CloudFormation user guide, "Prevent updates to stack resources"): an
update the policy denies fails for that resource and rolls back. `Update:Delete` covers a
resource the new template removes; before, such a resource was deleted in the cleanup phase
whatever the policy said (a protected log group and its events were lost). Also: `NoEcho`
values never reach a stack call's record."""

import json

from conftest import settled_stack

ALLOW_ALL = {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}


def reasons(cfn, name, logical_id):
    return [e.get("ResourceStatusReason", "") for e in
            cfn.describe_stack_events(StackName=name)["StackEvents"]
            if e["LogicalResourceId"] == logical_id and e["ResourceStatus"] == "UPDATE_FAILED"]


def test_update_delete_denied_keeps_the_resource(cairn):
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    both = {"Audit": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "sp-audit"}},
            "T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "sp-topic"}}}
    cfn.create_stack(StackName="sp-delete", TemplateBody=json.dumps({"Resources": both}),
                     StackPolicyBody=json.dumps({"Statement": [ALLOW_ALL, {
                         "Effect": "Deny", "Action": "Update:Delete", "Principal": "*",
                         "Resource": "LogicalResourceId/Audit"}]}))
    assert settled_stack(cfn, "sp-delete") == "CREATE_COMPLETE"
    logs.create_log_stream(logGroupName="sp-audit", logStreamName="s")
    cfn.update_stack(StackName="sp-delete", TemplateBody=json.dumps({"Resources": {"T": both["T"]}}))
    assert settled_stack(cfn, "sp-delete") == "UPDATE_ROLLBACK_COMPLETE"
    [reason] = reasons(cfn, "sp-delete", "Audit")
    assert "Action denied by stack policy" in reason and "Update:Delete" in reason, reason
    assert logs.describe_log_streams(logGroupName="sp-audit")["logStreams"][0]["logStreamName"] == "s"
    ids = {r["LogicalResourceId"] for r in
           cfn.describe_stack_resources(StackName="sp-delete")["StackResources"]}
    assert ids == {"Audit", "T"}


def test_an_implicitly_denied_removal_and_an_allowed_one(cairn):
    cfn, logs = cairn.client("cloudformation"), cairn.client("logs")
    groups = {k: {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"sp-{k.lower()}"}}
              for k in ("Kept", "Gone")}
    # Only `Gone` may be updated: removing `Kept` is implicitly denied.
    policy = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*",
                             "Resource": "LogicalResourceId/Gone"}]}
    cfn.create_stack(StackName="sp-implicit", TemplateBody=json.dumps({"Resources": groups}),
                     StackPolicyBody=json.dumps(policy))
    assert settled_stack(cfn, "sp-implicit") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="sp-implicit",
                     TemplateBody=json.dumps({"Resources": {"Gone": groups["Gone"]}}))
    assert settled_stack(cfn, "sp-implicit") == "UPDATE_ROLLBACK_COMPLETE"
    assert logs.describe_log_groups(logGroupNamePrefix="sp-kept")["logGroups"]
    cfn.update_stack(StackName="sp-implicit",
                     TemplateBody=json.dumps({"Resources": {"Kept": groups["Kept"]}}))
    assert settled_stack(cfn, "sp-implicit") == "UPDATE_COMPLETE"
    assert not logs.describe_log_groups(logGroupNamePrefix="sp-gone")["logGroups"]


def records(cairn, name):
    events = cairn.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def values(record):
    return {p["parameterKey"]: p.get("parameterValue")
            for p in record["requestParameters"].get("parameters", [])}


def test_no_echo_values_never_reach_a_record(cairn):
    """A `NoEcho` value sent with `UsePreviousTemplate` (how a password is rotated) is masked
    by the stack's own template; one sent with a template that cannot be parsed, or for a
    stack that does not exist, is masked with every other value. Before, all three were
    recorded in the clear, and so delivered to the trail's files."""
    cfn = cairn.client("cloudformation")
    body = json.dumps({
        "Parameters": {"Pw": {"Type": "String", "NoEcho": True},
                       "Label": {"Type": "String"}},
        "Resources": {"T": {"Type": "AWS::SNS::Topic",
                            "Properties": {"DisplayName": {"Ref": "Label"}}}}})
    cfn.create_stack(StackName="noecho", TemplateBody=body, Parameters=[
        {"ParameterKey": "Pw", "ParameterValue": "SECRET-CREATE"},
        {"ParameterKey": "Label", "ParameterValue": "one"}])
    assert settled_stack(cfn, "noecho") == "CREATE_COMPLETE"
    cfn.update_stack(StackName="noecho", UsePreviousTemplate=True, Parameters=[
        {"ParameterKey": "Pw", "ParameterValue": "SECRET-ROTATED"},
        {"ParameterKey": "Label", "ParameterValue": "two"}])
    assert settled_stack(cfn, "noecho") == "UPDATE_COMPLETE"
    cfn.create_change_set(StackName="noecho", ChangeSetName="rotate", UsePreviousTemplate=True,
                          Parameters=[{"ParameterKey": "Pw", "ParameterValue": "SECRET-CS"},
                                      {"ParameterKey": "Label", "ParameterValue": "three"}])
    for bad in ({"StackName": "noecho", "TemplateBody": "{not json"},
                {"StackName": "no-such-stack", "UsePreviousTemplate": True}):
        try:
            cfn.update_stack(Parameters=[{"ParameterKey": "Pw", "ParameterValue": "SECRET-BAD"},
                                         {"ParameterKey": "Label", "ParameterValue": "x"}], **bad)
        except cfn.exceptions.ClientError:
            pass
    updates = records(cairn, "UpdateStack")
    assert {"Pw": "****", "Label": "two"} in [values(r) for r in updates]
    assert [values(r) for r in updates].count({"Pw": "****", "Label": "****"}) == 2
    assert values(records(cairn, "CreateChangeSet")[0]) == {"Pw": "****", "Label": "three"}
    everything = json.dumps(updates + records(cairn, "CreateChangeSet") + records(cairn, "CreateStack"))
    assert "SECRET-" not in everything
