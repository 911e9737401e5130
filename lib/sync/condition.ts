// A condition variable over a mutex, as Trio's Condition: holding the lock, a task waits for a
// change (the lock is released meanwhile and held again when it returns), and another task,
// holding the lock, notifies one or all waiters.

import { WaitQueue } from "../core/wait-queue.js";
import type { Operation } from "../core/effect.js";
import { shield } from "../core/effects.js";
import type { OperationLike } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import { current, type Task } from "../core/task.js";
import { mutex, type Mutex } from "./mutex.js";

/** The effect of waiting to be notified: one per condition. */
class Notified extends Park<void> {
  constructor(readonly condition: Condition) {
    super();
  }
  enter(task: Task): typeof PARKED {
    this.condition.waiters.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    this.condition.waiters.remove(task);
  }
  override toString(): string {
    return `${this.condition}.wait()`;
  }
}

/**
 * A condition variable: tasks holding `lock` wait for a change that another task, holding the
 * same lock, announces with `notify()` or `notifyAll()`. `wait()` releases the lock while it
 * waits and holds it again when it returns, even when it is cancelled (then it takes the lock
 * back before the `Cancelled` goes on). As always with conditions, check the state again after
 * waking: `while (!ready) yield* cond.wait()`.
 *
 * @example
 * ```ts
 * const items: string[] = [];
 * const nonEmpty = condition();
 * function* take() {
 *   return yield* nonEmpty.withLock(function* () {
 *     while (items.length === 0) yield* nonEmpty.wait();
 *     return items.shift()!;
 *   });
 * }
 * function* put(item: string) {
 *   yield* nonEmpty.withLock(function* () {
 *     items.push(item);
 *     nonEmpty.notify();
 *   });
 * }
 * ```
 */
export class Condition {
  /** @internal Tasks waiting to be notified, first in, first out. */ readonly waiters = new WaitQueue<Task>();
  private readonly notified = new Notified(this);

  /** @internal Use {@link condition}. */
  constructor(
    /** The lock the condition is used under. */
    readonly lock: Mutex,
  ) {}

  /**
   * Release the lock, wait until notified, and take the lock again.
   *
   * @throws Error at the `yield*` unless the calling task holds the lock.
   * @example
   * ```ts
   * yield* cond.lock.lock();
   * try {
   *   while (!done) yield* cond.wait();
   * } finally {
   *   cond.lock.unlock();
   * }
   * ```
   */
  *wait(): Operation<void> {
    this.held("wait()");
    this.lock.unlock(); // nothing runs before the wait below begins: no notify can be missed
    try {
      yield* this.notified;
    } finally {
      yield* shield(this.lock.lock()); // held again, cancelled or not
    }
  }

  /**
   * Wake up to `n` waiting tasks (default 1), oldest first; each returns from `wait()` once it
   * has the lock again.
   *
   * @throws Error unless the calling task holds the lock.
   * @example
   * ```ts
   * cond.notify();
   * ```
   */
  notify(n = 1): void {
    this.held("notify()");
    while (n > 0) {
      const t = this.waiters.shift();
      if (t === undefined) return;
      if (wake(t, this.notified, undefined)) n--;
    }
  }

  /**
   * Wake every waiting task.
   *
   * @throws Error unless the calling task holds the lock.
   * @example
   * ```ts
   * cond.notifyAll();
   * ```
   */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /**
   * Run `op` holding the condition's lock.
   *
   * @example
   * ```ts
   * yield* cond.withLock(function* () { while (!ready) yield* cond.wait(); });
   * ```
   */
  withLock<T>(op: OperationLike<T>): Operation<T> {
    return this.lock.withLock(op);
  }

  /**
   * How many tasks wait to be notified.
   *
   * @example
   * ```ts
   * if (cond.waiting > 0) yield* cond.withLock(function* () { cond.notify(); });
   * ```
   */
  get waiting(): number {
    return this.waiters.size;
  }

  private held(what: string): void {
    const task = current.task;
    if (this.lock.holder === null || this.lock.holder !== task) {
      throw new Error(`${this}.${what} needs its lock held by the calling task${task === null ? "" : ` (task ${task})`}: call it inside cond.withLock(…)`);
    }
  }

  toString(): string {
    return `condition(${this.lock})`;
  }
}

/**
 * Make a condition variable over `lock` (a new mutex by default).
 *
 * @example
 * ```ts
 * const changed = condition();
 * const shared = mutex();
 * const alsoChanged = condition(shared); // two conditions under one lock
 * ```
 */
export function condition(lock: Mutex = mutex()): Condition {
  return new Condition(lock);
}
