// The timers: sleeping tasks grouped by deadline, a heap of the distinct deadlines, so the clock
// needs one host timer and a burst of sleepers with the same deadline costs one heap entry.

import { tag } from "./effect.js";
import type { Task } from "./task.js";

/** @internal The tasks sleeping until one deadline, in the order they went to sleep. A sleeping
 * task waits on its bucket (it is the task's `slot`), hence the `type` of the sleep effect. */
export class Bucket {
  declare readonly type: "sleep";
  readonly tasks: Array<Task | null> = [];
  live = 0;
  /** Position in the heap; -1 once removed. */
  index = -1;
  constructor(readonly deadline: number) {}
  toString(): string {
    return `sleep(until ${this.deadline})`;
  }
}
tag(Bucket, "sleep");

/**
 * @internal Sleeping tasks by deadline. A task records its position in its bucket, so removing
 * it on cancel is O(1) (plus O(log n) when its bucket empties). Tasks with equal deadlines wake
 * in the order they started sleeping.
 */
export class Timers {
  private readonly heap: Bucket[] = [];
  private readonly buckets = new Map<number, Bucket>();
  /** The bucket used last: bursts of sleepers share a deadline. */
  private last: Bucket | null = null;
  /** How many tasks sleep. */
  size = 0;

  /** The earliest deadline, or Infinity when no task sleeps. */
  next(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]!.deadline;
  }

  /** Put `t` to sleep until `deadline`; returns the bucket it now waits on. */
  add(t: Task, deadline: number): Bucket {
    let b = this.last;
    if (b === null || b.deadline !== deadline || b.index < 0) {
      b = this.buckets.get(deadline) ?? this.open(deadline);
      this.last = b;
    }
    t.waitIndex = b.tasks.length;
    b.tasks.push(t);
    b.live++;
    this.size++;
    return b;
  }

  remove(t: Task, b: Bucket): void {
    b.tasks[t.waitIndex] = null;
    t.waitIndex = -1;
    this.size--;
    if (--b.live === 0) this.drop(b);
  }

  /** Call `wake` for every task whose deadline is at or before `now`, earliest first. */
  fire(now: number, wake: (t: Task) => void): boolean {
    let fired = false;
    while (this.heap.length > 0 && this.heap[0]!.deadline <= now) {
      const b = this.heap[0]!;
      this.drop(b);
      for (const t of b.tasks) {
        if (t === null) continue;
        t.waitIndex = -1;
        this.size--;
        fired = true;
        wake(t);
      }
    }
    return fired;
  }

  private open(deadline: number): Bucket {
    const b = new Bucket(deadline);
    this.buckets.set(deadline, b);
    this.heap.push(b);
    this.up(this.heap.length - 1);
    return b;
  }

  private drop(b: Bucket): void {
    this.buckets.delete(b.deadline);
    const i = b.index;
    const last = this.heap.pop()!;
    b.index = -1;
    if (last === b) return;
    this.heap[i] = last;
    last.index = i;
    this.up(i);
    this.down(last.index);
  }

  private up(i: number): void {
    const heap = this.heap;
    const b = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.deadline <= b.deadline) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = b;
    b.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const b = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1]!.deadline < heap[c]!.deadline) c++;
      const child = heap[c]!;
      if (b.deadline <= child.deadline) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = b;
    b.index = i;
  }
}
