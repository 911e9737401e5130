// Attack: the timers against a plain model, with fires interleaved (the ring wraps), removals
// anywhere, deadlines in order, earlier, equal.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Alarm, Timers } from "../../lib/core/timers.js";
import type { Task } from "../../lib/core/task.js";

const task = (id: number) => ({ id, waitIndex: -1 }) as unknown as Task;
const noAlarm = () => assert.unreachable("no alarm was set");
class Numbered extends Alarm {
  constructor(readonly id: number) {
    super();
  }
  ring(): void {}
  limits(): never {
    return this as never;
  }
}
/** Due first by deadline; at one deadline the tasks in the order they slept, then the alarms. */
const byDue = (a: [unknown, { d: number; seq: number }], b: [unknown, { d: number; seq: number }]) =>
  a[1].d - b[1].d || Number(a[0] instanceof Alarm) - Number(b[0] instanceof Alarm) || a[1].seq - b[1].seq;

function fuzz(seed: number, ops: number, pIn: number, pRemove: number, pFire: number, pAlarm = 0) {
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const timers = new Timers();
  const live = new Map<Task | Alarm, { on: ReturnType<Timers["add"]>; d: number; seq: number }>();
  let now = 0;
  let last = 0;
  let seq = 0;
  const liveList: Array<Task | Alarm> = [];
  for (let i = 0; i < ops; i++) {
    const r = rand();
    if (r < pFire) {
      now += Math.floor(rand() * 4);
      const due = [...live.entries()].filter(([, v]) => v.d <= now).sort(byDue);
      const woken: Array<Task | Alarm> = [];
      timers.fire(now, (t) => woken.push(t), (a) => woken.push(a));
      assert.equal(woken.map((t) => (t as any).id), due.map(([t]) => (t as any).id), `fire at ${now}, op ${i}`);
      for (const t of woken) {
        assert.is(t.waitIndex, -1);
        live.delete(t);
      }
    } else if (r < pFire + pRemove && live.size > 0) {
      const keys = [...live.keys()];
      const victim = keys[Math.floor(rand() * keys.length)]!;
      timers.remove(victim, live.get(victim)!.on);
      assert.is(victim.waitIndex, -1);
      live.delete(victim);
    } else {
      const t = rand() < pAlarm ? new Numbered(seq) : task(seq);
      if (rand() < pIn) last = Math.max(last, now) + Math.floor(rand() * 3);
      const d = rand() < 0.5 ? last : now + Math.floor(rand() * (last - now + 2));
      live.set(t, { on: timers.add(t, d), d, seq });
      liveList.push(t);
      seq++;
    }
    assert.is(timers.size, live.size, `size after op ${i}`);
    let min = Infinity;
    for (const v of live.values()) if (v.d < min) min = v.d;
    assert.is(timers.next(), min, `next after op ${i}`);
    if (live.size > 0 && i % 7 === 0) {
      for (const [t, v] of live) assert.is(timers.deadlineOf(t, v.on), v.d, `deadlineOf after op ${i}`);
      const found: Alarm[] = []; // the scan that describes tasks finds every alarm waiting, once
      timers.alarms((a) => found.push(a));
      const ids = (xs: unknown[]) => xs.map((a) => (a as Numbered).id).sort((a, b) => a - b);
      assert.equal(ids(found), ids([...live.keys()].filter((t) => t instanceof Numbered)), `alarms after op ${i}`);
    }
  }
  const rest = [...live.entries()].sort(byDue).map(([t]) => (t as any).id);
  const woken: number[] = [];
  timers.fire(Infinity, (t) => woken.push((t as any).id), (a) => woken.push((a as Numbered).id));
  assert.equal(woken, rest);
  assert.is(timers.size, 0);
  assert.is(timers.next(), Infinity);
}

test("model: mostly in order, fires interleaved (the ring wraps), removals anywhere", () => {
  for (let s = 1; s <= 20; s++) fuzz(s * 7919, 3000, 0.8, 0.25, 0.2);
});
test("model: all equal and in order, many removals", () => {
  for (let s = 1; s <= 10; s++) fuzz(s * 104729, 3000, 0.3, 0.45, 0.1);
});
test("model: heavy churn, few fires (the ring grows and squeezes)", () => {
  for (let s = 1; s <= 10; s++) fuzz(s * 31, 4000, 0.95, 0.4, 0.02);
});

test("model: alarms among the sleepers, each due after the tasks of its deadline, removals anywhere", () => {
  for (let s = 1; s <= 10; s++) fuzz(s * 6007, 3000, 0.6, 0.3, 0.15, 0.3);
  for (let s = 1; s <= 5; s++) fuzz(s * 15485863, 3000, 0.3, 0.45, 0.1, 0.5);
});

test("the ring wraps, holes at the wrap point, then grows: order and deadlines kept", () => {
  const timers = new Timers();
  const ts = Array.from({ length: 200 }, (_, i) => task(i));
  const on = new Map<Task, ReturnType<Timers["add"]>>();
  let k = 0;
  for (; k < 16; k++) on.set(ts[k]!, timers.add(ts[k]!, k)); // full ring of 16
  const woken: number[] = [];
  timers.fire(9, (t) => woken.push((t as any).id), noAlarm); // head at 10
  assert.equal(woken, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (; k < 26; k++) on.set(ts[k]!, timers.add(ts[k]!, k)); // wraps to slots 0..9
  for (const i of [15, 16, 17, 25, 10]) timers.remove(ts[i]!, on.get(ts[i]!)!); // at the wrap, the tail, the head
  assert.is(timers.next(), 11);
  for (; k < 60; k++) on.set(ts[k]!, timers.add(ts[k]!, k)); // grows from a wrapped ring with holes
  for (const i of [11, 12, 13, 14]) timers.remove(ts[i]!, on.get(ts[i]!)!);
  assert.is(timers.next(), 18);
  for (let i = 18; i < 60; i++) if (i !== 25) assert.is(timers.deadlineOf(ts[i]!, on.get(ts[i]!)!), i);
  const rest: number[] = [];
  timers.fire(Infinity, (t) => rest.push((t as any).id), noAlarm);
  assert.equal(rest, Array.from({ length: 42 }, (_, i) => i + 18).filter((i) => i !== 25));
  assert.is(timers.size, 0);
});

test.run();
