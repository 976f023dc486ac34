//! CloudWatch metrics and alarms (the Rust SDK speaks Smithy RPC v2 CBOR to CloudWatch) and
//! CloudWatch Logs (JSON 1.1) with the AWS SDK for Rust.

use aws_sdk_cloudwatch::operation::get_metric_statistics::GetMetricStatisticsError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, StandardUnit,
    StateValue, Statistic,
};
use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsError;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use crate::cairn::Cairn;
use crate::wire::Wire;

fn now_secs() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    now.as_secs() as i64
}

fn api_dimension() -> Dimension {
    Dimension::builder()
        .name("Api")
        .value("DescribeTrails")
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_metrics_and_alarms_over_cbor() {
    let cairn = Cairn::start();
    let wire = Wire::default();
    let config = aws_sdk_cloudwatch::config::Builder::from(&cairn.config().await)
        .interceptor(wire.clone())
        .build();
    let cw = aws_sdk_cloudwatch::Client::from_conf(config);

    // Three values in one minute, two minutes ago.
    let at = now_secs() / 60 * 60 - 120;
    let data = [1.0, 2.0, 3.0].map(|value| {
        MetricDatum::builder()
            .metric_name("Calls")
            .value(value)
            .unit(StandardUnit::Count)
            .timestamp(DateTime::from_secs(at))
            .dimensions(api_dimension())
            .build()
    });
    cw.put_metric_data()
        .namespace("RustSdk")
        .set_metric_data(Some(data.to_vec()))
        .send()
        .await
        .expect("PutMetricData");
    // What went on the wire: Smithy RPC v2 CBOR, the protocol the model lists first.
    assert_eq!(wire.last("smithy-protocol").as_deref(), Some("rpc-v2-cbor"));
    assert_eq!(
        wire.last("content-type").as_deref(),
        Some("application/cbor")
    );

    let stats = cw
        .get_metric_statistics()
        .namespace("RustSdk")
        .metric_name("Calls")
        .dimensions(api_dimension())
        .start_time(DateTime::from_secs(at - 60))
        .end_time(DateTime::from_secs(at + 60))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::Maximum)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .expect("GetMetricStatistics");
    let [point] = stats.datapoints() else {
        panic!("one datapoint: {stats:?}")
    };
    assert_eq!(
        (point.sum(), point.maximum(), point.sample_count()),
        (Some(6.0), Some(3.0), Some(3.0))
    );
    assert_eq!(point.timestamp().map(|t| t.secs()), Some(at));
    assert_eq!(point.unit(), Some(&StandardUnit::Count));

    let metric = Metric::builder()
        .namespace("RustSdk")
        .metric_name("Calls")
        .dimensions(api_dimension())
        .build();
    let query = MetricDataQuery::builder()
        .id("calls")
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(60)
                .stat("Sum")
                .build(),
        )
        .build();
    let got = cw
        .get_metric_data()
        .start_time(DateTime::from_secs(at - 60))
        .end_time(DateTime::from_secs(at + 60))
        .metric_data_queries(query)
        .send()
        .await
        .expect("GetMetricData");
    let [result] = got.metric_data_results() else {
        panic!("one result: {got:?}")
    };
    assert_eq!(result.values(), [6.0]);
    assert_eq!(
        result
            .timestamps()
            .iter()
            .map(|t| t.secs())
            .collect::<Vec<_>>(),
        [at]
    );

    let pages = cw
        .list_metrics()
        .namespace("RustSdk")
        .into_paginator()
        .send();
    let metrics = pages
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListMetrics pages");
    let names: Vec<_> = metrics
        .iter()
        .flat_map(|p| p.metrics())
        .filter_map(|m| m.metric_name())
        .collect();
    assert_eq!(names, ["Calls"]);

    // A period that is neither a high-resolution one nor a multiple of 60: a typed error.
    let err = cw
        .get_metric_statistics()
        .namespace("RustSdk")
        .metric_name("Calls")
        .start_time(DateTime::from_secs(at - 60))
        .end_time(DateTime::from_secs(at + 60))
        .period(7)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect_err("period 7 is refused");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    let err = err.into_service_error();
    assert!(
        matches!(
            err,
            GetMetricStatisticsError::InvalidParameterValueException(_)
        ),
        "InvalidParameterValueException, got {err:?}"
    );

    cw.put_metric_alarm()
        .alarm_name("rust-root-usage")
        .namespace("CISBenchmark")
        .metric_name("root_usage_metric")
        .statistic(Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("notBreaching")
        .send()
        .await
        .expect("PutMetricAlarm");
    let described = cw
        .describe_alarms()
        .alarm_names("rust-root-usage")
        .send()
        .await
        .expect("Describe");
    let [alarm] = described.metric_alarms() else {
        panic!("one alarm: {described:?}")
    };
    assert_eq!(alarm.alarm_name(), Some("rust-root-usage"));
    assert_eq!(alarm.threshold(), Some(1.0));
    assert_eq!(alarm.period(), Some(300));
    assert_eq!(
        alarm.comparison_operator(),
        Some(&ComparisonOperator::GreaterThanOrEqualToThreshold)
    );
    assert!(
        alarm.state_value().is_some_and(|s| *s != StateValue::Alarm),
        "no data: not ALARM"
    );
    assert!(
        alarm.state_updated_timestamp().is_some(),
        "StateUpdatedTimestamp parses"
    );
    assert!(
        alarm
            .alarm_arn()
            .is_some_and(|a| a.ends_with(":alarm:rust-root-usage"))
    );

    cw.delete_alarms()
        .alarm_names("rust-root-usage")
        .send()
        .await
        .expect("DeleteAlarms");
    let after = cw
        .describe_alarms()
        .alarm_names("rust-root-usage")
        .send()
        .await
        .unwrap();
    assert!(after.metric_alarms().is_empty());

    drop(cw);
    cairn.stop_and_verify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_logs_groups_streams_and_filters() {
    let cairn = Cairn::start();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cairn.config().await);
    let group = "/rust-sdk/app";

    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("CreateLogGroup");
    let err = logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect_err("exists");
    let err = err.into_service_error();
    assert!(
        matches!(err, CreateLogGroupError::ResourceAlreadyExistsException(_)),
        "ResourceAlreadyExistsException, got {err:?}"
    );
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name("web-1")
        .send()
        .await
        .expect("CreateLogStream");

    let start = now_secs() * 1000 - 10_000;
    let lines = [
        "INFO started",
        "ERROR disk full",
        "INFO request served",
        "ERROR timeout",
    ];
    let events: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            InputLogEvent::builder()
                .timestamp(start + i as i64)
                .message(*line)
                .build()
                .expect("a complete log event")
        })
        .collect();
    let put = logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("web-1")
        .set_log_events(Some(events))
        .send()
        .await
        .expect("PutLogEvents");
    assert!(
        put.rejected_log_events_info().is_none(),
        "nothing rejected: {put:?}"
    );

    let got = logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name("web-1")
        .start_from_head(true)
        .send()
        .await
        .expect("GetLogEvents");
    let messages: Vec<_> = got.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(messages, lines);
    let stamps: Vec<_> = got.events().iter().filter_map(|e| e.timestamp()).collect();
    assert_eq!(stamps, [start, start + 1, start + 2, start + 3]);

    let filtered = logs
        .filter_log_events()
        .log_group_name(group)
        .filter_pattern("ERROR")
        .send()
        .await
        .expect("FilterLogEvents");
    let matched: Vec<_> = filtered
        .events()
        .iter()
        .filter_map(|e| e.message())
        .collect();
    assert_eq!(matched, ["ERROR disk full", "ERROR timeout"]);
    assert!(
        filtered
            .events()
            .iter()
            .all(|e| e.log_stream_name() == Some("web-1"))
    );

    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/rust-sdk/")
        .send()
        .await;
    let groups = groups.expect("DescribeLogGroups");
    let names: Vec<_> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert_eq!(names, [group]);

    let err = logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name("no-such-stream")
        .send()
        .await
        .expect_err("unknown stream");
    let err = err.into_service_error();
    assert!(
        matches!(err, GetLogEventsError::ResourceNotFoundException(_)),
        "ResourceNotFoundException, got {err:?}"
    );

    drop(logs);
    cairn.stop_and_verify();
}
