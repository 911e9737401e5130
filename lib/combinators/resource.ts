// resource(): open something, hand it out, and close it when the scope that asked for it ends.
// An ordinary operation over `ensure`; streams and every handle of skein/node are resources.

import type { Operation } from "../core/effect.js";
import { ensure, wait } from "../core/effects.js";
import { checkOperation, describe, isOperation, isThenable, type OperationLike, type Returned } from "../core/operation.js";

/**
 * Open a resource and tie it to the caller's scope: `open` runs (an operation, or a function
 * returning an operation, a promise or the resource itself), and `close(resource)` is registered
 * at once to run when the scope that delegated to `resource` ends, however it ends: after the
 * scope's children have finished, shielded from cancellation, resources opened later closed
 * first. Nothing can come between the opening and the registration, so a resource is never left
 * open. Call it with `yield*` from the operation your user delegates to, so that the scope is
 * theirs; inside a `call` (or `timeout`, `all`…) the resource closes when that call ends.
 * `close` may return an operation or a promise, which is waited for; if it fails, the scope fails
 * with its error. Children that `open` spawns belong to the same scope (a heartbeat, a reader).
 *
 * @throws TypeError at the call site unless `open` is an operation or a function and `close` a
 * function.
 * @example
 * ```ts
 * function connectDb(url: string): Operation<Db> {
 *   return resource(() => Db.connect(url), (db) => db.close());
 * }
 * function* report() {
 *   const db = yield* connectDb("postgres://127.0.0.1/app");
 *   return yield* call(() => db.query("select 1")); // db is closed when report() ends
 * }
 * ```
 */
export function resource<T>(open: Operation<T>, close: (resource: T) => unknown): Operation<T>;
export function resource<R>(open: () => R, close: (resource: Returned<R>) => unknown): Operation<Returned<R>>;
export function resource(open: unknown, close: (resource: unknown) => unknown): Operation<unknown> {
  checkOperation(open, "resource()");
  if (typeof close !== "function") throw new TypeError(`resource() expects a close function, got ${describe(close)}`);
  return acquire(open as OperationLike<unknown>, close);
}

function* acquire(open: OperationLike<unknown> | (() => unknown), close: (resource: unknown) => unknown): Operation<unknown> {
  const opening = typeof open === "function" ? open() : open;
  // Delegated, not called: what the opening spawns belongs to the caller's scope too.
  const it = isOperation(opening) ? yield* opening : isThenable(opening) ? yield* wait(opening) : opening;
  yield* ensure(() => close(it));
  return it;
}
