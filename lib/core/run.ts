// Creating schedulers, and the module-level `run` on a default real-clock scheduler.
// This is where the scheduler meets its handler table and its clock.

import { RealClock, VirtualClock } from "./clock.js";
import type { TaskOptions } from "./effects.js";
import { handlers } from "./handlers.js";
import { debugging } from "./stacks.js";
import { describe, type OperationLike } from "./operation.js";
import { Scheduler, type SchedulerOptions } from "./scheduler.js";
import type { Task } from "./task.js";

/**
 * Make a scheduler with its own clock and tasks: `"real"` (the default) for programs, `"virtual"`
 * for tests, where time jumps to the next timer whenever every task is blocked and a run that can
 * never progress fails with a `DeadlockError`.
 *
 * @throws TypeError for an unknown clock.
 * @example
 * ```ts
 * const s = createScheduler({ clock: "virtual" });
 * const t = s.run(function* () {
 *   yield* sleep(1000);
 *   return s.now();
 * });
 * console.log(await t); // 1000
 * ```
 */
export function createScheduler(options: SchedulerOptions = {}): Scheduler {
  const clock = options.clock ?? "real";
  if (clock !== "real" && clock !== "virtual") {
    throw new TypeError(`createScheduler() expects clock "real" or "virtual", got ${describe(clock)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(`createScheduler() expects onError to be a function, got ${describe(options.onError)}`);
  }
  if (options.debug === true) debugging.sites = true;
  const s = new Scheduler(clock === "virtual" ? new VirtualClock() : new RealClock(), handlers, options.onError);
  if (options.observer !== undefined) s.observer = options.observer;
  return s;
}

let shared: Scheduler | undefined;

/**
 * Start `op` as a root task on the default (real-clock) scheduler and return its {@link Task},
 * which you can `await`. A root that fails with nobody awaiting it is reported like an
 * unhandled promise rejection.
 *
 * @throws TypeError if `op` is not an operation or a function, or `options.name` is not a string.
 * @example
 * ```ts
 * import { run, sleep } from "skein";
 *
 * const result = await run(function* main() {
 *   yield* sleep(100);
 *   return "done";
 * });
 * ```
 */
export function run<T>(op: OperationLike<T>, options?: TaskOptions): Task<T> {
  return defaultScheduler().run(op, options);
}

/**
 * The scheduler behind `run` (and `main`, `serve`, `listen` and the async iterators of
 * channels): a real-clock one, made when first needed. Set its `onError` to route the errors it
 * reports.
 *
 * @example
 * ```ts
 * defaultScheduler().onError = (error, task, what) => logger.error(`${what} in ${task}`, error);
 * ```
 */
export function defaultScheduler(): Scheduler {
  return (shared ??= createScheduler());
}
