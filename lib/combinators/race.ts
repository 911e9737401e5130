// race(): run operations concurrently; the first to settle wins and the rest are cancelled.
// An ordinary coroutine: contestants are spawned in one call, which cancels the losers on return;
// what a loser took (a value from a channel, a permit) is given back once they have all ended.

import type { Operation } from "../core/effect.js";
import { action, call, ensure, self, spawn } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import type { OperationLike, Result } from "../core/operation.js";
import { giveBack, restorable, restores } from "../core/park.js";
import { current, endReasons, type Frame, helper, labelOf, quiet, type Task } from "../core/task.js";
import { entries, nameOf, runIn, Takings } from "./all.js";

/**
 * Run the operations concurrently; the first one to settle decides: its value is returned, or
 * its error thrown. The others are cancelled and have finished their cleanup (`finally` blocks,
 * shielded cleanup included) before `race` returns or throws; an error a loser raises after the
 * decision goes to the scheduler's `onError`. Given an object, the result is an object with only
 * the winner's key. The contestants run in helper tasks, but `self()` aside they act as you:
 * `receive()` in one reads your mailbox.
 *
 * Nothing a loser took is lost. Contestants start in order, and once one has completed the rest
 * do not start: with two channels both ready, only the first is received from. A loser that
 * completed in the same instant as the winner gives back what it took, if it is one of skein's
 * taking operations (a channel `receive()`, a semaphore's `acquire()`, a mutex's `lock()`, a
 * mailbox `receive()`, a `select`, or a `timeout`, `race` or `all` of those): the value goes
 * back first in line, in the order it was taken; the permit or the lock is released. An
 * operation of yours that takes something must give it back itself if it can lose; to take
 * exactly one of several channel operations, use {@link select}.
 *
 * @throws TypeError unless given an array or object of operations; RangeError if it is empty.
 * @example
 * ```ts
 * function* fastest() {
 *   const body = yield* race([get("http://127.0.0.1:8080/a"), get("http://127.0.0.1:8081/a")]);
 *   const r = yield* race({ data: get("/slow"), late: sleep(100) });
 *   if ("late" in r) console.log("gave up waiting");
 * }
 * ```
 */
export function race<const T extends readonly OperationLike<unknown>[]>(ops: T): Operation<Result<T[number]>>;
export function race<T extends Record<string, OperationLike<unknown>>>(
  ops: T,
): Operation<{ [K in keyof T]: { [P in K]: Result<T[K]> } }[keyof T]>;
export function race(ops: unknown): Operation<unknown> {
  const { list, keys, values } = entries(ops, "race()");
  if (values.length === 0) throw new RangeError("race() needs at least one operation");
  const runs = { lastWinner: undefined as unknown }; // the contestant that won the latest run: a race that loses gives back through it
  const op = call(bodies.race, { list, keys, values }, runs);
  return restorable(op, (result: unknown, task: Task) => {
    if (runs.lastWinner !== undefined) giveBack(runs.lastWinner, list ? result : Object.values(result as object)[0], task);
  });
}

/** One run of a race: what its contestants share. */
class Contest {
  decided = false;
  /** The race itself ended without taking the winner's value (cancelled). */
  over = false;
  winner: { value: unknown; result: unknown; op: unknown } | undefined = undefined;
  wake: ((value: unknown) => void) | undefined = undefined;
  /** The contestants started, in the order of `ops`. */
  readonly tasks: Task[] = [];
  constructor(
    readonly me: Task,
    /** This race's call: its losers stop when it ends. */
    readonly frame: Frame,
    readonly list: boolean,
    readonly taken: Takings,
    readonly runs: { lastWinner: unknown },
    readonly ops: OperationLike<unknown>[],
  ) {}
}

/** The body of a race, and below its contestants': made once, not per race and per contestant
 * (see architecture.md, "Performance notes"). A method, to be named "race". */
const bodies = {
  *race(e: { list: boolean; keys: string[]; values: OperationLike<unknown>[] }, runs: { lastWinner: unknown }): Operation<unknown> {
    const me = yield* self();
    const c = new Contest(me, me.top, e.list, new Takings(me), runs, e.values);
    // Once every contestant has ended: what the losers took goes back, the latest taken first
    // (if one of them can give back anything).
    if (e.values.some(restores)) yield* ensure(() => {
      if (c.over && c.winner !== undefined) c.taken.add(c.winner.op, c.winner.value, true);
      c.taken.giveBack();
    });
    for (let i = 0; i < e.values.length; i++) {
      const key = e.keys[i]!;
      const op = e.values[i]!;
      c.tasks.push(helper(yield* spawn(contestant(c, key, op), { name: nameOf(op, "race", key, e.list ? i : -1) })));
    }
    try {
      // A contestant may have won already (if this body was preempted after spawning).
      return yield* action((resolve) => {
        if (c.winner !== undefined) resolve(c.winner.result);
        else c.wake = resolve;
      });
    } catch (err) {
      c.over = true;
      throw err;
    }
  },
};

/** Why a race's losers are cancelled, said only when one of them gets a Cancelled (those waiting
 * on skein's own effects return quietly). It keeps the tasks' ids and names, not the tasks: a
 * cancel's reason stays as long as the task it cancelled. */
class Decided {
  private readonly raceId: number;
  private readonly raceName: string;
  private readonly wonId: number;
  private readonly wonName: string;
  constructor(race: Task, winner: Task) {
    this.raceId = race.id;
    this.raceName = race.name;
    this.wonId = winner.id;
    this.wonName = winner.name;
  }
  toString(): string {
    return `the race in task ${labelOf(this.raceId, this.raceName)} was decided: task ${labelOf(this.wonId, this.wonName)} won`;
  }
}

/** One contestant: run `op`; the first to settle decides the race. */
function* contestant(c: Contest, key: string, op: OperationLike<unknown>): Operation<void> {
  if (c.decided) return; // one completed while the race was starting: no need to start
  let value: unknown;
  try {
    value = yield* runIn(op);
  } catch (e) {
    if (!c.decided) {
      c.decided = true;
      throw e; // the first to settle failed: the race fails with it
    }
    if (!isCancelled(e)) {
      const me = yield* self();
      me.sched.report(e, me, `task ${me} failed after it had lost a race: the race was decided`); // never dropped
    }
    return;
  }
  if (c.decided || c.over) return c.taken.add(op, value); // a loser: what it took goes back
  c.decided = true;
  // The losers, cancelled when the race returns, would only return on their Cancelled: those
  // waiting on an effect of skein's itself are returned instead (see QUIET).
  for (let i = 0; i < c.tasks.length; i++) quiet(c.tasks[i]!, c.ops[i]);
  endReasons.set(c.frame, new Decided(c.me, current.task!));
  c.runs.lastWinner = op;
  c.winner = { value, result: c.list ? value : { [key]: value }, op };
  c.wake?.(c.winner.result);
}
