import { test } from "uvu";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as assert from "uvu/assert";
import {
  action, all, call, cancel, channel, cooperate, createScheduler, Effect, fork, join, race, select, self, sleep, Sleep, spawn,
  suspend, timeout, wait, type Operation,
} from "../../lib/index.js";
import { runVirtual, virtual } from "../helpers.js";

test("yield* an effect returns what the scheduler produced, typed", async () => {
  const { value } = await runVirtual(function* () {
    const me = yield* self();
    const n: number = yield* call(() => 41 + 1);
    return [me.name, n] as const;
  });
  assert.equal(value, ["anonymous", 42]);
});

test("a plain `yield effect` works too, for JavaScript callers", async () => {
  const { value } = await runVirtual(function* (): Generator<any, unknown, any> {
    const n = yield call(() => 7);
    const me = yield self();
    return [n, typeof me.id];
  });
  assert.equal(value, [7, "number"]);
});

test("effects are inert data: a coroutine can be stepped without a scheduler", () => {
  function* blink(): Operation<void> {
    yield* sleep(100);
    yield* sleep(200);
  }
  const gen = blink()[Symbol.iterator]();
  const first = gen.next().value;
  assert.instance(first, Sleep);
  assert.instance(first, Effect);
  assert.is((first as Sleep).ms, 100);
  assert.is((first as Sleep).type, "sleep");
  assert.is(String(first), "sleep(100)");
  const second = gen.next().value as Sleep;
  assert.is(second.ms, 200);
  assert.equal(gen.next().done, true);
});

test("stepping keeps earlier results intact", () => {
  function* two(): Operation<void> {
    yield* sleep(1);
    yield* sleep(2);
  }
  const gen = two()[Symbol.iterator]();
  const a = gen.next();
  const b = gen.next();
  assert.is((a.value as Sleep).ms, 1);
  assert.is((b.value as Sleep).ms, 2);
});

test("an effect iterator opened outside any task and never stepped does not make a waiting yield* perform its effect again", async () => {
  const s = createScheduler();
  let calls = 0;
  let release!: (v: number) => void;
  const gate = new Promise<number>((r) => (release = r));
  const t = s.run(function* () {
    return yield* call(() => (calls++, gate));
  });
  await new Promise((r) => setImmediate(r)); // the task waits on the promise
  sleep(5)[Symbol.iterator](); // opened by hand, never stepped
  release(7);
  assert.is(await t, 7);
  assert.is(calls, 1);
});

test("an operation whose iterator is an effect's runs that effect, as a task or a call", async () => {
  const op = { [Symbol.iterator]: () => call(() => 5)[Symbol.iterator]() };
  const { value } = await runVirtual(function* () {
    const t = yield* fork(op);
    return [yield* call(op), yield* join(t)];
  });
  assert.equal(value, [5, 5]);
});

test("one effect object can be yielded by many tasks at once and again later", async () => {
  const tick = sleep(10);
  const { value, now } = await runVirtual(function* () {
    function* sleeper(): Operation<number> {
      yield* tick;
      yield* tick;
      return 1;
    }
    const tasks = [];
    for (let i = 0; i < 5; i++) tasks.push(yield* fork(sleeper));
    let sum = 0;
    for (const t of tasks) sum += yield* join(t);
    return sum;
  });
  assert.is(value, 5);
  assert.is(now, 20);
});

test("an effect yielded to a different scheduler's task behaves the same", async () => {
  const a = createScheduler({ clock: "virtual" });
  const b = createScheduler({ clock: "virtual" });
  const shared = sleep(5);
  const [x, y] = await Promise.all([
    a.run(function* () {
      yield* shared;
      return a.now();
    }),
    b.run(function* () {
      yield* shared;
      yield* shared;
      return b.now();
    }),
  ]);
  assert.equal([x, y], [5, 10]);
});

test("every effect describes itself for messages and deadlock reports", async () => {
  const { value } = await runVirtual(function* worker() {
    const me = yield* self();
    return [
      sleep(5), call(function named() {}), call(() => 1), call((function* () {})()), wait(Promise.resolve()),
      fork(function* job() {}), spawn((function* () {})()), fork(() => sleep(1), { name: "n" }),
      join(me), cancel(me), suspend(), cooperate(), self(), action(function executor() {}), action(() => {}),
    ].map(String);
  });
  assert.equal(value, [
    "sleep(5)", "call(named)", "call(anonymous)", "call(a Generator)", "wait(promise)",
    "fork(function job)", "spawn(a Generator)", "fork(n)",
    "join(#1 worker)", "cancel(#1 worker)", "suspend()", "cooperate()", "self()", "action(executor)", "action(anonymous)",
  ]);
});

test("an effect of an older copy of skein (an iterator that yields itself) fails its task with a TypeError, never a hang", async () => {
  const old: Iterator<any> & { [Symbol.iterator](): Iterator<any> } = {
    [Symbol.iterator]() {
      return old;
    },
    next: () => ({ done: false, value: old }),
    throw: (e: unknown) => {
      throw e;
    },
  };
  const s = virtual();
  const outcome = await s.run(function* () {
    yield* (old as any);
  }).then(() => "returned", (e: Error) => `${e.name}: ${e.message}`);
  assert.match(outcome, /^TypeError: task #\d+ \S+ yielded .*, which yields itself: an effect of another, older copy of skein/);
});

test("a forgotten yield* is reported, naming the effect and the task, with what to write", async () => {
  const s = virtual();
  const out = channel<number>(10);
  await s.run(function* handler() {
    sleep(20); // forgotten
    fork(function* audit() {}); // forgotten
    out.send(1); // forgotten
    yield* sleep(1);
  });
  const messages = s.reported.map((e) => (e as Error).message);
  assert.equal(messages.length, 3);
  assert.match(messages[0]!, /^sleep\(20\) was made in task #1 handler but never yielded before the task returned, so it did nothing: put `yield\*` before the call that made it/);
  assert.match(messages[1]!, /^fork\(function audit\) was made in task #1 handler but never yielded/);
  assert.match(messages[2]!, /^send\(channel#\d+, 1\) was made in task #1 handler but never yielded/);
  assert.is(out.size, 0);
});

test("effects yielded, or handed to skein (fork, all, timeout, select, race…), are not reported", async () => {
  const s = virtual();
  await s.run(function* () {
    const ch = channel<number>(1);
    yield* sleep(1);
    const later = sleep(2);
    yield* timeout(100, later);
    yield* all([sleep(1), call(() => 1)]);
    yield* race([ch.receive(), sleep(1)]);
    yield* select({ a: ch.send(1), b: ch.receive() });
    const t = yield* fork(sleep(1));
    yield* join(t);
    yield* fork(() => ch.receive());
    yield* ch.send(2);
  });
  assert.equal(s.reported, []);
});

test("a forgotten yield* in the last step of a task, or as its only statement, is reported too; so is each of two tasks forgetting one shared effect", async () => {
  const s = virtual();
  const out = channel<number>(10);
  const ch = channel<number>();
  await s.run(function* () {
    yield* fork(function* only() {
      sleep(20);
    });
    yield* fork(function* last() {
      yield* sleep(1);
      out.send(1);
    });
    yield* fork(function* a() {
      ch.receive(); // the same effect object as b's
    });
    yield* fork(function* b() {
      ch.receive();
      yield* sleep(2);
    });
  });
  const messages = s.reported.map((e) => (e as Error).message.split(" but ")[0]!.replace(/channel#\d+/, "channel#N")).sort();
  assert.equal(messages, [
    "receive(channel#N) was made in task #4 a", "receive(channel#N) was made in task #5 b",
    "send(channel#N, 1) was made in task #3 last", "sleep(20) was made in task #2 only",
  ]);
});

test("an effect sent to another task through a channel or a mailbox, which yields it, is not reported", async () => {
  const s = virtual();
  const jobs = channel<Operation<number>>(10);
  const { value } = await runVirtual(function* () {
    const consumer = yield* fork(function* () {
      let sum = 0;
      for (let op; (op = yield* jobs.receive()) !== undefined; ) sum += yield* op;
      return sum;
    });
    yield* fork(function* producer() {
      for (let i = 1; i <= 3; i++) yield* jobs.send(call(() => i));
      jobs.close();
    }); // returns before the consumer has yielded them all
    return yield* join(consumer);
  });
  assert.is(value, 6);
  assert.equal(s.reported, []);
});

test("an effect made in one step and yielded in a later one is not reported: a combinator that waits first", async () => {
  function* withDelay<T>(ms: number, op: Operation<T>): Operation<T> {
    yield* sleep(ms);
    return yield* op;
  }
  const ch = channel<number>(1);
  const { value, s } = await runVirtual(function* () {
    const reused = sleep(1); // one effect, yielded again and again
    for (let i = 0; i < 3; i++) yield* reused;
    const later = ch.receive(); // made before a wait, yielded after it
    yield* sleep(1);
    yield* ch.send(7);
    const got = yield* later;
    const ops = [call(() => 1), call(() => 2)]; // built, then a wait, then handed to all()
    yield* sleep(1);
    const sum = (yield* all(ops)).reduce((a, b) => a + b, 0);
    return [yield* withDelay(10, call(() => "ran")), got, sum];
  });
  assert.equal(value, ["ran", 7, 3]);
  assert.equal(s.reported, []);
});

test("a shared effect made in one step and made again and yielded in a later one is not reported, when the loop tells it by identity", async () => {
  // self() is one shared effect that the step loop performs: the later yield* reaches the loop as
  // the effect just made (`isNoted`), which must clear what the earlier step left suspected, as
  // `used` does for an effect yielded any other way.
  const { value, s } = await runVirtual(function* () {
    void self(); // made, and left unused by this step: a suspect
    yield* sleep(1);
    const me = yield* self(); // the same object, made again and yielded
    return typeof me.id;
  });
  assert.is(value, "number");
  assert.equal(s.reported, []);
});

test("an effect left unused because its task failed or was cancelled is not reported: that is why", async () => {
  const s = virtual();
  await s.run(function* () {
    const t = yield* fork(function* () {
      const op = call(() => "never");
      yield* sleep(100); // cancelled here: op is never yielded, and nobody forgot it
      yield* op;
    });
    const failing = yield* spawn(function* () {
      const op = call(() => "never");
      yield* sleep(1);
      throw new Error("before it could yield op");
      yield* op; // eslint-disable-line no-unreachable
    });
    yield* sleep(10);
    yield* cancel(t);
    assert.is(failing.state, "failed");
  }).catch((e: Error) => assert.is(e.message, "before it could yield op")); // the failure reached the root
  assert.equal(s.reported, []);
});

test("100,000 effects made in one step and handed to all() in a later one: no report, and no scan per effect", async () => {
  const { value, s } = await runVirtual(function* () {
    const ops = Array.from({ length: 100_000 }, (_, i) => call(() => i));
    yield* sleep(1);
    return (yield* all(ops)).length;
  });
  assert.is(value, 100_000);
  assert.equal(s.reported, []);
});

test("the forgotten-yield check holds where the scheduler renews its notes (every 64 steps, every 256 effects of a step)", async () => {
  const noop = () => 0;
  const tick = call(noop); // made outside any task, so never noted: yielding it leaves `kept` noted as the last made
  // Made just before, at and after the 256th effect of one step; yielded after a wait, or forgotten.
  for (const k of [253, 254, 255, 256, 257, 509, 510, 511, 512, 513]) {
    for (const forget of [false, true]) {
      const s = virtual();
      let ran = 0;
      await s.run(function* () {
        for (let i = 0; i < k; i++) yield* tick;
        const kept = call(() => ran++);
        yield* tick;
        yield* tick;
        const other = forget ? sleep(3) : null; // a second one in the same step
        yield* tick;
        yield* sleep(1);
        if (!forget) yield* kept;
        void other;
      });
      assert.is(s.reported.length, forget ? 2 : 0, `made after ${k} effects, forgotten: ${forget}`);
      assert.is(ran, forget ? 0 : 1);
    }
  }
  // Made in the 64th step of the loop (and around it), yielded in the task's next step, or forgotten.
  for (const fill of [60, 61, 62, 63, 64, 126, 127]) {
    for (const forget of [false, true]) {
      const s = virtual();
      let ran = 0;
      await s.run(function* () {
        for (let i = 0; i < fill; i++) yield* fork(function* () {});
        yield* fork(function* maker() {
          const kept = call(() => ran++);
          yield* sleep(1);
          if (!forget) yield* kept;
        });
      });
      assert.is(s.reported.length, forget ? 1 : 0, `made in step ${fill + 2}, forgotten: ${forget}`);
      assert.is(ran, forget ? 0 : 1);
    }
  }
});

test("a task that runs on and forgets a yield* in a loop is reported once the forgotten effect is collected", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const reported: string[] = [];
  const s = createScheduler({ onError: (e) => void reported.push((e as Error).message) });
  const out = channel<number>(100);
  const loop = s.run(function* server() {
    for (let i = 0; ; i++) {
      out.send(i); // forgotten, in a task that never returns
      yield* sleep(1);
    }
  });
  for (let i = 0; i < 50 && reported.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    gc();
  }
  await loop.cancel();
  assert.ok(reported.length > 0, "reported while the task still ran");
  assert.match(reported[0]!, /^send\(channel#\d+, \d+\) was made in task #1 server but never yielded \(it was garbage-collected unused\)/);
});

test("a call a wrapper began by hand is not kept alive by the scheduler after its step", async () => {
  // The step loop tells a call that has begun its generator by identity (handedUp): that must
  // not hold the call, its arguments and its generator once the step is over.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  function* work(buf: object): Operation<number> {
    yield* sleep(1);
    return Object.keys(buf).length;
  }
  function* traced<T>(body: Generator<any, T, any>): Generator<any, T, any> {
    let r = body.next();
    while (!r.done) r = body.next(yield r.value); // a tracer: steps by hand, yields each value on
    return r.value;
  }
  for (const how of ["dropped", "traced"]) {
    let ref!: WeakRef<object>;
    const s = createScheduler({ clock: "virtual" });
    await s.run(function* () {
      if (how === "dropped") {
        (() => {
          const big = { a: 1 };
          ref = new WeakRef(big);
          call(work, big)[Symbol.iterator]().next(); // begun (its generator made), then dropped
        })();
        yield* sleep(1);
      } else {
        yield* traced(
          (function* () {
            const big = { a: 1 };
            ref = new WeakRef(big);
            return yield* call(work, big);
          })(),
        );
      }
    });
    for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
      await new Promise((r) => setTimeout(r, 5));
      gc();
    }
    assert.is(ref.deref(), undefined, `${how}: its argument was collected`);
  }
});

test.run();
