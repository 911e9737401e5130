// Each demo's quick mode runs and the claims it prints hold, so a demo cannot rot.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { run } from "../lib/index.js";
import { demos } from "../demos/registry.js";
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
  assert.ok(c.limited! < (c.pages! * c.latency!) / 3, JSON.stringify(c)); // 10 in flight, not 1
  assert.match(out, /faster: the two waits overlap/);
  assert.match(out, /page 0 +░+✓/);
});

ioTest("blog-post: the three versions render the same page; the coroutine is the flattest and shortest", async () => {
  const { claims: c, out } = await quick("blog-post");
  assert.is(c.same, 1);
  assert.ok(c.skeinDepth! < c.promisesDepth! && c.promisesDepth! < c.callbacksDepth!, JSON.stringify(c));
  assert.ok(c.skeinChars! < c.callbacksChars!, JSON.stringify(c));
  assert.match(out, /<li><b>Grace<\/b>: No more callback pyramids.<\/li>/);
});

ioTest("sync-vs-async-server: the coroutine server serves many times what the blocking one can", async () => {
  const { claims: c } = await quick("sync-vs-async-server");
  assert.ok(c.blockingRps! <= 21, JSON.stringify(c)); // one 50 ms backend call at a time
  assert.ok(c.concurrentRps! > 5 * c.blockingRps!, JSON.stringify(c));
  assert.ok(c.concurrentP50! < c.blockingP50!, JSON.stringify(c));
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
