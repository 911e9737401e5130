// rateLimiter(): at most `count` starts in any window of `per` milliseconds; takers wait their
// turn in order. A sliding window over the last `count` start times.

import { Deque } from "../core/deque.js";
import type { Operation } from "../core/effect.js";
import { self, sleep } from "../core/effects.js";
import { describe } from "../core/operation.js";
import { mutex } from "./mutex.js";

/**
 * A limit on how often work may start, shared by every task that takes from it.
 *
 * @example
 * ```ts
 * const api = rateLimiter(10, 1000); // ten calls a second
 * function* fetchUser(id: number) {
 *   yield* api.take();
 *   return yield* get(`/users/${id}`);
 * }
 * ```
 */
export interface RateLimiter {
  /** Wait until a start is allowed, and count this one. */
  take(): Operation<void>;
}

/**
 * Make a rate limiter: at most `count` calls of `take()` return within any `per` ms; the others
 * wait, first come first served. Time is the scheduler's clock (virtual in tests).
 *
 * @throws RangeError unless `count` is a whole number >= 1 and `per` a number > 0.
 * @example
 * ```ts
 * const limit = rateLimiter(100, 60_000); // a hundred a minute
 * yield* map(ids, function* (id) { yield* limit.take(); return yield* fetchUser(id); }, { concurrency: 10 });
 * ```
 */
export function rateLimiter(count: number, per: number): RateLimiter {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`rateLimiter(count) expects a whole number >= 1, got ${describe(count)}`);
  if (typeof per !== "number" || !(per > 0)) throw new RangeError(`rateLimiter(count, per) expects per > 0 milliseconds, got ${describe(per)}`);
  const starts = new Deque<number>();
  const turn = mutex(); // takers queue here, so they start in order
  return {
    take: () =>
      turn.withLock(function* take() {
        const sched = (yield* self()).sched;
        if (starts.size === count) {
          // Wait for the oldest start to leave the window; only then is it dropped (a taker
          // cancelled while it waits leaves the window as it was).
          const wait = starts.peek()! + per - sched.now();
          if (wait > 0) yield* sleep(wait);
          starts.shift();
        }
        starts.push(sched.now());
      }),
  };
}
