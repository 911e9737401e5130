// The Task API: identity, state, awaiting, cancelling from outside, and failures that never vanish.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Cancelled, fork, join, run, shield, sleep, suspend, Task } from "../../lib/index.js";
import { hostTurn, outcome, virtual } from "../helpers.js";

const T = suite("Task");

T("task.cancel() is also an operation: yield* it inside a coroutine to cancel and wait", async () => {
  const s = virtual();
  const log: string[] = [];
  const value = await s.run(function* () {
    const child = yield* fork(function* () {
      try {
        yield* suspend();
      } finally {
        yield* shield(sleep(5)); // an asynchronous cleanup, waited for
        log.push("child cleaned up");
      }
    });
    yield* sleep(1);
    yield* child.cancel();
    log.push("cancel returned");
    yield* child.cancel(); // a finished task: nothing to do
    return [child.state, s.now()];
  });
  assert.equal(value, ["cancelled", 6]);
  assert.equal(log, ["child cleaned up", "cancel returned"]);
});

T("has an id, a name and a state through its lifecycle", async () => {
  const s = virtual();
  const t = s.run(function* main() {
    yield* sleep(10);
    return 1;
  });
  assert.instance(t, Task);
  assert.is(t.name, "main");
  assert.is(typeof t.id, "number");
  assert.is(t.state, "running");
  assert.is(String(t), `#${t.id} main`);
  await t;
  assert.is(t.state, "completed");
  const named = s.run(function* () {}, { name: "given" });
  assert.is(named.name, "given");
  assert.ok(named.id > t.id, "ids grow in creation order");
});

T("await resolves with the value, rejects with the error, or with Cancelled", async () => {
  const s = virtual();
  assert.is(await s.run(function* () { return "v"; }), "v");
  const err = new Error("e");
  try {
    await s.run(function* () {
      throw err;
    });
    assert.unreachable();
  } catch (e) {
    assert.is(e, err);
  }
  const c = s.run(function* () {
    yield* suspend();
  });
  await hostTurn();
  void c.cancel();
  try {
    await c;
    assert.unreachable();
  } catch (e) {
    assert.instance(e, Cancelled);
  }
});

T("catch and finally work as on a promise, and a task can stand where a Promise is expected", async () => {
  const s = virtual();
  const err = new Error("x");
  const failed: Promise<never> = s.run(function* (): Generator<never, never> {
    throw err;
  });
  assert.is(await failed.catch((e) => e), err);
  let finallyRan = false;
  assert.is(await s.run(function* () { return 3; }).finally(() => (finallyRan = true)), 3);
  assert.ok(finallyRan);
  assert.is(Object.prototype.toString.call(failed), "[object Task]");
});

T("then() called many times, before and after the end, sees the same outcome", async () => {
  const s = virtual();
  const t = s.run(function* () {
    yield* sleep(1);
    return 7;
  });
  const early = [t.then((v) => v + 1), t.then((v) => v + 2)];
  await t;
  const late = await t.then((v) => v * 2);
  assert.equal(await Promise.all(early), [8, 9]);
  assert.is(late, 14);
});

T("a failed child awaited after the end rejects with its error", async () => {
  const err = new Error("child");
  const s = virtual();
  let child!: Task<void>;
  const o = await outcome(
    s.run(function* () {
      child = yield* fork(function* () {
        throw err;
      });
    }),
  );
  assert.equal(o, { state: "failed", error: err });
  assert.equal(await outcome(child), { state: "failed", error: err });
});

T("a task is an operation: another scheduler's coroutine can join it", async () => {
  const a = virtual();
  const b = virtual();
  const t = a.run(function* () {
    yield* sleep(5);
    return "from a";
  });
  const v = await b.run(function* () {
    return yield* join(t);
  });
  assert.is(v, "from a");
});

T.run();

const Unhandled = suite("failures that nobody awaits");

async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on("unhandledRejection", listener);
  try {
    await body();
    await hostTurn();
    await hostTurn();
  } finally {
    process.off("unhandledRejection", listener);
  }
  return seen;
}

Unhandled("a failed root that nobody awaits produces exactly one unhandledRejection", async () => {
  const err = new Error("nobody listens");
  const seen = await unhandledDuring(async () => {
    const s = virtual();
    s.run(function* () {
      yield* fork(function* () {
        throw err;
      });
      yield* sleep(10);
    });
    await hostTurn();
  });
  assert.equal(seen, [err]);
});

Unhandled("a cancelled root produces none", async () => {
  const seen = await unhandledDuring(async () => {
    const s = virtual();
    const t = s.run(function* () {
      yield* suspend();
    });
    await hostTurn();
    await t.cancel();
  });
  assert.equal(seen, []);
});

Unhandled("two failing children produce no unhandled rejection when the root is awaited", async () => {
  const seen = await unhandledDuring(async () => {
    const s = virtual();
    const o = await outcome(
      s.run(function* () {
        yield* fork(function* () {
          yield* sleep(1);
          throw new Error("one");
        });
        yield* fork(function* () {
          try {
            yield* suspend();
          } finally {
            throw new Error("two");
          }
        });
      }),
    );
    assert.is(o.state, "failed");
    assert.is(s.reported.length, 1);
  });
  assert.equal(seen, []);
});

Unhandled("a failure observed by a joiner is not reported as unhandled", async () => {
  const err = new Error("joined");
  const seen = await unhandledDuring(async () => {
    const a = virtual();
    const b = virtual();
    const failing = a.run(function* () {
      yield* sleep(1);
      throw err;
    });
    const joiner = await outcome(
      b.run(function* () {
        try {
          yield* join(failing);
        } catch (e) {
          return e;
        }
      }),
    );
    assert.equal(joiner, { state: "completed", value: err });
  });
  assert.equal(seen, []);
});

Unhandled("the module-level run uses a real clock", async () => {
  const t0 = performance.now();
  const v = await run(function* () {
    yield* sleep(15);
    return "real";
  });
  assert.is(v, "real");
  assert.ok(performance.now() - t0 >= 14);
});

Unhandled.run();
