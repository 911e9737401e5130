// Monitors, Erlang style: watch another task without touching it, and get a message in your
// mailbox when it ends, saying how: returned (with what), failed (with what) or cancelled.

import type { Operation } from "../core/effect.js";
import { self } from "../core/effects.js";
import { describe, reusable } from "../core/operation.js";
import { actorOf, Task } from "../core/task.js";
import { tell } from "./mailbox.js";

/**
 * The message a {@link monitor} delivers when the watched task ends, as Erlang's `'DOWN'`:
 * which task, and how it ended (`state`), with its value or its error.
 *
 * @example
 * ```ts
 * const down = yield* receive((m): m is Down => isDown(m, worker));
 * if (down.state === "failed") console.error(`${down.task} failed:`, down.error);
 * ```
 */
export class Down<T = unknown> {
  /** @internal */
  constructor(
    /** The task that ended. */
    readonly task: Task<T>,
    /** How it ended. */
    readonly state: "completed" | "failed" | "cancelled",
    /** What it returned, when it completed. */
    readonly value: T | undefined,
    /** Its error, when it failed. */
    readonly error: unknown,
  ) {}

  toString(): string {
    return `down(${this.task}: ${this.state})`;
  }
}

/**
 * A monitor made by {@link monitor}: `stop()` it to get no message.
 *
 * @example
 * ```ts
 * const m = yield* monitor(worker);
 * m.stop(); // no longer interested
 * ```
 */
export interface Monitor {
  /** The watched task. */
  readonly task: Task<unknown>;
  /** Stop watching: no message comes after this (one delivered already stays in the mailbox). */
  stop(): void;
}

/**
 * Watch `task`: when it ends (or at once, if it has ended already) a {@link Down} message goes
 * to the mailbox of the task that called `monitor`. The watched task is not affected in any
 * way, and need not be related to the watcher: unlike a child, its failure does not fail you.
 * Receive the message with `receive` (see {@link isDown}). Called in a helper task of `all`,
 * `race` or `map`, the message goes to the mailbox of the task that called them (the one such a
 * helper reads). A watcher that ends stops watching; so does `stop()`.
 *
 * @throws TypeError at the call site if `task` is not a task.
 * @example
 * ```ts
 * function* watch(worker: Task) {
 *   yield* monitor(worker);
 *   const down = yield* receive((m): m is Down => isDown(m, worker));
 *   console.log(`${down.task} ended: ${down.state}`);
 * }
 * ```
 */
export function monitor(task: Task<unknown>): Operation<Monitor> {
  if (!(task instanceof Task)) throw new TypeError(`monitor() expects a task to watch, got ${describe(task)}`);
  return reusable(() => watch(task));
}

function* watch(task: Task<unknown>): Operation<Monitor> {
  // The mailbox the Down goes to: the caller's, also from a helper task of all(), race() or map().
  const watcher = actorOf(yield* self());
  if (task.state !== "running") {
    tell(watcher, down(task));
    return { task, stop: () => {} };
  }
  // A task of another scheduler ends when that one runs it: until then, the watcher's scheduler
  // counts the message as in flight, so that it does not take the wait for a deadlock.
  const foreign = task.sched !== watcher.sched;
  let watching = true;
  const stop = (): boolean => {
    if (!watching) return false;
    watching = false;
    task.sched.unwatch(task, ended);
    watcher.sched.unwatch(watcher, stopping);
    if (foreign) watcher.sched.inFlight--;
    return true;
  };
  const notify = (t: Task) => void (stop() && tell(watcher, down(t)));
  const ended = task.sched.watch(task, notify);
  const stopping = watcher.sched.watch(watcher, stop); // a watcher that ends stops watching
  if (foreign) watcher.sched.inFlight++;
  return { task, stop: () => void stop() };
}

function down(t: Task): Down {
  const state = t.state as Down["state"];
  return new Down(t, state, state === "completed" ? t.result : undefined, state === "failed" ? t.result : undefined);
}

/**
 * True for a {@link Down} message, of `task` if given: the match function for `receive`.
 *
 * @example
 * ```ts
 * const down = yield* receive((m): m is Down => isDown(m, worker), { timeout: 5000 });
 * ```
 */
export function isDown(message: unknown, task?: Task<unknown>): message is Down {
  return message instanceof Down && (task === undefined || message.task === task);
}
