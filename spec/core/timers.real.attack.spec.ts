// Attack: the real clock after the run/heap change.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cancel, createScheduler, fork, sleep, spawn } from "../../lib/index.js";

const lib = new URL("../../lib/index.ts", import.meta.url).pathname;

function script(body: string): { status: number | null; ms: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "rvc-"));
  const file = join(dir, "s.mts");
  writeFileSync(file, `import { createScheduler, fork, spawn, sleep, cancel, DeadlockError } from ${JSON.stringify(lib)};\n${body}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, ms: Date.now() - t0, out: r.stdout + r.stderr };
}

test("sleep(5) lasts about as long as setTimeout(5)", async () => {
  const s = createScheduler();
  const sk: number[] = [];
  const nat: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await s.run(function* () {
      yield* sleep(5);
    });
    sk.push(performance.now() - t0);
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, 5));
    nat.push(performance.now() - t1);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  assert.ok(med(sk) >= 4.5, `sleep(5) took ${med(sk)}`);
  assert.ok(med(sk) < med(nat) * 3 + 10, `sleep(5) ${med(sk)} vs setTimeout(5) ${med(nat)}`);
});

test("two real schedulers' timers, in order and out, interleave by time", async () => {
  const a = createScheduler();
  const b = createScheduler();
  const log: string[] = [];
  const go = (s: typeof a, name: string, ds: number[]) =>
    s.run(function* () {
      for (const d of ds) yield* fork(function* () {
        yield* sleep(d);
        log.push(`${name}${d}`);
      });
    });
  await Promise.all([go(a, "a", [40, 80, 120, 20]), go(b, "b", [60, 100, 10, 140])]);
  assert.equal(log, ["b10", "a20", "a40", "b60", "a80", "b100", "a120", "b140"]);
});

test("a scheduler whose sleepers (run and heap) all got cancelled lets the process exit", () => {
  const r = script(`
const s = createScheduler();
s.run(function* () {
  const ts = [];
  for (let i = 0; i < 1000; i++) ts.push(yield* spawn(function* () { yield* sleep(1e7 + (i % 3 === 0 ? -i : i)); }));
  yield* sleep(1);
  for (const t of ts.reverse()) yield* cancel(t);
  console.log("cancelled");
}).then(() => console.log("done"));
`);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /cancelled\ndone/);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
});

test("real clock: the only sleeper cancelled, the canceller blocked forever: a deadlock report, exit", () => {
  const r = script(`
const s = createScheduler();
s.run(function* () {
  const t = yield* fork(function* () { yield* sleep(1e7); });
  yield* sleep(1);
  yield* cancel(t);
  yield* sleep(Infinity);
}).then(() => console.log("returned"), (e) => console.log("failed " + (e instanceof DeadlockError)));
`);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /failed true/);
});

test.run();
