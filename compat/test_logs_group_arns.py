"""A log group named by ARN (sdk8): DescribeLogGroups' `arn` ends in `:*`, which the model's
pattern for `logGroupIdentifier(s)` (`[\\w#+=/:,.@-]*`) refuses, so AWS answers
InvalidParameterException to it (Grafana passed it through and had to strip the `*`:
grafana/grafana#79155). The ARN without `:*` names the group."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import err


def test_a_described_arn_with_its_star_is_refused_and_without_it_names_the_group(cairn):
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="/arns/g")
    logs.create_log_stream(logGroupName="/arns/g", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/arns/g", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "hello"}])
    star = logs.describe_log_groups(logGroupNamePrefix="/arns/g")["logGroups"][0]["arn"]
    assert star.endswith(":log-group:/arns/g:*")
    plain = star[:-2]
    calls = {
        "logGroupIdentifiers": lambda arn: logs.start_query(
            logGroupIdentifiers=[arn], startTime=0, endTime=int(time.time()) + 60,
            queryString="fields @message"),
        "logGroupIdentifier": lambda arn: logs.get_log_events(logGroupIdentifier=arn, logStreamName="s"),
    }
    for member, call in calls.items():
        with pytest.raises(ClientError) as e:
            call(star)
        code, message = err(e)[0], e.value.response["Error"]["Message"]
        assert code == "InvalidParameterException", (code, message)
        assert f"at '{member}' failed to satisfy constraint" in message, message
        call(plain)  # the same group, named as the model allows
    for call in (lambda arn: logs.filter_log_events(logGroupIdentifier=arn),
                 lambda arn: logs.describe_log_streams(logGroupIdentifier=arn),
                 lambda arn: logs.describe_log_groups(logGroupIdentifiers=[arn])):
        with pytest.raises(ClientError) as e:
            call(star)
        assert err(e)[0] == "InvalidParameterException"
        call(plain)
