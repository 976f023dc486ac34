"""Page tokens through boto3: keyset positions that survive changes between pages, and
tokens bound to the call that gave them.

- Listings resume strictly after the last item returned, so an item that exists throughout a
  listing is never skipped or repeated when others are created or deleted between pages
  (Logs DescribeLogGroups/LogStreams/MetricFilters, CloudWatch DescribeAlarms, IAM attached
  policies, groups for a user, entities for a policy, policy versions, tags,
  GetAccountAuthorizationDetails).
- Tokens are signed and bound: a forged one, one from another operation, topic, region or
  with other parameters is refused with each service's error (SNS InvalidParameter,
  CloudWatch InvalidNextToken, KMS InvalidMarkerException).
- FilterLogEvents and GetLogEvents tokens expire after 24 hours on the server's clock
  (`--clock-file`; the client signs with the same driven time)."""

import base64
import datetime
import json
import os
import tempfile
import time

import botocore.auth
import botocore.exceptions
import pytest

from conftest import Cairn, cairn_binary


class Clock:
    """The server's `--clock-file`, and botocore's signing time moved with it."""

    def __init__(self):
        f = tempfile.NamedTemporaryFile("w", delete=False)
        f.close()
        self.path = f.name
        self.offset = 0
        self.set(time.time())

    def set(self, t):
        with open(self.path, "w") as f:
            f.write(str(t))
        self.now = t
        self.offset = t - time.time()


@pytest.fixture(scope="module")
def clocked():
    clock = Clock()
    # No alarm evaluator: a tick landing between two reads of a history would add an entry.
    server = Cairn(cairn_binary(), ["--clock-file", clock.path, "--alarm-tick-secs", "0"])
    real = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: real(*a, **k) + datetime.timedelta(
        seconds=clock.offset)
    yield server, clock
    botocore.auth.get_current_datetime = real
    server.stop()
    os.unlink(clock.path)


@pytest.fixture()
def server(clocked):
    return clocked[0]


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_log_streams_resume_after_the_last_stream_returned(server):
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/pages/streams")
    for i in range(20):
        logs.create_log_stream(logGroupName="/pages/streams", logStreamName=f"s{i:02d}")
    first = logs.describe_log_streams(logGroupName="/pages/streams", limit=5)
    assert [s["logStreamName"] for s in first["logStreams"]] == [f"s{i:02d}" for i in range(5)]
    for gone in ("s00", "s01"):
        logs.delete_log_stream(logGroupName="/pages/streams", logStreamName=gone)
    logs.create_log_stream(logGroupName="/pages/streams", logStreamName="a0")
    second = logs.describe_log_streams(logGroupName="/pages/streams", limit=5,
                                       nextToken=first["nextToken"])
    assert [s["logStreamName"] for s in second["logStreams"]] == [f"s{i:02d}" for i in range(5, 10)]
    # Descending order resumes downwards.
    down = logs.describe_log_streams(logGroupName="/pages/streams", limit=3, descending=True)
    logs.delete_log_stream(logGroupName="/pages/streams", logStreamName="s19")
    more = logs.describe_log_streams(logGroupName="/pages/streams", limit=3, descending=True,
                                     nextToken=down["nextToken"])
    assert [s["logStreamName"] for s in more["logStreams"]] == ["s16", "s15", "s14"]
    # A token is bound to its parameters.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.describe_log_streams(logGroupName="/pages/streams", limit=5,
                                  logStreamNamePrefix="s1", nextToken=first["nextToken"])
    assert code(e) == "InvalidParameterException"


def test_log_groups_and_metric_filters_resume_by_key(server):
    logs = server.client("logs")
    for i in range(8):
        logs.create_log_group(logGroupName=f"/pages/g{i:02d}")
    first = logs.describe_log_groups(logGroupNamePrefix="/pages/g", limit=3)
    assert [g["logGroupName"] for g in first["logGroups"]] == ["/pages/g00", "/pages/g01", "/pages/g02"]
    logs.delete_log_group(logGroupName="/pages/g00")
    second = logs.describe_log_groups(logGroupNamePrefix="/pages/g", limit=3, nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in second["logGroups"]] == ["/pages/g03", "/pages/g04", "/pages/g05"]

    for i in range(6):
        logs.put_metric_filter(
            logGroupName="/pages/g07", filterName=f"f{i}", filterPattern="ERROR",
            metricTransformations=[{"metricName": f"m{i}", "metricNamespace": "Pages", "metricValue": "1"}])
    page = logs.describe_metric_filters(logGroupName="/pages/g07", limit=2)
    assert [f["filterName"] for f in page["metricFilters"]] == ["f0", "f1"]
    logs.delete_metric_filter(logGroupName="/pages/g07", filterName="f0")
    page = logs.describe_metric_filters(logGroupName="/pages/g07", limit=2, nextToken=page["nextToken"])
    assert [f["filterName"] for f in page["metricFilters"]] == ["f2", "f3"]


def test_alarms_resume_by_name_and_tokens_are_bound(server):
    cw = server.client("cloudwatch")
    for i in range(12):
        cw.put_metric_alarm(AlarmName=f"al{i:02d}", MetricName="M", Namespace="Pages", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold")
    first = cw.describe_alarms(AlarmNamePrefix="al", MaxRecords=5)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == [f"al{i:02d}" for i in range(5)]
    cw.delete_alarms(AlarmNames=["al00", "al01"])
    second = cw.describe_alarms(AlarmNamePrefix="al", MaxRecords=5, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in second["MetricAlarms"]] == [f"al{i:02d}" for i in range(5, 10)]
    for kwargs in ({"AlarmNamePrefix": "al1", "NextToken": first["NextToken"]},
                   {"AlarmNamePrefix": "al", "NextToken": "2"}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cw.describe_alarms(MaxRecords=5, **kwargs)
        assert code(e) == "InvalidNextToken"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.list_metrics(NextToken="2")
    assert code(e) == "InvalidNextToken"


def test_alarm_history_resumes_after_the_last_item(server):
    cw = server.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="hist", MetricName="M", Namespace="Pages", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold")
    states = ["ALARM", "OK"] * 3
    for state in states:
        cw.set_alarm_state(AlarmName="hist", StateValue=state, StateReason="paging")
    everything = cw.describe_alarm_history(AlarmName="hist")["AlarmHistoryItems"]
    for scan in ("TimestampAscending", "TimestampDescending"):
        seen, token = [], None
        while True:
            kwargs = {"NextToken": token} if token else {}
            page = cw.describe_alarm_history(AlarmName="hist", MaxRecords=2, ScanBy=scan, **kwargs)
            seen += [(i["Timestamp"], i["HistorySummary"]) for i in page["AlarmHistoryItems"]]
            token = page.get("NextToken")
            if not token:
                break
            if scan == "TimestampDescending":
                # New history between pages: newest-first pages must not repeat what they gave.
                cw.set_alarm_state(AlarmName="hist", StateValue="ALARM", StateReason="more")
                cw.set_alarm_state(AlarmName="hist", StateValue="OK", StateReason="more")
        # Items of one millisecond can be alike, so compare whole lists, not sets.
        expected = [(i["Timestamp"], i["HistorySummary"]) for i in everything]
        if scan == "TimestampAscending":
            expected.reverse()
        assert seen == expected, scan
    first = cw.describe_alarm_history(AlarmName="hist", MaxRecords=2)
    for kwargs in ({"AlarmName": "other", "NextToken": first["NextToken"]},
                   {"AlarmName": "hist", "NextToken": "2"}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cw.describe_alarm_history(MaxRecords=2, **kwargs)
        assert code(e) == "InvalidNextToken"


def test_iam_lists_resume_after_the_last_item(server):
    iam = server.client("iam")
    iam.create_user(UserName="pager")
    iam.create_role(RoleName="pager-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                               "Action": "sts:AssumeRole"}]}))
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                              "Resource": "*"}]})
    arns = [iam.create_policy(PolicyName=f"pol{i:02d}", PolicyDocument=doc)["Policy"]["Arn"] for i in range(8)]
    for arn in arns:
        iam.attach_user_policy(UserName="pager", PolicyArn=arn)
        iam.attach_role_policy(RoleName="pager-role", PolicyArn=arn)
    first = iam.list_attached_user_policies(UserName="pager", MaxItems=3)
    assert [p["PolicyName"] for p in first["AttachedPolicies"]] == ["pol00", "pol01", "pol02"]
    iam.detach_user_policy(UserName="pager", PolicyArn=arns[0])
    second = iam.list_attached_user_policies(UserName="pager", MaxItems=3, Marker=first["Marker"])
    assert [p["PolicyName"] for p in second["AttachedPolicies"]] == ["pol03", "pol04", "pol05"]

    # A marker is bound to its call: another user's listing or operation refuses it.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_attached_role_policies(RoleName="pager-role", MaxItems=3, Marker=first["Marker"])
    assert code(e) == "InvalidInput"
    forged = base64.urlsafe_b64encode(b"00000003").decode().rstrip("=")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_attached_role_policies(RoleName="pager-role", MaxItems=3, Marker=forged)
    assert code(e) == "InvalidInput"

    # Groups for a user, in membership order.
    for i in range(5):
        iam.create_group(GroupName=f"grp{i}")
        iam.add_user_to_group(GroupName=f"grp{i}", UserName="pager")
    g1 = iam.list_groups_for_user(UserName="pager", MaxItems=2)
    iam.remove_user_from_group(GroupName="grp0", UserName="pager")
    g2 = iam.list_groups_for_user(UserName="pager", MaxItems=2, Marker=g1["Marker"])
    assert [g["GroupName"] for g in g2["Groups"]] == ["grp2", "grp3"]

    # Entities a policy is attached to.
    for i in range(4):
        iam.create_user(UserName=f"ent{i}")
        iam.attach_user_policy(UserName=f"ent{i}", PolicyArn=arns[7])
    every = [u["UserName"] for u in
             iam.list_entities_for_policy(PolicyArn=arns[7], EntityFilter="User")["PolicyUsers"]]
    assert sorted(every) == ["ent0", "ent1", "ent2", "ent3", "pager"]
    e1 = iam.list_entities_for_policy(PolicyArn=arns[7], EntityFilter="User", MaxItems=2)
    assert [u["UserName"] for u in e1["PolicyUsers"]] == every[:2]
    iam.detach_user_policy(UserName=every[0], PolicyArn=arns[7])
    e2 = iam.list_entities_for_policy(PolicyArn=arns[7], EntityFilter="User", MaxItems=2, Marker=e1["Marker"])
    assert [u["UserName"] for u in e2["PolicyUsers"]] == every[2:4]

    # Policy versions, newest first.
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arns[1], PolicyDocument=doc)
    v1 = iam.list_policy_versions(PolicyArn=arns[1], MaxItems=2)
    assert [v["VersionId"] for v in v1["Versions"]] == ["v4", "v3"]
    iam.delete_policy_version(PolicyArn=arns[1], VersionId="v4")
    v2 = iam.list_policy_versions(PolicyArn=arns[1], MaxItems=2, Marker=v1["Marker"])
    assert [v["VersionId"] for v in v2["Versions"]] == ["v2", "v1"]

    # Tags.
    iam.tag_user(UserName="pager", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(6)])
    t1 = iam.list_user_tags(UserName="pager", MaxItems=2)
    iam.untag_user(UserName="pager", TagKeys=["k0"])
    t2 = iam.list_user_tags(UserName="pager", MaxItems=2, Marker=t1["Marker"])
    assert [t["Key"] for t in t2["Tags"]] == ["k2", "k3"]

    # GetAccountAuthorizationDetails.
    d1 = iam.get_account_authorization_details(Filter=["User"], MaxItems=2)
    assert [u["UserName"] for u in d1["UserDetailList"]] == ["ent0", "ent1"]
    if every[0] != "ent0":  # still attached
        iam.detach_user_policy(UserName="ent0", PolicyArn=arns[7])
    iam.delete_user(UserName="ent0")
    d2 = iam.get_account_authorization_details(Filter=["User"], MaxItems=2, Marker=d1["Marker"])
    assert [u["UserName"] for u in d2["UserDetailList"]] == ["ent2", "ent3"]


def test_iam_markers_stay_within_320_characters_for_the_longest_names(server):
    iam = server.client("iam")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    path = "/" + "p" * 510 + "/"
    for i in range(3):
        iam.create_policy(PolicyName=f"{i}" + "n" * 127, Path=path, PolicyDocument=doc)
        iam.create_group(GroupName=f"{i}" + "g" * 127)
    names = []
    for page in iam.get_paginator("list_policies").paginate(
            Scope="Local", PathPrefix=path, PaginationConfig={"PageSize": 1}):
        names += [p["PolicyName"] for p in page["Policies"]]
        assert len(page.get("Marker", "")) <= 320
    assert names == [f"{i}" + "n" * 127 for i in range(3)]
    groups = []
    for page in iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["Group"], PaginationConfig={"PageSize": 1}):
        groups += [g["GroupName"] for g in page["GroupDetailList"]]
        assert len(page.get("Marker", "")) <= 320
    assert [g for g in groups if g.endswith("g" * 127)] == [f"{i}" + "g" * 127 for i in range(3)]


def test_sns_tokens_are_signed_and_bound(server):
    sns = server.client("sns")
    arns = [sns.create_topic(Name=f"t{i:03d}")["TopicArn"] for i in range(105)]
    for i in range(101):
        sns.subscribe(TopicArn=arns[0], Protocol="email", Endpoint=f"u{i}@example.com")
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    forged = base64.b64encode(arns[50].encode()).decode()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.list_topics(NextToken=forged)
    assert code(e) == "InvalidParameter"
    subs = sns.list_subscriptions()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.list_topics(NextToken=subs["NextToken"])
    assert code(e) == "InvalidParameter"
    by_topic = sns.list_subscriptions_by_topic(TopicArn=arns[0])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.list_subscriptions_by_topic(TopicArn=arns[1], NextToken=by_topic["NextToken"])
    assert code(e) == "InvalidParameter"
    # Real tokens still page, and resume after the last topic returned.
    sns.delete_topic(TopicArn=first["Topics"][1]["TopicArn"])
    rest = sns.list_topics(NextToken=first["NextToken"])
    assert [t["TopicArn"] for t in rest["Topics"]] == sorted(arns)[100:]
    assert len(sns.list_subscriptions_by_topic(TopicArn=arns[0], NextToken=by_topic["NextToken"])
               ["Subscriptions"]) == 1


def test_kms_markers_are_bound_to_operation_and_region(server):
    kms = server.client("kms")
    keys = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)]
    for i in range(3):
        kms.create_alias(AliasName=f"alias/pages{i}", TargetKeyId=keys[0])
        kms.tag_resource(KeyId=keys[0], Tags=[{"TagKey": f"k{i}", "TagValue": "v"}])
    page = kms.list_keys(Limit=1)
    marker = page["NextMarker"]
    assert kms.list_keys(Limit=1, Marker=marker)["Keys"]
    for call in (lambda: kms.list_aliases(Marker=marker),
                 lambda: kms.list_resource_tags(KeyId=keys[0], Marker=marker),
                 lambda: server.client("kms", region="eu-west-1").list_keys(Marker=marker)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert code(e) == "InvalidMarkerException"


def test_event_tokens_expire_after_a_day_on_the_servers_clock(clocked):
    server, clock = clocked
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/pages/events")
    logs.create_log_stream(logGroupName="/pages/events", logStreamName="s")
    now_ms = int((time.time() + clock.offset) * 1000)
    logs.put_log_events(logGroupName="/pages/events", logStreamName="s",
                        logEvents=[{"timestamp": now_ms + i, "message": f"m{i}"} for i in range(4)])
    got = logs.get_log_events(logGroupName="/pages/events", logStreamName="s", startFromHead=True, limit=2)
    filtered = logs.filter_log_events(logGroupName="/pages/events", limit=2)
    assert got["nextForwardToken"].startswith("f/") and got["nextBackwardToken"].startswith("b/")
    start = time.time() + clock.offset
    clock.set(start + 23 * 3600)
    page = logs.get_log_events(logGroupName="/pages/events", logStreamName="s", startFromHead=True,
                               limit=2, nextToken=got["nextForwardToken"])
    assert [e["message"] for e in page["events"]] == ["m2", "m3"]
    assert [e["message"] for e in logs.filter_log_events(
        logGroupName="/pages/events", limit=2, nextToken=filtered["nextToken"])["events"]] == ["m2", "m3"]
    # The end of the stream answers the token it was given.
    end = logs.get_log_events(logGroupName="/pages/events", logStreamName="s", startFromHead=True,
                              limit=2, nextToken=page["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == page["nextForwardToken"]
    clock.set(start + 25 * 3600)
    for call in (lambda: logs.get_log_events(logGroupName="/pages/events", logStreamName="s",
                                             startFromHead=True, limit=2, nextToken=got["nextForwardToken"]),
                 lambda: logs.get_log_events(logGroupName="/pages/events", logStreamName="s",
                                             limit=2, nextToken=got["nextBackwardToken"]),
                 lambda: logs.filter_log_events(logGroupName="/pages/events", limit=2,
                                                nextToken=filtered["nextToken"])):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert code(e) == "InvalidParameterException"
        assert "expired" in e.value.response["Error"]["Message"]
    clock.set(time.time())


def test_a_cloudtrail_token_never_given_is_refused(server):
    # ListTags answers in one page, so it never gives a NextToken; one it is sent is forged,
    # refused as ListTrails and ListPublicKeys refuse theirs (it used to be ignored).
    ct = server.client("cloudtrail")
    for call in (lambda: ct.list_tags(ResourceIdList=[], NextToken="garbage"),
                 lambda: ct.list_public_keys(NextToken="garbage"),
                 lambda: ct.list_trails(NextToken="garbage")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert code(e) == "InvalidTokenException"
