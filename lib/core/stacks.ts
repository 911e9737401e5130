// Logical stack traces: an error that leaves a coroutine gets, once, the path the JavaScript stack
// cannot show: the calls it ran through, its task and the tasks above it, the effect it failed in.
// Names and ids by default (nothing is captured per fork); call sites too in debug mode.

import { CallFrame, FORK, SPAWN, Task, taskOf, type Frame } from "./task.js";

import { debugging, sites } from "./effect.js";
import { nameOfFunction } from "./operation.js";

export { debugging };

/** @internal When each task began to wait, on its scheduler's clock: in debug mode. */
export const waitingSince = new WeakMap<object, number>();

/** @internal In debug mode, remember where `of` (an effect, a task) was made: the caller's line. */
export function noteSite(of: object): void {
  if (debugging.sites) sites.set(of, new Error());
}

/** @internal In debug mode, `to` (a task) was started where `from` (its effect) was made. */
export function copySite(from: object, to: object): void {
  const site = sites.get(from);
  if (site !== undefined) sites.set(to, site);
}

/** The directory skein's own files are in (lib/ or dist/): their frames are not call sites. */
const own = (() => {
  const file = /\(?((?:file:\/\/)?[^()\s]+?):\d+:\d+\)?$/.exec(new Error().stack?.split("\n")[1] ?? "")?.[1];
  if (file === undefined) return undefined;
  const dir = file.slice(0, Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")));
  return /[\\/]core$/.test(dir) ? dir.slice(0, -5) : dir;
})();

/** @internal Where `of` (a task, an effect) was made, in debug mode: `file:line:column`, the
 * first frame of the captured stack outside skein. */
export function siteOf(of: object): string | undefined {
  const lines = sites.get(of)?.stack?.split("\n").slice(1) ?? [];
  for (const line of lines) {
    const where = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?$/.exec(line.trim())?.[1];
    if (where === undefined || where.startsWith("node:") || (own !== undefined && where.startsWith(own))) continue;
    return where;
  }
  return undefined;
}

const at = (of: object, text: string) => {
  const site = siteOf(of);
  return `    at skein: ${text}${site === undefined ? "" : ` (${site})`}`;
};

/** @internal A call frame as a person reads it: the function called, or the operation run. */
export function callName(frame: CallFrame): string {
  const what = frame.what as { target?: unknown; op?: unknown; type?: string } | null;
  if (what === null) return "a cleanup";
  if (typeof what === "function") return `cleanup ${nameOfFunction(what, "(anonymous)")}`;
  const target = what.type === "call" ? what.target : what.type === "shield" ? what.op : what;
  const name = typeof target === "function" ? nameOfFunction(target, "(anonymous)") : String(target);
  return `${what.type === "shield" ? "shield" : "call"} ${name === "[object Generator]" ? "(a generator)" : name}`;
}

/** How `t` came to be: forked, spawned or run, and by whom. */
function origin(t: Task): string {
  const parent = taskOf(t.owner);
  if (parent === null) return `task ${t}, a root task`;
  return `task ${t}, ${t.flags & FORK ? "forked" : t.flags & SPAWN ? "spawned" : "started"} by #${parent.id} ${parent.name}`;
}

/** Errors that have their logical path already: it is added once, where it first left a body. */
const annotated = new WeakSet<object>();

/**
 * @internal `error` leaves the top body of `t` (it threw it, or let it through): append the
 * logical path to its stack, once. `effect` is what the body was performing when it failed, if
 * the error came from one. The path is taken now (names and ids, a few string joins: the tasks
 * and calls change later), and joined to the JavaScript stack when that is first read: where the
 * engine formats a stack only when it is read (V8 12, Node 22, on: an accessor on the error), an
 * error that no one looks at (a timeout caught and dropped) is never formatted. Formatting it
 * here cost ~6 µs an error, half the cost of a timeout that fires.
 */
export function annotate(error: unknown, t: Task, effect: unknown): void {
  try {
    if (typeof error !== "object" || error === null || annotated.has(error)) return;
    const prop = Object.getOwnPropertyDescriptor(error, "stack");
    if (prop !== undefined && prop.get === engineStack && engineStack !== undefined && prop.configurable === true) {
      annotated.add(error);
      const path = pathOf(t, effect);
      const enumerable = prop.enumerable;
      // Read once, it is a plain property (as the engine's own is once written).
      const settle = (on: object, stack: unknown) => Object.defineProperty(on, "stack", { value: stack, writable: true, configurable: true, enumerable });
      Object.defineProperty(error, "stack", {
        configurable: true,
        enumerable,
        get(this: object) {
          const stack: unknown = engineStack.call(this);
          const joined = typeof stack === "string" ? withPath(stack, path) : stack;
          try {
            settle(this, joined);
          } catch {
            // Frozen since: joined again at each read.
          }
          return joined;
        },
        set(this: object, stack: unknown) {
          settle(this, stack);
        },
      });
      return;
    }
    // A plain property (V8 before 12: the engine formatted it for the descriptor already), or
    // a getter of someone else's: read now, inside this try.
    const stack = prop !== undefined && "value" in prop ? prop.value : (error as { stack?: unknown }).stack;
    if (typeof stack !== "string") return;
    annotated.add(error);
    (error as { stack: string }).stack = withPath(stack, pathOf(t, effect));
  } catch {
    // A frozen error, a stack getter or setter that throws, a Proxy: it keeps the stack it has.
    // Nothing an error does may break the scheduler.
  }
}

/** The engine's getter of an error's `stack`, which formats it at the first read (V8 12, Node
 * 22, on; one function for every error of this realm), or undefined where `stack` is a plain
 * property. An error whose `stack` is another getter (its own code's) is read at once, as before. */
const engineStack: (() => unknown) | undefined = (() => {
  try {
    const get = Object.getOwnPropertyDescriptor(new Error(), "stack")?.get;
    return typeof get === "function" ? get : undefined;
  } catch {
    return undefined;
  }
})();

/** The logical path of an error leaving `t`'s top body: the effect, the calls, the tasks. */
function pathOf(t: Task, effect: unknown): string[] {
  const path: string[] = [];
  if (effect !== undefined) path.push(`    at skein: performing ${String(effect)}`);
  for (let f: Frame = t.top; f instanceof CallFrame; f = f.caller) path.push(at(f.what ?? f, `in ${callName(f)}`));
  for (let task: Task | null = t; task !== null; task = taskOf(task.owner)) path.push(at(task, `in ${origin(task)}`));
  return path;
}

/** A JavaScript stack with the logical path in place of what lies below the run loop. */
function withPath(stack: string, path: string[]): string {
  // The JavaScript stack below the run loop is only how the host got to it: drop it, and the
  // generator machinery, which says nothing.
  const lines = stack.split("\n");
  const loop = lines.findIndex((l) => /\bScheduler\.(step|loop)\b/.test(l));
  // Below the first frame of your code, skein's own frames are machinery too (a map worker
  // that ran your function): dropped. Above it, they say where skein threw: kept.
  let yours = false;
  const kept = (loop < 0 ? lines : lines.slice(0, loop)).filter((l, i) => {
    if (i === 0 || !/^\s*at /.test(l)) return true;
    if (/^\s*at (?:\S+\.)?next \(<anonymous>\)$/.test(l)) return false;
    const mine = own !== undefined && (l.includes(`${own}/`) || l.includes(`${own}\\`));
    if (!mine) yours = true;
    return !mine || !yours;
  });
  return kept.concat(path).join("\n");
}
