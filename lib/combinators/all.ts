// all() and allSettled(): run operations concurrently and collect every result, or every
// outcome. Ordinary coroutines over the primitives: each operation is a fork inside one call, so
// (for all) the first failure cancels the rest, and what the others took is given back.

import { isDirect, type Operation } from "../core/effect.js";
import { call, ensure, fork, join, self } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { checkOperation, describe, type OperationLike, type Result } from "../core/operation.js";
import { giveBack, restorable, restores } from "../core/park.js";
import { type Frame, helper, isHalted, quiet, type Task } from "../core/task.js";

/** @internal Check a list or record of operations; return its entries and whether it is a list. */
export function entries(
  ops: unknown,
  where: string,
): { list: boolean; keys: string[]; values: OperationLike<unknown>[] } {
  const list = Array.isArray(ops);
  if (!list && (typeof ops !== "object" || ops === null)) {
    throw new TypeError(`${where} expects an array or an object of operations, got ${describe(ops)}`);
  }
  const keys = Object.keys(ops as object);
  const values = keys.map((k) => (ops as Record<string, OperationLike<unknown>>)[k]!);
  for (let i = 0; i < values.length; i++) checkOperation(values[i], where, list ? i : keys[i]);
  return { list, keys, values };
}

/** The names of the first places in a list, per combinator (`all[0]`…), made once. */
const placeNames = new Map<string, string[]>();

/** @internal A child's name: the function's, else its place in the combinator (`key`; `i` is its
 * position in a list, whose first names are made once: a sparse list's, or a property that is not
 * an index, is named by its key). */
export function nameOf(op: unknown, where: string, key: string, i = -1): string {
  if (typeof op === "function" && typeof op.name === "string" && op.name !== "") return op.name;
  if (i < 0 || i >= 64 || key !== String(i)) return `${where}[${key}]`;
  let names = placeNames.get(where);
  if (names === undefined) placeNames.set(where, (names = []));
  return (names[i] ??= `${where}[${i}]`);
}

/** @internal Run `op` in the running body, for a combinator's helper task: a plain wait of
 * skein's (a call, sleep, wait, join, channel send or receive, mailbox receive, semaphore
 * acquire, mutex lock, signal wait) directly (`yield* op`; see `direct`), anything else
 * in a call, which gives it a scope of its own: what a fork, spawn or ensure starts, and an error
 * from leaving a wait (an action's teardown, a Park of the user's), stay in it, where the
 * helper's body can see them (a contestant reports a loser's error, allSettled records it). The
 * call cost an `all` of two calls ~4,600 instructions. */
export function runIn<T>(op: OperationLike<T>): Operation<T> {
  return isDirect(op) ? (op as Operation<T>) : call(op as Operation<T>);
}

/** @internal What operations took for `task`, in the order they took it, so that it can be
 * given back, the latest taken first (so a channel gets its values back in their order). */
export class Takings {
  private readonly list: Array<[op: unknown, value: unknown]> = [];
  constructor(private readonly task: Task) {}

  add(op: unknown, value: unknown, first = false): void {
    if (!restores(op)) return; // it would give back nothing
    if (first) this.list.unshift([op, value]);
    else this.list.push([op, value]);
  }

  giveBack(): void {
    for (let i = this.list.length - 1; i >= 0; i--) giveBack(this.list[i]![0], this.list[i]![1], this.task);
    this.list.length = 0;
  }
}

/**
 * Run every operation concurrently and return all their results, in the same shape: an array
 * for an array, an object with the same keys for an object. If one fails, the others are
 * cancelled, their cleanup finishes, and `all` throws that first error. Nothing is lost when
 * `all` fails or is cancelled: what its channel `receive()`, `acquire()`, `lock()`, mailbox
 * `receive()` and `select` operations took goes back (the values first in line, in their order;
 * the permits released). The operations run in helper tasks, but `receive()` in one reads your
 * mailbox.
 *
 * @throws TypeError at the call site unless given an array or object of operations.
 * @example
 * ```ts
 * function* page() {
 *   const [user, posts] = yield* all([getUser(1), getPosts(1)]);
 *   const { a, b } = yield* all({ a: get("/a"), b: get("/b") });
 * }
 * ```
 */
export function all<const T extends readonly OperationLike<unknown>[]>(
  ops: T,
): Operation<{ -readonly [K in keyof T]: Result<T[K]> }>;
export function all<T extends Record<string, OperationLike<unknown>>>(ops: T): Operation<{ [K in keyof T]: Result<T[K]> }>;
export function all(ops: unknown): Operation<unknown> {
  const { list, keys, values } = entries(ops, "all()");
  const op = call(bodies.all, list, { keys, values });
  // An all that loses a race gives back what each of its operations took, the last first.
  return restorable(op, (result: Record<string, unknown>, task: Task) => {
    for (let i = values.length - 1; i >= 0; i--) giveBack(values[i], result[keys[i]!], task);
  });
}

/**
 * The outcome of one operation, as {@link allSettled} and `map(…, { settle: true })` collect them:
 * the shape of `Promise.allSettled`'s results.
 *
 * @example
 * ```ts
 * function describe(s: Settled<string>): string {
 *   return s.status === "fulfilled" ? s.value : `failed: ${String(s.reason)}`;
 * }
 * ```
 */
export type Settled<T> = { status: "fulfilled"; value: T } | { status: "rejected"; reason: unknown };

/**
 * Run every operation concurrently and return every outcome, in the same shape as given: an
 * array for an array, an object with the same keys for an object. A failure does not stop the
 * others; each is recorded as `{ status: "rejected", reason }`, each value as
 * `{ status: "fulfilled", value }`. If `allSettled` itself is cancelled, so is everything it
 * started (what they took goes back, as with {@link all}), and it throws `Cancelled`.
 *
 * @throws TypeError at the call site unless given an array or object of operations.
 * @example
 * ```ts
 * function* health() {
 *   const checks = yield* allSettled({ db: pingDb(), cache: pingCache() });
 *   if (checks.db.status === "rejected") console.error("db down:", checks.db.reason);
 * }
 * ```
 */
export function allSettled<const T extends readonly OperationLike<unknown>[]>(
  ops: T,
): Operation<{ -readonly [K in keyof T]: Settled<Result<T[K]>> }>;
export function allSettled<T extends Record<string, OperationLike<unknown>>>(ops: T): Operation<{ [K in keyof T]: Settled<Result<T[K]>> }>;
export function allSettled(ops: unknown): Operation<unknown> {
  const { list, keys, values } = entries(ops, "allSettled()");
  return call(bodies.allSettled, list, { keys, values });
}

/** Wait for member `t` of the combinator whose scope is `frame`. A member cancelled on its own
 * (it cancelled itself) has its outcome recorded already: only a cancellation of the combinator
 * itself goes on. @internal */
export function* settled(t: Task, frame: Frame): Operation<void> {
  try {
    yield* join(t);
  } catch (e) {
    if (!isCancelled(e) || isHalted(frame)) throw e;
  }
}

/** The bodies of `all` and `allSettled`, and below their members': made once, not per call and
 * per member (see architecture.md, "Performance notes"). Methods, to be named as the functions. */
const bodies = {
  *all(list: boolean, e: { keys: string[]; values: OperationLike<unknown>[] }): Operation<unknown> {
    const { keys, values } = e;
    const me = yield* self();
    const out: Record<string, unknown> = list ? (new Array(values.length) as never) : {};
    const taken = new Takings(me);
    let failed = false;
    // Once every member has ended (registered only if one of them can give back: a cleanup runs
    // as a call, ~1,800 instructions an all of two calls).
    if (values.some(restores)) yield* ensure(() => void (failed && taken.giveBack()));
    const tasks: Task[] = [];
    for (let i = 0; i < values.length; i++) {
      const op = values[i]!;
      // A member waiting on an effect of skein's itself is cancelled quietly (see QUIET).
      tasks.push(quiet(helper(yield* fork(member(op, keys[i]!, out, taken), { name: nameOf(op, "all", keys[i]!, list ? i : -1) })), op));
    }
    try {
      for (const t of tasks) yield* join(t);
    } catch (e) {
      failed = true; // failed or cancelled: nothing taken is kept
      throw e;
    }
    return out;
  },
  *allSettled(list: boolean, e: { keys: string[]; values: OperationLike<unknown>[] }): Operation<unknown> {
    const { keys, values } = e;
    const me = yield* self();
    const frame = me.top; // allSettled's own scope: cancelled, it stops; a member cancelled alone is an outcome
    const out: Record<string, unknown> = list ? (new Array(values.length) as never) : {};
    const taken = new Takings(me);
    let cancelled = false;
    if (values.some(restores)) yield* ensure(() => void (cancelled && taken.giveBack()));
    const tasks: Task[] = [];
    for (let i = 0; i < values.length; i++) {
      const op = values[i]!;
      tasks.push(helper(yield* fork(settleMember(op, keys[i]!, out, taken, frame), { name: nameOf(op, "allSettled", keys[i]!, list ? i : -1) })));
    }
    try {
      for (const t of tasks) yield* settled(t, frame);
    } catch (e) {
      cancelled = true;
      throw e;
    }
    return out;
  },
};

/** A member of `all`: run `op`, keep its value under `key`. */
function* member(op: OperationLike<unknown>, key: string, out: Record<string, unknown>, taken: Takings): Operation<void> {
  const value = yield* runIn(op);
  out[key] = value;
  taken.add(op, value);
}

/** A member of `allSettled`: run `op`, keep its outcome under `key`. */
function* settleMember(op: OperationLike<unknown>, key: string, out: Record<string, unknown>, taken: Takings, frame: Frame): Operation<void> {
  try {
    const value = yield* runIn(op);
    out[key] = { status: "fulfilled", value };
    taken.add(op, value);
  } catch (e) {
    if (isCancelled(e) && isHalted(frame)) throw e; // allSettled itself is stopped
    out[key] = { status: "rejected", reason: e };
  }
}
