// Attack: sleepers on the virtual clock through the public API.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cancel, createScheduler, DeadlockError, fork, race, retry, shield, sleep, spawn, timeout, TimeoutError, type Task } from "../../lib/index.js";
import { runVirtual, virtual } from "../helpers.js";
import { createServer, connect, type Socket } from "node:net";

function shuffled(n: number, seed: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

async function many(deadlineOf: (i: number) => number, n: number) {
  const s = virtual();
  const log: number[] = [];
  const at: number[] = [];
  await s.run(function* () {
    for (let i = 0; i < n; i++) {
      const d = deadlineOf(i);
      yield* fork(function* () {
        yield* sleep(d);
        log.push(i);
        at.push(s.now());
      });
    }
  });
  assert.is(log.length, n, "every sleeper wakes once");
  for (let k = 0; k < n; k++) assert.is(at[k], deadlineOf(log[k]!), "at its deadline");
  for (let k = 1; k < n; k++) {
    const a = deadlineOf(log[k - 1]!), b = deadlineOf(log[k]!);
    assert.ok(a < b || (a === b && log[k - 1]! < log[k]!), `order at ${k}`);
  }
  assert.equal(s.reported, []);
  return log;
}

const N = 100_000;
test("100k sleepers, shuffled deadlines: once each, at the deadline, in order, FIFO at equal ones; twice the same", async () => {
  const perm = shuffled(N, 12345);
  await many((i) => perm[i]! + 1, N);
  const small = shuffled(N / 5, 777);
  assert.equal(await many((i) => small[i]! % 1000, N / 5), await many((i) => small[i]! % 1000, N / 5), "the same interleaving twice");
});
test("20k sleepers, increasing, equal, few distinct, and alternating in-order/earlier deadlines", async () => {
  await many((i) => i + 1, N / 5);
  await many(() => 7, N / 5);
  await many((i) => (i % 10) + 0.5, N / 5);
  await many((i) => (i % 2 === 0 ? 1000 - i / 1000 : 5), N / 5);
});

test("cancelling sleepers at the run's head, middle and tail: never fire; the rest on time", async () => {
  for (const kill of [[0], [2], [4], [0, 1], [3, 4], [0, 2, 4], [1, 2, 3], [0, 1, 2, 3, 4]]) {
    const log: string[] = [];
    const sched = virtual();
    current = sched;
    await sched.run(function* () {
      const ts: Task<void>[] = [];
      for (let i = 0; i < 5; i++) {
        ts.push(yield* fork(function* () {
          yield* sleep(10 * (i + 1));
          log.push(`${i}@${s().now()}`);
        }));
      }
      yield* sleep(5);
      for (const k of kill) yield* cancel(ts[k]!);
      // then an earlier one (a bucket) and equal ones
      yield* fork(function* () {
        yield* sleep(10);
        log.push(`e@${s().now()}`);
      });
      yield* fork(function* () {
        yield* sleep(25);
        log.push(`q@${s().now()}`);
      });
    });
    const expected: string[] = [];
    const alive = [0, 1, 2, 3, 4].filter((i) => !kill.includes(i)).map((i) => [10 * (i + 1), `${i}@${10 * (i + 1)}`] as const);
    const all = [...alive, [15, "e@15"] as const, [30, "q@30"] as const].sort((x, y) => x[0] - y[0]);
    for (const [, l] of all) expected.push(l);
    assert.equal(log, expected, `kill ${kill}`);
    assert.is(sched.now(), Math.max(30, ...all.map((x) => x[0])));
    assert.equal(sched.reported, []);
  }
  function s() {
    return current!;
  }
});
let current: { now(): number } | null = null;

test("cancelled then sleeping again (in a shield) until the same deadline wakes once, at it", async () => {
  const s = virtual();
  const log: string[] = [];
  await s.run(function* () {
    const a = yield* spawn(function* () {
      try {
        yield* sleep(30);
      } finally {
        yield* shield(sleep(20)); // cancelled at 10: until 30 again
        log.push(`a cleanup @${s.now()}`);
      }
    });
    yield* fork(function* () {
      yield* sleep(30);
      log.push(`b @${s.now()}`);
    });
    yield* sleep(10);
    yield* cancel(a);
    log.push(`cancel returned @${s.now()}`);
  });
  assert.equal(log, ["b @30", "a cleanup @30", "cancel returned @30"]);
});

test("sleep(0), fractional, huge, Infinity; NaN and negative are clear errors", async () => {
  const { value, now } = await runVirtual(function* () {
    const seen: number[] = [];
    const s = yield* spawn(function* () {
      yield* sleep(Infinity);
    });
    yield* sleep(0);
    yield* sleep(0.25);
    seen.push(0.25);
    yield* sleep(0.5);
    yield* sleep(2 ** 31 + 5);
    yield* cancel(s);
    return seen;
  });
  assert.equal(value, [0.25]);
  assert.is(now, 0.75 + 2 ** 31 + 5);
  assert.throws(() => sleep(NaN), (e: Error) => e instanceof RangeError && /ms >= 0/.test(e.message));
  assert.throws(() => sleep(-1), (e: Error) => e instanceof RangeError && /ms >= 0, got -1/.test(e.message));
  assert.throws(() => sleep("5" as unknown as number), TypeError);
});

test("the only sleeper cancelled: its canceller blocked on nothing else is a deadlock, not a hang", async () => {
  const s = createScheduler({ clock: "virtual" });
  const t = s.run(function* () {
    const a = yield* fork(function* () {
      yield* sleep(100);
    });
    yield* sleep(1);
    yield* cancel(a);
    yield* sleep(Infinity);
  });
  try {
    await t;
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DeadlockError);
  }
  assert.is(s.now(), 1);
});

test("nested timeouts, races and retries: many deadlines, in and out of order", async () => {
  const { value, now } = await runVirtual(function* () {
    const out: string[] = [];
    function* nest(depth: number): Generator<any, string, any> {
      if (depth === 0) {
        yield* sleep(1000);
        return "leaf";
      }
      return yield* timeout(100 * depth + 50, () => nest(depth - 1));
    }
    try {
      out.push(yield* nest(8));
    } catch (e) {
      out.push((e as Error).name + "@" + 0);
    }
    const r = yield* race([sleep(30), sleep(20), sleep(20), timeout(5, sleep(1)) as any]);
    out.push(String(r));
    let tries = 0;
    try {
      yield* retry(
        function* () {
          tries++;
          yield* sleep(7);
          throw new Error("flaky");
        },
        { attempts: 5, initial: 3, factor: 1, jitter: "none" } as any,
      );
    } catch (e) {
      out.push(`${(e as Error).message} x${tries}`);
    }
    return out;
  });
  assert.equal(value[0], "TimeoutError@0");
  assert.equal(value[2], "flaky x5");
  assert.is(now, 150 + 1 + 5 * 7 + 4 * 3);
});

test("a setImmediate and a promise chain queued before a jump run before it, at every jump of a run", async () => {
  const s = virtual();
  const seen: string[] = [];
  await s.run(function* () {
    for (let i = 1; i <= 50; i++) {
      const k = i;
      setImmediate(() => seen.push(`imm${k}`));
      void Promise.resolve().then(() => null).then(() => seen.push(`p${k}`));
      yield* sleep(1); // in order: the run
      seen.push(`woke${k}@${s.now()}`);
    }
  });
  for (let i = 1; i <= 50; i++) {
    const w = seen.indexOf(`woke${i}@${i}`);
    assert.ok(w > seen.indexOf(`imm${i}`) && w > seen.indexOf(`p${i}`), `jump ${i}: ${seen.slice(0, 12)}`);
  }
});

test("a catch-all around sleep in a loop, cancelled in the run's middle: it ends, others unaffected", async () => {
  const s = virtual();
  const log: string[] = [];
  await s.run(function* () {
    const loops: Task<void>[] = [];
    for (let i = 0; i < 5; i++) {
      loops.push(yield* fork(function* () {
        for (let n = 0; n < 1000; n++) {
          try {
            yield* sleep(10 + i);
          } catch {
            log.push(`caught ${i}@${s.now()}`);
          }
        }
        log.push(`loop ${i} ended`);
      }));
    }
    yield* sleep(25);
    yield* cancel(loops[2]!);
    yield* cancel(loops[0]!);
    yield* cancel(loops[4]!);
    yield* sleep(1000);
    yield* cancel(loops[1]!);
    yield* cancel(loops[3]!);
  });
  const summary = new Map<string, number>(); for (const l of log) summary.set(l, (summary.get(l) ?? 0) + 1); 
  // a catch-all that swallows Cancelled is stopped after 100 swallows (as on 13c966b); never ends normally
  assert.equal([...summary], [["caught 2@25", 100], ["caught 0@25", 100], ["caught 4@25", 100], ["caught 1@1025", 100], ["caught 3@1025", 100]]);
  assert.ok(s.reported.every((e) => (e as Error).name === "SwallowedCancel"), "only the swallowed-Cancelled reports");
});

test("two virtual schedulers at once: each its own clock, every sleeper on time", async () => {
  const run = (seed: number) => {
    const s = virtual();
    const perm = shuffled(2000, seed);
    let bad = 0;
    let woke = 0;
    const p = s.run(function* () {
      for (let i = 0; i < 2000; i++) {
        const d = i % 3 === 0 ? perm[i]! + 1 : i + 1;
        yield* fork(function* () {
          yield* sleep(d);
          woke++;
          if (s.now() !== d) bad++;
        });
      }
    });
    return p.then(() => [woke, bad, s.now()]);
  };
  assert.equal(await Promise.all([run(1), run(2)]), [[2000, 0, 2000], [2000, 0, 2000]]);
});

test("an I/O callback ready before a jump runs before it (loopback socket)", async () => {
  let server!: Socket;
  const srv = createServer((c) => (server = c));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const client = connect((srv.address() as { port: number }).port, "127.0.0.1");
  await new Promise((r) => client.once("connect", r));
  while (server === undefined) await new Promise((r) => setImmediate(r));
  const s = virtual();
  const seen: number[] = [];
  server.on("data", () => seen.push(s.now()));
  await new Promise((r) => setTimeout(r, 20)); // the server side is reading (flowing) before the first write
  await s.run(function* () {
    for (let i = 0; i < 20; i++) {
      client.write("x");
      const until = Date.now() + 5;
      while (Date.now() < until); // the byte is in the kernel before the task sleeps
      yield* sleep(1);
    }
  });
  client.destroy();
  server.destroy();
  srv.close();
  assert.equal(seen, Array.from({ length: 20 }, (_, k) => k), `data seen at ${seen}`);
});

test.run();
