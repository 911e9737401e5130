// The public API of skein, the platform-neutral core. This file only re-exports.
// Concepts live one per file; see docs/architecture.md for the map.

/**
 * skein: green threads for TypeScript. Coroutines are generator functions that `yield*` effects
 * (sleep, call, fork, join, channel operations…) to a cooperative scheduler.
 *
 * @module skein
 */

export { Effect, type Operation } from "./effect.js";
export {
  action, call, cancel, cooperate, fork, join, self, shield, sleep, spawn, suspend, wait,
  Action, Call, Cancel, Cooperate, Fork, Join, Self, Shield, Sleep, Spawn, Start, Suspend, Wait,
  type AnyEffect, type Executor, type TaskOptions,
} from "./effects.js";
export { Park, PARKED, wake } from "./park.js";
export { all } from "./all.js";
export { race } from "./race.js";
export { timeout } from "./timeout.js";
export { Cancelled, ChannelClosedError, DeadlockError, TimeoutError, isCancelled } from "./errors.js";
export { channel, Channel, Receive, Send, type ChannelOptions, type Overflow } from "./channel.js";
export { select, type SelectCaseOf, type SelectOptions, type SelectResult } from "./select.js";
export { droppedMessages, receive, tell, type ReceiveOptions } from "./mailbox.js";
export { mutex, Mutex, semaphore, Semaphore } from "./semaphore.js";
export { signal, Signal } from "./signal.js";
export { waitGroup, WaitGroup } from "./wait-group.js";
export { map, type MapOptions } from "./map.js";
export { stream, Stream } from "./stream.js";
export { rateLimiter, type RateLimiter } from "./rate-limit.js";
export { Task, type TaskState } from "./task.js";
export { Scheduler, type SchedulerOptions } from "./scheduler.js";
export { createScheduler, run } from "./run.js";
export type { OperationLike, Result, Returned } from "./operation.js";
