// A durable work queue on a Redis stream and its consumer group, used from coroutines like a
// channel: send adds a job, receive takes one; jobs not acked in time go to another consumer.

import type { Redis } from "ioredis";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Operation } from "../core/effect.js";
import { shield, sleep, spawn, wait } from "../core/effects.js";
import { isCancelled, TimeoutError } from "../core/errors.js";
import { describe } from "../core/operation.js";
import { restorable } from "../core/park.js";
import { resource } from "../combinators/resource.js";
import { timeout } from "../combinators/timeout.js";
import { mutex } from "../sync/mutex.js";
import { connect, disconnect, type Address } from "./connection.js";
import { Delivery } from "./delivery.js";
import { encode } from "./json.js";
import * as scripts from "./scripts.js";
import { work, type WorkOptions } from "./worker.js";

/**
 * Options of {@link queue}. Every process that uses a queue should give it the same
 * `visibilityTimeout`, `maxAttempts` and `retryDelay`.
 *
 * @example
 * ```ts
 * const options: QueueOptions = { redis: "redis://127.0.0.1:6379", visibilityTimeout: 10_000, maxAttempts: 3, capacity: 50_000 };
 * ```
 */
export interface QueueOptions {
  /** Where Redis is: a `redis://[:password@]host:port[/db]` URL or ioredis options. Default `redis://127.0.0.1:6379`. */
  redis?: Address;
  /** The consumer group; consumers of one group share the jobs. Default `"skein"`. */
  group?: string;
  /** This consumer's name in the group, unique per process. Default: host, pid and a random suffix. */
  consumer?: string;
  /** How long (ms) a job may go without news from the consumer that took it before another
   * consumer takes it: a consumer that crashed, was killed or lost Redis. While a queue is
   * open, the jobs it holds are kept alive by a heartbeat (every third of this), however long
   * they run. Default 30,000. */
  visibilityTimeout?: number;
  /** Deliveries of a job before it goes to the dead-letter stream. Default 5. */
  maxAttempts?: number;
  /** How long (ms) after a failed attempt the job can be delivered again; at most
   * `visibilityTimeout`. Default 1,000. */
  retryDelay?: number;
  /** Backpressure: `send` waits while the queue holds this many unfinished jobs (waiting or
   * taken and not yet acked). Default Infinity. */
  capacity?: number;
  /** How often (ms) a waiting consumer looks for jobs that other consumers abandoned. Default
   * 1,000, or half the visibility timeout if that is less. */
  poll?: number;
}

/**
 * A job that used up its attempts, as {@link Queue.deadLetters} lists it.
 *
 * @example
 * ```ts
 * for (const dead of yield* jobs.deadLetters()) console.log(`${dead.id} after ${dead.attempts} attempts: ${dead.error}`);
 * ```
 */
export interface DeadLetter<T> {
  /** The job's id (its id in the queue's stream). */
  id: string;
  data: T;
  /** How many times it was delivered. */
  attempts: number;
  /** The error of the last attempt, or why there is none. */
  error: string;
}

interface Settings {
  redis: Address;
  group: string;
  consumer: string;
  visibilityTimeout: number;
  maxAttempts: number;
  retryDelay: number;
  capacity: number;
  poll: number;
}

/** A row of the claim script: id, JSON data, attempt, last error (or false). */
type Claimed = [string, string, number, string | false];
/** XREADGROUP's reply: per stream, its entries as [id, [field, value, …]]. */
type Read = [string, [string, string[]][]][] | null;

/** How long a cleanup may wait for Redis before it lets the visibility timeout do its work. */
const CLEANUP_MS = 2000;

/**
 * A durable work queue shared by processes and machines, made by {@link queue}: a Redis stream
 * (named as the queue) and a consumer group. `send` adds a job; `receive` takes one, or `work`
 * runs a handler per job. A job is delivered at least once: it stays in the queue until acked,
 * a job whose consumer dies is delivered again after the visibility timeout, and a job that
 * fails `maxAttempts` times goes to the dead-letter stream (named `<queue>:dead`) with its error.
 *
 * @example
 * ```ts
 * function* producer() {
 *   const jobs = yield* queue<{ to: string }>("emails");
 *   for (const to of addresses) yield* jobs.send({ to });
 * }
 * function* consumer() {
 *   const jobs = yield* queue<{ to: string }>("emails");
 *   yield* jobs.work(function* (job) {
 *     yield* sendEmail(job.data.to);
 *   }, { concurrency: 10 });
 * }
 * ```
 */
export class Queue<T> {
  /** @internal The stream, the dead-letter stream, the hash of last errors. */
  readonly keys: readonly [string, string, string];
  private reader: Redis | null = null;
  private readerId: number | undefined;
  /** Deliveries handed out and not yet finished: the heartbeat keeps them this consumer's. */
  private readonly held = new Map<string, Delivery<T>>();
  private readonly reading = mutex();
  private readonly background = new Set<Promise<unknown>>();
  private lastClaim = -Infinity;
  private closed = false;

  /** @internal Use {@link queue}. */
  constructor(
    /** The queue's name: the key of its stream. */
    readonly name: string,
    private readonly redis: Redis,
    private readonly settings: Settings,
  ) {
    this.keys = [name, `${name}:dead`, `${name}:errors`];
  }

  /** This consumer's name in the group. */
  get consumer(): string {
    return this.settings.consumer;
  }

  /**
   * Add a job and return its id. With a `capacity`, waits while the queue holds that many
   * unfinished jobs (backpressure across every producer). The data goes as JSON, so it must be
   * JSON data; anything JSON would change is refused here. A send cancelled while Redis is
   * adding the job may still add it.
   *
   * @throws TypeError at the call for data JSON cannot carry (a function, a Date, a Map, a
   * cycle, undefined, NaN, a bigint), naming where it is in the data.
   * @example
   * ```ts
   * const id = yield* jobs.send({ image: "cat.png", width: 200 });
   * ```
   */
  send(data: T): Operation<string> {
    const json = encode(data, `${this}.send()`);
    this.checkOpen("send");
    return this.add(json);
  }

  private *add(json: string): Operation<string> {
    if (this.settings.capacity === Infinity) return (yield* wait(this.redis.xadd(this.name, "*", "data", json))) as string;
    for (let pause = 1; ; pause = Math.min(2 * pause, 50)) {
      const id = (yield* wait(scripts.send.run(this.redis, this.keys, [this.settings.capacity, json]))) as string | null;
      if (id !== null) return id;
      yield* sleep(pause); // full: wait for consumers to finish some
    }
  }

  /**
   * Take the next job, waiting until there is one: first any job another consumer abandoned
   * (past its visibility timeout), else a new one. Ack it when done ({@link Delivery.ack}), or
   * fail it. A receive cancelled while it waits takes nothing: a job Redis handed it in that
   * instant is given back at once, as if never delivered. So is the job of a receive that
   * loses a `race`; under a `timeout`, a job taken as the timeout fires is returned, not lost.
   *
   * @example
   * ```ts
   * for (;;) {
   *   const job = yield* jobs.receive();
   *   yield* handle(job.data);
   *   yield* job.ack();
   * }
   * ```
   */
  receive(): Operation<Delivery<T>> {
    this.checkOpen("receive");
    const queue = this;
    return restorable(
      {
        *[Symbol.iterator]() {
          return (yield* queue.take(1))[0]!;
        },
      },
      (job: Delivery<T>) => queue.track(queue.returnJobs([job], true)),
    );
  }

  /**
   * Run `handler` for each job, at most `concurrency` at once, for ever (until cancelled). A
   * job is acked when its handler returns; if the handler throws, the job fails
   * ({@link Delivery.fail}): it is tried again after `retryDelay`, or dead-lettered after its
   * last attempt. Cancelled, the worker stops taking jobs, cancels the running handlers and
   * gives their jobs back at once for other consumers.
   *
   * @throws TypeError or RangeError at the call for a bad handler or concurrency.
   * @example
   * ```ts
   * yield* jobs.work(function* (job) {
   *   const page = yield* get(job.data.url);
   *   yield* save(job.data.url, page);
   * }, { concurrency: 20 });
   * ```
   */
  work(handler: (job: Delivery<T>) => unknown, options: WorkOptions = {}): Operation<never> {
    this.checkOpen("work");
    return work(this, handler, options);
  }

  /**
   * How many jobs the queue holds that are not finished: waiting, or taken and not yet acked.
   *
   * @example
   * ```ts
   * console.log(`${yield* jobs.size()} jobs to go`);
   * ```
   */
  *size(): Operation<number> {
    this.checkOpen("size");
    return yield* wait(this.redis.xlen(this.name));
  }

  /**
   * The jobs that used up their attempts, oldest first (at most `count`), from the dead-letter
   * stream `<queue>:dead`, with the error of each one's last attempt.
   *
   * @example
   * ```ts
   * const dead = yield* jobs.deadLetters();
   * if (dead.length > 0) console.error(`${dead.length} jobs failed for good; the first: ${dead[0].error}`);
   * ```
   */
  *deadLetters(count = 1000): Operation<DeadLetter<T>[]> {
    this.checkOpen("deadLetters");
    const rows = yield* wait(this.redis.xrange(this.keys[1], "-", "+", "COUNT", count));
    return rows.map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return { id: f.id!, data: parseOr(f.data!) as T, attempts: Number(f.attempts), error: f.error! };
    });
  }

  /** @internal Take 1 to `n` jobs, waiting for at least one. One taker reads at a time. */
  *take(n: number): Operation<Delivery<T>[]> {
    yield* this.reading.lock();
    try {
      for (;;) {
        this.checkOpen("receive");
        const now = Date.now();
        if (now - this.lastClaim >= this.settings.poll) {
          this.lastClaim = now;
          const claimed = yield* this.again(() => this.claim(n));
          // A full batch: more may be waiting (jobs given back, retries due): claim again next time.
          if (claimed.length === n) this.lastClaim = -Infinity;
          if (claimed.length > 0) return claimed;
        }
        // At most a second at a time: a cancelled read that Redis sees only after its CLIENT
        // UNBLOCK still answers well within the cleanup bound.
        const block = Math.min(1000, Math.max(1, Math.ceil(this.lastClaim + this.settings.poll - Date.now())));
        const fresh = yield* this.again(() => this.read(n, block));
        if (fresh.length > 0) return fresh;
      }
    } finally {
      this.reading.unlock();
    }
  }

  /** Run `op`; if Redis lost the stream or the consumer group (a restart without persistence, a
   * deleted key: XREADGROUP fails with NOGROUP, or a blocked one with UNBLOCKED), make them again and retry. */
  private *again<R>(op: () => Operation<R>): Operation<R> {
    for (let tries = 1; ; tries++) {
      try {
        return yield* op();
      } catch (e) {
        if (tries === 3 || !/^(NOGROUP|UNBLOCKED the stream key no longer exists)/.test(String((e as Error)?.message))) throw e;
        yield* wait(createGroup(this.redis, this.name, this.settings.group));
      }
    }
  }

  /** Claim jobs other consumers left idle past the visibility timeout (dead-lettering the exhausted). */
  private *claim(n: number): Operation<Delivery<T>[]> {
    const { group, consumer, visibilityTimeout, maxAttempts } = this.settings;
    const reply = scripts.claim.run(this.redis, this.keys, [group, consumer, visibilityTimeout, n, maxAttempts]) as Promise<Claimed[]>;
    let rows: Claimed[] | undefined;
    try {
      rows = yield* wait(reply);
    } finally {
      // Cancelled with the script under way: what it claims goes back, its count as it was.
      if (rows === undefined) yield* shield(() => this.cleanup(reply, (late) => this.release(late.map((r) => [r[0], r[2] - 1]))));
    }
    return rows.map(([id, data, attempt, error]) => this.deliver(id, data, attempt, error === false ? undefined : error));
  }

  /** Read new jobs, blocking up to `block` ms on the dedicated reading connection. */
  private *read(n: number, block: number): Operation<Delivery<T>[]> {
    const reader = (this.reader ??= yield* this.openReader());
    if (this.readerId === undefined) this.readerId = (yield* wait(reader.client("ID"))) as number;
    const { group, consumer } = this.settings;
    const reply = reader.xreadgroup("GROUP", group, consumer, "COUNT", n, "BLOCK", block, "STREAMS", this.name, ">") as Promise<Read>;
    let got: Read | undefined;
    try {
      got = yield* wait(reply);
    } finally {
      if (got === undefined) yield* shield(() => this.unblock(reader, reply));
    }
    return entries(got).map(([id, data]) => this.deliver(id, data, 1, undefined));
  }

  private *openReader(): Operation<Redis> {
    const reader = yield* connect(this.settings.redis, `skein:${this.consumer}:reader`);
    reader.on("close", () => void (this.readerId = undefined)); // a new connection has a new id
    return reader;
  }

  /**
   * A read was cancelled while blocked: end it now (CLIENT UNBLOCK, from the other connection),
   * then give back what it returned, if anything: an entry Redis handed over just before. If
   * that cannot be done (Redis unreachable), drop the connection; whatever the read took is
   * then delivered again after the visibility timeout.
   */
  private *unblock(reader: Redis, reply: Promise<Read>): Operation<void> {
    const id = this.readerId;
    if (id !== undefined) {
      const done = yield* this.cleanup(
        this.redis.client("UNBLOCK", id).then(() => reply),
        (late) => this.release(entries(late).map(([entry]) => [entry, 0])),
      );
      if (done) return;
    }
    if (this.reader === reader) {
      this.reader = null;
      this.readerId = undefined;
    }
    yield* disconnect(reader);
  }

  /** Wait (a bounded time) for what a cancelled command returns, and give it back. False if it could not be. */
  private *cleanup<R>(reply: Promise<R>, giveBack: (late: R) => Promise<unknown>): Operation<boolean> {
    try {
      yield* timeout(CLEANUP_MS, () => wait(reply.then(giveBack)));
      return true;
    } catch {
      // No answer in time, or none at all (the connection failed): either way the safe course is
      // the fallback, since the visibility timeout brings back whatever was taken.
      return false;
    }
  }

  private deliver(id: string, data: string, attempt: number, lastError: string | undefined): Delivery<T> {
    const job = new Delivery<T>(this, id, parseOr(data) as T, attempt, lastError);
    this.held.set(id, job);
    return job;
  }

  /** @internal */
  *ack(job: Delivery<unknown>): Operation<void> {
    this.checkOpen("ack"); // its jobs were given back when it closed: an ack now would be a lie
    if (job.finished) return;
    yield* this.again(() => wait(scripts.ack.run(this.redis, this.keys, [this.settings.group, job.id])));
    this.finish(job);
  }

  /** @internal */
  *fail(job: Delivery<unknown>, error: unknown): Operation<"retry" | "dead" | "gone"> {
    this.checkOpen("fail");
    if (job.finished) return "gone";
    const { group, consumer, visibilityTimeout, retryDelay, maxAttempts } = this.settings;
    const idle = visibilityTimeout - retryDelay;
    const outcome = yield* this.again(() => wait(scripts.fail.run(this.redis, this.keys, [group, consumer, job.id, explain(error), idle, maxAttempts])));
    this.finish(job);
    if (retryDelay === 0) this.lastClaim = -Infinity; // due again at once: the next take claims it
    return outcome as "retry" | "dead" | "gone";
  }

  /** @internal Give jobs back for any consumer to take at once; `unused` ones as if never
   * delivered (their attempt is not counted). */
  returnJobs(jobs: readonly Delivery<T>[], unused: boolean): Promise<unknown> {
    const left = jobs.filter((j) => !j.finished);
    for (const j of left) this.finish(j);
    return this.release(left.map((j) => [j.id, unused ? j.attempt - 1 : j.attempt]));
  }

  private release(entries: readonly (readonly [string, number])[]): Promise<unknown> {
    if (entries.length === 0) return Promise.resolve();
    const { group, consumer, visibilityTimeout } = this.settings;
    return scripts.release.run(this.redis, this.keys, [group, consumer, visibilityTimeout, ...entries.flat()]);
  }

  private finish(job: Delivery<unknown>): void {
    job.finished = true;
    this.held.delete(job.id);
  }

  /** @internal Keep the held jobs this consumer's while it lives. */
  *heartbeat(): Operation<never> {
    const { group, consumer, visibilityTimeout } = this.settings;
    for (;;) {
      yield* sleep(visibilityTimeout / 3);
      if (this.held.size === 0) continue;
      try {
        yield* this.again(() => wait(scripts.touch.run(this.redis, this.keys, [group, consumer, ...this.held.keys()])));
      } catch (e) {
        if (isCancelled(e)) throw e;
        // Never fail the scope that opened the queue for a beat that did not get through: the
        // next one tries again (meanwhile another consumer may claim what this one holds).
      }
    }
  }

  /** @internal A give-back that nobody waits for (a lost race's): the queue's close waits for it. */
  track(giveBack: Promise<unknown>): void {
    // Redis unreachable: the visibility timeout brings the jobs back.
    const p = giveBack.catch(() => {});
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** @internal Give back the jobs still held, wait for pending give-backs, close the connections. */
  *close(): Operation<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      yield* timeout(CLEANUP_MS, function* (this: Queue<T>) {
        yield* wait(this.returnJobs([...this.held.values()], false));
        yield* wait(Promise.allSettled([...this.background]));
      }.bind(this));
    } catch (e) {
      // Redis did not answer in time: the jobs still held come back after the visibility timeout.
      if (!(e instanceof TimeoutError)) throw e;
    } finally {
      if (this.reader !== null) yield* disconnect(this.reader);
      yield* disconnect(this.redis);
    }
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new Error(`${this}.${what}(): the queue is closed (the scope that opened it has ended); open it again with queue()`);
  }

  toString(): string {
    return `queue "${this.name}"`;
  }
}

function entries(reply: Read | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [, list] of reply ?? []) {
    for (const [id, fields] of list) {
      const i = fields.indexOf("data");
      out.push([id, i >= 0 ? fields[i + 1]! : "null"]);
    }
  }
  return out;
}

/** The text kept for a failed attempt. */
function explain(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === "string" ? error : describe(error);
}

/** Make the consumer group, and the stream, unless they exist. */
async function createGroup(redis: Redis, name: string, group: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", name, group, "0", "MKSTREAM");
  } catch (e) {
    if (!String((e as Error).message).startsWith("BUSYGROUP")) throw e;
  }
}

function checkSettings(name: unknown, options: QueueOptions): Settings {
  if (typeof name !== "string" || name === "") throw new TypeError(`queue() expects a name as a non-empty string, got ${describe(name)}`);
  if (typeof options !== "object" || options === null) throw new TypeError(`queue() expects options as an object, got ${describe(options)}`);
  const ms = (key: keyof QueueOptions, fallback: number, min: number): number => {
    const v = options[key] ?? fallback;
    if (typeof v !== "number" || Number.isNaN(v)) throw new TypeError(`queue(): ${key} must be a number of milliseconds, got ${describe(v)}`);
    if (!(v >= min) || v === Infinity) throw new RangeError(`queue(): ${key} must be a finite number >= ${min}, got ${v}`);
    return v;
  };
  const visibilityTimeout = ms("visibilityTimeout", 30_000, 1);
  const retryDelay = Math.min(ms("retryDelay", 1000, 0), visibilityTimeout);
  const poll = ms("poll", Math.min(1000, visibilityTimeout / 2), 1);
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`queue(): maxAttempts must be a whole number >= 1, got ${describe(maxAttempts)}`);
  const capacity = options.capacity ?? Infinity;
  if (capacity !== Infinity && (!Number.isInteger(capacity) || capacity < 1)) {
    throw new RangeError(`queue(): capacity must be a whole number >= 1 (or Infinity), got ${describe(capacity)}`);
  }
  const redis = options.redis ?? "redis://127.0.0.1:6379";
  if (typeof redis !== "string" && (typeof redis !== "object" || redis === null)) {
    throw new TypeError(`queue(): redis must be a redis:// URL or ioredis options, got ${describe(redis)}`);
  }
  const text = (key: "group" | "consumer", fallback: string): string => {
    const v = options[key] ?? fallback;
    if (typeof v !== "string" || v === "") throw new TypeError(`queue(): ${key} must be a non-empty string, got ${describe(v)}`);
    return v;
  };
  const group = text("group", "skein");
  const consumer = text("consumer", `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`);
  return { redis, group, consumer, visibilityTimeout, maxAttempts, retryDelay, capacity, poll };
}

/**
 * Open the work queue `name` (a Redis stream of that name, with a consumer group) for the
 * caller's scope: its connections are closed when that scope ends, and the jobs it holds then
 * (taken, not acked) are given back for other consumers. Producers and consumers in any
 * process or machine open the same name. Redis must be reachable now: if it is not, this fails
 * with an error that says where it tried; later, a lost connection is re-made by itself and
 * commands wait for it.
 *
 * @throws TypeError or RangeError at the call for a bad name or option; an Error at the
 * `yield*` if Redis cannot be reached, or if ioredis (the optional peer dependency of
 * `skein/redis`) is not installed.
 * @example
 * ```ts
 * import { main } from "skein/node";
 * import { queue } from "skein/redis";
 *
 * main(function* () {
 *   const jobs = yield* queue<{ n: number }>("squares", { redis: "redis://127.0.0.1:6379" });
 *   yield* jobs.send({ n: 7 });
 *   const job = yield* jobs.receive();
 *   console.log(job.data.n ** 2);
 *   yield* job.ack();
 * });
 * ```
 */
export function queue<T = unknown>(name: string, options: QueueOptions = {}): Operation<Queue<T>> {
  const settings = checkSettings(name, options);
  return resource(() => open<T>(name, settings), (q) => q.close());
}

function* open<T>(name: string, settings: Settings): Operation<Queue<T>> {
  const redis = yield* connect(settings.redis, `skein:${settings.consumer}`, true);
  let q: Queue<T> | undefined;
  try {
    yield* wait(createGroup(redis, name, settings.group));
    q = new Queue<T>(name, redis, settings);
  } finally {
    if (q === undefined) yield* shield(() => disconnect(redis));
  }
  const opened = q;
  yield* spawn(() => opened.heartbeat(), { name: `heartbeat of ${opened}` });
  return opened;
}

/** JSON, as skein writes it; anything else (an entry added by another program) as the text it is. */
function parseOr(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
