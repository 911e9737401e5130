// skein/node worker pool: real worker threads running exported functions of a module.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { all, cancel, fork, sleep, timeout } from "../../lib/index.js";
import { createPool, runInWorker } from "../../lib/node/index.js";
import { ioTest, real } from "../node-helpers.js";

const work = new URL("../fixtures/work.mjs", import.meta.url);

ioTest("a job runs on a thread and returns its value; many jobs share the threads", async () => {
  const s = real();
  const pool = createPool({ size: 2 });
  const got = await s.run(function* () {
    const one = yield* pool.run<number>(work, "add", 2, 3);
    const many = yield* all(Array.from({ length: 20 }, (_, i) => pool.run<string>(work, "later", `job ${i}`)));
    return { one, many: many.length, last: many[19] };
  });
  assert.equal(got, { one: 5, many: 20, last: "job 19" });
  await s.run(pool.close());
});

ioTest("a CPU job on the pool runs while a ticker keeps ticking on time", async () => {
  const s = real();
  const pool = createPool({ size: 1 });
  const gaps = await s.run(function* () {
    yield* pool.run(work, "add", 0, 0); // the thread is up
    const gaps: number[] = [];
    const ticker = yield* fork(function* () {
      let last = Date.now();
      for (;;) {
        yield* sleep(10);
        const now = Date.now();
        gaps.push(now - last);
        last = now;
      }
    });
    yield* pool.run(work, "spin", 400);
    yield* cancel(ticker);
    return gaps;
  });
  assert.ok(gaps.length >= 15, `the ticker ticked ${gaps.length} times in 400 ms`);
  assert.ok(Math.max(...gaps) < 150, `longest gap between ticks ${Math.max(...gaps)} ms`);
  await s.run(pool.close());
});

ioTest("a job that throws rejects with the same class and message, and a stack into the module", async () => {
  const s = real();
  const error = await s.run(function* () {
    try {
      yield* runInWorker(work, "fail", "no good");
    } catch (e) {
      return e as Error;
    }
  });
  assert.instance(error, RangeError);
  assert.is(error!.message, "no good");
  assert.match(error!.stack!, /fixtures\/work\.mjs/);
});

ioTest("a cancelled job terminates its thread; the pool carries on with a new one", async () => {
  const s = real();
  const pool = createPool({ size: 1 });
  const got = await s.run(function* () {
    let timedOut = false;
    try {
      yield* timeout(50, pool.run(work, "spin", 10_000));
    } catch {
      timedOut = true;
    }
    const running = pool.running;
    return { timedOut, running, next: yield* pool.run<number>(work, "add", 1, 1) };
  });
  assert.equal(got, { timedOut: true, running: 0, next: 2 });
  await s.run(pool.close());
});

ioTest("bad input: a relative module, a missing function, arguments that cannot be copied", async () => {
  const s = real();
  const pool = createPool({ size: 1 });
  const got = await s.run(function* () {
    assert.throws(() => pool.run("./work.js", "add"), (e: Error) => e instanceof TypeError && /absolute path or a URL/.test(e.message));
    assert.throws(() => createPool({ size: 0 }), RangeError);
    const messages: string[] = [];
    for (const [name, arg] of [["nope", 1], ["add", () => 1]] as const) {
      try {
        yield* pool.run(work, name, arg);
      } catch (e) {
        messages.push((e as Error).message);
      }
    }
    return messages;
  });
  assert.match(got[0]!, /has no exported function "nope"/);
  assert.match(got[1]!, /could not be cloned/);
  await s.run(pool.close());
});

test("idle threads of the shared pool do not keep a program alive", () => {
  const program = `
    import { run } from "./lib/index.ts";
    import { runInWorker } from "./lib/node/index.ts";
    const work = new URL("./spec/fixtures/work.mjs", import.meta.url);
    const sum = await run(runInWorker(work, "add", 20, 22));
    // A job whose arguments cannot be copied fails; its thread must not hold the program either.
    const failed = await run(runInWorker(work, "add", () => 1)).catch((e) => e.name);
    process.stdout.write(String(sum) + " " + failed);
  `;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], {
    cwd: new URL("../..", import.meta.url),
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.is(out.trim(), "42 DataCloneError");
});

test.run();
