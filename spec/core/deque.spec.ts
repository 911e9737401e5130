// The ring buffer under the run queue, channel buffers and waiter queues.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Deque } from "../../lib/core/deque.js";

test("first in, first out, across growth and wrap-around", () => {
  const q = new Deque<number>();
  const out: number[] = [];
  for (let i = 0; i < 10; i++) q.push(i);
  for (let i = 0; i < 5; i++) out.push(q.shift()!);
  for (let i = 10; i < 100; i++) q.push(i); // grows while wrapped
  while (q.size > 0) out.push(q.shift()!);
  assert.equal(out, Array.from({ length: 100 }, (_, i) => i));
  assert.is(q.shift(), undefined);
  assert.is(q.peek(), undefined);
});

test("unshift puts an item first in line, across growth and wrap-around", () => {
  const q = new Deque<number>();
  for (let i = 0; i < 16; i++) q.push(i);
  q.shift();
  q.unshift(-1); // wraps around the start
  q.unshift(-2); // full: grows
  const out: number[] = [];
  while (q.size > 0) out.push(q.shift()!);
  assert.equal(out, [-2, -1, ...Array.from({ length: 15 }, (_, i) => i + 1)]);
});

test("peek, at, removeAt and remove keep the order of the rest", () => {
  const q = new Deque<string>();
  for (const s of ["a", "b", "c", "d", "e"]) q.push(s);
  q.shift();
  q.push("f");
  assert.is(q.peek(), "b");
  assert.is(q.at(2), "d");
  assert.is(q.at(9), undefined);
  assert.is(q.removeAt(1), "c");
  assert.ok(q.remove("e"));
  assert.not.ok(q.remove("zzz"));
  const out: string[] = [];
  while (q.size) out.push(q.shift()!);
  assert.equal(out, ["b", "d", "f"]);
});

test("removing near either end keeps the order, wrapped or not", () => {
  for (const start of [0, 5, 13]) {
    const q = new Deque<number>();
    for (let i = 0; i < start; i++) q.push(-1);
    for (let i = 0; i < start; i++) q.shift(); // move the head so the ring wraps
    for (let i = 0; i < 10; i++) q.push(i);
    assert.is(q.removeAt(1), 1); // near the front
    assert.is(q.removeAt(7), 8); // near the back
    assert.is(q.removeAt(0), 0);
    const rest: number[] = [];
    while (q.size) rest.push(q.shift()!);
    assert.equal(rest, [2, 3, 4, 5, 6, 7, 9]);
  }
});

test("a large emptied buffer is released and the deque keeps working", () => {
  const q = new Deque<number>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10_000; i++) q.push(i);
    for (let i = 0; i < 9_990; i++) assert.is(q.shift(), i);
    for (let i = 0; i < 20; i++) q.push(10_000 + i);
    const rest: number[] = [];
    while (q.size) rest.push(q.shift()!);
    assert.equal(rest, [...Array.from({ length: 10 }, (_, i) => 9_990 + i), ...Array.from({ length: 20 }, (_, i) => 10_000 + i)]);
    assert.is((q as unknown as { items: unknown[] }).items.length, 16);
  }
});

test.run();
