// Presigned URLs made by the JavaScript SDK's presigner with its defaults. Since 3.729 the
// client computes flexible checksums by default, so a presigned PutObject or UploadPart URL
// carries the CRC32 of the empty body it had when presigning (`x-amz-checksum-crc32` in the
// query). S3 uploads the real body through such a URL; Cairn answered BadDigest before.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { clientConfig, startCairn } from "./cairn.js";

let cairn;
let s3;
const BUCKET = "js-presigned";

before(async () => {
  cairn = await startCairn();
  s3 = new S3Client({ ...clientConfig(cairn.endpoint), forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(() => {
  s3?.destroy();
  cairn?.stop();
});

test("a presigned PutObject URL uploads its body", async () => {
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: "put.txt" }), {
    expiresIn: 300,
  });
  assert.match(url, /x-amz-checksum-crc32=/, "the presigner signed an empty body's checksum");
  const put = await fetch(url, { method: "PUT", body: "uploaded through a presigned URL" });
  assert.equal(put.status, 200, await put.text());
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "put.txt" }));
  assert.equal(await got.Body.transformToString(), "uploaded through a presigned URL");
});

test("presigned UploadPart URLs build a multipart upload", async () => {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "parts.bin" }),
  );
  const url = await getSignedUrl(
    s3,
    new UploadPartCommand({ Bucket: BUCKET, Key: "parts.bin", UploadId, PartNumber: 1 }),
    { expiresIn: 300 },
  );
  const part = await fetch(url, { method: "PUT", body: "one part" });
  assert.equal(part.status, 200, await part.text());
  const ETag = part.headers.get("etag");
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: "parts.bin",
      UploadId,
      MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] },
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "parts.bin" }));
  assert.equal(await got.Body.transformToString(), "one part");
});
