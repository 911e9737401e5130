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
 * the error came from one. Cheap enough for every failure: names and ids, a few string joins.
 */
export function annotate(error: unknown, t: Task, effect: unknown): void {
  try {
    if (typeof error !== "object" || error === null || annotated.has(error)) return;
    const stack = (error as { stack?: unknown }).stack;
    if (typeof stack !== "string") return;
    annotated.add(error);
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
    if (effect !== undefined) kept.push(`    at skein: performing ${String(effect)}`);
    for (let f: Frame = t.top; f instanceof CallFrame; f = f.caller) kept.push(at(f.what ?? f, `in ${callName(f)}`));
    for (let task: Task | null = t; task !== null; task = taskOf(task.owner)) kept.push(at(task, `in ${origin(task)}`));
    (error as { stack: string }).stack = kept.join("\n");
  } catch {
    // A frozen error, a stack getter or setter that throws, a Proxy: it keeps the stack it has.
    // Nothing an error does may break the scheduler.
  }
}
