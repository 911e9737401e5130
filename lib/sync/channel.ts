// Channels: Go-style pipes between tasks, rendezvous or buffered, with overflow policies.
// A channel is a small object over Park: its queues hold the parked tasks, nothing else waits.

import { ChannelClosedError } from "../core/errors.js";
import { Deque } from "../core/deque.js";
import { WaitQueue } from "../core/wait-queue.js";
import { current, direct, firstStep, noteMade, used, type Effect } from "../core/effect.js";
import { describe } from "../core/operation.js";
import { asResult, Park, PARKED, wake } from "../core/park.js";
import { run } from "../core/run.js";
import type { Task } from "../core/task.js";

/**
 * What a full buffer does with a new value: make the sender wait, drop it, or drop the oldest.
 *
 * @example
 * ```ts
 * const policy: Overflow = "drop"; // for metrics nobody must wait on
 * const samples = channel<number>(1000, { overflow: policy });
 * ```
 */
export type Overflow = "wait" | "drop" | "slide";

/**
 * Options of {@link channel}.
 *
 * @example
 * ```ts
 * const latest = channel<number>(1, { overflow: "slide" }); // keeps only the newest reading
 * ```
 */
export interface ChannelOptions {
  /** When the buffer is full: `"wait"` (the default) blocks the sender, `"drop"` discards the
   * new value, `"slide"` discards the oldest buffered value to make room. */
  overflow?: Overflow;
}

/** @internal Whether a select case sends (true on Send's prototype, false on Receive's): what
 * select tests instead of `instanceof` (see architecture.md, "Performance notes"). A symbol, so
 * that no subclass field can clash with it. */
export const SENDS: unique symbol = Symbol("skein.sends");

/** The key of Receive's method that receives now, or returns NONE having changed nothing. A
 * symbol: no name a subclass might use. */
const ATTEMPT: unique symbol = Symbol("skein.attempt");

/** @internal Nothing could be taken. Private to channels and select, unlike PARKED, which is a
 * value like any other here: it can be sent. */
export const NONE: unique symbol = Symbol("skein.none");

/**
 * @internal A task waiting in a select: the select and which of its cases this queue entry is.
 * Queue entries are plain tasks for send/receive, and one of these for each case of a select.
 */
export interface Chooser {
  /** A counterpart can complete `entry` (with `value`, for a receive): the select fires with it,
   * or with another of its cases on the same channel and side, picked at random. Returns the
   * case that fired, or null if the select has fired already. */
  fire(entry: SelectCase, value: unknown): SelectCase | null;
}
export class SelectCase {
  /** Where it is in its channel's queue (see WaitQueue). */
  waitIndex = -1;
  constructor(
    readonly chooser: Chooser,
    readonly index: number,
    readonly value: unknown,
  ) {}
}
type Waiter = Task | SelectCase;

/** Whether waiter `w` is a select's case, not a task (which has no `chooser`): a field test, not
 * `instanceof` (see architecture.md, "Performance notes"). */
function isCase(w: Waiter): w is SelectCase {
  return (w as SelectCase).chooser !== undefined;
}

/**
 * The effect of {@link Channel.receive}: one per channel, shared by all its receivers. Pass it
 * to {@link select} as a case.
 *
 * @example
 * ```ts
 * const r = yield* select({ msg: inbox.receive() }, { timeout: 100 });
 * ```
 */
export class Receive<T> extends Park<T | undefined> {
  /** @internal False: a receive (on the prototype; see SENDS). */
  declare readonly [SENDS]: false;
  constructor(readonly channel: Channel<T & ({} | null)>) {
    super();
  }
  /** The first step of `yield*`: inside a running task (see `Scheduler.quick`), a value (or the
   * end) that is there already is received here, with no round trip through the step loop. Its
   * own method, not Park's shared one: the call of the hook there saw every kind of Park. */
  override next(value?: unknown): IteratorResult<Effect<T | undefined>, T | undefined> {
    if (!firstStep()) return { done: true, value: value as T | undefined };
    const t = current.task as Task | null;
    if (t === null || !t.sched.quick(t)) return this;
    const ch = this.channel;
    let v: T | undefined;
    if (ch.buffer.size > 0 && ch.senders.size === 0) v = ch.buffer.shift();
    else {
      const r = this[ATTEMPT]();
      // (`typeof` first: a value compared with a symbol, numbers one time and symbols another, is
      // compared by a generic builtin call; under the test only symbols reach the `===`.)
      if (typeof r === "symbol" && r === NONE) {
        // It must wait: enlisted here, and handed on as the effect (see `Scheduler.parkHere`).
        used(this);
        ch.receivers.push(t);
        t.sched.parkHere(t, this);
        return this;
      }
      v = r;
    }
    used(this); // yielded, as far as the forgotten-yield check goes
    return { done: true, value: v };
  }
  enter(task: Task): T | undefined | typeof PARKED {
    const v = this[ATTEMPT]();
    if (typeof v !== "symbol") return v; // (`typeof` first: see `Receive.next` above)
    if (v === NONE) {
      this.channel.receivers.push(task);
      return PARKED;
    }
    return asResult(v); // a symbol sent (PARKED too)
  }
  /** @internal A value, or the end; NONE, with nothing changed, when there is neither. */
  [ATTEMPT](): T | undefined | typeof NONE {
    const ch = this.channel;
    const v = ch.take();
    if (typeof v !== "symbol" || v !== NONE) return v; // (`typeof` first: see `Receive.next` above)
    return ch.closed ? undefined : NONE;
  }
  leave(task: Task): void {
    this.channel.receivers.remove(task);
  }
  /** A value received but not used (a lost race) goes back first in line. */
  override restore(value: T | undefined, _task?: Task): void {
    if (value !== undefined) this.channel.unreceive(value as T & ({} | null));
  }
  override toString(): string {
    return `receive(${this.channel})`;
  }
}
direct(Receive); // performed in a combinator's helper itself (see `runIn` in all.ts)

/**
 * The effect of {@link Channel.send}: `item` on its way into `channel`. Pass it to
 * {@link select} as a case.
 *
 * @example
 * ```ts
 * const r = yield* select({ sent: out.send(item), stop: stop.receive() });
 * ```
 */
export class Send<T> extends Park<void> {
  /** @internal True: a send (on the prototype; see SENDS). */
  declare readonly [SENDS]: true;
  constructor(
    readonly channel: Channel<T & ({} | null)>,
    readonly item: T,
  ) {
    super();
  }
  /** The first step of `yield*`: inside a running task (see `Scheduler.quick`), a send that can
   * complete at once (a receiver waits, or the buffer has room) completes here, and one that must
   * wait is enlisted here (see `Scheduler.parkHere`). */
  override next(value?: unknown): IteratorResult<Effect<void>, void> {
    if (!firstStep()) return value === undefined ? SENT : { done: true, value: value as never };
    const ch = this.channel;
    // A send that must wait (the test is `put`'s, without its loop) is enlisted without trying
    // `put`. Room in the buffer is tested first: it ends the test on a buffered channel's path.
    const t = current.task as Task | null;
    if (t === null || !t.sched.quick(t)) return this;
    if (ch.buffer.size >= ch.capacity && ch.receivers.size === 0 && ch.overflow === "wait" && ch.closed === false) {
      // It must wait: enlisted here, and handed on as the effect (see `Scheduler.parkHere`).
      used(this);
      ch.senders.push(t);
      t.sched.parkHere(t, this);
      return this;
    }
    try {
      if (!ch.put(this.item as T & ({} | null))) return this;
    } catch (e) {
      used(this);
      t.sched.thrownBy(e, this);
      throw e;
    }
    used(this); // yielded, as far as the forgotten-yield check goes
    return SENT;
  }
  enter(task: Task): void | typeof PARKED {
    if (this.channel.put(this.item as T & ({} | null))) return undefined;
    this.channel.senders.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    this.channel.senders.remove(task);
  }
  override toString(): string {
    return `send(${this.channel}, ${describe(this.item)})`;
  }
}
direct(Send);
Object.defineProperty(Receive.prototype, SENDS, { value: false });
Object.defineProperty(Send.prototype, SENDS, { value: true });

/** The outcome of every send: nothing to allocate. */
const SENT: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

let channels = 0;

/**
 * A pipe between tasks. Values are delivered in order, each to exactly one receiver; waiting
 * receivers and senders are served first in, first out. `undefined` cannot be sent: `receive()`
 * returns `undefined` once the channel is closed and drained, which makes the loop form
 * `while ((v = yield* ch.receive()) !== undefined)`.
 *
 * @example
 * ```ts
 * const jobs = channel<string>(10);
 * yield* spawn(function* producer() {
 *   for (const url of urls) yield* jobs.send(url);
 *   jobs.close();
 * });
 * let url;
 * while ((url = yield* jobs.receive()) !== undefined) yield* fetchAndStore(url);
 * ```
 */
export class Channel<T extends {} | null> implements AsyncIterable<T> {
  /** How many values the buffer holds; 0 for a rendezvous channel. */
  readonly capacity: number;
  /** What a full buffer does with a new value. */
  readonly overflow: Overflow;
  /** How many values the overflow policy has discarded so far. */
  dropped = 0;
  /** @internal */ readonly buffer = new Deque<T>();
  /** @internal Tasks (or select cases) waiting to receive. */ readonly receivers = new WaitQueue<Waiter>();
  /** @internal Tasks (or select cases) waiting to send. */ readonly senders = new WaitQueue<Waiter>();
  private ended = false;
  private readonly receiving: Receive<T>;
  private readonly id = ++channels;

  /** @internal Use {@link channel}. */
  constructor(capacity: number, overflow: Overflow) {
    this.capacity = capacity;
    this.overflow = overflow;
    this.receiving = new Receive(this);
  }

  /** True once {@link close} has been called. */
  get closed(): boolean {
    return this.ended;
  }

  /** How many values are buffered now. */
  get size(): number {
    return this.buffer.size;
  }

  /**
   * Send a value: it goes to a waiting receiver, else into the buffer; if the buffer is full the
   * overflow policy decides (by default the sender waits for room). A rendezvous channel's
   * sender waits for a receiver. Cancelling a waiting sender sends nothing.
   *
   * @throws TypeError at the call for `undefined`; ChannelClosedError (at the yield) once closed.
   * @example
   * ```ts
   * yield* results.send({ url, status });
   * ```
   */
  send(value: T): Send<T> {
    if (value === undefined) {
      throw new TypeError(`${this}.send() cannot send undefined: receive() returns undefined at the end of the channel`);
    }
    if (typeof value === "object") used(value); // an effect sent to another task to yield: not forgotten
    const effect = new Send(this, value);
    noteMade(effect);
    return effect;
  }

  /**
   * Receive the next value, waiting if there is none; `undefined` once the channel is closed and
   * every buffered value has been received. Cancelling a waiting receiver takes nothing.
   *
   * @example
   * ```ts
   * let line;
   * while ((line = yield* lines.receive()) !== undefined) console.log(line);
   * ```
   */
  receive(): Receive<T> {
    noteMade(this.receiving);
    return this.receiving;
  }

  /**
   * Send without waiting, from anywhere (an event listener, a callback): true if the channel
   * took the value (with overflow `"drop"`, it may have been discarded: see {@link dropped}),
   * false if the sender would have to wait or the channel is closed.
   *
   * @throws TypeError for `undefined`.
   * @example
   * ```ts
   * emitter.on("data", (chunk) => {
   *   if (!chunks.trySend(chunk)) emitter.pause();
   * });
   * ```
   */
  trySend(value: T): boolean {
    if (value === undefined) throw new TypeError(`${this}.trySend() cannot send undefined`);
    return !this.ended && this.put(value);
  }

  /**
   * Receive without waiting: the next value, or `undefined` if none is available now (or the
   * channel has ended; see {@link closed}). A receiver already waiting gets values first.
   *
   * @example
   * ```ts
   * const pending: string[] = [];
   * for (let v = queue.tryReceive(); v !== undefined; v = queue.tryReceive()) pending.push(v);
   * ```
   */
  tryReceive(): T | undefined {
    const v = this.take();
    return v === NONE ? undefined : v;
  }

  /**
   * Close the channel: no more sends (a waiting sender fails with a ChannelClosedError);
   * receivers still get the buffered values, then `undefined`. Closing twice does nothing.
   *
   * @example
   * ```ts
   * try {
   *   for (const item of items) yield* out.send(item);
   * } finally {
   *   out.close();
   * }
   * ```
   */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (let w = this.senders.shift(); w !== undefined; w = this.senders.shift()) {
      const error = new ChannelClosedError(`${this} was closed while a send waited`);
      if (isCase(w)) w.chooser.fire(w, error);
      else wake(w, w.slot as Send<T>, error, true);
    }
    // Receivers wait only on an empty buffer: they all see the end.
    for (let w = this.receivers.shift(); w !== undefined; w = this.receivers.shift()) this.deliver(w, undefined);
  }

  /**
   * Read the channel from async/await code: `for await (const v of ch)`. Each step receives on
   * the default scheduler; leaving the loop early withdraws a pending receive.
   *
   * @example
   * ```ts
   * for await (const event of events) console.log(event);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    let pending: Task<T | undefined> | undefined;
    return {
      next: async () => {
        pending = run(this.receive());
        const value = await pending;
        pending = undefined;
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      return: async () => {
        await pending?.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  /** `channel#n`, as channels appear in messages. */
  toString(): string {
    return `channel#${this.id}`;
  }

  // ---- the two moves everything else is made of ------------------------------------------

  /** @internal Take `value`: a waiting receiver gets it, else the buffer; when the buffer is
   * full the overflow policy applies. False only when the sender has to wait. */
  put(value: T): boolean {
    if (this.ended === true) throw new ChannelClosedError(`cannot send on ${this}: it is closed`);
    for (let w = this.receivers.shift(); w !== undefined; w = this.receivers.shift()) {
      if (this.deliver(w, value)) return true;
    }
    if (this.buffer.size < this.capacity) {
      this.buffer.push(value);
      return true;
    }
    if (this.overflow === "wait") return false;
    this.dropped++;
    if (this.overflow === "slide") {
      this.buffer.shift();
      this.buffer.push(value);
    }
    return true;
  }

  /** @internal The next value without waiting: from the buffer (which a waiting sender then
   * refills), else straight from a waiting sender; NONE if there is none. */
  take(): T | typeof NONE {
    if (this.buffer.size > 0) {
      const v = this.buffer.shift()!;
      while (this.buffer.size < this.capacity && this.senders.size > 0) {
        const w = this.takeFrom(this.senders.shift()!);
        if (w !== NONE) this.buffer.push(w);
      }
      return v;
    }
    for (let w = this.senders.shift(); w !== undefined; w = this.senders.shift()) {
      const v = this.takeFrom(w);
      if (v !== NONE) return v;
    }
    return NONE;
  }

  /** @internal Put back a value that was received but could not be used: the first waiting
   * receiver gets it, else it is first in the buffer (even past capacity: it was taken). */
  unreceive(value: T): void {
    for (let w = this.receivers.shift(); w !== undefined; w = this.receivers.shift()) {
      if (this.deliver(w, value)) return;
    }
    this.buffer.unshift(value);
  }

  /** @internal Whether a receive could complete now (a value, or the end). */
  canReceive(): boolean {
    return this.buffer.size > 0 || this.senders.size > 0 || this.ended;
  }

  /** @internal Whether a send could complete now (or fail at once, when closed). */
  canSend(): boolean {
    return this.ended || this.receivers.size > 0 || this.buffer.size < this.capacity || this.overflow !== "wait";
  }

  private deliver(w: Waiter, value: T | undefined): boolean {
    if (isCase(w)) return w.chooser.fire(w, value) !== null;
    return wake(w, this.receiving, value);
  }

  private takeFrom(w: Waiter): T | typeof NONE {
    if (isCase(w)) {
      const fired = w.chooser.fire(w, undefined);
      return fired === null ? NONE : (fired.value as T);
    }
    const send = w.slot as Send<T>;
    return wake(w, send, undefined) ? send.item : NONE;
  }
}

/**
 * Make a channel. `capacity` 0 (the default) is a rendezvous: a send waits for its receiver, as
 * in Go. A positive capacity buffers that many values; `overflow` says what a full buffer does.
 *
 * @throws RangeError for a capacity that is not a whole number >= 0 (or Infinity), or for
 * overflow "drop"/"slide" on a rendezvous channel; TypeError for an unknown overflow policy.
 * @example
 * ```ts
 * const pings = channel<number>();        // rendezvous
 * const logs = channel<string>(1000);      // buffered; senders wait when full
 * const ticks = channel<number>(1, { overflow: "slide" }); // only the latest tick is kept
 * ```
 */
export function channel<T extends {} | null>(capacity = 0, options: ChannelOptions = {}): Channel<T> {
  if (typeof capacity !== "number" || !(capacity >= 0) || (capacity !== Infinity && !Number.isInteger(capacity))) {
    throw new RangeError(`channel(capacity) expects a whole number >= 0 (or Infinity), got ${describe(capacity)}`);
  }
  const overflow = options.overflow ?? "wait";
  if (overflow !== "wait" && overflow !== "drop" && overflow !== "slide") {
    throw new TypeError(`channel() expects overflow "wait", "drop" or "slide", got ${describe(overflow)}`);
  }
  if (overflow !== "wait" && capacity === 0) {
    throw new RangeError(`channel() with overflow "${overflow}" needs a capacity of at least 1`);
  }
  return new Channel<T>(capacity, overflow);
}
