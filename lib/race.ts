// race(): run operations concurrently; the first to settle wins and the rest are cancelled.
// An ordinary coroutine: contestants are spawned in one call, which cancels the losers on return.

import type { Operation } from "./effect.js";
import { action, call, spawn } from "./effects.js";
import type { OperationLike, Result } from "./operation.js";
import { entries, nameOf } from "./all.js";

/**
 * Run the operations concurrently; the first one to settle decides: its value is returned, or
 * its error thrown. The others are cancelled and have finished their cleanup (`finally` blocks,
 * yielded cleanup included) before `race` returns or throws. Given an object, the result is an
 * object with only the winner's key.
 *
 * @throws TypeError unless given an array or object of operations; RangeError if it is empty.
 * @example
 * ```ts
 * function* fastest() {
 *   const body = yield* race([get("http://127.0.0.1:8080/a"), get("http://127.0.0.1:8081/a")]);
 *   const r = yield* race({ data: get("/slow"), late: sleep(100) });
 *   if ("late" in r) console.log("gave up waiting");
 * }
 * ```
 */
export function race<const T extends readonly OperationLike<unknown>[]>(ops: T): Operation<Result<T[number]>>;
export function race<T extends Record<string, OperationLike<unknown>>>(
  ops: T,
): Operation<{ [K in keyof T]: { [P in K]: Result<T[K]> } }[keyof T]>;
export function race(ops: unknown): Operation<unknown> {
  const { list, keys, values } = entries(ops, "race()");
  if (values.length === 0) throw new RangeError("race() needs at least one operation");
  return call(function* race() {
    let win!: (value: unknown) => void;
    const first = action((resolve) => {
      win = resolve; // set before any contestant runs: they start when this body suspends
    });
    for (let i = 0; i < values.length; i++) {
      const key = keys[i]!;
      const op = values[i]!;
      yield* spawn(
        function* contestant() {
          const value = yield* call(op as Operation<unknown>);
          win(list ? value : { [key]: value });
        },
        { name: nameOf(op, "race", key) },
      );
    }
    return yield* first;
  });
}
