// The public API of skein/redis: durable work queues across processes and machines, on Redis
// Streams with consumer groups. This file only re-exports.

/**
 * skein/redis: a work queue shared by processes and machines, used from coroutines like a
 * channel: `send` a job, `receive` a delivery and `ack` it, or `work` with a handler per job.
 * Delivery is at least once. Needs the `ioredis` package (an optional peer dependency) and a
 * Redis server (6.2 or later). See docs/scaling.md.
 *
 * @module skein/redis
 */

export { queue, Queue, type DeadLetter, type QueueOptions } from "./queue.js";
export { Delivery } from "./delivery.js";
export type { WorkOptions } from "./worker.js";
export type { Address } from "./connection.js";
