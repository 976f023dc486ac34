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
  DescribeLogStreamsCommand,
  DeleteMetricFilterCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutMetricFilterCommand,
  PutRetentionPolicyCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  paginateFilterLogEvents,
} from "@aws-sdk/client-cloudwatch-logs";
import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";

import { ACCOUNT, clientConfig, startCairn } from "./cairn.js";

const GROUP = "/js-sdk/app";
const STREAM = "web-1";
const EVENTS = 25;

let cairn;
let logs;
let start;

before(async () => {
  cairn = await startCairn();
  logs = new CloudWatchLogsClient(clientConfig(cairn.endpoint));
});

/** The message of the `i`th event this file puts. */
const message = (i) => (i % 5 === 0 ? `ERROR request ${i} failed` : `INFO request ${i} ok`);

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
  start = Date.now() - 60_000;
  const logEvents = Array.from({ length: EVENTS }, (_, i) => ({
    timestamp: start + i,
    message: message(i),
  }));
  const put = await logs.send(
    new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, logEvents }),
  );
  assert.equal(put.rejectedLogEventsInfo, undefined, "no event is rejected");

  const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));
  assert.equal(streams.logStreams.length, 1);
  const [stream] = streams.logStreams;
  assert.equal(stream.logStreamName, STREAM);
  assert.equal(stream.firstEventTimestamp, start);
  assert.equal(stream.lastEventTimestamp, start + EVENTS - 1);
  assert.equal(
    stream.arn,
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${GROUP}:log-stream:${STREAM}`,
  );

  await assert.rejects(
    logs.send(new CreateLogGroupCommand({ logGroupName: GROUP })),
    (err) => {
      assert.ok(err instanceof ResourceAlreadyExistsException, `${err.name}: ${err.message}`);
      assert.equal(err.$metadata.httpStatusCode, 400);
      return true;
    },
  );
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
  assert.deepEqual(messages, Array.from({ length: EVENTS }, (_, i) => message(i)));
});

test("GetLogEvents from the tail pages backward with nextBackwardToken", async () => {
  const tail = await logs.send(
    new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, limit: 10 }),
  );
  const last = Array.from({ length: 10 }, (_, i) => message(EVENTS - 10 + i));
  assert.deepEqual(
    tail.events.map((e) => e.message),
    last,
    "without startFromHead the newest events come, oldest of them first",
  );
  const before = await logs.send(
    new GetLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: STREAM,
      limit: 10,
      nextToken: tail.nextBackwardToken,
    }),
  );
  assert.deepEqual(
    before.events.map((e) => e.message),
    Array.from({ length: 10 }, (_, i) => message(EVENTS - 20 + i)),
  );
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
    .map(message);
  assert.deepEqual(
    quoted.events.map((e) => e.message),
    expected,
    "a quoted phrase matches where it occurs, in time order",
  );

  const pages = [];
  for await (const page of paginateFilterLogEvents(
    { client: logs },
    { logGroupName: GROUP, filterPattern: "ERROR", limit: 2 },
  )) {
    pages.push(page.events.map((e) => e.message));
  }
  assert.deepEqual(
    pages.flat(),
    [0, 5, 10, 15, 20].map(message),
    "the paginator walks every match once",
  );
  assert.ok(pages.length >= 3, `limit 2 gives at least three pages, got ${pages.length}`);
  assert.ok(pages.every((p) => p.length <= 2));
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

  // Events put after the filter exists count into its metric.
  const now = Date.now();
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: STREAM,
      logEvents: [
        { timestamp: now, message: "ERROR disk full" },
        { timestamp: now, message: "INFO fine" },
        { timestamp: now, message: "ERROR disk still full" },
      ],
    }),
  );
  const cw = new CloudWatchClient(clientConfig(cairn.endpoint));
  const minute = Math.floor(now / 60_000) * 60_000;
  const stats = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: "JsSdkLogs",
      MetricName: "ErrorCount",
      StartTime: new Date(minute - 60_000),
      EndTime: new Date(minute + 120_000),
      Period: 60,
      Statistics: ["Sum"],
    }),
  );
  cw.destroy();
  assert.deepEqual(
    stats.Datapoints.map((d) => [d.Timestamp.getTime(), d.Sum]),
    [[minute, 2]],
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
