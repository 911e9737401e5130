// timeout(): run an operation with a time limit. An ordinary coroutine: a spawned timer fails the
// call with a TimeoutError, which cancels the operation and waits for its cleanup.

import type { Operation } from "./effect.js";
import { call, sleep, spawn } from "./effects.js";
import { TimeoutError } from "./errors.js";
import { checkOperation, type OperationLike } from "./operation.js";

/**
 * Run `op`, but give up after `ms` milliseconds: `op` is cancelled, its cleanup finishes, and a
 * {@link TimeoutError} is thrown. Nested timeouts report the one that fired (`error.ms`).
 * `op` runs in the calling task, so `self()` inside it is still you.
 *
 * @throws TypeError or RangeError at the call site for a bad `ms` or `op`.
 * @example
 * ```ts
 * function* fetchWithLimit() {
 *   try {
 *     return yield* timeout(2000, get("http://127.0.0.1:8080/slow"));
 *   } catch (e) {
 *     if (e instanceof TimeoutError) return "too slow";
 *     throw e;
 *   }
 * }
 * ```
 */
export function timeout<T>(ms: number, op: OperationLike<T>): Operation<T> {
  const timer = sleep(ms); // checks ms
  checkOperation(op, "timeout()");
  return call(function* timeout() {
    if (ms !== Infinity) {
      yield* spawn(function* timer_() {
        yield* timer;
        throw new TimeoutError(ms);
      }, { name: `timeout(${ms})` });
    }
    return yield* call(op as Operation<T>);
  });
}
