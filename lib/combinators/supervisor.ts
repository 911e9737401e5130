// Supervisors, as in Erlang/OTP: run child tasks, restart them when they end (by their restart
// type and the strategy), give up and fail when they end too often, stop them in reverse order.
// The supervisor loop runs in a shield, so that even when it is cancelled it stops its children
// one by one, each after the one started after it has finished its cleanup.

import { Deque } from "../core/deque.js";
import type { Operation } from "../core/effect.js";
import { call, cancel, cooperate, self, shield, spawn, suspend } from "../core/effects.js";
import { isCancelled, TimeoutError } from "../core/errors.js";
import { describe } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import { HALTED, type Task } from "../core/task.js";
import { timeout } from "./timeout.js";

/**
 * When a child is restarted after it ends: always (`permanent`), only after a failure
 * (`transient`), or never (`temporary`).
 *
 * @example
 * ```ts
 * const restart: Restart = "transient"; // a job that may finish, but must not crash
 * ```
 */
export type Restart = "permanent" | "transient" | "temporary";

/**
 * A child of a supervisor: a name, the operation to run (a function, called at each start), and
 * when to restart it.
 *
 * @example
 * ```ts
 * const spec: ChildSpec = { name: "worker-1", run: () => worker(queue), restart: "permanent" };
 * ```
 */
export interface ChildSpec {
  /** Unique among the supervisor's children; the child task's name. */
  name: string;
  /** Starts the child: called at each (re)start, it returns an operation, a promise or a value. */
  run: () => unknown;
  /** Default `"permanent"`. */
  restart?: Restart;
}

/**
 * Options of {@link supervisor}.
 *
 * @example
 * ```ts
 * const options: SupervisorOptions = { strategy: "rest-for-one", intensity: { restarts: 5, within: 10_000 }, children: [] };
 * ```
 */
export interface SupervisorOptions {
  /** What a child's end restarts: itself (`"one-for-one"`, the default), every child
   * (`"one-for-all"`), or itself and the children started after it (`"rest-for-one"`). */
  strategy?: "one-for-one" | "one-for-all" | "rest-for-one";
  /** More than `restarts` restarts within `within` ms and the supervisor gives up: it stops every
   * child and fails with the last child's error. Default `{ restarts: 3, within: 5000 }`. */
  intensity?: { restarts: number; within: number };
  /** Wait before a restart, in ms: a number, or a function of how many restarts there have been
   * in the current `within` window (1 for the first). Default none. */
  backoff?: number | ((restarts: number) => number);
  /** The children, started in this order. */
  children?: ChildSpec[];
  /** The supervisor's name, in reports. */
  name?: string;
  /** Told of every end of a child, and whether it will be restarted. Without it, a child's
   * failure goes to the scheduler's `onError`. */
  onExit?: (exit: ChildExit) => void;
}

/**
 * How a supervised child ended, as {@link SupervisorOptions.onExit} is told.
 *
 * @example
 * ```ts
 * const onExit = (e: ChildExit) => console.log(`${e.name} ${e.how}${e.restarting ? ", restarting" : ""}`);
 * ```
 */
export interface ChildExit {
  name: string;
  how: "returned" | "failed" | "cancelled";
  error: unknown;
  restarting: boolean;
}

/**
 * A child as {@link Supervisor.children} shows it.
 *
 * @example
 * ```ts
 * for (const c of sup.children) console.log(c.name, c.running, c.restarts);
 * ```
 */
export interface ChildInfo {
  readonly name: string;
  readonly restart: Restart;
  /** Its task now, or null while it is not running (ended, or waiting to be restarted). */
  readonly task: Task | null;
  readonly running: boolean;
  /** How often it has been restarted. */
  readonly restarts: number;
}

interface Child {
  spec: Required<ChildSpec>;
  task: Task | null;
  restarts: number;
  /** Waiting for its restart, after a backoff. */
  due: number;
}

type Event =
  | { type: "exit"; task: Task; how: ChildExit["how"]; error: unknown }
  | { type: "add"; spec: Required<ChildSpec>; reply: Reply }
  | { type: "remove"; name: string; reply: Reply }
  | { type: "shutdown" };

/** The supervisor loop's queue of events: a Park the loop waits on. */
class Inbox extends Park<Event> {
  private readonly events = new Deque<Event>();
  private waiter: Task | null = null;
  post(e: Event): void {
    const w = this.waiter;
    this.waiter = null;
    if (w === null || !wake(w, this, e)) this.events.push(e);
  }
  enter(task: Task): Event | typeof PARKED {
    const e = this.events.shift();
    if (e !== undefined) return e;
    this.waiter = task;
    return PARKED;
  }
  leave(): void {
    this.waiter = null;
  }
  override toString(): string {
    return "supervisor events";
  }
}

/** An answer to `add` or `remove`, once the loop has acted on it. */
class Reply extends Park<unknown> {
  private settled = false;
  private result: unknown;
  private failed = false;
  private waiter: Task | null = null;
  settle(result: unknown, failed = false): void {
    this.settled = true;
    this.result = result;
    this.failed = failed;
    if (this.waiter !== null) wake(this.waiter, this, result, failed);
  }
  enter(task: Task): unknown {
    if (!this.settled) {
      this.waiter = task;
      return PARKED;
    }
    if (this.failed) throw this.result;
    return this.result;
  }
  leave(): void {
    this.waiter = null;
  }
}

/**
 * A supervisor made by {@link supervisor}: an operation that runs its children until it is
 * cancelled (or gives up), and a handle to add and remove children while it runs.
 *
 * @example
 * ```ts
 * const sup = supervisor({ children: [{ name: "ticker", run: ticker }] });
 * yield* spawn(sup);
 * yield* sup.add({ name: "worker", run: () => worker(jobs) });
 * yield* sup.remove("ticker");
 * ```
 */
export class Supervisor implements Operation<never> {
  private readonly list: Child[] = [];
  private readonly inbox = new Inbox();
  private started = false;
  private running = false;
  private readonly strategy: NonNullable<SupervisorOptions["strategy"]>;
  private readonly intensity: { restarts: number; within: number };
  private readonly backoff: (restarts: number) => number;
  private readonly name: string;
  private readonly onExit: ((exit: ChildExit) => void) | undefined;
  /** When the restarts of the current window happened. */
  private readonly restartTimes: number[] = [];

  /** @internal Use {@link supervisor}. */
  constructor(options: SupervisorOptions) {
    const { strategy = "one-for-one", intensity = { restarts: 3, within: 5000 }, backoff = 0, children = [], name = "supervisor", onExit } = options;
    if (strategy !== "one-for-one" && strategy !== "one-for-all" && strategy !== "rest-for-one") {
      throw new TypeError(`supervisor() expects strategy "one-for-one", "one-for-all" or "rest-for-one", got ${describe(strategy)}`);
    }
    const { restarts, within } = intensity ?? {};
    if (typeof restarts !== "number" || !(restarts >= 0) || !(Number.isInteger(restarts) || restarts === Infinity)) {
      throw new RangeError(`supervisor() expects intensity.restarts to be a whole number >= 0, got ${describe(restarts)}`);
    }
    if (typeof within !== "number" || !(within > 0)) throw new RangeError(`supervisor() expects intensity.within to be a number of ms > 0, got ${describe(within)}`);
    if (typeof backoff !== "function" && (typeof backoff !== "number" || !(backoff >= 0))) {
      throw new TypeError(`supervisor() expects backoff to be a number of ms >= 0 or a function, got ${describe(backoff)}`);
    }
    if (onExit !== undefined && typeof onExit !== "function") throw new TypeError(`supervisor() expects onExit to be a function, got ${describe(onExit)}`);
    if (!Array.isArray(children)) throw new TypeError(`supervisor() expects children as an array of child specs, got ${describe(children)}`);
    this.strategy = strategy;
    this.intensity = { restarts, within };
    this.backoff = typeof backoff === "function" ? backoff : () => backoff;
    this.name = String(name);
    this.onExit = onExit;
    for (const spec of children) this.list.push(this.child(spec));
  }

  /** The children, in start order. */
  get children(): readonly ChildInfo[] {
    return this.list.map((c) => ({
      name: c.spec.name,
      restart: c.spec.restart,
      task: c.task,
      running: c.task !== null && c.task.state === "running",
      restarts: c.restarts,
    }));
  }

  /**
   * Add a child and start it after the others (before the supervisor runs: add it to the list
   * it starts with). Returns its task once started.
   *
   * @throws Error at the `yield*` if a child has that name already; TypeError for a bad spec.
   * @example
   * ```ts
   * const task = yield* sup.add({ name: "worker-5", run: () => worker(jobs) });
   * ```
   */
  *add(spec: ChildSpec): Operation<Task | null> {
    const child = this.child(spec);
    if (!this.running) {
      if (this.started) throw new Error(`${this.name} has stopped: cannot add ${child.spec.name}`);
      this.list.push(child);
      return null;
    }
    const reply = new Reply();
    this.inbox.post({ type: "add", spec: child.spec, reply });
    return (yield* reply) as Task;
  }

  /**
   * Stop the child named `name` (it is cancelled and its cleanup finishes) and forget it.
   *
   * @throws Error at the `yield*` if there is no such child.
   * @example
   * ```ts
   * yield* sup.remove("worker-5");
   * ```
   */
  *remove(name: string): Operation<void> {
    if (!this.running) {
      const i = this.list.findIndex((c) => c.spec.name === name);
      if (i < 0) throw new Error(`${this.name} has no child named ${describe(name)}`);
      if (!this.started) this.list.splice(i, 1);
      return;
    }
    const reply = new Reply();
    this.inbox.post({ type: "remove", name, reply });
    yield* reply;
  }

  /** Running it: `yield* sup` (it returns only by failing), or `yield* spawn(sup)`. */
  [Symbol.iterator](): Iterator<unknown, never, unknown> {
    if (this.started) throw new TypeError(`${this.name} runs once: make another with supervisor(options)`);
    this.started = true;
    const sup = this;
    return call(function* supervise() {
      const inbox = sup.inbox;
      // A cancellation of the supervisor is held by the shield below; this sentinel turns it
      // into a shutdown event, so the loop stops the children in order.
      yield* spawn(
        function* sentinel() {
          try {
            yield* suspend();
          } finally {
            inbox.post({ type: "shutdown" });
          }
        },
        { name: `${sup.name} sentinel` },
      );
      yield* cooperate(); // the sentinel takes its post before any child starts
      yield* shield(() => sup.loop()); // returns after a shutdown: it was cancelled
      return yield* suspend(); // so this wait throws its Cancelled
    })[Symbol.iterator]() as Iterator<unknown, never, unknown>;
  }

  private child(spec: ChildSpec): Child {
    if (typeof spec !== "object" || spec === null) throw new TypeError(`a child spec is an object { name, run, restart? }, got ${describe(spec)}`);
    const { name, run, restart = "permanent" } = spec;
    if (typeof name !== "string" || name === "") throw new TypeError(`a child spec needs a name, got ${describe(name)}`);
    if (typeof run !== "function") {
      throw new TypeError(`child ${name}: run must be a function that starts the child (called at each restart), got ${describe(run)}`);
    }
    if (restart !== "permanent" && restart !== "transient" && restart !== "temporary") {
      throw new TypeError(`child ${name}: restart must be "permanent", "transient" or "temporary", got ${describe(restart)}`);
    }
    if (this.list.some((c) => c.spec.name === name)) throw new Error(`${this.name} has a child named ${describe(name)} already`);
    return { spec: { name, run, restart }, task: null, restarts: 0, due: Infinity };
  }

  private *loop(): Operation<void> {
    this.running = true;
    try {
      for (const c of this.list) yield* this.start(c);
      for (;;) {
        const due = Math.min(...this.list.map((c) => c.due));
        const event = yield* this.next(due);
        if (event === "due") {
          const now = (yield* self()).sched.now();
          for (const c of this.list) if (c.due <= now) (c.due = Infinity), yield* this.start(c);
          continue;
        }
        switch (event.type) {
          case "shutdown":
            return yield* this.stopAll();
          case "add": {
            if (this.list.some((c) => c.spec.name === event.spec.name)) {
              event.reply.settle(new Error(`${this.name} has a child named ${describe(event.spec.name)} already`), true);
              break;
            }
            const c: Child = { spec: event.spec, task: null, restarts: 0, due: Infinity };
            this.list.push(c);
            yield* this.start(c);
            event.reply.settle(c.task);
            break;
          }
          case "remove": {
            const c = this.list.find((c) => c.spec.name === event.name);
            if (c === undefined) {
              event.reply.settle(new Error(`${this.name} has no child named ${describe(event.name)}`), true);
              break;
            }
            yield* this.stop(c);
            this.list.splice(this.list.indexOf(c), 1);
            event.reply.settle(undefined);
            break;
          }
          case "exit":
            yield* this.exited(event);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The next event, or "due" once the earliest backoff is over. */
  private *next(due: number): Operation<Event | "due"> {
    if (due === Infinity) return yield* this.inbox;
    const wait = due - (yield* self()).sched.now();
    if (wait <= 0) return "due";
    try {
      return yield* timeout(wait, this.inbox);
    } catch (e) {
      if (e instanceof TimeoutError) return "due";
      throw e;
    }
  }

  private *start(c: Child): Operation<void> {
    const inbox = this.inbox;
    const run = c.spec.run;
    c.task = yield* spawn(
      function* supervised() {
        const me = yield* self();
        try {
          yield* call(run);
        } catch (error) {
          const own = isCancelled(error) && (me.flags & HALTED) !== 0;
          inbox.post({ type: "exit", task: me, how: own ? "cancelled" : "failed", error: own ? undefined : error });
          return;
        }
        inbox.post({ type: "exit", task: me, how: me.flags & HALTED ? "cancelled" : "returned", error: undefined });
      },
      { name: c.spec.name },
    );
  }

  /** Cancel a child and wait for its cleanup; its exit event is then ignored. */
  private *stop(c: Child): Operation<void> {
    const t = c.task;
    c.task = null;
    c.due = Infinity;
    if (t !== null && t.state === "running") yield* cancel(t);
  }

  /** Stop every child, the last started first. */
  private *stopAll(): Operation<void> {
    for (let i = this.list.length - 1; i >= 0; i--) yield* this.stop(this.list[i]!);
  }

  private *exited(event: Extract<Event, { type: "exit" }>): Operation<void> {
    const c = this.list.find((c) => c.task === event.task);
    if (c === undefined) return; // stopped by the supervisor itself: nothing to decide
    c.task = null;
    const { restart } = c.spec;
    const restarting = restart === "permanent" || (restart === "transient" && event.how === "failed");
    const me = yield* self();
    // A child's error goes to onExit if there is one, else to the scheduler's onError: never lost.
    if (this.onExit !== undefined) this.onExit({ name: c.spec.name, how: event.how, error: event.error, restarting });
    else if (event.how === "failed") {
      me.sched.report(event.error, event.task, `${this.name}: child ${c.spec.name} failed${restarting ? "; restarting it" : ""}`);
    }
    if (!restarting) {
      if (restart === "temporary") this.list.splice(this.list.indexOf(c), 1);
      return;
    }
    // Restart intensity: more than `restarts` within `within` ms, and it gives up.
    const now = me.sched.now();
    const times = this.restartTimes;
    while (times.length > 0 && times[0]! <= now - this.intensity.within) times.shift();
    times.push(now);
    if (times.length > this.intensity.restarts) {
      yield* this.stopAll();
      throw event.how === "failed"
        ? event.error
        : new Error(`${this.name} gave up: child ${c.spec.name} ${event.how} and needed restarting more than ${this.intensity.restarts} times in ${this.intensity.within} ms`);
    }
    // The children to restart, in start order; those still running are stopped first, last first.
    const i = this.list.indexOf(c);
    const affected = this.strategy === "one-for-one" ? [c] : this.strategy === "one-for-all" ? [...this.list] : this.list.slice(i);
    for (let j = affected.length - 1; j >= 0; j--) if (affected[j] !== c) yield* this.stop(affected[j]!);
    const delay = this.backoff(times.length);
    for (const a of affected) {
      a.restarts++;
      if (delay > 0) a.due = now + delay;
      else yield* this.start(a);
    }
  }

  toString(): string {
    return this.name;
  }
}

/**
 * Make a supervisor, as in Erlang/OTP: it starts its children in order, each in a task of its
 * own, and when one ends restarts it, as its restart type says (`permanent`: always;
 * `transient`: after a failure; `temporary`: never), by its strategy: the child alone
 * (`one-for-one`), every child (`one-for-all`), or the child and those started after it
 * (`rest-for-one`). Children it restarts together are stopped first, the last started first. A
 * failure of a child does not fail the supervisor: it is reported (to `onExit` if given, else to
 * the scheduler's `onError`) and the child restarted.
 * But more than `intensity.restarts` restarts within `intensity.within` ms, and the supervisor
 * gives up: it stops every child and fails with the last error, to its own parent, which may be
 * a supervisor too. Cancelled, it stops its children one by one, the last started first, each
 * after its cleanup. Run it with `yield* sup` (it never returns) or `yield* spawn(sup)`, once.
 *
 * @throws TypeError/RangeError at the call for bad options or child specs.
 * @example
 * ```ts
 * function* app(jobs: Channel<Job>) {
 *   yield* supervisor({
 *     strategy: "one-for-one",
 *     intensity: { restarts: 5, within: 10_000 },
 *     children: [
 *       { name: "db", run: () => connectionPool() },
 *       { name: "workers", run: () => supervisor({ children: [1, 2, 3].map((i) => ({ name: `worker-${i}`, run: () => worker(jobs) })) }) },
 *     ],
 *   });
 * }
 * ```
 */
export function supervisor(options: SupervisorOptions = {}): Supervisor {
  if (typeof options !== "object" || options === null) throw new TypeError(`supervisor() expects options, got ${describe(options)}`);
  return new Supervisor(options);
}

