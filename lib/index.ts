// The public API of skein, the platform-neutral core. This file only re-exports.
// Concepts live one per file; see docs/architecture.md for the map.

/**
 * skein: green threads for TypeScript. Coroutines are generator functions that `yield*` effects
 * (sleep, call, fork, join, channel operations…) to a cooperative scheduler.
 *
 * @module skein
 */

export { Effect, type Operation, type Yielded } from "./core/effect.js";
export {
  action, call, cancel, cooperate, ensure, fork, join, self, shield, sleep, spawn, suspend, wait,
  Action, Call, Cancel, Cooperate, Ensure, Fork, Join, Self, Shield, Sleep, Spawn, Start, Suspend, Wait,
  type AnyEffect, type Executor, type TaskOptions,
} from "./core/effects.js";
export { Park, PARKED, wake } from "./core/park.js";
export { all, allSettled, type Settled } from "./combinators/all.js";
export { race } from "./combinators/race.js";
export { timeout } from "./combinators/timeout.js";
export { resource } from "./combinators/resource.js";
export { retry, type RetryPolicy } from "./combinators/retry.js";
export { Context, createContext } from "./combinators/context.js";
export {
  supervisor, Supervisor, type ChildExit, type ChildInfo, type ChildSpec, type Restart, type SupervisorOptions,
} from "./combinators/supervisor.js";
export { Cancelled, ChannelClosedError, DeadlockError, TimeoutError, isCancelled } from "./core/errors.js";
export { channel, Channel, Receive, Send, type ChannelOptions, type Overflow } from "./sync/channel.js";
export { select, type SelectCaseOf, type SelectOptions, type SelectResult } from "./sync/select.js";
export { droppedMessages, receive, tell, type ReceiveOptions } from "./sync/mailbox.js";
export { Down, isDown, monitor, type Monitor } from "./sync/monitor.js";
export { semaphore, Semaphore } from "./sync/semaphore.js";
export { mutex, Mutex } from "./sync/mutex.js";
export { condition, Condition } from "./sync/condition.js";
export { signal, Signal } from "./sync/signal.js";
export { waitGroup, WaitGroup } from "./sync/wait-group.js";
export { map, type MapOptions } from "./combinators/map.js";
export { stream, Stream } from "./sync/stream.js";
export { rateLimiter, type RateLimiter } from "./sync/rate-limit.js";
export { Task, type TaskState } from "./core/task.js";
export { Scheduler, type ErrorHandler, type Observer, type SchedulerOptions } from "./core/scheduler.js";
export { createScheduler, defaultScheduler, run } from "./core/run.js";
export type { OperationLike, Result, Returned } from "./core/operation.js";
export { describeTasks, inspect, type TaskInfo } from "./debug/inspect.js";
export { recordTrace, type Trace, type TraceEvent, type TraceRecording } from "./debug/trace.js";
