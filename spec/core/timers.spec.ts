// The timers: earliest deadline first, FIFO at equal deadlines, O(1) removal, nothing left over.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Timers } from "../../lib/core/timers.js";
import type { Task } from "../../lib/core/task.js";
import { queueWork } from "../../lib/core/wait-queue.js";

const task = (id: number) => ({ id, waitIndex: -1 }) as unknown as Task;
const noAlarm = () => assert.unreachable("no alarm was set");
function drain(timers: Timers, now: number): number[] {
  const woken: number[] = [];
  timers.fire(now, (t) => woken.push(t.id), noAlarm);
  return woken;
}

test("wakes due tasks, earliest deadline first and in sleep order at equal deadlines", () => {
  const timers = new Timers();
  const [a, b, c, d, e] = [1, 2, 3, 4, 5].map(task);
  timers.add(a!, 30);
  timers.add(b!, 10);
  timers.add(c!, 20);
  timers.add(d!, 10);
  timers.add(e!, 5);
  assert.is(timers.next(), 5);
  assert.equal(drain(timers, 4), []);
  assert.equal(drain(timers, 20), [5, 2, 4, 3]);
  assert.is(timers.next(), 30);
  assert.equal(drain(timers, 100), [1]);
  assert.is(timers.next(), Infinity);
  assert.is(timers.size, 0);
});

test("removal works anywhere, and an emptied deadline disappears", () => {
  const timers = new Timers();
  const ts = Array.from({ length: 50 }, (_, i) => task(i));
  const buckets = ts.map((t, i) => timers.add(t, (i * 7) % 13));
  for (let i = 0; i < 50; i += 2) timers.remove(ts[i]!, buckets[i]!);
  assert.is(timers.size, 25);
  const woken = drain(timers, 100);
  assert.equal(woken, ts.filter((_, i) => i % 2 === 1).sort((x, y) => ((x.id * 7) % 13) - ((y.id * 7) % 13) || x.id - y.id).map((t) => t.id));
  for (const t of ts) assert.is(t.waitIndex, -1);
});

test("the next deadline follows removals", () => {
  const timers = new Timers();
  const [a, b, c] = [task(1), task(2), task(3)];
  timers.add(c, 30);
  const ba = timers.add(a, 10);
  timers.add(b, 20);
  timers.remove(a, ba);
  assert.is(timers.next(), 20);
  assert.is(String(ba), "sleep(until 10)");
});

test("a heap of many distinct deadlines stays ordered under random removals", () => {
  const timers = new Timers();
  let seed = 7;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const live = new Map<Task, ReturnType<Timers["add"]>>();
  const deadlines = new Map<Task, number>();
  for (let i = 0; i < 2000; i++) {
    const t = task(i);
    const d = Math.floor(rand() * 500);
    live.set(t, timers.add(t, d));
    deadlines.set(t, d);
    if (rand() < 0.3) {
      const victim = [...live.keys()][Math.floor(rand() * live.size)]!;
      timers.remove(victim, live.get(victim)!);
      live.delete(victim);
    }
  }
  const woken: number[] = [];
  timers.fire(Infinity, (t) => woken.push(deadlines.get(t)!), noAlarm);
  assert.is(woken.length, live.size);
  for (let i = 1; i < woken.length; i++) assert.ok(woken[i - 1]! <= woken[i]!);
});

test("deadlines that come in order share one run: no bucket per deadline", () => {
  const timers = new Timers();
  const ts = Array.from({ length: 100 }, (_, i) => task(i));
  const slots = new Set(ts.map((t, i) => timers.add(t, i + 1)));
  assert.is(slots.size, 1, "one thing waited on for 100 in-order deadlines");
  assert.is(timers.next(), 1);
  assert.equal(drain(timers, 50), ts.slice(0, 50).map((t) => t.id));
  assert.is(timers.next(), 51);
  assert.equal(drain(timers, Infinity), ts.slice(50).map((t) => t.id));
  assert.is(timers.size, 0);
});

test("the run lets go of a large ring once nothing sleeps in it", () => {
  const timers = new Timers();
  const ts = Array.from({ length: 5000 }, (_, i) => task(i));
  ts.forEach((t, i) => timers.add(t, i + 1));
  const ring = () => (timers.run as unknown as { tasks: unknown[] }).tasks.length;
  assert.ok(ring() >= 5000);
  drain(timers, Infinity);
  assert.is(ring(), 0);
  timers.add(ts[0]!, 1);
  assert.equal(drain(timers, 1), [0]);
});

test("equal deadlines wake in sleep order across the run and the buckets", () => {
  const timers = new Timers();
  const [a, b, c, d, e, f] = [1, 2, 3, 4, 5, 6].map(task);
  timers.add(a!, 10); // the run
  timers.add(b!, 20); // the run
  timers.add(c!, 10); // a bucket: 10 is before the run's last deadline
  timers.add(d!, 20); // the run again (at its last deadline)
  timers.add(e!, 10); // c's bucket
  timers.add(f!, 15); // a bucket
  assert.equal(drain(timers, 100), [1, 3, 5, 6, 2, 4]);
  assert.is(timers.size, 0);
});

test("a cancelled sleeper at the front of the run is not the next deadline", () => {
  const timers = new Timers();
  const [a, b, c] = [1, 2, 3].map(task);
  const on = timers.add(a!, 10);
  timers.add(b!, 20);
  timers.add(c!, 30);
  timers.remove(a!, on);
  assert.is(timers.next(), 20, "the virtual clock would jump to a deadline nobody sleeps until");
  timers.remove(c!, on);
  timers.remove(b!, on);
  assert.is(timers.next(), Infinity);
  assert.is(timers.size, 0);
  timers.add(a!, 5); // nothing sleeps: any deadline starts the run again
  assert.equal(drain(timers, 5), [1]);
});

test("cancelling sleepers of the run costs the same per sleeper at any N, in any order", () => {
  const orders: Record<string, (n: number, k: number) => number> = {
    "oldest first": (_, k) => k,
    "newest first": (n, k) => n - 1 - k,
    "evens, then odds": (n, k) => (k < n / 2 ? 2 * k : 2 * (k - n / 2) + 1),
  };
  const perSleeper = (n: number, order: (n: number, k: number) => number): number => {
    const timers = new Timers();
    const ts = Array.from({ length: n }, (_, i) => task(i));
    const on = ts.map((t, i) => timers.add(t, i + 1));
    const before = queueWork.steps;
    for (let k = 0; k < n; k++) {
      const i = order(n, k);
      timers.remove(ts[i]!, on[i]!);
      on[i] = timers.add(ts[i]!, n + k + 1); // and sleep again, later: the ring is reused, squeezed
    }
    assert.is(timers.size, n);
    return (queueWork.steps - before) / n;
  };
  for (const [name, order] of Object.entries(orders)) {
    const small = perSleeper(1000, order);
    const large = perSleeper(100_000, order);
    assert.ok(large <= small + 0.5 && large <= 4, `${name}: ${small} steps per sleeper at 1k, ${large} at 100k`);
  }
});

test("the run and the heap stay in deadline order, FIFO at equal deadlines, under random removals", () => {
  const timers = new Timers();
  let seed = 11;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const live = new Map<Task, ReturnType<Timers["add"]>>();
  const key = new Map<Task, [number, number]>();
  let last = 0;
  for (let i = 0; i < 5000; i++) {
    const t = task(i);
    // Mostly in order (the run), sometimes earlier (a bucket), often equal.
    const d = rand() < 0.7 ? (last += Math.floor(rand() * 3)) : Math.floor(rand() * (last + 1));
    live.set(t, timers.add(t, d));
    key.set(t, [d, i]);
    if (rand() < 0.3) {
      const victim = [...live.keys()][Math.floor(rand() * live.size)]!;
      timers.remove(victim, live.get(victim)!);
      live.delete(victim);
    }
  }
  const expected = [...live.keys()].sort((x, y) => key.get(x)![0] - key.get(y)![0] || key.get(x)![1] - key.get(y)![1]).map((t) => t.id);
  assert.is(timers.size, live.size);
  assert.equal(drain(timers, Infinity), expected);
  assert.is(timers.size, 0);
});

test.run();
