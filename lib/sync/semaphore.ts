// Semaphores: at most n holders at once; waiters get permits first in, first out. A released
// permit goes straight to the oldest waiter, so no late-comer can barge in ahead.

import { WaitQueue } from "../core/wait-queue.js";
import { direct, noteMade, type Operation } from "../core/effect.js";
import { call } from "../core/effects.js";
import { describe, checkOperation, type OperationLike } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import type { Task } from "../core/task.js";

/** The effect of {@link Semaphore.acquire}: one per semaphore. */
class Acquire extends Park<void> {
  constructor(readonly semaphore: Semaphore) {
    super();
  }
  enter(task: Task): void | typeof PARKED {
    if (this.semaphore.tryAcquire()) return undefined;
    this.semaphore.waiters.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    this.semaphore.waiters.remove(task);
  }
  /** A permit taken but not used (a lost race) is released. */
  override restore(): void {
    this.semaphore.release();
  }
  override toString(): string {
    return `acquire(${this.semaphore})`;
  }
}
direct(Acquire); // performed in a combinator's helper itself (see `runIn` in all.ts)

/**
 * A counting semaphore: `acquire()` takes one of `permits` permits, waiting (first in, first
 * out) when none is left; `release()` gives one back. `withPermit(op)` is the safe form: the
 * permit is released however `op` ends.
 *
 * @example
 * ```ts
 * const db = semaphore(5); // at most five queries at once
 * function* query(sql: string) {
 *   return yield* db.withPermit(() => call(client.query, sql));
 * }
 * ```
 */
export class Semaphore {
  /** @internal */ readonly waiters = new WaitQueue<Task>();
  private free: number;
  private readonly acquiring = new Acquire(this);

  /** @internal Use {@link semaphore}. */
  constructor(readonly permits: number) {
    this.free = permits;
  }

  /** How many permits are free now. */
  get available(): number {
    return this.free;
  }

  /**
   * Take a permit, waiting for one if none is free. A waiter that is cancelled takes none.
   *
   * @example
   * ```ts
   * yield* sem.acquire();
   * try {
   *   yield* work();
   * } finally {
   *   sem.release();
   * }
   * ```
   */
  acquire(): Operation<void> {
    noteMade(this.acquiring);
    return this.acquiring;
  }

  /**
   * Take a permit if one is free now, without waiting.
   *
   * @example
   * ```ts
   * if (!sem.tryAcquire()) return "busy";
   * ```
   */
  tryAcquire(): boolean {
    if (this.free === 0 || this.waiters.size > 0) return false;
    this.free--;
    return true;
  }

  /**
   * Give a permit back: the oldest waiter gets it at once. Callable from anywhere.
   *
   * @throws Error if more permits are released than were acquired.
   * @example
   * ```ts
   * sem.release();
   * ```
   */
  release(): void {
    for (let t = this.waiters.shift(); t !== undefined; t = this.waiters.shift()) {
      if (wake(t, this.acquiring, undefined)) return; // the permit passes straight to it
    }
    if (this.free === this.permits) throw new Error(`${this}.release() called more often than acquire()`);
    this.free++;
  }

  /**
   * Run `op` holding a permit, released when it ends (returns, throws or is cancelled).
   *
   * @example
   * ```ts
   * const pages = yield* all(urls.map((u) => fetchers.withPermit(() => get(u))));
   * ```
   */
  withPermit<T>(op: OperationLike<T>): Operation<T> {
    checkOperation(op, "withPermit()");
    return call(withPermit<T>, this, op);
  }

  toString(): string {
    return `semaphore(${this.free}/${this.permits} free)`;
  }
}

/**
 * Make a semaphore with `permits` permits.
 *
 * @throws RangeError unless `permits` is a whole number >= 1.
 * @example
 * ```ts
 * const slots = semaphore(3);
 * ```
 */
export function semaphore(permits: number): Semaphore {
  if (typeof permits !== "number" || !Number.isInteger(permits) || permits < 1) {
    throw new RangeError(`semaphore(permits) expects a whole number >= 1, got ${describe(permits)}`);
  }
  return new Semaphore(permits);
}

/** The body of {@link Semaphore.withPermit}: made once, not per call (see architecture.md,
 * "Performance notes"). */
function* withPermit<T>(sem: Semaphore, op: OperationLike<T>): Operation<T> {
  yield* sem.acquire();
  try {
    return yield* call(op as Operation<T>);
  } finally {
    sem.release();
  }
}
