// resource(): open something, hand it out, and close it when the scope that asked for it ends.
// An ordinary operation over `ensure`; streams and every handle of skein/node are resources.

import type { Operation } from "../core/effect.js";
import { ensure, wait } from "../core/effects.js";
import { current, type Task } from "../core/task.js";
import { checkOperation, describe, isOperation, isThenable, reusable, type OperationLike, type Returned } from "../core/operation.js";

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
 * A promise cannot be cancelled: if the caller is cancelled while `open`'s promise is pending,
 * the resource it gives later is closed as soon as it arrives (a failing close is reported).
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
  return reusable(() => acquire(open as OperationLike<unknown>, close));
}

function* acquire(open: OperationLike<unknown> | (() => unknown), close: (resource: unknown) => unknown): Operation<unknown> {
  const opening = typeof open === "function" ? open() : open;
  // Delegated, not called: what the opening spawns belongs to the caller's scope too.
  const it = isOperation(opening) ? yield* opening : isThenable(opening) ? yield* opened(opening, close) : opening;
  yield* ensure(() => close(it));
  return it;
}

/** Wait for a promised resource. If the wait is cancelled, the promise cannot be: what it gives
 * later is closed then, in a task of its own (a failing close is reported). */
function* opened(promise: PromiseLike<unknown>, close: (resource: unknown) => unknown): Operation<unknown> {
  const task = current.task!;
  let taken = false;
  try {
    const it = yield* wait(promise);
    taken = true;
    return it;
  } finally {
    if (!taken) promise.then((late) => closeLate(task, late, close), () => {}); // failed to open: nothing to close
  }
}

function closeLate(task: Task, late: unknown, close: (resource: unknown) => unknown): void {
  const closing = task.sched.run(function* closeLate() {
    const c = close(late);
    if (isOperation(c)) yield* c;
    else if (isThenable(c)) yield* wait(c);
  });
  closing.then(undefined, (e) => task.sched.report(e, closing, `the close of a resource that task ${task} opened after it was cancelled`));
}
