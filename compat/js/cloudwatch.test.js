// CloudWatch with the AWS SDK for JavaScript v3 (@aws-sdk/client-cloudwatch speaks AWS JSON 1.0
// with the Query-compatible error header): metric data in and statistics out, an alarm and
// its description, paginated listing, and a typed error named by its Query code.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  InvalidParameterValueException,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  paginateListMetrics,
} from "@aws-sdk/client-cloudwatch";

import { clientConfig, startCairn } from "./cairn.js";

let cairn;
let cw;

before(async () => {
  cairn = await startCairn();
  cw = new CloudWatchClient(clientConfig(cairn.endpoint));
});

after(() => cairn?.stop());

test("metric data goes in and comes out as statistics and metric data", async () => {
  const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
  await cw.send(
    new PutMetricDataCommand({
      Namespace: "JsSdk",
      MetricData: [1, 2, 3].map((v) => ({
        MetricName: "Calls",
        Value: v,
        Unit: "Count",
        Timestamp: at,
        Dimensions: [{ Name: "Api", Value: "DescribeTrails" }],
      })),
    }),
  );
  const stats = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: "JsSdk",
      MetricName: "Calls",
      Dimensions: [{ Name: "Api", Value: "DescribeTrails" }],
      StartTime: new Date(at.getTime() - 60_000),
      EndTime: new Date(at.getTime() + 60_000),
      Period: 60,
      Statistics: ["Sum", "Maximum", "SampleCount"],
    }),
  );
  assert.equal(stats.Datapoints.length, 1);
  const [point] = stats.Datapoints;
  assert.deepEqual([point.Sum, point.Maximum, point.SampleCount], [6, 3, 3]);
  assert.ok(point.Timestamp instanceof Date);
  assert.equal(point.Timestamp.getTime(), at.getTime());

  const data = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(at.getTime() - 60_000),
      EndTime: new Date(at.getTime() + 60_000),
      MetricDataQueries: [
        {
          Id: "calls",
          MetricStat: {
            Metric: {
              Namespace: "JsSdk",
              MetricName: "Calls",
              Dimensions: [{ Name: "Api", Value: "DescribeTrails" }],
            },
            Period: 60,
            Stat: "Sum",
          },
        },
      ],
    }),
  );
  const [result] = data.MetricDataResults;
  assert.deepEqual(result.Values, [6]);
  assert.equal(result.Timestamps[0].getTime(), at.getTime());

  const names = [];
  for await (const page of paginateListMetrics({ client: cw }, { Namespace: "JsSdk" })) {
    names.push(...page.Metrics.map((m) => m.MetricName));
  }
  assert.deepEqual(names, ["Calls"]);
});

test("an alarm is stored, described and deleted; a bad one is a typed error", async () => {
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: "js-root-usage",
      Namespace: "CISBenchmark",
      MetricName: "root_usage_metric",
      Statistic: "Sum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    }),
  );
  const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["js-root-usage"] }));
  const [alarm] = described.MetricAlarms;
  assert.equal(alarm.AlarmName, "js-root-usage");
  assert.equal(alarm.StateValue, "INSUFFICIENT_DATA");
  assert.ok(alarm.StateUpdatedTimestamp instanceof Date);

  await assert.rejects(
    cw.send(
      new PutMetricAlarmCommand({
        AlarmName: "js-bad",
        Namespace: "CISBenchmark",
        MetricName: "m",
        Statistic: "Sum",
        Period: 7,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      }),
    ),
    (e) => {
      assert.ok(e instanceof InvalidParameterValueException, `${e.name}: ${e.message}`);
      assert.equal(e.$metadata.httpStatusCode, 400);
      return true;
    },
  );
  await cw.send(new DeleteAlarmsCommand({ AlarmNames: ["js-root-usage"] }));
  const after = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["js-root-usage"] }));
  assert.deepEqual(after.MetricAlarms, []);
});
