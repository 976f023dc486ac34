// The AWS CDK against Cairn, as a developer testing infrastructure as code locally uses it:
// the CLI (`aws-cdk`) deploys app.js (aws-cdk-lib) with only AWS_ENDPOINT_URL and credentials
// set, and the result is checked with the AWS SDK for JavaScript v3: the trail logs, encrypted
// with the stack's key, into the stack's bucket (after `cairn flush`) and its log group; the
// metric filter and alarm exist. Then `cdk diff` (with its change set) and a second deploy
// after a change, a deploy with nothing to change, and `cdk destroy --force`.

const assert = require("node:assert/strict");
const { mkdtempSync, readFileSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { after, before, test } = require("node:test");

const {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} = require("@aws-sdk/client-cloudformation");
const {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
} = require("@aws-sdk/client-cloudtrail");
const { CloudWatchClient, DescribeAlarmsCommand } = require("@aws-sdk/client-cloudwatch");
const {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  GetLogEventsCommand,
} = require("@aws-sdk/client-cloudwatch-logs");
const { DescribeKeyCommand, KMSClient } = require("@aws-sdk/client-kms");
const {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} = require("@aws-sdk/client-s3");

const { ACCOUNT, REGION, cdk, clientConfig, startCairn } = require("./cairn.js");

const STACK = "CairnTrail";

let cairn;
let outdir;
let clients;

before(async () => {
  cairn = await startCairn();
  outdir = mkdtempSync(join(tmpdir(), "cairn-cdk-out-"));
  const config = clientConfig(cairn.endpoint);
  clients = {
    cfn: new CloudFormationClient(config),
    trail: new CloudTrailClient(config),
    cw: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    kms: new KMSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
  };
});

after(async () => {
  await cairn?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Runs the CLI and fails with its output unless it exits 0. */
async function cdkOk(...args) {
  const out = await cdk(cairn.endpoint, outdir, args);
  assert.equal(out.code, 0, `cdk ${args.join(" ")} exited ${out.code}:\n${out.stdout}\n${out.stderr}`);
  return `${out.stdout}\n${out.stderr}`;
}

/** `cdk deploy` with the given context; the stack's outputs as the CLI wrote them. */
async function deploy(...context) {
  const file = join(outdir, "outputs.json");
  const log = await cdkOk("deploy", "--require-approval", "never", "--outputs-file", file, ...context);
  return { log, outputs: JSON.parse(readFileSync(file, "utf8"))[STACK] };
}

async function stack() {
  const { Stacks } = await clients.cfn.send(new DescribeStacksCommand({ StackName: STACK }));
  return Stacks[0];
}

async function alarm(name) {
  const { MetricAlarms } = await clients.cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return MetricAlarms;
}

let outputs;

test("cdk deploy creates the stack with the trail, key, log group, metric filter and alarm", async () => {
  ({ outputs } = await deploy());
  const s = await stack();
  assert.equal(s.StackStatus, "CREATE_COMPLETE");
  // Every output the app declares, with the stack's values.
  assert.deepEqual(Object.keys(outputs).sort(), [
    "AlarmName",
    "BucketName",
    "KeyArn",
    "LogGroupName",
    "TopicArn",
    "TrailArn",
  ]);
  assert.equal(outputs.TrailArn, `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${STACK}-trail`);

  // The CDK's metadata resource is part of the stack, as on AWS.
  const { StackResources } = await clients.cfn.send(
    new DescribeStackResourcesCommand({ StackName: STACK }),
  );
  const types = StackResources.map((r) => r.ResourceType);
  assert.ok(types.includes("AWS::CDK::Metadata"), types.join(", "));
  assert.ok(StackResources.every((r) => r.ResourceStatus === "CREATE_COMPLETE"));

  const { trailList } = await clients.trail.send(
    new DescribeTrailsCommand({ trailNameList: [outputs.TrailArn] }),
  );
  assert.equal(trailList.length, 1);
  const t = trailList[0];
  assert.equal(t.S3BucketName, outputs.BucketName);
  assert.equal(t.KmsKeyId, outputs.KeyArn);
  assert.equal(t.IsMultiRegionTrail, true);
  assert.equal(t.IncludeGlobalServiceEvents, true);
  assert.equal(t.LogFileValidationEnabled, true);
  assert.equal(
    t.CloudWatchLogsLogGroupArn,
    `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${outputs.LogGroupName}:*`,
  );
  const status = await clients.trail.send(new GetTrailStatusCommand({ Name: outputs.TrailArn }));
  assert.equal(status.IsLogging, true);

  const { logGroups } = await clients.logs.send(
    new DescribeLogGroupsCommand({ logGroupNamePrefix: outputs.LogGroupName }),
  );
  assert.equal(logGroups[0].retentionInDays, 365);
  const { metricFilters } = await clients.logs.send(
    new DescribeMetricFiltersCommand({ logGroupName: outputs.LogGroupName }),
  );
  assert.equal(metricFilters.length, 1);
  assert.deepEqual(
    metricFilters[0].metricTransformations.map((m) => [m.metricNamespace, m.metricName]),
    [["CloudTrailMetrics", "UnauthorizedAttemptCount"]],
  );

  const [a] = await alarm(outputs.AlarmName);
  assert.equal(a.Threshold, 3);
  assert.equal(a.Namespace, "CloudTrailMetrics");
  assert.equal(a.MetricName, "UnauthorizedAttemptCount");
  assert.deepEqual(a.AlarmActions, [outputs.TopicArn]);
});

test("the trail delivers encrypted log files to the bucket and events to the log group", async () => {
  const report = await cairn.flush();
  assert.ok(report.Files > 0 && report.LogEvents > 0, JSON.stringify(report));

  const prefix = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/`;
  const { Contents = [] } = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: outputs.BucketName, Prefix: prefix }),
  );
  const files = Contents.map((o) => o.Key).filter((k) => k.endsWith(".json.gz"));
  assert.ok(files.length > 0, `no log file under ${prefix}`);
  const head = await clients.s3.send(
    new HeadObjectCommand({ Bucket: outputs.BucketName, Key: files[0] }),
  );
  assert.equal(head.ServerSideEncryption, "aws:kms");
  assert.equal(head.SSEKMSKeyId, outputs.KeyArn);

  const events = await clients.logs.send(
    new GetLogEventsCommand({
      logGroupName: outputs.LogGroupName,
      logStreamName: `${ACCOUNT}_CloudTrail_${REGION}`,
      startFromHead: true,
    }),
  );
  assert.ok(events.events.length > 0, "no CloudTrail event in the log group");
  const names = events.events.map((e) => JSON.parse(e.message).eventName);
  assert.ok(names.includes("GetTrailStatus"), names.join(", "));
});

test("cdk diff shows a change through a change set, and a second deploy applies it", async () => {
  const diff = await cdkOk("diff", "-c", "revision=2");
  assert.doesNotMatch(diff, /Could not create a change set/);
  assert.match(diff, /Threshold/);
  assert.match(diff, /RetentionInDays/);

  const { outputs: again } = await deploy("-c", "revision=2");
  // Updates in place: every physical resource is the one the first deploy made.
  assert.deepEqual(again, outputs);
  assert.equal((await stack()).StackStatus, "UPDATE_COMPLETE");
  const [a] = await alarm(outputs.AlarmName);
  assert.equal(a.Threshold, 1);
  const { logGroups } = await clients.logs.send(
    new DescribeLogGroupsCommand({ logGroupNamePrefix: outputs.LogGroupName }),
  );
  assert.equal(logGroups[0].retentionInDays, 30);
  const { ResourceTagList } = await clients.trail.send(
    new ListTagsCommand({ ResourceIdList: [outputs.TrailArn] }),
  );
  assert.ok(
    ResourceTagList[0].TagsList.some((t) => t.Key === "revision" && t.Value === "2"),
    JSON.stringify(ResourceTagList),
  );
  const status = await clients.trail.send(new GetTrailStatusCommand({ Name: outputs.TrailArn }));
  assert.equal(status.IsLogging, true);
});

test("a deploy with nothing changed is a no-op", async () => {
  const { log } = await deploy("-c", "revision=2", "--force");
  assert.match(log, /no changes/);
  assert.equal((await stack()).StackStatus, "UPDATE_COMPLETE");
});

test("cdk destroy --force deletes the stack and keeps the retained bucket", async () => {
  await cdkOk("destroy", "--force");
  await assert.rejects(clients.cfn.send(new DescribeStacksCommand({ StackName: STACK })), (e) =>
    /does not exist/.test(e.message),
  );
  const { trailList } = await clients.trail.send(new DescribeTrailsCommand({}));
  assert.deepEqual(trailList, []);
  assert.deepEqual(await alarm(outputs.AlarmName), []);
  const { KeyMetadata } = await clients.kms.send(new DescribeKeyCommand({ KeyId: outputs.KeyArn }));
  assert.equal(KeyMetadata.KeyState, "PendingDeletion");

  // The bucket's RemovalPolicy is RETAIN: it is still there, with the trail's files; a
  // developer empties and removes it by hand.
  await clients.s3.send(new HeadBucketCommand({ Bucket: outputs.BucketName }));
  for (;;) {
    const { Contents = [] } = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: outputs.BucketName }),
    );
    if (Contents.length === 0) break;
    await clients.s3.send(
      new DeleteObjectsCommand({
        Bucket: outputs.BucketName,
        Delete: { Objects: Contents.map((o) => ({ Key: o.Key })) },
      }),
    );
  }
  await clients.s3.send(new DeleteBucketCommand({ Bucket: outputs.BucketName }));
});
