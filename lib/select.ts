// select(): wait on several channel operations at once; exactly one fires, the rest leave no
// trace. A Park effect registered in each channel's queue, plus a timer child for a timeout.

import { call, sleep, spawn } from "./effects.js";
import { Receive, Send, SelectCase, type Chooser, NONE } from "./channel.js";
import { ChannelClosedError } from "./errors.js";
import type { Operation } from "./effect.js";
import { describe } from "./operation.js";
import { Park, PARKED, wake } from "./park.js";
import type { Task } from "./task.js";

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

/** The effect: one task waiting on every case's channel at once. */
class Choice extends Park<{ case: string; value?: unknown }> implements Chooser {
  private task: Task | null = null;
  private readonly entries: SelectCase[] = [];

  constructor(
    private readonly keys: string[],
    private readonly cases: SelectCaseOf[],
    private readonly immediate: boolean,
  ) {
    super();
  }

  enter(task: Task): { case: string; value?: unknown } | typeof PARKED {
    // Every ready case is a candidate; pick one at random, as Go does (reproducibly on a virtual clock).
    const ready: number[] = [];
    for (let i = 0; i < this.cases.length; i++) {
      const c = this.cases[i]!;
      if (c instanceof Receive ? c.channel.canReceive() : c.channel.canSend()) ready.push(i);
    }
    if (ready.length > 0) {
      const i = ready[Math.floor(task.sched.clock.random() * ready.length)]!;
      const c = this.cases[i]!;
      if (c instanceof Receive) {
        const v = c.channel.take();
        return { case: this.keys[i]!, value: v === NONE ? undefined : v };
      }
      c.channel.put(c.item); // throws ChannelClosedError into the task if closed
      return { case: this.keys[i]! };
    }
    if (this.immediate) return { case: "default" };
    this.task = task;
    for (let i = 0; i < this.cases.length; i++) {
      const c = this.cases[i]!;
      const entry = new SelectCase(this, i, c instanceof Send ? c.item : undefined);
      this.entries.push(entry);
      (c instanceof Receive ? c.channel.receivers : c.channel.senders).push(entry);
    }
    return PARKED;
  }

  leave(): void {
    this.withdraw();
  }

  /** A channel (or the timer, with index -1) chose this case. */
  fire(index: number, value: unknown): boolean {
    const task = this.task;
    if (task === null) return false;
    this.withdraw();
    if (index < 0) return wake(task, this, { case: "timeout" });
    const c = this.cases[index]!;
    if (c instanceof Send) {
      // A send case completes, or fails because its channel closed.
      return value instanceof ChannelClosedError ? wake(task, this, value, true) : wake(task, this, { case: this.keys[index]! });
    }
    return wake(task, this, { case: this.keys[index]!, value });
  }

  /** Leave no trace: take every registration out of its channel's queue. */
  private withdraw(): void {
    this.task = null;
    for (let i = 0; i < this.entries.length; i++) {
      const c = this.cases[i]!;
      (c instanceof Receive ? c.channel.receivers : c.channel.senders).remove(this.entries[i]!);
    }
    this.entries.length = 0;
  }

  override toString(): string {
    return `select(${this.keys.map((k, i) => `${k}: ${this.cases[i]}`).join(", ")})`;
  }
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
  });
  const ms = options?.timeout;
  if (ms !== undefined) sleep(ms); // checks the duration
  for (const reserved of ["timeout", "default"] as const) {
    if (options?.[reserved] !== undefined && keys.includes(reserved)) {
      throw new TypeError(`select() case "${reserved}" clashes with the ${reserved} option; rename the case`);
    }
  }
  const immediate = options?.default === true;
  if (ms === undefined || immediate || ms === Infinity) {
    return new Choice(keys, list, immediate) as unknown as Operation<SelectResult<C, O>>;
  }
  return call(function* select() {
    const choice = new Choice(keys, list, false);
    yield* spawn(function* timer() {
      yield* sleep(ms);
      choice.fire(-1, undefined);
    });
    return yield* choice;
  }) as unknown as Operation<SelectResult<C, O>>;
}
