// The scheduler: a FIFO run queue, the trampolined step loop that resumes coroutines, time slices,
// and the lifecycle of tasks and frames (children, cancellation, errors). It never touches the host.

import type { Clock } from "./clock.js";
import { Effect, effectTypes, forgetOpening } from "./effect.js";
import { Call, Join, Wait, type AnyEffect, type TaskOptions } from "./effects.js";
import { Cancelled, DeadlockError, isCancelled } from "./errors.js";
import { Deque } from "./deque.js";
import { Timers } from "./timers.js";
import { checkOperation, describe, isIterator, isOperation, isThenable, type OperationLike } from "./operation.js";
import {
  CallFrame, CLOSING, Deferred, DONE, EARLY, FAILED, Frame, GENERATOR, HALTED, INTERRUPT, QUEUED, REPLACEABLE,
  STARTED, SUSPENDED, Task, taskOf, THROWING,
} from "./task.js";

/** @internal Longest run of the loop before it lets the host handle timers and I/O, in ms. */
export const SLICE_MS = 5;
/** Synchronous resumes of one task between two looks at the clock. */
const BUDGET = 256;

/** @internal What a handler returns when it has suspended the task instead of producing a result. */
export const SUSPEND: unique symbol = Symbol("skein.suspend");

/** What a task whose body has ended waits on until its children have finished. */
const CHILDREN = { type: "children", code: -1, toString: () => "its children to finish" } as const;

/** @internal What waits for a task to finish. */
export type Watcher = Task | Deferred | ((finished: Task) => void);

/**
 * @internal How the scheduler performs one kind of effect. Handlers receive everything they need
 * as arguments; the scheduler finds them by the effect's `type` in the table it was built with
 * (indexed by the type's small integer `code`, so dispatch is an array load).
 */
export interface Handler<E> {
  /** Perform `effect` for `task`: return the result, or return `sched.suspend(task, on)` after
   * arranging for `sched.resume(task, …)` to be called later. Throwing throws into the task. */
  run(effect: E, task: Task, sched: Scheduler): unknown;
  /** Undo a suspension when the task is cancelled first; `on` is what `run` suspended on. */
  cancel?(on: any, task: Task, sched: Scheduler): void;
}

/** @internal One handler per effect type; the compiler checks that none is missing. */
export type Handlers = { [E in AnyEffect as E["type"]]: Handler<E> };

/**
 * Options of {@link createScheduler}.
 *
 * @example
 * ```ts
 * const reported: unknown[] = [];
 * const s = createScheduler({ clock: "virtual", onError: (e) => reported.push(e) });
 * ```
 */
export interface SchedulerOptions {
  /** "real" (the default) follows wall-clock time; "virtual" jumps to the next timer whenever
   * every task is blocked, so tests of timing run instantly and deterministically. */
  clock?: "real" | "virtual";
  /** Called with errors that cannot propagate because the scope's outcome is already decided (a
   * second failing child, a cleanup that throws while failing, a race loser failing after the
   * winner). Defaults to `console.error`. */
  onError?: (error: unknown, task: Task) => void;
}

// Native generators are resumed through these, not through a `next` looked up on each object:
// every generator function has its own prototype, so that lookup is megamorphic with closures.
const GeneratorPrototype = Object.getPrototypeOf(function* () {}.prototype) as Generator;
const genNext = GeneratorPrototype.next;
const genThrow = GeneratorPrototype.throw;

/** @internal True for native generator objects (checked once per body, not per resume). */
export function isGenerator(it: unknown): it is Generator {
  const proto = Object.getPrototypeOf(it);
  return proto !== null && Object.getPrototypeOf(proto) === GeneratorPrototype;
}

/** @internal The body of a task or call: generators and other iterators as they are, operations
 * through their iterator, a function's result likewise (a promise awaited, a value returned). */
export function toIterator(op: unknown): Iterator<unknown> {
  const v = typeof op === "function" ? op() : op;
  if (isGenerator(v)) return v;
  // An effect as a whole body: yield it once and return its result (opening the effect itself
  // would rely on its first step following at once, which a preemption could delay).
  if (v instanceof Effect) return performOnce(v);
  if (isOperation(v)) return v[Symbol.iterator]();
  if (isIterator(v)) return v;
  if (isThenable(v)) return new Wait(v)[Symbol.iterator]();
  return { next: () => ({ done: true, value: v }) };
}

function* performOnce(effect: Effect): Generator<unknown, unknown, unknown> {
  return yield effect;
}

function throwInto(it: Iterator<unknown>, error: unknown, flags: number): IteratorResult<unknown> {
  if (flags & GENERATOR) return genThrow.call(it as Generator, error);
  if (typeof it.throw === "function") return it.throw(error);
  it.return?.();
  throw error;
}

/**
 * Runs tasks. Most programs use the default one through the module-level `run`; tests create
 * their own with a virtual clock.
 *
 * @example
 * ```ts
 * const s = createScheduler({ clock: "virtual" });
 * const t = s.run(function* () {
 *   yield* sleep(60 * 60 * 1000);
 *   return "an hour later";
 * });
 * console.log(await t, s.now()); // "an hour later" 3600000, at once
 * ```
 */
export class Scheduler {
  /** @internal */ nextId = 1;
  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly timers = new Timers();
  /** @internal Promises being waited on: a virtual clock does not jump past them. */ inFlight = 0;
  /** The handler table, indexed by effect code (see `tag` in effect.ts). */
  private readonly handlers: Array<Handler<unknown> | undefined>;
  private readonly onError: (error: unknown, task: Task) => void;
  /** Owner of the root tasks. */
  private readonly roots = new Frame(0);
  /** Tasks joining or cancelling a task, promises handed out for it, and functions to call when
   * it finishes (few tasks have any). */
  private readonly waiters = new Map<Task, Watcher[]>();
  private live = 0;
  /** Ready tasks, FIFO. */
  private readonly queue = new Deque<Task>();
  private running = false;
  private scheduled = false;
  private sliceEnd = 0;
  private sliceOver = false;
  /** When the current run of microtask-started ticks began (-1: the host has had a turn since). */
  private burst = -1;
  private readonly tickFn = () => this.tick();
  private readonly hostHadTurn = () => {
    this.burst = -1;
  };
  private readonly wakeFn = (t: Task) => this.resume(t, undefined, false, true);

  /** @internal Use {@link createScheduler}. */
  constructor(clock: Clock, handlers: Handlers, onError?: (error: unknown, task: Task) => void) {
    this.clock = clock;
    const table = handlers as unknown as Record<string, Handler<unknown>>;
    this.handlers = effectTypes.map((type) => table[type]);
    this.onError =
      onError ?? ((error, task) => console.error(`skein: error in task ${task} that could not propagate (its scope had already failed or settled):`, error));
  }

  /**
   * Start `op` as a root task. It starts running on the next microtask.
   *
   * @throws TypeError if `op` is not an operation or a function.
   * @example
   * ```ts
   * const s = createScheduler();
   * const value = await s.run(function* main() { return 1; });
   * ```
   */
  run<T>(op: OperationLike<T>, options?: TaskOptions): Task<T> {
    checkOperation(op, "run()");
    const t = this.child(this.roots, op, 0, options?.name);
    this.kick();
    return t;
  }

  /**
   * The scheduler's clock, in milliseconds: `performance.now()` on the real clock, the virtual
   * time (starting at 0) on the virtual one.
   *
   * @example
   * ```ts
   * const s = createScheduler({ clock: "virtual" });
   * await s.run(sleep(250));
   * console.log(s.now()); // 250
   * ```
   */
  now(): number {
    return this.clock.now();
  }

  // ---- the run loop --------------------------------------------------------------------------

  /** @internal Fire due timers, then step ready tasks in FIFO order until none is left or the
   * time slice is used up; then let the clock arm the next deadline. */
  tick(): void {
    this.scheduled = false;
    if (this.running) return;
    this.running = true;
    this.sliceOver = false;
    this.sliceEnd = this.clock.realNow() + SLICE_MS;
    let n = 0;
    try {
      this.fireTimers();
      for (;;) {
        const t = this.queue.shift();
        if (t === undefined) {
          if (this.fireTimers()) continue;
          break;
        }
        this.step(t);
        if (this.sliceOver || ((++n & 63) === 0 && this.clock.realNow() >= this.sliceEnd)) {
          this.sliceOver = this.queue.size > 0;
          if (this.sliceOver) break;
        }
      }
    } finally {
      this.running = false;
    }
    this.clock.arm(this.timers.next(), this);
    if (this.sliceOver) this.clock.defer(this.tickFn);
    else this.clock.idle(this);
  }

  /** Run `t` from its queued input until it suspends, ends, or uses up the time slice. */
  private step(t: Task): void {
    const flags = t.flags;
    // A task dequeued while still suspended yielded cooperate(): it resumes with no value.
    let threw = (flags & (THROWING | SUSPENDED)) === THROWING;
    let input = flags & SUSPENDED ? undefined : t.slot;
    t.flags = flags & ~(QUEUED | SUSPENDED | THROWING | REPLACEABLE);
    t.slot = undefined;
    if (!(flags & STARTED)) this.start(t);
    let budget = BUDGET;
    for (;;) {
      const it = t.it;
      if (it === null) {
        // Phase 1: the top frame's body has ended; the frame ends once its children have.
        const f = t.top;
        if (!this.settle(f)) {
          this.suspend(t, CHILDREN);
          return;
        }
        if (f === t) return this.finish(t);
        const cf = f as CallFrame; // a call is over: its caller's body resumes with the outcome
        t.top = cf.caller;
        t.it = cf.callerIt;
        t.flags = (t.flags & ~GENERATOR) | (cf.flags & GENERATOR);
        const cancelled = (cf.flags & (HALTED | EARLY)) === HALTED; // it received its Cancelled
        threw = (cf.flags & FAILED) !== 0 || cancelled;
        input = cf.flags & FAILED ? cf.result : cancelled ? new Cancelled(`task ${t} was cancelled`) : cf.result;
        // A cancellation still due goes with the outcome to the caller if the caller is being
        // cancelled too (it gets it at its next yield); otherwise it concerned only this call.
        if (cf.flags & EARLY && cf.caller.flags & HALTED) t.flags |= INTERRUPT;
        else t.flags &= ~INTERRUPT;
        continue;
      }
      // Phase 2: resume the body until it yields something.
      let value: unknown;
      try {
        const r = threw ? throwInto(it, input, t.flags) : t.flags & GENERATOR ? genNext.call(it as Generator, input) : it.next(input);
        if (typeof r !== "object" || r === null) throw new TypeError(`the iterator of task ${t} returned ${describe(r)}, not a result object`);
        if (r.done === true) {
          this.ended(t, false, r.value);
          continue;
        }
        value = r.value;
      } catch (e) {
        this.ended(t, true, e);
        continue;
      }
      forgetOpening();
      // Phase 3: a pending cancellation is delivered here instead of performing the effect.
      if (t.flags & INTERRUPT) {
        t.flags &= ~INTERRUPT;
        threw = true;
        input = new Cancelled(`task ${t} was cancelled`);
        continue;
      }
      // Phase 4: perform the effect; a result resumes the body at once, SUSPEND leaves it.
      try {
        input = this.perform(value, t);
        threw = false;
      } catch (e) {
        threw = true;
        input = e;
        continue;
      }
      if (input === SUSPEND) {
        if (t.flags & INTERRUPT) this.interrupt(t); // the effect itself cancelled this task
        return;
      }
      if (--budget === 0) {
        budget = BUDGET;
        if (this.clock.realNow() >= this.sliceEnd) {
          this.sliceOver = true;
          t.slot = input;
          return this.enqueue(t);
        }
      }
    }
  }

  /** First step: turn the operation into the body's iterator, unless cancelled already. */
  private start(t: Task): void {
    t.flags |= STARTED;
    const op = t.it;
    t.it = null;
    if (t.flags & HALTED) return; // cancelled before its first step: the body never runs
    try {
      const it = toIterator(op);
      t.it = it;
      if (isGenerator(it)) t.flags |= GENERATOR;
    } catch (e) {
      this.fail(t, e, t);
    }
  }

  /** Dispatch a yielded value: effects to their handler, other operations to join/call/wait. */
  private perform(value: unknown, t: Task): unknown {
    if (value instanceof Effect) {
      const h = this.handlers[value.code];
      if (h === undefined) throw new TypeError(`task ${t} yielded an effect of unknown type ${describe(value.type)}`);
      return h.run(value, t, this);
    }
    // Other yieldables become the effect they stand for.
    if (value instanceof Task) return this.perform(new Join(value), t);
    if (isIterator(value) || isOperation(value)) return this.perform(new Call(value, undefined), t);
    if (isThenable(value)) return this.perform(new Wait(value), t);
    throw new TypeError(
      `task ${t} yielded ${describe(value)}; yield* an effect (sleep, call, fork, join…), an operation or a task, or yield a promise`,
    );
  }

  // ---- for handlers --------------------------------------------------------------------------

  /** @internal Mark `t` as waiting on `on` (an effect, or a handler's record of it). */
  suspend(t: Task, on: unknown): typeof SUSPEND {
    t.slot = on;
    t.flags |= SUSPENDED;
    return SUSPEND;
  }

  /** @internal True while `t` is still suspended on `on` (a late or second wake-up is ignored). */
  waiting(t: Task, on: unknown): boolean {
    return (t.flags & SUSPENDED) !== 0 && t.slot === on;
  }

  /** @internal End the loop's run after this step if the time slice is used up. */
  yieldSoon(): void {
    if (this.clock.realNow() >= this.sliceEnd) this.sliceOver = true;
  }

  /** @internal Wake suspended `t`: its body continues with `value`, or has it thrown in. A
   * `replaceable` input loses nothing if a cancellation arriving before `t` runs replaces it. */
  resume(t: Task, value: unknown, threw = false, replaceable = false): void {
    t.flags = (t.flags & ~(SUSPENDED | THROWING | REPLACEABLE)) | (threw ? THROWING : 0) | (replaceable ? REPLACEABLE : 0);
    t.slot = value;
    if (!(t.flags & QUEUED)) this.enqueue(t);
    this.kick();
  }

  /** @internal `w` waits for `t` to finish: a joiner or canceller, a promise, or a function. */
  watch(t: Task, w: Watcher): void {
    const list = this.waiters.get(t);
    if (list === undefined) this.waiters.set(t, [w]);
    else list.push(w);
  }

  /** @internal `w` no longer waits for `t`. */
  unwatch(t: Task, w: Watcher): void {
    const list = this.waiters.get(t);
    const i = list === undefined ? -1 : list.indexOf(w);
    if (i >= 0) list!.splice(i, 1);
  }

  /** @internal What waits for `t`. */
  watchers(t: Task): ReadonlyArray<Watcher> {
    return this.waiters.get(t) ?? [];
  }

  /** @internal Run `it` as a call: a frame of its own on top of `t`'s running body, which
   * resumes with the call's outcome once the call and its children are done. */
  enter(t: Task, it: Iterator<unknown>): void {
    t.top = new CallFrame(t, t.top, t.it!, t.flags & GENERATOR);
    t.it = it;
    t.flags = isGenerator(it) ? t.flags | GENERATOR : t.flags & ~GENERATOR;
  }

  /** @internal Start a child task owned by frame `owner` (FORK, SPAWN, or 0 for a root). */
  child<T>(owner: Frame, op: OperationLike<T>, kind: number, name: string | undefined): Task<T> {
    const t = new Task<T>(this, owner, op, kind, name);
    owner.adopt(t);
    this.live++;
    this.enqueue(t);
    return t;
  }

  /** @internal Schedule a tick unless the loop is running or about to: on a microtask, so a
   * wake-up from a promise or a callback runs at once; but after a host turn once microtasks
   * alone have kept the loop busy for a slice (a stream of settled promises, say), so that
   * timers and I/O are never starved. */
  kick(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    const now = this.clock.realNow();
    if (this.burst < 0) {
      this.burst = now;
      this.clock.defer(this.hostHadTurn);
    }
    if (now - this.burst > SLICE_MS) this.clock.defer(this.tickFn);
    else queueMicrotask(this.tickFn);
  }

  // ---- structure: ends, failures, cancellation ------------------------------------------------

  /** The body of the top frame of `t` returned or threw. If a cancellation was still due to
   * it (INTERRUPT), the body never saw it: its outcome is kept for the caller, and the
   * cancellation stays due, at the caller's next yield. Nothing a body returned is lost. */
  private ended(t: Task, threw: boolean, value: unknown): void {
    const f = t.top;
    t.it = null;
    if (t.flags & INTERRUPT) f.flags |= EARLY;
    if (threw) {
      if (!(f.flags & HALTED) || !isCancelled(value)) this.fail(f, value, t);
    } else if (!(f.flags & FAILED) && (!(f.flags & HALTED) || f.flags & EARLY)) {
      f.result = value; // a failure of the frame (a child's error) stays its outcome
    }
  }

  /** @internal Record `error`, raised in task `from`, as the failure of `f`: the first error
   * wins and cancels the rest of the frame; any later one is reported, never dropped. */
  fail(f: Frame, error: unknown, from: Task): void {
    if (f.flags & FAILED) {
      if (error !== f.result) this.report(error, from);
      return;
    }
    f.flags |= FAILED;
    f.result = error;
    this.halt(f);
  }

  /**
   * @internal Cancel frame `start`: the calls running above it in its task, its body, and all
   * children, recursively. Each body gets a Cancelled where it waits (the body first, then
   * children newest first); frames cancelled already are left alone. Iterative, so no depth
   * of task tree grows the stack.
   */
  halt(start: Frame): void {
    const work: Frame[] = [start];
    for (let i = 0; i < work.length; i++) {
      const f = work[i]!;
      if (f.flags & HALTED) continue;
      const t = taskOf(f)!;
      const interrupting = !(t.top.flags & HALTED);
      for (let g = t.top; ; g = (g as CallFrame).caller) {
        if (!(g.flags & HALTED)) {
          g.flags |= HALTED;
          for (let c = g.children; c !== null; c = c.prev) work.push(c);
        }
        if (g === f) break;
      }
      if (interrupting) this.interrupt(t);
    }
  }

  /** Deliver a cancellation to the running body of `t`: at once if it waits (or was woken with
   * nothing to lose), else at its next yield. */
  private interrupt(t: Task): void {
    t.flags &= ~INTERRUPT;
    if (t.it === null) {
      t.top.flags |= EARLY; // the body finished first: its outcome stands (see ended)
      return;
    }
    if (t.flags & REPLACEABLE) return this.resume(t, new Cancelled(`task ${t} was cancelled`), true);
    if (!(t.flags & SUSPENDED)) {
      t.flags |= INTERRUPT; // running, or queued with a result it must not lose
      return;
    }
    const on = t.slot as Effect;
    t.flags &= ~SUSPENDED;
    const h = this.handlers[on.code];
    if (h?.cancel !== undefined) {
      try {
        h.cancel(on, t, this);
      } catch (e) {
        this.fail(t.top, e, t);
      }
    }
    this.resume(t, new Cancelled(`task ${t} was cancelled`), true);
  }

  /** A frame whose body has ended may finish once no child is left. Forks are awaited first;
   * then the remaining (spawned) children are cancelled. */
  private settle(f: Frame): boolean {
    if (f.children === null) return true;
    if (f.forks === 0 && !(f.flags & CLOSING)) {
      f.flags |= CLOSING;
      for (let c: Task | null = f.children; c !== null; c = c.prev) this.halt(c);
    }
    return false;
  }

  /** `t` and all its children are over: publish the outcome and tell the owner. */
  private finish(t: Task): void {
    t.flags |= DONE;
    this.live--;
    const owner = t.owner;
    owner.release(t);
    const failed = (t.flags & FAILED) !== 0;
    const halted = !failed && (t.flags & HALTED) !== 0;
    // A failed child fails its owner first, so a parent joining it sees Cancelled, not the error.
    if (failed && owner !== this.roots) this.fail(owner, t.result, t);
    let observed = false;
    const waiters = this.waiters.get(t);
    if (waiters !== undefined) {
      this.waiters.delete(t);
      for (const w of waiters) {
        if (typeof w === "function") {
          w(t);
        } else if (w instanceof Deferred) {
          if (!w.joins) w.resolve(undefined);
          else if (failed) (w.reject(t.result), (observed = true));
          else if (halted) w.reject(new Cancelled(`task ${t} was cancelled`));
          else w.resolve(t.result);
          if (w.joins) t.slot = w.promise;
        } else if ((w.slot as Effect).type !== "join") {
          this.resume(w, undefined, false, true); // a canceller
        } else if (failed) {
          this.resume(w, t.result, true, true);
          observed = true;
        } else if (halted) {
          this.resume(w, new Cancelled(`task ${t} was cancelled`), true, true);
        } else {
          this.resume(w, t.result, false, true);
        }
      }
    }
    if (owner === this.roots) {
      // A failed root nobody awaits must not vanish: its rejection is reported as unhandled.
      if (failed && !observed) t.slot = Promise.reject(t.result);
      return;
    }
    const parent = taskOf(owner)!;
    if (parent.top === owner && parent.it === null && parent.flags & SUSPENDED) this.resume(parent, undefined);
  }

  // ---- the Ticker side: what the clock asks ---------------------------------------------------

  /** @internal */
  busy(): boolean {
    return this.running || this.queue.size > 0 || this.inFlight > 0;
  }

  /** @internal */
  nextDeadline(): number {
    return this.timers.next();
  }

  /** @internal Fail every root with a DeadlockError describing what each blocked task waits on. */
  deadlock(): void {
    if (this.live === 0) return;
    const error = new DeadlockError(this.describeTree(this.roots, ""));
    let failedAny = false;
    for (let r = this.roots.children; r !== null; r = r.prev) {
      if (r.flags & FAILED) continue;
      failedAny = true;
      this.fail(r, error, r);
    }
    // If every root had failed already, their cleanup is what is stuck: say so and stop.
    if (failedAny) this.kick();
    else this.report(error, this.roots.children!);
  }

  private describeTree(f: Frame, indent: string): string {
    let out = "";
    const kids: Task[] = [];
    for (let c = f.children; c !== null; c = c.prev) kids.unshift(c);
    for (const c of kids) {
      const on = c.flags & SUSPENDED ? String(c.slot) : c.flags & QUEUED ? "ready" : "running";
      out += `${indent}task ${c} waits on ${on}\n`;
      for (let g: Frame = c.top; ; g = (g as CallFrame).caller) {
        out += this.describeTree(g, `${indent}  `);
        if (g === c) break;
      }
    }
    return out;
  }

  // ---- internals -----------------------------------------------------------------------------

  private fireTimers(): boolean {
    return this.timers.size !== 0 && this.timers.fire(this.clock.now(), this.wakeFn);
  }

  /** @internal Append `t` to the run queue. */
  enqueue(t: Task): void {
    t.flags |= QUEUED;
    this.queue.push(t);
  }

  /** @internal Hand an error that cannot propagate to `onError`. */
  report(error: unknown, task: Task): void {
    try {
      this.onError(error, task);
    } catch (e) {
      console.error("skein: onError threw", e, "while reporting", error);
    }
  }
}
