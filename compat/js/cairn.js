// Starts the real cairn binary on port 0 with its own data dir, as compat/conftest.py does,
// and builds SDK clients pointed at it.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ACCESS_KEY = "AKIDCOMPATJS";
export const SECRET = "compat-js-secret";
export const ACCOUNT = "123456789012";

const here = dirname(fileURLToPath(import.meta.url));

export function cairnBinary() {
  return process.env.CAIRN_BIN ?? resolve(here, "..", "..", "target", "debug", "cairn");
}

/**
 * A running server: `endpoint`, `stop()`. Resolves once it printed its listen address.
 * `extraArgs` go to `cairn serve` after the listen address and data dir.
 */
export async function startCairn(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-js-"));
  const args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir, ...extraArgs];
  const child = spawn(cairnBinary(), args, {
    env: {
      ...process.env,
      CAIRN_ROOT_ACCESS_KEY_ID: ACCESS_KEY,
      CAIRN_ROOT_SECRET_ACCESS_KEY: SECRET,
      CAIRN_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((_, reject) =>
    child.once("exit", (code) => reject(new Error(`cairn exited (${code}) before listening`))),
  );
  const listening = new Promise((resolveLine) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const prefix = "cairn listening on ";
      if (line.startsWith(prefix)) resolveLine(line.slice(prefix.length).trim());
    });
  });
  const endpoint = await Promise.race([listening, exited]);
  return {
    endpoint,
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Client configuration for `endpoint` in `region`, root credentials, no retries. */
export function clientConfig(endpoint, region = "us-east-1") {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    maxAttempts: 1,
  };
}

/** The bucket policy CloudTrail needs (same as compat/conftest.py `cloudtrail_policy`). */
export function cloudtrailPolicy(bucket, prefix = "") {
  const path = prefix ? `${prefix}/AWSLogs/${ACCOUNT}/*` : `AWSLogs/${ACCOUNT}/*`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AWSCloudTrailAclCheck20150319",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "s3:GetBucketAcl",
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Sid: "AWSCloudTrailWrite20150319",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/${path}`,
        Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
      },
    ],
  });
}
