// The errors skein throws at you: cancellation, timeouts and deadlocks.
// They are plain Error subclasses so `instanceof` and stack traces work as usual; `instanceof`
// also knows the same errors of another copy of skein in the process (see brand.ts).

import { recognise } from "./brand.js";

/**
 * Thrown into a task, at the `yield` where it is suspended, when the task is cancelled; also
 * what joining a cancelled task throws. It passes through `yield*` and runs every `finally`.
 * Cancellation is level-triggered: every later wait of the cancelled task throws it again, so
 * catching it cannot keep the task alive; rethrow it (cleanup that must wait goes in
 * `shield`). A cancelled task always ends `cancelled`. Its message says why (a task failed, a
 * timeout fired, who cancelled it, its scope ended), and its `cause` is the error behind it:
 * the sibling's failure, or the `TimeoutError`.
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
  constructor(message = "task was cancelled", options?: { cause?: unknown }) {
    // No stack: it would show the scheduler's frames, never the code that asked for the cancel,
    // and capturing it was most of the cost of cancelling a task (a million at once, say). (Where
    // `Error` is frozen, it has them: see framesOff.)
    const limit = framesOff();
    try {
      super(message, options);
    } finally {
      framesBack(limit); // (a message whose toString throws must not leave every error frameless)
    }
    this.name = "Cancelled";
  }
}
recognise(Cancelled, Symbol.for("skein.Cancelled"));

/**
 * Thrown by {@link timeout} once the operation has been cancelled because it ran longer than
 * `ms` milliseconds. `ms` tells which timeout fired when several are nested, and the message
 * names the operation it cut short (`operation`, when known).
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
  /** What was cut short: the function's name, or the effect (`receive(channel#3)`), when known. */
  readonly operation: string | undefined;
  constructor(ms: number, operation?: string) {
    super(operation === undefined ? `timed out after ${ms} ms` : `timeout(${ms}) cut short ${operation} after ${ms} ms`);
    this.name = "TimeoutError";
    this.ms = ms;
    this.operation = operation;
  }
}
recognise(TimeoutError, Symbol.for("skein.TimeoutError"));

/** @internal `make()`, with no JavaScript stack captured (where `Error` is frozen, with one: see
 * framesOff): for an error that skein's machinery makes, where every frame is skein's own (a
 * timeout's, made by its alarm in the run loop). Its logical path, added as it leaves a body,
 * says where it struck (see stacks.ts); the capture was half the cost of a timeout that fires. */
export function unstacked<E>(make: () => E): E {
  const limit = framesOff();
  try {
    return make();
  } finally {
    framesBack(limit);
  }
}

/** Errors made from now on capture no frames (V8's `Error.stackTraceLimit`), until `framesBack(`
 * what it returns `)`. Where the limit cannot be read or set (a frozen `Error`: `node
 * --frozen-intrinsics`, a hardened realm; an accessor that refuses) they capture theirs: a cancel
 * or a timeout must not fail with a TypeError for it (every cancel did). */
function framesOff(): number | undefined | typeof UNSET {
  const E = Error as { stackTraceLimit?: number };
  let limit: number | undefined;
  try {
    limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
  } catch {
    return UNSET;
  }
  return limit;
}
function framesBack(limit: number | undefined | typeof UNSET): void {
  if (limit === UNSET) return;
  try {
    (Error as { stackTraceLimit?: number }).stackTraceLimit = limit;
  } catch {
    // A setter of someone's that took 0 and refuses this: nothing of skein's to mend.
  }
}
const UNSET: unique symbol = Symbol("skein.stackTraceLimit.unset");

/**
 * The failure of every root task of a scheduler whose tasks are all blocked when nothing can
 * ever wake them: on the virtual clock, no timer and no promise is pending; on the real clock,
 * the host has nothing left to do (Node is about to exit). The message lists each blocked task
 * and what it waits on.
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
  constructor(report: string, why = "every task is blocked and nothing is pending") {
    super(`deadlock: ${why}\n${report}`);
    this.name = "DeadlockError";
  }
}
recognise(DeadlockError, Symbol.for("skein.DeadlockError"));

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
recognise(ChannelClosedError, Symbol.for("skein.ChannelClosedError"));

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
  try {
    return error instanceof Cancelled;
  } catch {
    return false; // a revoked Proxy thrown as an error: not a Cancelled, and no reason to crash
  }
}
