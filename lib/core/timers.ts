// The timers: sleeping tasks grouped by deadline, a heap of the distinct deadlines, so the clock
// needs one host timer and a burst of sleepers with the same deadline costs one heap entry.
// Beside tasks they hold alarms: a timeout's or a select's limit, rung by the scheduler itself.
// Deadlines that come in order (a loop of `sleep(i + 1)`, equal timeouts started one after the
// other: the common case) skip the heap: they queue in a run, a ring with no object per sleeper.

import { tag } from "./effect.js";
import { ALARM, type Frame, type Task } from "./task.js";
import { queueWork } from "./wait-queue.js";

/**
 * @internal A deadline with no task of its own: a timeout's limit, a select's, rung by the
 * scheduler when it falls due (a task that only slept, then acted, cost a task, a generator and a
 * cancel for each timeout, fired or not). It sleeps among the tasks and leaves as a cancelled
 * sleeper does. It goes where a task of its own would: set, it is queued to be armed; due, it is
 * queued to ring after the tasks woken for its deadline. So an operation that ends at the
 * deadline, or whose value was delivered as it fell due, wins. Set and cleared by
 * `Scheduler.setAlarm` / `clearAlarm`.
 */
export abstract class Alarm {
  /** Not a task's (see ALARM). */
  readonly flags = ALARM;
  /** Where it is in its bucket or the run, as a sleeping task's (see Run). */
  waitIndex = -1;
  /** What it is queued on while it waits for its deadline; null once due or disarmed. */
  on: Bucket | Run | null = null;
  /** Set, and queued to be armed: its time limit in ms (see `Scheduler.setAlarm`); else -1. */
  ms = -1;
  /** Due and queued to ring (in the scheduler's run queue); cleared by a disarm. */
  due = false;
  /** Its deadline has come: rung by the run loop between steps, with no task running. It may halt
   * frames and wake tasks, which are queued. */
  abstract ring(): void;
  /** What it limits, to describe tasks by (see `Scheduler.limitsNow`): a timeout's call frame, a
   * select's task. Its text (`String(alarm)`) says what the limit is: `timeout(1000)`. */
  abstract limits(): Frame;
}

/** What the timers hold: sleeping tasks and alarms. */
type Sleeper = Task | Alarm;

/** @internal The tasks sleeping until one deadline, in the order they went to sleep. A sleeping
 * task waits on its bucket (it is the task's `slot`), hence the `type` of the sleep effect. */
export class Bucket {
  declare readonly type: "sleep";
  /** The first task to sleep here (a lone sleeper needs no array), then the others. */
  first: Sleeper | null = null;
  rest: Array<Sleeper | null> | null = null;
  /** Slots used: the first, then those in `rest`. */
  count = 0;
  live = 0;
  /** Position in the heap; -1 once removed. */
  index = -1;
  constructor(readonly deadline: number) {}
  toString(): string {
    return `sleep(until ${this.deadline})`;
  }
}
tag(Bucket, "sleep");

/** Positions in the run wrap at 2^30, so they stay small integers (as in a WaitQueue). */
const WRAP = 0x3fffffff;

/**
 * @internal The tasks sleeping until deadlines that came in non-decreasing order, oldest first:
 * a ring of tasks beside a ring of their deadlines, so waking the earliest is a shift and a
 * sleeper costs two slots, no bucket, map entry or heap step. A task sleeping here waits on the
 * run itself (its `slot`) and remembers its position (`waitIndex`); leaving on cancel leaves a
 * hole, dropped at once at the front, so the oldest slot is always a sleeper (its deadline is
 * the run's next), and squeezed out when the ring would grow, so every hole is skipped or copied
 * once (see WaitQueue).
 */
export class Run {
  declare readonly type: "sleep";
  /** The ring; its length is 0 or a power of two. */
  private tasks: Array<Sleeper | null> = [];
  private until = new Float64Array(0);
  /** Where the oldest slot is. */
  private head = 0;
  /** Slots in use from `head`: sleepers and holes. */
  private span = 0;
  /** The position of the slot at `head`. */
  private base = 0;
  /** How many tasks sleep here. */
  live = 0;

  /** The earliest deadline here, or Infinity. */
  next(): number {
    return this.live === 0 ? Infinity : this.until[this.head]!;
  }

  /** The deadline `t` sleeps until (it sleeps here). */
  deadlineOf(t: Sleeper): number {
    return this.until[(this.head + ((t.waitIndex - this.base) & WRAP)) & (this.tasks.length - 1)]!;
  }

  push(t: Sleeper, deadline: number): void {
    if (this.span === this.tasks.length) this.makeRoom();
    const i = (this.head + this.span) & (this.tasks.length - 1);
    this.tasks[i] = t;
    this.until[i] = deadline;
    t.waitIndex = (this.base + this.span) & WRAP;
    this.span++;
    this.live++;
  }

  /** The oldest sleeper, taken out: call only when `next()` is due. */
  shift(): Sleeper {
    const tasks = this.tasks;
    const t = tasks[this.head]!;
    tasks[this.head] = null;
    t.waitIndex = -1;
    this.head = (this.head + 1) & (tasks.length - 1);
    this.base = (this.base + 1) & WRAP;
    this.span--;
    if (--this.live === 0) this.emptied();
    else if (tasks[this.head] === null) this.trimFront();
    return t;
  }

  remove(t: Sleeper): void {
    const offset = (t.waitIndex - this.base) & WRAP;
    const tasks = this.tasks;
    tasks[(this.head + offset) & (tasks.length - 1)] = null;
    t.waitIndex = -1;
    if (--this.live === 0) this.emptied();
    else if (offset === 0) this.trimFront();
    else if (offset === this.span - 1) this.trimBack();
  }

  /** No sleeper is left (so no hole either): start again small if the ring had grown large. */
  private emptied(): void {
    this.span = 0;
    if (this.tasks.length > 1024) {
      this.tasks = [];
      this.until = new Float64Array(0);
      this.head = 0;
    }
  }

  private trimFront(): void {
    const tasks = this.tasks;
    const mask = tasks.length - 1;
    while (tasks[this.head] === null) {
      queueWork.steps++;
      this.head = (this.head + 1) & mask;
      this.base = (this.base + 1) & WRAP;
      this.span--;
    }
  }

  private trimBack(): void {
    const tasks = this.tasks;
    const mask = tasks.length - 1;
    while (tasks[(this.head + this.span - 1) & mask] === null) {
      queueWork.steps++;
      this.span--;
    }
  }

  /** Full: if at least half the slots are holes, squeeze them out, else double the ring; the
   * sleepers learn their new positions. Either way each slot is copied once. */
  private makeRoom(): void {
    const tasks = this.tasks;
    const until = this.until;
    const mask = tasks.length - 1;
    const size = tasks.length === 0 ? 16 : this.live * 2 <= this.span ? tasks.length : tasks.length * 2;
    const out = new Array<Sleeper | null>(size).fill(null);
    const outUntil = new Float64Array(size);
    let n = 0;
    for (let k = 0; k < this.span; k++) {
      queueWork.steps++;
      const i = (this.head + k) & mask;
      const t = tasks[i]!;
      if (t === null) continue;
      out[n] = t;
      outUntil[n] = until[i]!;
      t.waitIndex = (this.base + n) & WRAP;
      n++;
    }
    this.tasks = out;
    this.until = outUntil;
    this.head = 0;
    this.span = n;
  }

  /** Call `f` for each sleeper, oldest first. */
  each(f: (t: Sleeper) => void): void {
    for (let k = 0; k < this.span; k++) {
      const t = this.tasks[(this.head + k) & (this.tasks.length - 1)];
      if (t != null) f(t);
    }
  }

  toString(): string {
    return "sleep";
  }
}
tag(Run, "sleep");

/**
 * @internal Sleeping tasks by deadline: a deadline at or after the last one queued in the run
 * joins the run, any other its bucket in the heap. A task records its position in its bucket or
 * in the run, so removing it on cancel is O(1) (plus O(log n) when its bucket empties). Tasks
 * with equal deadlines wake in the order they started sleeping: the run's latest deadline only
 * grows while anything sleeps, so a bucket in the heap with a deadline the run holds too was
 * opened after the run's sleepers of that deadline went to sleep (they wake first), and the run
 * never takes a deadline some bucket holds.
 */
export class Timers {
  private readonly heap: Bucket[] = [];
  private readonly buckets = new Map<number, Bucket>();
  /** The bucket used last: bursts of sleepers share a deadline. */
  private last: Bucket | null = null;
  /** Sleepers whose deadlines came in order. */
  readonly run = new Run();
  /** The latest deadline queued in the run since nothing slept. */
  private runLast = -Infinity;
  /** How many tasks sleep (and alarms wait). */
  size = 0;
  /** Alarms due at one deadline, held in `fire` until its tasks are woken. */
  private readonly held: Alarm[] = [];

  /** The earliest deadline, or Infinity when no task sleeps. */
  next(): number {
    const r = this.run.next();
    if (this.heap.length === 0) return r;
    const h = this.heap[0]!.deadline;
    return h < r ? h : r;
  }

  /** Put `t` to sleep until `deadline`; returns what it now waits on: the run or a bucket. */
  add(t: Sleeper, deadline: number): Bucket | Run {
    if (deadline >= this.runLast) {
      this.runLast = deadline;
      this.run.push(t, deadline);
      this.size++;
      return this.run;
    }
    let b = this.last;
    if (b === null || b.deadline !== deadline || b.index < 0) {
      b = this.buckets.get(deadline) ?? this.open(deadline);
      this.last = b;
    }
    const i = (t.waitIndex = b.count++);
    if (i === 0) b.first = t;
    else if (b.rest === null) b.rest = [t];
    else b.rest.push(t);
    b.live++;
    this.size++;
    return b;
  }

  /** The deadline `t` sleeps until, waiting on `on`. */
  deadlineOf(t: Sleeper, on: Bucket | Run): number {
    return on instanceof Bucket ? on.deadline : on.deadlineOf(t);
  }

  /** Call `f` for each alarm waiting for its deadline: a scan, made to describe tasks. */
  alarms(f: (a: Alarm) => void): void {
    const take = (t: Sleeper | null): void => {
      if (t !== null && t.flags & ALARM) f(t as Alarm);
    };
    for (const b of this.heap) {
      take(b.first);
      for (const t of b.rest ?? []) take(t);
    }
    this.run.each(take);
  }

  /** Take `t` out: a sleeper cancelled, an alarm disarmed. */
  remove(t: Sleeper, on: Bucket | Run): void {
    if (--this.size === 0) this.runLast = -Infinity;
    if (on === this.run) return this.run.remove(t);
    const b = on as Bucket;
    const i = t.waitIndex;
    if (i === 0) b.first = null;
    else b.rest![i - 1] = null;
    t.waitIndex = -1;
    if (--b.live === 0) this.drop(b);
  }

  /** Call `wake` for every task whose deadline is at or before `now`, earliest first (the run's
   * sleepers first at a deadline a bucket holds too: they went to sleep first); `due` for every
   * such alarm, after the tasks of its deadline (see Alarm). */
  fire(now: number, wake: (t: Task) => void, due: (a: Alarm) => void): boolean {
    const run = this.run;
    const held = this.held;
    let heldAt = -Infinity; // the deadline of the alarms held, if any
    let fired = false;
    for (;;) {
      const r = run.next();
      const inHeap = this.heap.length > 0 && this.heap[0]!.deadline < r;
      const at = inHeap ? this.heap[0]!.deadline : r; // (Infinity when nothing is left)
      if (held.length > 0 && at > heldAt) {
        for (let i = 0; i < held.length; i++) due(held[i]!);
        held.length = 0;
      }
      if (inHeap) {
        const b = this.heap[0]!;
        if (b.deadline > now) break;
        this.drop(b);
        for (let i = 0; i < b.count; i++) {
          const t = i === 0 ? b.first : b.rest![i - 1]!;
          if (t === null) continue;
          t.waitIndex = -1;
          if (--this.size === 0) this.runLast = -Infinity;
          fired = true;
          if (t.flags & ALARM) {
            (t as Alarm).on = null;
            held.push(t as Alarm);
            heldAt = b.deadline;
          } else wake(t as Task);
        }
      } else {
        if (r > now || run.live === 0) break;
        const t = run.shift();
        if (--this.size === 0) this.runLast = -Infinity;
        fired = true;
        if (t.flags & ALARM) {
          (t as Alarm).on = null;
          held.push(t as Alarm);
          heldAt = r;
        } else wake(t as Task);
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
