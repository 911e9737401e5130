// race(): run operations concurrently; the first to settle wins and the rest are cancelled.
// An ordinary coroutine: contestants are spawned in one call, which cancels the losers on return.

import type { Operation } from "./effect.js";
import { action, call, self, spawn } from "./effects.js";
import { isCancelled } from "./errors.js";
import type { OperationLike, Result } from "./operation.js";
import { entries, nameOf } from "./all.js";

/**
 * Run the operations concurrently; the first one to settle decides: its value is returned, or
 * its error thrown. The others are cancelled and have finished their cleanup (`finally` blocks,
 * yielded cleanup included) before `race` returns or throws; an error a loser raises after the
 * decision goes to the scheduler's `onError`. Given an object, the result is an object with only
 * the winner's key.
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
    let decided = false;
    let winner: { value: unknown } | undefined;
    let wake: ((value: unknown) => void) | undefined;
    for (let i = 0; i < values.length; i++) {
      const key = keys[i]!;
      const op = values[i]!;
      yield* spawn(
        function* contestant() {
          try {
            const value = yield* call(op as Operation<unknown>);
            if (decided) return;
            decided = true;
            winner = { value: list ? value : { [key]: value } };
            wake?.(winner.value);
          } catch (e) {
            if (!decided) {
              decided = true;
              throw e; // the first to settle failed: the race fails with it
            }
            if (!isCancelled(e)) {
              const me = yield* self();
              me.sched.report(e, me); // settled after the decision: reported, never dropped
            }
          }
        },
        { name: nameOf(op, "race", key) },
      );
    }
    // A contestant may have won already (if this body was preempted after spawning).
    return yield* action((resolve) => {
      if (winner !== undefined) resolve(winner.value);
      else wake = resolve;
    });
  });
}
