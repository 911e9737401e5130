// stream(): read any AsyncIterable (a Node Readable, an async generator) from a coroutine, one
// item per receive; the iteration is ended (return()) when the reading scope ends.

import type { Operation } from "../core/effect.js";
import { call, self, wait } from "../core/effects.js";
import { resource } from "../combinators/resource.js";
import { isCancelled } from "../core/errors.js";
import { describe } from "../core/operation.js";
import { mutex } from "./mutex.js";

/**
 * An async iterable being read by coroutines: `receive()` gives the next item, or `undefined`
 * once the source is exhausted (or closed). Made by {@link stream}.
 *
 * @example
 * ```ts
 * const lines: Stream<string> = yield* stream(readLines(path));
 * let line;
 * while ((line = yield* lines.receive()) !== undefined) console.log(line);
 * ```
 */
export class Stream<T extends {} | null> {
  private done = false;
  /** A next() asked for but not yet taken (its receive was cancelled): the next receive gets it. */
  private ahead: Promise<IteratorResult<T>> | undefined;
  private readonly turn = mutex();

  /** @internal Use {@link stream}. */
  constructor(private readonly it: AsyncIterator<T>) {}

  /**
   * The next item, waiting for the source; `undefined` at its end. An item is asked for only
   * when received, and one asked for by a receive that was cancelled is kept for the next.
   *
   * @throws the source's error at the yield; a TypeError if it yields `undefined`.
   * @example
   * ```ts
   * const first = yield* chunks.receive();
   * ```
   */
  receive(): Operation<T | undefined> {
    return this.turn.withLock(() => this.take());
  }

  /**
   * Stop reading: the iteration is ended (its `return()` runs, which closes a Node stream) and
   * later receives return `undefined`. Done for you when the scope that called `stream()` ends.
   *
   * @example
   * ```ts
   * const first = yield* lines.receive();
   * yield* lines.close(); // the rest is not needed
   * ```
   */
  close(): Operation<void> {
    return call(() => this.end());
  }

  private *take(): Operation<T | undefined> {
    if (this.done) return undefined;
    const next = (this.ahead ??= this.it.next());
    let r: IteratorResult<T>;
    try {
      r = yield* wait(next);
    } catch (e) {
      // A cancelled receive keeps the item it asked for; a failed source is over.
      if (!isCancelled(e)) {
        this.ahead = undefined;
        this.done = true;
      }
      throw e;
    }
    this.ahead = undefined;
    if (r.done) {
      this.done = true;
      return undefined;
    }
    if (r.value === undefined) throw new TypeError("stream(): the source yielded undefined, which marks the end of a stream");
    return r.value;
  }

  /** @internal End the iteration, once. */
  *end(): Operation<void> {
    if (this.done) return;
    this.done = true;
    if (typeof this.it.return !== "function") return;
    if (this.ahead !== undefined) {
      // A next() is still pending: an async generator would queue return() behind it, maybe
      // for ever; ask for the end without waiting, and report if it fails.
      const me = yield* self();
      Promise.resolve(this.it.return()).catch((e) => me.sched.report(e, me, "ending the source of a stream failed"));
      return;
    }
    yield* wait(Promise.resolve(this.it.return()));
  }
}

/**
 * Read an async iterable inside a coroutine, one item per `receive()`: nothing is read ahead.
 * The iteration belongs to the caller's scope: when that scope ends, or the task is cancelled,
 * it is ended (its `return()` runs, which closes a Node stream). Items cannot be `undefined`
 * (it marks the end).
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
export function stream<T extends {} | null>(source: AsyncIterable<T>): Operation<Stream<T>> {
  if (typeof (source as AsyncIterable<T> | null)?.[Symbol.asyncIterator] !== "function") {
    throw new TypeError(`stream() expects an async iterable, got ${describe(source)}`);
  }
  return open(source);
}

function open<T extends {} | null>(source: AsyncIterable<T>): Operation<Stream<T>> {
  return resource(() => new Stream(source[Symbol.asyncIterator]()), (items) => items.end());
}
