// A second copy of skein in the process (a bundled copy next to an installed one, two versions):
// its effects and tasks fail clearly here instead of hanging or giving wrong values, and its
// errors are recognised. The second copy is a real one: lib/ copied to a scratch directory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as skein from "../../lib/index.js";
import { VERSION } from "../../lib/core/brand.js";
import { outcome, virtual } from "../helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "skein-copy-"));
cpSync(new URL("../../lib", import.meta.url), join(scratch, "lib"), { recursive: true });
const other = (await import(pathToFileURL(join(scratch, "lib", "index.ts")).href)) as typeof skein;
rmSync(scratch, { recursive: true, force: true });

/** The error a task of this copy ended with. */
async function failure(body: skein.OperationLike<unknown>): Promise<unknown> {
  const s = virtual();
  const o = await outcome(s.run(body));
  assert.is(o.state, "failed");
  return (o as { error: unknown }).error;
}

test("the copy is a real second copy", () => {
  assert.is.not(other.Task, skein.Task);
  assert.is.not(other.Effect, skein.Effect);
});

test("yield* another copy's effect fails with a TypeError naming the cause, instead of looping for ever", async () => {
  const e = await failure(function* main() {
    yield* other.sleep(5);
  });
  assert.instance(e, TypeError);
  assert.match((e as Error).message, /task #1 main yielded the effect sleep\(5\) of another copy of skein \(0\.1\.0; this one is 0\.1\.0\)/);
  assert.match((e as Error).message, /npm ls skein/);
});

test("a coroutine can catch that TypeError at its yield, and go on", async () => {
  const s = virtual();
  const v = await s.run(function* () {
    try {
      yield* other.channel<number>().receive();
    } catch (e) {
      assert.instance(e, TypeError);
      assert.match((e as Error).message, /the effect receive\(channel#\d+\) of another copy/);
    }
    yield* skein.sleep(1);
    return "went on";
  });
  assert.is(v, "went on");
});

test("joining another copy's task fails clearly instead of returning undefined", async () => {
  const foreignTask = other.createScheduler({ clock: "virtual" }).run(function* () {
    return 42;
  });
  await foreignTask;
  for (const body of [
    function* () { return yield* foreignTask; },
    function* () { return (yield foreignTask) as unknown; },
  ]) {
    const e = await failure(body);
    assert.instance(e, TypeError);
    assert.match((e as Error).message, /of another copy of skein/);
  }
});

test("run, fork and tell refuse another copy's effect or task at the call site", async () => {
  assert.throws(() => skein.run(other.sleep(5)), /^run\(\) got the effect sleep\(5\) of another copy of skein/);
  const foreignTask = other.createScheduler({ clock: "virtual" }).run(function* () {});
  await foreignTask;
  const e = await failure(function* () {
    skein.tell(foreignTask as never, "hi");
    yield* skein.sleep(1);
  });
  assert.match((e as Error).message, /tell\(\) expects a task to send to, got the task #1 .* of another copy of skein/);
});

test("another copy's errors are recognised: isCancelled, instanceof TimeoutError and the rest", async () => {
  const s = other.createScheduler({ clock: "virtual" });
  let timedOut: unknown;
  let cancelled: unknown;
  await s.run(function* () {
    try {
      yield* other.timeout(5, other.sleep(10));
    } catch (e) {
      timedOut = e;
    }
  });
  const t = s.run(function* () {
    yield* other.sleep(10);
  });
  await t.cancel();
  await t.catch((e) => (cancelled = e));
  assert.ok(timedOut instanceof skein.TimeoutError);
  assert.ok(skein.isCancelled(cancelled));
  assert.ok(cancelled instanceof skein.Cancelled);
  assert.ok(new other.DeadlockError("r") instanceof skein.DeadlockError);
  assert.ok(new other.ChannelClosedError("c") instanceof skein.ChannelClosedError);
  assert.not.ok(timedOut instanceof skein.Cancelled);
  assert.not.ok(skein.isCancelled(new Error("x")));
  assert.not.ok((null as unknown) instanceof skein.Cancelled);
});

test("a subclass of a skein error keeps the ordinary instanceof", () => {
  class Slow extends skein.TimeoutError {}
  assert.ok(new Slow(5) instanceof skein.TimeoutError);
  assert.ok(new Slow(5) instanceof Slow);
  assert.not.ok(new skein.TimeoutError(5) instanceof Slow);
});

test("the version named in those errors is package.json's", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  assert.is(VERSION, pkg.version);
});

test("a task of the other copy woken inside a step of this one runs after that step, not nested in it", async () => {
  const log: string[] = [];
  let wake: ((v: unknown) => void) | undefined;
  // Calls back when told to, synchronously: here from inside a body of this copy.
  const thenable = { then: (ok: (v: unknown) => void) => void (wake = ok) } as unknown as PromiseLike<number>;
  const b = other.createScheduler().run(function* () {
    log.push(`b woken with ${String(yield* other.wait(thenable))}`);
  });
  while (wake === undefined) await new Promise((r) => setImmediate(r));
  await skein.createScheduler().run(function* () {
    log.push("a before");
    wake!(1);
    log.push("a after");
  });
  await b;
  assert.equal(log, ["a before", "a after", "b woken with 1"]);
});

test("skein loads and awaits where the global object takes no new property (frozen by hardened JavaScript)", () => {
  // Its own process: a global object made non-extensible stays so.
  const program = `
    Object.freeze(globalThis);
    const { call, createScheduler } = await import("./lib/index.ts");
    process.stdout.write(String(await createScheduler().run(call(async (x) => x + 1, 41))));
  `;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], {
    cwd: new URL("../..", import.meta.url),
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.is(out, "42");
});

test.run();
