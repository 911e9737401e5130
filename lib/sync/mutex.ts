// A mutex with an owner: one task holds it at a time, waiters get it first in, first out, and only
// the holder may unlock it. Not re-entrant: locking it again from its holder is an error, not a
// deadlock. As Trio's Lock.

import { WaitQueue } from "../core/wait-queue.js";
import { direct, noteMade, type Operation } from "../core/effect.js";
import { call } from "../core/effects.js";
import { checkOperation, type OperationLike } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import { current, type Task } from "../core/task.js";

/** The effect of {@link Mutex.lock}: one per mutex. */
class Lock extends Park<void> {
  constructor(readonly mutex: Mutex) {
    super();
  }
  enter(task: Task): void | typeof PARKED {
    const m = this.mutex;
    if (m.owner === task) {
      throw new Error(`task ${task} locked ${m} again while holding it: a mutex is not re-entrant (this would wait for ever)`);
    }
    if (m.owner === null && m.waiters.size === 0) {
      m.owner = task;
      return undefined;
    }
    m.waiters.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    this.mutex.waiters.remove(task);
  }
  /** Taken by a contestant that lost a race: let it go. */
  override restore(): void {
    this.mutex.handOn();
  }
  override toString(): string {
    return `lock(${this.mutex})`;
  }
}
direct(Lock); // performed in a combinator's helper itself (see `runIn` in all.ts)

let mutexes = 0;

/**
 * A lock that one task holds at a time, with an owner: `lock()` waits (first in, first out)
 * while another task holds it; `unlock()` must be called by the holder, and hands the lock to
 * the oldest waiter. `withLock(op)` is the safe form: the lock is released however `op` ends.
 *
 * @example
 * ```ts
 * const file = mutex();
 * function* append(line: string) {
 *   yield* file.withLock(() => call(fs.promises.appendFile, "log.txt", line + "\n"));
 * }
 * ```
 */
export class Mutex {
  /** @internal The task that holds it, or null. */ owner: Task | null = null;
  /** @internal */ readonly waiters = new WaitQueue<Task>();
  private readonly locking = new Lock(this);
  private readonly id = ++mutexes;

  /**
   * True while a task holds the lock.
   *
   * @example
   * ```ts
   * if (!m.locked) console.log("free now (another task may take it before you do)");
   * ```
   */
  get locked(): boolean {
    return this.owner !== null;
  }

  /**
   * The task that holds the lock, or null.
   *
   * @example
   * ```ts
   * console.log(`held by ${m.holder ?? "nobody"}`); // "held by #4 writer"
   * ```
   */
  get holder(): Task | null {
    return this.owner;
  }

  /**
   * Take the lock, waiting while another task holds it. A waiter that is cancelled takes nothing.
   *
   * @throws Error at the `yield*` if this task holds it already (it is not re-entrant).
   * @example
   * ```ts
   * yield* m.lock();
   * try { yield* critical(); } finally { m.unlock(); }
   * ```
   */
  lock(): Operation<void> {
    noteMade(this.locking);
    return this.locking;
  }

  /**
   * Take the lock if it is free now, without waiting; call it from the coroutine that will
   * unlock it.
   *
   * @throws Error if called outside a coroutine (nobody could unlock it).
   * @example
   * ```ts
   * if (!m.tryLock()) return "busy";
   * try { yield* critical(); } finally { m.unlock(); }
   * ```
   */
  tryLock(): boolean {
    const task = current.task;
    if (task === null) throw new Error(`${this}.tryLock() was called outside a coroutine: lock from the task that will unlock it`);
    if (this.owner !== null || this.waiters.size > 0) return false;
    this.owner = task;
    return true;
  }

  /**
   * Release the lock: the oldest waiter gets it. Only the holder may.
   *
   * @throws Error if the lock is not held, or held by another task than the caller.
   * @example
   * ```ts
   * m.unlock();
   * ```
   */
  unlock(): void {
    const caller = current.task;
    if (this.owner === null) throw new Error(`${this}.unlock(): the lock is not held`);
    if (caller !== this.owner) {
      throw new Error(
        `${this}.unlock() was called ${caller === null ? "outside a coroutine" : `by task ${caller}`}, but task ${this.owner} holds it: only the task that locked it may unlock it`,
      );
    }
    this.handOn();
  }

  /** @internal Give the lock to the oldest waiter that still waits, or free it. */
  handOn(): void {
    for (let t = this.waiters.shift(); t !== undefined; t = this.waiters.shift()) {
      if (wake(t, this.locking, undefined)) {
        this.owner = t;
        return;
      }
    }
    this.owner = null;
  }

  /**
   * Run `op` holding the lock, released however it ends (returns, throws or is cancelled).
   *
   * @example
   * ```ts
   * yield* m.withLock(function* () { balance += yield* fetchDelta(); });
   * ```
   */
  withLock<T>(op: OperationLike<T>): Operation<T> {
    checkOperation(op, "withLock()");
    return call(withLock<T>, this, op);
  }

  toString(): string {
    return `mutex#${this.id}`;
  }
}

/**
 * Make a mutex (a lock with an owner).
 *
 * @example
 * ```ts
 * const m = mutex();
 * ```
 */
export function mutex(): Mutex {
  return new Mutex();
}

/** The body of {@link Mutex.withLock}: made once, not per call (see architecture.md,
 * "Performance notes"). */
function* withLock<T>(m: Mutex, op: OperationLike<T>): Operation<T> {
  yield* m.lock();
  try {
    return yield* call(op as Operation<T>);
  } finally {
    m.unlock();
  }
}
