// A task waiting on a promise: the record of the wait, the reactions bound to it, and the two
// ways a wait begins (by the `call`, `wait`, `join` and `cancel` handlers, or inside a call's
// own `yield*`).

import type { Effect } from "./effect.js";
import { SUSPEND, type Scheduler } from "./scheduler.js";
import { HALTED, OVERDUE, PARKING, SUSPENDED, type Task } from "./task.js";

/** What a task waits on while a promise is outstanding: the record its reactions are bound to.
 * Its own class beside the handlers' Pending: a base class for the two, with these getters, cost
 * a wait 200 instructions more (a constructor chain; getters met on two classes). A wait begun
 * inside a call's `yield*` hands it to the step loop as the result of that first step (see
 * `awaitHere`): hence `done` and `value`, which say what a result of the call's own would. */
export class Awaiting {
  declare readonly done: false;
  constructor(
    readonly effect: Effect,
    readonly task: Task,
    /** What is awaited: kept on the effect again when a wait begun inside its `yield*` is undone. */
    readonly promise: PromiseLike<unknown>,
  ) {}
  /** The effect, as the result of a `yield*`'s first step (see `awaitHere`). */
  get value(): Effect {
    return this.effect;
  }
  get type(): string {
    return this.effect.type;
  }
  get code(): number {
    return this.effect.code;
  }
  toString(): string {
    return String(this.effect);
  }
}
(Awaiting.prototype as { done: boolean }).done = false;

/** The reactions of a promise: bound to its record, not closures made per wait. Methods of an
 * object, which keep their names under keepNames (`bind` of a renamed function is slow: see
 * architecture.md, "Performance notes"); not on Awaiting itself, which observers are shown. */
const { fulfilled, rejected } = {
  fulfilled(this: Awaiting, value: unknown): void {
    settle(this, value, false);
  },
  rejected(this: Awaiting, error: unknown): void {
    settle(this, error, true);
  },
};
function settle(on: Awaiting, value: unknown, threw: boolean): void {
  const t = on.task;
  const s = t.sched;
  if (!s.waiting(t, on)) return; // cancelled meanwhile, or settled twice by a rogue thenable
  s.inFlight--;
  s.settled(t, value, threw); // run here if the loop is idle; a cancellation may replace the outcome
}

/** @internal Suspend `t` until `promise` settles; counted as in flight so a virtual clock waits
 * for it. For a handler: returns what its `run` returns. */
export function awaitPromise(promise: PromiseLike<unknown>, effect: Effect, t: Task, s: Scheduler): typeof SUSPEND {
  const on = new Awaiting(effect, t, promise);
  s.suspend(t, on);
  listen(on, promise, s);
  return SUSPEND;
}

/**
 * @internal The same from inside the `yield*` of `effect`, a call whose function returned
 * `promise` there (see `Call.next`): the wait begins at once (`Scheduler.parkHere`), and its
 * record is returned for `yield*` to hand to the step loop, which then leaves the task waiting
 * without dispatching the effect. Null, nothing done, when the function's own code has changed
 * what `t` may do since `quick(t)` allowed the call (cancelled it, or entered a wait by hand):
 * the loop then performs the effect, which awaits the promise.
 */
export function awaitHere(promise: PromiseLike<unknown>, effect: Effect, t: Task): Awaiting | null {
  // (Tested here, not by a method of the scheduler: that one was not inlined, +42 instructions.)
  if (t.top.flags & HALTED || t.flags & (OVERDUE | PARKING | SUSPENDED)) return null;
  const s = t.sched;
  const on = new Awaiting(effect, t, promise);
  s.parkHere(t, on);
  listen(on, promise, s);
  return on;
}

function listen(on: Awaiting, promise: PromiseLike<unknown>, s: Scheduler): void {
  s.inFlight++;
  try {
    promise.then(fulfilled.bind(on), rejected.bind(on));
  } catch (e) {
    settle(on, e, true);
  }
}

/** @internal A wait begun inside a call's `yield*` (see `awaitHere`) was undone, not handed on
 * (code that stepped the `yield*` by hand went on to something else): the promise goes back on
 * the call, for the loop to await when the call is performed, its function not called again. */
export function keepAwaited(on: Awaiting): void {
  const e = on.effect as { awaited?: PromiseLike<unknown> };
  if (!("awaited" in e)) return; // not a call: a wait(promise) awaits its promise again anyway
  try {
    e.awaited = on.promise;
  } catch {
    // A frozen call (a shared constant) takes nothing: performed, its function is called again.
  }
}
