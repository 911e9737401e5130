// The errors skein throws at you: cancellation, timeouts and deadlocks.
// They are plain Error subclasses so `instanceof` and stack traces work as usual.

/**
 * Thrown into a task, at the `yield` where it is suspended, when the task is cancelled; also
 * what joining a cancelled task throws. It passes through `yield*` and runs every `finally`.
 * Cancellation is level-triggered: every later wait of the cancelled task throws it again, so
 * catching it cannot keep the task alive; rethrow it (cleanup that must wait goes in
 * `shield`). A cancelled task always ends `cancelled`.
 *
 * @example
 * ```ts
 * function* worker() {
 *   try {
 *     yield* sleep(1000);
 *   } catch (e) {
 *     if (isCancelled(e)) console.log("stopped early");
 *     throw e;
 *   }
 * }
 * ```
 */
export class Cancelled extends Error {
  constructor(message = "task was cancelled") {
    // No stack: it would show the scheduler's frames, never the code that asked for the cancel,
    // and capturing it was most of the cost of cancelling a task (a million at once, say).
    const E = Error as { stackTraceLimit?: number }; // V8's; elsewhere this changes nothing
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
    super(message);
    E.stackTraceLimit = limit;
    this.name = "Cancelled";
  }
}

/**
 * Thrown by {@link timeout} once the operation has been cancelled because it ran longer than
 * `ms` milliseconds. `ms` tells which timeout fired when several are nested.
 *
 * @example
 * ```ts
 * try {
 *   yield* timeout(100, sleep(500));
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log(`gave up after ${e.ms} ms`);
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** The limit that was exceeded, in milliseconds. */
  readonly ms: number;
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "TimeoutError";
    this.ms = ms;
  }
}

/**
 * The failure of every root task of a virtual-clock scheduler when all its tasks are blocked
 * and nothing (no timer, no promise) can ever wake them. The message lists each blocked task and
 * what it waits on.
 *
 * @example
 * ```ts
 * const s = createScheduler({ clock: "virtual" });
 * try {
 *   await s.run(function* stuck() { yield* suspend(); });
 * } catch (e) {
 *   if (e instanceof DeadlockError) console.log(e.message);
 * }
 * ```
 */
export class DeadlockError extends Error {
  constructor(report: string) {
    super(`deadlock: every task is blocked and nothing is pending\n${report}`);
    this.name = "DeadlockError";
  }
}

/**
 * Thrown by a send on a closed channel, and into a sender that was waiting when the channel
 * closed.
 *
 * @example
 * ```ts
 * try {
 *   yield* out.send(value);
 * } catch (e) {
 *   if (e instanceof ChannelClosedError) return; // the consumer has gone
 *   throw e;
 * }
 * ```
 */
export class ChannelClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChannelClosedError";
  }
}

/**
 * True when `error` is the {@link Cancelled} error of a cancellation: use it in a `catch` to
 * tell "I was stopped" from "something failed".
 *
 * @example
 * ```ts
 * try {
 *   yield* call(work);
 * } catch (e) {
 *   if (!isCancelled(e)) yield* call(logFailure, e);
 *   throw e;
 * }
 * ```
 */
export function isCancelled(error: unknown): error is Cancelled {
  return error instanceof Cancelled;
}
