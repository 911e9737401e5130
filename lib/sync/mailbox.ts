// Mailboxes, Erlang style: every task has one. tell() never blocks and works from anywhere;
// receive() takes the first message a pattern accepts and leaves the others queued, in order.

import { Deque } from "../core/deque.js";
import { WaitQueue } from "../core/wait-queue.js";
import { direct, noteMade, type Operation, used } from "../core/effect.js";
import { checkMs } from "../core/effects.js";
import { describe, nameOfFunction } from "../core/operation.js";
import { asResult, Park, PARKED, wake } from "../core/park.js";
import { actorOf, Task } from "../core/task.js";
import { timeout as withTimeout } from "../combinators/timeout.js";

/** A task's queue of messages, and the receives waiting on it (its own, and those of the helper
 * tasks that read its mailbox: contestants of a race, say). Made when first needed: when a
 * message must wait, or a helper task waits in a receive. Until then the task's own receive
 * waits with no mailbox at all (see `waitingTake`), so an actor idle in `receive` costs nothing
 * beyond a task that sleeps. The queue of messages is made when the first message must wait,
 * and only then is the task watched, to drop what is left unread when it ends. */
class Mailbox {
  /** Messages no receive has taken yet, oldest first (null until one has had to wait). */
  queued: Deque<unknown> | null = null;
  /** The tasks waiting in a receive, each on its Take (its `slot`): in order, and each leaves
   * in O(1) when cancelled. */
  readonly waiting = new WaitQueue<Task>();
  constructor(readonly actor: Task) {}

  /** The queue of messages, made (and the actor watched) on first use. */
  messages(): Deque<unknown> {
    if (this.queued === null) {
      this.queued = new Deque<unknown>();
      this.actor.sched.watch(this.actor, release);
    }
    return this.queued;
  }

  /** Hand `message` to the first waiting receive that takes it; false if none does. `first`:
   * a message given back (see `restore`), first in line again if it has to wait. */
  offer(message: unknown, first = false): boolean {
    const waiting = this.waiting;
    for (let i = 0; i < waiting.length; i++) {
      const task = waiting.at(i);
      if (task === null) continue;
      const position = task.waitIndex;
      if (offerTo(task, task.slot as Take, message, this, first)) return true;
      // The pattern may have told a message that took waiters at the front: go on after `task`.
      i = waiting.offsetOf(position);
    }
    return false;
  }
}

const boxes = new WeakMap<Task, Mailbox>();
let dropped = 0;

/** Drop a finished task's mailbox at once: unread messages are counted, not kept. */
function release(task: Task): void {
  const box = boxes.get(task);
  if (box === undefined) return;
  dropped += box.queued?.size ?? 0;
  boxes.delete(task);
}

/** `actor`'s mailbox, made if it has none: an actor waiting in a receive with none made is then
 * its first waiter. */
function mailboxOf(actor: Task): Mailbox {
  let box = boxes.get(actor);
  if (box === undefined) {
    boxes.set(actor, (box = new Mailbox(actor)));
    if (waitingTake(actor) !== null) box.waiting.push(actor);
  }
  return box;
}

/** The receive `actor` waits in while it has no mailbox, or null. (With none made, only the
 * actor itself can wait in one: a helper task's receive makes the mailbox.) Not merely what it
 * last waited on: a receive woken with an effect as its message still has it in its slot. */
function waitingTake(actor: Task): Take | null {
  const on = actor.slot;
  return on instanceof Take && actor.sched.waiting(actor, on) ? on : null;
}

/**
 * Offer `message` to `task`, waiting on `take` in `box`'s queue (or, with `box` null, in its own
 * receive with no mailbox made). True if the receive took it, or failed on it: a pattern that
 * throws is the receiver's code, so the failure is the receiver's, not the sender's, and the
 * message waits for a later receive (last in line, or `first`: see `Mailbox.offer`). False if
 * the pattern refused it, or if the task no longer waits there when the pattern returns (a
 * pattern that told its own task: that message was taken).
 */
function offerTo(task: Task, take: Take, message: unknown, box: Mailbox | null, first = false): boolean {
  let accepted: boolean;
  let threw = false;
  let error: unknown;
  try {
    accepted = take.accepts(message);
  } catch (e) {
    accepted = threw = true;
    error = e;
  }
  if (!accepted) return false;
  const mailbox = box ?? boxes.get(task); // (a pattern that told its own task may have made its mailbox)
  if (mailbox === undefined ? !task.sched.waiting(task, take) : !mailbox.waiting.remove(task)) return false;
  wake(task, take, threw ? error : message, threw);
  if (threw) {
    // Woken first: a mailbox made now does not take the failed receive for a waiting one.
    const messages = (mailbox ?? mailboxOf(task)).messages();
    if (first) messages.unshift(message);
    else messages.push(message);
  }
  return true;
}

/** The effect of {@link receive}: the current task takes a message from its own mailbox. */
class Take extends Park<unknown> {
  constructor(readonly match: ((message: unknown) => boolean) | undefined) {
    super();
  }
  enter(task: Task): unknown {
    const actor = actorOf(task);
    let box = boxes.get(actor);
    if (box === undefined) {
      if (actor === task) return PARKED; // with no mailbox: tell() finds it by what it waits on
      box = mailboxOf(actor);
    }
    const messages = box.queued;
    if (messages !== null) {
      for (let i = 0; i < messages.size; i++) {
        if (this.accepts(messages.at(i))) return asResult(messages.removeAt(i));
      }
    }
    box.waiting.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    boxes.get(actorOf(task))?.waiting.remove(task);
  }
  /** A message received but not used (a lost race) goes back first in line. */
  override restore(message: unknown, task: Task): void {
    const actor = actorOf(task);
    if (actor.state !== "running") return void dropped++;
    const box = mailboxOf(actor);
    if (!box.offer(message, true)) box.messages().unshift(message);
  }
  accepts(message: unknown): boolean {
    return this.match === undefined || this.match(message);
  }
  override toString(): string {
    return `receive(${this.match ? nameOfFunction(this.match, "pattern") : ""})`;
  }
}
direct(Take); // performed in a combinator's helper itself (see `runIn` in all.ts)
const ANY = new Take(undefined);

/**
 * Send `message` to `task`'s mailbox. Never blocks; works inside or outside a coroutine. If the
 * task waits in {@link receive} for such a message, it gets it now. A message to a task that
 * has finished is dropped and counted (see {@link droppedMessages}); so are unread messages when
 * a task finishes. Returns whether the message was delivered to a live task.
 *
 * @throws TypeError at the call if `task` is not a task.
 * @example
 * ```ts
 * const logger = yield* spawn(function* () {
 *   for (;;) console.log(yield* receive());
 * });
 * tell(logger, "hello");
 * ```
 */
export function tell(task: Task<unknown>, message: unknown): boolean {
  if (!(task instanceof Task)) throw new TypeError(`tell() expects a task to send to, got ${describe(task)}`);
  if (task.state !== "running") {
    dropped++;
    return false;
  }
  if (typeof message === "object") used(message); // an effect handed to another task to yield: not forgotten
  const actor = actorOf(task);
  const box = boxes.get(actor);
  if (box !== undefined) {
    if (!box.offer(message)) box.messages().push(message);
    return true;
  }
  // No mailbox yet: the actor's own receive, if it waits in one, is the only taker.
  const take = waitingTake(actor);
  if (take === null || !offerTo(actor, take, message, null)) mailboxOf(actor).messages().push(message);
  return true;
}

/**
 * Options of {@link receive}.
 *
 * @example
 * ```ts
 * const reply = yield* receive(undefined, { timeout: 1000 });
 * ```
 */
export interface ReceiveOptions {
  /** Give up after this many milliseconds with a TimeoutError. */
  timeout?: number;
}

/**
 * Take a message from the current task's mailbox: the first one `match` accepts (any message
 * without `match`), waiting for it if need be. Messages it skips stay queued, in order, for a
 * later receive. With a `timeout`, waiting ends with a {@link TimeoutError}.
 *
 * The message's type comes from `match` when it is a type guard (`(m): m is Ping => …`): then it
 * is checked. A type argument alone (`receive<number>()`) is a cast that nothing checks: any
 * message another task sends is returned as that type, so prefer a guard for messages you do
 * not fully control.
 *
 * @throws RangeError/TypeError at the call for a bad timeout; TimeoutError at the yield.
 * @example
 * ```ts
 * const isPing = (m: unknown): m is { ping: Task } => typeof m === "object" && m !== null && "ping" in m;
 * function* ponger() {
 *   for (;;) {
 *     const { ping } = yield* receive(isPing, { timeout: 5000 });
 *     tell(ping, "pong");
 *   }
 * }
 * ```
 */
export function receive<M>(match: (message: unknown) => message is M, options?: ReceiveOptions): Operation<M>;
export function receive<M = unknown>(match?: (message: unknown) => boolean, options?: ReceiveOptions): Operation<M>;
export function receive(match?: (message: unknown) => boolean, options?: ReceiveOptions): Operation<unknown> {
  if (match !== undefined && typeof match !== "function") {
    throw new TypeError(`receive() expects a predicate function or nothing, got ${describe(match)}`);
  }
  const take = match === undefined ? ANY : new Take(match);
  const ms = options?.timeout;
  if (ms === undefined) {
    noteMade(take);
    return take;
  }
  checkMs(ms, "receive(…, { timeout })");
  return withTimeout(ms, take);
}

/**
 * How many messages have been dropped so far, in this process: sent to a finished task, or
 * left unread when their task finished.
 *
 * @example
 * ```ts
 * const before = droppedMessages();
 * tell(finishedTask, "too late");
 * console.log(droppedMessages() - before); // 1
 * ```
 */
export function droppedMessages(): number {
  return dropped;
}
