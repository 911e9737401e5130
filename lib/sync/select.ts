// select(): wait on several channel operations at once; exactly one fires, the rest leave no
// trace. A Park effect registered in each channel's queue, and an alarm for a timeout.

import { checkMs } from "../core/effects.js";
import { Receive, Send, SelectCase, SENDS, type Chooser, NONE } from "./channel.js";
import { ChannelClosedError } from "../core/errors.js";
import { noteMade, used, type Operation } from "../core/effect.js";
import { describe } from "../core/operation.js";
import { Park, PARKED, wake } from "../core/park.js";
import type { Task } from "../core/task.js";
import { Alarm } from "../core/timers.js";

/**
 * A case of {@link select}: a receive or a send on a channel, as `ch.receive()` / `ch.send(v)` give.
 *
 * @example
 * ```ts
 * const cases: Record<string, SelectCaseOf> = { in: input.receive(), out: output.send(42) };
 * ```
 */
export type SelectCaseOf = Receive<any> | Send<any>;

/**
 * Options of {@link select}.
 *
 * @example
 * ```ts
 * const r = yield* select({ job: jobs.receive() }, { timeout: 1000 });
 * if (r.case === "timeout") console.log("idle for a second");
 * ```
 */
export interface SelectOptions {
  /** Give up after this many milliseconds: the result's case is `"timeout"`. */
  timeout?: number;
  /** If no case is ready right now, do not wait: the result's case is `"default"`. */
  default?: boolean;
}

/**
 * What {@link select} returns: which case fired, and for a receive the value (`undefined` if
 * that channel has ended).
 *
 * @example
 * ```ts
 * type R = SelectResult<{ a: Receive<number>; b: Send<string> }, {}>;
 * // { case: "a"; value: number | undefined } | { case: "b" }
 * ```
 */
export type SelectResult<C, O> =
  | { [K in keyof C]: C[K] extends Receive<infer T> ? { case: K; value: T | undefined } : { case: K } }[keyof C]
  | (O extends { timeout: number } ? { case: "timeout" } : never)
  | (O extends { default: true } ? { case: "default" } : never);

/** The effect: a task waiting on every case's channel at once. It keeps no state of its own, so
 * one select can be yielded by several tasks; each wait has a Waiting record. */
class Choice extends Park<{ case: string; value?: unknown }> {
  /** The records of the tasks parked on this select. */
  private readonly waits = new Map<Task, Waiting>();

  constructor(
    readonly keys: string[],
    readonly cases: SelectCaseOf[],
    private readonly immediate: boolean,
    /** The timeout in ms: a wait's alarm fires the "timeout" case (Infinity: none). */
    readonly ms: number,
  ) {
    super();
  }

  enter(task: Task): { case: string; value?: unknown } | typeof PARKED {
    // Every ready case is a candidate; pick one at random, as Go does (reproducibly on a virtual clock).
    const ready: number[] = [];
    for (let i = 0; i < this.cases.length; i++) {
      const c = this.cases[i]!;
      if (!c[SENDS] ? c.channel.canReceive() : c.channel.canSend()) ready.push(i);
    }
    if (ready.length > 0) {
      const i = ready[Math.floor(task.sched.clock.random() * ready.length)]!;
      const c = this.cases[i]!;
      if (!c[SENDS]) {
        const v = c.channel.take();
        return { case: this.keys[i]!, value: v === NONE ? undefined : v };
      }
      c.channel.put(c.item); // throws ChannelClosedError into the task if closed
      return { case: this.keys[i]! };
    }
    if (this.immediate) return { case: "default" };
    this.waits.set(task, new Waiting(this, task));
    return PARKED;
  }

  leave(task: Task): void {
    this.waits.get(task)?.withdraw();
  }

  /** A value received but not used (a lost race) goes back to its channel; a send is done. */
  override restore(result: { case: string; value?: unknown }, task: Task): void {
    const c = this.cases[this.keys.indexOf(result.case)];
    if (c instanceof Receive) c.restore(result.value, task); // no case for a timeout or default
  }

  /** @internal */
  forget(task: Task): void {
    this.waits.delete(task);
  }

  override toString(): string {
    const timeout = this.ms === Infinity ? "" : `, timeout: ${this.ms} ms`;
    return `select(${this.keys.map((k, i) => `${k}: ${this.cases[i]}`).join(", ")}${timeout})`;
  }
}

/** One task's wait in a select: its registration in each case's channel, and for a select with a
 * timeout the alarm that fires its "timeout" case (no task of its own: a timer task, started and
 * cancelled for each wait, was most of what such a select cost). */
class Waiting extends Alarm implements Chooser {
  private readonly entries: SelectCase[] = [];
  private live = true;

  constructor(
    private readonly choice: Choice,
    private readonly task: Task,
  ) {
    super();
    if (choice.ms !== Infinity) task.sched.setAlarm(this, choice.ms);
    const cases = choice.cases;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const entry = new SelectCase(this, i, c[SENDS] ? c.item : undefined);
      this.entries.push(entry);
      (!c[SENDS] ? c.channel.receivers : c.channel.senders).push(entry);
    }
  }

  /** A channel's counterpart can complete `entry`. */
  fire(entry: SelectCase, value: unknown): SelectCase | null {
    if (!this.live) return null;
    const chosen = this.pick(entry);
    this.withdraw();
    const { task, choice } = this;
    const index = chosen.index;
    const c = choice.cases[index]!;
    if (c[SENDS]) {
      // A send case completes, or fails because its channel closed.
      if (value instanceof ChannelClosedError) wake(task, choice, value, true);
      else wake(task, choice, { case: choice.keys[index]! });
    } else {
      wake(task, choice, { case: choice.keys[index]!, value });
    }
    return chosen;
  }

  /** The time is up, before any case could fire. */
  ring(): void {
    if (!this.live) return;
    this.withdraw();
    this.task.sched.timedOut(this, this.task.sched.now()); // (withdrawn: an observer's describeTasks() no longer shows it)
    wake(this.task, this.choice, { case: "timeout" });
  }

  limits(): Task {
    return this.task;
  }
  override toString(): string {
    return String(this.choice);
  }

  /** The case to fire when a counterpart can complete `entry`: any of this select's cases on the
   * same channel and side could be completed by it, so one of them is picked at random, as Go
   * does (reproducibly on a virtual clock). */
  private pick(entry: SelectCase): SelectCase {
    const cases = this.choice.cases;
    const c = cases[entry.index]!;
    let n = 0;
    for (const e of this.entries) if (alike(cases[e.index]!, c)) n++;
    if (n === 1) return entry;
    let k = Math.floor(this.task.sched.clock.random() * n);
    for (const e of this.entries) if (alike(cases[e.index]!, c) && k-- === 0) return e;
    return entry;
  }

  /** Leave no trace: take every registration out of its channel's queue. */
  withdraw(): void {
    if (!this.live) return;
    this.live = false;
    this.task.sched.clearAlarm(this);
    this.choice.forget(this.task);
    const cases = this.choice.cases;
    for (let i = 0; i < this.entries.length; i++) {
      const c = cases[i]!;
      (!c[SENDS] ? c.channel.receivers : c.channel.senders).remove(this.entries[i]!);
    }
  }
}


/** Whether select cases `d` and `c` are on the same channel and side. */
function alike(d: Receive<unknown> | Send<unknown>, c: Receive<unknown> | Send<unknown>): boolean {
  return d.channel === c.channel && d[SENDS] === c[SENDS];
}
/**
 * Wait until one of several channel operations can happen, do exactly that one, and say which.
 * Cases are the operations themselves: `ch.receive()` and `ch.send(value)`. When several are
 * ready, one is chosen at random (reproducibly on a virtual clock); the others leave no trace:
 * nothing is received or sent, and no waiter stays behind, also after a timeout or a cancel.
 *
 * @throws TypeError at the call for a case that is not a channel receive or send, or a case
 * named "timeout"/"default" when that option is used; ChannelClosedError (at the yield) if a
 * chosen send's channel is closed.
 * @example
 * ```ts
 * for (;;) {
 *   const r = yield* select({ job: jobs.receive(), stop: stop.receive() }, { timeout: 5000 });
 *   if (r.case === "stop" || r.case === "timeout") break;
 *   if (r.value === undefined) break; // jobs closed
 *   yield* handle(r.value);
 * }
 * ```
 */
export function select<C extends Record<string, SelectCaseOf>, const O extends SelectOptions = {}>(
  cases: C,
  options?: O,
): Operation<SelectResult<C, O>> {
  if (typeof cases !== "object" || cases === null || Array.isArray(cases)) {
    throw new TypeError(`select() expects an object of cases (channel receives and sends), got ${describe(cases)}`);
  }
  const keys = Object.keys(cases);
  const list = keys.map((k) => cases[k]!);
  list.forEach((c, i) => {
    if (!(c instanceof Receive || c instanceof Send)) {
      throw new TypeError(`select() case "${keys[i]}" must be ch.receive() or ch.send(value), got ${describe(c)}`);
    }
    used(c); // handed to select: not forgotten
  });
  const ms = options?.timeout;
  if (ms !== undefined) checkMs(ms, "select(…, { timeout })");
  for (const reserved of ["timeout", "default"] as const) {
    if (options?.[reserved] !== undefined && keys.includes(reserved)) {
      throw new TypeError(`select() case "${reserved}" clashes with the ${reserved} option; rename the case`);
    }
  }
  const immediate = options?.default === true;
  const choice = new Choice(keys, list, immediate, ms === undefined || immediate ? Infinity : ms);
  noteMade(choice);
  return choice as unknown as Operation<SelectResult<C, O>>;
}
