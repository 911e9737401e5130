// The primitives, one by one: what each returns, how it suspends, and how it rejects bad input.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  action, call, cancel, Cancelled, cooperate, createScheduler, describeTasks, ensure, fork, isCancelled, join, self, shield, sleep, spawn, suspend, wait,
  type Operation, type Task,
} from "../../lib/index.js";
import { framesAboveLoop, outcome, runVirtual, virtual } from "../helpers.js";

const Sleep = suite("sleep");

Sleep("an hour of sleep takes no time on the virtual clock and advances it by an hour", async () => {
  const t0 = performance.now();
  const { now } = await runVirtual(function* () {
    yield* sleep(60 * 60 * 1000);
  });
  assert.is(now, 3_600_000);
  assert.ok(performance.now() - t0 < 1000);
});

Sleep("sleepers wake in deadline order, equal deadlines in the order they went to sleep", async () => {
  const order: string[] = [];
  await runVirtual(function* () {
    const nap = (name: string, ms: number) =>
      function* () {
        yield* sleep(ms);
        order.push(name);
      };
    yield* fork(nap("c", 30));
    yield* fork(nap("a1", 10));
    yield* fork(nap("b", 20));
    yield* fork(nap("a2", 10));
  });
  assert.equal(order, ["a1", "a2", "b", "c"]);
});

Sleep("sleep(0) lets every other ready task run first", async () => {
  const order: string[] = [];
  await runVirtual(function* () {
    yield* fork(function* () {
      order.push("child");
    });
    yield* sleep(0);
    order.push("parent");
  });
  assert.equal(order, ["child", "parent"]);
});

Sleep("sleep(Infinity) waits until cancelled", async () => {
  const { value } = await runVirtual(function* () {
    const t = yield* fork(function* () {
      yield* sleep(Infinity);
    });
    yield* sleep(1000);
    yield* cancel(t);
    return t.state;
  });
  assert.is(value, "cancelled");
});

Sleep("bad durations throw at the call site", () => {
  assert.throws(() => sleep(-1), (e: unknown) => e instanceof RangeError && /ms >= 0, got -1/.test(String(e)));
  assert.throws(() => sleep(NaN), (e: unknown) => e instanceof RangeError && /NaN/.test(String(e)));
  assert.throws(() => sleep("10" as never), (e: unknown) => e instanceof TypeError && /"10"/.test(String(e)));
});

Sleep.run();

const Call = suite("call");

Call("calls a function with arguments and returns its value", async () => {
  const { value } = await runVirtual(function* () {
    return yield* call((a: number, b: number) => a * b, 6, 7);
  });
  assert.is(value, 42);
});

Call("passes exactly the arguments given, none to five, and shows them as args", async () => {
  function seen(this: unknown, ...a: unknown[]) {
    return [arguments.length, ...a].join(",");
  }
  const lists: unknown[][] = [[], [1], [1, undefined], [1, 2, 3], [1, 2, 3, 4, 5]];
  const { value } = await runVirtual(function* () {
    const out: string[] = [];
    for (const args of lists) out.push(yield* call(seen, ...args));
    return out;
  });
  assert.equal(value, ["0", "1,1", "2,1,", "3,1,2,3", "5,1,2,3,4,5"]);
  for (const args of lists) assert.equal(call(seen, ...args).args, args);
  assert.is(call((function* () {})()).args, undefined); // an operation, not a function: no arguments
});

Call("awaits a returned promise, and runs a returned operation", async () => {
  const { value, now } = await runVirtual(function* () {
    const a = yield* call(async (x: number) => x + 1, 1);
    const b = yield* call(function* (x: number) {
      yield* sleep(5);
      return x * 10;
    }, 3);
    const c = yield* call(function* () {
      return "op";
    }());
    return [a, b, c];
  });
  assert.equal(value, [2, 30, "op"]);
  assert.is(now, 5);
});

Call("returns strings, arrays and collections as values, not as operations", async () => {
  const map = new Map([["k", 1]]);
  const { value } = await runVirtual(function* () {
    return [yield* call(() => "text"), yield* call(() => [1, 2]), yield* call(() => map)];
  });
  assert.equal(value, ["text", [1, 2], map]);
});

Call("a function that throws throws at the yield", async () => {
  const boom = new Error("boom");
  const { value } = await runVirtual(function* () {
    try {
      yield* call(() => {
        throw boom;
      });
    } catch (e) {
      return e;
    }
  });
  assert.is(value, boom);
});

Call("a rejection with undefined or a string is caught as that exact value", async () => {
  const { value } = await runVirtual(function* () {
    const caught: unknown[] = [];
    for (const reason of [undefined, "nope", 0]) {
      try {
        yield* call(() => Promise.reject(reason));
        caught.push("not thrown");
      } catch (e) {
        caught.push(e);
      }
    }
    return caught;
  });
  assert.equal(value, [undefined, "nope", 0]);
});

Call("10,000 nested calls complete without growing the stack", async () => {
  const depth = 10_000;
  function* nest(n: number): Operation<number> {
    if (n === 0) return framesAboveLoop();
    return yield* call(nest, n - 1);
  }
  const { value: deep } = await runVirtual(() => nest(depth));
  const { value: shallow } = await runVirtual(() => nest(0));
  // The innermost body runs on the same few frames above the run loop, whatever the depth.
  assert.is(deep, shallow);
  assert.ok(deep < 10, `${deep} frames above the run loop`);
});

Call("a function that cancels its own task: the operation it returns runs to its first wait, which throws", async () => {
  const s = virtual();
  const log: string[] = [];
  const t = s.run(function* () {
    const me = yield* self();
    try {
      yield* call(() => {
        void me.cancel();
        return (function* sub() {
          log.push("sub ran");
          yield* sleep(1);
          log.push("not reached");
        })();
      });
    } catch (e) {
      log.push(`caller got ${(e as Error).name}`);
    }
  });
  assert.is((await outcome(t)).state, "cancelled");
  assert.equal(log, ["sub ran", "caller got Cancelled"]);
});

Call("anything but a function or an operation throws a TypeError at the call site", () => {
  for (const bad of [42, "text", null, undefined, { a: 1 }, [1]]) {
    assert.throws(() => call(bad as never), (e: unknown) => e instanceof TypeError && /call\(\) expects/.test(String(e)));
  }
});

Call.run();

// A call of a function returning a plain value completes inside its own yield*, without a step
// of the scheduler's loop (see Call.next): cancellation, the time slice, errors, their traces and
// the forgotten-yield check must be exactly as when the loop performs it.
const Quick = suite("a call that completes at once");

Quick("a task cancelled while it runs gets its Cancelled at its next call, whose function is not called", async () => {
  const { value } = await runVirtual(function* () {
    let called = 0;
    let got: unknown = "nothing";
    yield* spawn(function* () {
      void (yield* self()).cancel(); // cancelled while it runs: its next effect throws
      try {
        got = yield* call(() => ++called);
      } catch (e) {
        got = isCancelled(e) ? "cancelled" : e;
      }
    });
    yield* sleep(1);
    return [got, called];
  });
  assert.equal(value, ["cancelled", 0]);
});

Quick("a cancelled task that caught its Cancelled still completes a call of a plain function; its next wait throws", async () => {
  const { value } = await runVirtual(function* () {
    const out: unknown[] = [];
    const t = yield* spawn(function* () {
      try {
        yield* suspend();
      } catch (e) {
        out.push(isCancelled(e) ? "cancelled" : e);
      }
      out.push(yield* call((x: number) => x * 2, 21)); // completes without suspending: not interrupted
      try {
        yield* sleep(1);
      } catch (e) {
        out.push(isCancelled(e) ? "cancelled again" : e);
      }
    });
    yield* sleep(1);
    yield* cancel(t);
    return out;
  });
  assert.equal(value, ["cancelled", 42, "cancelled again"]);
});

Quick("a task that calls plain functions for ever still lets the others run (each call counts against its time slice)", async () => {
  const s = createScheduler();
  let stop = false;
  let rounds = 0;
  const busy = s.run(function* () {
    while (!stop && rounds < 50_000_000) rounds = yield* call((x: number) => x + 1, rounds);
  });
  s.run(function* () {
    yield* sleep(1);
    stop = true;
  });
  await busy;
  assert.ok(stop, `the sleeper never ran: ${rounds} rounds`);
  assert.ok(rounds < 50_000_000);
});

Quick("an error the function throws is caught by the caller's try, and its trace names the call, its callers and its tasks", async () => {
  function boom(): number {
    throw new Error("boom");
  }
  function* inner(): Operation<number> {
    return yield* call(boom);
  }
  const s = virtual();
  let caught: unknown;
  const o = await outcome(
    s.run(function* outer() {
      try {
        yield* call(inner);
      } catch (e) {
        caught = e;
      }
      yield* call(inner);
    }),
  );
  assert.instance(caught, Error);
  const stack = ((o as { error: Error }).error.stack ?? "").split("\n");
  assert.equal(stack[0], "Error: boom");
  assert.match(stack[1]!, /^ {4}at boom \(.*effects\.spec\.ts:\d+:\d+\)$/);
  assert.equal(stack.slice(-3), ["    at skein: performing call(boom)", "    at skein: in call inner", "    at skein: in task #1 outer, a root task"]);
  assert.not.ok(stack.some((l) => /Scheduler\.(step|loop)|\.next \(<anonymous>\)/.test(l)), "no run-loop frames");
});

Quick("a function returning a promise or an operation is called once, and its result awaited or run", async () => {
  let calls = 0;
  const { value } = await runVirtual(function* () {
    const a = yield* call(async (x: number) => (calls++, x + 1), 1);
    const b = yield* call(function* (x: number) {
      calls++;
      yield* sleep(1);
      return x * 10;
    }, 3);
    const thenable = Object.assign(() => 0, { then: (ok: (v: string) => void) => ok("thenable fn") });
    const c = yield* call(() => (calls++, thenable));
    return [a, b, c];
  });
  assert.equal(value, [2, 30, "thenable fn"]);
  assert.is(calls, 3);
});

Quick("stepping a coroutine by hand inside a task: a plain call completes, a call of a promise is yielded, and performed once", async () => {
  let calls = 0;
  const { value } = await runVirtual(function* (): Generator<any, unknown[], any> {
    function* two(): Operation<number> {
      const a = yield* call(() => (calls++, 1)); // a plain value: completes inside the yield*
      const b = yield* call(() => (calls++, Promise.resolve(2))); // a promise: yielded
      return a + b;
    }
    const it = two()[Symbol.iterator]();
    const first = it.next();
    const callsThen = calls;
    const got = yield first.value; // the loop awaits the promise already made
    return [first.done, String(first.value), callsThen, got, calls, it.next(got).value];
  });
  assert.equal(value, [false, "call(anonymous)", 2, 2, 2, 3]);
});

Quick("a call yielded by a coroutine stepped by hand and performed later calls its function once", async () => {
  let calls = 0;
  const { value } = await runVirtual(function* () {
    const effect = call(() => Promise.resolve(++calls));
    function* one(): Operation<number> {
      return yield* effect;
    }
    one()[Symbol.iterator]().next(); // called once, inside its yield*
    yield* sleep(1);
    return yield effect; // performed now: awaits what that call returned
  });
  assert.equal([value, calls], [1, 1]);
});

Quick("two coroutines stepped by hand, then their calls performed: each function called once", async () => {
  const calls: number[] = [];
  const { value } = await runVirtual(function* (): Generator<any, unknown[], any> {
    function* get(x: number): Operation<number> {
      return yield* call((y: number) => (calls.push(y), Promise.resolve(y * 10)), x);
    }
    const a = get(1)[Symbol.iterator]();
    const b = get(2)[Symbol.iterator]();
    const ea = a.next().value;
    const eb = b.next().value;
    return [yield ea, yield eb];
  });
  assert.equal([value, calls], [[10, 20], [1, 2]]);
});

Quick("a call performed twice calls its function twice, once each time", async () => {
  let calls = 0;
  const { value } = await runVirtual(function* (): Generator<any, unknown[], any> {
    const effect = call(() => Promise.resolve(++calls));
    return [yield* effect, yield* effect, yield effect];
  });
  assert.equal([value, calls], [[1, 2, 3], 3]);
});

Quick("a frozen call (a shared constant) of an async or generator function runs it once each time it is performed", async () => {
  let calls = 0;
  const later = Object.freeze(call(async (x: number) => (calls++, x + 1), 1));
  const steps = Object.freeze(call(function* (x: number) {
    calls++;
    yield* sleep(1);
    return x + 2;
  }, 1));
  const at = Object.freeze(call(() => Object.preventExtensions(call(async () => (calls++, "inner")))));
  const { value } = await runVirtual(function* () {
    return [yield* later, yield* later, yield* steps, yield* steps, yield* at];
  });
  assert.equal([value, calls], [[2, 2, 3, 3, "inner"], 5]);
});

Quick("outside any task, stepping by hand yields every call as data, and calls nothing", () => {
  let calls = 0;
  function* two(): Operation<void> {
    yield* call(() => ++calls);
    yield* call(() => ++calls);
  }
  const it = two()[Symbol.iterator]();
  assert.is(String(it.next().value), "call(anonymous)");
  assert.is(String(it.next(1).value), "call(anonymous)");
  assert.is(calls, 0);
});

Quick("the result of a call stepped by hand is its own: another call after it does not change it", async () => {
  // Outside a task: the second step returns what it was given.
  const ia = call(() => 1)[Symbol.iterator]();
  const ib = call(() => 2)[Symbol.iterator]();
  ia.next();
  ib.next();
  const ra = ia.next("a");
  const rb = ib.next("b");
  assert.equal([ra, rb], [{ done: true, value: "a" }, { done: true, value: "b" }]);
  // Inside a task: the function is called in the first step.
  const { value } = await runVirtual(function* () {
    const r1 = call(() => "one")[Symbol.iterator]().next();
    const r2 = call(() => "two")[Symbol.iterator]().next();
    return [r1, r2];
  });
  assert.equal(value, [{ done: true, value: "one" }, { done: true, value: "two" }]);
});

Quick("a wrapper that steps a call by hand and calls something else before it returns gets the call's result", async () => {
  function* traced<T>(op: Operation<T>): Operation<T> {
    const it = op[Symbol.iterator]();
    let r = it.next();
    while (!r.done) r = it.next(yield r.value as never);
    yield* call(() => undefined); // a log line, say
    return r.value;
  }
  const { value } = await runVirtual(function* () {
    return [yield* traced(call(() => 42)), yield* traced(call(async () => 43))];
  });
  assert.equal(value, [42, 43]);
});

Quick("a result of a call that the caller froze or changed does not break the calls after it", async () => {
  const { value } = await runVirtual(function* () {
    const frozen = call(() => 1)[Symbol.iterator]().next();
    Object.freeze(frozen);
    const a = yield* call(() => 2);
    const changed = call(() => 3)[Symbol.iterator]().next() as { done: boolean };
    changed.done = false;
    const b = yield* call(() => 4);
    return [a, b];
  });
  assert.equal(value, [2, 4]);
});

Quick("a call completed at once is not a forgotten yield*; a call made and not yielded still is", async () => {
  const s = virtual();
  await s.run(function* () {
    yield* call(() => 1);
    call(function dropped() {}); // forgotten
    yield* call(() => 2);
  });
  assert.is(s.reported.length, 1);
  assert.match(String(s.reported[0]), /call\(dropped\)/);
});

Quick.run();

const Wait = suite("wait");

Wait("returns a promise's value and throws its rejection", async () => {
  const err = new Error("no");
  const { value } = await runVirtual(function* () {
    const v = yield* wait(Promise.resolve(5));
    try {
      yield* wait(Promise.reject(err));
    } catch (e) {
      return [v, e];
    }
  });
  assert.equal(value, [5, err]);
});

Wait("accepts any thenable, and ignores a second settlement", async () => {
  const thenable = {
    then(resolve: (v: number) => void, reject: (e: unknown) => void) {
      resolve(1);
      resolve(2);
      reject(new Error("late"));
    },
  };
  const { value } = await runVirtual(function* () {
    return yield* wait(thenable as PromiseLike<number>);
  });
  assert.is(value, 1);
});

Wait("a thenable whose then throws rejects the wait", async () => {
  const err = new Error("then threw");
  const { value } = await runVirtual(function* () {
    try {
      yield* wait({
        then() {
          throw err;
        },
      });
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
});

Wait("the virtual clock does not jump while a promise is in flight", async () => {
  const { value } = await runVirtual(function* () {
    const order: string[] = [];
    yield* fork(function* () {
      yield* sleep(1000);
      order.push("timer");
    });
    yield* wait(new Promise((r) => setTimeout(r, 20)));
    order.push("promise");
    return order;
  });
  assert.equal(value, ["promise", "timer"]);
});

Wait("cancelling a wait leaves the promise alone and ignores its outcome", async () => {
  let resolve!: (v: string) => void;
  const p = new Promise<string>((r) => (resolve = r));
  const s = virtual();
  const t = s.run(function* () {
    return yield* wait(p);
  });
  await new Promise((r) => setImmediate(r));
  await t.cancel();
  resolve("late");
  await p;
  assert.is(t.state, "cancelled");
});

Wait("a non-thenable throws a TypeError at the call site", () => {
  assert.throws(() => wait(42 as never), (e: unknown) => e instanceof TypeError && /wait\(\) expects a promise/.test(String(e)));
});

Wait.run();

const Join = suite("join");

Join("returns the value, throws the error, or throws Cancelled", async () => {
  const err = new Error("child failed");
  const { value } = await runVirtual(function* () {
    const done = yield* spawn(function* () {
      return 1;
    });
    yield* sleep(1);
    const out: unknown[] = [yield* join(done)];
    const cancelled = yield* spawn(function* () {
      yield* suspend();
    });
    yield* cancel(cancelled);
    try {
      yield* join(cancelled);
    } catch (e) {
      out.push(isCancelled(e));
    }
    // A failing child would fail this body; join one from another scope instead.
    try {
      yield* call(function* () {
        const failing = yield* fork(function* () {
          throw err;
        });
        yield* join(failing);
      });
    } catch (e) {
      out.push(e);
    }
    return out;
  });
  assert.equal(value, [1, true, err]);
});

Join("joining a task that already failed throws its error at once", async () => {
  const err = new Error("failed earlier");
  const a = virtual();
  const failed = a.run(function* () {
    throw err;
  });
  await outcome(failed);
  const { value } = await runVirtual(function* () {
    try {
      yield* join(failed);
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
});

Join("`yield* task` is a join, and waits for the task", async () => {
  const { value, now } = await runVirtual(function* () {
    const t = yield* fork(function* () {
      yield* sleep(50);
      return "late";
    });
    return yield* t;
  });
  assert.is(value, "late");
  assert.is(now, 50);
});

Join("joining yourself or an ancestor is an error, not a hang", async () => {
  const { value } = await runVirtual(function* parent() {
    const me = yield* self();
    const errors: string[] = [];
    try {
      yield* join(me);
    } catch (e) {
      errors.push(String(e));
    }
    const child = yield* fork(function* child() {
      try {
        yield* join(me);
      } catch (e) {
        errors.push(String(e));
      }
    });
    yield* join(child);
    return errors;
  });
  assert.match(value[0]!, /cannot join itself/);
  assert.match(value[1]!, /cannot join its ancestor #\d+ parent/);
});

Join("a joiner that is cancelled stops waiting", async () => {
  const { value } = await runVirtual(function* () {
    const slow = yield* spawn(function* () {
      yield* sleep(1000);
      return "slow";
    });
    const joiner = yield* fork(function* () {
      return yield* join(slow);
    });
    yield* sleep(10);
    yield* cancel(joiner);
    return [joiner.state, slow.state];
  });
  assert.equal(value, ["cancelled", "running"]);
});

Join("a task of another scheduler is joined and cancelled across clocks, without a false deadlock", async () => {
  const a = virtual();
  const b = virtual();
  const producer = a.run(function* () {
    yield* sleep(5);
    yield* sleep(5);
    return "from a";
  });
  assert.is(await b.run(function* () { return yield* join(producer); }), "from a");
  const real = createScheduler();
  const slow = real.run(function* () {
    yield* sleep(20);
    return "real";
  });
  assert.is(await b.run(function* () { return yield* join(slow); }), "real");
  const forever = a.run(function* () {
    yield* suspend();
  });
  await b.run(function* () {
    yield* cancel(forever);
  });
  assert.is(forever.state, "cancelled");
});

Join("join and cancel take only tasks", () => {
  assert.throws(() => join({} as never), (e: unknown) => e instanceof TypeError && /join\(\) expects a task/.test(String(e)));
  assert.throws(() => cancel(3 as never), (e: unknown) => e instanceof TypeError && /cancel\(\) expects a task, got 3/.test(String(e)));
});

Join.run();

const Self = suite("self, suspend, cooperate");

Self("self() is the running task, also inside calls", async () => {
  const { value } = await runVirtual(function* main() {
    const outer = yield* self();
    const inner = yield* call(function* () {
      return yield* self();
    });
    return [outer === inner, outer.name];
  });
  assert.equal(value, [true, "main"]);
});

Self("suspend() waits until cancelled", async () => {
  const { value } = await runVirtual(function* () {
    let cleaned = false;
    const t = yield* fork(function* () {
      try {
        yield* suspend();
      } finally {
        cleaned = true;
      }
    });
    yield* sleep(100);
    yield* cancel(t);
    return cleaned;
  });
  assert.is(value, true);
});

Self("cooperate() lets the other ready tasks run, round robin", async () => {
  const order: string[] = [];
  await runVirtual(function* () {
    const worker = (name: string) =>
      function* () {
        for (let i = 0; i < 3; i++) {
          order.push(`${name}${i}`);
          yield* cooperate();
        }
      };
    yield* fork(worker("a"));
    yield* fork(worker("b"));
  });
  assert.equal(order, ["a0", "b0", "a1", "b1", "a2", "b2"]);
});

Self("a task cancelled while it cooperates is cancelled at that point", async () => {
  const { value } = await runVirtual(function* () {
    let rounds = 0;
    const t = yield* fork(function* () {
      for (;;) {
        rounds++;
        yield* cooperate();
      }
    });
    yield* cooperate();
    yield* cancel(t);
    return rounds;
  });
  assert.is(value, 1);
});

Self.run();

const Action = suite("action");

Action("resolves and rejects from a callback API", async () => {
  const { value } = await runVirtual(function* () {
    const a = yield* action<number>((resolve) => {
      queueMicrotask(() => resolve(1));
    });
    let b: unknown;
    try {
      yield* action((_, reject) => {
        queueMicrotask(() => reject("bad"));
      });
    } catch (e) {
      b = e;
    }
    return [a, b];
  });
  assert.equal(value, [1, "bad"]);
});

Action("only the first settlement counts, even when synchronous", async () => {
  const { value } = await runVirtual(function* () {
    return yield* action<string>((resolve, reject) => {
      resolve("first");
      resolve("second");
      reject(new Error("third"));
    });
  });
  assert.is(value, "first");
});

Action("the teardown runs when the task is cancelled first, never after it settled", async () => {
  const log: string[] = [];
  await runVirtual(function* () {
    const t = yield* fork(function* () {
      yield* action(() => () => log.push("torn down"));
    });
    const u = yield* fork(function* () {
      yield* action<void>((resolve) => {
        resolve();
        return () => log.push("must not run");
      });
    });
    yield* sleep(1);
    yield* cancel(t);
    yield* cancel(u);
  });
  assert.equal(log, ["torn down"]);
});

Action("an executor that throws throws into the task", async () => {
  const err = new Error("executor");
  const { value } = await runVirtual(function* () {
    try {
      yield* action(() => {
        throw err;
      });
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
});

Action("an executor that returns something other than a teardown is a clear error", async () => {
  const { value } = await runVirtual(function* () {
    try {
      yield* action((async () => {}) as never);
    } catch (e) {
      return String(e);
    }
  });
  assert.match(value!, /TypeError: action\(anonymous\) executor returned an instance of Promise; return a teardown function or nothing/);
});

Action("a teardown that throws fails the cancelled task with that error", async () => {
  const err = new Error("teardown");
  const s = virtual();
  const t = s.run(function* () {
    yield* action(() => () => {
      throw err;
    });
  });
  await new Promise((r) => setImmediate(r));
  t.cancel();
  const o = await outcome(t);
  assert.equal(o, { state: "failed", error: err });
});

Action("an executor that cancels its own task still has its teardown run", async () => {
  const s = virtual();
  let live = 0;
  const t = s.run(function* () {
    const me = yield* self();
    yield* action<void>(() => {
      live++;
      void me.cancel(); // a listener reacting synchronously, say
      return () => void live--;
    });
  });
  assert.is((await outcome(t)).state, "cancelled");
  assert.is(live, 0);
});

Action("an executor that cancels its own task and then throws fails the task with that error", async () => {
  const err = new Error("executor failed");
  const s = virtual();
  const t = s.run(function* () {
    const me = yield* self();
    yield* action<void>(() => {
      void me.cancel();
      throw err;
    });
  });
  assert.equal(await outcome(t), { state: "failed", error: err });
});

Action("an executor that throws after settling has its error reported", async () => {
  const err = new Error("after resolve");
  const s = virtual();
  const v = await s.run(function* () {
    return yield* action<number>((resolve) => {
      resolve(1);
      throw err;
    });
  });
  assert.is(v, 1);
  assert.equal(s.reported, [err]);
});

Action("a non-function executor throws at the call site", () => {
  assert.throws(() => action(null as never), (e: unknown) => e instanceof TypeError && /action\(\) expects an executor/.test(String(e)));
});

Action.run();

const Start = suite("fork and spawn");

Start("return the child task at once; the child runs when the parent next suspends", async () => {
  const order: string[] = [];
  const { value } = await runVirtual(function* () {
    const t: Task<string> = yield* fork(function* child() {
      order.push("child");
      return "c";
    });
    order.push(`parent sees ${t.name} ${t.state}`);
    yield* sleep(0);
    order.push("parent again");
    return yield* t;
  });
  assert.is(value, "c");
  assert.equal(order, ["parent sees child running", "child", "parent again"]);
});

Start("names come from options, else the function", async () => {
  const { value } = await runVirtual(function* () {
    const a = yield* fork(function* worker() {});
    const b = yield* spawn(function* () {}, { name: "custom" });
    const c = yield* fork((function* () {})());
    return [a.name, b.name, c.name];
  });
  assert.equal(value, ["worker", "custom", "anonymous"]);
});

Start("a fork of a function returning a promise or a value completes with it", async () => {
  const { value } = await runVirtual(function* () {
    const a = yield* fork((async () => 1) as never);
    const b = yield* fork((() => 2) as never);
    return [yield* join(a), yield* join(b)];
  });
  assert.equal(value, [1, 2]);
});

Start("a factory that throws fails the child with that error", async () => {
  const err = new Error("factory");
  const { value } = await runVirtual(function* () {
    try {
      yield* call(function* () {
        yield* fork((() => {
          throw err;
        }) as never);
      });
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
});

Start("a thousand ready tasks run in the order they were started", async () => {
  const order: number[] = [];
  await runVirtual(function* () {
    for (let i = 0; i < 1000; i++) {
      yield* fork(function* () {
        order.push(i);
      });
    }
  });
  assert.equal(order, Array.from({ length: 1000 }, (_, i) => i));
});

Start("bad operations throw a TypeError at the call site", () => {
  assert.throws(() => fork(5 as never), (e: unknown) => e instanceof TypeError && /fork\(\) expects an operation/.test(String(e)));
  assert.throws(() => spawn("x" as never), (e: unknown) => e instanceof TypeError && /spawn\(\) expects an operation.*"x"/.test(String(e)));
});

Start("a name that is not a string throws a TypeError at the call site, and nothing is started", async () => {
  const bad = { toString(): string { throw new Error("no words"); } };
  function* body() {}
  for (const name of [bad, 42, Symbol("n")]) {
    const named = { name: name as never };
    assert.throws(() => fork(body, named), (e: unknown) => e instanceof TypeError && /fork\(\) expects options\.name to be a string/.test(String(e)));
    assert.throws(() => spawn(body, named), (e: unknown) => e instanceof TypeError && /spawn\(\) expects options\.name to be a string/.test(String(e)));
    const s = createScheduler({ clock: "virtual" });
    assert.throws(() => s.run(body, named), (e: unknown) => e instanceof TypeError && /run\(\) expects options\.name to be a string/.test(String(e)));
    assert.is(describeTasks(s), "no task is running\n");
  }
  const s = createScheduler({ clock: "virtual" });
  await s.run(function* () {
    assert.is((yield* self()).name, "fine");
  }, { name: "fine" }); // a string is taken
  await s.run(function* () {
    assert.is((yield* self()).name, "anonymous");
  }, { name: null as never }); // from JavaScript, null is no name
});

Start("a function whose name is not a string is anonymous in every message (a review's repro: a Symbol crashed them)", async () => {
  const odd = <F extends object>(f: F, name: unknown): F => Object.defineProperty(f, "name", { value: name });
  const gen = odd(function* () {}, Symbol("S"));
  assert.is(String(call(gen)), "call(anonymous)");
  assert.is(String(shield(gen)), "shield(anonymous)");
  assert.is(String(ensure(odd(() => {}, 42))), "ensure(anonymous)");
  assert.is(String(action(odd(() => () => {}, Symbol("A")))), "action(anonymous)");
  const s = createScheduler({ clock: "virtual" });
  let tree = "";
  await s.run(function* main() {
    const pending = odd(() => new Promise<void>((resolve) => setTimeout(resolve, 5)), Symbol("P"));
    const t = yield* fork(() => call(pending));
    yield* cooperate();
    tree = describeTasks(s);
    yield* join(t);
  });
  assert.match(tree, /waits on call\(anonymous\)/);
});

Start("a function whose name is not a string starts a task named anonymous (a review's repro)", async () => {
  const names: string[] = [];
  const { value } = await runVirtual(function* () {
    for (const name of [42, Symbol("s"), { toString: () => { throw new Error("no words"); } }]) {
      const f = Object.defineProperty(function* () {
        names.push((yield* self()).name);
        yield* sleep(100);
      }, "name", { value: name });
      yield* spawn(f); // cancelled when this body ends: its Cancelled names it
    }
    yield* sleep(1);
    return "ended";
  });
  assert.is(value, "ended");
  assert.equal(names, ["anonymous", "anonymous", "anonymous"]);
});

Start.run();

const Cancel = suite("cancel");

Cancel("cancelling yourself throws Cancelled here, and the task ends cancelled", async () => {
  const s = virtual();
  let after = false;
  const t = s.run(function* () {
    yield* cancel(yield* self());
    after = true;
  });
  const o = await outcome(t);
  assert.is(o.state, "cancelled");
  assert.ok(isCancelled((o as { error: unknown }).error));
  assert.is(after, false);
});

Cancel("cancelling yourself again during cleanup does nothing", async () => {
  const s = virtual();
  const log: string[] = [];
  const t = s.run(function* () {
    try {
      yield* suspend();
    } finally {
      yield* cancel(yield* self()); // cancelled already: it returns, and changes nothing
      yield* shield(sleep(5));
      log.push("cleanup finished");
    }
  });
  await new Promise((r) => setImmediate(r));
  await t.cancel();
  assert.is(t.state, "cancelled");
  assert.equal(log, ["cleanup finished"]);
});

Cancel("cancelling a finished task does nothing", async () => {
  const { value } = await runVirtual(function* () {
    const t = yield* fork(function* () {
      return 1;
    });
    yield* sleep(1);
    yield* cancel(t);
    return [t.state, yield* join(t)];
  });
  assert.equal(value, ["completed", 1]);
});

Cancel("a child may cancel its parent: both end cancelled", async () => {
  const s = virtual();
  const t = s.run(function* parent() {
    const me = yield* self();
    yield* fork(function* () {
      yield* sleep(5);
      yield* cancel(me);
    });
    yield* suspend();
  });
  const o = await outcome(t);
  assert.is(o.state, "cancelled");
  assert.instance((o as { error: unknown }).error, Cancelled);
});

Cancel.run();

const Ensure = suite("ensure");

Ensure("cleanups run when the scope ends, after its children, last registered first, however it ends", async () => {
  for (const how of ["returns", "fails", "is cancelled"] as const) {
    const log: string[] = [];
    const s = virtual();
    function* body(): Operation<void> {
      yield* ensure(() => void log.push("first registered"));
      yield* ensure(function* () {
        yield* sleep(5); // a cleanup may wait
        log.push(`second registered, at ${s.now()}`);
      });
      yield* spawn(function* child() {
        try {
          yield* suspend();
        } finally {
          log.push("child ended");
        }
      });
      yield* sleep(10);
      if (how === "fails") throw new Error("failed");
      if (how === "is cancelled") yield* suspend();
    }
    await outcome(
      s.run(function* () {
        const t = yield* fork(body);
        yield* sleep(12);
        yield* cancel(t); // it has returned or failed already, unless it waits to be cancelled
      }),
    );
    assert.equal(log, ["child ended", `second registered, at ${how === "is cancelled" ? 17 : 15}`, "first registered"], how);
  }
});

Ensure("a cleanup runs to its end in a cancelled task: it is shielded; a second cancel changes nothing", async () => {
  const log: string[] = [];
  const s = virtual();
  const value = await s.run(function* () {
    const t = yield* fork(function* () {
      yield* ensure(function* () {
        yield* sleep(20);
        log.push(`cleaned up at ${s.now()}`);
      });
      yield* suspend();
    });
    yield* sleep(1);
    yield* fork(() => cancel(t));
    yield* sleep(5);
    yield* cancel(t);
    return [t.state, s.now()];
  });
  assert.equal(value, ["cancelled", 21]);
  assert.equal(log, ["cleaned up at 21"]);
});

Ensure("a cleanup in a call runs when the call ends, before the caller goes on", async () => {
  const log: string[] = [];
  await runVirtual(function* () {
    yield* call(function* () {
      yield* ensure(() => void log.push("call's cleanup"));
      log.push("call's body");
    });
    log.push("caller");
  });
  assert.equal(log, ["call's body", "call's cleanup", "caller"]);
});

Ensure("a failing cleanup fails its scope; one failing while the scope fails already is reported", async () => {
  const first = new Error("body failed");
  const late = new Error("cleanup failed");
  const s = virtual();
  const got = await s.run(function* () {
    const out: unknown[] = [];
    try {
      yield* call(function* () {
        yield* ensure(() => {
          throw late;
        });
      });
    } catch (e) {
      out.push(e);
    }
    const log: string[] = [];
    try {
      yield* call(function* () {
        yield* ensure(() => void log.push("still ran"));
        yield* ensure(function* () {
          yield* sleep(1);
          throw late;
        });
        throw first;
      });
    } catch (e) {
      out.push(e);
    }
    return [out, log];
  });
  assert.equal(got, [[late, first], ["still ran"]]);
  assert.equal(s.reported, [late]);
});

Ensure("registering in a cancelled scope still runs the cleanup; 100,000 cleanups run in order", async () => {
  const log: number[] = [];
  const s = virtual();
  await s.run(function* () {
    const t = yield* fork(function* () {
      try {
        yield* suspend();
      } finally {
        yield* ensure(() => void log.push(-1)); // registering never waits: not cut short
      }
    });
    yield* sleep(1);
    yield* cancel(t);
    yield* call(function* () {
      for (let i = 0; i < 100_000; i++) yield* ensure(() => void log.push(i));
    });
  });
  assert.is(log[0], -1);
  assert.is(log.length, 100_001);
  assert.is(log[1], 99_999);
  assert.is(log[100_000], 0);
});

Ensure("bad input throws at the call site", () => {
  for (const bad of [42, "x", null, undefined]) {
    assert.throws(() => ensure(bad as never), (e: unknown) => e instanceof TypeError && /ensure\(\) expects/.test(String(e)));
  }
});

Ensure.run();
