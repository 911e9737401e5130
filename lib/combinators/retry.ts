// retry(): run an operation again when it fails, with exponential backoff and jitter, a limit on
// attempts and on total time, and a predicate for the errors worth another try. Never retries a
// cancellation; the waits between attempts are ordinary, cancellable sleeps.

import { used, type Operation } from "../core/effect.js";
import { call, self, sleep } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { describe, isOperation, type Returned } from "../core/operation.js";
import { isGenerator } from "../core/scheduler.js";
import type { Task } from "../core/task.js";
import { timeout } from "./timeout.js";

/**
 * How {@link retry} retries. The wait after attempt `n` fails is `initial × factor^(n−1)`,
 * capped at `max`, then jittered.
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = { attempts: 5, initial: 200, max: 5000, deadline: 30_000, retryIf: (e) => !(e instanceof TypeError) };
 * ```
 */
export interface RetryPolicy {
  /** Attempts in all, the first included: a whole number >= 1, or Infinity (default 3). */
  attempts?: number;
  /** The wait after the first failure, in ms (default 100). */
  initial?: number;
  /** How much longer each wait is than the one before (default 2). */
  factor?: number;
  /** The longest wait, in ms (default 10,000). */
  max?: number;
  /** `"full"` (the default) waits a random time up to the computed one, `"equal"` at least half of
   * it, `"none"` exactly it. Random waits keep many clients from retrying in step. */
  jitter?: "full" | "equal" | "none";
  /** Give up once this many ms have passed since the first attempt: an attempt still running
   * then is cancelled (a `TimeoutError`), and no wait runs past it (the last error is thrown). */
  deadline?: number;
  /** Whether `error`, from attempt number `attempt`, is worth another try (default: every error
   * but a cancellation). */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, with the error, the attempt that failed and the wait in ms: for
   * logs and counters. */
  onRetry?: (error: unknown, attempt: number, delay: number) => void;
}

/**
 * Run `op`, and run it again while it fails, waiting longer each time (exponential backoff with
 * jitter), up to `attempts` attempts and `deadline` ms in all. `op` is called for each attempt
 * with the attempt's number (1 for the first), and may return an operation, a promise or a value;
 * each attempt runs as a scope of its own (what it starts is finished before the next). The last
 * error is thrown when the attempts run out or `retryIf` declines it. A cancellation is never
 * retried (nor is a `Cancelled` from a task the attempt joined), and cancelling the task stops a
 * wait between attempts at once. A `retryIf` or `onRetry` that throws ends the retries with its
 * error, and the attempt's error is reported to the scheduler's `onError`.
 *
 * @throws TypeError/RangeError at the call site for a bad `op` or policy (a generator object can
 * run only once: pass a function that starts each attempt).
 * @example
 * ```ts
 * function* fetchPage(url: string) {
 *   return yield* retry(
 *     (attempt) => timeout(2000, get(url, { headers: { "x-attempt": String(attempt) } })),
 *     { attempts: 4, initial: 100, retryIf: (e) => !(e instanceof TypeError) },
 *   );
 * }
 * ```
 */
export function retry<R>(op: (attempt: number) => R, policy?: RetryPolicy): Operation<Returned<R>>;
export function retry<T>(op: Operation<T>, policy?: RetryPolicy): Operation<T>;
export function retry(op: unknown, policy: RetryPolicy = {}): Operation<unknown> {
  if (typeof op !== "function" && !isOperation(op)) {
    throw new TypeError(`retry() expects a function that starts each attempt, got ${describe(op)}`);
  }
  if (isGenerator(op)) {
    throw new TypeError("retry() got a generator object, which can run only once (an iterator made on one too): pass a function that starts each attempt, as retry(() => fetchPage(url))");
  }
  const p = checkPolicy(policy);
  used(op); // handed to retry: not forgotten
  const attempt = typeof op === "function" ? (op as (n: number) => unknown) : () => op;
  return call(body.retry, attempt, p);
}

type Policy = Required<Omit<RetryPolicy, "onRetry">> & Pick<RetryPolicy, "onRetry">;

/** The body of retry: a method, to be named as the function users call; made once, not per call
 * (see architecture.md, "Performance notes"). */
const body = {
  *retry(attempt: (n: number) => unknown, p: Policy): Operation<unknown> {
    const me = yield* self();
    const sched = me.sched;
    const until = sched.now() + p.deadline;
    for (let n = 1; ; n++) {
      try {
        const run = call(attempt, n) as Operation<unknown>;
        return yield* (p.deadline === Infinity ? run : timeout(Math.max(0, until - sched.now()), run));
      } catch (e) {
        if (isCancelled(e) || n >= p.attempts || sched.now() >= until || !hook(me, "retryIf", e, n, () => p.retryIf(e, n))) throw e;
        const ceiling = Math.min(p.max, p.initial * p.factor ** (n - 1));
        const r = sched.clock.random();
        const delay = p.jitter === "none" ? ceiling : p.jitter === "equal" ? ceiling / 2 + (r * ceiling) / 2 : r * ceiling;
        if (sched.now() + delay >= until) throw e; // the deadline would pass while waiting
        if (p.onRetry !== undefined) hook(me, "onRetry", e, n, () => p.onRetry!(e, n, delay));
        yield* sleep(delay);
      }
    }
  },
};

/** Call a hook of the policy: one that throws ends the retries with its error, and the attempt's
 * error is reported. */
function hook<R>(me: Task, name: string, e: unknown, n: number, f: () => R): R {
  try {
    return f();
  } catch (hookError) {
    me.sched.report(e, me, `retry(): the error of attempt ${n}, not retried because ${name} threw`);
    throw hookError;
  }
}

function checkPolicy(policy: RetryPolicy): Policy {
  if (typeof policy !== "object" || policy === null) throw new TypeError(`retry() expects a policy object, got ${describe(policy)}`);
  const { attempts = 3, initial = 100, factor = 2, max = 10_000, jitter = "full", deadline = Infinity, retryIf = () => true, onRetry } = policy;
  const whole = (v: number) => v === Infinity || Number.isInteger(v);
  if (typeof attempts !== "number" || !(attempts >= 1) || !whole(attempts)) {
    throw new RangeError(`retry() expects attempts to be a whole number >= 1 (or Infinity), got ${describe(attempts)}`);
  }
  for (const [name, v, least] of [["initial", initial, 0], ["factor", factor, 1], ["max", max, 0]] as const) {
    if (typeof v !== "number" || !(v >= least) || v === Infinity) throw new RangeError(`retry() expects ${name} to be a number >= ${least}, got ${describe(v)}`);
  }
  if (typeof deadline !== "number" || !(deadline > 0)) throw new RangeError(`retry() expects deadline to be a number of ms > 0, got ${describe(deadline)}`);
  if (jitter !== "full" && jitter !== "equal" && jitter !== "none") {
    throw new TypeError(`retry() expects jitter "full", "equal" or "none", got ${describe(jitter)}`);
  }
  if (typeof retryIf !== "function") throw new TypeError(`retry() expects retryIf to be a function, got ${describe(retryIf)}`);
  if (onRetry !== undefined && typeof onRetry !== "function") throw new TypeError(`retry() expects onRetry to be a function, got ${describe(onRetry)}`);
  return { attempts, initial, factor, max, jitter, deadline, retryIf, onRetry };
}
