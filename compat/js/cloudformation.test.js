// CloudFormation with the AWS SDK for JavaScript v3 (@aws-sdk/client-cloudformation, AWS Query
// with XML answers): a stack that makes a bucket, its CloudTrail bucket policy and a trail,
// followed with the SDK's own waiters; outputs, events, the trail seen through CloudTrail, the
// stack deleted with what it made, and ValidationError for bad templates.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import {
  CloudFormationClient,
  CloudFormationServiceException,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListExportsCommand,
  ValidateTemplateCommand,
  paginateDescribeStackEvents,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
} from "@aws-sdk/client-cloudformation";
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
} from "@aws-sdk/client-cloudtrail";
import { HeadBucketCommand, NotFound, S3Client } from "@aws-sdk/client-s3";

import { ACCOUNT, clientConfig, startCairn } from "./cairn.js";

const STACK = "js-sdk-trail-stack";
const BUCKET = "js-sdk-cfn-trail-bucket";
const TRAIL = "js-sdk-cfn-trail";
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${TRAIL}`;
// Waiters poll every second or two here: Cairn answers CreateStack once the stack is done (or
// after 10 s), so the first poll usually finds it complete.
const WAIT = { minDelay: 1, maxDelay: 2, maxWaitTime: 120 };

const TEMPLATE = {
  AWSTemplateFormatVersion: "2010-09-09",
  Description: "A bucket with CloudTrail's policy and a trail delivering to it",
  Parameters: { TrailName: { Type: "String" } },
  Resources: {
    TrailBucket: { Type: "AWS::S3::Bucket", Properties: { BucketName: BUCKET } },
    TrailBucketPolicy: {
      Type: "AWS::S3::BucketPolicy",
      Properties: {
        Bucket: { Ref: "TrailBucket" },
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AWSCloudTrailAclCheck",
              Effect: "Allow",
              Principal: { Service: "cloudtrail.amazonaws.com" },
              Action: "s3:GetBucketAcl",
              Resource: { "Fn::GetAtt": ["TrailBucket", "Arn"] },
            },
            {
              Sid: "AWSCloudTrailWrite",
              Effect: "Allow",
              Principal: { Service: "cloudtrail.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: { "Fn::Sub": "${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*" },
              Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
            },
          ],
        },
      },
    },
    Trail: {
      Type: "AWS::CloudTrail::Trail",
      DependsOn: ["TrailBucketPolicy"],
      Properties: {
        TrailName: { Ref: "TrailName" },
        S3BucketName: { Ref: "TrailBucket" },
        IsLogging: true,
        IsMultiRegionTrail: true,
        EnableLogFileValidation: true,
      },
    },
  },
  Outputs: {
    BucketName: { Value: { Ref: "TrailBucket" } },
    TrailArn: {
      Value: { "Fn::GetAtt": ["Trail", "Arn"] },
      Export: { Name: { "Fn::Sub": "${AWS::StackName}-TrailArn" } },
    },
  },
};

let cairn;
let cfn;
let ct;
let s3;
let stackId;

before(async () => {
  cairn = await startCairn();
  cfn = new CloudFormationClient(clientConfig(cairn.endpoint));
  ct = new CloudTrailClient(clientConfig(cairn.endpoint));
  s3 = new S3Client({ ...clientConfig(cairn.endpoint), forcePathStyle: true });
});

after(() => {
  cfn?.destroy();
  ct?.destroy();
  s3?.destroy();
  cairn?.stop();
});

test("CreateStack and waitUntilStackCreateComplete; the outputs name what it made", async () => {
  const created = await cfn.send(
    new CreateStackCommand({
      StackName: STACK,
      TemplateBody: JSON.stringify(TEMPLATE),
      Parameters: [{ ParameterKey: "TrailName", ParameterValue: TRAIL }],
      Tags: [{ Key: "team", Value: "js" }],
    }),
  );
  stackId = created.StackId;
  assert.match(stackId, new RegExp(`^arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/`));

  const waited = await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: STACK });
  assert.equal(waited.state, "SUCCESS");

  const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks;
  assert.equal(stack.StackId, stackId);
  assert.equal(stack.StackStatus, "CREATE_COMPLETE");
  assert.ok(stack.CreationTime instanceof Date, "CreationTime parses as a timestamp");
  assert.deepEqual(stack.Parameters, [{ ParameterKey: "TrailName", ParameterValue: TRAIL }]);
  assert.deepEqual(stack.Tags, [{ Key: "team", Value: "js" }]);
  const outputs = Object.fromEntries(stack.Outputs.map((o) => [o.OutputKey, o]));
  assert.equal(outputs.BucketName.OutputValue, BUCKET);
  assert.equal(outputs.TrailArn.OutputValue, TRAIL_ARN);
  assert.equal(outputs.TrailArn.ExportName, `${STACK}-TrailArn`);

  const { Exports } = await cfn.send(new ListExportsCommand({}));
  assert.deepEqual(Exports, [
    { ExportingStackId: stackId, Name: `${STACK}-TrailArn`, Value: TRAIL_ARN },
  ]);
  const template = await cfn.send(new GetTemplateCommand({ StackName: STACK }));
  assert.equal(template.TemplateBody, JSON.stringify(TEMPLATE), "the body comes back as sent");

  const { StackResources } = await cfn.send(
    new DescribeStackResourcesCommand({ StackName: STACK }),
  );
  const resources = Object.fromEntries(
    StackResources.map((r) => [r.LogicalResourceId, [r.ResourceType, r.ResourceStatus]]),
  );
  assert.deepEqual(resources, {
    TrailBucket: ["AWS::S3::Bucket", "CREATE_COMPLETE"],
    TrailBucketPolicy: ["AWS::S3::BucketPolicy", "CREATE_COMPLETE"],
    Trail: ["AWS::CloudTrail::Trail", "CREATE_COMPLETE"],
  });
});

test("DescribeStackEvents tells each resource's creation, newest first", async () => {
  const events = [];
  for await (const page of paginateDescribeStackEvents({ client: cfn }, { StackName: STACK })) {
    events.push(...page.StackEvents);
  }
  assert.ok(events.every((e) => e.StackId === stackId && e.StackName === STACK));
  const times = events.map((e) => e.Timestamp.getTime());
  assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
  const [newest] = events;
  assert.deepEqual(
    [newest.LogicalResourceId, newest.ResourceType, newest.ResourceStatus],
    [STACK, "AWS::CloudFormation::Stack", "CREATE_COMPLETE"],
  );
  const complete = Object.fromEntries(
    events
      .filter((e) => e.ResourceStatus === "CREATE_COMPLETE" && e.LogicalResourceId !== STACK)
      .map((e) => [e.LogicalResourceId, e.PhysicalResourceId]),
  );
  assert.deepEqual(complete, {
    TrailBucket: BUCKET,
    TrailBucketPolicy: complete.TrailBucketPolicy,
    Trail: complete.Trail,
  });
  assert.ok([TRAIL, TRAIL_ARN].includes(complete.Trail), `trail id ${complete.Trail}`);
  const order = (id) =>
    events.findIndex((e) => e.LogicalResourceId === id && e.ResourceStatus === "CREATE_COMPLETE");
  assert.ok(order("Trail") < order("TrailBucketPolicy"), "the policy is complete before the trail");
  assert.ok(order("TrailBucketPolicy") < order("TrailBucket"), "the bucket before its policy");
});

test("the stack's trail is a CloudTrail trail, logging", async () => {
  const { trailList } = await ct.send(new DescribeTrailsCommand({ trailNameList: [TRAIL] }));
  assert.equal(trailList.length, 1);
  const [trail] = trailList;
  assert.equal(trail.TrailARN, TRAIL_ARN);
  assert.equal(trail.S3BucketName, BUCKET);
  assert.equal(trail.IsMultiRegionTrail, true);
  assert.equal(trail.LogFileValidationEnabled, true);
  const status = await ct.send(new GetTrailStatusCommand({ Name: TRAIL }));
  assert.equal(status.IsLogging, true);
});

test("DeleteStack and waitUntilStackDeleteComplete remove the trail and the bucket", async () => {
  await cfn.send(new DeleteStackCommand({ StackName: STACK }));
  const waited = await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: STACK });
  assert.equal(waited.state, "SUCCESS");

  const { trailList } = await ct.send(new DescribeTrailsCommand({}));
  assert.deepEqual(trailList, []);
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: BUCKET })), NotFound);

  const [deleted] = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks;
  assert.equal(deleted.StackStatus, "DELETE_COMPLETE");
  await assert.rejects(cfn.send(new DescribeStacksCommand({ StackName: STACK })), (err) => {
    assert.equal(err.name, "ValidationError");
    assert.equal(err.message, `Stack with id ${STACK} does not exist`);
    return true;
  });
});

test("a trail without its bucket policy fails; the waiter reports the rollback", async () => {
  const body = readFileSync(
    new URL("../cfn/05-01-CloudTrail-no-policy.yml", import.meta.url),
    "utf8",
  );
  await cfn.send(new CreateStackCommand({ StackName: "js-sdk-no-policy", TemplateBody: body }));
  await assert.rejects(
    waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: "js-sdk-no-policy" }),
    (err) => {
      const result = JSON.parse(err.message);
      assert.equal(result.state, "FAILURE");
      assert.equal(result.reason.Stacks[0].StackStatus, "ROLLBACK_COMPLETE");
      return true;
    },
  );
  const events = [];
  for await (const page of paginateDescribeStackEvents(
    { client: cfn },
    { StackName: "js-sdk-no-policy" },
  )) {
    events.push(...page.StackEvents);
  }
  const failed = events.filter((e) => e.ResourceStatus === "CREATE_FAILED");
  assert.deepEqual(
    failed.map((e) => e.LogicalResourceId),
    ["CloudTrail"],
  );
  assert.match(failed[0].ResourceStatusReason, /InsufficientS3BucketPolicyException/);
  const { trailList } = await ct.send(new DescribeTrailsCommand({}));
  assert.deepEqual(trailList, [], "the rollback left no trail");
});

test("a bad template is a ValidationError", async () => {
  const isValidationError = (pattern) => (err) => {
    assert.ok(err instanceof CloudFormationServiceException, `${err.name}: ${err.message}`);
    assert.equal(err.name, "ValidationError");
    assert.equal(err.$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.match(err.message, pattern);
    return true;
  };
  const unknownType = JSON.stringify({
    Resources: { Thing: { Type: "AWS::Nope::Thing" } },
  });
  await assert.rejects(
    cfn.send(new CreateStackCommand({ StackName: "js-sdk-bad", TemplateBody: unknownType })),
    isValidationError(/^Template format error: Unrecognized resource types: \[AWS::Nope::Thing\]$/),
  );
  const badRef = JSON.stringify({
    Resources: {
      Bucket: { Type: "AWS::S3::Bucket", Properties: { BucketName: { Ref: "Missing" } } },
    },
  });
  await assert.rejects(
    cfn.send(new ValidateTemplateCommand({ TemplateBody: badRef })),
    isValidationError(/Unresolved resource dependencies \[Missing\] in the Resources block/),
  );
  await assert.rejects(
    cfn.send(new CreateStackCommand({ StackName: "js-sdk-bad", TemplateBody: "{not json" })),
    isValidationError(/^Template format error/),
  );
  await assert.rejects(
    cfn.send(new DescribeStacksCommand({ StackName: "js-sdk-bad" })),
    isValidationError(/^Stack with id js-sdk-bad does not exist$/),
  );
});
