// Waiting on a promise: `yield* call(asyncFn)`, `yield* wait(promise)`. A task woken by a settled
// promise runs in the promise's reaction when the loop is idle (no second microtask): what that
// must keep — cancellation at the await, level-triggered; outcomes of abandoned promises ignored
// and never reported; rogue thenables; the time slice; other schedulers' steps left alone.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { call, cancel, createScheduler, fork, isCancelled, self, shield, sleep, spawn, suspend, wait, type Task } from "../../lib/index.js";
import { hostTurn, outcome, virtual } from "../helpers.js";

const A = suite("await");

A("a task woken by a promise runs in the promise's reaction when the loop is idle", async () => {
  const s = createScheduler();
  let resolve!: (v: number) => void;
  const p = new Promise<number>((r) => (resolve = r));
  const seen: unknown[] = [];
  const t = s.run(function* () {
    seen.push(yield* wait(p));
    seen.push(yield* call(async (x: number) => x + 1, 41));
    return seen;
  });
  await hostTurn();
  resolve(1);
  await null; // p's reaction was queued first: the task has run in it
  assert.equal(seen, [1]);
  assert.equal(await t, [1, 42]);
});

A("a catch-all around the await gets Cancelled, and the next wait throws it again (level-triggered)", async () => {
  const s = virtual();
  const caught: unknown[] = [];
  const t = s.run(function* () {
    try {
      yield* wait(new Promise(() => {}));
    } catch (e) {
      caught.push(e);
    }
    try {
      yield* call(async () => "value"); // settled at once, but the task is cancelled
    } catch (e) {
      caught.push(e);
    }
    return "returned";
  });
  await hostTurn();
  await t.cancel();
  assert.is(caught.length, 2);
  assert.ok(caught.every(isCancelled));
  assert.is(t.state, "cancelled");
});

A("cancelled after its promise settled but before the reaction ran, the task gets Cancelled, not the value", async () => {
  const s = createScheduler();
  let resolve!: (v: string) => void;
  const p = new Promise<string>((r) => (resolve = r));
  const got: unknown[] = [];
  const t = s.run(function* () {
    try {
      got.push(yield* wait(p));
    } catch (e) {
      got.push(isCancelled(e) ? "cancelled" : e);
    }
  });
  await hostTurn();
  resolve("late");
  const done = t.cancel(); // before p's reaction runs
  await done;
  assert.equal(got, ["cancelled"]);
});

A("an abandoned promise that rejects later is not reported, neither as unhandled nor to onError", async () => {
  const reported: unknown[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const s = createScheduler({ onError: (e) => void reported.push(e) });
    let reject!: (e: unknown) => void;
    const p = new Promise((_, r) => (reject = r));
    const t = s.run(function* () {
      yield* wait(p);
    });
    await hostTurn();
    await t.cancel();
    reject(new Error("too late"));
    await hostTurn();
    await hostTurn();
    assert.equal(unhandled, []);
    assert.equal(reported, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

A("a rejection is thrown at the await, with the task's frames in its stack", async () => {
  const s = createScheduler();
  const o = await outcome(
    s.run(function* fetcher() {
      yield* call(async function load() {
        throw new Error("db down");
      });
    }),
  );
  assert.is(o.state, "failed");
  const stack = (o as { error: Error }).error.stack!;
  assert.match(stack, /\n {4}at skein: performing call\(load\)\n {4}at skein: in task #1 fetcher, a root task$/);
});

A("100,000 tasks each await three async calls, and all of them one shared promise", async () => {
  const s = createScheduler();
  const N = 100_000;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const t = s.run(function* () {
    let sum = 0;
    for (let i = 0; i < N; i++) {
      yield* fork(function* () {
        let x = yield* call(async (v: number) => v + 1, i);
        x = yield* call(async (v: number) => v + 1, x);
        yield* wait(gate);
        x = yield* call(async (v: number) => v + 1, x);
        sum += x - 3 - i;
      });
    }
    yield* sleep(1);
    open();
    return sum;
  });
  assert.is(await t, 0);
});

A("a thenable that calls back synchronously, twice, counts once; so does one that calls back twice later", async () => {
  const s = virtual();
  const sync = { then: (ok: (v: number) => void, fail: (e: unknown) => void) => (ok(1), ok(2), fail(new Error("third"))) };
  let later: ((v: number) => void) | undefined;
  const async_ = { then: (ok: (v: number) => void) => void (later = ok) };
  const t = s.run(function* () {
    const a = yield* wait(sync as PromiseLike<number>);
    const b = yield* call(() => sync as PromiseLike<number>);
    const c = yield* wait(async_ as unknown as PromiseLike<number>);
    return [a, b, c];
  });
  while (later === undefined) await hostTurn();
  later(3);
  later(4);
  assert.equal(await t, [1, 1, 3]);
  assert.equal(s.reported, []);
});

A("a thenable that calls back during another scheduler's step does not run its task inside that step", async () => {
  const a = createScheduler();
  const b = createScheduler();
  const order: string[] = [];
  let callback: ((v: string) => void) | undefined;
  const waiting = b.run(function* () {
    order.push(yield* wait({ then: (ok: (v: string) => void) => void (callback = ok) } as unknown as PromiseLike<string>));
  });
  while (callback === undefined) await hostTurn();
  await a.run(function* () {
    callback!("b resumed");
    order.push("a's step went on");
  });
  await waiting;
  assert.equal(order, ["a's step went on", "b resumed"]);
});

A("a promise that never settles, then cancelled: nothing is left in flight (the virtual clock jumps again)", async () => {
  const s = virtual();
  const t = s.run(function* () {
    const stuck = yield* fork(function* () {
      yield* call(() => new Promise(() => {}));
    });
    yield* sleep(0); // the child runs, and waits
    yield* cancel(stuck);
    yield* sleep(1000); // jumps only if the abandoned promise is no longer counted in flight
    return [stuck.state, s.now()];
  });
  assert.equal(await t, ["cancelled", 1000]);
});

A("a stream of settled promises never starves the host: a timer set meanwhile fires", async () => {
  const s = createScheduler();
  let fired = false;
  const t = s.run(function* () {
    setTimeout(() => (fired = true), 1);
    const started = Date.now();
    let n = 0;
    while (!fired && Date.now() - started < 10_000) {
      n = yield* call(async (x: number) => x + 1, n);
    }
    return fired;
  });
  assert.is(await t, true);
});

A("a forgotten yield* after an await is still reported", async () => {
  const s = virtual();
  await s.run(function* () {
    yield* call(async () => 1);
    void sleep(5); // forgotten
  });
  assert.is(s.reported.length, 1);
  assert.match(String((s.reported[0] as Error).message), /sleep\(5\) was made in task #1 .* but never yielded/);
});

A("an observer sees a task woken by a promise resume and suspend as any other", async () => {
  const events: string[] = [];
  const s = createScheduler({
    observer: {
      resumed: (t) => void events.push(`resumed ${t.id}`),
      suspended: (t, on) => void events.push(`suspended ${t.id} on ${String(on)}`),
      ended: (t) => void events.push(`ended ${t.id}`),
    },
  });
  await s.run(function* () {
    yield* call(async function load() {
      return 1;
    });
  });
  assert.equal(events, ["suspended 1 on call(load)", "resumed 1", "ended 1"]);
});

A("tasks woken together by promises all run, in the order their promises settled", async () => {
  const s = createScheduler();
  const order: number[] = [];
  const resolvers: (() => void)[] = [];
  const t = s.run(function* () {
    for (let i = 0; i < 5; i++) {
      yield* spawn(function* () {
        yield* wait(new Promise<void>((r) => resolvers.push(r)));
        order.push(i);
        yield* suspend();
      });
    }
    yield* sleep(1);
    for (const i of [3, 1, 4, 0, 2]) resolvers[i]!();
    yield* sleep(1);
    return order;
  });
  assert.equal(await t, [3, 1, 4, 0, 2]);
});

A("a task woken by a promise that forks sees its child run before the host's next turn", async () => {
  const s = createScheduler();
  const order: string[] = [];
  const t: Task<string[]> = s.run(function* () {
    yield* call(async () => 1);
    yield* fork(function* () {
      order.push("child");
    });
    order.push("parent");
    void setImmediate(() => order.push("host turn"));
    yield* self();
    return order;
  });
  const result = await t;
  assert.equal(result.slice(0, 2), ["parent", "child"]);
});

A("a task that computes for a while between awaits still lets the host in about once a slice", async () => {
  // Each await is settled at once, then the step computes for 2 ms: the host must get its turn
  // after a slice (5 ms: 3 or 4 steps), not after 64 such steps (the clock read every 64th run).
  const s = createScheduler();
  let steps = 0;
  let stop = false;
  const t = s.run(function* () {
    while (!stop && steps < 1000) {
      yield* call(async () => 1);
      const end = performance.now() + 2;
      while (performance.now() < end);
      steps++;
    }
  });
  await new Promise((r) => setTimeout(r, 10)); // under way
  const before = steps;
  await hostTurn();
  const between = steps - before;
  stop = true;
  await t;
  assert.ok(between <= 16, `${between} steps of 2 ms ran before the host had a turn`);
});

A("a sleeper due when a promise wakes a task is woken in that run, not after the host's turn", async () => {
  // Real clock: the sleep must not fall due before the promise settles, so it is long enough for
  // a loaded machine's host turn, and a stalled attempt (the sleeper woke already) is tried again.
  const attempt = async (): Promise<{ early: boolean; inBurst: string[]; stalled: boolean }> => {
    const s = createScheduler();
    const order: string[] = [];
    let resolve!: () => void;
    let sleptAt = 0;
    const p = new Promise<void>((r) => (resolve = r));
    const t = s.run(function* () {
      yield* fork(function* () {
        sleptAt = performance.now();
        yield* sleep(50);
        order.push("sleeper");
      });
      yield* fork(function* () {
        yield* wait(p);
        order.push("woken");
      });
    });
    await hostTurn(); // both wait
    const early = order.length > 0;
    while (performance.now() < sleptAt + 70); // the sleep is due; its host timer cannot fire yet
    const resolvedAt = performance.now();
    resolve();
    for (let i = 0; i < 5; i++) await null; // the microtasks of this burst have run, the host has not had a turn
    const inBurst = [...order];
    // A machine that stalled the burst past a time slice ends it early, rightly: try again.
    const stalled = performance.now() - resolvedAt > 4;
    await t;
    return { early, inBurst, stalled };
  };
  let r = await attempt();
  for (let tries = 1; (r.early || r.stalled) && tries < 5; tries++) r = await attempt();
  assert.equal(r.early || r.stalled, false, "the machine stalled in every attempt");
  assert.equal(r.inBurst, ["woken", "sleeper"]);
});

A("a shield around a function that returns a promise waits for it, wherever the time slice ends (a preemption right after the shield returned undefined)", async () => {
  const missed: number[] = [];
  for (let k = 0; k < 600; k++) {
    const s = virtual();
    const v = await s.run(function* () {
      for (let i = 0; i < k; i++) yield* call(() => i); // moves where the budget runs out
      return yield* shield((() => Promise.resolve("value")) as never); // (untyped: a function that returns a promise)
    });
    if (v !== "value") missed.push(k);
  }
  assert.equal(missed, []);
});

A.run();
