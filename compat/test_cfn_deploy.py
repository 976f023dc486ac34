"""`aws cloudformation deploy` (change sets) creating a stack, updating it in place and with a
replacement, and reporting no changes; exports and imports across stacks; IAM resources and
the capabilities they need; malformed templates through the API."""

import json
import os

import pytest

HERE = os.path.dirname(__file__)
DEPLOY = os.path.join(HERE, "cfn", "deploy.yml")
EXPORTER = os.path.join(HERE, "cfn", "exporter.yml")
IMPORTER = os.path.join(HERE, "cfn", "importer.json")
IAM = os.path.join(HERE, "cfn", "iam.yml")


def j(out):
    return json.loads(out.stdout)


def stack_of(cairn, name):
    return j(cairn.cli("cloudformation", "describe-stacks", "--stack-name", name))["Stacks"][0]


def outputs(cairn, name):
    return {o["OutputKey"]: o["OutputValue"] for o in stack_of(cairn, name)["Outputs"]}


def resource_events(cairn, stack, logical_id):
    evs = j(cairn.cli("cloudformation", "describe-stack-events", "--stack-name", stack))["StackEvents"]
    return [(e["ResourceStatus"], e.get("ResourceStatusReason")) for e in reversed(evs)
            if e["LogicalResourceId"] == logical_id]


def topics(cairn):
    return [t["TopicArn"] for t in j(cairn.cli("sns", "list-topics"))["Topics"]]


def expiry_days(cairn, bucket):
    rules = j(cairn.cli("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket))["Rules"]
    return [r["Expiration"]["Days"] for r in rules]


def deploy(cairn, *overrides, check=True):
    args = ["cloudformation", "deploy", "--template-file", DEPLOY, "--stack-name", "logs-stack"]
    if overrides:
        args += ["--parameter-overrides", *overrides]
    return cairn.cli(*args, check=check)


def test_deploy_creates_updates_in_place_replaces_and_reports_no_changes(cairn):
    # Create: a change set of type CREATE, executed.
    made = deploy(cairn)
    assert "Successfully created/updated stack - logs-stack" in made.stdout
    stack = stack_of(cairn, "logs-stack")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "RetentionDays": "30", "TopicSuffix": "one"}
    first = outputs(cairn, "logs-stack")
    bucket, topic = first["BucketName"], first["TopicArn"]
    assert topic == "arn:aws:sns:us-east-1:123456789012:alerts-one"
    assert expiry_days(cairn, bucket) == [30]
    listed = j(cairn.cli("cloudformation", "list-change-sets", "--stack-name", "logs-stack"))["Summaries"]
    assert [(c["Status"], c["ExecutionStatus"]) for c in listed] == [("CREATE_COMPLETE", "EXECUTE_COMPLETE")]

    # A lifecycle change is applied to the same bucket (no interruption).
    deploy(cairn, "RetentionDays=7")
    assert stack_of(cairn, "logs-stack")["StackStatus"] == "UPDATE_COMPLETE"
    second = outputs(cairn, "logs-stack")
    assert second["BucketName"] == bucket and second["TopicArn"] == topic
    assert expiry_days(cairn, bucket) == [7]
    assert resource_events(cairn, "logs-stack", "LogBucket")[-2:] == [
        ("UPDATE_IN_PROGRESS", None), ("UPDATE_COMPLETE", None)]
    assert resource_events(cairn, "logs-stack", "AlertTopic")[-1][0] == "CREATE_COMPLETE"

    # A new topic name replaces the topic: the new one is made, then the old one deleted in
    # the cleanup phase.
    changes = j(cairn.cli("cloudformation", "create-change-set", "--stack-name", "logs-stack",
                          "--change-set-name", "preview", "--use-previous-template", "--parameters",
                          "ParameterKey=RetentionDays,UsePreviousValue=true",
                          "ParameterKey=TopicSuffix,ParameterValue=two"))
    cairn.cli("cloudformation", "wait", "change-set-create-complete", "--change-set-name", changes["Id"])
    described = j(cairn.cli("cloudformation", "describe-change-set", "--change-set-name", changes["Id"]))
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"],
             c["ResourceChange"].get("Replacement")) for c in described["Changes"]] == [
        ("Modify", "AlertTopic", "True")]
    # The change comes from the parameter, and says so.
    assert [(d["Target"]["Name"], d["Target"]["RequiresRecreation"], d["ChangeSource"],
             d.get("CausingEntity")) for d in described["Changes"][0]["ResourceChange"]["Details"]] == [
        ("TopicName", "Always", "ParameterReference", "TopicSuffix")]
    cairn.cli("cloudformation", "delete-change-set", "--change-set-name", changes["Id"])

    deploy(cairn, "TopicSuffix=two")
    third = outputs(cairn, "logs-stack")
    assert third["BucketName"] == bucket
    assert third["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:alerts-two"
    assert topic not in topics(cairn) and third["TopicArn"] in topics(cairn)
    seen = resource_events(cairn, "logs-stack", "AlertTopic")
    replacing = seen.index(("UPDATE_IN_PROGRESS",
                            "Requested update requires the creation of a new physical resource; hence creating one."))
    assert ("UPDATE_COMPLETE", None) in seen[replacing:], seen
    assert seen[-1] == ("DELETE_COMPLETE", None), seen
    statuses = [e["ResourceStatus"] for e in j(cairn.cli(
        "cloudformation", "describe-stack-events", "--stack-name", "logs-stack"))["StackEvents"]
        if e["LogicalResourceId"] == "logs-stack"]
    assert statuses[0] == "UPDATE_COMPLETE" and statuses[1] == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"

    # Deploying the same template and values again changes nothing, and says so: an error
    # by default (the CLI's --fail-on-empty-changeset), exit 0 with --no-fail-on-empty-changeset.
    # The CLI names its change sets by the second, and AWS keeps a failed one (as Cairn does),
    # so each empty deploy's change set is deleted before the next deploy, as a user would.
    same = deploy(cairn, "TopicSuffix=two", check=False)
    assert same.returncode != 0
    assert "No changes to deploy. Stack logs-stack is up to date" in same.stderr
    drop_failed_change_sets(cairn, "logs-stack")
    quiet = cairn.cli("cloudformation", "deploy", "--template-file", DEPLOY, "--stack-name", "logs-stack",
                      "--no-fail-on-empty-changeset")
    assert "No changes to deploy. Stack logs-stack is up to date" in quiet.stdout
    assert drop_failed_change_sets(cairn, "logs-stack") == 1
    assert stack_of(cairn, "logs-stack")["StackStatus"] == "UPDATE_COMPLETE"

    # A parameter the template does not allow is refused before anything changes.
    bad = deploy(cairn, "TopicSuffix=UPPER", check=False)
    assert bad.returncode != 0
    assert "Parameter 'TopicSuffix' must match pattern [a-z]+" in bad.stderr

    cairn.cli("cloudformation", "delete-stack", "--stack-name", "logs-stack")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "logs-stack")
    assert third["TopicArn"] not in topics(cairn)


def drop_failed_change_sets(cairn, stack):
    """Deletes the stack's FAILED change sets, checking AWS's reason on each; returns how many."""
    failed = [c for c in j(cairn.cli("cloudformation", "list-change-sets", "--stack-name", stack))["Summaries"]
              if c["Status"] == "FAILED"]
    assert failed
    for change_set in failed:
        assert change_set["StatusReason"] == ("The submitted information didn't contain changes. "
                                              "Submit different information to create a change set.")
        cairn.cli("cloudformation", "delete-change-set", "--change-set-name", change_set["ChangeSetId"])
    return len(failed)


def test_exports_are_imported_and_protected_while_in_use(cairn):
    cairn.cli("cloudformation", "deploy", "--template-file", EXPORTER, "--stack-name", "shared")
    arn = outputs(cairn, "shared")["SharedTopicArn"]
    exports = j(cairn.cli("cloudformation", "list-exports"))["Exports"]
    assert [(e["Name"], e["Value"]) for e in exports] == [("shared-topic", arn)]

    cairn.cli("cloudformation", "create-stack", "--stack-name", "consumer", "--template-body",
              f"file://{IMPORTER}", "--parameters", "ParameterKey=Exporter,ParameterValue=shared")
    cairn.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", "consumer")
    policy = json.loads(j(cairn.cli("sns", "get-topic-attributes", "--topic-arn", arn))["Attributes"]["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    imports = j(cairn.cli("cloudformation", "list-imports", "--export-name", "shared-topic"))["Imports"]
    assert imports == ["consumer"]

    cairn.cli("cloudformation", "delete-stack", "--stack-name", "shared")
    waited = cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "shared", check=False)
    assert waited.returncode != 0
    stack = stack_of(cairn, "shared")
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "Export shared-topic cannot be deleted as it is in use by consumer"

    cairn.cli("cloudformation", "delete-stack", "--stack-name", "consumer")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "consumer")
    cairn.cli("cloudformation", "delete-stack", "--stack-name", "shared")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "shared")
    assert j(cairn.cli("cloudformation", "list-exports"))["Exports"] == []


def test_iam_resources_need_named_iam_capability_and_are_usable(cairn):
    refused = cairn.cli("cloudformation", "create-stack", "--stack-name", "auditors",
                        "--template-body", f"file://{IAM}", check=False)
    assert refused.returncode != 0
    assert "InsufficientCapabilitiesException" in refused.stderr
    assert "Requires capabilities : [CAPABILITY_NAMED_IAM]" in refused.stderr

    cairn.cli("cloudformation", "create-stack", "--stack-name", "auditors", "--template-body",
              f"file://{IAM}", "--capabilities", "CAPABILITY_NAMED_IAM")
    cairn.cli("cloudformation", "wait", "stack-create-complete", "--stack-name", "auditors")
    out = outputs(cairn, "auditors")
    assert out["RoleArn"] == "arn:aws:iam::123456789012:role/cfn-cloudtrail-to-logs"
    assert out["PolicyArn"].startswith("arn:aws:iam::123456789012:policy/auditors-LookupPolicy-")
    user = j(cairn.cli("iam", "get-user", "--user-name", "cfn-auditor"))["User"]
    assert {"Key": "team", "Value": "security"} in user["Tags"]
    groups = j(cairn.cli("iam", "list-groups-for-user", "--user-name", "cfn-auditor"))["Groups"]
    assert [g["GroupName"] for g in groups] == ["cfn-auditors"]
    inline = j(cairn.cli("iam", "list-role-policies", "--role-name", "cfn-cloudtrail-to-logs"))["PolicyNames"]
    assert sorted(inline) == ["deliver", "extra-read"]

    # The key the stack made signs calls as the user, with the group's and policy's rights.
    lookup = cairn.client_with(out["AccessKeyId"], out["SecretAccessKey"], "cloudtrail")
    assert "Events" in lookup.lookup_events(MaxResults=1)
    with pytest.raises(Exception) as denied:
        lookup.create_trail(Name="nope", S3BucketName="nope")
    assert "AccessDenied" in str(denied.value)

    cairn.cli("cloudformation", "delete-stack", "--stack-name", "auditors")
    cairn.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", "auditors")
    gone = cairn.cli("iam", "get-user", "--user-name", "cfn-auditor", check=False)
    assert gone.returncode != 0 and "NoSuchEntity" in gone.stderr


MALFORMED = [
    ("Resources: {}\n", "Template format error: At least one Resources member must be defined."),
    ("Resources:\n  A: {Type: AWS::EC2::Instance}\n",
     "Template format error: Unrecognized resource types: [AWS::EC2::Instance]"),
    ("Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !Ref Nope}}\n",
     "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"),
    ("Resources:\n  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt B.TopicName}}\n"
     "  B: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt A.TopicName}}\n",
     "Template format error: Circular dependency between resources: [A, B]"),
    ("Resources:\n  A: [1,\n", "Template format error: YAML not well-formed."),
]


@pytest.mark.parametrize("body,message", MALFORMED)
def test_malformed_templates_get_validation_errors(cairn, body, message):
    for op in (["validate-template"], ["create-stack", "--stack-name", "malformed"]):
        out = cairn.cli("cloudformation", *op, "--template-body", body, check=False)
        assert out.returncode != 0
        assert "(ValidationError)" in out.stderr, out.stderr
        assert message in out.stderr, out.stderr
    gone = cairn.cli("cloudformation", "describe-stacks", "--stack-name", "malformed", check=False)
    assert "Stack with id malformed does not exist" in gone.stderr
