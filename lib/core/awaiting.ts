// A task waiting on a promise: the record of the wait, the reactions bound to it, and the ways a
// wait begins (by the `call`, `wait`, `join` and `cancel` handlers, or inside the `yield*` of a
// call or a wait(promise)), and is taken up again after it was undone there.

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
  /** Undone inside the `yield*` it began in, and kept on its effect for the effect's next
   * performance (see `keepAwaited`): the promise's reactions stay bound to the record, and an
   * outcome that comes meanwhile is kept, so that `then` is never called twice. (Made then
   * only: two fields more on every record cost an await ~20 instructions.) */
  kept: Kept | null = null;
  constructor(
    readonly effect: Effect,
    /** The task waiting; a kept record is taken up by this task only (see `takeKept`). */
    readonly task: Task,
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

/** What a kept record's promise gave while the record was kept (see `keepAwaited`), and the
 * record kept on the same effect before it (by another task: an effect may be shared). */
class Kept {
  constructor(
    /** 0 not settled yet; 1 fulfilled; 2 rejected. */
    public settledAs: number,
    public outcome: unknown,
    public next: Awaiting | null,
  ) {}
}

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
  if (t.slot === on && t.flags & SUSPENDED) {
    const s = t.sched;
    s.inFlight--;
    s.settled(t, value, threw); // run here if the loop is idle; a cancellation may replace the outcome
  } else if (on.kept !== null) keptSettled(on, on.kept, value, threw);
  // (Else cancelled meanwhile, or settled twice by a rogue thenable: ignored. The test is
  // `waiting`'s, written out.)
}

/** A kept record's promise settled (see `keepAwaited`): the outcome waits for the effect's next
 * performance; a rejection is reported now as well, as the host would have reported the
 * promise's own, since the effect may never be performed again. (Apart from `settle`, whose
 * every call is an await's.) */
function keptSettled(on: Awaiting, kept: Kept, value: unknown, threw: boolean): void {
  if (kept.settledAs !== 0) return;
  kept.settledAs = threw ? 2 : 1;
  kept.outcome = value;
  if (threw) reportKept(on, value);
}

/** @internal Suspend `t` until `promise` settles; counted as in flight so a virtual clock waits
 * for it. For a handler: returns what its `run` returns. */
export function awaitPromise(promise: PromiseLike<unknown>, effect: Effect, t: Task, s: Scheduler): typeof SUSPEND {
  const on = new Awaiting(effect, t);
  s.suspend(t, on);
  listen(on, promise, s);
  return SUSPEND;
}

/**
 * @internal The same from inside the `yield*` of `effect`, a call whose function returned
 * `promise` there (see `Call.next`), or a `wait(promise)`: the wait begins at once, and its
 * record is returned for `yield*` to hand to the step loop, which then leaves the task waiting
 * without dispatching the effect (see `Scheduler.parkHere`). Null, nothing done, when the
 * function's own code has changed what `t` may do since `quick(t)` allowed the call (cancelled
 * it, or entered a wait by hand): the loop then performs the effect, which awaits the promise.
 */
export function awaitHere(promise: PromiseLike<unknown>, effect: Effect, t: Task): Awaiting | null {
  // (Tested here, not by a method of the scheduler: that one was not inlined, +42 instructions.)
  if (t.top.flags & HALTED || t.flags & (OVERDUE | PARKING | SUSPENDED)) return null;
  const s = t.sched;
  const on = new Awaiting(effect, t);
  // Waiting already while a thenable's `then` runs: code there performs nothing for the task.
  s.suspend(t, on);
  beginning = t.id;
  beginningIn = s;
  listen(on, promise, s);
  beginning = 0;
  beginningIn = null;
  s.parkWaiting(t, on);
  return on;
}

/** The id of the task whose wait's reactions `awaitHere` is binding (its thenable's `then` runs),
 * else 0. (An id, not the record: a young object stored in the module's state costs a write
 * barrier, +60 instructions an await.) */
let beginning = 0;
let beginningIn: Scheduler | null = null;

/** @internal Whether `on`, the record of `t`'s wait, began inside a `yield*` that has not handed it
 * on yet: a cancellation then keeps it (see `Scheduler.deliver`). */
export function notHandedOn(on: Awaiting, t: Task): boolean {
  return (t.flags & PARKING) !== 0 || (t.id === beginning && t.sched === beginningIn && t.slot === on);
}

function listen(on: Awaiting, promise: PromiseLike<unknown>, s: Scheduler): void {
  s.inFlight++;
  try {
    promise.then(fulfilled.bind(on), rejected.bind(on));
  } catch (e) {
    settle(on, e, true);
  }
}

/** Kept records of frozen effects (a shared constant), which take no property. */
const keptFrozen = new WeakMap<Effect, Awaiting>();
let frozenKept = 0;

/** The kept records of effect `e`, newest first (`Kept.next`), or null. */
function keptOn(e: Effect): Awaiting | null {
  const head = (e as { keptWaits?: unknown }).keptWaits;
  if (head instanceof Awaiting) return head;
  return frozenKept === 0 ? null : (keptFrozen.get(e) ?? null);
}
function setKept(e: Effect, head: Awaiting | null): void {
  try {
    (e as { keptWaits?: unknown }).keptWaits = head ?? undefined;
  } catch {
    const had = keptFrozen.has(e);
    if (head !== null) keptFrozen.set(e, head);
    else keptFrozen.delete(e);
    frozenKept += (head !== null ? 1 : 0) - (had ? 1 : 0);
  }
}

/**
 * @internal A wait begun inside the `yield*` of a call or a `wait(promise)` (see `awaitHere`)
 * was undone, not handed on (code that stepped it by hand went on to something else, or
 * cancelled its task before it did): its record is kept on the effect, still bound to the
 * promise, for the same task's next performance of the effect (see `takeKept`); what the promise
 * gave meanwhile, if anything (`settledAs`, `outcome`), with it.
 */
export function keepAwaited(on: Awaiting, settledAs = 0, outcome: unknown = undefined): void {
  on.kept = new Kept(settledAs, outcome, keptOn(on.effect));
  if (settledAs === 2) reportKept(on, outcome);
  setKept(on.effect, on);
}

/** A kept record's promise rejected: reported now, as the host would have reported the promise's
 * own rejection, since the effect may never be performed again (if it is, it throws there too). */
function reportKept(on: Awaiting, error: unknown): void {
  const t = on.task;
  t.sched.report(error, t, `the promise of ${on.effect} rejected while its wait was undone: code inside task ${t} that stepped it by hand went on without handing it on (handed on later, it throws there too)`);
}

/** @internal Whether `t` has a record kept on effect `e` (see `keepAwaited`): a wait begun
 * already, which its next performance takes up even if `t` was cancelled since. */
export function keeps(e: Effect, t: Task): boolean {
  for (let on = keptOn(e); on !== null; on = on.kept!.next) if (on.task === t) return true;
  return false;
}

/** @internal The record `t` kept on effect `e` (see `keepAwaited`), taken off it; undefined if
 * none (the effect is performed afresh: records other tasks kept stay theirs). */
export function takeKept(e: Effect, t: Task): Awaiting | undefined {
  let prev: Awaiting | null = null;
  for (let on = keptOn(e); on !== null; prev = on, on = on.kept!.next) {
    if (on.task !== t) continue;
    const next = on.kept!.next;
    if (prev === null) setKept(e, next);
    else prev.kept!.next = next;
    return on;
  }
  return undefined;
}

/** @internal Perform again, for `t`, the wait of a kept record (see `keepAwaited`): its outcome if
 * the promise has settled meanwhile (returned or thrown), else `t` waits on it again. */
export function rejoin(on: Awaiting, t: Task, s: Scheduler): unknown {
  const kept = on.kept;
  on.kept = null;
  if (kept !== null && kept.settledAs !== 0) {
    if (kept.settledAs === 2) throw kept.outcome;
    return kept.outcome;
  }
  s.suspend(t, on); // (t is on.task: see takeKept)
  s.inFlight++;
  return SUSPEND;
}
