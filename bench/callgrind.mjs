// Workloads for instruction counts: node bench/callgrind.mjs <workload> <n>, on the built dist/.
// bench/callgrind.sh runs one under callgrind at two sizes and prints instructions per item;
// bench/callgrind-profile.mjs says which functions they are spent in.
import * as skein from "../dist/index.mjs";
import { mixEffects } from "./mixed.mjs";
const { all, call, join, channel, createScheduler, fork, map, mutex, race, receive, select, self, semaphore, sleep, spawn, suspend, timeout, wait } = skein;
const [which, nArg] = process.argv.slice(2);
const n = Number(nArg);
const s = createScheduler();
// SKEIN_MIXED=1: a program's mix of effects first (see mixed.mjs).
if (process.env.SKEIN_MIXED === "1") await mixEffects(skein, s);
const turn = () => new Promise((r) => setImmediate(r));
const inc = (x) => x + 1;
// The items of the map rows: a plain loop (Array.from({ length: n }) cost ~730 instructions an item,
// more than most pools themselves, until round 6).
const range = (n) => { const a = []; for (let i = 0; i < n; i++) a.push(i); return a; };
/** `n` throws of one error, each caught five calls up. */
function throws(n) {
  const error = new Error("thrown");
  const below = (k) => (k === 0 ? thrower(error) : below(k - 1) + 1);
  let c = 0;
  for (let i = 0; i < n; i++) {
    try {
      below(3);
    } catch {
      c++;
    }
  }
  return c;
}
function thrower(e) {
  throw e;
}
const w = {
  async self() {
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) if ((yield* self()).id > 0) c++; return c; });
  },
  // A call of an async function: one promise awaited per item (what fetch or a db call costs beyond its I/O).
  async "call-async"() {
    const f = async (x) => x + 1;
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* call(f, c); return c; });
  },
  // The same wait on a promise made outside the call (yield* wait(promise)).
  async wait() {
    const f = async (x) => x + 1;
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* wait(f(c)); return c; });
  },
  // The native await it is measured against.
  async "native-await"() {
    const f = async (x) => x + 1;
    let c = 0;
    for (let i = 0; i < n; i++) c = await f(c);
  },
  // A call of a generator function made anew each time, as `yield* call(function* () { … })` in a
  // loop does: V8 gives each generator function a prototype and a map when first called.
  async "call-fresh"() {
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* call(function* () { return c + 1; }); return c; });
  },
  // The native equivalent: an async arrow made anew each time (it has no prototype).
  async "native-fresh"() {
    let c = 0;
    for (let i = 0; i < n; i++) c = await (async () => c + 1)();
  },
  // A throw caught five calls up, from a host callback and from a microtask: V8 records where a
  // throw happened in the one and not in the other (docs/performance.md, the thirty-sixth round).
  async "throw-host"() {
    await new Promise((done) => setImmediate(() => done(throws(n))));
  },
  async "throw-microtask"() {
    await new Promise((done) => setImmediate(() => queueMicrotask(() => done(throws(n)))));
  },
  // The combinators, one call each an item: their own bodies and members cost what they add.
  async timeout() {
    function* one(x) { return x + 1; }
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* timeout(1000, call(one, c)); return c; });
  },
  // A timeout that fires, caught and dropped (a handler that gives up on a slow call), on a
  // virtual clock: the timer task, the cancel of the operation, the TimeoutError.
  async "timeout-fired"() {
    await createScheduler({ clock: "virtual" }).run(function* () { let c = 0; for (let i = 0; i < n; i++) { try { yield* timeout(1, suspend()); } catch { c++; } } return c; });
  },
  async race() {
    function* one(x) { return x + 1; }
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* race([call(one, c), sleep(1000)]); return c; });
  },
  // What a member of all() costs at the least: a task forked and joined, its body returning at once.
  async forkjoin() {
    function* one(x) { return x + 1; }
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* join(yield* fork(one(c))); return c; });
  },
  async all() {
    function* one(x) { return x + 1; }
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = (yield* all([call(one, c), call(one, c)]))[0]; return c; });
  },
  // The same with an operation that waits (a receive a task started before it serves): the
  // timeout's timer task starts, sleeps, and is cancelled when the receive completes.
  async "timeout-wait"() {
    function* sendOne(ch, v) { yield* ch.send(v); }
    await s.run(function* () {
      const ch = channel();
      let c = 0;
      for (let i = 0; i < n; i++) { yield* spawn(sendOne(ch, i)); c = (c + (yield* timeout(1000, ch.receive()))) | 0; }
      return c;
    });
  },
  // What it costs without the timeout, to subtract.
  async "receive-wait"() {
    function* sendOne(ch, v) { yield* ch.send(v); }
    await s.run(function* () {
      const ch = channel();
      let c = 0;
      for (let i = 0; i < n; i++) { yield* spawn(sendOne(ch, i)); c = (c + (yield* ch.receive())) | 0; }
      return c;
    });
  },
  async "select-timeout"() {
    await s.run(function* () {
      const ch = channel(1);
      let c = 0;
      for (let i = 0; i < n; i++) { yield* ch.send(i); c = (c + (yield* select({ a: ch.receive() }, { timeout: 1000 })).value) | 0; }
      return c;
    });
  },
  // The same when the select waits (a task started before it sends): its timer task starts,
  // sleeps, and is cancelled when the receive completes; compare with receive-wait.
  async "select-timeout-wait"() {
    function* sendOne(ch, v) { yield* ch.send(v); }
    await s.run(function* () {
      const ch = channel();
      let c = 0;
      for (let i = 0; i < n; i++) { yield* spawn(sendOne(ch, i)); c = (c + (yield* select({ a: ch.receive() }, { timeout: 1000 })).value) | 0; }
      return c;
    });
  },
  async "with-permit"() {
    function* one(x) { return x + 1; }
    const sem = semaphore(2), m = mutex();
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* sem.withPermit(call(one, c)); for (let i = 0; i < n; i++) c = yield* m.withLock(call(one, c)); return c; });
  },
  // A map over four items, concurrency 2: what one small map costs, beyond its items.
  async "map-small"() {
    const items = [1, 2, 3, 4];
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = (c + (yield* map(items, inc, { concurrency: 2 }))[0]) | 0; return c; });
  },
  async call() {
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* call(inc, c); return c; });
  },
  // A call of a generator function, two alternating (a server's per-request body and its handler do).
  async "call-gen2"() {
    function* a(x) { return x + 1; }
    function* b(x) { return x + 2; }
    await s.run(function* () { let c = 0; for (let i = 0; i < n; i++) c = yield* call(i & 1 ? a : b, c); return c; });
  },
  async pingpong() {
    await s.run(function* () {
      const ping = channel(), pong = channel();
      yield* spawn(function* () { let v; while ((v = yield* ping.receive()) !== undefined) yield* pong.send(v + 1); });
      let x = 0;
      for (let i = 0; i < n; i++) { yield* ping.send(x); x = yield* pong.receive(); }
      return x;
    });
  },
  // The sum stays a small integer (| 0): a plain x += passed 2^31 at item 65,536, and the body's
  // recompilation for a double then ran inside the measured window (~380 of 1,058 an item).
  async buffered() {
    await s.run(function* () {
      const ch = channel(1000);
      let x = 0;
      for (let i = 0; i < n; i++) { yield* ch.send(i); x = (x + (yield* ch.receive())) | 0; }
      return x;
    });
  },
  // A select over two rendezvous receives, a sender feeding them in turn: each select parks its
  // two cases, one fires, the other withdraws.
  async select() {
    await s.run(function* () {
      const a = channel(), b = channel();
      yield* spawn(function* () { for (let i = 0; i < n; i++) yield* (i & 1 ? a : b).send(i); });
      let x = 0;
      for (let i = 0; i < n; i++) x = (x + (yield* select({ a: a.receive(), b: b.receive() })).value) | 0;
      return x;
    });
  },
  // bench:core's fanout: n values through a buffered channel to 100 consumers, and back through another.
  async fanout() {
    await s.run(function* () {
      const work = channel(1000), results = channel(1000);
      yield* spawn(function* () { for (let i = 0; i < n; i++) yield* work.send(i); work.close(); });
      for (let c = 0; c < 100; c++) yield* spawn(function* () { let v; while ((v = yield* work.receive()) !== undefined) yield* results.send(v * 2); });
      for (let i = 0; i < n; i++) yield* results.receive();
    });
  },
  async map() {
    const items = range(n);
    await s.run(() => map(items, inc, { concurrency: 100 }));
  },
  async items() {
    const items = range(n);
    await s.run(function* () { return items.length; });
  },
  async "map-op"() {
    const items = range(n);
    await s.run(() => map(items, function* (x) { return x + 1; }, { concurrency: 100 }));
  },
  // Each item's operation waits once (a self(), answered at once): the path of items that yield.
  async "map-op-yield"() {
    const items = range(n);
    await s.run(() => map(items, function* (x) { return (yield* self()).id > 0 ? x + 1 : x; }, { concurrency: 100 }));
  },
  async "map-promise"() {
    const items = range(n);
    await s.run(() => map(items, async (x) => x + 1, { concurrency: 100 }));
  },
  // The native pool beside them: 100 async workers pulling from one index.
  async "native-map"() {
    const items = range(n);
    const out = new Array(n);
    let next = 0;
    const worker = async () => { while (next < n) { const i = next++; out[i] = await inc(items[i]); } };
    await Promise.all(Array.from({ length: 100 }, worker));
  },
  // What the map workloads spend on making their items and the output array (a plain loop since
  // round 6; Array.from({ length: n }) before, ~730 an item); subtract it to compare the pools.
  async "map-setup"() {
    const items = range(n);
    const out = new Array(n);
    if (items.length + out.length < 0) console.log(items);
  },
  async "native-map-async"() {
    const items = range(n);
    const out = new Array(n);
    const f = async (x) => x + 1;
    let next = 0;
    const worker = async () => { while (next < n) { const i = next++; out[i] = await f(items[i]); } };
    await Promise.all(Array.from({ length: 100 }, worker));
  },
  // n sleepers with distinct deadlines on the virtual clock, and with one deadline (one hop).
  async vsleep() {
    await createScheduler({ clock: "virtual" }).run(function* () { for (let i = 0; i < n; i++) yield* fork(() => sleep(i + 1)); });
  },
  async "vsleep-equal"() {
    await createScheduler({ clock: "virtual" }).run(function* () { for (let i = 0; i < n; i++) yield* fork(() => sleep(10)); });
  },
  // Distinct deadlines out of order (each a bucket in the heap).
  async "vsleep-shuffled"() {
    await createScheduler({ clock: "virtual" }).run(function* () { for (let i = 0; i < n; i++) yield* fork(() => sleep(((i * 7919) % n) + 1)); });
  },
  // The real clock beside them (bench:scale's row): deadlines spread over 1-100 ms, and one deadline.
  async "sleep-spread"() {
    await s.run(function* () { for (let i = 0; i < n; i++) yield* fork(() => sleep(1 + (i % 100))); });
  },
  async "sleep-equal"() {
    await s.run(function* () { for (let i = 0; i < n; i++) yield* fork(() => sleep(10)); });
  },
  async park() {
    let count = 0;
    s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* sleep(1e9); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
  },
  async parkbox() {
    let count = 0;
    s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* receive(); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
  },
  async cancelbox() {
    let count = 0;
    const root = s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* receive(); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
    await root.cancel();
  },
  async cancel() {
    let count = 0;
    const root = s.run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(function* () { count++; yield* sleep(1e9); });
      yield* sleep(Infinity);
    });
    while (count < n) await turn();
    await root.cancel();
  },
};
await w[which]();
process.exit(0);
