// The live task tree: what every task of a running program is doing, as data (for tools) and as
// the text a deadlock report shows (for people). A snapshot; it changes nothing.

import type { Scheduler } from "../core/scheduler.js";
import { defaultScheduler } from "../core/run.js";
import { callName, siteOf, waitingSince } from "../core/stacks.js";
import type { Alarm } from "../core/timers.js";
import { CallFrame, childrenOf, FORK, QUEUED, SPAWN, SUSPENDED, taskOf, tasksUnder, type Frame, type Task, type TaskState } from "../core/task.js";

/**
 * A task in a snapshot made by {@link inspect}.
 *
 * @example
 * ```ts
 * const busy = inspect().flatMap(function walk(t): TaskInfo[] {
 *   return [t, ...t.children.flatMap(walk)];
 * }).filter((t) => t.waitsOn === "running");
 * ```
 */
export interface TaskInfo {
  readonly id: number;
  readonly name: string;
  readonly state: TaskState;
  /** How it was started: by `run` (a root), `fork` or `spawn`. */
  readonly kind: "root" | "fork" | "spawn";
  /** The id of the task that started it; null for a root. */
  readonly parent: number | null;
  /** What it waits on (`sleep (ends in 250 ms)`, `receive(channel#3)`, `its children to
   * finish`, `select(job: receive(channel#3), timeout: 500 ms) (ends in 120 ms)`…), or "ready"
   * (to run, after the others) or "running". */
  readonly waitsOn: string;
  /** Since when it waits, on its scheduler's clock: known in debug mode. */
  readonly since: number | undefined;
  /** Where it was started (`file:line:column`): known in debug mode. */
  readonly startedAt: string | undefined;
  /** The calls it is in, the innermost first (`call fetchPage`); a timeout's says its limit and
   * when it ends (`call timeout(1000) (ends in 250 ms)`). */
  readonly calls: readonly string[];
  /** The tasks it started that are still running. */
  readonly children: readonly TaskInfo[];
  /** The task itself: join it, cancel it, tell it. */
  readonly task: Task;
}

/**
 * A snapshot of the task tree of `scheduler` (by default the one behind `run`): the root tasks,
 * each with its children, and what each is doing. Taking it changes nothing; call it from
 * anywhere, any time.
 *
 * @example
 * ```ts
 * for (const root of inspect()) console.log(root.name, root.waitsOn, root.children.length);
 * ```
 */
export function inspect(scheduler: Scheduler = defaultScheduler()): TaskInfo[] {
  // Iterative, so that a tree 10,000 deep does not overflow the stack.
  const roots: TaskInfo[] = [];
  const limits = scheduler.limitsNow();
  const todo: [Task, TaskInfo[]][] = childrenOf(scheduler.roots).reverse().map((t) => [t, roots]);
  while (todo.length > 0) {
    const [t, siblings] = todo.pop()!;
    const children: TaskInfo[] = [];
    siblings.push(info(t, children, limits));
    const kids = tasksUnder(t);
    for (let i = kids.length - 1; i >= 0; i--) todo.push([kids[i]!, children]);
  }
  return roots;
}

function info(t: Task, children: TaskInfo[], limits: Map<object, Alarm>): TaskInfo {
  const calls: string[] = [];
  for (let g: Frame = t.top; g instanceof CallFrame; g = g.caller) {
    const a = limits.get(g); // a timeout's call says its limit and when it ends
    calls.push(a === undefined ? callName(g) : `call ${t.sched.limitText(a)}`);
  }
  const parent = taskOf(t.owner);
  return {
    id: t.id,
    name: t.name,
    state: t.state,
    kind: parent === null ? "root" : t.flags & FORK ? "fork" : t.flags & SPAWN ? "spawn" : "root",
    parent: parent === null ? null : parent.id,
    waitsOn: t.flags & SUSPENDED ? t.sched.waitsOn(t, limits) : t.flags & QUEUED ? "ready" : "running",
    since: t.flags & SUSPENDED ? waitingSince.get(t) : undefined,
    startedAt: siteOf(t),
    calls,
    children,
    task: t,
  };
}

/**
 * The task tree of `scheduler` as text, a line per task with what it waits on, indented by depth:
 * what a deadlock report shows, and what `main()` prints on SIGUSR2. In debug mode, also since
 * when each waits and where it was started.
 *
 * @example
 * ```ts
 * process.on("SIGUSR2", () => console.error(describeTasks()));
 * ```
 */
export function describeTasks(scheduler: Scheduler = defaultScheduler()): string {
  const text = scheduler.describeTree(scheduler.roots, "");
  return text === "" ? "no task is running\n" : text;
}
