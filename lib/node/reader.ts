// Reading a Node byte stream (a socket, a response body, a child's stdout) from a coroutine: the
// next chunk, a line, or exactly n bytes. Nothing is read before the first read; after it, at
// most 64 KiB wait unread before the stream is paused, so a slow reader holds the sender back.

import type { Readable } from "node:stream";
import type { Operation } from "../core/effect.js";
import { Park, PARKED, wake, wakeHere } from "../core/park.js";
import type { Task } from "../core/task.js";

/** The effect a read waits on for the next chunk (one per reader): it takes a chunk queued
 * already, or parks the reading task until the stream delivers one. Waiting allocates nothing. */
class Pull extends Park<Buffer | undefined> {
  constructor(readonly reader: Reader) {
    super();
  }
  enter(task: Task): Buffer | undefined | typeof PARKED {
    return this.reader.pull(task);
  }
  leave(): void {
    this.reader.waiter = null;
  }
  override toString(): string {
    return "read(stream)";
  }
}

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
  /** Bytes taken from the stream but not yet returned: kept here while a read waits for more, so
   * a read that is cancelled takes nothing. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private failure: Error | null = null;
  /** @internal The one task waiting for the stream, if any. */
  waiter: Task | null = null;
  /** The effect a read takes the next chunk with; made by the first read. */
  private pulling: Pull | null = null;

  /** Chunks received and not yet read, `queued` bytes in all; the stream is paused past LIMIT. */
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private listening = false;
  private errorsCaught = false;

  /** @internal `eagerErrors`: catch the stream's errors from the start (a socket's must never go
   * unhandled); otherwise from the first read, with the data listeners (a request whose body
   * nobody reads then costs nothing). */
  constructor(
    readonly stream: Readable,
    eagerErrors = true,
  ) {
    if (eagerErrors) this.catchErrors();
  }

  private catchErrors(): void {
    this.errorsCaught = true;
    this.stream.on("error", (e) => {
      this.failure ??= e;
      this.wake();
    });
  }

  /** The waiting read, if any, looks again: it gets what is there now. */
  private wake(): void {
    const w = this.waiter;
    if (w === null) return;
    this.waiter = null;
    const p = this.pulling!;
    try {
      const v = this.pull(null);
      if (v !== PARKED) wake(w, p, v);
    } catch (e) {
      wake(w, p, e, true);
    }
  }

  /** Start the flow: into a small queue, paused past LIMIT bytes until the reader catches up,
   * so a slow reader holds the sender back. The listeners stay; a wait only parks the reader. */
  private listen(): void {
    this.listening = true;
    const s = this.stream;
    if (!this.errorsCaught) this.catchErrors();
    s.on("data", (chunk: Buffer | string) => {
      const c = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      const w = this.waiter;
      if (w !== null) {
        // A read waits: the chunk goes straight to it.
        this.waiter = null;
        if (wakeHere(w, this.pulling!, c)) return;
      }
      this.chunks.push(c);
      if ((this.queued += c.length) >= LIMIT) s.pause();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    s.on("end", end);
    s.on("close", end);
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
    if (this.held.length > 0) return this.take(this.held[0]!.length);
    return yield* this.next();
  }

  /**
   * The next line, without its `\n` (or `\r\n`), decoded as UTF-8; the last line may lack its
   * newline; `undefined` once the stream has ended. A line longer than `maxLength` bytes
   * (1 MiB by default) is an error, so a peer that never sends a newline cannot fill the memory.
   *
   * @throws the stream's error at the `yield*`; an Error with code `ERR_LINE_TOO_LONG` past
   * `maxLength`.
   * @example
   * ```ts
   * let line;
   * while ((line = yield* socket.readLine()) !== undefined) yield* socket.write(line + "\n");
   * ```
   */
  readLine(maxLength = 1 << 20): Operation<string | undefined> {
    if (!(maxLength > 0)) throw new RangeError(`readLine(maxLength) expects a number > 0, got ${maxLength}`);
    return this.line(maxLength);
  }

  private *line(maxLength: number): Operation<string | undefined> {
    let from = 0; // where the search for a newline resumes
    for (;;) {
      if (this.held.length > 1) this.held = [Buffer.concat(this.held, this.heldBytes)];
      const data = this.held[0];
      const nl = data === undefined ? -1 : data.indexOf(10, from);
      if (nl >= 0) {
        const line = data!.toString("utf8", 0, nl > 0 && data![nl - 1] === 13 ? nl - 1 : nl);
        this.take(nl + 1);
        return line;
      }
      if (this.heldBytes > maxLength) {
        throw Object.assign(new Error(`readLine(): no end of line within ${maxLength} bytes`), { code: "ERR_LINE_TOO_LONG" });
      }
      from = this.heldBytes;
      const chunk = yield* this.next();
      if (chunk === undefined) return this.heldBytes === 0 ? undefined : this.take(this.heldBytes).toString("utf8");
      this.hold(chunk);
    }
  }

  /**
   * Exactly `n` bytes, waiting until they have all arrived.
   *
   * @throws an Error with code `ERR_STREAM_PREMATURE_CLOSE` if the stream ends first (the bytes
   * that did arrive are on its `partial` property, and still there for the next read); RangeError
   * at the call for a bad `n`.
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
    while (this.heldBytes < n) {
      const chunk = yield* this.next();
      if (chunk === undefined) {
        const partial = Buffer.concat(this.held, this.heldBytes);
        throw Object.assign(new Error(`readExactly(${n}): the stream ended after ${this.heldBytes} bytes`), {
          code: "ERR_STREAM_PREMATURE_CLOSE",
          partial,
        });
      }
      this.hold(chunk);
    }
    return this.take(n);
  }

  /** Keep `chunk` for a read still waiting for more. */
  private hold(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
  }

  /** Remove and return the first `n` held bytes. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.held[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.length === n ? first : first.subarray(0, n);
      if (first.length === n) this.held.shift();
      else this.held[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.held, this.heldBytes);
      out = all.subarray(0, n);
      this.held = all.length > n ? [all.subarray(n)] : [];
    }
    this.heldBytes -= n;
    return out;
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

  /** The next chunk from the stream itself: an effect (yield* it). */
  private next(): Pull {
    return (this.pulling ??= new Pull(this));
  }

  /** @internal The next chunk, `undefined` at the end, or PARKED with `task` (if any) noted as
   * the one waiting for the stream. Throws the stream's error. */
  pull(task: Task | null): Buffer | undefined | typeof PARKED {
    if (!this.listening) this.listen();
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      if ((this.queued -= chunk.length) < LIMIT && this.stream.isPaused()) this.stream.resume();
      return chunk;
    }
    if (this.failure !== null) throw this.failure;
    if (this.ended || this.stream.destroyed) return undefined;
    if (task === null) return PARKED;
    if (this.waiter !== null) throw new Error("two tasks read the same stream at once; read it from one task at a time");
    this.waiter = task;
    return PARKED;
  }
}

/** Bytes a reader holds before it pauses its stream. */
const LIMIT = 64 * 1024;
