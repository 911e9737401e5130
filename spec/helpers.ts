// Shared by the specs: virtual-clock schedulers, outcomes of tasks, and error collection.

import { createScheduler, sleep, Task, type Operation, type OperationLike, type Scheduler } from "../lib/index.js";
import { SLICE_MS } from "../lib/core/clock.js";

/** A virtual-clock scheduler whose secondary errors are collected instead of printed. */
export function virtual(): Scheduler & { reported: unknown[] } {
  const reported: unknown[] = [];
  const s = createScheduler({ clock: "virtual", onError: (e) => void reported.push(e) });
  return Object.assign(s, { reported });
}

export type Outcome<T> =
  | { state: "completed"; value: T }
  | { state: "failed"; error: unknown }
  | { state: "cancelled"; error: unknown };

/** Wait for a task and describe how it ended, without throwing. */
export async function outcome<T>(task: Task<T>): Promise<Outcome<T>> {
  try {
    const value = await task;
    return { state: "completed", value };
  } catch (error) {
    if (task.state === "cancelled") return { state: "cancelled", error };
    return { state: "failed", error };
  }
}

/** Run `op` on a fresh virtual scheduler; resolve with its value and the virtual time at the end. */
export async function runVirtual<T>(op: OperationLike<T>): Promise<{ value: T; now: number; s: ReturnType<typeof virtual> }> {
  const s = virtual();
  const value = await s.run(op);
  return { value, now: s.now(), s };
}

/** How many JavaScript frames stand above the scheduler's run loop here, every frame counted. */
export function framesAboveLoop(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const lines = new Error().stack!.split("\n").slice(1);
  Error.stackTraceLimit = limit;
  const loop = lines.findIndex((l) => /Scheduler\.loop/.test(l));
  if (loop < 0) throw new Error("not called from the scheduler's run loop");
  return loop;
}

/** Resolve after the host has had a full turn (timers, I/O, setImmediate). */
export function hostTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Run `op` on a fresh virtual scheduler, counting the calls of Task's `toString` (how a task is
 * named in a message): a text made for no one names tasks that nobody reads about. */
export async function countNaming(op: OperationLike<unknown>): Promise<number> {
  const proto = Task.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, "toString")!;
  let n = 0;
  Object.defineProperty(proto, "toString", {
    ...own,
    value(this: Task) {
      n++;
      return own.value.call(this);
    },
  });
  try {
    await runVirtual(op);
  } finally {
    Object.defineProperty(proto, "toString", own);
  }
  return n;
}

/** `scenario`'s value once the machine's load has not disturbed the timing it relies on (it says
 * when it has), in up to fifty tries; the last is taken whatever. For real-clock specs of a
 * run's order, whose outcome a process descheduled for milliseconds would change. (Beside two
 * CPU-bound processes on two cores, a third of the tries of a 2 ms timer's scenario are: five
 * tries all disturbed came about once in 200 runs. In a full suite under coverage beside them,
 * all twenty tries of a scenario whose step computes 3.4 ms were, once: twenty was the limit.) */
export async function undisturbed<T>(scenario: () => Promise<{ value: T; disturbed: boolean }>): Promise<T> {
  for (let i = 1; ; i++) {
    const { value, disturbed } = await scenario();
    if (!disturbed || i === 50) return value;
  }
}

/**
 * On the real clock: task `a` wakes from a 2 ms sleep in a run its timer began, logs "a", calls
 * `during` and computes past the deadline of task `b`'s 3 ms sleep, so that `b`'s timer falls due
 * during that run and is left to the run after the host's turn (see the scheduler's
 * `timersLeft`); `b` then logs "b". `disturbed()`: `a` woke so late that `b` was due already
 * (its deadline is 2 7/8 ms or more after `b` began; under load about a third of the tries), or
 * its step, descheduled, took so long that the slice of its run (which the runs while the timers
 * wait share) was over when it ended, or the microtasks `during` queued (an event's run, a
 * reaction's) began so late that the slice may have been over when they ran (the process
 * stalled after `a`'s step; when they began, not ended: a spec's run there computes past the
 * slice on purpose), or the spec's event or reaction was `handled()` so late (the process
 * stalled among those microtasks, before the event's run looked at the clock: 4.3 ms once, in a
 * full run on Node 24 beside two busy processes) that the slice may have been over by then, or
 * `b` woke before those microtasks began: its timer was not left for the host's turn, though
 * `a` woke in time (about once in a thousand tries beside two busy processes; the scheduler was
 * then not waiting for that turn when the microtasks ran).
 * `timing(marks)` says when each happened (and when each of `marks`, `performance.now()` times,
 * did), for a failure's message.
 */
export function timersLeftForHostTurn(
  s: Pick<Scheduler, "run">,
  log: string[],
  during: () => void,
): {
  done: Promise<unknown>;
  disturbed: () => boolean;
  timing: (marks?: Record<string, number>) => string;
  /** Call once the event or reaction `during` brought about has been handled (its run, if it
   * ran, is over: after the write that emitted the event, say). */
  handled: () => void;
} {
  let bFrom = 0;
  let aFrom = 0;
  let aWoke = 0;
  let aDone = 0;
  let micro = 0;
  let bWoke = Infinity;
  let handledAt = NaN;
  const a = s.run(function* () {
    aFrom = performance.now();
    yield* sleep(2);
    aWoke = performance.now();
    log.push("a");
    queueMicrotask(() => (micro = performance.now())); // just before those `during` queues, and their runs
    during();
    while (performance.now() < bFrom + 4); // b's sleep falls due during this step
    aDone = performance.now();
  });
  const b = s.run(function* () {
    bFrom = performance.now();
    yield* sleep(3);
    bWoke = performance.now();
    log.push("b");
  });
  // (a's run began at a's deadline or later, 2 ms after aFrom less a clock grain: its slice lasts
  // until 6.5 ms after aFrom at the least. It began before a woke, by far less than a
  // millisecond unless the process stalled there too: its slice lasts until 4 ms after that.)
  const disturbed = () =>
    aWoke - bFrom >= 2.75 ||
    aDone - aWoke >= 4 ||
    micro - aFrom >= 2 + SLICE_MS - 0.5 ||
    handledAt - aWoke >= SLICE_MS - 1 ||
    bWoke < micro;
  // For a failure's message: when each happened, in ms from b's sleep.
  const timing = (marks: Record<string, number> = {}) => {
    const at = (t: number) => (t - bFrom).toFixed(2);
    const handled = Number.isNaN(handledAt) ? {} : { "the event or reaction was handled": handledAt };
    const more = Object.entries({ ...handled, ...marks }).map(([what, t]) => `, ${what} at ${at(t)}`);
    return `b began its sleep at 0, a woke at ${at(aWoke)} and ended its step at ${at(aDone)}, the microtasks it queued began at ${at(micro)}${more.join("")} (ms)${disturbed() ? "; disturbed, as every try was" : ""}`;
  };
  return { done: Promise.all([a, b]), disturbed, timing, handled: () => (handledAt = performance.now()) };
}

/** The steps of `ms` ms each that run between two callbacks of a host setInterval(1), a count
 * for each such turn (turns with none left out), with a scheduler running `program(spin)`. */
export async function hostTurnSteps(ms: number, program: (spin: () => void) => Operation<void>): Promise<number[]> {
  let steps = 0;
  const counts: number[] = [];
  const spin = () => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    steps++;
  };
  const probe = setInterval(() => {
    if (steps > 0) counts.push(steps);
    steps = 0;
  }, 1);
  await createScheduler().run(() => program(spin));
  clearInterval(probe);
  return counts;
}

/** The median of `hostTurnSteps`. */
export async function stepsPerHostTurn(ms: number, program: (spin: () => void) => Operation<void>): Promise<number> {
  const counts = (await hostTurnSteps(ms, program)).sort((a, b) => a - b);
  return counts[counts.length >> 1]!;
}
