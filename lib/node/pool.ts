// A pool of worker threads for CPU-bound work: a job runs an exported function of a module on a
// thread; its result or error comes back to the coroutine as if the call were local. Idle
// threads do not keep the process alive.

import { availableParallelism } from "node:os";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Operation } from "../core/effect.js";
import { action, wait } from "../core/effects.js";
import { describe } from "../core/operation.js";
import { checkString } from "./checks.js";

// The thread's side, evaluated in each worker (as CommonJS or, under --input-type=module, as a
// module: it is written for both): import the module once, call the function, post back the
// value or a description of the error.
const THREAD = `
import("node:worker_threads").then(({ parentPort }) => {
const modules = new Map();
parentPort.on("message", async ({ module, name, args }) => {
  try {
    let m = modules.get(module);
    if (m === undefined) modules.set(module, (m = import(module)));
    const fn = (await m)[name];
    if (typeof fn !== "function") throw new TypeError(module + " has no exported function " + JSON.stringify(name));
    parentPort.postMessage({ ok: true, value: await fn(...args) });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const props = {};
    for (const [k, v] of Object.entries(e)) if (v === null || typeof v !== "object" && typeof v !== "function") props[k] = v;
    parentPort.postMessage({ ok: false, error: { name: e.name, message: e.message, stack: e.stack, props } });
  }
});
});
`;

interface Job {
  readonly message: { module: string; name: string; args: unknown[] };
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  thread: Thread | null;
}

interface Thread {
  readonly worker: Worker;
  job: Job | null;
}

const ERRORS: Record<string, ErrorConstructor> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError } as never;

/** Rebuild an error thrown on a thread: same class (for the built-in ones), message, stack, props. */
function rebuild(e: { name: string; message: string; stack?: string; props: Record<string, unknown> }): Error {
  const error = new (ERRORS[e.name] ?? Error)(e.message);
  if (error.name !== e.name) error.name = e.name;
  if (e.stack !== undefined) error.stack = e.stack;
  return Object.assign(error, e.props);
}

/**
 * Worker threads that run CPU-bound jobs; see {@link createPool} and {@link runInWorker}.
 *
 * @example
 * ```ts
 * const pool = createPool({ size: 2 });
 * const hash = yield* pool.run(new URL("./hash.js", import.meta.url), "sha256", data);
 * yield* pool.close();
 * ```
 */
export class WorkerPool {
  private readonly threads = new Set<Thread>();
  private readonly queue: Job[] = [];
  private closed = false;

  /** @internal Use {@link createPool}. */
  constructor(
    /** The most threads it runs at once. */
    readonly size: number,
  ) {}

  /** Jobs running now. */
  get running(): number {
    let n = 0;
    for (const t of this.threads) if (t.job !== null) n++;
    return n;
  }

  /**
   * Run the function exported as `name` by `module` on a thread, with `args` (copied by the
   * structured clone, as are the result and the error). The module is imported by the thread
   * itself, so it must be JavaScript Node can load there (on Node 20 a worker does not inherit a
   * TypeScript loader such as tsx). Waits for a free thread when all are
   * busy. Cancelling the task terminates the thread running the job (or drops a job still
   * waiting); the pool starts another thread when it needs one.
   *
   * @throws TypeError at the call for a module that is not an absolute path or URL; at the
   * `yield*`, the job's error (same class for built-in errors, same message, the stack from the
   * thread pointing into the module).
   * @example
   * ```ts
   * // primes.ts: export function countPrimes(below: number) { ... }
   * const n = yield* pool.run<number>(new URL("./primes.js", import.meta.url), "countPrimes", 5_000_000);
   * ```
   */
  run<T = unknown>(module: string | URL, name: string, ...args: unknown[]): Operation<T> {
    const href = moduleURL(module);
    checkString(name, "an exported function's name", "run()");
    const message = { module: href, name, args };
    return action<T>((resolve, reject) => {
      if (this.closed) return reject(new Error("run(): the worker pool is closed"));
      const job: Job = { message, resolve: resolve as (v: unknown) => void, reject, thread: null };
      this.queue.push(job);
      this.dispatch();
      return () => this.drop(job);
    });
  }

  /**
   * Terminate every thread (jobs in progress fail) and refuse new jobs.
   *
   * @example
   * ```ts
   * yield* pool.close();
   * ```
   */
  close(): Operation<void> {
    this.closed = true;
    const ending: Promise<number>[] = [];
    for (const job of this.queue.splice(0)) job.reject(new Error("the worker pool was closed"));
    for (const t of this.threads) ending.push(this.retire(t, new Error("the worker pool was closed")));
    return wait<void>(Promise.all(ending).then(() => undefined));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let idle: Thread | undefined;
      for (const t of this.threads) if (t.job === null) idle = t;
      if (idle === undefined) {
        if (this.threads.size >= this.size) return;
        idle = this.spawn();
      }
      const job = this.queue.shift()!;
      job.thread = idle;
      idle.job = job;
      idle.worker.ref();
      try {
        idle.worker.postMessage(job.message);
      } catch (e) {
        idle.job = null; // the arguments could not be cloned
        idle.worker.unref();
        job.reject(e);
      }
    }
  }

  private spawn(): Thread {
    const worker = new Worker(THREAD, { eval: true });
    const thread: Thread = { worker, job: null };
    worker.on("message", (m: { ok: boolean; value?: unknown; error?: Parameters<typeof rebuild>[0] }) => {
      const job = thread.job;
      thread.job = null;
      worker.unref(); // idle: it does not keep the process alive
      if (job !== null) {
        if (m.ok) job.resolve(m.value);
        else job.reject(rebuild(m.error!));
      }
      this.dispatch();
    });
    const lost = (error: Error) => {
      if (!this.threads.delete(thread)) return;
      thread.job?.reject(error);
      thread.job = null;
      this.dispatch();
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`a worker thread exited with code ${code} while running a job`)));
    this.threads.add(thread);
    return thread;
  }

  /** A cancelled job: forget it if it waits, or terminate the thread that runs it. */
  private drop(job: Job): void {
    if (job.thread === null) {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
      return;
    }
    job.thread.job = null;
    void this.retire(job.thread, null);
    this.dispatch();
  }

  private retire(t: Thread, error: Error | null): Promise<number> {
    this.threads.delete(t);
    if (error !== null) t.job?.reject(error);
    t.job = null;
    return t.worker.terminate();
  }
}

function moduleURL(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module === "string") {
    if (/^(file|data):/.test(module)) return module;
    if (isAbsolute(module)) return pathToFileURL(module).href;
  }
  throw new TypeError(
    `run() expects the module as an absolute path or a URL such as new URL("./work.js", import.meta.url), got ${describe(module)}`,
  );
}

/**
 * Make a pool of worker threads, `size` of them at most (default: the number of cores),
 * started when first needed.
 *
 * @throws RangeError for a size that is not a whole number >= 1.
 * @example
 * ```ts
 * const pool = createPool({ size: 4 });
 * ```
 */
export function createPool(options: { size?: number } = {}): WorkerPool {
  const size = options.size ?? availableParallelism();
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`createPool() expects size to be a whole number >= 1, got ${describe(size)}`);
  return new WorkerPool(size);
}

let shared: WorkerPool | undefined;

/**
 * Run the function exported as `name` by `module` on the shared pool (one thread per core),
 * as {@link WorkerPool.run} does. The coroutine waits; every other task keeps running.
 *
 * @throws as {@link WorkerPool.run}.
 * @example
 * ```ts
 * function* report(data: number[]) {
 *   const stats = yield* runInWorker(new URL("./stats.js", import.meta.url), "summarize", data);
 *   console.log(stats);
 * }
 * ```
 */
export function runInWorker<T = unknown>(module: string | URL, name: string, ...args: unknown[]): Operation<T> {
  return (shared ??= createPool()).run<T>(module, name, ...args);
}
