// How each primitive is performed: one handler per effect, under the effect's name. Handlers that
// suspend a task also say how to undo that suspension when the task is cancelled first.

import type { Action, Call, Cancel, Cooperate, Join, Sleep, Start, Suspend, Wait } from "./effects.js";
import { Cancelled } from "./errors.js";
import { describe, isIterator, isOperation, isThenable } from "./operation.js";
import { SUSPEND, toIterator, type Handlers, type Scheduler } from "./scheduler.js";
import type { Bucket } from "./timers.js";
import { DONE, FAILED, FORK, HALTED, INTERRUPT, SPAWN, taskOf, type Task } from "./task.js";

/** What a task waits on while a promise or an action's callback is outstanding. */
class Pending {
  teardown: unknown = undefined;
  constructor(readonly effect: Call | Wait | Action) {}
  get type(): string {
    return this.effect.type;
  }
  toString(): string {
    return String(this.effect);
  }
}

/** Suspend `t` until `promise` settles; counted as in flight so a virtual clock waits for it. */
function awaitPromise(promise: PromiseLike<unknown>, effect: Call | Wait, t: Task, s: Scheduler): typeof SUSPEND {
  const on = new Pending(effect);
  s.suspend(t, on);
  s.inFlight++;
  const settle = (value: unknown, threw: boolean) => {
    if (!s.waiting(t, on)) return; // cancelled meanwhile, or settled twice by a rogue thenable
    s.inFlight--;
    s.resume(t, value, threw);
  };
  try {
    promise.then((v) => settle(v, false), (e) => settle(e, true));
  } catch (e) {
    settle(e, true);
  }
  return SUSPEND;
}

const promiseHandler = {
  cancel(_on: Pending, _t: Task, s: Scheduler) {
    s.inFlight--;
  },
};

/** Go to the back of the run queue (queued while suspended, so the step resumes with no value). */
function yieldTurn(e: Cooperate | Sleep, t: Task, s: Scheduler): typeof SUSPEND {
  s.suspend(t, e);
  s.enqueue(t);
  s.yieldSoon();
  return SUSPEND;
}

/** Joining `target` from `t` could never end if `target` is `t` or one of its ancestors. */
function checkJoinable(target: Task, t: Task, verb: string): void {
  for (let a: Task | null = t; a !== null; a = taskOf(a.owner)) {
    if (a !== target) continue;
    throw new Error(`task ${t} cannot ${verb} ${a === t ? "itself" : `its ancestor ${a}`}: it would wait forever`);
  }
}

/** The handler table the scheduler is built with. */
export const handlers: Handlers = {
  sleep: {
    run(e: Sleep, t, s) {
      if (e.ms === 0) return yieldTurn(e, t, s);
      return s.suspend(t, e.ms === Infinity ? e : s.timers.add(t, s.clock.deadline(e.ms)));
    },
    cancel(on: Bucket | Sleep, t, s) {
      if (t.timerIndex >= 0) s.timers.remove(t, on as Bucket);
    },
  },

  call: {
    run(e: Call, t, s) {
      const v = e.args === undefined ? e.target : (e.target as (...a: unknown[]) => unknown)(...e.args);
      if (isOperation(v) || isIterator(v)) {
        s.enter(t, toIterator(v)); // the step loop runs the call's body next
        return undefined;
      }
      return isThenable(v) ? awaitPromise(v, e, t, s) : v;
    },
    ...promiseHandler,
  },

  wait: {
    run: (e: Wait, t, s) => awaitPromise(e.promise, e, t, s),
    ...promiseHandler,
  },

  fork: { run: (e: Start, t, s) => s.child(t.top, e.op, FORK, e.name) },

  spawn: { run: (e: Start, t, s) => s.child(t.top, e.op, SPAWN, e.name) },

  join: {
    run(e: Join, t, s) {
      const target = e.task;
      if (target.flags & DONE) {
        if (target.flags & FAILED) throw target.result;
        if (target.flags & HALTED) throw new Cancelled(`task ${target} was cancelled`);
        return target.result;
      }
      checkJoinable(target, t, "join");
      target.sched.watch(target, t);
      return s.suspend(t, e);
    },
    cancel(e: Join, t) {
      e.task.sched.unwatch(e.task, t);
    },
  },

  cancel: {
    run(e: Cancel, t, s) {
      const target = e.task;
      if (target.flags & DONE) return undefined;
      if (target === t) {
        s.halt(t);
        if (!(t.flags & INTERRUPT)) return undefined; // cancelled already: cleanup goes on
        t.flags &= ~INTERRUPT;
        throw new Cancelled(`task ${t} cancelled itself`);
      }
      const ts = target.sched;
      ts.watch(target, t);
      s.suspend(t, e);
      ts.halt(target);
      ts.kick();
      return SUSPEND;
    },
    cancel(e: Cancel, t) {
      e.task.sched.unwatch(e.task, t);
    },
  },

  suspend: { run: (e: Suspend, t, s) => s.suspend(t, e) },

  cooperate: { run: yieldTurn },

  self: { run: (_e, t) => t },

  action: {
    run(e: Action, t, s) {
      const on = new Pending(e);
      s.suspend(t, on);
      const settle = (value: unknown, threw: boolean) => {
        if (s.waiting(t, on)) s.resume(t, value, threw);
      };
      try {
        on.teardown = e.executor((v) => settle(v, false), (err) => settle(err, true));
      } catch (err) {
        settle(err, true);
      }
      if (on.teardown !== undefined && typeof on.teardown !== "function") {
        settle(new TypeError(`${e} executor returned ${describe(on.teardown)}; return a teardown function or nothing`), true);
      }
      return SUSPEND;
    },
    cancel(on: Pending) {
      if (typeof on.teardown === "function") on.teardown();
    },
  },
};
