// The worker form of a queue: a handler per job, at most N at once, acked when the handler
// returns, failed when it throws, given back at once when the worker is cancelled.

import type { Operation } from "../core/effect.js";
import { call, ensure, self, spawn, wait } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { describe } from "../core/operation.js";
import { isHalted } from "../core/task.js";
import { semaphore, type Semaphore } from "../sync/semaphore.js";
import type { Delivery } from "./delivery.js";
import type { Queue } from "./queue.js";

/**
 * Options of {@link Queue.work}.
 *
 * @example
 * ```ts
 * yield* jobs.work(resize, { concurrency: 4 } satisfies WorkOptions);
 * ```
 */
export interface WorkOptions {
  /** How many jobs run at once in this worker. Default 1. */
  concurrency?: number;
}

/** @internal The loop behind {@link Queue.work}. */
export function work<T>(queue: Queue<T>, handler: (job: Delivery<T>) => unknown, options: WorkOptions): Operation<never> {
  if (typeof handler !== "function") throw new TypeError(`${queue}.work() expects a handler function, got ${describe(handler)}`);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`${queue}.work(): concurrency must be a whole number >= 1, got ${describe(concurrency)}`);
  }
  return call(function* worker(): Operation<never> {
    const slots = semaphore(concurrency);
    const started = new Set<Delivery<T>>();
    // Once every handler has ended: jobs taken and not finished (a handler cancelled, or one
    // that never got to start) go back to the queue for other consumers, at once. Not waited
    // for here (Redis may be down: commands wait for it): the queue's close waits, bounded.
    yield* ensure(() => queue.track(queue.returnJobs([...started], false)));
    for (;;) {
      yield* slots.acquire();
      let n = 1;
      while (slots.tryAcquire()) n++;
      let jobs: Delivery<T>[] = [];
      try {
        jobs = yield* queue.take(n);
      } finally {
        for (let i = jobs.length; i < n; i++) slots.release();
      }
      for (const job of jobs) {
        started.add(job);
        yield* spawn(() => handle(job, handler, slots, started), { name: String(job) });
      }
    }
  });
}

function* handle<T>(job: Delivery<T>, handler: (job: Delivery<T>) => unknown, slots: Semaphore, started: Set<Delivery<T>>): Operation<void> {
  const me = (yield* self()).top;
  try {
    let failed = false;
    let error: unknown;
    try {
      yield* call(handler, job);
    } catch (e) {
      if (isCancelled(e) && isHalted(me)) throw e; // the worker is stopping: the job is given back
      failed = true;
      error = e;
    }
    if (failed) yield* job.fail(error);
    else yield* job.ack();
    started.delete(job);
  } finally {
    slots.release();
  }
}
