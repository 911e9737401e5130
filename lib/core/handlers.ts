// How each primitive is performed: one handler per effect, under the effect's name. Handlers that
// suspend a task also say how to undo that suspension when the task is cancelled first.

import type { Effect } from "./effect.js";
import { invoke, type Action, type Call, type Cancel, type Cooperate, type Ensure, type Join, type Shield, type Sleep, type Start, type Suspend, type Wait } from "./effects.js";
import { Awaiting, awaitPromise, rejoin, takeKept } from "./awaiting.js";
import { Cancelled } from "./errors.js";
import { describe, isIterator, isOperation, isThenable } from "./operation.js";
import { isGenerator, otherIterator, SUSPEND, toIterator, type Handlers, type Scheduler } from "./scheduler.js";
import { PARKED, PARKED_ITSELF, type Park } from "./park.js";
import { copySite, debugging } from "./stacks.js";
import { Bucket, type Run } from "./timers.js";
import { DONE, FAILED, FORK, HALTED, RETURNED, SPAWN, taskOf, type Task } from "./task.js";

/** What a task waits on while a promise or an action's callback is outstanding. */
class Pending {
  teardown: unknown = undefined;
  /** Cancelled while its executor was still running (before the teardown was known). */
  cancelled = false;
  constructor(readonly effect: Effect) {}
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

/** An action's executor settled it: resume the task, if it still waits there. */
function settleAction(s: Scheduler, t: Task, on: Pending, value: unknown, threw: boolean): void {
  if (s.waiting(t, on)) s.resume(t, value, threw);
}

function runTeardown(teardown: () => void, t: Task, s: Scheduler): void {
  try {
    teardown();
  } catch (err) {
    s.fail(t.top, err, t);
  }
}

const promiseHandler = {
  cancel(_on: Awaiting, _t: Task, s: Scheduler) {
    s.inFlight--;
  },
};

/** Go to the back of the run queue (queued while suspended, so the step resumes with no value). */
function yieldTurn(e: Cooperate | Sleep, t: Task, s: Scheduler): typeof SUSPEND {
  s.suspend(t, e);
  s.yieldTurn(t);
  return SUSPEND;
}

function isAncestor(a: Task, t: Task): boolean {
  for (let p = taskOf(t.owner); p !== null; p = taskOf(p.owner)) if (p === a) return true;
  return false;
}

function start(e: Start, t: Task, s: Scheduler, kind: number): Task {
  const child = s.child(t.top, e.op, kind, e.name);
  if (debugging.sites) copySite(e, child); // debug mode: where it was started
  return child;
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
    cancel(on: Bucket | Run | Sleep, t, s) {
      if (on === s.timers.run || on instanceof Bucket) s.timers.remove(t, on as Bucket | Run); // sleep(Infinity) waits on its effect
    },
  },

  call: {
    run(e: Call, t, s) {
      // Begun already: a function called inside its yield* (see Call.next), or a generator that
      // took its first step in a map worker. Taken: performed again, the function is called again.
      // A wait on its promise begun there and undone is taken up again (see keepAwaited).
      const p = e.awaited;
      if (p !== undefined) {
        e.awaited = undefined;
        return awaitPromise(p, e, t, s);
      }
      let v = e.kept;
      if (v !== undefined) e.kept = undefined;
      else {
        const on = takeKept(e, t);
        if (on !== undefined) return rejoin(on, t, s);
        v = e.argc < 0 ? e.target : invoke(e);
      }
      if (typeof v !== "object" && typeof v !== "function") return v; // a plain value: the usual case
      // The step loop runs the call's body next.
      if (isGenerator(v)) {
        s.enter(t, v, true, false, e);
        return undefined;
      }
      if (isOperation(v) || isIterator(v)) {
        const it = otherIterator(v); // an object, and not a generator (tested above)
        s.enter(t, it, isGenerator(it), false, e);
        return undefined;
      }
      return isThenable(v) ? awaitPromise(v, e, t, s) : v;
    },
    ...promiseHandler,
  },

  shield: {
    run(e: Shield, t, s) {
      const it = toIterator(e.op);
      s.enter(t, it, isGenerator(it), true, e);
      return undefined;
    },
  },

  ensure: {
    run(e: Ensure, t, s) {
      s.ensure(t.top, e.cleanup);
      return undefined;
    },
  },

  wait: {
    run(e: Wait, t, s) {
      // A wait begun inside its yield* and undone is taken up again (see keepAwaited).
      const on = takeKept(e, t);
      return on !== undefined ? rejoin(on, t, s) : awaitPromise(e.promise, e, t, s);
    },
    ...promiseHandler,
  },

  fork: { run: (e: Start, t, s) => start(e, t, s, FORK) },

  spawn: { run: (e: Start, t, s) => start(e, t, s, SPAWN) },

  join: {
    run(e: Join, t, s) {
      const target = e.task;
      if (target.flags & DONE) {
        if (target.flags & FAILED) throw target.result;
        if (target.flags & HALTED) throw s.cancelError(target);
        return target.result;
      }
      // A task of another scheduler is waited for as a promise: this clock counts it in flight.
      if (target.sched !== s) return awaitPromise(target.promise(), e, t, s);
      checkJoinable(target, t, "join");
      s.watch(target, t);
      return s.suspend(t, e);
    },
    cancel(on: Join | Awaiting, t, s) {
      if (on instanceof Awaiting) s.inFlight--;
      else s.unwatch(on.task, t);
    },
  },

  cancel: {
    run(e: Cancel, t, s) {
      const target = e.task;
      if (target.flags & DONE) return undefined;
      if (target === t || isAncestor(target, t)) {
        // Stop right here, unless cancelled already (nothing changes) or inside a shield. It
        // cannot wait: an ancestor waits for its descendants.
        const already = t.top.flags & HALTED;
        s.halt(target, { because: target === t ? "it cancelled itself" : `task ${t} cancelled task ${target}` });
        if (already || !(t.top.flags & HALTED)) return undefined;
        throw s.cancelled(t);
      }
      if (target.sched !== s) return awaitPromise(target.cancel(`task ${t} cancelled it`), e, t, s);
      s.watch(target, t);
      s.suspend(t, e);
      s.halt(target, { because: `task ${t} cancelled task ${target}` });
      return SUSPEND;
    },
    cancel(on: Cancel | Awaiting, t, s) {
      if (on instanceof Awaiting) s.inFlight--;
      else s.unwatch(on.task, t);
    },
  },

  suspend: { run: (e: Suspend, t, s) => s.suspend(t, e) },

  cooperate: { run: yieldTurn },

  self: { run: (_e, t) => t },

  park: {
    run(e: Park, t, s) {
      const result = e.enter(t);
      if (result === PARKED) return s.suspend(t, e); // (first, and without a typeof test: the common case)
      // PARKED itself as the result (a value sent, say): see asResult. (`typeof` first: a value
      // compared with a symbol, numbers one time and symbols another, is a generic builtin call.)
      return typeof result === "symbol" && result === PARKED_ITSELF ? PARKED : result;
    },
    cancel(e: Park, t) {
      e.leave(t);
    },
  },

  action: {
    run(e: Action, t, s) {
      // In a cancelled scope its wait would throw at once: do not start the work at all.
      if ((t.top.flags & (HALTED | RETURNED)) === HALTED) throw s.cancelled(t);
      const on = new Pending(e);
      s.suspend(t, on);
      let teardown: unknown;
      try {
        // (Anonymous arrows, not a named closure: see architecture.md, "Performance notes".)
        teardown = e.executor((v) => settleAction(s, t, on, v, false), (err) => settleAction(s, t, on, err, true));
      } catch (err) {
        // Thrown into the task if it still waits; if the executor cancelled the task first, it
        // is a failure of the cleanup; after a settlement it can only be reported.
        if (s.waiting(t, on)) settleAction(s, t, on, err, true);
        else if (on.cancelled) s.fail(t.top, err, t);
        else s.report(err, t, `the executor of ${e} threw after it had settled`);
        return SUSPEND;
      }
      if (teardown !== undefined && typeof teardown !== "function") {
        settleAction(s, t, on, new TypeError(`${e} executor returned ${describe(teardown)}; return a teardown function or nothing`), true);
      } else if (on.cancelled) {
        if (typeof teardown === "function") runTeardown(teardown as () => void, t, s); // cancelled by its own executor
      } else {
        on.teardown = teardown;
      }
      return SUSPEND;
    },
    cancel(on: Pending, t, s) {
      if (typeof on.teardown === "function") on.teardown();
      else on.cancelled = true; // the executor is still running: its teardown runs when it returns
    },
  },
};
