// stream(): read any AsyncIterable (a Node Readable, an async generator) from a coroutine, as a
// channel fed by a child task that owns the iteration and ends it (return()) with its scope.

import { channel, type Channel } from "./channel.js";
import type { Operation } from "./effect.js";
import { self, spawn, wait } from "./effects.js";
import { isCancelled } from "./errors.js";
import { describe } from "./operation.js";

/**
 * Options of {@link stream}.
 *
 * @example
 * ```ts
 * const lines = yield* stream(readLines(file), { buffer: 100 });
 * ```
 */
export interface StreamOptions {
  /** How many items to read ahead of the consumer (default 0: one at a time). */
  buffer?: number;
}

/**
 * Consume an async iterable inside a coroutine: returns a channel that a background child task
 * fills from the iterable, item by item, as the consumer receives. The child belongs to the
 * caller's scope: when that scope ends or the task is cancelled, the iteration is ended (its
 * `return()` runs, which closes a Node stream). An error of the iterable fails the scope like
 * any child's. Items cannot be `undefined` (it marks the channel's end).
 *
 * @throws TypeError at the call if `source` is not async iterable.
 * @example
 * ```ts
 * function* countLines(path: string) {
 *   const chunks = yield* stream(fs.createReadStream(path, "utf8"));
 *   let n = 0;
 *   let chunk;
 *   while ((chunk = yield* chunks.receive()) !== undefined) n += chunk.split("\n").length - 1;
 *   return n;
 * }
 * ```
 */
export function* stream<T extends {} | null>(source: AsyncIterable<T>, options: StreamOptions = {}): Operation<Channel<T>> {
  if (typeof (source as AsyncIterable<T> | null)?.[Symbol.asyncIterator] !== "function") {
    throw new TypeError(`stream() expects an async iterable, got ${describe(source)}`);
  }
  const items = channel<T>(options.buffer ?? 0);
  yield* spawn(() => pump(source[Symbol.asyncIterator](), items), { name: "stream" });
  return items;
}

/** Move items from the iterator into the channel until the source ends or the scope does. */
function* pump<T extends {} | null>(it: AsyncIterator<T>, items: Channel<T>): Operation<void> {
  let open = true; // whether the iteration may still produce, and so must be ended by us
  try {
    for (;;) {
      let r: IteratorResult<T>;
      try {
        r = yield* wait(it.next());
      } catch (e) {
        if (!isCancelled(e)) open = false; // the source failed: its iteration is over
        throw e;
      }
      if (r.done) {
        open = false;
        items.close();
        return;
      }
      if (r.value === undefined) throw new TypeError("stream(): the source yielded undefined, which marks a channel's end");
      yield* items.send(r.value);
    }
  } catch (e) {
    // Cancelled (the consumer's scope ended): late receivers see the end. A failure is not an
    // end: it fails the consumer's scope instead. Either way a live iteration is ended here,
    // in a catch rather than a finally, so that nothing can replace the error on its way out.
    if (isCancelled(e)) items.close();
    if (open) yield* end(it, e);
    throw e;
  }
}

/** Call the iterator's return() and wait for it; a problem there never hides `pending`. */
function* end(it: AsyncIterator<unknown>, pending: unknown): Operation<void> {
  try {
    if (typeof it.return === "function") yield* wait(Promise.resolve(it.return()));
  } catch (cleanup) {
    if (isCancelled(pending)) throw cleanup; // a cancelled task whose cleanup fails fails with that error
    if (!isCancelled(cleanup)) {
      const me = yield* self();
      me.sched.report(cleanup, me);
    }
  }
}
