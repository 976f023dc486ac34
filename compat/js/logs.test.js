// CloudWatch Logs with the AWS SDK for JavaScript v3 (@aws-sdk/client-cloudwatch-logs, AWS
// JSON 1.1): a log group with retention, a stream, events in and out (GetLogEvents paged by
// nextForwardToken until the token repeats, FilterLogEvents with a pattern), a metric filter,
// a typed ResourceNotFoundException, deletion.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteMetricFilterCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutMetricFilterCommand,
  PutRetentionPolicyCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";

import { ACCOUNT, clientConfig, startCairn } from "./cairn.js";

const GROUP = "/js-sdk/app";
const STREAM = "web-1";
const EVENTS = 25;

let cairn;
let logs;

before(async () => {
  cairn = await startCairn();
  logs = new CloudWatchLogsClient(clientConfig(cairn.endpoint));
});

after(() => {
  logs?.destroy();
  cairn?.stop();
});

test("a log group with retention and a stream takes events", async () => {
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP, tags: { team: "js" } }));
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 14 }));
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/js-sdk/" }));
  assert.equal(groups.logGroups.length, 1);
  const [group] = groups.logGroups;
  assert.equal(group.logGroupName, GROUP);
  assert.equal(group.retentionInDays, 14);
  assert.equal(group.arn, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${GROUP}:*`);
  assert.equal(typeof group.creationTime, "number");

  await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: STREAM }));
  const start = Date.now() - 60_000;
  const logEvents = Array.from({ length: EVENTS }, (_, i) => ({
    timestamp: start + i,
    message: i % 5 === 0 ? `ERROR request ${i} failed` : `INFO request ${i} ok`,
  }));
  const put = await logs.send(
    new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, logEvents }),
  );
  assert.equal(put.rejectedLogEventsInfo, undefined, "no event is rejected");
});

test("GetLogEvents pages forward until nextForwardToken repeats", async () => {
  const messages = [];
  const tokens = [];
  let token;
  for (let pages = 0; pages < 20; pages += 1) {
    const page = await logs.send(
      new GetLogEventsCommand({
        logGroupName: GROUP,
        logStreamName: STREAM,
        startFromHead: true,
        limit: 10,
        nextToken: token,
      }),
    );
    assert.ok(page.events.length <= 10, "a page holds at most limit events");
    messages.push(...page.events.map((e) => e.message));
    assert.ok(page.nextForwardToken, "every page has a forward token");
    assert.ok(page.nextBackwardToken, "every page has a backward token");
    tokens.push(page.nextForwardToken);
    if (page.nextForwardToken === token) break;
    token = page.nextForwardToken;
  }
  assert.equal(tokens.at(-1), tokens.at(-2), "the forward token repeats at the end of the stream");
  assert.equal(messages.length, EVENTS);
  assert.equal(messages[0], "ERROR request 0 failed");
  assert.equal(messages[EVENTS - 1], `INFO request ${EVENTS - 1} ok`);
});

test("FilterLogEvents finds the events a pattern matches", async () => {
  const found = await logs.send(
    new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: "ERROR" }),
  );
  assert.deepEqual(
    found.events.map((e) => e.message),
    [0, 5, 10, 15, 20].map((i) => `ERROR request ${i} failed`),
  );
  for (const event of found.events) {
    assert.equal(event.logStreamName, STREAM);
    assert.ok(event.eventId, "every event has an id");
  }
  const quoted = await logs.send(
    new FilterLogEventsCommand({
      logGroupName: GROUP,
      logStreamNames: [STREAM],
      filterPattern: '"request 1"',
    }),
  );
  const expected = Array.from({ length: EVENTS }, (_, i) => i)
    .filter((i) => String(i).startsWith("1"))
    .map((i) => (i % 5 === 0 ? `ERROR request ${i} failed` : `INFO request ${i} ok`));
  assert.deepEqual(
    quoted.events.map((e) => e.message),
    expected,
    "a quoted phrase matches where it occurs, in time order",
  );
});

test("a metric filter is stored and described", async () => {
  await logs.send(
    new PutMetricFilterCommand({
      logGroupName: GROUP,
      filterName: "errors",
      filterPattern: "ERROR",
      metricTransformations: [
        { metricName: "ErrorCount", metricNamespace: "JsSdkLogs", metricValue: "1" },
      ],
    }),
  );
  const described = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: GROUP }));
  assert.equal(described.metricFilters.length, 1);
  const [filter] = described.metricFilters;
  assert.equal(filter.filterName, "errors");
  assert.equal(filter.filterPattern, "ERROR");
  assert.equal(filter.logGroupName, GROUP);
  assert.deepEqual(
    filter.metricTransformations.map((t) => [t.metricName, t.metricNamespace, t.metricValue]),
    [["ErrorCount", "JsSdkLogs", "1"]],
  );
  const byMetric = await logs.send(
    new DescribeMetricFiltersCommand({ metricName: "ErrorCount", metricNamespace: "JsSdkLogs" }),
  );
  assert.deepEqual(
    byMetric.metricFilters.map((f) => f.filterName),
    ["errors"],
  );
  await logs.send(new DeleteMetricFilterCommand({ logGroupName: GROUP, filterName: "errors" }));
  const gone = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: GROUP }));
  assert.deepEqual(gone.metricFilters, []);
});

test("missing group: typed ResourceNotFoundException; DeleteLogGroup removes it", async () => {
  const isNotFound = (err) => {
    assert.ok(err instanceof ResourceNotFoundException, `${err.name}: ${err.message}`);
    assert.equal(err.name, "ResourceNotFoundException");
    assert.equal(err.$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, 400);
    return true;
  };
  await assert.rejects(
    logs.send(new GetLogEventsCommand({ logGroupName: "/js-sdk/none", logStreamName: STREAM })),
    isNotFound,
  );
  await assert.rejects(
    logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: "no-stream" })),
    isNotFound,
  );

  await logs.send(new DeleteLogGroupCommand({ logGroupName: GROUP }));
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/js-sdk/" }));
  assert.deepEqual(groups.logGroups, []);
  await assert.rejects(logs.send(new DeleteLogGroupCommand({ logGroupName: GROUP })), isNotFound);
});
