// The primitives: the small vocabulary of effects every coroutine is written in. Each is inert data
// built by a one-line constructor that checks its arguments; handlers.ts performs them.

import { current, direct, Effect, firstStep, handedUp, noteMade, tag, used, type Operation } from "./effect.js";
import { awaitHere, type Awaiting } from "./awaiting.js";
import { checkOperation, describe, isIterator, nameOfFunction, isOperation, isThenable, type OperationLike, type Returned } from "./operation.js";
import type { Park } from "./park.js";
import { noteSite } from "./stacks.js";
import { Cancel, Join, Task } from "./task.js";

/**
 * Options for a new task.
 *
 * @example
 * ```ts
 * const t = yield* fork(poll(url), { name: `poll ${url}` });
 * ```
 */
export interface TaskOptions {
  /** Shown in error messages and deadlock reports; defaults to the function's name (also when
   * `null`). Anything but a string is a TypeError at the call. */
  name?: string;
}

/** @internal The name in `options`, checked at the call: it goes into every message about the
 * task, and one that is not a string could fail the making of those messages later. None
 * (`undefined`, or `null` from JavaScript) names the task after its function. */
export function nameIn(options: TaskOptions | undefined, where: string): string | undefined {
  const name = options?.name;
  return typeof name === "string" || name === undefined ? name : badName(name, where); // small: inlined where tasks start
}

function badName(name: unknown, where: string): undefined {
  if (name === null) return undefined;
  throw new TypeError(`${where} expects options.name to be a string, got ${describe(name)}`);
}

/** Note an effect a public constructor made (see `noteMade`), and return it. */
function made<E extends Effect>(effect: E): E {
  noteMade(effect);
  return effect;
}

/**
 * The effect of {@link sleep}: `ms` is the duration asked for.
 *
 * @example
 * ```ts
 * const step = retry()[Symbol.iterator]().next().value;
 * if (step instanceof Sleep) console.log(`backing off ${step.ms} ms`);
 * ```
 */
export class Sleep extends Effect<void> {
  declare readonly type: "sleep";
  constructor(readonly ms: number) {
    super();
  }
  override toString(): string {
    return `sleep(${this.ms})`;
  }
}
tag(Sleep, "sleep");
direct(Sleep);

/**
 * Suspend the task for `ms` milliseconds of its scheduler's clock. Other tasks run meanwhile;
 * cancelling the task removes its timer. `sleep(0)` only lets the other ready tasks run first,
 * like {@link cooperate}; `sleep(Infinity)` waits until cancelled.
 *
 * @throws TypeError if `ms` is not a number, RangeError if it is negative or NaN.
 * @example
 * ```ts
 * function* blink() {
 *   for (let i = 0; i < 3; i++) {
 *     console.log("on");
 *     yield* sleep(500);
 *   }
 * }
 * ```
 */
export function sleep(ms: number): Sleep {
  if (lastSleep.ms !== ms) lastSleep = new Sleep(checkMs(ms, "sleep(ms)")); // effects are immutable: a loop's sleeps share one
  noteMade(lastSleep);
  return lastSleep;
}
var lastSleep = new Sleep(0); // (`var`: no dead-zone check on each read; see effect.ts)

/** @internal Check a duration at the call site: a number of milliseconds >= 0 (or Infinity). */
export function checkMs(ms: number, where: string): number {
  if (typeof ms !== "number") throw new TypeError(`${where} expects a number of milliseconds, got ${describe(ms)}`);
  if (!(ms >= 0)) throw new RangeError(`${where} expects ms >= 0, got ${ms}`);
  return ms;
}

/**
 * The effect of {@link call}: `target` is the function (called with `args`) or the operation.
 *
 * @example
 * ```ts
 * const gen = handler()[Symbol.iterator]();
 * const effect = gen.next().value as Call;
 * assert.equal([effect.target, effect.args], [fetchUser, [42]]);
 * gen.next({ id: 42, name: "Ada" }); // resume with a stub result, no I/O
 * ```
 */
export class Call<T = unknown> extends Effect<T> {
  declare readonly type: "call";
  /** @internal How many arguments `target` is called with; -1 for an operation. The first two
   * are kept in fields, so that a call with up to two arguments allocates no array. */
  readonly argc: number;
  /** @internal */ readonly a0: unknown;
  /** @internal */ readonly a1: unknown;
  /** @internal All the arguments, for a call with more than two. */ readonly rest: readonly unknown[] | undefined;
  /** @internal What the function returned when its `yield*` called it (a promise or an operation,
   * see `next`), or an iterator begun already (map), until this effect is performed: kept on the
   * effect itself, so that it is never called twice, whoever yields it and whatever is yielded in
   * between; and performed even by a task cancelled since it began. On the prototype until set
   * (undefined): most calls never keep anything, and a field made in the constructor costs them. */
  declare kept: unknown;
  /** @internal What the function returned when its `yield*` called it, if that is a thenable that
   * is not an operation (the usual case: an async function), and the wait on it could not begin
   * there (see `awaitHere`). Kept apart from `kept`, so that the handler awaits it without
   * testing its type again. On the prototype until set, as `kept`. */
  declare awaited: PromiseLike<unknown> | undefined;
  /** @internal Records of waits on its promise that began inside its `yield*` and were undone,
   * one per task, newest first (see `keepAwaited`). On the prototype until set. */
  declare keptWaits: Awaiting | undefined;
  constructor(
    /** A function to invoke with `args`, or an operation to run (then `args` is undefined). */
    readonly target: unknown,
    args: readonly unknown[] | undefined,
  ) {
    super();
    this.argc = args === undefined ? -1 : args.length;
    this.a0 = args?.[0];
    this.a1 = args?.[1];
    this.rest = args !== undefined && args.length > 2 ? args : undefined;
  }
  /** The first step of `yield*`. Inside a running task (see `Scheduler.quick`) a function is
   * called here, and a plain result is returned at once, with no round trip through the step
   * loop; the wait on a promise it returns begins here too (see `awaitHere`: what is yielded is
   * the wait's record, whose `value` is this effect); an operation it returns is handed to the
   * loop with the effect, which is yielded as usual (the function is not called again). Else the
   * effect itself is yielded. */
  override next(value?: unknown): IteratorResult<Effect<T>, T> {
    if (!firstStep()) return { done: true, value: value as T };
    const t = current.task as Task | null;
    if (this.argc < 0 || t === null || !t.sched.quick(t)) return this;
    used(this); // yielded, as far as the forgotten-yield check goes
    let v: unknown;
    try {
      v = invoke(this);
      if (typeof v === "object" ? v !== null && (isOperation(v) || isIterator(v)) : false) {
        try {
          this.kept = v; // for the loop to run when this effect is performed, as the handler would
        } catch {
          return begun(this, v, false);
        }
        handedUp(this);
        return this;
      }
      if (isThenable(v)) {
        const on = awaitHere(v, this, t); // waits here, as a Park does
        if (on !== null) return on as IteratorResult<Effect<T>, T>;
        try {
          this.awaited = v; // for the handler to await, its type known already
        } catch {
          return begun(this, v, true);
        }
        return this;
      }
    } catch (e) {
      t.sched.thrownBy(e, this);
      throw e;
    }
    return { done: true, value: v as T };
  }
  /** The arguments `target` is called with (undefined for an operation). */
  get args(): readonly unknown[] | undefined {
    const n = this.argc;
    return n < 0 ? undefined : n === 0 ? [] : n === 1 ? [this.a0] : n === 2 ? [this.a0, this.a1] : this.rest;
  }
  override toString(): string {
    const t = this.target;
    return `call(${typeof t === "function" ? nameOfFunction(t, "anonymous") : describe(t)})`;
  }
}
tag(Call, "call");
direct(Call);
(Call.prototype as { kept: unknown }).kept = undefined;
(Call.prototype as { awaited: unknown }).awaited = undefined;
(Call.prototype as { keptWaits: unknown }).keptWaits = undefined;

/** A call begun in its `yield*` whose effect takes no property (frozen: `Object.freeze(call(f))`,
 * a shared constant, say): what the function returned is kept on a call made for this one
 * performance, yielded in its place; the function has run and must not run again. (A failed
 * store, not an `Object.isExtensible` test: that one is a runtime call, +170 instructions on
 * every call of an async or generator function, callgrind.) */
function begun<T>(e: Call<T>, v: unknown, awaited: boolean): Call<T> {
  const c = new Call<T>(e.target, undefined);
  if (awaited) c.awaited = v as PromiseLike<unknown>;
  else c.kept = v;
  return c;
}

/** @internal Call the function of `e` with its arguments (bare: its stack frame is its own name). */
export function invoke(e: Call): unknown {
  const fn = e.target as (...a: unknown[]) => unknown;
  const n = e.argc;
  return n === 0 ? fn() : n === 1 ? fn(e.a0) : n === 2 ? fn(e.a0, e.a1) : fn(...e.rest!);
}

/**
 * Run an operation, or call a function, and return its result. `fn` may return a plain value, a
 * promise (which is awaited) or an operation (which is run). A call is a scope: any task forked
 * inside it is finished before `call` returns (forks awaited, spawns cancelled), and a failing
 * child makes `call` throw, so a `try` around `yield* call(...)` is the place to catch it.
 * Nesting calls does not grow the JavaScript stack.
 *
 * @throws TypeError at the call site if `fn` is neither a function nor an operation.
 * @example
 * ```ts
 * function* handler() {
 *   const text = yield* call(fs.promises.readFile, "a.txt", "utf8"); // a promise
 *   const sum = yield* call((a: number, b: number) => a + b, 1, 2);  // a value
 *   try {
 *     yield* call(function* () {
 *       yield* fork(mightFail());
 *     });
 *   } catch (e) {
 *     console.log("a child failed", e);
 *   }
 * }
 * ```
 */
export function call<T>(op: Operation<T>): Call<T>;
export function call<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Call<Returned<R>>;
export function call(target: unknown, a0?: unknown, a1?: unknown): Call {
  let effect: Call;
  // No rest parameter: a call with up to two arguments allocates only its Call.
  const n = arguments.length;
  if (typeof target === "function") {
    if (n > 3) effect = new Call(target, Array.prototype.slice.call(arguments, 1));
    else {
      // Made as an operation's (no array to read), then given its arguments.
      effect = new Call(target, undefined);
      const e = effect as { argc: number; a0: unknown; a1: unknown };
      e.argc = n - 1;
      e.a0 = a0;
      e.a1 = a1;
    }
  } else if (isOperation(target)) {
    effect = new Call(target, undefined);
    used(target); // an effect handed to call(): not forgotten (a function never is: only effects are noted)
  } else throw new TypeError(`call() expects a function or an operation, got ${describe(target)}`);
  noteSite(effect);
  noteMade(effect);
  return effect;
}

/**
 * The effect of {@link wait}: `promise` is what is waited for.
 *
 * @example
 * ```ts
 * const effect = wait(Promise.resolve(1));
 * console.log(effect instanceof Wait, String(effect)); // true "wait(promise)"
 * ```
 */
export class Wait<T = unknown> extends Effect<T> {
  declare readonly type: "wait";
  /** @internal Records of waits that began inside its `yield*` and were undone, one per task,
   * newest first (see `keepAwaited`). On the prototype until set. */
  declare keptWaits: Awaiting | undefined;
  constructor(readonly promise: PromiseLike<T>) {
    super();
  }
  /** The first step of `yield*`: inside a running task (see `Scheduler.quick`) the wait begins
   * here, as a call's on the promise its function returned does (see `awaitHere`). */
  override next(value?: unknown): IteratorResult<Effect<T>, T> {
    if (!firstStep()) return { done: true, value: value as T };
    const t = current.task as Task | null;
    if (t === null || !t.sched.quick(t)) return this;
    used(this); // yielded, as far as the forgotten-yield check goes
    const on = awaitHere(this.promise, this, t);
    return on === null ? this : (on as IteratorResult<Effect<T>, T>);
  }
  override toString(): string {
    return "wait(promise)";
  }
}
tag(Wait, "wait");
direct(Wait);
(Wait.prototype as { keptWaits: unknown }).keptWaits = undefined;

/**
 * Wait for a promise (or any thenable) to settle: its value is returned, its rejection thrown
 * here, whatever the rejection value is. If the task is cancelled first, the promise is left to
 * settle on its own and its outcome is ignored.
 *
 * @throws TypeError at the call site if `promise` has no `then` method.
 * @example
 * ```ts
 * function* main() {
 *   const res = yield* wait(fetch("http://127.0.0.1:8080/"));
 *   return res.status;
 * }
 * ```
 */
export function wait<T>(promise: PromiseLike<T>): Wait<T> {
  if (!isThenable(promise)) throw new TypeError(`wait() expects a promise or thenable, got ${describe(promise)}`);
  return made(new Wait(promise));
}

/**
 * The effects of {@link fork} and {@link spawn}: start a child task in the current scope.
 *
 * @example
 * ```ts
 * const effect = spawn(heartbeat, { name: "heartbeat" });
 * if (effect instanceof Start) console.log(effect.type, effect.name); // "spawn" "heartbeat"
 * ```
 */
export abstract class Start<T = unknown> extends Effect<Task<T>> {
  declare readonly type: "fork" | "spawn";
  constructor(
    readonly op: OperationLike<T>,
    readonly name: string | undefined,
  ) {
    super();
  }
  override toString(): string {
    return `${this.type}(${this.name ?? describe(this.op)})`;
  }
}

/**
 * The effect of {@link fork}.
 *
 * @example
 * ```ts
 * console.log(fork(worker) instanceof Fork); // true
 * ```
 */
export class Fork<T = unknown> extends Start<T> {
  declare readonly type: "fork";
}
tag(Fork, "fork");

/**
 * The effect of {@link spawn}.
 *
 * @example
 * ```ts
 * console.log(spawn(worker) instanceof Spawn); // true
 * ```
 */
export class Spawn<T = unknown> extends Start<T> {
  declare readonly type: "spawn";
}
tag(Spawn, "spawn");

/**
 * Start `op` as a child task that runs concurrently and that the current scope waits for: the
 * enclosing body (or `call`) does not return until the child has finished. If the child fails,
 * its siblings and the parent are cancelled and the parent fails with the same error. Returns the
 * child's {@link Task} at once; the child starts once the parent gives up control (when it
 * suspends, or its time slice ends).
 *
 * @throws TypeError at the call site if `op` is not an operation or a function, or `options.name` is not a string.
 * @example
 * ```ts
 * function* both() {
 *   const a = yield* fork(get("/a"));
 *   const b = yield* fork(get("/b"));
 *   return [yield* join(a), yield* join(b)];
 * }
 * ```
 */
export function fork<T>(op: OperationLike<T>, options?: TaskOptions): Fork<T> {
  checkOperation(op, "fork()");
  const effect = new Fork(op, nameIn(options, "fork()"));
  noteSite(effect);
  return made(effect);
}

/**
 * Start `op` as a background child task: it runs concurrently and is cancelled when the body
 * of the enclosing scope ends (after that scope's forked children have finished). Like a fork, a
 * failure of the child fails the parent. Use it for helpers that live as long as their parent:
 * a heartbeat, a server loop, a log flusher.
 *
 * @throws TypeError at the call site if `op` is not an operation or a function, or `options.name` is not a string.
 * @example
 * ```ts
 * function* session() {
 *   yield* spawn(function* heartbeat() {
 *     for (;;) { yield* sleep(1000); console.log("alive"); }
 *   });
 *   yield* sleep(3500); // the heartbeat is cancelled when this body ends
 * }
 * ```
 */
export function spawn<T>(op: OperationLike<T>, options?: TaskOptions): Spawn<T> {
  checkOperation(op, "spawn()");
  const effect = new Spawn(op, nameIn(options, "spawn()"));
  noteSite(effect);
  return made(effect);
}

function checkTask(task: unknown, where: string): void {
  if (!(task instanceof Task)) throw new TypeError(`${where} expects a task, got ${describe(task)}`);
}

/**
 * Wait for a task to finish and return its value; throw its error if it failed, or a
 * {@link Cancelled} if it was cancelled. `yield* task` is the same as `yield* join(task)`.
 *
 * @throws TypeError at the call site if `task` is not a task; an Error when a task joins itself
 * or one of its ancestors (which could never finish).
 * @example
 * ```ts
 * const t = yield* fork(compute());
 * const value = yield* join(t);
 * ```
 */
export function join<T>(task: Task<T>): Join<T> {
  checkTask(task, "join()");
  return made(new Join(task));
}

/**
 * Cancel a task and wait until it, and every task it started, has finished its cleanup. The task
 * sees a {@link Cancelled} error where it is suspended, and at every wait after that (see
 * {@link shield} for cleanup that must wait). Cancelling a finished task, or one cancelled
 * already, changes nothing; cancelling yourself throws `Cancelled` right here.
 *
 * @throws TypeError at the call site if `task` is not a task.
 * @example
 * ```ts
 * const ticker = yield* fork(tick());
 * yield* sleep(1000);
 * yield* cancel(ticker); // ticker's finally blocks have run when this returns
 * ```
 */
export function cancel(task: Task<unknown>): Cancel {
  checkTask(task, "cancel()");
  return made(new Cancel(task));
}

/**
 * The effect of {@link suspend}; `suspend()` always returns the same one.
 *
 * @example
 * ```ts
 * console.log(suspend() instanceof Suspend, suspend() === suspend()); // true true
 * ```
 */
export class Suspend extends Effect<never> {
  declare readonly type: "suspend";
  override toString(): string {
    return "suspend()";
  }
}
tag(Suspend, "suspend");
const SUSPEND_EFFECT = new Suspend();

/**
 * Wait forever: the task resumes only to be cancelled. Useful at the end of a body whose spawned
 * children do the work, or to keep a resource open until the task is stopped.
 *
 * @example
 * ```ts
 * function* server() {
 *   yield* spawn(acceptLoop());
 *   try {
 *     yield* suspend();
 *   } finally {
 *     console.log("shutting down");
 *   }
 * }
 * ```
 */
export function suspend(): Suspend {
  return made(SUSPEND_EFFECT);
}

/**
 * The effect of {@link cooperate}; `cooperate()` always returns the same one.
 *
 * @example
 * ```ts
 * console.log(cooperate() instanceof Cooperate); // true
 * ```
 */
export class Cooperate extends Effect<void> {
  declare readonly type: "cooperate";
  override toString(): string {
    return "cooperate()";
  }
}
tag(Cooperate, "cooperate");
const COOPERATE_EFFECT = new Cooperate();

/**
 * Let every other ready task run, and the host handle timers and I/O if this time slice is used
 * up, then continue. Put it in long CPU-bound loops so they do not stall the program.
 *
 * @example
 * ```ts
 * function* checksum(data: Uint8Array) {
 *   let sum = 0;
 *   for (let i = 0; i < data.length; i++) {
 *     sum = (sum + data[i]) % 65521;
 *     if (i % 100_000 === 0) yield* cooperate();
 *   }
 *   return sum;
 * }
 * ```
 */
export function cooperate(): Cooperate {
  return made(COOPERATE_EFFECT);
}

/**
 * The effect of {@link self}; `self()` always returns the same one.
 *
 * @example
 * ```ts
 * console.log(self() instanceof Self); // true
 * ```
 */
export class Self extends Effect<Task<unknown>> {
  declare readonly type: "self";
  override toString(): string {
    return "self()";
  }
}
tag(Self, "self");
const SELF_EFFECT = new Self();

/**
 * Return the task running this coroutine.
 *
 * @example
 * ```ts
 * function* worker() {
 *   const me = yield* self();
 *   console.log(`task ${me.id} (${me.name}) starting`);
 * }
 * ```
 */
export function self(): Self {
  return made(SELF_EFFECT);
}

/**
 * The function given to {@link action}: it starts some callback-style work, arranges for
 * `resolve` or `reject` to be called once, and may return a teardown.
 *
 * @example
 * ```ts
 * const onceClicked: Executor<MouseEvent> = (resolve) => {
 *   button.addEventListener("click", resolve, { once: true });
 *   return () => button.removeEventListener("click", resolve);
 * };
 * const event = yield* action(onceClicked);
 * ```
 */
export type Executor<T> = (resolve: (value: T) => void, reject: (error: unknown) => void) => (() => void) | void;

/**
 * The effect of {@link action}: `executor` runs each time the effect is performed.
 *
 * @example
 * ```ts
 * const effect = action<void>((resolve) => void setImmediate(resolve));
 * console.log(effect instanceof Action, typeof effect.executor); // true "function"
 * ```
 */
export class Action<T = unknown> extends Effect<T> {
  declare readonly type: "action";
  constructor(readonly executor: Executor<T>) {
    super();
  }
  override toString(): string {
    return `action(${nameOfFunction(this.executor, "anonymous")})`;
  }
}
tag(Action, "action");

/**
 * The bridge from callback APIs: `executor(resolve, reject)` starts the work and returns a
 * teardown, which runs if the task is cancelled before the work settles (clear the timer, remove
 * the listener, abort the request). Only the first `resolve` or `reject` counts.
 *
 * @throws TypeError at the call site if `executor` is not a function.
 * @example
 * ```ts
 * function delay(ms: number) {
 *   return action<void>((resolve) => {
 *     const id = setTimeout(resolve, ms);
 *     return () => clearTimeout(id);
 *   });
 * }
 * function* main() {
 *   yield* delay(10);
 * }
 * ```
 */
export function action<T>(executor: Executor<T>): Action<T> {
  if (typeof executor !== "function") {
    throw new TypeError(`action() expects an executor function, got ${describe(executor)}`);
  }
  return made(new Action(executor));
}

/**
 * The effect of {@link shield}: `op` is the operation shielded.
 *
 * @example
 * ```ts
 * const effect = shield(sayGoodbye(socket));
 * console.log(effect instanceof Shield, String(effect)); // true "shield(sayGoodbye)"
 * ```
 */
export class Shield<T = unknown> extends Effect<T> {
  declare readonly type: "shield";
  constructor(readonly op: OperationLike<T>) {
    super();
  }
  override toString(): string {
    const op = this.op;
    return `shield(${typeof op === "function" ? nameOfFunction(op, "anonymous") : describe(op)})`;
  }
}
tag(Shield, "shield");

/**
 * Run `op` to its end even if the task is cancelled meanwhile: cleanup that must itself wait
 * (send a goodbye, flush a buffer, wait for a child process to exit). Cancellation is
 * level-triggered: in a cancelled task every wait throws `Cancelled`, so a `finally` that waits
 * needs a shield. Inside one, a cancellation from outside is held until `op` ends; then the
 * task's next wait throws it. A `timeout` inside the shield still works, and so do cancellations
 * of tasks started inside it. `op` runs as a scope, like {@link call}, and the shield returns its
 * result or throws its error. Keep shielded work short and bounded (give it a `timeout`): while
 * it runs, nobody can stop it.
 *
 * @throws TypeError at the call site if `op` is not an operation or a function.
 * @example
 * ```ts
 * function* session(socket: Socket) {
 *   try {
 *     yield* serveClient(socket);
 *   } finally {
 *     // Cancelled or not, say goodbye, but give up after a second.
 *     yield* shield(() => timeout(1000, socket.write("bye\n")));
 *   }
 * }
 * ```
 */
export function shield<T>(op: OperationLike<T>): Shield<T> {
  checkOperation(op, "shield()");
  const effect = new Shield(op);
  noteSite(effect);
  return made(effect);
}

/**
 * The effect of {@link ensure}: `cleanup` is run when the scope ends.
 *
 * @example
 * ```ts
 * const effect = ensure(() => console.log("bye"));
 * console.log(effect instanceof Ensure, String(effect)); // true "ensure(anonymous)"
 * ```
 */
export class Ensure extends Effect<void> {
  declare readonly type: "ensure";
  constructor(readonly cleanup: OperationLike<unknown> | (() => unknown)) {
    super();
  }
  override toString(): string {
    const c = this.cleanup;
    return `ensure(${typeof c === "function" ? nameOfFunction(c, "anonymous") : describe(c)})`;
  }
}
tag(Ensure, "ensure");

/**
 * Run `cleanup` when the current scope ends (the body of the task or `call` you are in, or the
 * caller's, through a native `yield*`), however it ends: returned, failed or cancelled, as Go's
 * `defer`. Cleanups run after the scope's children have finished, last registered first, each
 * to its end: a cancellation does not cut them short (they run shielded). `cleanup` is a
 * function (called then; it may return an operation or a promise, which is waited for) or an
 * operation. If a cleanup fails, the scope fails with its error (or, if it had failed already,
 * the error is reported). Registering never waits, so nothing can come between opening a
 * resource and registering its cleanup; {@link resource} is built on it.
 *
 * @throws TypeError at the call site if `cleanup` is not a function or an operation.
 * @example
 * ```ts
 * function* session(db: Database): Operation<Session> {
 *   const session = yield* call(() => db.connect()); // a promise
 *   yield* ensure(() => session.close()); // when the caller's scope ends, however it ends
 *   return session;
 * }
 * ```
 */
export function ensure(cleanup: OperationLike<unknown> | (() => unknown)): Ensure {
  checkOperation(cleanup, "ensure()");
  return made(new Ensure(cleanup));
}

export { Cancel, Join };

/**
 * Every effect the scheduler knows how to perform; handlers.ts has one handler per `type`.
 *
 * @example
 * ```ts
 * function label(e: AnyEffect): string {
 *   switch (e.type) {
 *     case "sleep": return `sleeping ${e.ms} ms`;
 *     case "join": return `waiting for ${e.task.name}`;
 *     default: return e.type;
 *   }
 * }
 * ```
 */
export type AnyEffect = Sleep | Call | Wait | Fork | Spawn | Join | Cancel | Suspend | Cooperate | Self | Action | Shield | Ensure | Park;
