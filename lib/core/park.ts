// The extension point for objects that tasks wait on — channels, mailboxes, locks: an effect
// that performs itself, and one way to wake the task it parked. Waiting allocates nothing.

import { current, Effect, firstStep, tag, used } from "./effect.js";
import type { Task } from "./task.js";

/**
 * What {@link Park.enter} returns when it has enlisted the task instead of completing. (So an
 * `enter` cannot complete with PARKED itself as the result; {@link wake} can. skein's own
 * channels, mailboxes and signals deliver it like any other value.)
 *
 * @example
 * ```ts
 * enter(task: Task) {
 *   if (this.ready) return this.value;
 *   this.waiting.push(task);
 *   return PARKED;
 * }
 * ```
 */
export const PARKED: unique symbol = Symbol("skein.parked");

/** @internal What `enter` returns when its result is {@link PARKED} itself (a value sent through a
 * channel, say): the task goes on with PARKED, which returned as such would have parked it. See
 * {@link asResult}. */
export const PARKED_ITSELF: unique symbol = Symbol("skein.parked-itself");

/** @internal `value` as an `enter` returns it: PARKED_ITSELF for PARKED, else itself. For the
 * results that users choose (a value sent, a message, a signal's value). */
export function asResult<T>(value: T): T {
  // (`typeof` first: a value compared with a symbol, numbers one time and symbols another, is
  // compared by a generic builtin call.)
  return typeof value === "symbol" && value === PARKED ? (PARKED_ITSELF as never) : value;
}

/**
 * An effect that performs itself: the building block of channels, mailboxes, semaphores and the
 * like. When a task performs it (`yield*` calls it inside its first step; a plain `yield` leaves
 * it to the scheduler), `enter(task)` is called, which either completes at once (returns the
 * result, or throws it into the task) or enlists the task in the object's own queue and returns
 * {@link PARKED}. Later the object calls {@link wake} with the result. If the task is cancelled
 * while parked, or does not wait after all, `leave(task)` is called so the object forgets it.
 *
 * @example
 * ```ts
 * // A gate tasks wait at until it opens.
 * class Gate {
 *   open = false;
 *   waiting: Task[] = [];
 *   pass(): Operation<void> {
 *     const gate = this;
 *     return new (class extends Park<void> {
 *       enter(task: Task) {
 *         if (gate.open) return undefined;
 *         gate.waiting.push(task);
 *         return PARKED;
 *       }
 *       leave(task: Task) {
 *         gate.waiting.splice(gate.waiting.indexOf(task), 1);
 *       }
 *     })();
 *   }
 * }
 * ```
 */
export abstract class Park<T = unknown> extends Effect<T> {
  declare readonly type: "park";
  /** Complete for `task` now (return the result or throw), or enlist it and return PARKED. */
  abstract enter(task: Task): T | typeof PARKED;
  /** The first step of `yield*`: inside a running task (see `Scheduler.quick`), the effect is
   * entered here, not after a trip through the step loop's dispatch: what it completes with is
   * returned at once, and a wait is entered here and handed on as the effect itself (see
   * `Scheduler.parkHere`). Elsewhere (stepped by hand outside a task) the effect is yielded. */
  override next(value?: unknown): IteratorResult<Effect<T>, T> {
    if (!firstStep()) return { done: true, value: value as T };
    const t = current.task as Task | null;
    if (t === null || !t.sched.quick(t)) return this;
    used(this); // yielded, as far as the forgotten-yield check goes
    let result: T | typeof PARKED;
    try {
      result = this.enter(t);
    } catch (e) {
      t.sched.thrownBy(e, this);
      throw e;
    }
    if (result === PARKED) {
      t.sched.parkHere(t, this);
      return this;
    }
    return { done: true, value: (typeof result === "symbol" && result === PARKED_ITSELF ? PARKED : result) as T };
  }
  /** `task`, parked on this effect, is being cancelled, or does not wait after all (code that
   * stepped its `yield*` by hand went on to something else): remove it from where `enter` put it.
   * The effect may be entered again afterwards. (Woken meanwhile, it is not called: what the
   * wake gave goes to {@link restore}.) */
  abstract leave(task: Task): void;
  /**
   * Take back `value`, which this effect gave `task` but which could not be used: the task was
   * a contestant of `race` that lost, or of `all` that failed or was cancelled, or it was woken
   * before code that stepped its `yield*` by hand handed the wait on, and went on to something
   * else instead (see {@link leave}). A channel puts
   * the value back first in line, a semaphore its permit, a mailbox its message, so that nothing
   * taken is lost. By default nothing is done (a signal, say, gives nothing away).
   */
  restore(value: T, task: Task): void {
    void value;
    void task;
  }
}

/** @internal How an operation that is not a Park gives back what it took: `select` with a
 * timeout, `timeout(ms, op)`, `race` and `all` carry one (see {@link Park.restore}). */
export const RESTORE: unique symbol = Symbol("skein.restore");

/** @internal Give `op` a way to give back what it produced. */
export function restorable<O extends object>(op: O, restore: (value: any, task: Task) => void): O {
  (op as { [RESTORE]?: unknown })[RESTORE] = restore; // (Object.assign with a literal: ~300 instructions more a call)
  return op;
}

/** Whether `op` carries a way to give back what it produced (see `restorable`). */
function carriesRestore(op: unknown): op is { [RESTORE]: (value: unknown, task: Task) => void } {
  return typeof op === "object" && op !== null && RESTORE in op;
}

/** @internal Whether `op` can give back what it produced (a Park, or an operation carrying
 * RESTORE): a combinator that holds none of them has nothing to give back. */
export function restores(op: unknown): boolean {
  return op instanceof Park || carriesRestore(op);
}

/** @internal Give back what `op` produced for `task`, if it can (see {@link Park.restore}). */
export function giveBack(op: unknown, value: unknown, task: Task): void {
  if (op instanceof Park) op.restore(value, task);
  else if (carriesRestore(op)) op[RESTORE](value, task);
}
tag(Park, "park");

/**
 * Wake `task`, parked on `on`, so that `yield* on` returns `value` (or throws it, with `threw`).
 * Returns false, doing nothing, if the task no longer waits there (it was cancelled, or woken
 * already). Callable from anywhere, inside or outside a coroutine.
 *
 * @example
 * ```ts
 * function openGate(gate: Gate, effect: Park<void>) {
 *   gate.open = true;
 *   for (const task of gate.waiting.splice(0)) wake(task, effect, undefined);
 * }
 * ```
 */
export function wake(task: Task, on: Park<any>, value: unknown, threw = false): boolean {
  const s = task.sched;
  if (!s.waiting(task, on)) return false;
  s.resume(task, value, threw);
  return true;
}

/**
 * @internal {@link wake}, from a host callback that nothing else runs inside (an I/O event): the
 * task runs in the callback, unless a step is running or the loop is due anyway (see
 * `Scheduler.resumeHere`). Saves the microtask and the separate run of the loop a wake costs.
 */
export function wakeHere(task: Task, on: Park<any>, value: unknown, threw = false): boolean {
  const s = task.sched;
  if (!s.waiting(task, on)) return false;
  s.resumeHere(task, value, threw);
  return true;
}
