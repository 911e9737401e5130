// Tasks and frames: the data of a green thread and of each body that owns children.
// The scheduler (scheduler.ts) drives them; this file holds their state and the public Task API.

import { current as running, direct, Effect, isDirect, tag, type Operation, type Yielded } from "./effect.js";

/** @internal The task whose body the scheduler is running now (null between steps). */
export const current = running as { task: Task | null };
import { brand, TASK } from "./brand.js";
import { Cancelled } from "./errors.js";
import type { OperationLike } from "./operation.js";
import type { Scheduler } from "./scheduler.js";

// Bits of `Frame.flags` (and, for a task's root frame, of `Task.flags`). Internal.
/** @internal Cancelled: every suspension of its body throws Cancelled (cancellation is level-
 * triggered); its children are cancelled, and so are calls and children started in it later. */
export const HALTED = 1;
/** @internal Failed: `result` holds the first error. */
export const FAILED = 2;
/** @internal Frame bit: a shield's call. A cancellation from the frames below stops here: the
 * frames at and above it are cancelled only when it has ended (see `Scheduler.halt`). */
export const SHIELD = 4;
/** @internal The body has ended and its remaining spawned children were cancelled. */
export const CLOSING = 8;
/** @internal Task bits: the body has started running. */
export const STARTED = 16;
/** @internal In the scheduler's ready queue. */
export const QUEUED = 32;
/** @internal Waiting on `slot`; otherwise `slot` holds the input of the next resume. */
export const SUSPENDED = 64;
/** @internal The input in `slot` is to be thrown into the body. */
export const THROWING = 128;
/** @internal Frame bit: a Cancelled has been thrown into this (halted) frame's body, so what the
 * body returns afterwards is discarded and its caller gets Cancelled. A halted body that ends
 * without one (it had a result to return and did not wait again) keeps its outcome. */
export const DELIVERED = 256;
/** @internal Frame bit: a cancelled frame whose body swallowed Cancelled too often is being
 * stopped: a Cancelled due to it returns the body instead (its `finally` blocks run, its `catch`
 * blocks are skipped). Calls entered in it are stopping too. */
export const STOPPING = 16384;
/** @internal Frame bit: a stopping frame whose body has been returned. Only its `finally` blocks
 * can run now, and they run to their end: its waits, calls and children are not cancelled. */
export const RETURNED = 1 << 16;
/** @internal The queued input carries nothing that would be lost (a timer fired, a join or a
 * promise settled): a cancellation arriving meanwhile replaces it, and is delivered at that wait. */
export const REPLACEABLE = 8192;
/** @internal Started by fork (waited for) or spawn (cancelled when the parent's body ends). */
export const FORK = 512;
/** @internal */
export const SPAWN = 1024;
/** @internal Finished: `result` and the FAILED/HALTED bits are final. */
export const DONE = 2048;
/** @internal The bits skein/node (another bundle) reads, in one object: a binding another bundle
 * imports is exported from the core bundle, and V8 reads an exported binding through a cell, with
 * a check that it is initialised, on every use in the core too (HALTED is read on every `call`
 * and channel send or receive). See `forIO` in effect.ts. */
export const bitsForIO = { DONE, FAILED, FORK, HALTED } as const;
/** @internal Task bit: the running body is a native generator, resumed without looking up
 * `next`. On a CallFrame the same bit records it for the caller's body, restored on return. */
export const GENERATOR = 4096;
/** @internal Task bit: the task was cancelled while it ran (or was queued with a result it must
 * not lose): its next effect throws Cancelled instead of being performed, unless its body has had
 * one already. So a task that computes without waiting is stopped too. */
export const OVERDUE = 32768;
/** @internal Frame bits 17 to 23 count the Cancelled errors thrown into the frame's body (to 101). */
export const DELIVERY = 1 << 17;
/** @internal Task bit: the running body parked inside a `yield*` (see `Scheduler.parkHere`); the
 * step loop confirms the wait when the body hands it the effect, or undoes it. */
export const PARKING = 1 << 24;
/** @internal Task bit: a helper task that a combinator (race, all, map) runs an operation of
 * yours in. It acts for the task whose call started it (see `actorOf`), known from its owner: a
 * bit, not a map from helper to task (a WeakMap's entry cost an `all` of two calls ~700
 * instructions, and the collector's ephemeron work besides). */
export const HELPER = 1 << 25;
/** @internal Task bit: its body is skein's own (a member of `all`, a loser of a decided race)
 * and, while the task is at its top, it waits on one of skein's effects with nothing of the
 * user's in between: a cancel returns the body instead of throwing a Cancelled into it, which
 * nothing could see. Making the error and unwinding its throw were most of what a timeout cost
 * when it had a timer task and its operation had to wait. See `quiet`. */
export const QUIET = 1 << 26;
/** @internal Not a task: the `flags` of an alarm, which waits in the run queue among the tasks
 * once set (to be armed) and once due (to ring; see Alarm in timers.ts). The loop tells it by
 * this bit, which no task has: a field test, not `instanceof`, which cost every step ~60
 * instructions (callgrind, `pingpong`). */
export const ALARM = 1 << 27;
/** @internal Task bit: woken by its timer and not stepped since. Next in the queue when a look
 * finds a run's slice over, it may still get its step in that run: once a run, not after a timer's
 * task's own step, not after the first wave of timers ran, and not if SLOW (see `Scheduler.loop`). */
export const TIMED = 1 << 28;
/** @internal Task bit: the last step its timer woke that the loop timed alone (a look before and
 * after it) took long, so it gets no step past a slice's end (see TIMED). */
export const SLOW = 1 << 29;

/**
 * A body and what it owns (an implementation detail of {@link Task}): children, cleanups and
 * context values. A task's root body is the task itself; each `call` pushes a CallFrame on top of
 * it. Children form a doubly linked list, newest last. The running body's iterator is on the task
 * (`Task.it`), so the hot path of the scheduler touches one kind of object only.
 */
export class Frame {
  /** @internal */
  flags: number;
  /** @internal The body's return value, or the first error when FAILED. */
  result: unknown = undefined;
  /** @internal Made when the body first starts a child, registers a cleanup or provides a
   * context value, or when the task is made its own error boundary (`setBoundary`): most tasks
   * never are. */
  scope: Scope | null = null;

  /** @internal */
  constructor(flags: number) {
    this.flags = flags;
  }

  /** @internal The newest child; older ones through `prev`. */
  get children(): Task | null {
    return this.scope === null ? null : this.scope.newest;
  }

  /** @internal How many children are forks (waited for, not cancelled, when the body ends). */
  get forks(): number {
    return this.scope === null ? 0 : this.scope.forks;
  }

  /** @internal */
  adopt(child: Task): void {
    const kids = (this.scope ??= new Scope());
    child.prev = kids.newest;
    if (kids.newest !== null) kids.newest.next = child;
    kids.newest = child;
    if (child.flags & FORK) kids.forks++;
  }

  /** @internal */
  release(child: Task): void {
    const kids = this.scope!;
    if (child.next !== null) child.next.prev = child.prev;
    else kids.newest = child.prev;
    if (child.prev !== null) child.prev.next = child.next;
    child.prev = child.next = null;
    if (child.flags & FORK) kids.forks--;
  }
}

/** @internal What a frame owns beyond its body: its children (a doubly linked list, newest
 * last, and how many are forks), the cleanups to run when it ends (last first), the context
 * values it provides, and, on a task's own scope, the task's error boundary. */
export class Scope {
  newest: Task | null = null;
  forks = 0;
  cleanups: unknown[] | null = null;
  values: Map<object, unknown> | null = null;
  /** Set on a task's own scope when the task is its own error boundary (see `setBoundary`). */
  boundary: Boundary | null = null;
}

/** @internal The frame of one `call`: when it is over, the task resumes `caller`'s body, whose
 * iterator (and GENERATOR bit, in `flags`) it keeps meanwhile. A cleanup of a frame whose body
 * has ended runs as a call on top of it, with no body to resume (`callerIt` null). */
export class CallFrame extends Frame {
  readonly task: Task;
  readonly caller: Frame;
  readonly callerIt: Iterator<unknown, unknown, unknown> | null;
  /** What was called (the Call or Shield effect, a cleanup), for stack traces and reports. */
  readonly what: unknown;
  constructor(task: Task, caller: Frame, callerIt: Iterator<unknown, unknown, unknown> | null, flags: number, what: unknown) {
    super(flags);
    this.task = task;
    this.caller = caller;
    this.callerIt = callerIt;
    this.what = what;
  }
}

/**
 * The effect of `join(task)`, and what iterating a task yields: wait for the task to finish.
 *
 * @example
 * ```ts
 * const effect = join(task);
 * console.log(effect instanceof Join, effect.task === task); // true true
 * ```
 */
export class Join<T = unknown> extends Effect<T> {
  declare readonly type: "join";
  constructor(readonly task: Task<T>) {
    super();
  }
  override toString(): string {
    return `join(${this.task})`;
  }
}
tag(Join, "join");
direct(Join);

/**
 * The effect of {@link cancel}: `task` is the task to cancel.
 *
 * @example
 * ```ts
 * const effect = cancel(task);
 * console.log(effect.task === task); // true
 * ```
 */
export class Cancel extends Effect<void> {
  declare readonly type: "cancel";
  constructor(readonly task: Task<unknown>) {
    super();
  }
  override toString(): string {
    return `cancel(${this.task})`;
  }
}
tag(Cancel, "cancel");

/** @internal Whether frame `f` (a task's body or a call in it) has been cancelled: a `Cancelled`
 * caught there is its own, not one it got from a task it joined. */
export function isHalted(f: Frame): boolean {
  return (f.flags & HALTED) !== 0;
}

/** @internal The task `t` acts for: the caller of the all(), race() or map() that `t` is a helper
 * task of, or `t` itself. Its mailbox is the one `t` reads, and monitors set up in `t` report to.
 * A helper's owner is a frame of the task that started it, which may be a helper too. */
export function actorOf(t: Task): Task {
  while (t.flags & HELPER) t = taskOf(t.owner)!;
  return t;
}

/** @internal Mark `t`, just started by a combinator's body and not yet run, as its helper (see
 * `actorOf`): a `receive()` in it reads the mailbox of the task that called the combinator. */
export function helper(t: Task): Task {
  t.flags |= HELPER;
  return t;
}

/** @internal Mark `t` as one whose cancel may return its body (see QUIET): only for a body of
 * skein's own that waits on nothing but `op` and sees no Cancelled, and only if `op` is one of
 * the effects marked `direct` (skein's class itself, not a subclass of the user's, whose `throw`
 * or iterator would see the difference). */
export function quiet(t: Task, op: unknown): Task {
  if (isDirect(op)) t.flags |= QUIET;
  return t;
}

/** @internal The task whose body (or call) `f` is; null for a scheduler's frame of root tasks. */
export function taskOf(f: Frame): Task | null {
  return f instanceof Task ? f : f instanceof CallFrame ? f.task : null;
}

/** @internal Why a frame's spawned children are cancelled when its body ends, when a combinator
 * knows better than "its scope ended" (a race that was decided). */
export const endReasons = new WeakMap<Frame, { toString(): string }>(); // its text made only if a Cancelled is

/** @internal A task as it appears in messages, `#id name`, from its id and name: for a text made
 * later (a cancel's reason, when a Cancelled is made from it), which keeps no task alive. */
export function labelOf(id: number, name: string): string {
  return `#${id} ${name}`;
}

/** @internal The children of frame `f` that still run, oldest first. */
export function childrenOf(f: Frame): Task[] {
  const out: Task[] = [];
  for (let c = f.children; c !== null; c = c.prev) out.push(c);
  return out.reverse();
}

/** @internal The tasks `t` started that still run: its body's children, then those of each call
 * it is in, the outermost first. */
export function tasksUnder(t: Task): Task[] {
  const frames: Frame[] = [];
  for (let g: Frame = t.top; ; g = (g as CallFrame).caller) {
    frames.push(g);
    if (g === t) break;
  }
  return frames.reverse().flatMap(childrenOf);
}

/** @internal What a task that is its own error boundary tells when it is over (see `setBoundary`). */
export interface Boundary {
  ended(task: Task): void;
}

/** @internal Make `task` its own error boundary (an HTTP handler's, see skein/node): when it is
 * over, its outcome goes to `boundary.ended(task)` and never fails its owner; a failure is the
 * boundary's to report. The owner still cancels it and waits for it, as any child. One task and
 * no `call` inside it for a scope: a request costs a generator and a frame less. The boundary
 * is kept on the task's scope, made for it if need be, not in a field of every task (8 bytes on
 * each of a million sleepers) nor in a map (callgrind: HTTP hello +4,000 instructions a request
 * against the field, unexplained). */
export function setBoundary(task: Task, boundary: Boundary): void {
  (task.scope ??= new Scope()).boundary = boundary;
}

/** @internal Settles a promise handed out by `then` (join) or `cancel()`. */
export class Deferred {
  readonly promise: Promise<unknown>;
  /** Where it is in the task's list of watchers (see WaitQueue). */
  waitIndex = -1;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  constructor(readonly joins: boolean) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/**
 * The lifecycle of a task: it is `running` until its body and all its children have finished.
 *
 * @example
 * ```ts
 * const t = run(main());
 * await t.catch(() => {});
 * const state: TaskState = t.state; // "completed", "failed" or "cancelled"
 * ```
 */
export type TaskState = "running" | "completed" | "failed" | "cancelled";

/**
 * A green thread: one coroutine and the children it started. Returned by `run`, `fork` and
 * `spawn`. A task is a promise (`await task`, `.then`, `.catch`, `.finally`) and an operation
 * (`yield* task` joins it).
 *
 * @example
 * ```ts
 * const task = run(function* main() {
 *   yield* sleep(10);
 *   return 42;
 * });
 * console.log(task.name, task.state); // "main" "running"
 * console.log(await task);            // 42
 * ```
 */
export class Task<T = unknown> extends Frame implements Promise<T>, Operation<T> {
  /** A number unique within the task's scheduler, in creation order. */
  readonly id: number;
  /** The name given in the options, else the name of the function that was started. */
  readonly name: string;
  /** @internal The running body (of the top frame): the operation itself before the first
   * step, null once the top frame's body has ended. */
  it: Iterator<unknown, unknown, unknown> | null;
  /** @internal */
  readonly sched: Scheduler;
  /** @internal The frame that owns this task: the parent's body or call, or the scheduler's roots. */
  readonly owner: Frame;
  /** @internal Siblings in `owner`'s list of children. */
  prev: Task | null = null;
  /** @internal */
  next: Task | null = null;
  /** @internal The frame whose body runs now: this task, or its innermost call. */
  top: Frame = this;
  /** @internal What the task waits on (when SUSPENDED), or the input of its next resume. */
  slot: unknown = undefined;
  /** @internal Where the task is in what it waits in: its place among the tasks sleeping until
   * the same deadline, or its position in a wait queue (see WaitQueue). It waits in one at a
   * time, so one field serves all; a stale value is harmless (queues check it). */
  waitIndex = -1;

  /** @internal Use `run`, `fork` or `spawn`. */
  constructor(sched: Scheduler, owner: Frame, op: OperationLike<T>, flags: number, name: string | undefined) {
    super(flags);
    this.it = op as unknown as Iterator<unknown, unknown, unknown>;
    this.sched = sched;
    this.owner = owner;
    this.id = sched.nextId++;
    // (The test of `nameOfFunction` in operation.ts, without its guard for a `name` getter that
    // throws: with it here and in all.ts's `nameOf`, an `all` of two calls cost ~1,700 more.)
    this.name = name ?? (typeof op === "function" && typeof op.name === "string" && op.name !== "" ? op.name : "anonymous");
  }

  /** Where the task is in its lifecycle. */
  get state(): TaskState {
    const f = this.flags;
    if (!(f & DONE)) return "running";
    return f & FAILED ? "failed" : f & HALTED ? "cancelled" : "completed";
  }

  /**
   * Cancel the task now; what it returns resolves (as a promise) or returns (as an operation,
   * with `yield*`) once the task and all its descendants have finished their cleanup. From
   * outside coroutines `await` it; inside one, `yield* task.cancel()` is `yield* cancel(task)`.
   * `reason` says why, in the message of the `Cancelled` the task gets (and, if it is an error,
   * as its `cause`).
   *
   * @example
   * ```ts
   * const t = run(server());
   * process.on("SIGINT", () => t.cancel("SIGINT").then(() => console.log("closed")));
   * ```
   */
  cancel(reason?: string | Error): Promise<void> & Operation<void> {
    let done: Promise<void>;
    if (this.flags & DONE) {
      done = Promise.resolve();
    } else {
      const d = new Deferred(false);
      this.sched.watch(this, d);
      this.sched.halt(
        this,
        reason instanceof Error
          ? { because: reason.message, cause: reason }
          : { because: reason === undefined ? "task.cancel() was called" : String(reason) },
      );
      this.sched.kick();
      done = d.promise as Promise<void>;
    }
    const effect = new Cancel(this); // halted already: performing it only waits for the end
    return Object.assign(done, { [Symbol.iterator]: () => effect[Symbol.iterator]() });
  }

  /**
   * Await the task: fulfils with its value, rejects with its error, or with a `Cancelled` if
   * it was cancelled.
   *
   * @example
   * ```ts
   * run(main()).then((v) => console.log("done", v), (e) => console.error(e));
   * ```
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise().then(onfulfilled, onrejected);
  }

  /**
   * Handle the task's failure (or cancellation), like `Promise.prototype.catch`.
   *
   * @example
   * ```ts
   * run(main()).catch((e) => console.error("main failed", e));
   * ```
   */
  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.promise().catch(onrejected);
  }

  /**
   * Run `onfinally` once the task has finished, however it ended, like `Promise.prototype.finally`.
   *
   * @example
   * ```ts
   * run(main()).finally(() => console.log("stopped"));
   * ```
   */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.promise().finally(onfinally);
  }

  /** `"Task"`, as in `Object.prototype.toString.call(task)`. */
  get [Symbol.toStringTag](): string {
    return "Task";
  }

  /** Joins the task: `const v = yield* task`. */
  [Symbol.iterator](): Iterator<Yielded, T, unknown> {
    return new Join(this)[Symbol.iterator]();
  }

  /** `#id name`, as tasks appear in messages. */
  override toString(): string {
    return labelOf(this.id, this.name);
  }

  /** @internal The outcome as a settled promise, or the promise of the outcome to come. */
  promise(): Promise<T> {
    if (this.flags & DONE) {
      // After the end `slot` caches the settled promise (it may be the one already reported unhandled).
      if (this.slot === undefined) this.slot = this.settled();
      return this.slot as Promise<T>;
    }
    const joining = this.sched.joining(this);
    if (joining !== undefined) return joining.promise as Promise<T>;
    const d = new Deferred(true);
    this.sched.watch(this, d);
    return d.promise as Promise<T>;
  }

  /** @internal */
  settled(): Promise<T> {
    const f = this.flags;
    if (f & FAILED) return Promise.reject(this.result);
    if (f & HALTED) return Promise.reject(this.sched.cancelError(this));
    return Promise.resolve(this.result as T);
  }
}
brand(Task, TASK); // so another copy of skein names it in its errors instead of joining it wrongly
