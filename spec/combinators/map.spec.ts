// map(): at most n in flight, results in input order, first failure cancels the rest.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { call, cancel, cooperate, fork, isCancelled, join, map, self, sleep, type MapOptions, type Operation, type Settled } from "../../lib/index.js";
import { outcome, runVirtual, virtual } from "../helpers.js";

test("keeps at most `concurrency` in flight and returns results in input order", async () => {
  let inFlight = 0;
  let most = 0;
  const { value, now } = await runVirtual(function* () {
    return yield* map(
      [30, 10, 20, 10, 10],
      function* (ms, i): Operation<string> {
        most = Math.max(most, ++inFlight);
        yield* sleep(ms);
        inFlight--;
        return `${i}:${ms}`;
      },
      { concurrency: 2 },
    );
  });
  assert.equal(value, ["0:30", "1:10", "2:20", "3:10", "4:10"]);
  assert.is(most, 2);
  assert.is(now, 40);
});

test("without a limit everything runs at once; fn may return a value or a promise", async () => {
  const { value, now } = await runVirtual(function* () {
    const a = yield* map([1, 2, 3], (n) => n * 2);
    const b = yield* map([1, 2], (n) => Promise.resolve(n + 1));
    const c = yield* map(new Set([5, 5, 6]), function* (n) {
      yield* sleep(n);
      return n;
    });
    return [a, b, c];
  });
  assert.equal(value, [[2, 4, 6], [2, 3], [5, 6]]);
  assert.is(now, 6);
});

test("the first failure cancels the rest, waits for their cleanup, and is thrown", async () => {
  const err = new Error("item 1 failed");
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    try {
      yield* map(
        [0, 1, 2, 3],
        function* (i) {
          try {
            yield* sleep(i === 1 ? 5 : 100);
            if (i === 1) throw err;
            log.push(`${i} finished`);
          } finally {
            log.push(`${i} cleaned up`);
          }
        },
        { concurrency: 3 },
      );
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
  assert.equal(log.sort(), ["0 cleaned up", "1 cleaned up", "2 cleaned up"]);
});

test("cancelled while its items run, map throws Cancelled: it never returns a half-filled array", async () => {
  const { value } = await runVirtual(function* () {
    let got: unknown = "nothing";
    const t = yield* fork(function* () {
      try {
        got = yield* map([10, 20, 30], function* (ms) {
          yield* sleep(ms);
          return ms;
        });
      } catch (e) {
        got = isCancelled(e) ? "cancelled" : e;
        throw e;
      }
    });
    yield* sleep(15);
    yield* cancel(t);
    return got;
  });
  assert.is(value, "cancelled");
});

test("an async iterable is pulled only as capacity frees", async () => {
  let pulled = 0;
  async function* source() {
    for (let i = 0; i < 6; i++) {
      pulled++;
      yield i;
    }
  }
  const seen: number[] = [];
  const { value } = await runVirtual(function* () {
    return yield* map(
      source(),
      function* (n) {
        seen.push(pulled);
        yield* sleep(10);
        return n * n;
      },
      { concurrency: 2 },
    );
  });
  assert.equal(value, [0, 1, 4, 9, 16, 25]);
  assert.ok(seen.every((p, i) => p <= i + 3), `pulled ahead: ${seen}`);
});

test("a failure stops a map over a source that never ends", async () => {
  async function* jobs() {
    yield 1;
    await new Promise(() => {});
  }
  const err = new Error("job 1 failed");
  const { createScheduler } = await import("../../lib/index.js");
  const t0 = performance.now();
  const o = await createScheduler()
    .run(() =>
      map(jobs(), function* () {
        throw err;
      }, { concurrency: 2 }),
    )
    .then(() => "completed", (e) => e);
  assert.is(o, err);
  assert.ok(performance.now() - t0 < 1000);
});

test("with settle: every item runs and every outcome is returned, in order", async () => {
  const { value } = await runVirtual(function* () {
    return yield* map(
      [1, 2, 3, 4],
      function* (n) {
        yield* sleep(n);
        if (n % 2 === 0) throw new Error(`${n} is even`);
        return `${n} is odd`;
      },
      { concurrency: 2, settle: true },
    );
  });
  assert.equal(
    value.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message)),
    ["1 is odd", "2 is even", "3 is odd", "4 is even"],
  );
});

test("a pool of `concurrency` tasks serves every item: 10,000 items, 10 tasks", async () => {
  const { value } = await runVirtual(function* () {
    const tasks = new Set<number>();
    const out = yield* map(
      Array.from({ length: 10_000 }, (_, i) => i),
      function* (i) {
        tasks.add((yield* self()).id);
        if (i % 100 === 0) yield* sleep(1);
        return i;
      },
      { concurrency: 10 },
    );
    return [tasks.size, out.length, out[9_999]];
  });
  assert.equal(value, [10, 10_000, 9_999]);
});

test("an async source is ended when map stops early, and its items may be undefined", async () => {
  let returned = 0;
  async function* source() {
    try {
      yield undefined;
      yield 1;
      for (;;) yield 2;
    } finally {
      returned++;
    }
  }
  const { value } = await runVirtual(function* () {
    const seen: unknown[] = [];
    try {
      yield* map(
        source(),
        function* (v) {
          seen.push(v);
          if (v === 2) throw new Error("stop");
        },
        { concurrency: 1 },
      );
    } catch (e) {
      return [seen, (e as Error).message];
    }
  });
  assert.equal(value, [[undefined, 1, 2], "stop"]);
  assert.is(returned, 1);
});

test("results are typed from fn: strings, arrays, promises and operations", async () => {
  const { value } = await runVirtual(function* () {
    const a: string[] = yield* map([1], (n) => `page ${n}`);
    const b: number[][] = yield* map([1], (n) => [n]);
    const c: number[] = yield* map([1], (n) => Promise.resolve(n));
    const d: boolean[] = yield* map([1], function* () {
      yield* sleep(1);
      return true;
    });
    return [a, b, c, d];
  });
  assert.equal(value, [["page 1"], [[1]], [1], [true]]);
});

test("bad arguments fail at the call", () => {
  assert.throws(() => map([1], (x) => x, { concurrency: 0 }), RangeError);
  assert.throws(() => map([1], (x) => x, { concurrency: 1.5 }), RangeError);
  assert.throws(() => map([1], 5 as never), TypeError);
  assert.throws(() => map(7 as never, (x) => x), (e: unknown) => e instanceof TypeError && /iterable or async iterable/.test(String(e)));
});

test("with settle: an item that cancels its task is one rejected outcome; the items after it still run", async () => {
  const { value } = await runVirtual(function* () {
    const out = yield* map(
      [1, 2, 3],
      function* (n) {
        if (n === 1) yield* cancel(yield* self());
        yield* sleep(1);
        return n;
      },
      { concurrency: 1, settle: true },
    );
    yield* sleep(1);
    return out.map((o) => (o.status === "fulfilled" ? o.value : isCancelled(o.reason) ? "cancelled" : String(o.reason)));
  });
  assert.equal(value, ["cancelled", 2, 3]);
});

test("stopped early, map ends a generator source: its finally blocks run, as for…of runs them", async () => {
  const log: string[] = [];
  function* items() {
    try {
      for (let i = 1; ; i++) yield i;
    } finally {
      log.push("source ended");
    }
  }
  const { value } = await runVirtual(function* () {
    try {
      yield* map(items(), function* (n) {
        yield* sleep(1);
        if (n === 3) throw new Error("item 3 failed");
        return n;
      }, { concurrency: 2 });
    } catch (e) {
      log.push(String(e));
    }
    return log;
  });
  assert.equal(value, ["source ended", "Error: item 3 failed"]);
});

test("a long map of plain values lets other tasks run now and then, and still returns every result in order", async () => {
  const { value } = await runVirtual(function* () {
    let turns = 0;
    let mapping = true;
    yield* fork(function* () {
      while (mapping) {
        turns++;
        yield* cooperate();
      }
    });
    const out = yield* map(Array.from({ length: 10_000 }, (_, i) => i), (x) => x * 2, { concurrency: 3 });
    mapping = false;
    return { turns, ok: out.every((v, i) => v === 2 * i) && out.length === 10_000 };
  });
  assert.ok(value.ok);
  assert.ok(value.turns >= 5, `the other task ran ${value.turns} times during the map`);
});

test("each item's operation is a scope: its forks finish before its result, before the worker takes the next item", async () => {
  const log: string[] = [];
  const { value, s } = await runVirtual(function* () {
    return yield* map(
      [1, 2, 3],
      function* (x): Operation<number> {
        log.push(`start ${x}`);
        yield* fork(function* () {
          yield* sleep(10);
          log.push(`child of ${x} done`);
        });
        return x * 10;
      },
      { concurrency: 1 },
    );
  });
  assert.equal(value, [10, 20, 30]);
  assert.equal(log, ["start 1", "child of 1 done", "start 2", "child of 2 done", "start 3", "child of 3 done"]);
  assert.equal(s.reported, []);
});

test("fn may return an effect, a task or a promise: each is run or awaited, none reported as forgotten", async () => {
  const { value, now, s } = await runVirtual(function* () {
    const slept = yield* map([5, 7], (ms) => sleep(ms), { concurrency: 1 });
    const awaited = yield* map([1, 2], (x) => Promise.resolve(x + 1), { concurrency: 2 });
    const tasks = yield* map([3, 4], function* (x) {
      const t = yield* fork(function* () {
        return x * 2;
      });
      return yield* map([t], (task) => task, { concurrency: 1 });
    }, { concurrency: 2 });
    return { slept, awaited, tasks };
  });
  assert.equal(value.slept, [undefined, undefined]);
  assert.equal(value.awaited, [2, 3]);
  assert.equal(value.tasks, [[6], [8]]);
  assert.is(now, 12);
  assert.equal(s.reported, []);
});

test("an item's operation that ends or fails without waiting is an item like any other: its result in order; its error thrown, with the item's call and worker in its stack, the others cancelled and cleaned up", async () => {
  const { value } = await runVirtual(function* () {
    return yield* map([1, 2, 3], function* (x): Operation<number> {
      return x * 10;
    }, { concurrency: 2 });
  });
  assert.equal(value, [10, 20, 30]);

  const log: string[] = [];
  const s = virtual();
  const o = await outcome(
    s.run(function* main() {
      return yield* map(
        [0, 1, 2],
        function* failing(x): Operation<number> {
          try {
            if (x === 1) throw new Error("item 1 failed at once");
            yield* sleep(10);
            log.push(`${x} finished`);
            return x;
          } finally {
            log.push(`${x} cleaned up`);
          }
        },
        { concurrency: 3 },
      );
    }),
  );
  assert.is(o.state, "failed");
  const stack = ((o as { error: Error }).error.stack ?? "").split("\n");
  assert.equal(stack[0], "Error: item 1 failed at once");
  assert.match(stack[1]!, /^ {4}at failing \(.*map\.spec\.ts:\d+:\d+\)$/);
  assert.equal(stack.slice(2), ["    at skein: in call (a generator)", "    at skein: in task #3 map worker 2, forked by #1 main", "    at skein: in task #1 main, a root task"]);
  assert.equal(log, ["1 cleaned up", "0 cleaned up"]); // item 2 was never started
  assert.equal(s.reported, []);
});

test("an item's operation that fails after waiting has the same stack: its function, its call, its worker", async () => {
  const o = await outcome(
    virtual().run(function* main() {
      return yield* map([0, 1], function* late(x): Operation<number> {
        yield* sleep(5);
        if (x === 1) throw new Error("item 1 failed late");
        return x;
      }, { concurrency: 2 });
    }),
  );
  const stack = ((o as { error: Error }).error.stack ?? "").split("\n");
  assert.match(stack[1]!, /^ {4}at late \(.*map\.spec\.ts:\d+:\d+\)$/);
  assert.equal(stack.slice(2), ["    at skein: in call (a generator)", "    at skein: in task #3 map worker 2, forked by #1 main", "    at skein: in task #1 main, a root task"]);
});

test("a plain function that throws: its stack goes from your function to its worker, no frame of skein between", async () => {
  const o = await outcome(
    virtual().run(function* main() {
      return yield* map([0, 1], function plainFailing(x: number): number {
        if (x === 1) throw new Error("plain item failed");
        return x;
      }, { concurrency: 1 });
    }),
  );
  const stack = ((o as { error: Error }).error.stack ?? "").split("\n");
  assert.match(stack[1]!, /^ {4}at plainFailing \(.*map\.spec\.ts:\d+:\d+\)$/);
  assert.equal(stack.slice(2), ["    at skein: in task #2 map worker 1, forked by #1 main", "    at skein: in task #1 main, a root task"]);
});

test("a long map of operations that never wait lets other tasks run now and then, and returns every result in order", async () => {
  const { value } = await runVirtual(function* () {
    let turns = 0;
    let mapping = true;
    yield* fork(function* () {
      while (mapping) {
        turns++;
        yield* cooperate();
      }
    });
    const out = yield* map(Array.from({ length: 10_000 }, (_, i) => i), function* (x): Operation<number> {
      return x * 2;
    }, { concurrency: 3 });
    mapping = false;
    return { turns, ok: out.every((v, i) => v === 2 * i) && out.length === 10_000 };
  });
  assert.ok(value.ok);
  assert.ok(value.turns >= 5, `the other task ran ${value.turns} times during the map`);
});

test("an item that cancels the map without waiting: no item after it starts, map throws Cancelled", async () => {
  const started: number[] = [];
  const { value } = await runVirtual(function* () {
    const t = yield* fork(function* () {
      return yield* map([0, 1, 2, 3], function* (x): Operation<number> {
        started.push(x);
        if (x === 1) void t.cancel();
        return x;
      }, { concurrency: 1 });
    });
    try {
      yield* join(t);
      return "returned";
    } catch (e) {
      return isCancelled(e) ? "cancelled" : e;
    }
  });
  assert.is(value, "cancelled");
  assert.equal(started, [0, 1]);
});

test("an item that swallows Cancelled in a loop is stopped like any task: its finally runs, map ends", async () => {
  const log: string[] = [];
  const { value, s } = await runVirtual(function* () {
    const t = yield* fork(() =>
      map([1], function* (): Operation<void> {
        try {
          for (;;) {
            try {
              yield* sleep(10);
            } catch {
              // swallowed
            }
          }
        } finally {
          log.push("finally");
        }
      }, { concurrency: 1 }),
    );
    yield* sleep(15);
    yield* cancel(t);
    return t.state;
  });
  assert.is(value, "cancelled");
  assert.equal(log, ["finally"]);
  assert.is(s.reported.length, 1);
});


// Types: what map returns follows `settle`, also when the options are a variable.
export function* mapTypes(urls: string[], options: MapOptions, settleNow: boolean): Operation<void> {
  const get = (u: string) => Promise.resolve(u.length);
  const plain: number[] = yield* map(urls, get, { concurrency: 2 });
  const outcomes: Settled<number>[] = yield* map(urls, get, { settle: true });
  // @ts-expect-error the options may ask for outcomes: not a number[] for sure
  const unknownShape: number[] = yield* map(urls, get, options);
  const either: number[] | Settled<number>[] = yield* map(urls, get, { settle: settleNow });
  void [plain, outcomes, unknownShape, either];
}

test("an item whose first step calls an async function calls it once (the item taking its first step in the worker, and the 64th)", async () => {
  const calls: number[] = [];
  const { value } = await runVirtual(function* () {
    return yield* map(
      Array.from({ length: 200 }, (_, i) => i),
      function* (i) {
        return yield* call(async (x: number) => (calls.push(x), x * 2), i);
      },
      { concurrency: 3 },
    );
  });
  assert.equal(value, Array.from({ length: 200 }, (_, i) => i * 2));
  assert.equal(calls.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
});

test("an item that cancels its map in its first step and then waits: its finally runs; one that then throws fails the map with its error", async () => {
  const log: string[] = [];
  const s = virtual();
  const outcomes: unknown[] = [];
  for (const then of ["waits", "throws"]) {
    const t = s.run(function* () {
      return yield* map([0, 1, 2], function* (x): Operation<number> {
        if (x === 0) {
          void t.cancel(); // no wait: the worker is cancelled while the item's first step runs
          if (then === "throws") throw new Error("item 0 failed");
          try {
            yield* sleep(1);
          } finally {
            log.push("finally 0");
          }
        }
        return x;
      }, { concurrency: 1 });
    });
    const o = await outcome(t);
    outcomes.push(o.state === "failed" ? (o.error as Error).message : o.state);
  }
  assert.equal(outcomes, ["cancelled", "item 0 failed"]);
  assert.equal(log, ["finally 0"]);
  assert.equal(s.reported, []);
});
test("an array is read as for…of reads it: items pushed meanwhile are taken, holes are undefined, its own iterator is used", async () => {
  // Arrays are read by index, not through their iterator: the same items, in the same order.
  const { value } = await runVirtual(function* () {
    const grown = [1, 2];
    const a = yield* map(grown, (n) => {
      if (n < 4) grown.push(n + 2); // seen by a for…of over it, so by map
      return n * 10;
    }, { concurrency: 1 });
    const b = yield* map([1, , 3], (n, i) => `${i}:${n}`, { concurrency: 2 }); // eslint-disable-line no-sparse-arrays
    const own = [1, 2, 3];
    (own as { [Symbol.iterator]: unknown })[Symbol.iterator] = function* () {
      yield 7;
    };
    const c = yield* map(own, (n) => n, { concurrency: 2 });
    class Reversed extends Array<number> {}
    Object.defineProperty(Reversed.prototype, Symbol.iterator, {
      *value(this: number[]) {
        for (let i = this.length - 1; i >= 0; i--) yield this[i]!;
      },
    });
    const d = yield* map(Reversed.from([1, 2, 3]), (n) => n, { concurrency: 2 });
    const e = yield* map([1, 2, 3], (n) => n + 1, { concurrency: 2, settle: true });
    const f = yield* map([1, 2, 3], function* (n) { return n - 1; });
    return { a, b, c, d, e, f };
  });
  assert.equal(value, {
    a: [10, 20, 30, 40, 50],
    b: ["0:1", "1:undefined", "2:3"],
    c: [7],
    d: [3, 2, 1],
    e: [2, 3, 4].map((v) => ({ status: "fulfilled", value: v })),
    f: [0, 1, 2],
  });
});

test("an array whose iterator is replaced for all arrays is read through it", async () => {
  const next = Object.getPrototypeOf([][Symbol.iterator]()) as { next(): IteratorResult<unknown> };
  const original = next.next;
  next.next = function (this: Iterator<unknown>) {
    const r = original.call(this);
    return r.done === true || typeof r.value !== "string" ? r : { done: false, value: `${r.value}!` }; // (skein's own arrays hold no strings)
  };
  try {
    const { value } = await runVirtual(function* () {
      return yield* map(["a", "b"], (x) => x, { concurrency: 2 });
    });
    assert.equal(value, ["a!", "b!"]);
  } finally {
    next.next = original;
  }
});

test("a proxy of an array whose length is no whole number is read as for…of reads it (the length made a whole number)", async () => {
  // Array.isArray is true for a proxy of an array; its length is whatever the proxy says.
  for (const length of [undefined, Number.NaN, "x", 1.5, -1, "2"]) {
    const items = new Proxy([1, 2, 3], { get: (t, k, r) => (k === "length" ? length : Reflect.get(t, k, r)) });
    let taken = 0;
    const { value } = await runVirtual(function* () {
      return yield* map(items, (n) => {
        if (++taken > 5) throw new Error(`length ${String(length)}: more items than it has`);
        return n;
      });
    });
    assert.equal(value, [...items], `length ${String(length)}`);
  }
});

test("an array iterator replaced before skein is loaded (a polyfill, instrumentation) is used, as for…of uses it", () => {
  // Its own process: skein must be loaded after the replacement.
  const program = `
    // Only this test's items are changed: Node 24 resolves modules on this thread, iterating
    // arrays of strings (tsx's extensions, say) through the replaced iterator too.
    const mine = (v) => typeof v === "string" && v.startsWith("item-");
    const prototype = Object.getPrototypeOf([][Symbol.iterator]());
    const next = prototype.next;
    prototype.next = function () {
      const r = next.call(this);
      return r.done || !mine(r.value) ? r : { done: false, value: r.value + "!" };
    };
    const values = Array.prototype[Symbol.iterator];
    Array.prototype[Symbol.iterator] = function () {
      const it = values.call(this);
      return { next: () => { const r = it.next(); return r.done || !mine(r.value) ? r : { done: false, value: r.value + "?" }; } };
    };
    const { map, run } = await import("./lib/index.ts");
    process.stdout.write(JSON.stringify([[...["item-a", "item-b"]], await run(map(["item-a", "item-b"], (x) => x, { concurrency: 2 }))]));
  `;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], {
    cwd: new URL("../..", import.meta.url),
    encoding: "utf8",
    timeout: 20_000,
  });
  const [forOf, mapped] = JSON.parse(out) as [string[], string[]];
  assert.equal(forOf, ["item-a!?", "item-b!?"]);
  assert.equal(mapped, forOf);
});

test("an item made directly on a generator function's prototype, with its own next(), runs as call() runs it, under a concurrency limit too", async () => {
  // The workers of a limited map take an item's first step themselves, with the native next,
  // which refuses such an object: it is then run as a call, stepped through its own next.
  const log: string[] = [];
  function* inner(i: number) {
    try {
      if (i % 2) yield* sleep(1);
      return i * 10;
    } finally {
      log.push(`${i}`);
    }
  }
  const fake = (i: number) => {
    const g = inner(i);
    return Object.create(inner.prototype, {
      next: { value: (v: unknown) => g.next(v as never) },
      throw: { value: (e: unknown) => g.throw(e) },
      return: { value: (v: unknown) => g.return(v as never) },
    }) as Operation<number>;
  };
  for (const options of [{}, { concurrency: 2 }, { concurrency: 2, settle: true }] as MapOptions[]) {
    log.length = 0;
    const { value, s } = await runVirtual(function* () {
      return yield* map([0, 1, 2, 3], fake, options);
    });
    const want = options.settle ? [0, 10, 20, 30].map((v) => ({ status: "fulfilled", value: v })) : [0, 10, 20, 30];
    assert.equal(value, want, JSON.stringify(options));
    assert.equal(log.sort(), ["0", "1", "2", "3"]);
    assert.equal(s.reported, []);
  }
  // A real generator whose first step throws a TypeError there fails with it, run once.
  let ran = 0;
  const bad = (): Generator<never, never> =>
    (function* () {
      ran++;
      throw new TypeError("mine");
    })();
  const out = (await outcome(virtual().run(function* () {
        return yield* map([1], bad, { concurrency: 2 });
      }))) as { state: string; error: unknown };
  assert.is(out.state, "failed");
  assert.is(String(out.error), "TypeError: mine");
  assert.is(ran, 1);
});

test("an array that shrinks or grows while it is mapped: one result per item taken, no holes, for every way of running it", async () => {
  for (const options of [{ concurrency: 1 }, { concurrency: 3 }, {}, { concurrency: 2, settle: true }] as MapOptions[]) {
    const shrinking = [1, 2, 3, 4, 5];
    const growing = [1, 2];
    const { value } = await runVirtual(function* () {
      const a = yield* map(shrinking, (x) => {
        if (x === 1) shrinking.length = 3;
        return x * 10;
      }, options);
      const b = yield* map(growing, (x) => {
        if (x === 1) growing.push(3);
        return x * 10;
      }, options);
      return [a, b];
    });
    const as = (v: number[]) => (options.settle ? v.map((x) => ({ status: "fulfilled", value: x })) : v);
    const [a, b] = value as unknown[][];
    const want = options.concurrency === undefined ? [as([10, 20, 30, 40, 50]), as([10, 20])] : [as([10, 20, 30]), as([10, 20, 30])];
    assert.equal([a, b], want, JSON.stringify(options));
    assert.ok(Object.keys(a!).length === a!.length && Object.keys(b!).length === b!.length, "a hole in the results");
  }
});

test.run();
