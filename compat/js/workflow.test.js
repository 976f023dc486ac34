// A realistic workflow with the AWS SDK for JavaScript v3 against the real binary: a bucket
// with CloudTrail's policy, a trail, logging on and off, paginated event history, typed
// errors, deletion. The SDK sends `X-Amz-Target: CloudTrail_20131101.<Op>` (the short form).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CloudTrailClient,
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  TrailNotFoundException,
  paginateLookupEvents,
} from "@aws-sdk/client-cloudtrail";
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";

import { ACCESS_KEY, ACCOUNT, clientConfig, cloudtrailPolicy, startCairn } from "./cairn.js";

const BUCKET = "js-sdk-trail-bucket";
const TRAIL = "js-sdk-trail";
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${TRAIL}`;
const STATUS_CALLS = 12;

let cairn;
let ct;
let s3;

before(async () => {
  cairn = await startCairn();
  ct = new CloudTrailClient(clientConfig(cairn.endpoint));
  s3 = new S3Client({ ...clientConfig(cairn.endpoint), forcePathStyle: true });
});

after(() => {
  ct?.destroy();
  s3?.destroy();
  cairn?.stop();
});

/** Every event of `EventName` `name`, through the SDK's paginator, with the page count. */
async function lookupAll(name, pageSize) {
  const events = [];
  let pages = 0;
  const paginator = paginateLookupEvents(
    { client: ct, pageSize },
    { LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: name }] },
  );
  for await (const page of paginator) {
    pages += 1;
    assert.ok(page.Events.length <= pageSize, "a page holds at most MaxResults events");
    events.push(...page.Events);
  }
  return { events, pages };
}

test("bucket with the CloudTrail policy, and an object round trip", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: cloudtrailPolicy(BUCKET) }));
  const policy = await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
  assert.deepEqual(JSON.parse(policy.Policy), JSON.parse(cloudtrailPolicy(BUCKET)));

  // The SDK's default PutObject sends a flexible checksum; the object must come back intact.
  const body = "hello from the JavaScript SDK\n".repeat(100);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "notes/hello.txt", Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "notes/hello.txt" }));
  assert.equal(await got.Body.transformToString(), body);

  await assert.rejects(
    s3.send(new ListObjectsV2Command({ Bucket: "no-such-bucket-js" })),
    (err) => {
      assert.ok(err instanceof S3ServiceException, `modeled S3 error, got ${err}`);
      assert.ok(err instanceof NoSuchBucket, `NoSuchBucket, got ${err.name}`);
      assert.equal(err.$metadata.httpStatusCode, 404);
      return true;
    },
  );
});

test("CreateTrail and DescribeTrails", async () => {
  const created = await ct.send(
    new CreateTrailCommand({
      Name: TRAIL,
      S3BucketName: BUCKET,
      IsMultiRegionTrail: true,
      EnableLogFileValidation: true,
      TagsList: [{ Key: "createdBy", Value: "js-sdk" }],
    }),
  );
  assert.equal(created.$metadata.httpStatusCode, 200);
  assert.equal(created.Name, TRAIL);
  assert.equal(created.TrailARN, TRAIL_ARN);
  assert.equal(created.S3BucketName, BUCKET);
  assert.equal(created.IsMultiRegionTrail, true);
  assert.equal(created.LogFileValidationEnabled, true);

  const described = await ct.send(new DescribeTrailsCommand({ trailNameList: [TRAIL] }));
  assert.equal(described.trailList.length, 1);
  const [trail] = described.trailList;
  assert.equal(trail.Name, TRAIL);
  assert.equal(trail.TrailARN, TRAIL_ARN);
  assert.equal(trail.HomeRegion, "us-east-1");
  assert.equal(trail.IsMultiRegionTrail, true);

  const tags = await ct.send(new ListTagsCommand({ ResourceIdList: [TRAIL_ARN] }));
  assert.deepEqual(tags.ResourceTagList[0].TagsList, [{ Key: "createdBy", Value: "js-sdk" }]);
});

test("StartLogging turns logging on", async () => {
  await ct.send(new StartLoggingCommand({ Name: TRAIL }));
  const status = await ct.send(new GetTrailStatusCommand({ Name: TRAIL }));
  assert.equal(status.IsLogging, true);
  assert.ok(status.StartLoggingTime instanceof Date, "StartLoggingTime parses as a timestamp");
});

test("paginateLookupEvents walks several pages, newest first, each event once", async () => {
  // One GetTrailStatus is already recorded by the previous test.
  for (let i = 1; i < STATUS_CALLS; i += 1) {
    await ct.send(new GetTrailStatusCommand({ Name: TRAIL_ARN }));
  }
  const { events, pages } = await lookupAll("GetTrailStatus", 5);
  assert.equal(events.length, STATUS_CALLS);
  assert.equal(pages, Math.ceil(STATUS_CALLS / 5));
  assert.equal(new Set(events.map((e) => e.EventId)).size, STATUS_CALLS);
  const times = events.map((e) => e.EventTime.getTime());
  assert.deepEqual(times, [...times].sort((a, b) => b - a));

  const { events: creates } = await lookupAll("CreateTrail", 50);
  assert.equal(creates.length, 1);
  const [create] = creates;
  assert.equal(create.Username, "root");
  assert.equal(create.AccessKeyId, ACCESS_KEY);
  assert.equal(create.EventSource, "cloudtrail.amazonaws.com");
  assert.deepEqual(
    create.Resources.map((r) => [r.ResourceType, r.ResourceName]),
    [["AWS::CloudTrail::Trail", TRAIL_ARN]],
  );
  const record = JSON.parse(create.CloudTrailEvent);
  assert.equal(record.eventName, "CreateTrail");
  assert.equal(record.awsRegion, "us-east-1");
  assert.equal(record.responseElements.trailARN, TRAIL_ARN);
  assert.match(record.userAgent, /aws-sdk-js/, "the record keeps the SDK's user agent");
});

test("a missing trail is a typed TrailNotFoundException", async () => {
  await assert.rejects(ct.send(new GetTrailCommand({ Name: "no-such-trail" })), (err) => {
    assert.ok(err instanceof TrailNotFoundException, `TrailNotFoundException, got ${err}`);
    assert.equal(err.name, "TrailNotFoundException");
    assert.equal(err.$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.ok(err.$metadata.requestId, "the error carries the request id");
    assert.ok(err.message.length > 0, "the error carries a message");
    return true;
  });
});

test("StopLogging, then DeleteTrail", async () => {
  await ct.send(new StopLoggingCommand({ Name: TRAIL }));
  const status = await ct.send(new GetTrailStatusCommand({ Name: TRAIL }));
  assert.equal(status.IsLogging, false);
  assert.ok(status.StopLoggingTime instanceof Date, "StopLoggingTime parses as a timestamp");

  await ct.send(new DeleteTrailCommand({ Name: TRAIL_ARN }));
  const described = await ct.send(new DescribeTrailsCommand({}));
  assert.deepEqual(described.trailList, []);
  await assert.rejects(ct.send(new GetTrailCommand({ Name: TRAIL })), TrailNotFoundException);

  const { events } = await lookupAll("DeleteTrail", 50);
  assert.equal(events.length, 1, "the deletion itself is in event history");
});
