// IAM with the AWS SDK for JavaScript v3 (@aws-sdk/client-iam, AWS Query with XML answers): a
// user with an access key, an inline policy and the AWS managed AWSCloudTrail_ReadOnlyAccess;
// clients signed with the new key are allowed a CloudTrail read and denied StopLogging (a
// typed AccessDeniedException with AWS's message); typed NoSuchEntity and DeleteConflict
// errors, and DeleteUser once its preconditions are met.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  AccessDeniedException,
  CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  StopLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteConflictException,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutBucketPolicyCommand,
  S3Client,
} from "@aws-sdk/client-s3";

import { ACCOUNT, clientConfig, cloudtrailPolicy, startCairn } from "./cairn.js";

const USER = "js-auditor";
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/${USER}`;
const READ_ONLY = "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess";
const BUCKET = "js-sdk-iam-trail-bucket";
const TRAIL = "js-sdk-iam-trail";
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${TRAIL}`;
const LIST_BUCKETS = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
};

let cairn;
let iam;
let key;
const clients = [];

before(async () => {
  cairn = await startCairn();
  iam = track(new IAMClient(clientConfig(cairn.endpoint)));
  const s3 = track(new S3Client({ ...clientConfig(cairn.endpoint), forcePathStyle: true }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: cloudtrailPolicy(BUCKET) }));
  const ct = track(new CloudTrailClient(clientConfig(cairn.endpoint)));
  await ct.send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: BUCKET }));
});

after(() => {
  for (const client of clients) client.destroy();
  cairn?.stop();
});

function track(client) {
  clients.push(client);
  return client;
}

/** Client config signed with the user's new access key. */
function asUser() {
  return {
    ...clientConfig(cairn.endpoint),
    credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
  };
}

test("CreateUser and CreateAccessKey", async () => {
  const created = await iam.send(
    new CreateUserCommand({ UserName: USER, Tags: [{ Key: "team", Value: "audit" }] }),
  );
  assert.equal(created.User.UserName, USER);
  assert.equal(created.User.Arn, USER_ARN);
  assert.equal(created.User.Path, "/");
  assert.match(created.User.UserId, /^AIDA[A-Z0-9]{17}$/);
  assert.ok(created.User.CreateDate instanceof Date, "CreateDate parses as a timestamp");

  key = (await iam.send(new CreateAccessKeyCommand({ UserName: USER }))).AccessKey;
  assert.equal(key.UserName, USER);
  assert.equal(key.Status, "Active");
  assert.match(key.AccessKeyId, /^AKIA[A-Z0-9]{16}$/);
  assert.equal(key.SecretAccessKey.length, 40);

  const keys = await iam.send(new ListAccessKeysCommand({ UserName: USER }));
  assert.deepEqual(
    keys.AccessKeyMetadata.map((k) => [k.AccessKeyId, k.Status]),
    [[key.AccessKeyId, "Active"]],
  );
});

test("an inline policy and the AWS managed read-only policy are attached", async () => {
  await iam.send(
    new PutUserPolicyCommand({
      UserName: USER,
      PolicyName: "list-buckets",
      PolicyDocument: JSON.stringify(LIST_BUCKETS),
    }),
  );
  const inline = await iam.send(
    new GetUserPolicyCommand({ UserName: USER, PolicyName: "list-buckets" }),
  );
  // IAM answers the document URL-encoded (RFC 3986), as on AWS.
  assert.deepEqual(JSON.parse(decodeURIComponent(inline.PolicyDocument)), LIST_BUCKETS);

  await iam.send(new AttachUserPolicyCommand({ UserName: USER, PolicyArn: READ_ONLY }));
  const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: USER }));
  assert.deepEqual(attached.AttachedPolicies, [
    { PolicyName: "AWSCloudTrail_ReadOnlyAccess", PolicyArn: READ_ONLY },
  ]);
});

test("the new key may read CloudTrail and list buckets, and may not StopLogging", async () => {
  const ct = track(new CloudTrailClient(asUser()));
  const trails = await ct.send(new DescribeTrailsCommand({}));
  assert.deepEqual(
    trails.trailList.map((t) => t.TrailARN),
    [TRAIL_ARN],
  );
  const status = await ct.send(new GetTrailStatusCommand({ Name: TRAIL }));
  assert.equal(status.IsLogging, false);

  const s3 = track(new S3Client({ ...asUser(), forcePathStyle: true }));
  const buckets = await s3.send(new ListBucketsCommand({}));
  assert.deepEqual(
    buckets.Buckets.map((b) => b.Name),
    [BUCKET],
  );

  await assert.rejects(ct.send(new StopLoggingCommand({ Name: TRAIL })), (err) => {
    assert.ok(err instanceof AccessDeniedException, `${err.name}: ${err.message}`);
    assert.equal(err.name, "AccessDeniedException");
    assert.equal(err.$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(
      err.message,
      `User: ${USER_ARN} is not authorized to perform: cloudtrail:StopLogging on resource: ` +
        `${TRAIL_ARN} because no identity-based policy allows the cloudtrail:StopLogging action`,
    );
    return true;
  });
});

test("a missing user is a typed NoSuchEntityException", async () => {
  await assert.rejects(iam.send(new GetUserCommand({ UserName: "js-nobody" })), (err) => {
    assert.ok(err instanceof NoSuchEntityException, `${err.name}: ${err.message}`);
    assert.equal(err.name, "NoSuchEntityException");
    assert.equal(err.$metadata.httpStatusCode, 404);
    assert.equal(err.message, "The user with name js-nobody cannot be found.");
    return true;
  });
  await assert.rejects(
    iam.send(
      new DetachUserPolicyCommand({
        UserName: USER,
        PolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
      }),
    ),
    NoSuchEntityException,
  );
});

test("DeleteUser needs the keys and policies gone first (DeleteConflict)", async () => {
  const isConflict = (err) => {
    assert.ok(err instanceof DeleteConflictException, `${err.name}: ${err.message}`);
    assert.equal(err.name, "DeleteConflictException");
    assert.equal(err.$metadata.httpStatusCode, 409);
    return true;
  };
  await assert.rejects(iam.send(new DeleteUserCommand({ UserName: USER })), isConflict);
  await iam.send(new DeleteAccessKeyCommand({ UserName: USER, AccessKeyId: key.AccessKeyId }));
  await assert.rejects(iam.send(new DeleteUserCommand({ UserName: USER })), isConflict);
  await iam.send(new DeleteUserPolicyCommand({ UserName: USER, PolicyName: "list-buckets" }));
  await assert.rejects(iam.send(new DeleteUserCommand({ UserName: USER })), isConflict);
  await iam.send(new DetachUserPolicyCommand({ UserName: USER, PolicyArn: READ_ONLY }));
  await iam.send(new DeleteUserCommand({ UserName: USER }));
  await assert.rejects(iam.send(new GetUserCommand({ UserName: USER })), NoSuchEntityException);

  // The deleted key no longer signs anything.
  const ct = track(new CloudTrailClient(asUser()));
  await assert.rejects(ct.send(new DescribeTrailsCommand({})), (err) => {
    assert.equal(err.name, "UnrecognizedClientException");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(err.message, "The security token included in the request is invalid.");
    return true;
  });
});
