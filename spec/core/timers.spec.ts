// The timers: earliest deadline first, FIFO at equal deadlines, O(1) removal, nothing left over.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Timers } from "../../lib/core/timers.js";
import type { Task } from "../../lib/core/task.js";

const task = (id: number) => ({ id, waitIndex: -1 }) as unknown as Task;
function drain(timers: Timers, now: number): number[] {
  const woken: number[] = [];
  timers.fire(now, (t) => woken.push(t.id));
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
  const [a, b] = [task(1), task(2)];
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
  timers.fire(Infinity, (t) => woken.push(deadlines.get(t)!));
  assert.is(woken.length, live.size);
  for (let i = 1; i < woken.length; i++) assert.ok(woken[i - 1]! <= woken[i]!);
});

test.run();
