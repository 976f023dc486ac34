// Full page loads of the console's Event history in Chromium, against a running Cairn whose
// data dir was filled by `cairn bench populate`. Not a test: run by hand (BENCHMARKS.md).
//
//   CAIRN_ENDPOINT=http://127.0.0.1:4711 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… \
//     node bench.mjs [loads-per-filter]

import { openBrowser, signIn } from "./harness.js";

const endpoint = process.env.CAIRN_ENDPOINT;
const loads = Number(process.argv[2] ?? 20);
const filters = [
  ["unfiltered (read-only hidden)", ""],
  ["unfiltered, read-only shown", "readonly=show"],
  ["Event name", "attr=EventName&value=CreateTrail"],
  ["User name", "attr=Username&value=user-7"],
  ["User name + Event name", "attr=Username&value=user-7&attr=EventName&value=CreateTrail"],
];

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const browser = await openBrowser(endpoint);
await signIn(browser.page, endpoint, process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY);
console.log("| filter | TTFB p50 ms | TTFB p99 ms | load p50 ms | load p99 ms |");
console.log("|---|---|---|---|---|");
for (const [label, query] of filters) {
  const ttfb = [];
  const load = [];
  for (let i = 0; i < loads; i++) {
    await browser.page.goto(`${endpoint}/console/events?${query}`, { waitUntil: "load" });
    const nav = await browser.page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { ttfb: n.responseStart - n.requestStart, load: n.loadEventEnd - n.startTime };
    });
    ttfb.push(nav.ttfb);
    load.push(nav.load);
  }
  const f = (x) => x.toFixed(1);
  console.log(`| ${label} | ${f(pct(ttfb, 0.5))} | ${f(pct(ttfb, 0.99))} | ${f(pct(load, 0.5))} | ${f(pct(load, 0.99))} |`);
}
if (browser.problems.length) console.log("problems:", browser.problems);
await browser.close();
