// STS with the AWS SDK for JavaScript v3 (@aws-sdk/client-sts, AWS Query with XML answers):
// GetCallerIdentity, AssumeRole of a role made with IAM by a user allowed to assume it (root
// may not assume roles, as on AWS), and the temporary credentials
// (with their session token) used by other clients: one call the role's policy allows, and one
// it does not, denied with AWS's message naming the assumed-role session.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  AccessDeniedException,
  CloudTrailClient,
  DescribeTrailsCommand,
  StopLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

import { ACCOUNT, clientConfig, startCairn } from "./cairn.js";

const USER = "js-deployer";
const ROLE = "js-reader";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const SESSION = "js-session";
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/${SESSION}`;
const TRUST = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "sts:AssumeRole",
    },
  ],
};
const READ = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["cloudtrail:DescribeTrails", "s3:ListAllMyBuckets", "sts:GetCallerIdentity"],
      Resource: "*",
    },
  ],
};

let cairn;
let sts;
let userKey;
let credentials;
const clients = [];

function track(client) {
  clients.push(client);
  return client;
}

before(async () => {
  cairn = await startCairn();
  sts = track(new STSClient(clientConfig(cairn.endpoint)));
});

after(() => {
  for (const client of clients) client.destroy();
  cairn?.stop();
});

/** Client config signed with the assumed role's temporary credentials. */
function asRole() {
  return {
    ...clientConfig(cairn.endpoint),
    credentials: {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
    },
  };
}

test("GetCallerIdentity names the root account", async () => {
  const me = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(me.Account, ACCOUNT);
  assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT}:root`);
  assert.equal(me.UserId, ACCOUNT);
});

test("a user allowed to assume a role made with IAM gets temporary credentials", async () => {
  const iam = track(new IAMClient(clientConfig(cairn.endpoint)));
  const role = await iam.send(
    new CreateRoleCommand({ RoleName: ROLE, AssumeRolePolicyDocument: JSON.stringify(TRUST) }),
  );
  assert.equal(role.Role.Arn, ROLE_ARN);
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: ROLE,
      PolicyName: "read",
      PolicyDocument: JSON.stringify(READ),
    }),
  );
  const user = (await iam.send(new CreateUserCommand({ UserName: USER }))).User;
  await iam.send(
    new PutUserPolicyCommand({
      UserName: USER,
      PolicyName: "assume-reader",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: ROLE_ARN }],
      }),
    }),
  );
  userKey = (await iam.send(new CreateAccessKeyCommand({ UserName: USER }))).AccessKey;
  const asUser = track(
    new STSClient({
      ...clientConfig(cairn.endpoint),
      credentials: { accessKeyId: userKey.AccessKeyId, secretAccessKey: userKey.SecretAccessKey },
    }),
  );
  const me = await asUser.send(new GetCallerIdentityCommand({}));
  assert.equal(me.Arn, user.Arn);
  assert.equal(me.UserId, user.UserId);

  await assert.rejects(
    sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: SESSION })),
    (err) => {
      assert.equal(err.name, "AccessDenied");
      assert.equal(err.$metadata.httpStatusCode, 403);
      assert.equal(err.message, "Roles may not be assumed by root accounts.");
      return true;
    },
  );

  const assumed = await asUser.send(
    new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: SESSION, DurationSeconds: 900 }),
  );
  credentials = assumed.Credentials;
  assert.match(credentials.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
  assert.ok(credentials.SecretAccessKey.length >= 40);
  assert.ok(credentials.SessionToken.length > 0);
  assert.ok(credentials.Expiration instanceof Date, "Expiration parses as a timestamp");
  const minutes = (credentials.Expiration.getTime() - Date.now()) / 60_000;
  assert.ok(minutes > 14 && minutes <= 15.1, `expires in 15 minutes, got ${minutes}`);
  assert.equal(assumed.AssumedRoleUser.Arn, SESSION_ARN);
  assert.equal(assumed.AssumedRoleUser.AssumedRoleId.split(":")[1], SESSION);
  assert.match(assumed.AssumedRoleUser.AssumedRoleId, /^AROA[A-Z0-9]{17}:/);
  assert.notEqual(credentials.AccessKeyId, userKey.AccessKeyId);
});

test("the session token works for allowed calls and is denied the rest", async () => {
  const asSession = track(new STSClient(asRole()));
  const me = await asSession.send(new GetCallerIdentityCommand({}));
  assert.equal(me.Arn, SESSION_ARN);
  assert.equal(me.Account, ACCOUNT);

  const root = track(new S3Client({ ...clientConfig(cairn.endpoint), forcePathStyle: true }));
  await root.send(new CreateBucketCommand({ Bucket: "js-sdk-sts-bucket" }));
  const s3 = track(new S3Client({ ...asRole(), forcePathStyle: true }));
  const buckets = await s3.send(new ListBucketsCommand({}));
  assert.deepEqual(
    buckets.Buckets.map((b) => b.Name),
    ["js-sdk-sts-bucket"],
  );

  const ct = track(new CloudTrailClient(asRole()));
  const trails = await ct.send(new DescribeTrailsCommand({}));
  assert.deepEqual(trails.trailList, []);
  const trailArn = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/any-trail`;
  await assert.rejects(ct.send(new StopLoggingCommand({ Name: trailArn })), (err) => {
    assert.ok(err instanceof AccessDeniedException, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(
      err.message,
      `User: ${SESSION_ARN} is not authorized to perform: cloudtrail:StopLogging on resource: ` +
        `${trailArn} because no identity-based policy allows the cloudtrail:StopLogging action`,
    );
    return true;
  });
  await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: "js-sdk-sts-denied" })), (err) => {
    assert.equal(err.name, "AccessDenied");
    assert.equal(err.$metadata.httpStatusCode, 403);
    return true;
  });
});

test("a tampered session token is refused", async () => {
  const forged = track(
    new STSClient({
      ...asRole(),
      credentials: { ...asRole().credentials, sessionToken: `${credentials.SessionToken}x` },
    }),
  );
  await assert.rejects(forged.send(new GetCallerIdentityCommand({})), (err) => {
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.equal(err.name, "InvalidClientTokenId");
    assert.equal(err.message, "The security token included in the request is invalid.");
    return true;
  });
});
