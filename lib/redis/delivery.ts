// A job as a consumer receives it: its data, its id, which attempt this is, and how to finish it
// (ack when done, fail to retry it later or dead-letter it).

import type { Operation } from "../core/effect.js";

/** @internal What a delivery asks of its queue. */
export interface Finisher {
  ack(delivery: Delivery<unknown>): Operation<void>;
  fail(delivery: Delivery<unknown>, error: unknown): Operation<"retry" | "dead" | "gone">;
}

/**
 * One delivery of a job, from {@link Queue.receive} or given to a {@link Queue.work} handler.
 * Delivery is at least once: until it is acked, the job is this consumer's, and if the consumer
 * dies (or its queue closes first) the job is given to another consumer, with `attempt` one
 * higher. So the work a job does must be safe to do twice (idempotent), or check `attempt`.
 *
 * @example
 * ```ts
 * const job = yield* jobs.receive();
 * try {
 *   yield* sendEmail(job.data);
 *   yield* job.ack();
 * } catch (e) {
 *   yield* job.fail(e); // tried again later, or dead-lettered after the last attempt
 * }
 * ```
 */
export class Delivery<T> {
  /** @internal Settled: acked, failed, or given back. */
  finished = false;

  /** @internal */
  constructor(
    private readonly queue: Finisher,
    /** The job's id: the id of its entry in the stream, the same on every attempt. */
    readonly id: string,
    /** The job's data, as it was sent. */
    readonly data: T,
    /** 1 for the first delivery of the job, 2 for the second, and so on. */
    readonly attempt: number,
    /** The error the previous attempt failed with, if it failed through {@link Delivery.fail}. */
    readonly lastError: string | undefined,
  ) {}

  /**
   * The job is done: remove it from the queue for good. Acking twice, or after `fail`, does
   * nothing. If another consumer took the job meanwhile (this one held it past the visibility
   * timeout without a heartbeat), the ack still finishes it.
   *
   * @example
   * ```ts
   * const job = yield* jobs.receive();
   * yield* resize(job.data.image);
   * yield* job.ack();
   * ```
   */
  ack(): Operation<void> {
    return this.queue.ack(this as Delivery<unknown>);
  }

  /**
   * The attempt failed with `error`: the job is delivered again after the queue's `retryDelay`
   * (to any consumer), or, if this was its last attempt (`maxAttempts`), it goes to the
   * dead-letter stream with the error. Returns which: `"retry"`, `"dead"`, or `"gone"` if the
   * job was no longer pending (acked elsewhere). A worker made by {@link Queue.work} calls it
   * for you when its handler throws.
   *
   * @example
   * ```ts
   * try {
   *   yield* charge(job.data);
   *   yield* job.ack();
   * } catch (e) {
   *   if ((yield* job.fail(e)) === "dead") console.error(`job ${job.id} gave up: ${e}`);
   * }
   * ```
   */
  fail(error: unknown): Operation<"retry" | "dead" | "gone"> {
    return this.queue.fail(this as Delivery<unknown>, error);
  }

  toString(): string {
    return `job ${this.id} (attempt ${this.attempt})`;
  }
}
