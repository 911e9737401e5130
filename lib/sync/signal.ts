// A one-shot signal (an event): set once, waited for by any number of tasks, before or after.

import { WaitQueue } from "../core/wait-queue.js";
import { direct, noteMade, type Operation } from "../core/effect.js";
import { asResult, Park, PARKED, wake } from "../core/park.js";
import type { Task } from "../core/task.js";

/** The effect of {@link Signal.wait}: one per signal. */
class Await<T> extends Park<T> {
  constructor(readonly signal: Signal<T>) {
    super();
  }
  enter(task: Task): T | typeof PARKED {
    if (this.signal.isSet) return asResult(this.signal.value as T);
    this.signal.waiters.push(task);
    return PARKED;
  }
  leave(task: Task): void {
    this.signal.waiters.remove(task);
  }
  override toString(): string {
    return "signal.wait()";
  }
}
direct(Await); // performed in a combinator's helper itself (see `runIn` in all.ts)

/**
 * A one-shot signal: `set(value)` once, and every task that waits, before or after, gets the
 * value. Later `set` calls are ignored.
 *
 * @example
 * ```ts
 * const ready = signal<string>();
 * yield* spawn(function* () {
 *   console.log("server up at", yield* ready.wait());
 * });
 * ready.set("http://127.0.0.1:8080");
 * ```
 */
export class Signal<T = void> {
  /** @internal */ readonly waiters = new WaitQueue<Task>();
  private done = false;
  private result: T | undefined;
  private readonly waiting = new Await<T>(this);

  /** True once set. */
  get isSet(): boolean {
    return this.done;
  }

  /** The value it was set with (undefined before). */
  get value(): T | undefined {
    return this.result;
  }

  /**
   * Set the signal and wake every waiter. Returns false (and changes nothing) if it was set
   * already. Callable from anywhere.
   *
   * @example
   * ```ts
   * process.once("SIGUSR2", () => reload.set());
   * ```
   */
  set(...[value]: T extends void ? [value?: T] : [value: T]): boolean {
    if (this.done) return false;
    this.done = true;
    this.result = value as T;
    for (let t = this.waiters.shift(); t !== undefined; t = this.waiters.shift()) wake(t, this.waiting, value);
    return true;
  }

  /**
   * Wait until the signal is set (at once if it is) and return its value.
   *
   * @example
   * ```ts
   * const url = yield* ready.wait();
   * ```
   */
  wait(): Operation<T> {
    noteMade(this.waiting);
    return this.waiting;
  }
}

/**
 * Make a one-shot signal.
 *
 * @example
 * ```ts
 * const stop = signal();
 * ```
 */
export function signal<T = void>(): Signal<T> {
  return new Signal<T>();
}
