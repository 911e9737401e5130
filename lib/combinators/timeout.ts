// timeout(): run an operation with a time limit. An ordinary coroutine: a spawned timer cancels
// the call the operation runs in; if the operation had already finished, its result stands.

import { Effect, type Operation } from "../core/effect.js";
import { call, checkMs, self, Sleep, spawn } from "../core/effects.js";
import { isCancelled, TimeoutError, unstacked } from "../core/errors.js";
import { checkOperation, nameOfFunction, type OperationLike } from "../core/operation.js";
import { giveBack, restorable } from "../core/park.js";
import { isHalted, quiet, type Frame, type Task } from "../core/task.js";
import { runIn } from "./all.js";

/**
 * Run `op`, but give up after `ms` milliseconds: `op` is cancelled, its cleanup finishes, and a
 * {@link TimeoutError} is thrown. Only `op` is cancelled: the caller is not, and carries on. If
 * `op` finished in the same instant (its result was already delivered, a message received, say),
 * the result is returned instead: nothing is lost; the same holds when `op` is in a
 * {@link shield}, which the timeout cannot cut short. Nested timeouts report the one that fired
 * (`error.ms`). `op` runs in the calling task, so `self()` and `receive()` inside it are still you.
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
  const limit = new Sleep(checkMs(ms, "timeout(ms)")); // performed by its timer, in another task
  checkOperation(op, "timeout()");
  const limited = ms === Infinity ? call(op as Operation<T>) : bounded(ms, limit, op);
  // A timeout that loses a race gives back what its operation took.
  return typeof op === "object" ? restorable(limited, (value: T, task: Task) => giveBack(op, value, task)) : limited;
}

function bounded<T>(ms: number, limit: Operation<void>, op: OperationLike<T>): Operation<T> {
  return call(body.timeout<T>, new Limit(ms, limit, op));
}

/** What a timeout was given: shared by every run of it. */
class Limit<T> {
  constructor(
    readonly ms: number,
    readonly limit: Operation<void>,
    readonly op: OperationLike<T>,
  ) {}
}

/** What `op` is, for the TimeoutError: made when the timer fires, not at every `timeout(…)`
 * (an effect's text, `receive(channel#3)`, was a tenth of the cost of a timeout that does not
 * fire), so it says what the operation was then. An effect's `toString` of the user's that throws
 * leaves it unknown (the error says `timed out after … ms`); a function whose name cannot be read,
 * or is not a string, is an anonymous one. */
function what(op: OperationLike<unknown>): string | undefined {
  try {
    if (typeof op === "function") return nameOfFunction(op, "an anonymous function");
    return op instanceof Effect ? String(op) : "an operation";
  } catch {
    return undefined;
  }
}

/** The timer task's name, `timeout(ms)`: made once for timeouts of the same length one after the
 * other (a loop's), not for each. */
function timerName(ms: number): string {
  if (lastMs !== ms) {
    lastName = `timeout(${ms})`;
    lastMs = ms;
  }
  return lastName;
}
var lastMs = -1, lastName = ""; // (`var`: no dead-zone check on each read; see effect.ts)

/** One run of a timeout: its timer fired with this error (the cause of the Cancelled, and what
 * the caller gets). Made per run: a retry or a loop runs one timeout again, and two tasks may run
 * it at once. */
class TimeoutRun {
  fired: TimeoutError | undefined = undefined;
}

/** The body of a timeout, and below the call `op` runs in and the timer: made once, not per
 * timeout (see architecture.md, "Performance notes"). A method, to be named "timeout" beside the
 * function of that name. */
const body = {
  *timeout<T>(b: Limit<T>): Operation<T> {
    const outer = (yield* self()).top;
    const run = new TimeoutRun();
    try {
      return yield* call(limited<T>, b, run);
    } catch (e) {
      // The limited call was cancelled by its timer (not by a cancellation of this task).
      if (run.fired !== undefined && isCancelled(e) && !isHalted(outer)) throw run.fired;
      throw e;
    }
  },
};

function* limited<T>(b: Limit<T>, run: TimeoutRun): Operation<T> {
  const me = yield* self();
  const frame = me.top; // the call `op` runs in: the timer cancels it, and only it
  quiet(yield* spawn(timer(b, run, me, frame), { name: timerName(b.ms) }), b.limit); // its cancel is returned
  return yield* runIn(b.op);
}

function* timer<T>(b: Limit<T>, run: TimeoutRun, me: Task, frame: Frame): Operation<void> {
  yield* b.limit;
  const op = what(b.op);
  run.fired = unstacked(() => new TimeoutError(b.ms, op)); // the timer's frames are skein's own
  me.sched.halt(frame, { because: `timeout(${b.ms}) fired`, cause: run.fired });
}
