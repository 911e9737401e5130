// Reading a Node byte stream (a socket, a response body, a child's stdout) from a coroutine: the
// next chunk, a line, or exactly n bytes. Nothing is read from the stream before it is asked
// for, so a slow reader holds the sender back through the stream's own backpressure.

import type { Readable } from "node:stream";
import type { Operation } from "../effect.js";
import { action } from "../effects.js";

/**
 * The reading side of a byte stream, read from a coroutine. `read()` gives the next chunk,
 * `readLine()` the next line, `readExactly(n)` exactly `n` bytes. Sockets, HTTP bodies and
 * child-process outputs are readers.
 *
 * @example
 * ```ts
 * function* firstLine(reader: Reader) {
 *   return yield* reader.readLine(); // undefined if the stream ended first
 * }
 * ```
 */
export class Reader {
  /** Bytes taken from the stream but not yet returned (by readLine and readExactly). */
  private rest: Buffer | null = null;
  private failure: Error | null = null;
  /** The resolve of the one read waiting for the stream, if any. */
  private waiter: (() => void) | null = null;
  private readonly waitForData = action<void>((resolve) => {
    this.waiter = resolve;
    return () => void (this.waiter = null);
  });

  /** Chunks received and not yet read, `queued` bytes in all; the stream is paused past LIMIT. */
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;

  /** @internal */
  constructor(readonly stream: Readable) {
    // The stream flows into a small queue; past LIMIT bytes it is paused until the reader
    // catches up, so a slow reader holds the sender back. Listeners stay for the stream's life:
    // a wait only parks the reader.
    const wake = () => {
      const w = this.waiter;
      this.waiter = null;
      w?.();
    };
    stream.on("data", (chunk: Buffer | string) => {
      const c = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      this.chunks.push(c);
      if ((this.queued += c.length) >= LIMIT) stream.pause();
      wake();
    });
    stream.on("end", () => {
      this.ended = true;
      wake();
    });
    stream.on("close", () => {
      this.ended = true;
      wake();
    });
    stream.on("error", (e) => {
      this.failure ??= e;
      wake();
    });
  }

  /**
   * The next chunk of bytes, waiting for it; `undefined` once the stream has ended.
   *
   * @throws the stream's error (an `ECONNRESET`, say) at the `yield*`.
   * @example
   * ```ts
   * let chunk;
   * while ((chunk = yield* socket.read()) !== undefined) total += chunk.length;
   * ```
   */
  *read(): Operation<Buffer | undefined> {
    if (this.rest !== null) {
      const rest = this.rest;
      this.rest = null;
      return rest;
    }
    return yield* this.next();
  }

  /**
   * The next line, without its `\n` (or `\r\n`), decoded as UTF-8; the last line may lack its
   * newline; `undefined` once the stream has ended.
   *
   * @throws the stream's error at the `yield*`.
   * @example
   * ```ts
   * let line;
   * while ((line = yield* socket.readLine()) !== undefined) yield* socket.write(line + "\n");
   * ```
   */
  *readLine(): Operation<string | undefined> {
    let data = this.rest;
    this.rest = null;
    let from = 0;
    for (;;) {
      const nl = data === null ? -1 : data.indexOf(10, from);
      if (nl >= 0) {
        const line = data!.toString("utf8", 0, nl > 0 && data![nl - 1] === 13 ? nl - 1 : nl);
        if (nl + 1 < data!.length) this.rest = data!.subarray(nl + 1);
        return line;
      }
      from = data?.length ?? 0;
      const chunk = yield* this.next();
      if (chunk === undefined) return data === null || data.length === 0 ? undefined : data.toString("utf8");
      data = data === null ? chunk : Buffer.concat([data, chunk]);
    }
  }

  /**
   * Exactly `n` bytes, waiting until they have all arrived.
   *
   * @throws an Error with code `ERR_STREAM_PREMATURE_CLOSE` if the stream ends first (the bytes
   * that did arrive are on its `partial` property); RangeError at the call for a bad `n`.
   * @example
   * ```ts
   * const header = yield* socket.readExactly(4);
   * const body = yield* socket.readExactly(header.readUInt32BE(0));
   * ```
   */
  readExactly(n: number): Operation<Buffer> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`readExactly(n) expects a whole number >= 0, got ${n}`);
    return this.exactly(n);
  }

  private *exactly(n: number): Operation<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const chunk = yield* this.read();
      if (chunk === undefined) {
        const partial = Buffer.concat(parts);
        this.rest = partial.length > 0 ? partial : null;
        throw Object.assign(new Error(`readExactly(${n}): the stream ended after ${have} bytes`), {
          code: "ERR_STREAM_PREMATURE_CLOSE",
          partial,
        });
      }
      const take = Math.min(chunk.length, n - have);
      parts.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      if (take < chunk.length) this.rest = chunk.subarray(take);
      have += take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /**
   * Everything left in the stream, up to its end.
   *
   * @example
   * ```ts
   * const output = (yield* child.stdout.readAll()).toString();
   * ```
   */
  *readAll(): Operation<Buffer> {
    const parts: Buffer[] = [];
    let chunk;
    while ((chunk = yield* this.read()) !== undefined) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** The next chunk from the stream itself. */
  private *next(): Operation<Buffer | undefined> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        if ((this.queued -= chunk.length) < LIMIT && this.stream.isPaused()) this.stream.resume();
        return chunk;
      }
      if (this.failure !== null) throw this.failure;
      if (this.ended || this.stream.destroyed) return undefined;
      if (this.waiter !== null) throw new Error("two tasks read the same stream at once; read it from one task at a time");
      yield* this.waitForData;
    }
  }
}

/** Bytes a reader holds before it pauses its stream. */
const LIMIT = 64 * 1024;

/** @internal Wait for the first of `events` on `emitter`; the listeners are removed either way. */
export function until(emitter: NodeJS.EventEmitter, events: readonly string[]): Operation<void> {
  return action<void>((resolve) => {
    const off = () => {
      for (const e of events) emitter.off(e, fire);
    };
    const fire = () => {
      off();
      resolve();
    };
    for (const e of events) emitter.on(e, fire);
    return off;
  });
}
