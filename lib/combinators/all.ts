// all(): run operations concurrently and collect every result. An ordinary coroutine over the
// primitives: each operation is a fork inside one call, so the first failure cancels the rest.

import type { Operation } from "../core/effect.js";
import { call, fork, join, self } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { checkOperation, describe, type OperationLike, type Result } from "../core/operation.js";
import { giveBack } from "../core/park.js";
import { HALTED, type Task } from "../core/task.js";

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
  values.forEach((op, i) => checkOperation(op, `${where} (at ${list ? i : keys[i]})`));
  return { list, keys, values };
}

/** @internal A child's name: the function's, else its place in the combinator. */
export function nameOf(op: unknown, where: string, key: string): string {
  return typeof op === "function" && op.name !== "" ? op.name : `${where}[${key}]`;
}

/**
 * Run every operation concurrently and return all their results, in the same shape: an array
 * for an array, an object with the same keys for an object. If one fails, the others are
 * cancelled, their cleanup finishes, and `all` throws that first error. Nothing is lost when
 * `all` fails or is cancelled: what its channel `receive()`, semaphore `acquire()` and `select`
 * operations took goes back (the value first in its channel, the permit released).
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
  return call(function* all() {
    const out: Record<string, unknown> = list ? (new Array(values.length) as never) : {};
    const done: boolean[] = [];
    let failed = false;
    const tasks: Task[] = [];
    for (let i = 0; i < values.length; i++) {
      const op = values[i]!;
      tasks.push(
        yield* fork(
          function* member() {
            const value = yield* call(op as Operation<unknown>);
            if (failed) return giveBack(op, value); // all has failed: nothing taken is kept
            out[keys[i]!] = value;
            done[i] = true;
          },
          { name: nameOf(op, "all", keys[i]!) },
        ),
      );
    }
    try {
      for (const t of tasks) yield* join(t);
    } catch (e) {
      failed = true;
      for (let i = 0; i < values.length; i++) if (done[i]) giveBack(values[i], out[keys[i]!]);
      throw e;
    }
    return out;
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
 * started, and it throws `Cancelled`.
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
  return call(function* allSettled() {
    const out: Record<string, unknown> = list ? (new Array(values.length) as never) : {};
    const tasks: Task[] = [];
    for (let i = 0; i < values.length; i++) {
      const op = values[i]!;
      tasks.push(
        yield* fork(
          function* member() {
            try {
              out[keys[i]!] = { status: "fulfilled", value: yield* call(op as Operation<unknown>) };
            } catch (e) {
              if (isCancelled(e) && (yield* self()).top.flags & HALTED) throw e; // allSettled itself is stopped
              out[keys[i]!] = { status: "rejected", reason: e };
            }
          },
          { name: nameOf(op, "allSettled", keys[i]!) },
        ),
      );
    }
    for (const t of tasks) yield* join(t);
    return out;
  });
}
