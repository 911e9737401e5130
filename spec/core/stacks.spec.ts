// Errors say where they came from: an error that leaves a coroutine gets, once, its calls, its
// task and the tasks above it, and the effect it failed in; call sites in debug mode. A Cancelled
// says why; a TimeoutError says which timeout and what it cut short.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  call, cancel, Cancelled, createScheduler, race, fork, isCancelled, run, sleep, spawn, suspend, timeout, TimeoutError,
  type Operation,
} from "../../lib/index.js";
import { debugging } from "../../lib/core/stacks.js";
import { outcome, virtual } from "../helpers.js";

const S = suite("logical stack traces");

function* level3(): Operation<void> {
  yield* sleep(5);
  throw new Error("level3 failed");
}
function* level2(): Operation<void> {
  yield* call(level3);
}
function* level1(): Operation<void> {
  yield* call(level2);
}
function* app(): Operation<void> {
  yield* fork(function* pool() {
    yield* fork(level1, { name: "worker-A" });
    yield* sleep(100);
  });
}

S("an error 3 calls deep in a task forked 2 levels below the root shows its calls and its tasks, once", async () => {
  const o = await outcome(virtual().run(app));
  const stack = ((o as { error: Error }).error.stack ?? "").split("\n");
  assert.equal(stack[0], "Error: level3 failed");
  assert.match(stack[1]!, /^ {4}at level3 \(.*stacks\.spec\.ts:\d+:\d+\)$/);
  assert.equal(stack.slice(2), [
    "    at skein: in call level3",
    "    at skein: in call level2",
    "    at skein: in task #3 worker-A, forked by #2 pool",
    "    at skein: in task #2 pool, forked by #1 app",
    "    at skein: in task #1 app, a root task",
  ]);
  assert.not.ok(stack.some((l) => /Scheduler\.|\.next \(<anonymous>\)/.test(l)), "no run-loop frames");
});

S("a task whose body is a plain function that throws at once gets its logical stack too, without the run loop's frames", async () => {
  // A function that checks its input before it makes the operation it returns.
  function parse(text: string): Operation<number> {
    throw new Error(`not a number: ${text}`);
  }
  const o = await outcome(
    virtual().run(function* importer() {
      yield* fork(() => parse("x"), { name: "parser" });
      yield* suspend();
    }),
  );
  const stack = ((o as { error: Error }).error.stack ?? "").split("\n");
  assert.equal(stack[0], "Error: not a number: x");
  assert.match(stack[1]!, /^ {4}at parse \(.*stacks\.spec\.ts:\d+:\d+\)$/);
  assert.equal(stack.slice(-2), ["    at skein: in task #2 parser, forked by #1 importer", "    at skein: in task #1 importer, a root task"]);
  assert.not.ok(stack.some((l) => /Scheduler\./.test(l)), stack.join("\n"));
});

S("the effect an error came from is named: a rejected promise, a failing handler", async () => {
  const s = virtual();
  const o = await outcome(
    s.run(function* query() {
      yield* call(() => Promise.reject(new Error("db down")));
    }),
  );
  const stack = (o as { error: Error }).error.stack!;
  assert.match(stack, /\n {4}at skein: performing call\(anonymous\)\n {4}at skein: in task #1 query, a root task$/);
});

S("debug mode adds where each call was made and each task started", async () => {
  const before = debugging.sites;
  try {
    const s = createScheduler({ clock: "virtual", debug: true, onError: () => {} });
    const o = await outcome(s.run(app));
    const stack = (o as { error: Error }).error.stack!;
    assert.match(stack, /at skein: in call level2 \(.*stacks\.spec\.ts:\d+:\d+\)/);
    assert.match(stack, /at skein: in task #3 worker-A, forked by #2 pool \(.*stacks\.spec\.ts:\d+:\d+\)/);
    assert.match(stack, /at skein: in task #1 app, a root task \(.*stacks\.spec\.ts:\d+:\d+\)/);
  } finally {
    debugging.sites = before;
  }
});

S("a value that is not an Error, or a frozen error, passes through untouched", async () => {
  const frozen = Object.freeze(new Error("frozen"));
  for (const thrown of [42, "text", frozen]) {
    const o = await outcome(
      virtual().run(function* () {
        yield* sleep(1);
        throw thrown;
      }),
    );
    assert.is((o as { error: unknown }).error, thrown);
  }
});

S("a timeout's TimeoutError has no frames of skein's timer: its message, then its path", async () => {
  const o = await outcome(
    virtual().run(function* fetchAll() {
      yield* call(function* fetchOne() {
        yield* timeout(5, suspend());
      });
    }),
  );
  const e = (o as { error: TimeoutError }).error;
  assert.instance(e, TimeoutError);
  assert.equal(e.stack!.split("\n"), [
    "TimeoutError: timeout(5) cut short suspend() after 5 ms",
    "    at skein: in call timeout",
    "    at skein: in call fetchOne",
    "    at skein: in task #1 fetchAll, a root task",
  ]);
  // One made by code of yours has its frames, as any error has.
  assert.match(new TimeoutError(5).stack!, /\n {4}at /);
});

S.run();

const C = suite("Cancelled says why");

const why = (e: unknown) => [(e as Error).message, (e as Error & { cause?: unknown }).cause];

C("a sibling's failure: the message names it, the cause is its error", async () => {
  const err = new Error("audit failed");
  let seen: unknown;
  await outcome(
    virtual().run(function* () {
      yield* fork(function* dbQuery() {
        try {
          yield* suspend();
        } catch (e) {
          seen = e;
          throw e;
        }
      });
      yield* fork(function* audit() {
        yield* sleep(5);
        throw err;
      });
    }),
  );
  assert.instance(seen, Cancelled);
  assert.equal(why(seen), ["task #2 dbQuery was cancelled: task #3 audit failed", err]);
});

C("a timeout: the cause is the very TimeoutError its caller gets, which names what it cut short", async () => {
  let seen: unknown;
  let caught: unknown;
  await virtual().run(function* () {
    try {
      yield* timeout(60, function* fetchPage() {
        try {
          yield* suspend();
        } catch (e) {
          seen = e;
          throw e;
        }
      });
    } catch (e) {
      caught = e;
    }
  });
  assert.instance(caught, TimeoutError);
  assert.is((caught as Error).message, "timeout(60) cut short fetchPage after 60 ms");
  assert.is((caught as TimeoutError).operation, "fetchPage");
  assert.equal(why(seen), ["task #1 anonymous was cancelled: timeout(60) fired", caught]);
  const r = await outcome(virtual().run(timeout(5, sleep(10))));
  assert.is(((r as { error: Error }).error).message, "timeout(5) cut short sleep(10) after 5 ms");
});

C("who cancelled it, a scope that ended, task.cancel(reason): each is said; joining says it too", async () => {
  const got: unknown[] = [];
  const s = virtual();
  await s.run(function* main() {
    const victim = yield* fork(function* victim() {
      yield* suspend();
    });
    yield* sleep(1);
    yield* cancel(victim);
    try {
      yield* victim;
    } catch (e) {
      got.push((e as Error).message);
    }
    yield* call(function* scope() {
      yield* spawn(function* helper() {
        try {
          yield* suspend();
        } catch (e) {
          got.push((e as Error).message);
          throw e;
        }
      });
      yield* sleep(1);
    });
  });
  const t = s.run(function* background() {
    yield* suspend();
  });
  await new Promise((r) => setImmediate(r));
  await t.cancel("SIGINT was received");
  const joined = await t.then(
    () => "completed",
    (e: unknown) => (isCancelled(e) ? (e as Error).message : "other"),
  );
  assert.equal(got, [
    "task #2 victim was cancelled: task #1 main cancelled task #2 victim",
    "task #3 helper was cancelled: its scope in task #1 main ended (a spawned task stops then)",
  ]);
  assert.is(joined, "task #4 background was cancelled: SIGINT was received");
});

C("a race's loser: its Cancelled says the race was decided, and who won", async () => {
  const s = virtual();
  let got: unknown;
  await s.run(function* app() {
    yield* race([sleep(5), function* slow() {
      try {
        yield* sleep(100);
      } catch (e) {
        got = e;
        throw e;
      }
    }]);
  });
  assert.match((got as Error).message, /^task #3 slow was cancelled: the race in task #1 app was decided: task #2 race\[0\] won$/);
});

C.run();

const R = suite("errors routed");

R("the default scheduler's onError can be set, and reports say what failed", async () => {
  const { defaultScheduler } = await import("../../lib/index.js");
  const s = defaultScheduler();
  const previous = s.onError;
  const seen: string[] = [];
  s.onError = (error, task, what) => seen.push(`${what} | ${task.name} | ${(error as Error).message}`);
  try {
    await run(function* main() {
      yield* fork(function* first() {
        yield* sleep(1);
        throw new Error("first");
      });
      yield* fork(function* second() {
        try {
          yield* suspend();
        } finally {
          throw new Error("second"); // while the scope fails already
        }
      });
    }).catch(() => {});
  } finally {
    s.onError = previous;
  }
  assert.is(seen.length, 1);
  assert.match(seen[0]!, /^task #\d+ second failed while its scope \(in task #\d+ main\) was failing already with another error \| second \| second$/);
  assert.throws(() => (s.onError = 42 as never), TypeError);
});

R.run();

const Odd = suite("odd things thrown");

Odd("an error whose stack getter throws, a Proxy that throws on every trap or a revoked one: the task fails with it, the scheduler goes on", async () => {
  const things: [string, () => unknown][] = [
    ["getter", () => {
      const e = new Error("getter");
      Object.defineProperty(e, "stack", { get() { throw new Error("no stack for you"); }, configurable: true });
      return e;
    }],
    ["proxy", () => new Proxy({}, { get() { throw new Error("get"); }, has() { throw new Error("has"); }, getPrototypeOf() { throw new Error("proto"); } })],
    ["revoked", () => {
      const p = Proxy.revocable({}, {});
      p.revoke();
      return p.proxy;
    }],
  ];
  for (const [label, make] of things) {
    const s = virtual();
    const thrown = make();
    const t = s.run(function* app() {
      yield* fork(function* child() {
        yield* sleep(1);
        throw thrown;
      });
    });
    let caught: unknown = "nothing";
    await new Promise<void>((r) => t.then(() => r(), (e) => ((caught = [e]), r())));
    assert.is(t.state, "failed", label);
    assert.ok((caught as unknown[])[0] === thrown, label);
    assert.is(await s.run(function* () {
      yield* sleep(1);
      return "still running";
    }), "still running", label);
  }
});

Odd("with Error.stackTraceLimit read-only (a frozen Error, node --frozen-intrinsics) or refused by an accessor, a cancel and a timeout work as ever", async () => {
  // skein sets the limit to 0 to make a Cancelled, or a timeout's TimeoutError, without frames:
  // where it cannot be set, every cancel failed with a TypeError. Now those errors take frames.
  const before = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")!;
  const kinds: [string, PropertyDescriptor][] = [
    ["read-only", { value: 10, writable: false, configurable: true }],
    ["a getter that throws", { get: () => { throw new Error("no limit for you"); }, set: () => {}, configurable: true }],
  ];
  for (const [kind, limit] of kinds) {
    Object.defineProperty(Error, "stackTraceLimit", limit);
    const set = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
    try {
      const log: string[] = [];
      await virtual().run(function* () {
        const t = yield* spawn(function* victim() {
          try {
            yield* suspend();
          } catch (e) {
            log.push(`victim: ${isCancelled(e) ? "cancelled" : String(e)}`);
            throw e;
          }
        });
        yield* sleep(1);
        yield* cancel(t);
        try {
          yield* timeout(5, suspend());
        } catch (e) {
          log.push(String(e));
        }
      });
      assert.equal(log, ["victim: cancelled", "TimeoutError: timeout(5) cut short suspend() after 5 ms"], kind);
      assert.equal(Object.getOwnPropertyDescriptor(Error, "stackTraceLimit"), set, kind);
    } finally {
      Object.defineProperty(Error, "stackTraceLimit", before);
    }
  }
});

Odd("a Cancelled whose message cannot be made leaves Error.stackTraceLimit as it was", () => {
  const limit = (Error as { stackTraceLimit?: number }).stackTraceLimit;
  const bad = { toString: () => { throw new Error("no message"); } } as unknown as string;
  assert.throws(() => new Cancelled(bad), /no message/);
  assert.is((Error as { stackTraceLimit?: number }).stackTraceLimit, limit);
});

Odd.run();
