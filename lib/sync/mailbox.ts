// Mailboxes, Erlang style: every task has one. tell() never blocks and works from anywhere;
// receive() takes the first message a pattern accepts and leaves the others queued, in order.

import { Deque } from "../core/deque.js";
import { WaitQueue } from "../core/wait-queue.js";
import { noteMade, used, type Operation } from "../core/effect.js";
import { checkMs } from "../core/effects.js";
import { describe } from "../core/operation.js";
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
  constructor(readonly owner: Task) {}

  /** The queue of messages, made (and the owner watched) on first use. */
  messages(): Deque<unknown> {
    if (this.queued === null) {
      this.queued = new Deque<unknown>();
      this.owner.sched.watch(this.owner, release);
    }
    return this.queued;
  }

  /** Hand `message` to the first waiting receive that accepts it; false if none does. */
  offer(message: unknown): boolean {
    const waiting = this.waiting;
    for (let i = 0; i < waiting.length; i++) {
      const task = waiting.at(i);
      if (task === null) continue;
      const take = task.slot as Take;
      let accepted: boolean;
      try {
        accepted = take.accepts(message);
      } catch (error) {
        // The pattern is the receiver's code: its failure is the receiver's, not the sender's.
        waiting.remove(task);
        this.messages().push(message);
        wake(task, take, error, true);
        return true;
      }
      if (accepted) {
        waiting.remove(task);
        wake(task, take, message);
        return true;
      }
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

/** The mailbox `task` reads: its own, or that of the task it runs an operation for. */
function mailboxOf(task: Task): Mailbox {
  const actor = actorOf(task);
  return boxes.get(actor) ?? openMailbox(actor);
}

/** Make `actor`'s mailbox. If the actor was waiting in a receive with none, it is the first waiter. */
function openMailbox(actor: Task): Mailbox {
  const box = new Mailbox(actor);
  boxes.set(actor, box);
  if (waitingTake(actor) !== null) box.waiting.push(actor);
  return box;
}

/** The receive `actor` waits in while it has no mailbox, or null. (With none made, only the
 * actor itself can wait in one: a helper task's receive makes the mailbox.) */
function waitingTake(actor: Task): Take | null {
  const on = actor.slot;
  return on instanceof Take && actor.sched.waiting(actor, on) ? on : null;
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
      box = openMailbox(actor);
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
    const box = mailboxOf(task);
    if (box.owner.state !== "running") return void dropped++;
    if (!box.offer(message)) box.messages().unshift(message);
  }
  accepts(message: unknown): boolean {
    return this.match === undefined || this.match(message);
  }
  override toString(): string {
    return `receive(${this.match?.name || (this.match ? "pattern" : "")})`;
  }
}
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
  if (take !== null) {
    let accepted: boolean;
    try {
      accepted = take.accepts(message);
    } catch (error) {
      // The pattern is the receiver's code: its failure is the receiver's, not the sender's.
      wake(actor, take, error, true);
      openMailbox(actor).messages().push(message);
      return true;
    }
    if (accepted) {
      wake(actor, take, message);
      return true;
    }
  }
  openMailbox(actor).messages().push(message);
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
