// Supervisors, as in Erlang/OTP: run child tasks, restart them when they end (by their restart
// type and the strategy), give up and fail when they end too often, stop them in reverse order.
// The supervisor loop runs in a shield, so that even when it is cancelled it stops its children
// one by one, each after the one started after it has finished its cleanup.

import { Deque } from "../core/deque.js";
import type { Operation, Yielded } from "../core/effect.js";
import { call, cancel, cooperate, self, shield, spawn, suspend } from "../core/effects.js";
import { isCancelled, TimeoutError } from "../core/errors.js";
import { describe } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import { annotate } from "../core/stacks.js";
import { isHalted, type Task } from "../core/task.js";
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
  | { type: "add"; child: Child; reply: Reply }
  | { type: "remove"; name: string; reply: Reply }
  | { type: "shutdown" };

/** The supervisor loop's queue of events: a Park the loop waits on. */
class Inbox extends Park<Event> {
  private readonly events = new Deque<Event>();
  private waiter: Task | null = null;
  /** An event posted and not yet taken, if any. */
  take(): Event | undefined {
    return this.events.shift();
  }
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
  /** The children by name, in start order (a Map keeps the order its entries were added in). */
  private readonly byName = new Map<string, Child>();
  /** The running children by task, and the tasks it is stopping (whose ends it only reports). */
  private readonly byTask = new Map<Task, Child | "stopping">();
  /** The children waiting for a restart after a backoff. */
  private readonly delayed = new Set<Child>();
  private readonly inbox = new Inbox();
  private state: "new" | "running" | "stopped" = "new";
  private readonly strategy: NonNullable<SupervisorOptions["strategy"]>;
  private readonly intensity: { restarts: number; within: number };
  private readonly backoff: (restarts: number) => number;
  private readonly name: string;
  private readonly onExit: ((exit: ChildExit) => void) | undefined;
  /** When the restarts of the current window happened. */
  private readonly restartTimes = new Deque<number>();

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
    for (const spec of children) this.keep(this.child(spec));
  }

  /**
   * The children, in start order.
   *
   * @example
   * ```ts
   * const down = sup.children.filter((c) => !c.running).map((c) => c.name);
   * ```
   */
  get children(): readonly ChildInfo[] {
    return [...this.byName.values()].map((c) => ({
      name: c.spec.name,
      restart: c.spec.restart,
      task: c.task,
      running: c.task !== null && c.task.state === "running",
      restarts: c.restarts,
    }));
  }

  /**
   * Add a child and start it after the others (before the supervisor runs: add it to the list
   * it starts with). Returns its task once started (null before the supervisor runs).
   *
   * @throws Error at the `yield*` if a child has that name already, or the supervisor has
   * stopped; TypeError for a bad spec.
   * @example
   * ```ts
   * const task = yield* sup.add({ name: "worker-5", run: () => worker(jobs) });
   * ```
   */
  *add(spec: ChildSpec): Operation<Task | null> {
    const child = this.child(spec);
    if (this.state === "new") {
      this.keep(child);
      return null;
    }
    return (yield* this.ask({ type: "add", child, reply: new Reply() }, `add ${child.spec.name}`)) as Task;
  }

  /**
   * Stop the child named `name` (it is cancelled and its cleanup finishes) and forget it.
   *
   * @throws Error at the `yield*` if there is no such child, or the supervisor has stopped.
   * @example
   * ```ts
   * yield* sup.remove("worker-5");
   * ```
   */
  *remove(name: string): Operation<void> {
    if (this.state === "new") {
      if (!this.byName.delete(name)) throw this.noChild(name);
      return;
    }
    yield* this.ask({ type: "remove", name, reply: new Reply() }, `remove ${name}`);
  }

  /** Running it: `yield* sup` (it returns only by failing), or `yield* spawn(sup)`. */
  [Symbol.iterator](): Iterator<Yielded, never, unknown> {
    if (this.state !== "new") throw new TypeError(`${this.name} runs once: make another with supervisor(options)`);
    this.state = "running"; // from now on, add and remove go through the inbox
    const sup = this;
    return call(function* supervise() {
      const inbox = sup.inbox;
      try {
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
      } finally {
        sup.stopped();
      }
    })[Symbol.iterator]() as Iterator<Yielded, never, unknown>;
  }

  private *ask(event: Extract<Event, { reply: Reply }>, what: string): Operation<unknown> {
    if (this.state === "stopped") throw new Error(`${this.name} has stopped: cannot ${what}`);
    this.inbox.post(event);
    return yield* event.reply;
  }

  /** It has stopped: what still waits in its inbox is told so. */
  private stopped(): void {
    this.state = "stopped";
    for (let e = this.inbox.take(); e !== undefined; e = this.inbox.take()) {
      if (e.type === "add") e.reply.settle(new Error(`${this.name} has stopped: cannot add ${e.child.spec.name}`), true);
      else if (e.type === "remove") e.reply.settle(new Error(`${this.name} has stopped: cannot remove ${e.name}`), true);
    }
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
    return { spec: { name, run, restart }, task: null, restarts: 0, due: Infinity };
  }

  /** Add `c` to the children, its name unique. */
  private keep(c: Child): void {
    if (this.byName.has(c.spec.name)) throw new Error(`${this.name} has a child named ${describe(c.spec.name)} already`);
    this.byName.set(c.spec.name, c);
  }

  private noChild(name: string): Error {
    return new Error(`${this.name} has no child named ${describe(name)}`);
  }

  private *loop(): Operation<void> {
    for (const c of this.byName.values()) yield* this.start(c);
    for (;;) {
      let due = Infinity;
      for (const c of this.delayed) due = Math.min(due, c.due);
      const event = yield* this.next(due);
      if (event === "due") {
        const now = (yield* self()).sched.now();
        for (const c of [...this.delayed]) if (c.due <= now) yield* this.start(c);
        continue;
      }
      switch (event.type) {
        case "shutdown":
          return yield* this.stopAll();
        case "add": {
          try {
            this.keep(event.child);
          } catch (e) {
            event.reply.settle(e, true);
            break;
          }
          yield* this.start(event.child);
          event.reply.settle(event.child.task);
          break;
        }
        case "remove": {
          const c = this.byName.get(event.name);
          if (c === undefined) {
            event.reply.settle(this.noChild(event.name), true);
            break;
          }
          yield* this.stop(c);
          this.byName.delete(event.name);
          event.reply.settle(undefined);
          break;
        }
        case "exit":
          yield* this.exited(event);
      }
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
    c.due = Infinity;
    this.delayed.delete(c);
    c.task = yield* spawn(
      function* supervised() {
        const me = yield* self();
        try {
          yield* call(run);
        } catch (error) {
          const own = isCancelled(error) && isHalted(me);
          // A `run` that is a plain function and throws at once threw inside this body's `call`,
          // never out of a body of its own: it gets the child's logical stack here (once: an
          // error from a body of its own has it already).
          if (!isCancelled(error)) annotate(error, me, undefined);
          inbox.post({ type: "exit", task: me, how: own ? "cancelled" : "failed", error: own ? undefined : error });
          return;
        }
        inbox.post({ type: "exit", task: me, how: isHalted(me) ? "cancelled" : "returned", error: undefined });
      },
      { name: c.spec.name },
    );
    this.byTask.set(c.task, c);
  }

  /** Cancel a child and wait for its cleanup; its exit event then only reports a failure. */
  private *stop(c: Child): Operation<void> {
    const t = c.task;
    c.task = null;
    c.due = Infinity;
    this.delayed.delete(c);
    if (t === null) return;
    this.byTask.set(t, "stopping");
    if (t.state === "running") yield* cancel(t);
  }

  /** Stop every child, the last started first. */
  private *stopAll(): Operation<void> {
    const all = [...this.byName.values()];
    for (let i = all.length - 1; i >= 0; i--) yield* this.stop(all[i]!);
  }

  /** Tell onExit, or else the scheduler's onError, how a child ended: never lost. */
  private tell(me: Task, exit: ChildExit, task: Task): void {
    if (this.onExit === undefined) {
      if (exit.how === "failed") me.sched.report(exit.error, task, `${this.name}: child ${exit.name} failed${exit.restarting ? "; restarting it" : ""}`);
      return;
    }
    try {
      this.onExit(exit);
    } catch (e) {
      me.sched.report(e, me, `${this.name}: its onExit threw, told that child ${exit.name} ${exit.how}`);
    }
  }

  private *exited(event: Extract<Event, { type: "exit" }>): Operation<void> {
    const me = yield* self();
    const c = this.byTask.get(event.task);
    this.byTask.delete(event.task);
    if (c === "stopping") {
      // Stopped by the supervisor: a cancellation it asked for, unless its cleanup failed.
      if (event.how === "failed") this.tell(me, { name: event.task.name, how: "failed", error: event.error, restarting: false }, event.task);
      return;
    }
    if (c === undefined) return;
    c.task = null;
    const { restart } = c.spec;
    const restarting = restart === "permanent" || (restart === "transient" && event.how === "failed");
    const exit: ChildExit = { name: c.spec.name, how: event.how, error: event.error, restarting };
    if (!restarting) {
      this.tell(me, exit, event.task);
      if (restart === "temporary") this.byName.delete(c.spec.name);
      return;
    }
    // Restart intensity: more than `restarts` within `within` ms, and it gives up.
    const now = me.sched.now();
    const times = this.restartTimes;
    while (times.size > 0 && times.peek()! <= now - this.intensity.within) times.shift();
    if (times.size >= this.intensity.restarts) {
      // Giving up: the error goes to the supervisor's parent, not reported here as well.
      if (this.onExit !== undefined) this.tell(me, { ...exit, restarting: false }, event.task);
      yield* this.stopAll();
      throw event.how === "failed"
        ? event.error
        : new Error(`${this.name} gave up: child ${c.spec.name} ${event.how} and needed restarting more than ${this.intensity.restarts} times in ${this.intensity.within} ms`);
    }
    times.push(now);
    this.tell(me, exit, event.task);
    // The children to restart, in start order; those still running are stopped first, the last
    // started first. A temporary sibling is stopped and forgotten, never restarted.
    const affected = this.strategy === "one-for-one" ? [c] : this.affected(c);
    for (let j = affected.length - 1; j >= 0; j--) if (affected[j] !== c) yield* this.stop(affected[j]!);
    const delay = this.delay(me, times.size);
    for (const a of affected) {
      if (a !== c && a.spec.restart === "temporary") {
        this.byName.delete(a.spec.name);
        continue;
      }
      a.restarts++;
      if (delay > 0) (a.due = now + delay), this.delayed.add(a);
      else yield* this.start(a);
    }
  }

  /** Every child (one-for-all), or `c` and those started after it (rest-for-one). */
  private affected(c: Child): Child[] {
    const all = [...this.byName.values()];
    return this.strategy === "one-for-all" ? all : all.slice(all.indexOf(c));
  }

  /** The backoff before the `n`th restart of the window: a throwing or bad backoff is reported. */
  private delay(me: Task, n: number): number {
    try {
      const ms = this.backoff(n);
      if (typeof ms === "number" && ms >= 0) return ms;
      throw new TypeError(`${this.name}: backoff(${n}) returned ${describe(ms)}, not a number of ms >= 0`);
    } catch (e) {
      me.sched.report(e, me, `${this.name}: its backoff failed; restarting without a delay`);
      return 0;
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

