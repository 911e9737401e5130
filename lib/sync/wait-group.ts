// A wait group (a latch): count work in with add(), out with done(); wait() returns at zero.

import { WaitQueue } from "../core/wait-queue.js";
import { noteMade, type Operation } from "../core/effect.js";
import { describe } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import type { Task } from "../core/task.js";

/** The effect of {@link WaitGroup.wait}: one per group. */
class Zero extends Park<void> {
  constructor(readonly group: WaitGroup) {
    super();
  }
  enter(task: Task): void | typeof PARKED {
    if (this.group.count === 0) return undefined;
    this.group.waiters.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    this.group.waiters.remove(task);
  }
  override toString(): string {
    return `waitGroup.wait() (${this.group.count} to go)`;
  }
}

/**
 * A counter of outstanding work, as Go's sync.WaitGroup: `add(n)` before starting work,
 * `done()` when a piece finishes, and `wait()` returns once the count is back to zero. Useful
 * when the work is not a set of child tasks (callbacks, other schedulers, messages).
 *
 * @example
 * ```ts
 * const pending = waitGroup();
 * for (const file of files) {
 *   pending.add();
 *   fs.readFile(file, () => pending.done());
 * }
 * yield* pending.wait();
 * ```
 */
export class WaitGroup {
  /** @internal */ readonly waiters = new WaitQueue<Task>();
  private outstanding = 0;
  private readonly zero = new Zero(this);

  /** How much work is outstanding. */
  get count(): number {
    return this.outstanding;
  }

  /**
   * Count `n` more pieces of work (default 1).
   *
   * @throws RangeError unless `n` is a whole number >= 0.
   * @example
   * ```ts
   * group.add(jobs.length);
   * ```
   */
  add(n = 1): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`waitGroup.add(n) expects a whole number >= 0, got ${describe(n)}`);
    this.outstanding += n;
  }

  /**
   * One piece of work is done; at zero every waiter wakes. Callable from anywhere.
   *
   * @throws Error if called more often than work was added.
   * @example
   * ```ts
   * group.done();
   * ```
   */
  done(): void {
    if (this.outstanding === 0) throw new Error("waitGroup.done() called more often than add()");
    if (--this.outstanding > 0) return;
    for (let t = this.waiters.shift(); t !== undefined; t = this.waiters.shift()) wake(t, this.zero, undefined);
  }

  /**
   * Wait until the count is zero (at once if it is).
   *
   * @example
   * ```ts
   * yield* group.wait();
   * ```
   */
  wait(): Operation<void> {
    noteMade(this.zero);
    return this.zero;
  }
}

/**
 * Make a wait group with a count of zero.
 *
 * @example
 * ```ts
 * const group = waitGroup();
 * ```
 */
export function waitGroup(): WaitGroup {
  return new WaitGroup();
}
