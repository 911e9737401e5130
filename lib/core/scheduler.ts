// The scheduler: a FIFO run queue, the trampolined step loop that resumes coroutines, time slices,
// and the lifecycle of tasks and frames (children, cancellation, errors). It never touches the host.

import { SLICE_MS, type Clock } from "./clock.js";
import { foreign, ONE_COPY } from "./brand.js";
import { clearSuspect, Effect, effectTypes, forgetOpening, isNoted, renewNotes, stepLeftUnused, suspect, unused, used, type Suspect } from "./effect.js";
import { Call, Join, nameIn, Wait, type AnyEffect, type TaskOptions } from "./effects.js";
import { Cancelled, DeadlockError, isCancelled } from "./errors.js";
import { Deque } from "./deque.js";
import { Awaiting, keepAwaited, keeps, notHandedOn } from "./awaiting.js";
import { giveBack } from "./park.js";
import { WaitQueue, type Queued } from "./wait-queue.js";
import { type Alarm, Bucket, Run, Timers } from "./timers.js";
import { annotate, debugging, noteSite, siteOf, waitingSince } from "./stacks.js";
import { checkOperation, describe, isIterator, isOperation, isThenable, type OperationLike } from "./operation.js";
import {
  CallFrame, ALARM, CLOSING, current, Deferred, Scope, DELIVERED, DELIVERY, DONE, FAILED, Frame, GENERATOR, HALTED, OVERDUE, PARKING, QUEUED, QUIET, REPLACEABLE,
  RETURNED, SHIELD, STARTED, STOPPING, SUSPENDED, Task, taskOf, THROWING, TIMED, SLOW, childrenOf, tasksUnder, endReasons, labelOf,
} from "./task.js";

/** How many runs of the loop are going on now, those of every copy of skein in the process (a
 * count shared through the global symbol registry, as the brands are): a promise's reaction or
 * an I/O event runs its task right there only when none is, so that a task of one copy never
 * runs nested in a step of another's (it takes the microtask way instead, as within one copy). */
const runs = sharedRuns();
function sharedRuns(): { n: number } {
  const global = globalThis as Record<symbol, { n: number } | undefined>;
  const key = Symbol.for("skein.runs");
  const own = { n: 0 };
  // A global object that takes no new property (frozen, as hardened JavaScript may leave it)
  // refuses it without throwing here: this copy then counts its own runs only.
  if (global[key] === undefined) Reflect.defineProperty(global, key, { value: own, writable: true, configurable: true });
  return global[key] ?? own;
}
/** @internal Synchronous effects a step of one task may complete before the clock is first
 * looked at; after that, as many as the last ones would take to fill what is left of the slice
 * (1 to MAX_BUDGET). A task whose every `call` computes for a millisecond holds the host for 16
 * ms at most (with a budget of 256 throughout, a quarter of a second), while a long loop of quick
 * calls pays for a clock read every 256th (every 16th: `call` +18 %, callgrind). Calls that turn
 * slow after many quick ones still run up to 256 before the next look. */
export const BUDGET = 16;
const MAX_BUDGET = 256;
/** Steps of a run that may pass between two looks at the clock (see `lookGap`). */
const MAX_GAP = 16;
/** How many steps after step `n` of a run the loop looks at the clock again, when `left` ms of
 * the slice are left and a stretch between two looks takes `per` ms (the last one, or half the
 * one before if that took longer, and so on): as many as fit in what is left if each step took
 * the whole stretch, at most `n` and MAX_GAP, at least 1. Quick steps are looked at after steps
 * 1, 2, 4, 8, then every 16th, so hand-offs rarely pay for a read (a read after every step cost
 * a channel's ping-pong 10 %; a read is 45–70 ns, ~500 instructions, on this project's VMs);
 * once a stretch has taken a while (a task that computes for milliseconds a step), after every
 * step for the rest of the slice, so the run ends at the first step that ends past it. (After
 * steps 1, 2, 4, 8 and every 16th whatever they took, eight tasks that each computed 4 ms
 * behind quick ones held the host for 16–32 ms, found by review.) What this cannot see: slow
 * steps that come right after quick ones, up to as many as those (at most MAX_GAP). A stretch
 * made long by the collector or the machine costs a few more looks, halved at each. */
function lookGap(n: number, per: number, left: number): number {
  const most = n < MAX_GAP ? n : MAX_GAP;
  if (per * most <= left) return most;
  const fit = Math.floor(left / per);
  return fit > 1 ? fit : 1;
}
/** Cancelled errors a task may swallow and wait again before it is reported and stopped. */
const SWALLOW_LIMIT = 100;

/** A microtask is a reaction to this. */
const resolved = Promise.resolve();

/** @internal What a handler returns when it has suspended the task instead of producing a result. */
export const SUSPEND: unique symbol = Symbol("skein.suspend");

/** What `settle` says of a frame whose body has ended. */
const SETTLED = 0;
const WAIT = 1;
const CLEANUP = 2;

/** What a task whose body has ended waits on until its children have finished. */
const CHILDREN = { type: "children", code: -1, toString: () => "its children to finish" } as const;

/** @internal Why a frame was cancelled: said in the message of its Cancelled, with the cause. */
export interface Reason {
  readonly because: string;
  cause?: unknown;
}

/**
 * What {@link SchedulerOptions.onError} is called with: the error, the task it happened in, and
 * what failed, in words.
 *
 * @example
 * ```ts
 * const onError: ErrorHandler = (error, task, what) => logger.error({ task: task.name, what }, error);
 * ```
 */
export type ErrorHandler = (error: unknown, task: Task, what: string) => void;

/** An error of skein's own about your code: the run loop's stack would say nothing, so it has
 * none, or just the line it is about when that is known. */
/** A suspect of a forgotten `yield*`: what to report, and about whom. */
interface Forgotten extends Suspect {
  readonly task: Task;
  readonly text: string;
  readonly site: string | undefined;
}

function notice(name: string, message: string, at?: string): Error {
  const error = new Error(message);
  error.name = name;
  error.stack = `${name}: ${message}${at === undefined ? "" : `\n    at ${at}`}`;
  return error;
}

/** The default: print it. */
const printError: ErrorHandler = (error, _task, what) => console.error(`skein: ${what}:`, error);

/** @internal What waits for a task to finish: a task joining or cancelling it, a promise handed
 * out for it, or a function to call. */
export type Watcher = Task | Deferred | ((finished: Task) => void);

/** A function watching a task, as queued: like a task or a promise, it knows its place. */
class Callback implements Queued {
  waitIndex = -1;
  constructor(readonly call: (finished: Task) => void) {}
}

/** @internal A watcher as queued, to be given back to `unwatch`: the task or promise itself, or
 * the record of a function. */
export type Watch = Task | Deferred | Callback;

/** What waits for one task, in order: a wait queue, so any of them leaves in O(1); and the
 * promise of its outcome, once one has been handed out (`then` hands out that one again). */
class Watchers extends WaitQueue<Watch> {
  joining: Deferred | null = null;
}

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
  /** Called with the errors skein reports instead of throwing: a server handler that failed, a
   * supervised child that crashed, a second failure in a scope that has failed already, a race
   * loser failing after the winner. `what` says what failed, in words ("GET /users failed").
   * Defaults to printing `skein: <what>:` and the error on `console.error`. */
  onError?: ErrorHandler;
  /** Debug mode: capture where each task is started and each call made, and show those lines
   * in the logical stack traces of errors. It costs a stack capture per fork and call, and it
   * applies to every scheduler of the process (so does `SKEIN_DEBUG=1` in the environment). */
  debug?: boolean;
  /** Told what each task does: started, suspended on what, resumed, ended, cut short by a time
   * limit. A trace recorder (`recordTrace`) is one. Costs nothing when not given. */
  observer?: Observer;
}

/**
 * What {@link SchedulerOptions.observer} is told, between the steps of the run loop (a step runs
 * a task from one wait to the next; `timedOut` in the step where a timeout's error leaves it).
 * Each method is optional; none may throw.
 *
 * @example
 * ```ts
 * const waits = new Map<string, number>();
 * const observer: Observer = {
 *   suspended: (task, on) => waits.set(String(on), (waits.get(String(on)) ?? 0) + 1),
 * };
 * const s = createScheduler({ observer });
 * ```
 */
export interface Observer {
  /** The task's body runs for the first time. */
  started?(task: Task): void;
  /** It runs again, after a wait or after others had their turn. */
  resumed?(task: Task): void;
  /** It stopped: it waits on `on` (an effect, or a record of it: `String(on)` says what), or,
   * with `on` null, it is ready to go on after the others (its time slice was used up). */
  suspended?(task: Task, on: unknown): void;
  /** It has finished, its children too: `task.state` says how. */
  ended?(task: Task): void;
  /** A time limit set in the task ran out at `at` (the scheduler's clock, ms) and cut it short:
   * `limit` says which (`timeout(1000)`, or a select's `select(…, timeout: 500 ms)`). A select's
   * is told when it takes its "timeout" case. A timeout's is told when the error that leaves it
   * is its TimeoutError or was caused by it (its `cause` chain holds it, within 16 links: the
   * Cancelled the limit sent, or an error the operation made from that), which may be after the
   * operation's cleanup; or, when the operation swallowed every Cancelled until it was stopped
   * and its caller was cancelled meanwhile, when it stops.
   * So not when the operation's result stood (a value delivered at the deadline), nor when it
   * failed on its own, nor when the task's cancel or an outer timeout reached it first. */
  timedOut?(task: Task, limit: string, at: number): void;
}

// Native generators are resumed through these, not through a `next` looked up on each object:
// every generator function has its own prototype, so that lookup is megamorphic with closures.
const GeneratorPrototype = Object.getPrototypeOf(function* () {}.prototype) as Generator;
const genNext = GeneratorPrototype.next;
const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}.prototype)) as object;
const genThrow = GeneratorPrototype.throw;
const ENDED: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** @internal True for native generator objects (checked once per body, not per resume), and for
 * the rare object that inherits from one or from a generator function's prototype with a `next` of
 * its own (`Object.create(genFn.prototype, { next })`): the native `next` refuses those before
 * running anything, and `refused` then has them stepped through their own `next`, as `yield*`
 * would. The test reads no property of the object: a generator function written inside a loop
 * gives each generator a new prototype, so reading one (`it.next`) misses V8's inline cache
 * (+~3,400 instructions a cancel, measured); `isPrototypeOf` is compiled inline. Before, two
 * `Object.getPrototypeOf` calls and a cache of one prototype, which bodies of two generator
 * functions taking turns (a server's request and its handler) missed every time. */
export function isGenerator(it: unknown): it is Generator {
  return typeof it === "object" && it !== null && GeneratorPrototype.isPrototypeOf(it);
}

/** @internal Whether `it`, taken for a generator by `isGenerator`, is none: an object made on a
 * generator or a generator function's prototype with a `next` of its own, which the native `next`
 * (or `throw`) refused with `e` before running anything. Asked only when a body failed, so
 * neither the hot path nor a cancel reads a property of a generator; and only where a real
 * generator has been closed by what it threw (stepped again, it runs nothing). */
export function refused(it: Iterator<unknown>, e: unknown): boolean {
  try {
    if (!(e instanceof TypeError)) return false;
  } catch {
    return false; // a revoked Proxy thrown (`instanceof` asks it for its prototype): the error stands
  }
  try {
    if (it.next === genNext) return false; // (a real generator without a next of its own is never stepped again)
  } catch {
    // A `next` getter that throws: the native next decides; stepped through its own, the getter's
    // error is the one reported, as `yield*` reports it.
  }
  try {
    genNext.call(it as Generator);
    return false; // a real generator: closed since its body threw, so nothing ran
  } catch {
    return true;
  }
}

/** @internal The body of a task or call: generators and other iterators as they are, operations
 * through their iterator, a function's result likewise (a promise awaited, a value returned). */
export function toIterator(op: unknown): Iterator<unknown> {
  const v = typeof op === "function" ? op() : op;
  return isGenerator(v) ? v : otherIterator(v);
}

/** @internal {@link toIterator} of a value `isGenerator` said no to (its callers have asked
 * already: each body is tested once, on every call and task start). */
export function otherIterator(v: unknown): Iterator<unknown> {
  // An effect as a whole body: yield it once and return its result (opening the effect itself
  // would rely on its first step following at once, which a preemption could delay).
  if (v instanceof Effect) return performOnce(v);
  if (isOperation(v)) {
    const it = v[Symbol.iterator]();
    if (!(it instanceof Effect)) return it;
    // An operation whose iterator is an effect's (a task, which joins): the same, for the same reason.
    forgetOpening();
    return performOnce(it);
  }
  if (isIterator(v)) {
    // An async generator's `next` returns promises, never a result: stepped, it would spin.
    if (AsyncIteratorPrototype.isPrototypeOf(v)) throw new TypeError("skein runs generators (function*), got an async iterator (an async generator, say): write the body as a function* and wait for each promise in it with yield* wait(promise)");
    return v;
  }
  if (isThenable(v)) return performOnce(new Wait(v)); // (opened, its first step could be delayed: see above)
  // A method, not an arrow property, which keepNames would name each time (architecture.md).
  return {
    next() {
      return { done: true, value: v };
    },
  };
}

function* performOnce(effect: Effect): Generator<unknown, unknown, unknown> {
  return yield effect;
}

/** ensure() and shield(): effects that only guard cleanup, never refused to a task just cancelled. */
function isGuard(value: unknown): boolean {
  return value instanceof Effect && (value.type === "ensure" || value.type === "shield");
}

/** What a task being cancelled is queued with in place of its Cancelled, which is made when the
 * task runs (in `throwInto`): cancelling a million tasks does not hold a million errors at once. */
const CANCEL: unique symbol = Symbol("skein.cancel");

/** What the tasks a halt reaches waiting are queued with instead (one per halt, shared by all the
 * tasks it reaches): its reason, which is the nearest to each of them (the frames between them
 * and the frame it started at were halted by it; once the halt meets a frame halted before, the
 * rest get CANCEL), and the end of their message, said once. */
class Cancelling {
  private said: string | undefined = undefined;
  constructor(readonly reason: Reason) {}
  /** Made by the first of them to get its Cancelled: a halt whose tasks all return quietly (a
   * race's losers, the members of `all` cut short) makes no text at all. */
  get tail(): string {
    return (this.said ??= ` was cancelled: ${this.reason.because}`);
  }
}

/** Why the spawned children of a frame of task `#id name` are cancelled when its body ends:
 * said only when a Cancelled is made from it, as a Cancelling's tail. (It holds no task or frame:
 * a halt's reason stays as long as the task it halted, and would keep them from the collector.) */
class ScopeEnded implements Reason {
  private said: string | undefined = undefined;
  constructor(
    private readonly given: { toString(): string } | undefined,
    private readonly id: number,
    private readonly name: string,
  ) {}
  get because(): string {
    return (this.said ??=
      this.given !== undefined ? String(this.given) : `its scope in task ${labelOf(this.id, this.name)} ended (a spawned task stops then)`);
  }
}

/** Whether `value` is a halt's mark. Never throws: `instanceof` asks a Proxy for its prototype, and
 * a revoked one throws then (a thrown revoked Proxy must reach the body that waits, as it is). */
function isMark(value: unknown): value is Cancelling {
  try {
    return value instanceof Cancelling;
  } catch {
    return false;
  }
}

/** What `throwInto` returns when the body let the error out (or threw another): the error is in
 * `escaped`. Caught here, not in the step loop: V8 counts a function's calls towards its feedback
 * and optimisation only when it returns, so a function that always ends in a throw (as this one
 * does for every cancelled task) stays interpreted, is never inlined, and costs an extra frame
 * for the unwinding to walk. */
const ESCAPED = { done: true, value: undefined } as IteratorResult<unknown>;
var escaped: unknown; // (`var`: see effect.ts)

function throwInto(it: Iterator<unknown>, error: unknown, t: Task): IteratorResult<unknown> {
  try {
    if (error === CANCEL || isMark(error)) {
      // A quiet helper at its own body (see QUIET) is returned: no Cancelled made, none thrown.
      if (t.flags & QUIET && t.top === t) {
        t.flags |= DELIVERED; // it ended by its cancellation
        return typeof it.return === "function" ? it.return(undefined) : ENDED;
      }
      error = error === CANCEL ? t.sched.cancelled(t) : t.sched.cancelled(t, error as Cancelling);
    }
    // A body being stopped is returned, not thrown into: its catch blocks cannot hold it; then its
    // finally blocks run to their end.
    if (t.top.flags & STOPPING && isCancelled(error)) {
      t.top.flags |= RETURNED;
      if (typeof it.return !== "function") return ENDED;
      try {
        return it.return(undefined);
      } catch (e) {
        t.flags &= ~GENERATOR; // a generator left suspended by a `return` of its own: no refusal (see `refused`)
        throw e;
      }
    }
    if (t.flags & GENERATOR) return genThrow.call(it as Generator, error);
    if (typeof it.throw === "function") return it.throw(error);
    it.return?.();
    throw error;
  } catch (e) {
    escaped = e;
    return ESCAPED;
  }
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
  private handleError: ErrorHandler;
  private watcher: Observer | null = null;
  /** @internal Owner of the root tasks. */
  readonly roots = new Frame(0);
  /** The effect each error thrown into a body came from, for its stack trace. */
  private readonly failedIn = new WeakMap<object, unknown>();
  /** Why frames were cancelled, kept on the frame each halt started at. */
  private readonly reasons = new WeakMap<Frame, Reason>();
  /** Tasks joining or cancelling a task, promises handed out for it, and functions to call when
   * it finishes (few tasks have any). A joiner that leaves (cancelled) leaves a hole. */
  private readonly waiters = new Map<Task, Watchers>();
  /** Roots whose cleanup can never end, with the deadlock report that says so. */
  private stuck: WeakMap<Task, DeadlockError> | undefined;
  private live = 0;
  /** Ready tasks, FIFO. */
  private readonly queue = new Deque<Task | Alarm>();
  /** The task that used up the last slice. It rejoins the queue when the next slice starts,
   * after what woke meanwhile (timers, I/O): a busy task delays the others by one slice at most. */
  private preempted: Task | null = null;
  private running = false;
  /** The lowest id of a task woken from a wait since `wokeOld()` last looked, and the last id
   * given out then: the real clock's deadlock check asks whether a task that was blocked woke. */
  private oldestWoken = Infinity;
  private idMark = 0;

  /** @internal Whether a task that existed at the last call has been woken from a wait since
   * (a task started meanwhile, a logger's flush say, does not count); and look again from now. */
  wokeOld(): boolean {
    const woke = this.oldestWoken <= this.idMark;
    this.oldestWoken = Infinity;
    this.idMark = this.nextId - 1;
    return woke;
  }
  /** A run of the loop is due on a microtask. */
  private scheduled = false;
  /** A run of the loop is due after the host's turn: never more than one such callback. */
  private deferred = false;
  /** The run due after the host's turn waits only for timers that fell due while a run that
   * began by firing timers worked (its queue is empty). Meanwhile an I/O event or a promise's
   * reaction runs the loop at once (the task it woke, and what that wakes), as the host runs its
   * own I/O callbacks and their reactions before its timers. Those runs get what is left of the
   * slice of the run that left the timers (the burst opened from its start: so the host's own
   * timers wait no longer than before, found by review), fire no timers, and once that slice is
   * used up the timers' tasks are queued first (`endGap`). (Queued until the run after the
   * host's turn, a server's handler that awaited a promise, then slept, waited ~0.3 ms for each
   * await, behind the whole batch that turn had brought: bench/io/latency.mjs, `await-sleep`.) */
  private timersLeft = false;
  private sliceEnd = 0;
  private sliceOver = false;
  /** Effects the task being stepped may still complete before the clock is looked at, of the
   * `window` it last got (see BUDGET). */
  private budget = BUDGET;
  private window = BUDGET;
  /** When the budget was last renewed. */
  private looked = 0;
  /** Work the clock has not been told of (see `look`): the effects of steps that ended within
   * their budget's window, the steps of runs that ended between two looks. */
  private unseen = 0;
  /** When the current run of microtask-started ticks began (-1: the host has had a turn since). */
  private burst = -1;
  /** When the first run an I/O event began in its callback since the host's last turn that a
   * burst or probe saw started, or that of a host timer or after the host's turn (see runHere,
   * openBurst): the runs of the events after it share its slice, and a burst that begins within
   * a slice of it begins there (see beginBurst). Not a burst of its own: that would cost a host
   * callback (`hostHadTurn`) for every event. Once the host has had a turn that no burst saw, a
   * run or burst may still begin there, and its slice is the shorter for it: the host is let in
   * sooner. */
  private eventRun = -Infinity;
  /** How long the runs of the events past the first one's slice took, since the host's last turn
   * that a burst or probe saw (see runHere). */
  private eventUsed = 0;
  /** A probe of the host's turn for the events' runs (`hostHadTurn`) is pending. */
  private probing = false;
  /** A run on a microtask (see kick) gets what is left of the burst's slice, not a slice of its
   * own: else a burst of promise wakes could hold the host for two slices and a step. */
  private readonly microTick = () => {
    this.scheduled = false;
    if (!this.deferred) this.loop(this.burst + SLICE_MS);
  };
  /** After the host's turn, the loop runs in a microtask of its own: V8 throws an error from a
   * host callback at a higher cost than from a microtask (a Cancelled thrown into each of N
   * tasks being torn down, say). */
  private readonly turnTick = () => {
    this.deferred = this.timersLeft = false;
    if (this.scheduled) return;
    this.scheduled = true;
    void resolved.then(this.turnRun);
  };
  /** The run after the host's turn. If it leaves the loop idle, a promise woken by its step
   * (whose reaction comes next, in this same host turn) must not start a slice of its own: that
   * gave every other long step to the host, so its timers ran late by two steps, not one (a
   * step of 20 ms between promise wakes: a host setInterval(1) every 40 ms). The run starts the
   * burst of microtasks instead, as `kick` does for the runs it starts. */
  private readonly turnRun = () => {
    this.scheduled = false;
    if (this.deferred) return;
    this.loop();
    if (!this.deferred || this.timersLeft) this.openBurst();
  };
  private readonly hostHadTurn = () => {
    this.burst = -1;
    this.eventRun = -Infinity;
    this.eventUsed = 0;
    this.probing = false;
  };
  private readonly wakeFn = (t: Task) => {
    t.flags |= TIMED;
    this.resume(t, undefined, false, true);
  };
  /** An alarm fell due: it rings where a task woken now would run (see Alarm). */
  private readonly dueFn = (a: Alarm) => {
    a.due = true;
    this.queue.push(a);
  };

  /** @internal Use {@link createScheduler}. */
  constructor(clock: Clock, handlers: Handlers, onError?: ErrorHandler) {
    this.clock = clock;
    const table = handlers as unknown as Record<string, Handler<unknown>>;
    this.handlers = effectTypes.map((type) => table[type]);
    this.handleError = onError ?? printError;
  }

  /**
   * Start `op` as a root task. It starts running on the next microtask.
   *
   * @throws TypeError if `op` is not an operation or a function, or `options.name` is not a string.
   * @example
   * ```ts
   * const s = createScheduler();
   * const value = await s.run(function* main() { return 1; });
   * ```
   */
  run<T>(op: OperationLike<T>, options?: TaskOptions): Task<T> {
    checkOperation(op, "run()");
    const t = this.child(this.roots, op, 0, nameIn(options, "run()"));
    noteSite(t); // debug mode: where it was run
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

  /** @internal The clock's timer is due (a virtual clock's jump). A run of the loop already due
   * fires it too: running now as well would give the host's turn two slices (and starve it
   * beside a busy task). */
  tick(): void {
    if (!this.scheduled && !this.deferred) this.loop();
  }

  /** @internal The same, from a real clock's host timer. A run that left the loop idle also
   * opens the burst of the microtasks that follow in this host turn, from its own start (as
   * `turnRun` does): else a promise its step woke started a slice of its own, and a long step
   * ran again before the host's turn (a task woken by a timer that then awaits, computing 4 ms a
   * step: three steps a host turn, not two). */
  hostTick(): void {
    if (this.scheduled || this.deferred) return;
    this.loop();
    if (!this.deferred || this.timersLeft) this.openBurst();
  }

  /** The run that just ended began in a turn of the host's (a host timer's callback, the run
   * after the host's turn): the microtasks' runs that follow share its slice. A burst begun
   * before that turn is over even if its `hostHadTurn` has not run yet (deferred from the check
   * phase, it runs after the next timers: an event then found the burst's slice over and waited
   * a host turn more, found by a spec failing in full runs). */
  private openBurst(): void {
    if (this.burst < 0) this.clock.defer(this.hostHadTurn);
    this.burst = this.sliceEnd - SLICE_MS; // when the run began (see loop)
    // The events' runs before it were before that turn (see runHere). Those after it share its
    // slice, then one of their own time: as one event's run (with a slice of its own, the run
    // after the host's turn, an event's and one of the events' own time made three long steps a
    // host turn, found by review).
    this.eventRun = this.burst;
    this.eventUsed = 0;
  }

  /** Fire due timers, then step ready tasks in FIFO order until none is left or the time slice
   * is used up; then let the clock arm the next deadline, and go on after the host's turn if
   * work is left. */
  private loop(sliceEnd?: number, began = NaN): void {
    if (this.running) return;
    this.running = true;
    runs.n++;
    this.sliceOver = false;
    let lookedAt = began; // when the clock was last looked at (the run's start, if known)
    if (sliceEnd === undefined) sliceEnd = (lookedAt = this.look(0)) + SLICE_MS;
    this.sliceEnd = sliceEnd;
    let n = 0;
    let seen = 0; // steps when the clock was last looked at
    let lookAt = 1; // the step after which it is looked at next
    let per = 0; // how long a stretch between two looks takes (see lookGap)
    let past = false; // the step past the slice's end a run may give was given (see TIMED)
    let over = false; // given after a look found the slice over
    let fired = false; // timers fell due and were fired at the queue's end in this run
    let dueLeft = false; // timers fell due and are left to the run after the host's turn
    const gap = this.timersLeft; // (the timers are that run's: see timersLeft)
    try {
      // Timers due when the run begins fire first (the clock read only if there are timers).
      let start = -Infinity;
      const firedAtStart = !gap && this.timers.size !== 0 && this.timers.fire((start = this.clock.dueBy()), this.wakeFn, this.dueFn);
      const p = this.preempted;
      if (p !== null) {
        this.preempted = null;
        this.queue.push(p);
      }
      for (;;) {
        const next = this.queue.shift();
        if (next === undefined) {
          // Timers that fell due during the run. A run that began by firing timers leaves them
          // to after the host's turn, as the host's own timers do: I/O comes first. (Fired here,
          // each wave of a server's sleeping handlers took in the next as it fell due, until all
          // woke, were answered and came back in one wave, and the server answered about a tenth
          // fewer requests than node:http: bench/io/latency.mjs.) A run that found none due when it
          // began fires them, and what they wake runs in it; those that fall due after them again
          // only within the slice. (A short sleep passed back and forth held the host for good;
          // stopping at the first such timer made a sleeper's wake of another task wait behind
          // busy tasks' next steps: both found by review.) Timers set in the run and due when it
          // began (a virtual clock's `sleep(0)`) run in it either way. A run while timers wait
          // for the host's turn (`gap`, see timersLeft) leaves every timer to the run after it.
          if (this.timers.size === 0 || gap) break;
          if (!this.timers.fire(firedAtStart ? start : this.clock.dueBy(), this.wakeFn, this.dueFn)) {
            if (firedAtStart && this.timers.next() <= this.clock.dueBy()) this.sliceOver = dueLeft = true;
            break;
          }
          // The first wave runs in the run, and the loop looks at the clock after its first
          // step (here, if nothing else is queued), which may be the run's step past its slice
          // (see TIMED). (Looked at only at the next fixed step, it ran after steps passed
          // unseen: eight tasks stepping 4 ms each held the host for 32 ms, found by review.) A
          // later wave only within the slice, and none once the slice was found over: its tasks
          // come first after the host's turn (else the step past the slice and the wave's first
          // made two, found by review).
          if (over) {
            this.sliceOver = true;
            break;
          }
          if (!fired) {
            lookAt = n + 1;
            past = true;
          } else {
            const now = this.look(n - seen);
            seen = n;
            lookedAt = now;
            if (now >= this.sliceEnd) {
              this.sliceOver = true;
              break;
            }
          }
          fired = true;
          continue;
        }
        if (next.flags & ALARM) {
          const a = next as Alarm;
          if (a.due) {
            a.due = false;
            a.ring();
          } else if (a.ms >= 0) this.armAlarm(a);
          continue;
        }
        const t = next as Task;
        const timed = t.flags & TIMED;
        current.task = t;
        if (this.watcher === null) this.step(t);
        else this.observed(t);
        current.task = null;
        if (stepLeftUnused()) this.forgotten(t);
        if ((++n & 63) === 0) renewNotes(); // young again (see noteMade)
        // (Not when nothing is queued: the run ends here unless a timer fell due. A run of one
        // step, as an I/O event's usually is, then reads the clock once, not twice. After the
        // step past the slice, though: else it went untimed, and a task computing 8 ms each
        // time its timer woke it was never marked SLOW, found by review.)
        if (n >= lookAt && (this.queue.size > 0 || over)) {
          const now = this.look(n - seen);
          const took = now - lookedAt; // (NaN: when the run began is not known)
          per = took > per / 2 ? took : per / 2;
          if (timed !== 0 && n - seen === 1 && took >= 0) t.flags = took > SLICE_MS / MAX_GAP ? t.flags | SLOW : t.flags & ~SLOW;
          if (now < this.sliceEnd) lookAt = n + lookGap(n, per, this.sliceEnd - now);
          else if (past || timed !== 0 || (this.queue.peek()!.flags & (TIMED | SLOW)) !== TIMED) this.sliceOver = true;
          else {
            // Past the slice's end, a task its timer woke still gets its step if it is next,
            // once a run: what it wakes is then queued before what the run's steps woke
            // (promises that settle after it), not behind those tasks' next steps (a ticker's
            // consumer behind two busy workers' steps, once the loop looked after each). Not
            // when the step that ended the slice was a timer's too, nor to a task whose last
            // such step was seen to take long: sleepers that each compute for a while held the
            // host for two steps a run, not one (found by review).
            past = over = true;
            lookAt = n + 1;
          }
          seen = n;
          lookedAt = now;
        }
        if (this.sliceOver) {
          this.sliceOver = this.queue.size > 0 || this.preempted !== null;
          if (this.sliceOver) break;
        }
      }
    } finally {
      this.running = false;
      runs.n--;
      current.task = null;
      this.unseen += n - seen;
    }
    if (gap && this.timersLeft && this.look(0) >= this.sliceEnd) this.endGap();
    // (Not when timers are left: the run after the host's turn arms it. Else a host timer for a
    // deadline past, set and then cleared.)
    if (dueLeft) this.timersLeft = true;
    else if (!this.timersLeft) this.arm();
    if (this.sliceOver) {
      if (!dueLeft) this.timersLeft = false; // tasks left too: nothing runs before that run
      this.deferLoop();
    } else this.clock.idle(this);
  }

  /** Let the clock arm its timer for the earliest deadline (or none). */
  private arm(): void {
    const next = this.timers.next();
    this.armed = next !== Infinity;
    this.clock.arm(next, this);
  }
  /** Whether the clock was last armed for a deadline (else for none: Infinity). */
  private armed = false;

  /** Step `t`, woken while the loop was idle (nothing else is queued), right here (see `settled`),
   * with what is left of the microtasks' time slice; then the loop, if the step made other tasks
   * ready. Timers falling due during the step are left to the loop, or to their host timer. It
   * repeats the loop's step of one task and its ending on purpose: the two as shared methods cost
   * `map` over an async function +190 instructions an item (callgrind, `map-promise`). */
  private runNow(t: Task): void {
    this.running = true;
    runs.n++;
    this.sliceOver = false;
    this.sliceEnd = this.burst + SLICE_MS;
    try {
      current.task = t;
      if (this.watcher === null) this.step(t);
      else this.observed(t);
      current.task = null;
      if (stepLeftUnused()) this.forgotten(t);
    } finally {
      this.running = false;
      runs.n--;
      current.task = null;
    }
    if (this.queue.size > 0 && !this.sliceOver) return this.loop(this.sliceEnd); // the rest of the burst's slice
    if (this.timersLeft && this.look(0) >= this.sliceEnd) this.endGap();
    if ((this.timers.size !== 0 || this.armed) && !this.timersLeft) this.arm(); // (else arming would change nothing)
    if (this.sliceOver) {
      this.timersLeft = false; // (see loop)
      this.deferLoop();
    } else this.clock.idle(this);
  }

  /** A run while timers wait for the host's turn (see timersLeft) used up the slice: the due
   * timers' tasks are queued now, so that what its tasks wake next (a busy task's next step, its
   * promise settled) comes after them in the run after the host's turn, not before (found by
   * review: a task stepping 10 ms ran twice before them, not once). */
  private endGap(): void {
    this.timersLeft = false;
    this.sliceOver = true;
    this.timers.fire(this.clock.dueBy(), this.wakeFn, this.dueFn);
  }

  private deferLoop(): void {
    if (this.deferred) return;
    this.deferred = true;
    this.clock.defer(this.turnTick);
  }

  /** Run `t` from its queued input until it suspends, ends, or uses up the time slice. */
  private step(t: Task): void {
    const flags = t.flags;
    // A task dequeued while still suspended yielded cooperate(): it resumes with no value.
    let threw = (flags & (THROWING | SUSPENDED)) === THROWING;
    let input = flags & SUSPENDED ? undefined : t.slot;
    t.flags = flags & ~(QUEUED | SUSPENDED | THROWING | REPLACEABLE | TIMED);
    t.slot = undefined;
    forgetOpening(); // an iterator opened outside the loop and never stepped is no first step here
    if (!(flags & STARTED)) this.start(t); // (this may open the body's iterator: its first step follows)
    this.unseen += this.window - this.budget; // the last step's effects, if it ended within its window
    this.budget = this.window = BUDGET;
    for (;;) {
      const it = t.it;
      if (it === null) {
        // Phase 1: the top frame's body has ended; the frame ends once its children have, and
        // then its cleanups (each a shielded call on top of it).
        const f = t.top;
        const next = this.settle(f, t);
        if (next === WAIT) {
          this.suspend(t, CHILDREN);
          return;
        }
        if (next === CLEANUP) {
          threw = false;
          input = undefined;
          continue;
        }
        if (f === t) return this.finish(t);
        const cf = f as CallFrame; // a call is over: its caller's body resumes with the outcome
        t.top = cf.caller;
        t.it = cf.callerIt;
        t.flags = (t.flags & ~GENERATOR) | (cf.flags & GENERATOR);
        if (t.it === null) {
          // A cleanup of the frame below has ended; if it failed, so does that frame.
          if (cf.flags & FAILED) this.fail(t.top, cf.result, t);
          continue;
        }
        // A call that got its Cancelled passes one on (a value its body returned after swallowing
        // it is discarded); a call that ended before one reached it keeps its outcome.
        threw = (cf.flags & (FAILED | DELIVERED)) !== 0;
        if (cf.flags & FAILED) input = cf.result;
        else if (!(cf.flags & DELIVERED)) input = cf.result;
        else {
          // A stopped call passes its stopping on with its Cancelled: a retry loop around it
          // (or around a retry loop around it) is stopped too, with no report of its own.
          if (cf.flags & STOPPING) t.top.flags |= t.top.flags & HALTED ? STOPPING : 0;
          input = this.cancelled(t);
        }
        continue;
      }
      // Phase 2: resume the body until it yields something.
      let value: unknown;
      // The effect yielded, when the result is one: `yield* effect` passes the effect through as
      // its own first step's result. Told by its class, so that its `value` (a getter) is not
      // read: on effects of many classes (a server's) the read is megamorphic, a call of the
      // getter through V8's stub cache. The class test is the only one the dispatch below makes.
      // (After `done`, not before: where `done` sees few classes (a channel's ping-pong) its read
      // checks the class, and V8 then folds the test away.) Before both, the usual case: the
      // effect its body just made, or the call it just began (`isNoted`), told by identity,
      // which costs the same at any number of classes; only the rest have `done` read.
      let effect: Effect | null = null;
      let noted: Effect | null = null;
      try {
        let r: IteratorResult<unknown>;
        if (!threw) r = t.flags & GENERATOR ? genNext.call(it as Generator, input) : it.next(input);
        else if ((r = throwInto(it, input, t)) === ESCAPED) {
          const e = escaped;
          escaped = undefined;
          if (t.flags & PARKING) this.unpark(t);
          this.ended(t, true, e);
          continue;
        }
        // Parked inside its `yield*` (a receive that must wait, say): the wait stands when the
        // body hands the step that effect (or a promise's wait record), as `yield*` does (see
        // `parkHere`).
        if (t.flags & PARKING) {
          if (r === t.slot && t.flags & SUSPENDED) {
            t.flags &= ~PARKING;
            return;
          }
          if (this.parkedHere(t, r)) return;
        }
        if (typeof r !== "object" || r === null) throw new TypeError(`the iterator of task ${t} returned ${describe(r)}, not a result object`);
        if (isNoted(r)) value = effect = noted = r as unknown as Effect;
        else if (r.done === true) {
          this.ended(t, false, r.value);
          continue;
        } else if (r instanceof Effect) value = effect = r;
        else {
          value = r.value;
          // An iterator that yields itself is an effect this scheduler does not know (a copy of
          // skein from before the brands): driving it again would never end.
          if (value === it && !(value instanceof Effect)) {
            t.flags &= ~GENERATOR; // a generator here is suspended, not refused: `refused` must not step it
            throw new TypeError(`task ${t} yielded ${describe(value)}, which yields itself: an effect of another, older copy of skein, or of another library (\`npm ls skein\` lists the copies; dedupe them)`);
          }
        }
      } catch (e) {
        if (t.flags & PARKING) this.unpark(t);
        this.ended(t, true, e);
        continue;
      }
      forgetOpening();
      if (noted === null) used(value); // a forgotten yield* is one never used (see noteMade); `isNoted` said so of a noted one
      // (A call begun already, whose function ran or whose generator took its first step, is
      // performed: had the loop begun it, the task would have become overdue only after this
      // check, and its body's try/finally is open.)
      if (t.flags & OVERDUE && !isGuard(value) && !(value instanceof Call && (value.kept !== undefined || value.awaited !== undefined || keeps(value, t)))) {
        // Cancelled while it ran: its first effect since throws, unless it has had its Cancelled.
        // An ensure() or a shield() only guards cleanup, so it passes (and the effect after it
        // throws): a resource just opened still gets its close registered, a lock its release.
        t.flags &= ~OVERDUE;
        if ((t.top.flags & (HALTED | DELIVERED | RETURNED)) === HALTED) {
          threw = true;
          input = this.cancelled(t);
          continue;
        }
      }
      // Phase 3: perform the effect; a result resumes the body at once, SUSPEND leaves it.
      try {
        input = effect !== null ? this.dispatch(effect, t) : this.perform(value, t);
        threw = false;
      } catch (e) {
        threw = true;
        input = e;
        if (typeof e === "object" && e !== null) this.failedIn.set(e, value); // for its stack trace
      }
      // A handler's own code (a called function) entered a wait inside a yield* it stepped by
      // hand, and the handler returned or threw: not handed on, so not waited on.
      if (t.flags & PARKING) this.unpark(t);
      if (input === SUSPEND) {
        // Phase 4: cancellation is level-triggered. In a cancelled scope every wait throws
        // Cancelled, so a catch that swallows it cannot keep the task alive. (A cancel waits on:
        // it waits for a teardown it started; and so do the finally blocks of a returned body.)
        const top = t.top.flags;
        if (top & HALTED && !(top & RETURNED) && t.flags & SUSPENDED && (t.slot as Effect).type !== "cancel") this.deliver(t);
        return;
      }
      if (--this.budget <= 0 && !this.budgetRenewed()) {
        t.slot = input;
        if (threw) t.flags |= THROWING;
        return this.preempt(t);
      }
    }
  }

  /** First step: turn the operation into the body's iterator, unless cancelled already. */
  private start(t: Task): void {
    t.flags |= STARTED;
    const op: unknown = t.it; // the operation until this first step
    t.it = null;
    if (t.flags & HALTED) return; // cancelled before its first step: the body never runs
    try {
      const v: unknown = typeof op === "function" ? op() : op;
      if (isGenerator(v)) {
        t.it = v;
        t.flags |= GENERATOR;
      } else {
        const it = otherIterator(v);
        t.it = it;
        if (isGenerator(it)) t.flags |= GENERATOR;
      }
    } catch (e) {
      // A body that is a plain function and throws at once: its error gets the task's logical
      // stack, as one thrown from a generator's first step does (see `ended`).
      if (!isCancelled(e)) annotate(e, t, undefined);
      this.fail(t, e, t);
    }
    if (t.flags & PARKING) this.unpark(t); // entered inside a yield* that the body's function stepped by hand
  }

  /** Dispatch a yielded value: effects to their handler, other operations to join/call/wait. */
  private perform(value: unknown, t: Task): unknown {
    if (value instanceof Effect) return this.dispatch(value, t);
    // The record of a wait begun inside a yield* (see awaitHere), yielded by a wrapper that
    // stepped it by hand after the wait was undone: its effect, which takes the wait up again.
    if (value instanceof Awaiting) return this.dispatch(value.effect, t);
    // Other yieldables become the effect they stand for.
    if (value instanceof Task) return this.perform(new Join(value), t);
    // Another copy's effect is iterable too, but iterating it only yields it again, forever.
    const other = foreign(value);
    if (other !== null) throw new TypeError(`task ${t} yielded ${other}: ${ONE_COPY}`);
    if (isIterator(value) || isOperation(value)) return this.perform(new Call(value, undefined), t);
    if (isThenable(value)) return this.perform(new Wait(value), t);
    throw new TypeError(
      `task ${t} yielded ${describe(value)}; yield* an effect (sleep, call, fork, join…), an operation or a task, or yield a promise`,
    );
  }

  /** Run `effect`'s handler for `t`. */
  private dispatch(effect: Effect, t: Task): unknown {
    const h = this.handlers[effect.code];
    if (h === undefined) throw new TypeError(`task ${t} yielded an effect of unknown type ${describe(effect.type)}`);
    return h.run(effect, t, this);
  }

  // ---- for handlers --------------------------------------------------------------------------

  /** @internal Whether `t`, the task whose body runs, may complete an effect inside its own
   * `yield*` (see `Receive.next` in sync/channel.ts, `Call.next`), or enter its wait there (see
   * `parkHere`), which then counts against the time slice as a performed effect does. Not when
   * the step must look at the clock first, nor when `t` is cancelled (its next effect throws, or
   * its waits do): the step loop decides those, exactly as before. A wait entered inside a
   * `yield*` and not handed on (a wrapper stepping the body by hand went on) is undone here. */
  quick(t: Task): boolean {
    // (`!== true`, not `!this.running`: a plain truthiness test compiles longer; see `opening` in effect.ts.)
    // At the budget's last effect, false: the step loop performs it, and looks at the clock (a
    // look here, `--budget > 0 || renew()`, cost fanout +4.6 %, callgrind: inlined everywhere).
    if (this.running !== true || this.budget <= 1 || t.top.flags & HALTED) return false;
    const f = t.flags;
    if (f & (OVERDUE | PARKING | SUSPENDED)) {
      // Not when it waits already: code a handler runs after suspending it (an action's
      // executor, a thenable's `then`, a cancelled task's teardown) performs nothing for it.
      if ((f & (OVERDUE | PARKING)) !== PARKING) return false;
      this.unpark(t); // parked inside a yield* that a wrapper stepping by hand has not handed on
    }
    this.budget--;
    return true;
  }

  /** The clock's time for slices, telling it of the `work` (steps, effects, wakes) done since
   * the last look and of what went unseen: a virtual clock's slices are that work (see
   * VirtualClock.sliceNow); a real clock ignores it. */
  private look(work: number): number {
    const unseen = this.unseen;
    this.unseen = 0;
    return this.clock.sliceNow(work + unseen);
  }

  /** The budget of the step ran out: look at the clock. Past the slice, none: the step loop
   * preempts the task. Within it, a budget sized by how long the last window took (see BUDGET):
   * counted from the last look or the run's start, whichever came later, so at worst too short. */
  private budgetRenewed(): boolean {
    renewNotes(); // young again (see noteMade)
    const now = this.look(this.window);
    if (now >= this.sliceEnd) {
      this.budget = this.window; // (the window is told: none of it is left unseen)
      return false;
    }
    const began = this.sliceEnd - SLICE_MS;
    const since = now - (this.looked > began ? this.looked : began);
    this.looked = now;
    const w = since > 0 ? Math.floor((this.window * (this.sliceEnd - now)) / since) : MAX_BUDGET;
    this.budget = this.window = w < 1 ? 1 : w > MAX_BUDGET ? MAX_BUDGET : w;
    return true;
  }

  /** @internal `error` was thrown into a body by `effect`, completed inside its `yield*`: for
   * the error's logical stack trace, as for an error a handler throws. */
  thrownBy(error: unknown, effect: unknown): void {
    if (typeof error === "object" && error !== null) this.failedIn.set(error, effect);
  }

  /** @internal Mark `t` as waiting on `on` (an effect, or a handler's record of it). */
  suspend(t: Task, on: unknown): typeof SUSPEND {
    if (t.flags & PARKING) this.unpark(t); // a wait entered inside a yield* by code a handler ran
    t.slot = on;
    t.flags |= SUSPENDED;
    if (debugging.sites) waitingSince.set(t, this.clock.now()); // debug mode: for the task tree
    return SUSPEND;
  }

  /**
   * @internal `t`, the task being stepped, waits on `on` from inside its `yield*`: `on.enter`
   * has enlisted it (see `Park.next`), or `on` is the record of a promise's wait begun there
   * (see `awaitHere`), and `yield*` hands `on` to the step loop next, which then
   * leaves the task suspended without reading the result, dispatching or entering (the sites that
   * see every kind of effect, megamorphic in a program). Only where `quick(t)` allowed it.
   */
  parkHere(t: Task, on: unknown): void {
    if (t.flags & PARKING) this.unpark(t); // a wait entered by code that `on`'s own `enter` ran
    t.slot = on;
    t.flags |= SUSPENDED | PARKING;
    if (debugging.sites) waitingSince.set(t, this.clock.now());
  }

  /**
   * @internal The same for `t` suspended on `on` already, a promise's record whose reactions were
   * bound meanwhile (see `awaitHere`: the task waits while a thenable's `then` runs, so that code
   * there performs nothing for it). If `then` called back at once, the task is ready with the
   * outcome: the step confirms the wait as for a task woken before its body handed it on.
   */
  parkWaiting(t: Task, on: unknown): void {
    t.flags |= PARKING;
    if (!(t.flags & SUSPENDED)) this.wokenOn = on;
  }

  /** What `t`, parked inside its `yield*`, waited on when it was woken before its body handed the
   * step the effect (a wrapper that steps the body by hand ran code that woke it). */
  private wokenOn: unknown = undefined;

  /** Whether the step of `t`, parked inside its `yield*`, ends here, when the body's result `r`
   * is not the effect it parked on as `yield*` hands it on (the step loop tests that first): `r`
   * hands it on in a result of its own (as a wrapper that steps the body by hand does), or the
   * task was woken meanwhile and `r` is that effect. Else the wrapper went on to something else:
   * the wait is undone and `r` is taken as usual. */
  private parkedHere(t: Task, r: unknown): boolean {
    // (Unknown when a cancellation woke it, which leaves the effect first: undone, the cancellation
    // is then due at its next effect; see `unpark`.)
    const on = t.flags & SUSPENDED ? t.slot : this.wokenOn;
    if (on !== undefined && r !== null && typeof r === "object") {
      // (A promise awaited inside a call's yield* is waited on as a record: its effect is the call.)
      const effect = on instanceof Awaiting ? on.effect : on;
      let handsOn = r === on || r === effect;
      if (!handsOn && !(r instanceof Effect)) {
        try {
          const value = (r as IteratorResult<unknown>).done !== true ? (r as IteratorResult<unknown>).value : undefined;
          handsOn = value === effect || value === on;
        } catch {
          // a result whose getters throw: the step reports it as it would have
        }
      }
      if (handsOn) {
        t.flags &= ~PARKING;
        this.wokenOn = undefined;
        return true;
      }
    }
    this.unpark(t);
    return false;
  }

  /** Undo the wait `t` entered inside its `yield*`, as a cancellation would (see `parkedHere`);
   * what a wake in between gave it is given back. */
  private unpark(t: Task): void {
    t.flags &= ~PARKING;
    if (t.flags & SUSPENDED) {
      const on = t.slot;
      this.undoWait(t);
      t.slot = undefined;
      if (on instanceof Awaiting) keepAwaited(on); // its promise still listened to, for the effect's next performance
      return;
    }
    const on = this.wokenOn;
    this.wokenOn = undefined;
    if (!(t.flags & QUEUED)) return;
    this.queue.remove(t);
    const value = t.slot;
    const threw = (t.flags & THROWING) !== 0;
    t.flags &= ~(QUEUED | THROWING | REPLACEABLE);
    t.slot = undefined;
    // A promise's outcome (a thenable that called back at once) waits on its record.
    if (on instanceof Awaiting && !(threw && (isMark(value) || isCancelled(value)))) keepAwaited(on, threw ? 2 : 1, value);
    else if (!threw) giveBack(on, value, t);
    else if (isMark(value) || isCancelled(value)) t.flags |= OVERDUE; // a cancellation: at its next effect
    // (Another error, a send's on a channel closed meanwhile, is dropped with the wait it ended:
    // the effect yielded again meets it again.)
  }

  /** @internal True while `t` is still suspended on `on` (a late or second wake-up is ignored). */
  waiting(t: Task, on: unknown): boolean {
    return (t.flags & SUSPENDED) !== 0 && t.slot === on;
  }

  /** @internal `t` (suspended) lets the other ready tasks run first: to the back of the queue,
   * or, if the time slice is used up, aside until the next slice. */
  yieldTurn(t: Task): void {
    if (this.look(1) >= this.sliceEnd) this.preempt(t);
    else this.enqueue(t);
  }

  /** `t` has used up the slice: the loop ends after this step, and `t` waits for the next. */
  private preempt(t: Task): void {
    this.sliceOver = true;
    t.flags |= QUEUED;
    this.preempted = t;
  }

  /** @internal Wake suspended `t`: its body continues with `value`, or has it thrown in. A
   * `replaceable` input loses nothing if a cancellation arriving before `t` runs replaces it. */
  resume(t: Task, value: unknown, threw = false, replaceable = false): void {
    this.ready(t, value, threw, replaceable);
    this.kick();
  }

  /**
   * @internal Wake suspended `t` from a host callback (a socket's `data` event, say), as `resume`
   * does, and run it in the callback when the loop is idle (see `runHere`).
   */
  resumeHere(t: Task, value: unknown, threw = false): void {
    this.ready(t, value, threw, false);
    this.runHere();
  }

  /**
   * @internal A promise `t` waited on has settled, and this is its reaction: `t` resumes with the
   * outcome (replaceable: a cancellation arriving first wins), run here when the loop is idle, as
   * `runHere` does for an I/O event. That saves the microtask, and the separate run of the loop,
   * that `resume` costs. A reaction is a microtask, not a host turn: like the runs `kick` starts,
   * these get what is left of the time slice of the microtasks since the host's last turn, and
   * once it is used up the loop goes on after the host's turn. If a timer is due by then, `t` goes
   * the old way too: the loop on a microtask fires it, and runs `t` first (unless due timers wait
   * for the host's turn already: see `timersLeft`).
   */
  settled(t: Task, value: unknown, threw: boolean): void {
    if (runs.n === 0 && !this.scheduled && (!this.deferred || (this.timersLeft && this.queue.size === 0))) {
      // Idle (or waiting for the host's turn only for timers), so nothing else is queued: `t` runs
      // now, unless the microtasks' slice is over. The clock is read at each run, as `kick`
      // does: one step may compute for milliseconds.
      const now = this.look(1);
      if (this.burst < 0) this.beginBurst(now);
      if (now - this.burst <= SLICE_MS && (this.timersLeft || this.timers.size === 0 || this.timers.next() > this.clock.dueBy())) {
        this.input(t, value, threw, true);
        return this.runNow(t);
      }
    }
    // Not idle, the slice used up, or a timer due: the old way (the loop fires the timer, after `t`).
    this.ready(t, value, threw, true);
    this.kick();
  }

  /** Queue suspended `t` with its input. */
  private ready(t: Task, value: unknown, threw: boolean, replaceable: boolean): void {
    // Woken before its body handed the step the wait it entered inside a `yield*` (see
    // `parkedHere`): by code of its own, so here, never by a promise's reaction (`settled`). A
    // cancellation leaves the wait first (`deliver`), so nothing is kept: see `unpark`.
    if ((t.flags & (PARKING | SUSPENDED)) === (PARKING | SUSPENDED)) this.wokenOn = t.slot;
    this.input(t, value, threw, replaceable);
    if (!(t.flags & QUEUED)) this.enqueue(t);
  }

  /** Give suspended `t` its input, as `ready` does, without queueing it. */
  private input(t: Task, value: unknown, threw: boolean, replaceable: boolean): void {
    if (threw && t.flags & SUSPENDED && typeof value === "object" && value !== null && !isMark(value) && !isCancelled(value)) {
      this.failedIn.set(value, t.slot); // the error came from what it waited on: its stack says so
    }
    if (t.id < this.oldestWoken) this.oldestWoken = t.id;
    t.flags = (t.flags & ~(SUSPENDED | THROWING | REPLACEABLE)) | (threw ? THROWING : 0) | (replaceable ? REPLACEABLE : 0);
    t.slot = value;
  }

  /**
   * @internal A host callback (an I/O event) has made tasks ready: run the loop now, in the
   * callback, if it is idle. That is, if no step of any scheduler is running (an event emitted
   * from inside a step, by a write or a destroy, only queues: `kick`), and no run of the loop is
   * due already, on a microtask or after the host's turn (the tasks join that run, behind those
   * queued before them; a busy task whose slice is over does not get another in the host's
   * turn), unless that run waits only for timers (`timersLeft`: the events' runs then share
   * what is left of a slice, and fire no timers).
   * The first event's run since the host's last turn that the scheduler saw has a time slice of
   * its own; the runs of the events after it share it, then one more slice of their own time
   * (see below). What a task throws stays in the scheduler (its task's failure), never reaches
   * the callback's emitter. It saves the microtask and the separate run of the loop that each
   * wake costs otherwise.
   */
  runHere(): void {
    if (runs.n !== 0 || this.scheduled || (this.deferred && !this.timersLeft)) return this.kick();
    if (this.deferred) return this.runWhileTimersWait();
    // The first event's run since the host's last turn that the scheduler saw has a slice of its
    // own. The runs of the events after it may be in that same turn: written from microtasks, say
    // (with a slice each, two tasks passing a line through such writes held the host, and its
    // timers, for the whole exchange: found by review, then by a spec now and then). So they
    // share that slice; and past it, as the host may have had its turn or not, a probe
    // (`hostHadTurn`) is sent to see it, and until it does, their runs share one more slice of
    // their own time, then wait for the turn. Their own time, not the time since: other code's
    // callbacks between them (a poll phase's other sockets) are the host's turn, and counted,
    // they sent idle tasks to wait for the check phase (found by review). (The clock read at
    // each run's end that this costs, or a probe at once, for every event after the first, cost
    // one connection's messages 6 % more instructions: so only past the first slice.)
    if (this.eventRun === -Infinity) {
      this.loop();
      this.eventRun = this.sliceEnd - SLICE_MS; // (when it began: see loop)
      return;
    }
    const now = this.look(1);
    if (now - this.eventRun <= SLICE_MS) return this.loop(this.eventRun + SLICE_MS);
    if (this.eventUsed >= SLICE_MS) return this.deferLoop();
    if (this.burst < 0 && !this.probing) {
      this.probing = true; // (a burst has its own probe)
      this.clock.defer(this.hostHadTurn);
    }
    this.loop(now + SLICE_MS - this.eventUsed, now);
    this.eventUsed += this.look(0) - now;
  }

  /** An event's run while due timers wait for the host's turn (see timersLeft): the runs share
   * what is left of the burst's slice, as promise-woken ones do (events written from microtasks,
   * say, must not run on with a slice each while the host and the timers wait; found by review),
   * then wait for that turn. */
  private runWhileTimersWait(): void {
    const now = this.look(1);
    if (this.burst < 0) this.beginBurst(now);
    if (now - this.burst <= SLICE_MS) this.loop(this.burst + SLICE_MS);
  }

  /** The first run on a microtask since the host's last turn begins the burst that the runs
   * after it share: from `now`, or from the start of the run an I/O event began in its callback
   * (see eventRun) if that is not a slice ago. (From `now`, a promise the event's task awaited
   * started a slice of its own: a task computing 4 ms a step, woken by an event, then by
   * promises, ran three steps a host turn, not two.) */
  private beginBurst(now: number): void {
    this.burst = now - this.eventRun <= SLICE_MS ? this.eventRun : now;
    this.clock.defer(this.hostHadTurn);
  }

  /** @internal `w` waits for `t` to finish: a joiner or canceller, a promise, or a function.
   * Returns what `unwatch` takes back (for a task or a promise, itself). */
  watch(t: Task, w: Watcher): Watch {
    const watch = typeof w === "function" ? new Callback(w) : w;
    const stuck = this.stuck?.get(t);
    if (stuck !== undefined && watch instanceof Deferred) {
      watch.reject(stuck);
      return watch;
    }
    let list = this.waiters.get(t);
    if (list === undefined) this.waiters.set(t, (list = new Watchers()));
    if (watch instanceof Deferred && watch.joins) list.joining = watch;
    list.push(watch);
    return watch;
  }

  /** @internal `w` (what `watch` returned) no longer waits for `t`: O(1). */
  unwatch(t: Task, w: Watch): void {
    this.waiters.get(t)?.remove(w);
  }

  /** @internal What waits for `t`, in order (functions as they were given). */
  watchers(t: Task): Watcher[] {
    const list = this.waiters.get(t);
    const out: Watcher[] = [];
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const w = list.at(i);
        if (w !== null) out.push(w instanceof Callback ? w.call : w);
      }
    }
    return out;
  }

  /** @internal The promise of `t`'s outcome handed out already, if any. */
  joining(t: Task): Deferred | undefined {
    return this.waiters.get(t)?.joining ?? undefined;
  }

  /** @internal Run `it` as a call: a frame of its own on top of `t`'s running body, which
   * resumes with the call's outcome once the call and its children are done. `gen`: what
   * `isGenerator(it)` says (each caller asks once, where it already knows the answer or must). */
  enter(t: Task, it: Iterator<unknown>, gen: boolean, shield: boolean, what: unknown): void {
    // A call made in a cancelled (or stopping) scope is cancelled (stopping) too, unless it is a shield.
    const top = t.top.flags;
    const flags = (t.flags & GENERATOR) | (shield ? SHIELD : top & RETURNED ? 0 : top & (HALTED | STOPPING));
    t.top = new CallFrame(t, t.top, t.it, flags, what);
    t.it = it;
    t.flags = gen ? t.flags | GENERATOR : t.flags & ~GENERATOR;
  }

  /** @internal Start a child task owned by frame `owner` (FORK, SPAWN, or 0 for a root). A
   * child started in a cancelled scope is cancelled from the start: its body never runs. */
  child<T>(owner: Frame, op: OperationLike<T>, kind: number, name: string | undefined): Task<T> {
    const t = new Task<T>(this, owner, op, kind | (owner.flags & RETURNED ? 0 : owner.flags & HALTED), name);
    owner.adopt(t);
    if (this.live++ === 0) this.clock.live(this, true);
    this.enqueue(t);
    return t;
  }

  /** @internal Schedule a tick unless the loop is running or about to: on a microtask, so a
   * wake-up from a promise or a callback runs at once; but after a host turn once microtasks
   * alone have kept the loop busy for a slice (a stream of settled promises, say), so that
   * timers and I/O are never starved. */
  kick(): void {
    if (this.running || this.scheduled || this.deferred) return;
    const now = this.look(1);
    if (this.burst < 0) this.beginBurst(now);
    if (now - this.burst > SLICE_MS) return this.deferLoop();
    this.scheduled = true;
    void resolved.then(this.microTick); // a reaction: queueMicrotask makes an async resource each call in Node
  }

  // ---- structure: ends, failures, cancellation ------------------------------------------------

  /** The body of the top frame of `t` returned or threw. A halted body that ends without having
   * got its Cancelled (it had a result in hand and did not wait again) keeps its outcome: a value
   * received from a channel is never thrown away on its way up; the caller's next wait throws. */
  private ended(t: Task, threw: boolean, value: unknown): void {
    const f = t.top;
    if (f === t) this.verdict(t, !threw && !(f.flags & HALTED)); // its root body ended
    if (!threw) {
      t.it = null;
      if (!(f.flags & (FAILED | DELIVERED))) f.result = value; // a failure of the frame (a child's error) stays its outcome
    } else if (f.flags & HALTED && isCancelled(value)) {
      t.it = null;
      f.flags |= DELIVERED; // it ended by its cancellation
    } else if (t.flags & GENERATOR && refused(t.it!, value)) {
      t.flags &= ~GENERATOR; // it never ran: the step loop steps it again, through its own next (or throw)
    } else {
      if (!isCancelled(value)) annotate(value, t, this.failedIn.get(value as object));
      t.it = null;
      this.fail(f, value, t);
    }
  }

  /** @internal Record `error`, raised in task `from`, as the failure of `f`: the first error
   * wins and cancels the rest of the frame; any later one is reported, never dropped. */
  fail(f: Frame, error: unknown, from: Task): void {
    if (f.flags & FAILED) {
      if (error !== f.result) this.report(error, from, `task ${from} failed while its scope (in task ${taskOf(f) ?? from}) was failing already with another error`);
      return;
    }
    f.flags |= FAILED;
    f.result = error;
    this.halt(f, { because: `task ${from} failed`, cause: error });
  }

  /**
   * @internal Cancel frame `start`: the calls running above it in its task (up to a shield), its
   * body, and all children, recursively. A body waiting gets a Cancelled now (the body first,
   * then children newest first); every later wait in a cancelled frame throws one too. Frames
   * cancelled already are left alone. Iterative, so no depth of task tree grows the stack.
   */
  halt(start: Frame, reason?: Reason): void {
    if (start.flags & HALTED) return;
    let mark: Cancelling | undefined;
    if (reason !== undefined) {
      this.reasons.set(start, reason);
      mark = new Cancelling(reason);
    }
    const work: Frame[] = [start];
    for (let i = 0; i < work.length; i++) {
      const f = work[i]!;
      if (f.flags & HALTED) continue;
      const t = taskOf(f)!;
      // A shield above f holds the cancellation: the frames at and above the lowest such shield
      // are left running; its caller, cancelled, gets a Cancelled at its first wait after it.
      let top = t.top;
      for (let g = top; g !== f; g = (g as CallFrame).caller) if (g.flags & SHIELD) top = (g as CallFrame).caller;
      const interrupting = top === t.top && !(top.flags & HALTED);
      for (let g = top; ; g = (g as CallFrame).caller) {
        if (!(g.flags & HALTED)) {
          g.flags |= HALTED;
          for (let c = g.children; c !== null; c = c.prev) work.push(c);
        } else {
          // Cancelled already, below frames that are not (a body stopped after swallowing
          // Cancelled, whose finally made calls): its reason, not this one, is the nearest for
          // them and the tasks they started; their Cancelled is made when they run, from the walk.
          mark = undefined;
        }
        if (g === f) break;
      }
      if (interrupting) this.interrupt(t, mark);
    }
  }

  /** A cancellation reaches the running body of `t`: delivered now if it waits (or was woken
   * with nothing to lose); if it is running, or queued with a result it must not lose, at its
   * next effect (OVERDUE). A body that has ended waits only for its children, cancelled with it. */
  private interrupt(t: Task, mark: Cancelling | undefined): void {
    if (t.it === null) return;
    if (t.flags & (SUSPENDED | REPLACEABLE)) this.deliver(t, mark);
    else t.flags |= OVERDUE;
  }

  /** Throw a Cancelled into `t` where it waits: undo the wait, queue the error (made when `t`
   * runs, from `mark` when the halt that reached it gave one). */
  private deliver(t: Task, mark?: Cancelling): void {
    if (t.flags & SUSPENDED) {
      const on = t.slot;
      this.undoWait(t);
      // A promise's wait begun inside a yield* and not yet handed on (code stepping it by hand
      // cancelled the task first): kept, as when that code goes on (see unpark).
      if (on instanceof Awaiting && notHandedOn(on, t)) keepAwaited(on);
    }
    this.resume(t, mark ?? CANCEL, true);
  }

  /** Undo the wait of suspended `t` with its handler's `cancel` (a Park's `leave`): `t` no longer
   * waits on its slot. A cancel that throws fails the frame that waited. */
  private undoWait(t: Task): void {
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
  }

  /** @internal The Cancelled of task `t`, saying why: the reason of the halt that reached it (on
   * the nearest frame below, or above in its parents). Also what joining it throws. */
  cancelError(t: Task): Cancelled {
    for (let f: Frame | null = t.top; f !== null; f = f instanceof CallFrame ? f.caller : f instanceof Task ? f.owner : null) {
      const r = this.reasons.get(f);
      if (r !== undefined) return new Cancelled(`task ${t} was cancelled: ${r.because}`, r.cause === undefined ? undefined : { cause: r.cause });
    }
    return new Cancelled(`task ${t} was cancelled`);
  }

  /** @internal The Cancelled thrown into the top body of `t`, which is marked as having got it.
   * A body that swallows them and waits again and again is reported once, and then stopped:
   * its catch blocks are skipped from then on, its finally blocks run. */
  cancelled(t: Task, mark?: Cancelling): Cancelled {
    const f = t.top;
    if (f.flags & HALTED) {
      f.flags |= DELIVERED;
      const count = (f.flags >>> 17) & 127; // the Cancelled errors its body got before: it swallowed each
      if (count <= SWALLOW_LIMIT) f.flags += DELIVERY;
      if (count >= SWALLOW_LIMIT) f.flags |= STOPPING;
      if (count === SWALLOW_LIMIT) {
        this.report(
          notice(
            "SwallowedCancel",
            `task ${t} caught Cancelled and waited again ${SWALLOW_LIMIT} times: a catch that swallows every error keeps a cancelled task looping. ` +
              "Rethrow it (catch (e) { if (isCancelled(e)) throw e; … }), and wait in yield* shield(…) for cleanup that must finish. " +
              "skein is stopping it: its catch blocks are skipped from now on, its finally blocks run.",
          ),
          t,
          `task ${t} swallows Cancelled`,
        );
      }
    }
    if (mark === undefined) return this.cancelError(t);
    const r = mark.reason;
    return new Cancelled("task " + t.toString() + mark.tail, r.cause === undefined ? undefined : { cause: r.cause });
  }

  /** @internal Run `cleanup` when frame `f` ends, after its children, before the cleanups
   * registered earlier. */
  ensure(f: Frame, cleanup: unknown): void {
    const scope = (f.scope ??= new Scope());
    (scope.cleanups ??= []).push(cleanup);
  }

  /** A frame whose body has ended may finish once no child is left (WAIT until then). Forks are
   * awaited first; then the remaining (spawned) children are cancelled. Then each cleanup runs,
   * last registered first, as a shielded call on top of the frame (CLEANUP); then it is DONE. */
  private settle(f: Frame, t: Task): number {
    const scope = f.scope;
    if (scope === null) return SETTLED;
    if (scope.newest !== null) {
      if (scope.forks === 0 && !(f.flags & CLOSING)) {
        f.flags |= CLOSING;
        const reason = new ScopeEnded(endReasons.get(f), t.id, t.name);
        for (let c: Task | null = scope.newest; c !== null; c = c.prev) this.halt(c, reason);
      }
      return WAIT;
    }
    const cleanups = scope.cleanups;
    while (cleanups !== null && cleanups.length > 0) {
      const cleanup = cleanups.pop();
      let it: Iterator<unknown>;
      try {
        it = toIterator(cleanup);
      } catch (e) {
        this.fail(f, e, t); // a cleanup function that throws at once; the others still run
        continue;
      }
      this.enter(t, it, isGenerator(it), true, typeof cleanup === "function" ? cleanup : null);
      return CLEANUP;
    }
    return SETTLED;
  }

  /** `t` and all its children are over: publish the outcome and tell the owner. */
  private finish(t: Task): void {
    t.flags |= DONE;
    if (--this.live === 0) this.clock.live(this, false);
    const owner = t.owner;
    owner.release(t);
    const failed = (t.flags & FAILED) !== 0;
    const halted = !failed && (t.flags & HALTED) !== 0;
    // A failed child fails its owner first, so a parent joining it sees Cancelled, not the error;
    // unless it has a boundary (`setBoundary`): the boundary is told its outcome, whatever it is,
    // and the owner is never failed by it.
    const scope = t.scope;
    const boundary = scope === null ? null : scope.boundary;
    if (boundary !== null) {
      scope!.boundary = null;
      try {
        boundary.ended(t);
      } catch (e) {
        this.report(e, t, `the end of task ${t} failed`);
      }
    } else if (failed && owner !== this.roots) this.fail(owner, t.result, t);
    let observed = false;
    const waiters = this.waiters.get(t);
    if (waiters !== undefined) {
      this.waiters.delete(t);
      for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) {
        if (w instanceof Callback) {
          w.call(t);
        } else if (w instanceof Deferred) {
          if (!w.joins) w.resolve(undefined);
          else if (failed) (w.reject(t.result), (observed = true));
          else if (halted) w.reject(this.cancelError(t));
          else w.resolve(t.result);
          if (w.joins) t.slot = w.promise;
        } else if ((w.slot as Effect).type !== "join") {
          this.resume(w, undefined, false, true); // a canceller
        } else if (failed) {
          this.resume(w, t.result, true, true);
          observed = true;
        } else if (halted) {
          this.resume(w, this.cancelError(t), true, true);
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
    // A body that has ended waits for its children: it is woken when the last one is done, or
    // when the last fork is (its spawns are cancelled then), not once for each child.
    const parent = taskOf(owner)!;
    if (parent.top === owner && parent.it === null && parent.flags & SUSPENDED) {
      const scope = owner.scope!;
      if (scope.newest === null || (scope.forks === 0 && !(owner.flags & CLOSING))) this.resume(parent, undefined);
    }
  }

  /** @internal Ring `a` in `ms` milliseconds (finite), unless cleared first: a timeout's or a
   * select's limit, with no task to sleep for it. Set in a step, it joins the run queue and is
   * armed when the loop reaches it, its deadline counted from then, as a timer task's first step
   * counted its sleep's: after the first wait of the operation it limits, and of every task
   * queued before it, so a sleep of theirs as long as the limit never ends after it (counted
   * from the call, on a real clock, it fell in an earlier 1/8 ms one time in ten and rang first;
   * found by review). `ms` 0 rings after the tasks ready then have had a step, as `sleep(0)`
   * yields; an operation done first clears it before it is armed. */
  setAlarm(a: Alarm, ms: number): void {
    a.ms = ms;
    this.queue.push(a);
    this.kick(); // (nothing while a step runs: the loop takes it)
  }

  /** @internal `a` will not ring (if it has rung, or was never set, nothing changes). */
  clearAlarm(a: Alarm): void {
    a.due = false; // (if queued, it is skipped)
    if (a.ms >= 0) {
      // Not armed yet: as a rule cleared in the step that set it (an operation done at once), so
      // the last in the queue. Taken out: a loop of 100,000 such timeouts in one step queues none.
      const q = this.queue;
      if (q.at(q.size - 1) === a) q.removeAt(q.size - 1);
      a.ms = -1;
    }
    if (a.on === null) return;
    this.timers.remove(a, a.on);
    a.on = null;
  }

  /** The loop has reached `a`, set earlier (see setAlarm): arm it, or ring it next for `ms` 0. */
  private armAlarm(a: Alarm): void {
    const ms = a.ms;
    a.ms = -1;
    if (ms !== 0) a.on = this.timers.add(a, this.clock.deadline(ms));
    else {
      a.due = true;
      this.queue.push(a);
    }
  }

  // ---- the Ticker side: what the clock asks ---------------------------------------------------

  /** @internal */
  busy(): boolean {
    return this.running || this.queue.size > 0 || this.preempted !== null || this.inFlight > 0;
  }

  /** @internal */
  nextDeadline(): number {
    return this.timers.next();
  }

  /** @internal Fail every root with a DeadlockError describing what each blocked task waits on. */
  deadlock(why?: string): void {
    if (this.live === 0) return;
    const error = new DeadlockError(this.describeTree(this.roots, ""), why);
    let failedAny = false;
    for (let r = this.roots.children; r !== null; r = r.prev) {
      if (r.flags & FAILED) continue;
      failedAny = true;
      this.fail(r, error, r);
    }
    if (failedAny) return this.kick();
    // Every root had failed already: their cleanup is what is stuck, and can never end. Say so,
    // and settle what waits for the roots with the report, so that nobody waits for ever.
    this.report(error, this.roots.children!, "the cleanup of failed tasks is stuck");
    for (let r = this.roots.children; r !== null; r = r.prev) {
      (this.stuck ??= new WeakMap()).set(r, error);
      const waiters = this.waiters.get(r);
      this.waiters.delete(r);
      for (let w = waiters?.shift(); w !== undefined; w = waiters!.shift()) {
        if (w instanceof Deferred) w.reject(error);
        else if (w instanceof Task) this.resume(w, error, true, true);
      }
    }
  }

  /** @internal The tasks under `f`, a line each with what it waits on, indented by depth: the
   * deadlock report, and `describeTasks()`. In debug mode, also since when and where it started.
   * Iterative (a tree 10,000 deep is fine); past a depth of 32 the depth is written, not indented;
   * a long run of alike siblings with no children (10,000 sleepers) is shown as three and a count. */
  describeTree(f: Frame, indent: string): string {
    let out = "";
    const limits = this.limitsNow();
    const todo: [Task | string, number][] = [];
    const push = (kids: Task[], depth: number): void => {
      const items = this.collapse(kids, limits);
      for (let i = items.length - 1; i >= 0; i--) todo.push([items[i]!, depth]);
    };
    push(childrenOf(f), 0);
    while (todo.length > 0) {
      const [c, depth] = todo.pop()!;
      const pad = indent + (depth <= 32 ? "  ".repeat(depth) : `${"  ".repeat(32)}[depth ${depth}] `);
      if (typeof c === "string") {
        out += `${pad}${c}\n`;
        continue;
      }
      out += `${pad}task ${c} ${this.doing(c, limits)}\n`;
      push(tasksUnder(c), depth + 1);
    }
    return out;
  }

  /** What `c` is doing, for people: what it waits on, under which timeouts (the innermost first)
   * and, in debug mode, since when and where it started. */
  private doing(c: Task, limits: Map<object, Alarm>): string {
    let on = c.flags & SUSPENDED ? `waits on ${this.waitsOn(c, limits)}` : c.flags & QUEUED ? "is ready to run" : "is running";
    for (let g: Frame = c.top; g instanceof CallFrame; g = g.caller) {
      const a = limits.get(g);
      if (a !== undefined) on += `, under ${this.limitText(a)}`;
    }
    const since = c.flags & SUSPENDED ? waitingSince.get(c) : undefined;
    const site = siteOf(c);
    return `${on}${since === undefined ? "" : ` for ${Math.round(this.clock.now() - since)} ms`}${site === undefined ? "" : `, started at ${site}`}`;
  }

  /** Siblings, with each run of more than 5 alike ones (same name, same kind of wait, no
   * children) cut to its first three and a line that counts the rest. */
  private collapse(kids: Task[], limits: Map<object, Alarm>): (Task | string)[] {
    if (kids.length <= 5) return kids;
    // (Times and limits masked: `ends in 12 ms`, `timeout: 0.5 ms`, `timeout(990)`; found by review.)
    const alike = (t: Task): string | null =>
      tasksUnder(t).length > 0 ? null : `${t.name}\0${this.doing(t, limits).replace(/[\d.e+-]+ ms\b/g, "# ms").replace(/\btimeout\([\d.e+-]+\)/g, "timeout(#)")}`;
    const out: (Task | string)[] = [];
    for (let i = 0; i < kids.length; ) {
      const key = alike(kids[i]!);
      let j = i + 1;
      if (key !== null) while (j < kids.length && alike(kids[j]!) === key) j++;
      if (j - i > 5) out.push(kids[i]!, kids[i + 1]!, kids[i + 2]!, `… and ${(j - i - 3).toLocaleString("en")} more like task ${kids[i]} (up to task ${kids[j - 1]})`);
      else for (let k = i; k < j; k++) out.push(kids[k]!);
      i = j;
    }
    return out;
  }

  /** @internal What suspended `t` waits on, for people: a sleep says when it ends, and so does a
   * select's time limit, given the alarms set now (see limitsNow). */
  waitsOn(t: Task, limits?: Map<object, Alarm>): string {
    const on = t.slot;
    if (on instanceof Bucket || on instanceof Run) return `sleep (${this.endsIn(this.timers.deadlineOf(t, on))})`;
    const a = limits?.get(t);
    return a === undefined ? String(on) : `${String(on)} (${this.endsIn(this.deadlineOf(a))})`;
  }

  /** @internal The alarms set now, each under what it limits (a timeout's call frame, a select's
   * task; see Alarm.limits): a scan of the timers and the run queue, made to describe tasks, so
   * that setting an alarm costs nothing for it. */
  limitsNow(): Map<object, Alarm> {
    const limits = new Map<object, Alarm>();
    const add = (a: Alarm): void => void limits.set(a.limits(), a);
    this.timers.alarms(add);
    const q = this.queue;
    for (let i = 0; i < q.size; i++) {
      const a = q.at(i)!;
      if (a.flags & ALARM && ((a as Alarm).ms >= 0 || (a as Alarm).due)) add(a as Alarm); // (a cleared one may stay queued)
    }
    return limits;
  }

  /** @internal A timeout's alarm, for people: `timeout(1000) (ends in 250 ms)`. */
  limitText(a: Alarm): string {
    return `${String(a)} (${this.endsIn(this.deadlineOf(a))})`;
  }

  /** When set alarm `a` rings: armed, its deadline; due, now; not armed yet, `ms` from now. */
  private deadlineOf(a: Alarm): number {
    const now = this.clock.now();
    return a.on !== null ? this.timers.deadlineOf(a, a.on) : a.due ? now : now + a.ms;
  }

  private endsIn(deadline: number): string {
    return `ends in ${Math.max(0, Math.round(deadline - this.clock.now()))} ms`;
  }

  // ---- internals -----------------------------------------------------------------------------

  /** @internal Append `t` to the run queue. */
  enqueue(t: Task): void {
    t.flags |= QUEUED;
    this.queue.push(t);
  }

  /**
   * Where reported errors go (see {@link SchedulerOptions.onError}); set it to route them, to
   * your logger, say, or to `undefined` to print them again.
   *
   * @throws TypeError when set to something that is not a function.
   * @example
   * ```ts
   * defaultScheduler().onError = (error, task, what) => log.error(`${what} (in ${task})`, error);
   * ```
   */
  get onError(): ErrorHandler {
    return this.handleError;
  }

  set onError(handler: ErrorHandler | undefined) {
    if (handler !== undefined && typeof handler !== "function") throw new TypeError(`onError must be a function, got ${describe(handler)}`);
    this.handleError = handler ?? printError;
  }

  /** A step, told to the observer. An observer that throws is reported once and removed: it
   * would throw again at every step. */
  private observed(t: Task): void {
    const w = this.watcher!;
    try {
      if (t.flags & STARTED) w.resumed?.(t);
      else w.started?.(t);
    } catch (e) {
      this.dropObserver(w, e, t);
    }
    this.step(t);
    try {
      if (t.flags & DONE) w.ended?.(t);
      else w.suspended?.(t, t.flags & SUSPENDED ? (t.slot instanceof Run ? new Bucket(this.timers.deadlineOf(t, t.slot)) : t.slot) : null);
    } catch (e) {
      this.dropObserver(w, e, t);
    }
  }

  /** @internal Alarm `a`, rung at `at`, has cut its task short (see Observer.timedOut): told to
   * the observer. */
  timedOut(a: Alarm, at: number): void {
    const w = this.watcher;
    if (w === null) return;
    const t = taskOf(a.limits())!;
    try {
      w.timedOut?.(t, String(a), at);
    } catch (e) {
      this.dropObserver(w, e, t);
    }
  }

  private dropObserver(w: Observer, error: unknown, t: Task): void {
    if (this.watcher !== w) return;
    this.watcher = null;
    this.report(error, t, "the scheduler's observer threw, and has been removed");
  }

  /**
   * What is told of every task's steps (see {@link SchedulerOptions.observer}); set it to start
   * watching, `undefined` to stop.
   *
   * @throws TypeError when set to something that is not an object.
   * @example
   * ```ts
   * const trace = recordTrace(defaultScheduler());
   * ```
   */
  get observer(): Observer | undefined {
    return this.watcher ?? undefined;
  }

  set observer(observer: Observer | undefined) {
    if (observer !== undefined && (typeof observer !== "object" || observer === null)) {
      throw new TypeError(`observer must be an object with started/resumed/suspended/ended/timedOut methods, got ${describe(observer)}`);
    }
    this.watcher = observer ?? null;
  }

  /** Effects the step of `t` made and did not use: suspects, until they are used or reported. */
  private forgotten(t: Task): void {
    for (const effect of unused() ?? []) {
      let list = this.suspected.get(t);
      if (list === undefined) {
        this.suspected.set(t, (list = new Set()));
        this.suspectedTasks++;
      }
      const kept = list;
      const s: Forgotten = {
        live: true,
        task: t,
        text: String(effect),
        site: siteOf(effect),
        drop: () => {
          kept.delete(s);
          this.collected.unregister(s);
        },
      };
      suspect(effect, s);
      list.add(s);
      this.collected.register(effect, s, s);
    }
  }

  /** The root body of `t` has ended (in its last step: what that step made is suspect too). A
   * suspect it made and still never used is a forgotten `yield*` if it returned; if it failed or
   * was cancelled, that is why the effect went unused. */
  private verdict(t: Task, returned: boolean): void {
    if (stepLeftUnused()) this.forgotten(t);
    if (this.suspectedTasks === 0) return; // the usual case: no WeakMap lookup per ended task
    const list = this.suspected.get(t);
    if (list === undefined) return;
    this.suspected.delete(t);
    this.suspectedTasks--;
    for (const s of [...list]) {
      clearSuspect(s);
      if (returned) this.forget(s, "before the task returned");
    }
  }

  /** Report a forgotten `yield*`. */
  private forget(s: Forgotten, when: string): void {
    const error = notice(
      "ForgottenYield",
      `${s.text} was made in task ${s.task} but never yielded ${when}, so it did nothing: put \`yield*\` before the call that made it ` +
        "(to keep an effect and yield it later, or in another task, make it where it is yielded)",
      s.site, // known in debug mode
    );
    this.report(error, s.task, `a forgotten yield* in task ${s.task}`);
  }

  /** Suspects garbage-collected unused while their task still ran can never be yielded now. */
  private readonly collected = new FinalizationRegistry<Forgotten>((s) => {
    if (!s.live) return;
    clearSuspect(s);
    if (s.task.state === "running") this.forget(s, "(it was garbage-collected unused)");
  });
  /** The live suspects each task made, for the verdict when its root body ends. */
  private readonly suspected = new WeakMap<Task, Set<Forgotten>>();
  /** Entries put in `suspected` and not yet taken out by a verdict (a task that never ends keeps
   * its count: the verdicts then look, as before). */
  private suspectedTasks = 0;

  /** @internal Hand an error that nobody can catch to `onError`; `what` says what failed. */
  report(error: unknown, task: Task, what: string): void {
    try {
      this.handleError(error, task, what);
    } catch (e) {
      console.error("skein: onError threw", e, "while reporting", what, error);
    }
  }
}
