// timeout(): run an operation with a time limit. An ordinary coroutine and an alarm: at the
// deadline the scheduler cancels the call the operation runs in; if the operation had already
// finished, its result stands.

import { Effect, type Operation } from "../core/effect.js";
import { call, checkMs, self } from "../core/effects.js";
import { isCancelled, TimeoutError, unstacked } from "../core/errors.js";
import { checkOperation, nameOfFunction, type OperationLike } from "../core/operation.js";
import { giveBack, restorable } from "../core/park.js";
import { type CallFrame, isHalted, type Task } from "../core/task.js";
import { Alarm } from "../core/timers.js";
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
  checkMs(ms, "timeout(ms)");
  checkOperation(op, "timeout()");
  const limited = ms === Infinity ? call(op as Operation<T>) : call(body.timeout<T>, new Limit(ms, op));
  // A timeout that loses a race gives back what its operation took.
  return typeof op === "object" ? restorable(limited, (value: T, task: Task) => giveBack(op, value, task)) : limited;
}

/** What a timeout was given: shared by every run of it. */
class Limit<T> {
  constructor(
    readonly ms: number,
    readonly op: OperationLike<T>,
  ) {}
}

/** What `op` is, for the TimeoutError: made when the alarm rings, not at every `timeout(…)`
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

/** One run of a timeout, and its alarm: at the deadline it cancels the call `op` runs in (and
 * only it), with the error the caller gets as the Cancelled's cause. Made per run: a retry or a
 * loop runs one timeout again, and two tasks may run it at once. */
class TimeoutRun<T> extends Alarm {
  fired: TimeoutError | undefined = undefined;
  /** When it rang, on the scheduler's clock. */
  rangAt = 0;
  /** It rang before anything else had cancelled `op`'s call (the task's cancel, an outer timeout). */
  cut = false;
  constructor(
    readonly limit: Limit<T>,
    /** The call `op` runs in: the timeout's own. */
    readonly frame: CallFrame,
  ) {
    super();
  }
  ring(): void {
    const { ms, op } = this.limit;
    const name = what(op);
    this.fired = unstacked(() => new TimeoutError(ms, name)); // made in the run loop: no frames of the user's
    const sched = this.frame.task.sched;
    this.rangAt = sched.now();
    this.cut = !isHalted(this.frame);
    sched.halt(this.frame, { because: `timeout(${ms}) fired`, cause: this.fired });
  }
  limits(): CallFrame {
    return this.frame;
  }
  override toString(): string {
    return `timeout(${this.limit.ms})`;
  }
}

/** `error` leaves the timeout of `run`, whose limit has rung: if it is the limit's TimeoutError, or
 * was caused by it (its `cause` chain holds it: the Cancelled the limit sent, an error of the
 * operation's own made from that), the scheduler's observer is told that the limit cut its task
 * short, with when it rang. So not for a result that stood, an error of the operation's own, a
 * cancel of the task or an outer timeout that reached the operation first (found by reviews:
 * told at the ring, or for any error after it, it was told for limits that had cut nothing short;
 * told only for the TimeoutError, not for an error the operation made from the Cancelled). */
function leaving(run: TimeoutRun<unknown>, error: unknown): unknown {
  if (run.frame.task.sched.observer === undefined) return error; // (no `cause` of the user's read for no one)
  try {
    let e = error;
    for (let i = 0; i < 16 && typeof e === "object" && e !== null; i++, e = (e as { cause?: unknown }).cause) {
      if (e === run.fired) {
        run.frame.task.sched.timedOut(run, run.rangAt);
        break;
      }
    }
  } catch {
    // A `cause` getter that throws: nothing an error does may change what the caller gets.
  }
  return error;
}

/** The body of a timeout, the call `op` runs in: made once, not per timeout (see architecture.md,
 * "Performance notes"). A method, to be named "timeout" beside the function of that name. */
const body = {
  *timeout<T>(b: Limit<T>): Operation<T> {
    const frame = (yield* self()).top as CallFrame; // this call: the alarm cancels it, and only it
    const run = new TimeoutRun(b, frame);
    const sched = frame.task.sched;
    sched.setAlarm(run, b.ms);
    let settled = false; // `op` returned, or threw into the catch below
    try {
      const value = yield* runIn(b.op);
      settled = true;
      return value;
    } catch (e) {
      settled = true;
      if (run.fired === undefined) throw e;
      // Cancelled by the alarm, not by a cancellation of the caller: the call ends with the
      // TimeoutError (the Cancelled's cause) for the caller to catch.
      throw leaving(run, isCancelled(e) && !isHalted(frame.caller) ? run.fired : e);
    } finally {
      sched.clearAlarm(run);
      // Stopped, the catch skipped: `op` swallowed the alarm's Cancelled until the scheduler
      // stopped it, and the stop passed on into this call, which the alarm halted too. The
      // caller, not cancelled, still gets the TimeoutError (spec: "…swallows every Cancelled…").
      if (!settled && run.fired !== undefined) {
        if (!isHalted(frame.caller)) throw leaving(run, run.fired);
        // The caller was cancelled since, and no error leaves a stop: the limit, which reached
        // `op` first, is told here (found by review).
        if (run.cut) sched.timedOut(run, run.rangAt);
      }
    }
  },
};
