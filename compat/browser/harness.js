// Browser test harness: the real cairn binary on port 0 with its own data dir, Debian's
// Chromium driven headless by playwright-core (no browser download), a check that the page
// talks to no other host and logs no error, screenshots kept under the test's temp dir, and
// boto3 (through check.py) to verify what the console did.

import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ACCESS_KEY = "AKIDCONSOLEBROWSER";
export const SECRET = "console-browser-secret";
export const ACCOUNT = "123456789012";
export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

const here = dirname(fileURLToPath(import.meta.url));

/** The binary under test. */
export function cairnBinary() {
  return process.env.CAIRN_BIN ?? resolve(here, "..", "..", "target", "debug", "cairn");
}

/** Where this run keeps its screenshots (listed at the end of the run). */
export const ARTIFACTS = process.env.CONSOLE_ARTIFACTS ?? mkdtempSync(join(tmpdir(), "cairn-console-shots-"));
mkdirSync(ARTIFACTS, { recursive: true });

/** Starts cairn; resolves to `{endpoint, dir, stop()}` once it listens. */
export async function startCairn() {
  const dir = mkdtempSync(join(tmpdir(), "cairn-console-"));
  const child = spawn(cairnBinary(), ["serve", "--listen", "127.0.0.1:0", "--data-dir", dir], {
    env: {
      ...process.env,
      CAIRN_ROOT_ACCESS_KEY_ID: ACCESS_KEY,
      CAIRN_ROOT_SECRET_ACCESS_KEY: SECRET,
      CAIRN_ACCOUNT_ID: ACCOUNT,
      CAIRN_LOG: "warn",
      // Deliver log files and digests within seconds, so the Log files page has files.
      CAIRN_DELIVERY_INTERVAL: "1",
      CAIRN_DIGEST_INTERVAL: "2",
      // Insights evaluate from the minute they are turned on (the Insights page's test).
      CAIRN_INSIGHTS_WARM_UP: "0",
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
    dir,
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Launches Chromium with a fresh profile. Returns `{context, page, problems, close()}`:
 * `problems` collects every request to another host, console error and page error.
 */
export async function openBrowser(endpoint) {
  const profile = mkdtempSync(join(tmpdir(), "cairn-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1366, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const origin = new URL(endpoint).host;
  const problems = [];
  const watch = (page) => {
    page.on("request", (req) => {
      const url = new URL(req.url());
      if (url.protocol.startsWith("http") && url.host !== origin) {
        problems.push(`request to another host: ${req.url()}`);
      }
    });
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  };
  context.on("page", watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form. */
export async function signIn(page, endpoint, keyId = ACCESS_KEY, secret = SECRET) {
  await page.goto(`${endpoint}/console/signin`);
  await page.getByLabel("Access key ID").fill(keyId);
  await page.getByLabel("Secret access key").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("load");
}

/** Saves a full-page screenshot as `<name>.png` under ARTIFACTS; returns its path. */
export async function shot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The Python that has boto3: the project's venv when there is one. */
function python() {
  if (process.env.CAIRN_PYTHON) return process.env.CAIRN_PYTHON;
  const venv = resolve(here, "..", "..", ".venv", "bin", "python");
  try {
    execFileSync(venv, ["-c", "import boto3"], { stdio: "ignore" });
    return venv;
  } catch {
    return "python3";
  }
}

/** Runs a boto3 check (check.py) against `endpoint`; returns its JSON answer. */
export function boto3(endpoint, command, ...args) {
  const out = execFileSync(python(), [join(here, "check.py"), endpoint, command, ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_DEFAULT_REGION: "us-east-1",
    },
  });
  return JSON.parse(out.toString());
}
