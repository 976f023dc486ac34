// Virtual-hosted–style S3 requests, the JavaScript SDK's default addressing: with
// `--s3-domains s3.cairn.test`, a request to `<bucket>.s3.cairn.test` names the bucket.
// The names resolve to the server through the HTTP agent's own lookup, so no DNS is needed.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";

import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

import { clientConfig, startCairn } from "./cairn.js";

const DOMAIN = "s3.cairn.test";
const BUCKET = "js-vhost-bucket";

let cairn;
let port;
let hosts;
let virtual;
let pathStyle;

before(async () => {
  cairn = await startCairn(["--s3-domains", DOMAIN]);
  port = new URL(cairn.endpoint).port;
  hosts = [];
  const lookup = (hostname, options, callback) => {
    hosts.push(hostname);
    if (options?.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
  };
  const requestHandler = { httpAgent: new http.Agent({ keepAlive: true, lookup }) };
  const config = { ...clientConfig(`http://${DOMAIN}:${port}`), requestHandler };
  virtual = new S3Client(config);
  pathStyle = new S3Client({ ...config, forcePathStyle: true });
});

after(() => {
  virtual?.destroy();
  pathStyle?.destroy();
  cairn?.stop();
});

test("the SDK's default addressing creates, writes, lists, reads and deletes", async () => {
  await virtual.send(new CreateBucketCommand({ Bucket: BUCKET }));
  assert.ok(hosts.includes(`${BUCKET}.${DOMAIN}`), `virtual host used: ${hosts}`);
  await virtual.send(new PutObjectCommand({ Bucket: BUCKET, Key: "dir/a b.txt", Body: "hello" }));

  const listed = await virtual.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  assert.deepEqual(
    listed.Contents.map((o) => o.Key),
    ["dir/a b.txt"],
  );
  const got = await virtual.send(new GetObjectCommand({ Bucket: BUCKET, Key: "dir/a b.txt" }));
  assert.equal(await got.Body.transformToString(), "hello");

  // The same bucket path style, on the domain itself.
  const again = await pathStyle.send(new GetObjectCommand({ Bucket: BUCKET, Key: "dir/a b.txt" }));
  assert.equal(await again.Body.transformToString(), "hello");

  await virtual.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "dir/a b.txt" }));
  const empty = await pathStyle.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  assert.equal(empty.KeyCount, 0);
});

test("a missing bucket named by its host is NoSuchBucket", async () => {
  await assert.rejects(
    virtual.send(new ListObjectsV2Command({ Bucket: "js-vhost-missing" })),
    (err) => {
      assert.ok(err instanceof NoSuchBucket, `NoSuchBucket, got ${err.name}`);
      return true;
    },
  );
});

test("CreateBucket made through the virtual host is recorded with its bucket and Host", async () => {
  const ct = new CloudTrailClient(clientConfig(cairn.endpoint));
  try {
    const page = await ct.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateBucket" }],
      }),
    );
    const records = page.Events.map((e) => JSON.parse(e.CloudTrailEvent));
    const mine = records.find((r) => r.requestParameters?.bucketName === BUCKET);
    assert.ok(mine, `CreateBucket of ${BUCKET} recorded: ${JSON.stringify(records)}`);
    assert.equal(mine.requestParameters.Host, `${BUCKET}.${DOMAIN}:${port}`);
  } finally {
    ct.destroy();
  }
});
