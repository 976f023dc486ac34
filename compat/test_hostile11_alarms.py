"""Many alarms (hostile11: 54,000 alarms of a user allowed only cloudwatch:PutMetricAlarm
slowed every call, as the evaluation loop read and decoded every alarm every second on the
writer, and each DescribeAlarms page read every alarm). The loop reads only alarms due, at
most 1,000 a pass (unit test in `cairn-core`); DescribeAlarms reads one page. Paging stays
exact: every alarm once, filters applied across pages."""


def test_describe_alarms_pages_through_every_alarm_once(cairn):
    cw = cairn.client("cloudwatch")
    for i in range(230):
        cw.put_metric_alarm(AlarmName=f"page-{i:03d}", Namespace="Paging", MetricName="m",
                            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(AlarmName="other", Namespace="Paging", MetricName="m", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="page-117", StateValue="ALARM", StateReason="test")
    names = [a["AlarmName"] for page in cw.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix="page-", PaginationConfig={"PageSize": 100}) for a in page["MetricAlarms"]]
    assert names == [f"page-{i:03d}" for i in range(230)]
    alarming = [a["AlarmName"] for page in cw.get_paginator("describe_alarms").paginate(
        StateValue="ALARM", PaginationConfig={"PageSize": 7}) for a in page["MetricAlarms"]]
    assert alarming == ["page-117"]
    picked = cw.describe_alarms(AlarmNames=["page-229", "other", "missing"])["MetricAlarms"]
    assert [a["AlarmName"] for a in picked] == ["other", "page-229"]
