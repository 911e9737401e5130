// Reading a Node byte stream (a socket, a response body, a child's stdout) from a coroutine: the
// next chunk, a line, or exactly n bytes. Nothing is read before the first read; after it, at
// most 64 KiB wait unread before the stream is paused, so a slow reader holds the sender back.

import type { Readable } from "node:stream";
import { forIO, type Operation } from "../core/effect.js";
import { PARKED, wake, wakeHere } from "../core/park.js";
import type { Task } from "../core/task.js";
import { Immediate } from "./wait.js";

/**
 * A read of a {@link Reader} (a chunk, a line, n bytes): an effect that completes from what the
 * reader has, taking bytes only when it completes, or parks its task until the stream brings
 * more. A read that can complete at once does so inside its `yield*` (no generator, no trip
 * through the scheduler's loop); a waiting one is retried by each chunk that arrives.
 */
abstract class Read<T> extends Immediate<T> {
  /** `reader.arrivals` when this read last found too little: until the stream brings something
   * more, looking again would find too little again (nothing else adds to a reader). */
  private missed = -1;
  constructor(readonly reader: Reader) {
    super();
  }
  /** The result from what the reader has, or PARKED having taken nothing; throws the stream's error. */
  abstract poll(): T | typeof PARKED;
  now(): T | typeof PARKED {
    // Another task waits on this reader: reading now would take what its read holds (half a line).
    if (this.reader.waiter !== null) throw twoReaders();
    const v = this.poll();
    if (typeof v === "symbol") this.missed = this.reader.arrivals; // PARKED (see Immediate.next)
    return v;
  }
  enter(task: Task): T | typeof PARKED {
    // Usually `now()` has just found too little, inside this `yield*`: park without looking again.
    if (this.missed !== this.reader.arrivals) {
      const v = this.now();
      if (typeof v !== "symbol") return v;
    }
    return this.reader.park(task, this);
  }
  leave(): void {
    this.reader.unpark();
  }
  /** This read's result could not be used (it lost a race, say): its bytes go back, first in line. */
  override restore(value: T): void {
    if (value !== undefined) this.reader.unread(Buffer.isBuffer(value) ? value : this.reader.lastLine);
  }
}

/** `read()`: the next chunk. One per reader. */
class ReadChunk extends Read<Buffer | undefined> {
  poll(): Buffer | undefined | typeof PARKED {
    return this.reader.pollChunk();
  }
  override toString(): string {
    return "read(stream)";
  }
}

/** `readLine(maxLength)`: the next line. */
class ReadLine extends Read<string | undefined> {
  constructor(
    reader: Reader,
    readonly maxLength: number,
  ) {
    super(reader);
  }
  poll(): string | undefined | typeof PARKED {
    return this.reader.pollLine(this.maxLength);
  }
  override toString(): string {
    return "readLine(stream)";
  }
}

/** `readExactly(n)`: n bytes. */
class ReadExactly extends Read<Buffer> {
  constructor(
    reader: Reader,
    readonly n: number,
  ) {
    super(reader);
  }
  poll(): Buffer | typeof PARKED {
    return this.reader.pollExactly(this.n);
  }
  override toString(): string {
    return `readExactly(stream, ${this.n})`;
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
  /** Bytes taken from the queue by a read that needs more (a line without its end yet): kept
   * here until the read completes, so a read that is cancelled takes nothing. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** How many held bytes, from the first, are known to hold no newline (a line's search resumes there). */
  private scanned = 0;
  private failure: Error | null = null;
  /** @internal Events that may have brought something to read (chunks, the end, an error). */
  arrivals = 0;
  /** @internal The one task waiting for the stream, if any, and its read. */
  waiter: Task | null = null;
  private waiting: Read<unknown> | null = null;
  /** The effect of `read()` (it has no argument: one is enough), made by the first, and the last
   * `readLine` effect, reused while the maximum length is the same. */
  private chunkRead: ReadChunk | null = null;
  private lineRead: ReadLine | null = null;

  /** Chunks received and not yet read, `queued` bytes in all: the first, and the others after
   * it (one chunk at a time, the usual case, touches no array). The stream is paused past LIMIT. */
  private first: Buffer | null = null;
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  /** Paused by this reader (past LIMIT), to be resumed once the queue is short again. */
  private paused = false;
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
      this.arrivals++;
      this.retry(false);
    });
  }

  /** The waiting read, if any, looks again: it completes (its task is woken) if it can now. In
   * a `data` callback (`here`) the task runs in the callback when the scheduler is idle. */
  private retry(here: boolean): void {
    const w = this.waiter;
    if (w === null) return;
    const op = this.waiting!;
    let v: unknown;
    let threw = false;
    try {
      v = op.poll();
      if (typeof v === "symbol") return; // PARKED (see Immediate.next)
    } catch (e) {
      v = e;
      threw = true;
    }
    this.waiter = this.waiting = null;
    if (here) wakeHere(w, op, v, threw);
    else wake(w, op, v, threw);
  }

  /** @internal Start the flow now, not at the first read: for a stream whose unread data its
   * owner throws away (a child process's output once it exits: node resumes a stream nobody
   * listens to). Up to LIMIT bytes wait here for the first read; past that the sender is held. */
  start(): void {
    if (!this.listening) this.listen();
  }

  /** Start the flow: into a small queue, paused past LIMIT bytes until the reader catches up,
   * so a slow reader holds the sender back. The listeners stay; a wait only parks the reader. */
  private listen(): void {
    this.listening = true;
    const s = this.stream;
    if (!this.errorsCaught) this.catchErrors();
    s.on("data", (chunk: Buffer | string) => {
      // Not a symbol: an object-mode stream's would be taken for PARKED (see Immediate.next).
      if (typeof chunk === "symbol") {
        this.failure ??= new TypeError(`a Reader reads bytes, but its stream gave ${String(chunk)}`);
        this.arrivals++;
        this.retry(false);
        return;
      }
      const c = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (this.first === null) this.first = c;
      else this.chunks.push(c);
      this.queued += c.length;
      this.arrivals++;
      if (this.waiter !== null) this.retry(true);
      if (this.queued >= LIMIT && !this.paused) {
        this.paused = true;
        s.pause();
      }
    });
    const end = () => {
      this.ended = true;
      this.arrivals++;
      this.retry(false);
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
  read(): Operation<Buffer | undefined> {
    const op = (this.chunkRead ??= new ReadChunk(this));
    forIO.noteMade(op);
    return op;
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
    let op = this.lineRead;
    if (op === null || op.maxLength !== maxLength) {
      if (!(maxLength > 0)) throw new RangeError(`readLine(maxLength) expects a number > 0, got ${maxLength}`);
      op = this.lineRead = new ReadLine(this, maxLength);
    }
    forIO.noteMade(op);
    return op;
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
    const op = new ReadExactly(this, n);
    forIO.noteMade(op);
    return op;
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

  /** @internal For `read()`: the next chunk, `undefined` at the end, or PARKED. */
  pollChunk(): Buffer | undefined | typeof PARKED {
    if (this.held.length > 0) return this.take(this.held[0]!.length);
    const c = this.unqueue();
    return c !== undefined ? c : this.starved();
  }

  /** @internal For `readLine()`: the next line, `undefined` at the end, or PARKED. */
  pollLine(maxLength: number): string | undefined | typeof PARKED {
    const c = this.first;
    if (c !== null && this.held.length === 0 && c[c.length - 1] === 10) {
      // The usual case: the next chunk ends with a newline. Decoded whole (a newline is never
      // part of a longer UTF-8 sequence, so it ends on a character); if it is one line, done.
      const text = c.toString();
      const nl = text.indexOf("\n");
      if (nl === text.length - 1) {
        this.lastLine = c;
        this.unqueue();
        return text.slice(0, nl > 0 && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      }
    }
    for (;;) {
      if (this.held.length > 1) this.held = [Buffer.concat(this.held, this.heldBytes)];
      const data = this.held[0];
      if (data !== undefined) {
        const nl = data.indexOf(10, this.scanned);
        if (nl >= 0) {
          const line = data.toString("utf8", 0, nl > 0 && data[nl - 1] === 13 ? nl - 1 : nl);
          this.lastLine = this.take(nl + 1);
          return line;
        }
        if (this.heldBytes > maxLength) {
          throw Object.assign(new Error(`readLine(): no end of line within ${maxLength} bytes`), { code: "ERR_LINE_TOO_LONG" });
        }
        this.scanned = this.heldBytes;
      }
      const c = this.unqueue();
      if (c !== undefined) this.hold(c);
      else {
        const end = this.starved();
        if (end === PARKED) return PARKED;
        if (this.heldBytes === 0) return undefined;
        this.lastLine = this.take(this.heldBytes);
        return this.lastLine.toString("utf8");
      }
    }
  }

  /** @internal For `readExactly(n)`: the n bytes, or PARKED; throws if the stream ends first. */
  pollExactly(n: number): Buffer | typeof PARKED {
    while (this.heldBytes < n) {
      const c = this.unqueue();
      if (c !== undefined) {
        this.hold(c);
        continue;
      }
      if (this.starved() === PARKED) return PARKED;
      const partial = Buffer.concat(this.held, this.heldBytes);
      throw Object.assign(new Error(`readExactly(${n}): the stream ended after ${this.heldBytes} bytes`), {
        code: "ERR_STREAM_PREMATURE_CLOSE",
        partial,
      });
    }
    return this.take(n);
  }

  /** @internal The bytes of the last line read, with its end, for a read that must give it back. */
  lastLine: Buffer = NO_BYTES;

  /** @internal Put `bytes` back in front of what is left to read (a read's result that could
   * not be used: its task lost a race). */
  unread(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.held.unshift(bytes);
    this.heldBytes += bytes.length;
    this.scanned = 0;
    this.arrivals++;
    this.retry(false);
  }

  /** @internal `task` waits for the stream with `read` (one task at a time). */
  park(task: Task, read: Read<unknown>): typeof PARKED {
    if (this.waiter !== null) throw twoReaders();
    this.waiter = task;
    this.waiting = read;
    return PARKED;
  }

  /** @internal The waiting read was cancelled: it took nothing. */
  unpark(): void {
    this.waiter = this.waiting = null;
  }

  /** The next queued chunk, if any (the flow starts with the first read); the stream is resumed
   * once the queue is short again. */
  private unqueue(): Buffer | undefined {
    if (!this.listening) this.listen();
    const c = this.first;
    if (c === null) return undefined;
    this.first = this.chunks.length > 0 ? this.chunks.shift()! : null;
    if ((this.queued -= c.length) < LIMIT && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
    return c;
  }

  /** Nothing queued: the stream's error (thrown), `undefined` at its end, or PARKED. */
  private starved(): undefined | typeof PARKED {
    if (this.failure !== null) throw this.failure;
    return this.ended || this.stream.destroyed ? undefined : PARKED;
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
    this.scanned = Math.max(0, this.scanned - n);
    return out;
  }
}

function twoReaders(): Error {
  return new Error("two tasks read the same stream at once; read it from one task at a time");
}

/** The `lastLine` of a reader that has read none: one for all (a request whose body nobody reads
 * then makes no buffer). Never handed out, never written. */
const NO_BYTES = Buffer.alloc(0);

/** Bytes a reader holds before it pauses its stream. */
const LIMIT = 64 * 1024;
