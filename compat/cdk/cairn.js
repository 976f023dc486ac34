// Starts the real cairn binary on port 0 with its own data dir (as compat/conftest.py and
// compat/js/cairn.js do), runs `cairn flush` on it, and runs the CDK CLI pointed at it with
// nothing but the standard AWS environment variables.

const { spawn } = require("node:child_process");
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join, resolve } = require("node:path");
const { createInterface } = require("node:readline");

const ACCESS_KEY = "AKIDCOMPATCDK";
const SECRET = "compat-cdk-secret";
const ACCOUNT = "123456789012";
const REGION = "us-east-1";

function cairnBinary() {
  return process.env.CAIRN_BIN ?? resolve(__dirname, "..", "..", "target", "debug", "cairn");
}

/** Runs `command args` to its end: `{ code, stdout, stderr }`. */
function run(command, args, options = {}) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", fail);
    child.once("close", (code) => done({ code, stdout, stderr }));
  });
}

/**
 * A running server: `endpoint`, `flush()` (stops it, delivers everything pending with
 * `cairn flush`, starts it again on the same address), `stop()`. Delivery runs only when
 * flushed, so what a test finds in the bucket does not depend on timing.
 */
async function startCairn() {
  // The data dir is a child of a dir of our own: `serve` writes its generated KMS master key
  // beside the data dir.
  const home = mkdtempSync(join(tmpdir(), "cairn-cdk-"));
  const dataDir = join(home, "data");
  const server = { endpoint: null, child: null };

  async function spawnServer(listen) {
    const child = spawn(
      cairnBinary(),
      ["serve", "--listen", listen, "--data-dir", dataDir, "--delivery-interval", "86400"],
      {
        env: {
          ...process.env,
          CAIRN_ROOT_ACCESS_KEY_ID: ACCESS_KEY,
          CAIRN_ROOT_SECRET_ACCESS_KEY: SECRET,
          CAIRN_LOG: "warn",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
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
    server.endpoint = await Promise.race([listening, exited]);
    server.child = child;
  }

  async function kill() {
    const child = server.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await gone;
  }

  await spawnServer("127.0.0.1:0");
  return {
    get endpoint() {
      return server.endpoint;
    },
    async flush() {
      await kill();
      const out = await run(cairnBinary(), ["flush", "--data-dir", dataDir]);
      await spawnServer(server.endpoint.replace(/^http:\/\//, "").replace(/\/$/, ""));
      if (out.code !== 0) throw new Error(`cairn flush exited ${out.code}: ${out.stdout}${out.stderr}`);
      return JSON.parse(out.stdout);
    },
    async stop() {
      await kill();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The environment a developer points the CDK CLI (and any AWS SDK) at Cairn with. */
function awsEnv(endpoint) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("AWS_") || k.startsWith("CDK_")) delete env[k];
  return {
    ...env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_REGION: REGION,
    // No profile or credentials file of the machine's: only what is set here.
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    // The CLI reaches out to no AWS host: no telemetry, no notices, no version check.
    CDK_DISABLE_CLI_TELEMETRY: "true",
    CDK_DISABLE_VERSION_CHECK: "true",
  };
}

/**
 * Runs the CDK CLI (`node_modules/aws-cdk`) in this directory against `endpoint`:
 * `{ code, stdout, stderr }`. `outdir` is the cloud assembly's directory.
 */
function cdk(endpoint, outdir, args) {
  const bin = resolve(__dirname, "node_modules", "aws-cdk", "bin", "cdk");
  return run(process.execPath, [bin, ...args, "--output", outdir, "--no-notices", "--ci"], {
    cwd: __dirname,
    env: awsEnv(endpoint),
  });
}

/** SDK client configuration for `endpoint`: root credentials, no retries. */
function clientConfig(endpoint) {
  return {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    maxAttempts: 1,
  };
}

module.exports = { ACCOUNT, REGION, cdk, clientConfig, startCairn };
