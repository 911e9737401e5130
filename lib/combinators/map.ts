// map(): run an operation over every item of a list or async iterable, at most n at a time;
// results in input order, and the first failure cancels the rest (they are forks of one call).

import type { Operation } from "../core/effect.js";
import { call, fork } from "../core/effects.js";
import { describe } from "../core/operation.js";
import { semaphore } from "../sync/semaphore.js";
import { stream } from "../sync/stream.js";
import { waitGroup } from "../sync/wait-group.js";

/**
 * Options of {@link map}.
 *
 * @example
 * ```ts
 * const pages = yield* map(urls, get, { concurrency: 10 });
 * ```
 */
export interface MapOptions {
  /** How many items are processed at once, at most (default: all of them). */
  concurrency?: number;
}

/**
 * Apply `fn` to every item, with at most `concurrency` applications in flight, and return the
 * results in input order. `items` may be any iterable or async iterable (a stream of work is
 * pulled only as capacity frees). The first failure cancels every application still running,
 * waits for their cleanup, and is thrown. `fn` may return an operation, a promise or a value.
 *
 * @throws TypeError/RangeError at the call for bad arguments.
 * @example
 * ```ts
 * function* crawl(urls: string[]) {
 *   return yield* map(urls, (url) => timeout(5000, get(url)), { concurrency: 10 });
 * }
 * ```
 */
export function map<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T, index: number) => Operation<R> | PromiseLike<R> | R,
  options: MapOptions = {},
): Operation<Awaited<R extends Operation<infer U> ? U : R>[]> {
  const concurrency = options.concurrency ?? Infinity;
  if (!(concurrency >= 1) || (concurrency !== Infinity && !Number.isInteger(concurrency))) {
    throw new RangeError(`map() expects concurrency to be a whole number >= 1 (or Infinity), got ${describe(concurrency)}`);
  }
  if (typeof fn !== "function") throw new TypeError(`map() expects a function to apply, got ${describe(fn)}`);
  const asynchronous = typeof (items as AsyncIterable<T> | null)?.[Symbol.asyncIterator] === "function";
  if (!asynchronous && typeof (items as Iterable<T> | null)?.[Symbol.iterator] !== "function") {
    throw new TypeError(`map() expects an iterable or async iterable of items, got ${describe(items)}`);
  }
  type Out = Awaited<R extends Operation<infer U> ? U : R>;
  return call(function* map() {
    const results: Out[] = [];
    const slots = concurrency === Infinity ? undefined : semaphore(concurrency);
    let index = 0;
    const running = waitGroup();
    function* apply(item: T, i: number) {
      try {
        results[i] = (yield* call(fn as (item: T, index: number) => Operation<Out>, item, i)) as Out;
      } finally {
        slots?.release();
        running.done();
      }
    }
    // The factory passed to fork runs at the child's first step: bind item and index now.
    const start = (item: T) => {
      const i = index++;
      running.add();
      return fork(() => apply(item, i), { name: `map[${i}]` });
    };
    if (asynchronous) {
      const source = yield* stream(items as AsyncIterable<T & ({} | null)>); // pulled one at a time
      for (let item = yield* source.receive(); item !== undefined; item = yield* source.receive()) {
        if (slots) yield* slots.acquire();
        yield* start(item);
      }
    } else {
      for (const item of items as Iterable<T>) {
        if (slots) yield* slots.acquire();
        yield* start(item);
      }
    }
    // Wait for the forks here, in the body: cancelled meanwhile, map throws instead of returning
    // an array the forks never finished (a body's returned value would stand).
    yield* running.wait();
    return results;
  });
}
