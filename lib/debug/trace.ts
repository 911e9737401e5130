// A trace of a run in the Trace Event format that Perfetto (ui.perfetto.dev) and chrome://tracing
// open: a track per task, a span for each run and each wait (what it waited on), and when each
// task started and how it ended. Built on the scheduler's observer.

import type { Observer, Scheduler } from "../core/scheduler.js";
import type { Task } from "../core/task.js";

/**
 * One event of a {@link Trace}, in the Trace Event format: `ph` is its kind (`"X"` a span with a
 * duration, `"i"` an instant, `"M"` metadata such as a track's name), `ts` and `dur` are in
 * microseconds, `tid` is the task's id.
 *
 * @example
 * ```ts
 * const waits = trace.traceEvents.filter((e: TraceEvent) => e.ph === "X" && e.cat === "wait");
 * ```
 */
export interface TraceEvent {
  name: string;
  cat?: string;
  ph: "X" | "i" | "M";
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: "t";
  args?: Record<string, unknown>;
}

/**
 * A recorded trace: write it as JSON and open it in Perfetto or chrome://tracing.
 *
 * @example
 * ```ts
 * fs.writeFileSync("trace.json", JSON.stringify(trace));
 * ```
 */
export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
}

/**
 * A trace being recorded by {@link recordTrace}: `stop()` ends the recording and returns the trace.
 *
 * @example
 * ```ts
 * const recording = recordTrace(s);
 * yield* work();
 * const trace = recording.stop();
 * ```
 */
export interface TraceRecording {
  /** Stop recording (the observer is removed) and return the trace. */
  stop(): Trace;
}

/** Observers of recordings that have stopped, and the observer each recording replaced: a
 * recording that stops puts back the newest one still recording. */
const finished = new WeakSet<Observer>();
const before = new WeakMap<Observer, Observer>();

/**
 * Record what the tasks of `scheduler` do, as a trace: a track per task (named `#3 worker`), with
 * a span for each time it runs and each time it waits (named after what it waits on), and
 * instants for its start, its end (with how it ended) and each time limit that cut it short
 * (`timeout(1000) ran out`). Times are the scheduler's clock, so a
 * virtual-clock run gives a trace of its virtual time. It installs the scheduler's observer
 * (replacing any other) until `stop()`.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * const recording = recordTrace(defaultScheduler());
 * await run(main);
 * writeFileSync("trace.json", JSON.stringify(recording.stop())); // open it in ui.perfetto.dev
 * ```
 */
export function recordTrace(scheduler: Scheduler): TraceRecording {
  const events: TraceEvent[] = [];
  const open = new Map<Task, { since: number; name: string; cat: string; args?: { on: string } }>();
  const us = () => Math.round(scheduler.now() * 1000);
  const close = (t: Task, now: number) => {
    const span = open.get(t);
    if (span === undefined) return;
    open.delete(t);
    const event: TraceEvent = { name: span.name, cat: span.cat, ph: "X", ts: span.since, dur: Math.max(0, now - span.since), pid: 1, tid: t.id };
    if (span.args !== undefined) event.args = span.args;
    events.push(event);
  };
  const observer: Observer = {
    started(t) {
      const now = us();
      events.push({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid: t.id, args: { name: `#${t.id} ${t.name}` } });
      events.push({ name: "thread_sort_index", ph: "M", ts: 0, pid: 1, tid: t.id, args: { sort_index: t.id } });
      events.push({ name: "started", cat: "task", ph: "i", s: "t", ts: now, pid: 1, tid: t.id });
      open.set(t, { since: now, name: "running", cat: "run" });
    },
    resumed(t) {
      const now = us();
      close(t, now);
      open.set(t, { since: now, name: "running", cat: "run" });
    },
    suspended(t, on) {
      const now = us();
      close(t, now);
      if (on === null) open.set(t, { since: now, name: "ready (slice used up)", cat: "ready" });
      else {
        // One span name per kind of wait (the time left goes in its args), so that tools group them.
        const what = scheduler.waitsOn(t);
        open.set(t, { since: now, name: `waiting on ${what.replace(/ \(ends in \d+ ms\)$/, "")}`, cat: "wait", args: { on: what } });
      }
    },
    timedOut(t, limit, at) {
      // An instant on the task's track when the limit ran out (told later, once what it cut short
      // has ended): amid the wait it cut short.
      events.push({ name: `${limit} ran out`, cat: "timeout", ph: "i", s: "t", ts: Math.round(at * 1000), pid: 1, tid: t.id, args: { limit } });
    },
    ended(t) {
      const now = us();
      close(t, now);
      events.push({ name: t.state, cat: "task", ph: "i", s: "t", ts: now, pid: 1, tid: t.id, args: { state: t.state } });
    },
  };
  const previous = scheduler.observer;
  if (previous !== undefined) before.set(observer, previous);
  scheduler.observer = observer;
  let trace: Trace | undefined;
  return {
    stop() {
      if (trace !== undefined) return trace; // stopped already
      // Recordings may stop in any order: put back the newest one still recording.
      finished.add(observer);
      if (scheduler.observer === observer) {
        let back = previous;
        while (back !== undefined && finished.has(back)) back = before.get(back);
        scheduler.observer = back;
      }
      const now = us();
      for (const t of [...open.keys()]) close(t, now);
      events.push({ name: "process_name", ph: "M", ts: 0, pid: 1, tid: 0, args: { name: "skein" } });
      return (trace = { traceEvents: events, displayTimeUnit: "ms" });
    },
  };
}
