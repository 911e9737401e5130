// Waiting on Node's emitters and writables from a coroutine: the first of some events, a write
// that respects backpressure, an end that is flushed. Shared by sockets, responses and processes.

import type { Writable } from "node:stream";
import { type Effect, forIO, type Operation } from "../core/effect.js";
import { action } from "../core/effects.js";
import { Park, PARKED, wake } from "../core/park.js";
import type { Task } from "../core/task.js";

/**
 * @internal An I/O effect (a read, a write) that completes inside its `yield*` when it can, as a
 * channel's send or receive does (`Receive.next` in sync/channel.ts): `now()` completes it, or
 * returns PARKED having taken nothing, and then it is entered there, its wait begun inside the
 * `yield*` (see `Scheduler.parkHere`). Its own `next`,
 * not one on `Park`: that one would be shared by every kind of Park, and its calls the slower for
 * it; this one sees only the four I/O kinds.
 */
export abstract class Immediate<T> extends Park<T> {
  /** The result now (or throw), or PARKED having changed nothing that a later try would not redo.
   * After PARKED, `enter` is called next: it need not look again. */
  abstract now(): T | typeof PARKED;
  override next(value?: unknown): IteratorResult<Effect<T>, T> {
    if (!forIO.firstStep()) return { done: true, value: value as T };
    const t = forIO.current.task as Task | null;
    if (t === null || !t.sched.quick(t)) return this;
    let result: T | typeof PARKED;
    try {
      result = this.now();
    } catch (e) {
      forIO.used(this);
      t.sched.thrownBy(e, this);
      throw e;
    }
    // (`typeof`, not `=== PARKED`: PARKED is the core bundle's export, of a type V8 does not know
    // here, and a result that is a string one time and a symbol another is compared by a generic
    // builtin call. No I/O result is a symbol but PARKED.)
    forIO.used(this); // yielded, as far as the forgotten-yield check goes
    if (typeof result === "symbol") {
      // It must wait: enlisted here (`enter` knows that `now` just found too little), and handed
      // on as the effect itself (see `Scheduler.parkHere`).
      try {
        result = this.enter(t);
      } catch (e) {
        t.sched.thrownBy(e, this);
        throw e;
      }
      if (typeof result === "symbol") {
        t.sched.parkHere(t, this);
        return this;
      }
    }
    // A write's result (and a read's at the end of its stream): one object for all, as a
    // channel's send returns (sync/channel.ts SENT, the same shape), not one per write.
    return result === undefined ? (NOTHING as IteratorReturnResult<T>) : { done: true, value: result };
  }
}

const NOTHING: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

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

/**
 * The effect of a write that respects backpressure (see {@link writeAll}), or of the last write
 * of an HTTP response (see {@link endReply}). The data is handed to the stream once, at the first
 * step of its `yield*`: inside a running task a write the stream takes completes there (no
 * generator, no trip through the scheduler's loop); one that fills the buffer parks its task
 * until `drain` (`finish` for an end, or for a write when someone else ends the stream: its data
 * is flushed), or `close`. Cancelled while it waits, the data stays written: only the wait is
 * given up.
 */
class Write extends Immediate<void> {
  /** 0 not written yet; 1 written, the buffer full; 2 done. */
  private state = 0;
  /** The stream's listeners while tasks wait (one pair for all of them: the effect may be
   * shared): `fire` for drain, finish and close, `failed` for an error, which it carries. */
  private fire: (() => void) | null = null;
  private failed: ((e: unknown) => void) | null = null;
  /** The tasks waiting for the stream. */
  private waiting: Task[] | null = null;
  constructor(
    readonly stream: Writable,
    readonly data: string | Uint8Array | undefined,
    /** An end: `end(data)`, never an error (what a response's end did before it was an effect). */
    readonly ends: boolean,
  ) {
    super();
  }
  now(): void | typeof PARKED {
    if (this.state !== 0) {
      // Written: a wait given up (a wrapper stepping by hand went on, or a cancellation) is
      // waited again only while the stream still has to drain (finish), as its events would say.
      if (this.state === 1) {
        const e = this.outcome();
        if (e === WAITS) return PARKED;
        if (e !== undefined) throw e;
        this.state = 2;
      }
      return undefined;
    }
    const w = this.stream;
    if (this.ends) {
      if (w.writableEnded) this.state = 2; // ended already: nothing to do
      else {
        w.end(this.data);
        // Waits only for a body the socket could not take. (Not `writableNeedDrain`: it is false
        // once the stream is ending, so a response's end never waited.)
        this.state = !w.writableFinished && w.writableLength >= w.writableHighWaterMark ? 1 : 2;
      }
      return this.state === 2 ? undefined : PARKED;
    }
    if (w.errored) throw w.errored;
    if (w.destroyed || w.writableEnded) throw destroyedError(w);
    this.state = w.write(this.data!) ? 2 : 1;
    return this.state === 2 ? undefined : PARKED;
  }
  /** What the data written comes to, asked of the stream again (for a wait given up and then
   * yielded again): WAITS while it must still drain (an end: finish), undefined once it has, or
   * the error that lost it. An end never fails. */
  private outcome(): Error | typeof WAITS | undefined {
    const w = this.stream;
    if (this.ends) return !w.destroyed && !w.writableFinished && w.writableLength >= w.writableHighWaterMark ? WAITS : undefined;
    if (w.errored) return w.errored;
    if (w.writableFinished) return undefined; // ended by someone else meanwhile: flushed with the rest
    if (w.destroyed) return lostError();
    // (Ending, by someone else, it waits for the finish: `writableNeedDrain` is false then.)
    return w.writableNeedDrain || w.writableEnded ? WAITS : undefined;
  }
  enter(task: Task): void | typeof PARKED {
    if (this.now() !== PARKED) return undefined;
    if (this.fire === null) {
      const w = this.stream;
      const fire = () => this.fired();
      this.fire = fire;
      if (!this.ends) w.on("drain", fire);
      w.on("finish", fire);
      w.on("close", fire);
      // Its error, as the event gives it: a stream that emits no close, destroyed with an error,
      // emits only this; one that emits an error without being destroyed sets no `errored`.
      const failed = (e: unknown) => this.fired(e === undefined ? new Error("the stream emitted 'error' without one") : e);
      this.failed = failed;
      w.on("error", failed);
    }
    (this.waiting ??= []).push(task);
    return PARKED;
  }
  /** The stream drained, finished (its end flushed the data too, whoever ended it) or closed:
   * every task waiting goes on, or fails if the stream errored or was destroyed unfinished. An
   * end never fails. */
  private fired(error?: unknown): void {
    const w = this.stream;
    const e = this.ends ? undefined : error !== undefined ? error : w.errored !== null ? w.errored : w.destroyed && !w.writableFinished ? lostError() : undefined;
    this.state = e === undefined ? 2 : 1; // failed, it fails again when yielded again (see now)
    const tasks = this.waiting!;
    this.waiting = null;
    this.unlisten();
    for (const t of tasks) {
      if (e === undefined) wake(t, this, undefined);
      else wake(t, this, e, true);
    }
  }
  leave(task: Task): void {
    const tasks = this.waiting;
    if (tasks === null) return;
    const i = tasks.indexOf(task);
    if (i >= 0) tasks.splice(i, 1);
    if (tasks.length === 0) {
      this.waiting = null;
      this.unlisten();
    }
  }
  private unlisten(): void {
    const fire = this.fire;
    if (fire === null) return;
    this.fire = null;
    const w = this.stream;
    w.off("drain", fire);
    w.off("finish", fire);
    w.off("close", fire);
    w.off("error", this.failed!);
    this.failed = null;
  }
  override toString(): string {
    return this.ends ? "end(response)" : "write(stream)";
  }
}
const WAITS: unique symbol = Symbol("skein.write.waits");

/**
 * @internal Write to a Node writable, waiting for `drain` when its buffer is full. Fails, never
 * silently drops, if the stream is (or gets) ended, destroyed or errored.
 */
export function writeAll(w: Writable, data: string | Uint8Array): Operation<void> {
  const op = new Write(w, data, false);
  forIO.noteMade(op);
  return op;
}

/**
 * @internal End an HTTP response with an optional last chunk; waits only when the socket could
 * not take it all (a slow client, a large body), until it is finished or closed. Ending what has
 * ended already does nothing.
 */
export function endReply(w: Writable, data: string | Uint8Array | undefined): Operation<void> {
  const op = new Write(w, data, true);
  forIO.noteMade(op);
  return op;
}

/**
 * @internal End a Node writable and wait until what was written is handed on (or the stream
 * closes); its error, if any, is thrown. Ending what has ended already only waits.
 */
export function* endAll(w: Writable): Operation<void> {
  if (w.writableFinished || w.destroyed) return;
  if (!w.writableEnded) w.end();
  yield* until(w, ["finish", "close"]);
  if (w.errored) throw w.errored;
}

function destroyedError(w: Writable): Error {
  const ended = w.writableEnded && !w.destroyed;
  return Object.assign(new Error(`write after it was ${ended ? "ended" : "closed"}`), {
    code: ended ? "ERR_STREAM_WRITE_AFTER_END" : "ERR_STREAM_DESTROYED",
  });
}

/** A write that waited for `drain` when its stream was destroyed, its data not flushed. */
function lostError(): Error {
  return Object.assign(new Error("the stream was destroyed before this write's data was flushed (destroy() was called, or the peer went away)"), {
    code: "ERR_STREAM_DESTROYED",
  });
}
