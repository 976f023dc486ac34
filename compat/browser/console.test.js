// The web console in a real Chromium: sign-in, the create-trail wizard, trail actions, event
// history, records, downloads and the resource timeline; every page screenshotted; no request
// to another host and no browser console error anywhere.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { ACCESS_KEY, ARTIFACTS, boto3, cairnBinary, openBrowser, shot, signIn, startCairn } from "./harness.js";

let cairn;
let browser;
const shots = [];

before(async () => {
  cairn = await startCairn();
  browser = await openBrowser(cairn.endpoint);
});

after(async () => {
  await browser?.close();
  cairn?.stop();
  console.log(`screenshots (${shots.length}) in ${ARTIFACTS}:\n  ${shots.join("\n  ")}`);
});

async function snap(name) {
  shots.push(await shot(browser.page, name));
}

function noProblems() {
  assert.deepEqual(browser.problems.splice(0), [], "no other host, no console error");
}

test("a browser at / is sent to the console's sign-in page", async () => {
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/`);
  assert.match(page.url(), /\/console\/signin$/);
  await assert.doesNotReject(page.getByLabel("Access key ID").waitFor());
  await snap("01-signin");
  noProblems();
});

test("a wrong secret is refused, shown, and recorded as a failed ConsoleLogin", async () => {
  const { page } = browser;
  await signIn(page, cairn.endpoint, ACCESS_KEY, "not-the-secret");
  assert.match(page.url(), /\/console\/signin$/);
  await page.getByRole("alert").getByText("not valid").waitFor();
  await snap("02-signin-failed");
  const { events } = boto3(cairn.endpoint, "lookup", "EventName", "ConsoleLogin");
  const records = events.map((e) => JSON.parse(e.CloudTrailEvent));
  const failed = records.find((r) => r.responseElements.ConsoleLogin === "Failure");
  assert.ok(failed, "a Failure record");
  assert.equal(failed.eventSource, "signin.amazonaws.com");
  assert.equal(failed.eventType, "AwsConsoleSignIn");
  assert.equal(failed.errorMessage, "Failed authentication");
  assert.equal(failed.additionalEventData.MFAUsed, "No");
  assert.equal(failed.userIdentity.type, "Root");
  const cookies = await browser.context.cookies();
  assert.ok(!cookies.some((c) => c.name === "cairn_console"), "no session after a failure");
  noProblems();
});

test("the right keys sign in with an HttpOnly, SameSite=Strict session, recorded as Success", async () => {
  const { page } = browser;
  await signIn(page, cairn.endpoint);
  assert.match(page.url(), /\/console\/$/);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.locator("#no-multi-region").waitFor();
  await snap("03-dashboard-empty");
  const session = (await browser.context.cookies()).find((c) => c.name === "cairn_console");
  assert.ok(session, "session cookie");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(session.path, "/console");
  assert.ok(session.expires > Date.now() / 1000, "the cookie expires");
  const { events } = boto3(cairn.endpoint, "lookup", "EventName", "ConsoleLogin");
  const ok = events.map((e) => JSON.parse(e.CloudTrailEvent)).find((r) => r.responseElements.ConsoleLogin === "Success");
  assert.ok(ok, "a Success record");
  assert.equal(ok.errorMessage, undefined);
  assert.equal(ok.additionalEventData.MFAUsed, "No");
  noProblems();
});

const TRAIL = "console-trail";

test("the wizard creates a multi-region trail with a new bucket, its policy, a KMS key, CloudWatch Logs, tags and validation", async () => {
  const { page } = browser;
  await page.getByRole("link", { name: "Trails", exact: true }).click();
  await page.getByRole("link", { name: "Create trail" }).first().click();
  await page.getByLabel("Trail name").fill(TRAIL);
  await page.getByLabel("Create new S3 bucket").check();
  const bucket = await page.getByLabel("Trail log bucket and folder").inputValue();
  assert.match(bucket, /^aws-cloudtrail-logs-123456789012-[0-9a-f]{8}$/);
  await page.getByLabel("Prefix").fill("org");
  assert.equal(await page.locator("#validation").isChecked(), true, "validation is on by default");
  // SSE-KMS with a new key, and CloudWatch Logs with a new group and role: their fields show
  // once chosen.
  assert.equal(await page.locator("#kms_alias").isVisible(), false, "key fields hidden until chosen");
  await page.locator("#kms").check();
  await page.locator("#kms_alias").fill("wizard-logs-key");
  assert.equal(await page.locator("#kms_key").isVisible(), false, "existing-key field hidden for a new key");
  assert.equal(await page.locator("#cwl_group").isVisible(), false);
  await page.locator("#cloudwatch").check();
  await page.locator("#cwl_group").fill("wizard-trail-group");
  await page.locator("#cwl_role").fill("WizardTrailRole");
  await page.getByRole("textbox", { name: "Key" }).first().fill("team");
  await page.getByRole("textbox", { name: "Value" }).first().fill("security");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.getByRole("textbox", { name: "Key" }).nth(1).fill("env");
  await page.getByRole("textbox", { name: "Value" }).nth(1).fill("test");
  await snap("04-wizard-step1");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Choose log events" }).waitFor();
  assert.equal(await page.getByLabel("Read", { exact: true }).first().isChecked(), true);
  assert.equal(await page.getByLabel("Write", { exact: true }).first().isChecked(), true);
  await snap("05-wizard-step2");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Review and create" }).waitFor();
  await snap("06-wizard-review");
  await page.getByRole("button", { name: "Create trail" }).click();
  await page.getByRole("status").getByText(`Trail ${TRAIL} created`).waitFor();
  await snap("07-trails");

  const t = boto3(cairn.endpoint, "trail", TRAIL);
  assert.equal(t.trail.S3BucketName, bucket);
  assert.equal(t.trail.S3KeyPrefix, "org");
  assert.equal(t.trail.IsMultiRegionTrail, true);
  assert.equal(t.trail.LogFileValidationEnabled, true);
  assert.match(t.trail.KmsKeyId, /^arn:aws:kms:us-east-1:123456789012:key\//);
  assert.equal(t.trail.CloudWatchLogsLogGroupArn, "arn:aws:logs:us-east-1:123456789012:log-group:wizard-trail-group:*");
  assert.equal(t.trail.CloudWatchLogsRoleArn, "arn:aws:iam::123456789012:role/WizardTrailRole");
  assert.equal(t.isLogging, true);
  assert.deepEqual(
    t.tags.map((x) => [x.Key, x.Value]).sort(),
    [["env", "test"], ["team", "security"]],
  );
  assert.equal(t.eventSelectors[0].ReadWriteType, "All");
  assert.equal(t.eventSelectors[0].IncludeManagementEvents, true);
  const sids = t.bucketPolicy.Statement.map((s) => s.Sid).sort();
  assert.deepEqual(sids, ["AWSCloudTrailAclCheck20150319", "AWSCloudTrailWrite20150319"]);
  const write = t.bucketPolicy.Statement.find((s) => s.Sid === "AWSCloudTrailWrite20150319");
  assert.equal(write.Resource, `arn:aws:s3:::${bucket}/org/AWSLogs/123456789012/*`);

  // The console's calls are recorded as console calls.
  const { events } = boto3(cairn.endpoint, "lookup", "EventName", "CreateTrail");
  const created = JSON.parse(events[0].CloudTrailEvent);
  assert.equal(created.sessionCredentialFromConsole, "true");
  assert.equal(created.userAgent, "console.amazonaws.com");
  noProblems();
});

test("the wizard makes the trail with the events chosen at step 2", async () => {
  // Step 2's form once left out the mark that its boxes were shown, so every choice made
  // there (data events, Insights, Read only) was replaced by the defaults.
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails/create`);
  await page.getByLabel("Trail name").fill("step2-trail");
  await page.getByLabel("Create new S3 bucket").check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Choose log events" }).waitFor();
  await page.getByLabel("Write", { exact: true }).first().uncheck();
  await page.getByLabel("Data events").check();
  await page.getByLabel("All current and future S3 buckets").check();
  await page.getByLabel("API error rate").check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Review and create" }).waitFor();
  await page.getByText("S3: all current and future buckets").waitFor();
  await page.getByRole("button", { name: "Create trail" }).click();
  await page.getByRole("status").getByText("Trail step2-trail created").waitFor();
  const t = boto3(cairn.endpoint, "trail", "step2-trail");
  assert.equal(t.eventSelectors[0].ReadWriteType, "ReadOnly");
  assert.deepEqual(
    t.eventSelectors.flatMap((s) => s.DataResources.map((d) => d.Type)),
    ["AWS::S3::Object"],
  );
  assert.deepEqual(t.insightSelectors.map((i) => i.InsightType), ["ApiErrorRateInsight"]);
  boto3(cairn.endpoint, "delete-trail", "step2-trail");
  noProblems();
});

test("wizard errors show next to their fields at step 1, before anything is made", async () => {
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails/create`);
  await page.getByLabel("Trail name").fill("ab");
  await page.getByRole("button", { name: "Next" }).click();
  await page.locator("#name-error").getByText("InvalidTrailNameException").waitFor();
  await page.getByLabel("Trail name").fill(TRAIL);
  await page.getByLabel("Use existing S3 bucket").check();
  await page.getByLabel("Trail log bucket name").fill("no-such-bucket-anywhere");
  await page.getByRole("button", { name: "Next" }).click();
  await page.locator("#name-error").getByText("TrailAlreadyExistsException").waitFor();
  await page.locator("#bucket-error").getByText("does not exist").waitFor();
  await page.getByRole("heading", { name: "Choose trail attributes" }).waitFor();
  await snap("08-wizard-error");
  // "Add tag" goes on past the rows the page came with (a trail takes 50 tags).
  for (let i = 0; i < 7; i++) {
    await page.getByRole("button", { name: "Add tag" }).click();
  }
  assert.equal(await page.getByRole("textbox", { name: "Key" }).count(), 8);
  assert.equal(await page.getByRole("button", { name: "Add tag" }).isVisible(), true);
  // Fields are bounded as CreateTrail bounds them, in the page and at the server: a prefix
  // typed past 200 characters stops there.
  assert.equal(await page.getByLabel("Prefix").getAttribute("maxlength"), "200");
  noProblems();
});

test("the details page stops and starts logging", async () => {
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails`);
  await page.getByRole("link", { name: TRAIL }).click();
  await page.getByText("Log file validation").first().waitFor();
  await snap("09-trail-details");
  await page.getByRole("button", { name: "Stop logging" }).click();
  await page.locator("#trail-status").getByText("Off").waitFor();
  assert.equal(boto3(cairn.endpoint, "trail", TRAIL).isLogging, false);
  await page.getByRole("button", { name: "Start logging" }).click();
  await page.locator("#trail-status").getByText("Logging").waitFor();
  assert.equal(boto3(cairn.endpoint, "trail", TRAIL).isLogging, true);
  noProblems();
});

test("Back inside the wizard shows the previous step; reloading after an action calls nothing again", async () => {
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails/create`);
  await page.getByLabel("Trail name").fill("back-trail");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Choose log events" }).waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Review and create" }).waitFor();
  await page.goBack();
  await page.getByRole("heading", { name: "Choose log events" }).waitFor();
  assert.equal(await page.locator('input[name="name"]').first().inputValue(), "back-trail");

  await page.goto(`${cairn.endpoint}/console/trails/${TRAIL}`);
  await page.getByText("Edit event selectors").click();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").getByText("Event selectors saved.").waitFor();
  assert.match(page.url(), /\?done=selectors&sig=[0-9a-f]{64}$/);
  const saved = boto3(cairn.endpoint, "lookup", "EventName", "PutEventSelectors").events.length;
  await page.reload();
  await page.getByRole("status").getByText("Event selectors saved.").waitFor();
  assert.equal(boto3(cairn.endpoint, "lookup", "EventName", "PutEventSelectors").events.length, saved);
  noProblems();
});

test("event history filters by each of the eight lookup attributes", async () => {
  const { page } = browser;
  const { events } = boto3(cairn.endpoint, "lookup", "EventName", "StartLogging");
  const sample = events[0];
  const record = JSON.parse(sample.CloudTrailEvent);
  const cases = [
    ["EventName", "StartLogging"],
    ["Username", sample.Username],
    ["ResourceType", "AWS::CloudTrail::Trail"],
    ["ResourceName", record.resources[0].ARN],
    ["EventSource", "cloudtrail.amazonaws.com"],
    ["EventId", sample.EventId],
    ["ReadOnly", "true"],
    ["AccessKeyId", sample.AccessKeyId],
  ];
  for (const [key, value] of cases) {
    await page.goto(`${cairn.endpoint}/console/events`);
    await page.locator("#attr-1").selectOption(key);
    await page.locator("#value-1").fill(value);
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator("#events-table").waitFor();
    const names = await page.locator("#events-table tbody a.event-link").allInnerTexts();
    assert.ok(names.length > 0, `${key}=${value} finds events`);
    const expected = boto3(cairn.endpoint, "lookup", key, value).events
      .filter((e) => key === "ReadOnly" || e.ReadOnly === "false")
      .map((e) => e.EventName);
    for (const n of names) assert.ok(expected.includes(n), `${key}: ${n} is a match`);
    if (key === "EventId") assert.deepEqual(names, ["StartLogging"]);
    if (key === "ReadOnly") assert.ok(names.every((n) => /^(Get|Describe|List|Lookup|Head|GenerateDataKey|Decrypt)/.test(n)), names.join());
    if (key === "EventName") await snap("10-event-history-filtered");
  }
  // Several attributes at once and free text (beyond AWS).
  await page.goto(`${cairn.endpoint}/console/events?attr=EventSource&value=cloudtrail.amazonaws.com&attr=EventName&value=StopLogging&q=${TRAIL}`);
  const both = await page.locator("#events-table tbody a.event-link").allInnerTexts();
  assert.deepEqual([...new Set(both)], ["StopLogging"]);
  await page.goto(`${cairn.endpoint}/console/events`);
  await snap("11-event-history");
  noProblems();
});

test("the event record is LookupEvents' CloudTrailEvent", async () => {
  const { page } = browser;
  const { events } = boto3(cairn.endpoint, "lookup", "EventName", "CreateTrail");
  const item = events[0];
  await page.goto(`${cairn.endpoint}/console/events`);
  await page.locator(`a[href="/console/events/${item.EventId}"]`).first().click();
  const shown = await page.locator("#event-record").innerText();
  assert.deepEqual(JSON.parse(shown), JSON.parse(item.CloudTrailEvent));
  await page.getByRole("heading", { name: "Resources referenced" }).waitFor();
  await snap("12-event-record");
  noProblems();
});

test("downloads carry the current filter as CSV and JSON", async () => {
  const { page } = browser;
  for (const [format, id] of [["csv", "#download-csv"], ["json", "#download-json"]]) {
    await page.goto(`${cairn.endpoint}/console/events?attr=EventName&value=StopLogging`);
    await page.getByText("Download events").click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator(id).click()]);
    const text = readFileSync(await download.path(), "utf8");
    if (format === "csv") {
      const lines = text.trim().split("\r\n");
      assert.equal(lines[0].split(",")[0], "Event ID");
      assert.equal(lines.length, 2, "one StopLogging event");
      assert.ok(lines[1].includes(",StopLogging,"));
    } else {
      const { Records } = JSON.parse(text);
      assert.equal(Records.length, 1);
      assert.equal(Records[0].eventName, "StopLogging");
    }
  }
  noProblems();
});

test("the resource timeline lists the trail's changes oldest first", async () => {
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails/${TRAIL}`);
  await page.getByRole("link", { name: "Timeline" }).click();
  await page.locator("#timeline li").first().waitFor();
  const names = await page.locator("#timeline li .what a").allInnerTexts();
  // Reads that failed before the trail existed (the wizard's check of its name) name it too;
  // the first change is its creation.
  assert.equal(names.filter((n) => !n.startsWith("Get") && !n.startsWith("Describe"))[0], "CreateTrail");
  const writes = names.filter((n) => ["CreateTrail", "PutEventSelectors", "StartLogging", "StopLogging"].includes(n));
  assert.deepEqual(writes.slice(0, 3), ["CreateTrail", "PutEventSelectors", "StartLogging"]);
  await snap("13-resource-timeline");
  noProblems();
});

test("HTML in event fields renders as text", async () => {
  const { page } = browser;
  const evil = "<script>alert(1)</script>";
  boto3(cairn.endpoint, "put-event", evil);
  let dialogs = 0;
  page.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });
  await page.goto(`${cairn.endpoint}/console/events?q=alert`);
  await page.locator("#events-table tbody a.event-link").first().click();
  const shown = await page.locator("#event-record").innerText();
  assert.ok(shown.includes(evil), "the markup is shown as text");
  assert.equal(await page.locator("script").count(), 1, "only the console's own script");
  assert.equal(dialogs, 0);
  noProblems();
});

test("the timeline shows reordering characters as escapes and wraps long errors", async () => {
  // console7 #4, #5: a stream named "\u202Egpj.exe" read as "exe.jpg", and a long error badge
  // widened the page to 3,787 px.
  const { page } = browser;
  const { error } = boto3(cairn.endpoint, "unicode-events", "unigrp");
  assert.equal(error, "InvalidParameterException");
  await page.goto(`${cairn.endpoint}/console/timeline?name=unigrp`);
  const text = await page.locator("main").innerText();
  assert.ok(text.includes("\\u202Egpj.exe"), "the override is shown as an escape");
  assert.ok(!text.includes("\u202E"), "and not as the character itself");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  const viewport = page.viewportSize().width;
  assert.ok(width <= viewport, `the timeline is ${width} px wide in ${viewport}`);
  noProblems();
});

/** Waits (polling, bounded) until the trail's bucket holds a digest file. */
async function waitForDigest(bucket) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { keys } = boto3(cairn.endpoint, "keys", bucket, "org/AWSLogs/123456789012/CloudTrail-Digest/");
    if (keys.length > 0) return keys;
    assert.ok(Date.now() < deadline, "a digest file is delivered within a minute");
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("log files: browse by date, download, and the integrity check", async () => {
  const { page } = browser;
  const bucket = boto3(cairn.endpoint, "trail", TRAIL).trail.S3BucketName;
  await waitForDigest(bucket);
  await page.goto(`${cairn.endpoint}/console/trails/${TRAIL}/logs`);
  await page.getByRole("heading", { name: "Log files" }).waitFor();
  await page.getByRole("link", { name: "CloudTrail-Digest/" }).waitFor();
  await page.getByRole("link", { name: "CloudTrail/", exact: true }).click();
  // Region, year, month, day: each a folder.
  for (let depth = 0; depth < 4; depth++) {
    await page.locator("#log-files tbody a").first().click();
  }
  const file = page.locator("#log-files tbody a[download]").first();
  await file.waitFor();
  await snap("14-log-files");
  const [download] = await Promise.all([page.waitForEvent("download"), file.click()]);
  const bytes = readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], "a gzip log file");
  await page.locator("#run-check").click();
  const summary = await page.locator("#check-summary").innerText();
  const m = summary.match(/^(\d+)\/(\d+) digest files valid, (\d+)\/(\d+) log files valid$/);
  assert.ok(m, summary);
  assert.ok(Number(m[2]) >= 1, "at least one digest checked");
  assert.equal(m[1], m[2], "every digest valid");
  assert.equal(m[3], m[4], "every log file valid");
  await snap("15-integrity-check");
  noProblems();
});

test("delete behind a confirmation", async () => {
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails/${TRAIL}`);
  await page.locator("#delete-trail").click();
  await page.getByLabel("To confirm, enter the trail name").fill("wrong");
  await page.locator("#confirm-delete").click();
  await page.getByRole("alert").getByText("exactly").waitFor();
  await snap("16-delete-confirm");
  await page.getByLabel("To confirm, enter the trail name").fill(TRAIL);
  await page.locator("#confirm-delete").click();
  await page.getByRole("status").getByText(`Trail ${TRAIL} deleted`).waitFor();
  assert.deepEqual(boto3(cairn.endpoint, "trails").trailList, []);
  await page.goto(`${cairn.endpoint}/console/`);
  await snap("17-dashboard");
  noProblems();
});

test("on a phone the top bar wraps and tables scroll inside themselves", async () => {
  // console3 #8: at 375 px "Sign out" sat off-screen and the tables widened every page.
  const { page } = browser;
  await page.setViewportSize({ width: 375, height: 740 });
  try {
    for (const path of ["/console/", "/console/events", "/console/trails"]) {
      await page.goto(`${cairn.endpoint}${path}`);
      const box = await page.getByRole("button", { name: "Sign out" }).boundingBox();
      assert.ok(box && box.x + box.width <= 375, `${path}: Sign out at ${JSON.stringify(box)}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `${path} is ${width} px wide`);
    }
  } finally {
    await page.setViewportSize({ width: 1366, height: 900 });
  }
  noProblems();
});

test("switches and fields have their own accessible names; errors are announced", async () => {
  // console3 #7: four switches were all named "Enabled", and some fields had no name.
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails/create`);
  for (const name of ["Log file SSE-KMS encryption: enabled", "Log file validation: enabled",
    "SNS notification delivery: enabled", "CloudWatch Logs: enabled"]) {
    assert.equal(await page.getByRole("checkbox", { name }).count(), 1, name);
  }
  await page.getByLabel("Trail name").fill("ab");
  await page.getByRole("button", { name: "Next" }).click();
  await page.locator("#name-error[role=alert]").waitFor();
  // The error is the field's accessible description, so a screen reader reads it with the
  // field (console5).
  const name = page.getByRole("textbox", { name: "Trail name" });
  assert.equal(await name.getAttribute("aria-invalid"), "true");
  assert.match(await name.evaluate((e) => e.ariaDescribedByElements?.[0]?.textContent
    ?? document.getElementById(e.getAttribute("aria-describedby")).textContent), /InvalidTrailNameException|name/i);
  await page.goto(`${cairn.endpoint}/console/events`);
  assert.equal(await page.getByRole("combobox", { name: "Time range" }).count(), 1);
  assert.equal(await page.getByRole("searchbox", { name: "Search the records" }).count(), 1);
  noProblems();
});

test("the region picker moves with the arrow keys and switches on Enter", async () => {
  // console5: the first arrow key switched region (a keyboard "change" submitted the form),
  // so a keyboard user could not pick one. The events a browser sends are dispatched and
  // the form's submissions counted.
  const { page } = browser;
  await page.goto(`${cairn.endpoint}/console/trails`);
  const submits = await page.locator("#region-picker").evaluate((s) => {
    let n = 0;
    s.form.submit = () => { n += 1; };
    const key = (k) => s.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
    const change = () => s.dispatchEvent(new Event("change", { bubbles: true }));
    const counts = [];
    key("ArrowDown"); s.selectedIndex += 1; change(); counts.push(n);
    key("ArrowDown"); s.selectedIndex += 1; change(); counts.push(n);
    key("Enter"); counts.push(n);
    s.dispatchEvent(new MouseEvent("mousedown", { bubbles: true })); s.selectedIndex -= 1; change();
    counts.push(n);
    return counts;
  });
  assert.deepEqual(submits, [0, 0, 1, 2], "arrows move, Enter switches, a pointer choice switches");
  noProblems();
});

test("the Insights page lists Insights events with their statistics", async () => {
  const { page } = browser;
  const t0 = Math.floor(Date.now() / 1000);
  boto3(cairn.endpoint, "insights-burst", "insights-burst");
  const report = JSON.parse(
    execFileSync(cairnBinary(), ["insights", "run", "--now", String(t0 + 1800), "--data-dir", cairn.dir]).toString(),
  );
  assert.ok(report.Written >= 1, JSON.stringify(report));
  await page.goto(`${cairn.endpoint}/console/`);
  await page.getByRole("link", { name: "Insights", exact: true }).click();
  await page.getByRole("heading", { name: "Insights", exact: true }).waitFor();
  const row = page.locator("#insights-table tbody tr", { hasText: "AddTags" }).first();
  await row.waitFor();
  const cells = await row.locator("td").allInnerTexts();
  assert.equal(cells[0], "AddTags");
  assert.equal(cells[1], "cloudtrail.amazonaws.com");
  assert.equal(cells[2], "ApiCallRateInsight");
  assert.equal(cells[3], "Start");
  assert.ok(Number(cells[6]) > Number(cells[5]), `insight average above the baseline: ${cells}`);
  await snap("insights");
  noProblems();
});

test("sign out ends the session", async () => {
  const { page } = browser;
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You signed out.").waitFor();
  await page.goto(`${cairn.endpoint}/console/trails`);
  assert.match(page.url(), /\/console\/signin$/);
  noProblems();
});
