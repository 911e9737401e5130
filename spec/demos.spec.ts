// Each demo's quick mode runs and the claims it prints hold, so a demo cannot rot.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { run, sleep } from "../lib/index.js";
import { serve } from "../lib/node/index.js";
import { demos } from "../demos/registry.js";
import { blockingServer } from "../demos/blocking-server.js";
import { load, report } from "../demos/sync-vs-async-server.js";
import { ioTest } from "./node-helpers.js";

async function quick(name: string): Promise<{ claims: Record<string, number>; out: string }> {
  const lines: string[] = [];
  const claims = await run(() => demos[name]!.main({ quick: true, log: (l) => lines.push(l) }));
  return { claims, out: lines.join("\n") };
}

ioTest("download-pages: both pages at once take about one latency, one after the other two", async () => {
  const { claims: c, out } = await quick("download-pages");
  assert.ok(c.sequential! >= 2 * c.latency!, JSON.stringify(c));
  assert.ok(c.concurrent! < 0.75 * c.sequential!, JSON.stringify(c)); // about 0.5 unless loaded
  assert.ok(c.limited! < (c.pages! * c.latency!) / 2, JSON.stringify(c)); // 10 in flight, not 1 (that would take pages × latency; about a tenth of it unless loaded)
  assert.match(out, /faster: the two waits overlap/);
  assert.match(out, /page 0 +░+✓/);
});

let blogPost: ReturnType<typeof quick> | undefined; // one run for both blog-post specs
ioTest("blog-post: the four versions render the same page; async/await and the coroutine are the flattest", async () => {
  const { claims: c, out } = await (blogPost ??= quick("blog-post"));
  assert.is(c.same, 1);
  assert.ok(c.skeinDepth! < c.promisesDepth! && c.promisesDepth! < c.callbacksDepth!, JSON.stringify(c));
  assert.is(c.asyncDepth, c.skeinDepth, JSON.stringify(c));
  assert.ok(c.skeinChars! < c.callbacksChars!, JSON.stringify(c));
  assert.match(out, /<li><b>Grace<\/b>: No more callback pyramids.<\/li>/);
  assert.match(out, /^async\/await +5 +\d+ +1 /m);
});

ioTest("blog-post: what coroutines add over async/await, each shown by a run", async () => {
  const { claims: c, out } = await (blogPost ??= quick("blog-post"));
  // A deadline: async/await leaves the handler running and renders for no one; timeout() aborts.
  assert.is(c.deadlineAsyncRendered, 1, JSON.stringify(c));
  assert.is(c.deadlineAsyncAnswered, 1, JSON.stringify(c));
  assert.is(c.deadlineSkeinRendered, 0, JSON.stringify(c));
  assert.is(c.deadlineSkeinLeft, 1, JSON.stringify(c));
  // A failing sibling: Promise.all leaves the other running, its error seen by no one; all() cancels it.
  assert.is(c.siblingAsyncAnswered, 1, JSON.stringify(c));
  assert.is(c.siblingSkeinLeft, 1, JSON.stringify(c));
  // A promise not awaited fails apart from its caller; a fork's failure reaches the caller.
  assert.is(c.forgottenAsyncGotPage, 1, JSON.stringify(c));
  assert.is(c.forgottenAsyncUnhandled, 1, JSON.stringify(c));
  assert.is(c.forgottenSkeinFailed, 1, JSON.stringify(c));
  assert.match(out, /skein, timeout\(\): TimeoutError at \d+ ms/);
  assert.match(out, /an unhandled rejection: 0 so far/);
});

ioTest("sync-vs-async-server: every request is counted; the thread pool serves at most threads × 20/s, the coroutine server more, sooner", async () => {
  const { claims: c, out } = await quick("sync-vs-async-server");
  assert.is(c.blockingCounted, c.blockingRequests, "every request is a reply, a timeout or a failure");
  assert.ok(c.blockingRps! <= c.threads! * 20 * 1.05, JSON.stringify(c)); // each thread: one 50 ms backend call at a time
  assert.ok(c.concurrentRps! > 1.5 * c.blockingRps!, JSON.stringify(c));
  assert.ok(c.concurrentP50! < c.blockingP50!, JSON.stringify(c));
  assert.is(c.concurrentServed, c.clients, JSON.stringify(c));
  assert.ok(c.blockingPeak! <= c.threads! && c.concurrentPeak! > c.threads!, JSON.stringify(c)); // really one request a thread
  assert.match(out, /blocking \(2 threads, one connection each at a time\): at most \d requests at the backend at once\n  \d+ requests: \d+ replies, \d+ timed out, \d+ failed; \d+ of 20 clients got a reply/);
  assert.match(out, /p50 \d+ ms.*p90 .*p99 .*max /);
  assert.match(out, / +timed out │/);
});

ioTest("sync-vs-async-server: a request that times out is counted, at its timeout, and reported as such", async () => {
  const out = await run(function* () {
    const backend = yield* serve({ port: 0 }, function* (_req, res) {
      yield* sleep(50);
      yield* res.end("ok");
    });
    const server = yield* blockingServer(`http://127.0.0.1:${backend.port}`, 1);
    return yield* load(`http://127.0.0.1:${server.port}`, 8, 0.3, 120); // 8 clients, one thread: most wait too long
  });
  assert.ok(out.timedOut > 0, JSON.stringify(out));
  assert.is(out.samples.length, out.replies + out.timedOut + out.failed);
  assert.ok(out.samples.filter((s) => s.outcome === "timed out").every((s) => s.ms === 120));
  const lines = report(out, 8, 120).join("\n");
  assert.match(lines, new RegExp(`${out.timedOut} timed out`));
  assert.match(lines, new RegExp(`timed out │█* +${out.timedOut} `));
  // A percentile that falls on a timeout says so (a reply may still land a little past 120 ms).
  const made = report({ samples: [{ ms: 50, outcome: "reply" }, { ms: 120, outcome: "timed out" }, { ms: 120, outcome: "timed out" }], replies: 1, timedOut: 2, failed: 0, served: 1, seconds: 1 }, 1, 120).join("\n");
  assert.match(made, /p50 120 ms \(timed out\) +p90 120 ms \(timed out\) +p99 120 ms \(timed out\) +max 120 ms \(timed out\)/);
  assert.match(made, /0–50 ms │ +0 +0%\n +50–100 ms │█{13} +1 +33%\n +≥ 100 ms │ +0 +0%\n +timed out │█{27} +2 +67%/);
});

ioTest("job-queue: every job is done or poisoned, each crash replaced, and producers felt backpressure", async () => {
  const { claims: c, out } = await quick("job-queue");
  assert.is(c.crashes, c.poisoned);
  assert.is(c.done! + c.crashes!, c.total);
  assert.ok(c.blockedSends! > 0 && c.maxDepth! >= 15, JSON.stringify(c));
  assert.match(out, /crashed: poisoned job #97; replaced/);
});

ioTest("processes: every ping gets its pong and the token goes around the ring", async () => {
  const { claims: c } = await quick("processes");
  assert.is(c.pings, 20_000); // the last pong answered the last ping
  assert.is(c.size, 10_000);
  assert.is(c.hops, 100_000); // the token came back only after every hop
});

ioTest("cpu-offload: inline the ticker stalls; with the job on the pool it keeps time", async () => {
  const { claims: c } = await quick("cpu-offload");
  assert.ok(c.inlineGap! > 5 * c.every!, JSON.stringify(c));
  assert.ok(c.poolGap! < c.inlineGap! / 2, JSON.stringify(c));
});

ioTest("million: 100,000 sleeping coroutines in the quick mode, a few hundred bytes each, all woken", async () => {
  const { claims: c } = await quick("million");
  assert.is(c.woke, c.count);
  assert.is(c.asleepAtMeasure, c.count, "all were asleep at once when the heap was measured");
  assert.ok(c.perCoroutine! > 50 && c.perCoroutine! < 600, JSON.stringify(c));
});

ioTest("distributed: a producer and three worker processes on Redis, one killed: every job done or dead-lettered, none lost", async () => {
  const { claims: c, out } = await quick("distributed");
  assert.is(c.lost, 0);
  assert.is(c.killed, 1);
  assert.is(c.dead, 2); // jobs 499 and 999 always fail
  assert.is(c.done! + c.dead!, c.total);
  assert.ok(c.retried! >= 8, JSON.stringify(c)); // every 100th fails once (one of them, 500, never lands on a 499)
  assert.match(out, /SIGKILL to worker 1/);
  assert.match(out, /lost: 0/);
});

ioTest("crawler: limits, timeouts and retries hold; every reachable page is crawled or given up", async () => {
  const { claims: c } = await quick("crawler");
  assert.ok(c.peak! <= c.concurrency!, JSON.stringify(c));
  assert.ok(c.retried! > 0 && c.timedOut! > 0 && c.failed! > 0, JSON.stringify(c));
  assert.ok(c.ok! + c.failed! >= 50, JSON.stringify(c));
});

ioTest("crawler: cancelled half-way, it reports the interruption and leaves nothing open (checked after)", async () => {
  const lines: string[] = [];
  const task = run(() => demos.crawler!.main({ quick: true, log: (l) => lines.push(l) }));
  await new Promise((r) => setTimeout(r, 300));
  await task.cancel();
  assert.is(task.state, "cancelled");
  assert.match(lines.join("\n"), /Interrupted: every request in flight was aborted/);
});

ioTest("job-queue: cancelled half-way, it stops: no worker is restarted on a cancellation", async () => {
  const lines: string[] = [];
  const task = run(() => demos["job-queue"]!.main({ quick: true, log: (l) => lines.push(l) }));
  await new Promise((r) => setTimeout(r, 100));
  await task.cancel();
  assert.is(task.state, "cancelled");
  assert.not.match(lines.join("\n"), /cancelled; replaced/);
});

test("npm run demo -- --list lists the nine demos, one line each", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "demos/index.ts", "--list"], {
    cwd: new URL("..", import.meta.url),
    encoding: "utf8",
  });
  const names = out.trim().split("\n").map((l) => l.split(/\s+/)[0]);
  assert.equal(names, ["download-pages", "blog-post", "sync-vs-async-server", "job-queue", "processes", "cpu-offload", "million", "crawler", "distributed"]);
});

test("npm run demo -- --help prints the usage; an unknown demo or option is an error that shows it", () => {
  const demo = (...args: string[]) => {
    try {
      return { code: 0, out: execFileSync(process.execPath, ["--import", "tsx", "demos/index.ts", ...args], { cwd: new URL("..", import.meta.url), encoding: "utf8", stdio: "pipe" }) };
    } catch (e) {
      return { code: (e as { status: number }).status, out: String((e as { stderr: string }).stderr) };
    }
  };
  assert.match(demo("--help").out, /^usage: npm run demo -- \[NAME\] \[options\]/);
  const unknown = demo("no-such-demo");
  assert.is(unknown.code, 2);
  assert.match(unknown.out, /no demo named "no-such-demo"[\s\S]*usage:/);
  const bad = demo("--trace");
  assert.is(bad.code, 2);
  assert.match(bad.out, /--trace[\s\S]*usage:/);
});

test("a demo run with --trace writes a trace of its tasks that Perfetto opens (Trace Event JSON)", () => {
  const file = `${tmpdir()}/skein-demo-trace-${process.pid}.json`;
  try {
    execFileSync(process.execPath, ["--import", "tsx", "demos/index.ts", "download-pages", "--quick", "--trace", file], {
      cwd: new URL("..", import.meta.url),
      stdio: "pipe",
      timeout: 60_000,
    });
    const trace = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: Array<{ ph: string; name: string; tid: number; ts: number; dur?: number }> };
    const events = trace.traceEvents;
    assert.ok(events.length > 50);
    assert.ok(events.every((e) => ["X", "i", "M"].includes(e.ph) && typeof e.name === "string" && Number.isInteger(e.ts)));
    assert.ok(events.some((e) => e.ph === "M" && e.name === "thread_name"));
    assert.ok(events.some((e) => e.ph === "X" && /^waiting on /.test(e.name) && e.dur! > 0));
  } finally {
    rmSync(file, { force: true });
  }
});

test.run();
