"""Fixes to the monitoring services found by an outside tester: SNS HTTP(S) endpoints that reach
this server (or instance metadata) by another spelling of the address, CloudWatch Logs KMS keys
that do not exist, are disabled or are not key ARNs, and CloudWatch metrics naming one dimension
twice."""

import socket

import pytest
from botocore.exceptions import ClientError

from conftest import Cairn, cairn_binary, err, logs_key_policy


def port_of(server):
    return int(server.endpoint.rstrip("/").rsplit(":", 1)[1])


def refused_endpoint(sns, topic, endpoint):
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    assert err(e) == ("InvalidParameter", 400), endpoint
    return e.value.response["Error"]["Message"]


def test_no_spelling_of_this_server_or_of_metadata_is_a_subscription_endpoint(cairn):
    sns = cairn.client("sns")
    topic = sns.create_topic(Name="spellings")["TopicArn"]
    port = port_of(cairn)
    own = [
        f"http://0.0.0.0:{port}/x",
        f"http://0:{port}/x",
        f"http://[::]:{port}/x",
        f"http://[::ffff:127.0.0.1]:{port}/x",
        f"http://[::ffff:7f00:2]:{port}/x",
        f"http://[::127.0.0.1]:{port}/x",
        # The spellings refused before the fix stay refused.
        f"http://127.0.0.1:{port}/x",
        f"http://127.1:{port}/x",
        f"http://0x7f000001:{port}/x",
        f"http://localhost:{port}/x",
        f"http://[::1]:{port}/x",
    ]
    for endpoint in own:
        assert "own listener" in refused_endpoint(sns, topic, endpoint), endpoint
    for endpoint in ["http://[::ffff:169.254.169.254]/latest/meta-data/",
                     "http://[::169.254.169.254]/latest/meta-data/"]:
        assert "instance-metadata" in refused_endpoint(sns, topic, endpoint), endpoint
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    # Another port of this host (one this test holds) is not this server.
    with socket.create_server(("127.0.0.1", 0)) as held:
        other_port = held.getsockname()[1]
        other = sns.subscribe(TopicArn=topic, Protocol="http",
                              Endpoint=f"http://0.0.0.0:{other_port}/x")
        assert other["SubscriptionArn"] == "pending confirmation"


class AnyAddressCairn(Cairn):
    """A server listening on every address (0.0.0.0), reached by its clients on loopback."""

    def _spawn(self, listen):
        super()._spawn(listen.replace("127.0.0.1", "0.0.0.0"))
        self.endpoint = self.endpoint.replace("0.0.0.0", "127.0.0.1")


def local_interface_address():
    """A non-loopback IPv4 address of this host, or None when it has none with a route."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("203.0.113.1", 9))
        address = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def any_address_server():
    server = AnyAddressCairn(cairn_binary())
    yield server
    server.stop()


def test_a_server_on_every_address_is_reached_by_every_local_address(any_address_server):
    server = any_address_server
    sns = server.client("sns")
    topic = sns.create_topic(Name="everywhere")["TopicArn"]
    port = port_of(server)
    own = [f"http://127.0.0.1:{port}/x", f"http://0.0.0.0:{port}/x",
           f"http://[::ffff:127.0.0.1]:{port}/x"]
    local = local_interface_address()
    if local is not None:
        own += [f"http://{local}:{port}/x", f"http://[::ffff:{local}]:{port}/x"]
    for endpoint in own:
        assert "own listener" in refused_endpoint(sns, topic, endpoint), endpoint
    # Another host's service on the same port is not this server (TEST-NET-3 is never local).
    remote = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://203.0.113.7:{port}/x")
    assert remote["SubscriptionArn"] == "pending confirmation"


def log_group_key(logs, name):
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    found = [g for g in groups if g["logGroupName"] == name]
    return found[0].get("kmsKeyId", "none") if found else None


def test_log_group_kms_keys_must_exist_be_enabled_and_be_named_by_arn(cairn):
    logs, kms = cairn.client("logs"), cairn.client("kms")
    key = kms.create_key(Description="log group key", Policy=logs_key_policy())["KeyMetadata"]
    kms.create_alias(AliasName="alias/log-groups", TargetKeyId=key["KeyId"])
    missing = key["Arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    other_region = key["Arn"].replace(":us-east-1:", ":eu-west-1:")
    not_found = "The specified KMS Key Id could not be found."
    for bad in ["garbage", key["KeyId"], missing, other_region, "alias/log-groups",
                key["Arn"].replace(":key/" + key["KeyId"], ":alias/log-groups")]:
        with pytest.raises(ClientError) as e:
            logs.create_log_group(logGroupName="kms-refused", kmsKeyId=bad)
        assert err(e) == ("InvalidParameterException", 400), bad
        assert e.value.response["Error"]["Message"] == not_found, bad
        assert log_group_key(logs, "kms-refused") is None, f"{bad}: no group is made"

    logs.create_log_group(logGroupName="kms-plain")
    for bad in ["garbage", missing]:
        with pytest.raises(ClientError) as e:
            logs.associate_kms_key(logGroupName="kms-plain", kmsKeyId=bad)
        assert err(e) == ("InvalidParameterException", 400), bad
        assert e.value.response["Error"]["Message"] == not_found, bad
    assert log_group_key(logs, "kms-plain") == "none"

    # The CLI as the tester ran it.
    out = cairn.cli("logs", "create-log-group", "--log-group-name", "kms-cli", "--kms-key-id", "garbage",
                    check=False)
    assert out.returncode != 0 and "InvalidParameterException" in out.stderr, out.stderr
    assert log_group_key(logs, "kms-cli") is None

    logs.create_log_group(logGroupName="kms-good", kmsKeyId=key["Arn"])
    assert log_group_key(logs, "kms-good") == key["Arn"]

    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as e:
        logs.associate_kms_key(logGroupName="kms-plain", kmsKeyId=key["Arn"])
    assert err(e) == ("InvalidParameterException", 400)
    assert "Disabled" in e.value.response["Error"]["Message"]
    assert log_group_key(logs, "kms-plain") == "none"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="kms-disabled", kmsKeyId=key["Arn"])
    assert err(e) == ("InvalidParameterException", 400)
    assert log_group_key(logs, "kms-disabled") is None

    kms.enable_key(KeyId=key["KeyId"])
    logs.associate_kms_key(logGroupName="kms-plain", kmsKeyId=key["Arn"])
    assert log_group_key(logs, "kms-plain") == key["Arn"]
    logs.disassociate_kms_key(logGroupName="kms-plain")
    assert log_group_key(logs, "kms-plain") == "none"


TWICE = [{"Name": "d", "Value": "v"}, {"Name": "d", "Value": "w"}]
SAME_NAME_TWICE = "No metric may specify the same dimension name twice."


def refused_twice(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    assert err(e) == ("InvalidParameterValue", 400)
    assert e.value.response["Error"]["Message"] == SAME_NAME_TWICE


def test_a_dimension_name_given_twice_is_refused_everywhere(cairn):
    cw = cairn.client("cloudwatch")
    refused_twice(cw.put_metric_data, Namespace="Twice", MetricData=[
        {"MetricName": "ok", "Value": 1.0, "Dimensions": [{"Name": "d", "Value": "v"}]},
        {"MetricName": "bad", "Value": 1.0, "Dimensions": TWICE}])
    assert cw.list_metrics(Namespace="Twice")["Metrics"] == [], "nothing of the call is stored"

    out = cairn.cli("cloudwatch", "put-metric-data", "--namespace", "Twice", "--metric-name", "cli",
                    "--value", "1", "--dimensions", "d=v,d=w", check=False)
    assert out.returncode != 0 and SAME_NAME_TWICE in out.stderr, out.stderr
    assert cw.list_metrics(Namespace="Twice")["Metrics"] == []

    refused_twice(cw.put_metric_alarm, AlarmName="twice", Namespace="Twice", MetricName="m",
                  Dimensions=TWICE, Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                  ComparisonOperator="GreaterThanOrEqualToThreshold")
    assert cw.describe_alarms(AlarmNames=["twice"])["MetricAlarms"] == []

    refused_twice(cw.get_metric_statistics, Namespace="Twice", MetricName="m", Dimensions=TWICE,
                  StartTime=0, EndTime=3600, Period=60, Statistics=["Sum"])
    refused_twice(cw.get_metric_data, StartTime=0, EndTime=3600, MetricDataQueries=[
        {"Id": "q", "MetricStat": {"Metric": {"Namespace": "Twice", "MetricName": "m", "Dimensions": TWICE},
                                   "Period": 60, "Stat": "Sum"}}])

    # Distinct names are fine.
    cw.put_metric_data(Namespace="Twice", MetricData=[
        {"MetricName": "ok", "Value": 1.0,
         "Dimensions": [{"Name": "d", "Value": "v"}, {"Name": "e", "Value": "v"}]}])
    listed = cw.list_metrics(Namespace="Twice")["Metrics"]
    assert [sorted(d["Name"] for d in m["Dimensions"]) for m in listed] == [["d", "e"]]
