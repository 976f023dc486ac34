// S3 errors as the JavaScript SDK sees them, with retries off so nothing hides a fault.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  ListBucketsCommand,
  NoSuchBucket,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

import { clientConfig, startCairn } from "./cairn.js";

let cairn;
let s3;

before(async () => {
  cairn = await startCairn();
  s3 = new S3Client({ ...clientConfig(cairn.endpoint), forcePathStyle: true });
});

after(() => {
  s3?.destroy();
  cairn?.stop();
});

test("a missing bucket is a typed NoSuchBucket with AWS's message", async () => {
  await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: "missing-js-bucket" })), (err) => {
    assert.ok(err instanceof NoSuchBucket, `NoSuchBucket, got ${err.name}`);
    assert.equal(err.$metadata.httpStatusCode, 404);
    assert.match(err.message, /^The specified bucket does not exist/);
    assert.ok(err.$metadata.requestId, "the error carries the request id");
    return true;
  });
});

test("the connection stays usable after an error answered before the body was read", async () => {
  const body = Buffer.alloc(70000, 65);
  await assert.rejects(
    s3.send(new PutObjectCommand({ Bucket: "missing-js-bucket", Key: "k", Body: body })),
    NoSuchBucket,
  );
  const listed = await s3.send(new ListBucketsCommand({}));
  assert.equal(listed.$metadata.httpStatusCode, 200);
});

test("an invalid bucket name carries AWS's message", async () => {
  await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: "ab" })), (err) => {
    assert.equal(err.name, "InvalidBucketName");
    assert.equal(err.message, "The specified bucket is not valid.");
    return true;
  });
});
