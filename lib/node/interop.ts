// Meeting the rest of Node: an AbortSignal tied to a scope, and events as operations and
// channels. (Promises and tasks already interoperate in the core: `wait(promise)`, and a task
// is a promise.)

import type { EventEmitter } from "node:events";
import type { Operation } from "../core/effect.js";
import { action, call, spawn } from "../core/effects.js";
import { signal } from "../sync/signal.js";
import { channel, type Channel, type ChannelOptions } from "../sync/channel.js";
import { resource } from "../combinators/resource.js";
import { describe } from "../core/operation.js";
import { checkString } from "./checks.js";

/**
 * An `AbortSignal` that aborts when the caller's scope ends, whether it returns, fails or is
 * cancelled: hand it to `fetch`, `setTimeout` from `timers/promises`, or any Node API that takes
 * a `signal`, and cancelling the task stops that work too.
 *
 * @example
 * ```ts
 * function* download(url: string) {
 *   const signal = yield* abortSignal();
 *   const res = yield* wait(fetch(url, { signal }));
 *   return yield* wait(res.text());
 * }
 * ```
 */
export function* abortSignal(): Operation<AbortSignal> {
  const controller = yield* resource(() => new AbortController(), (c) => c.abort());
  return controller.signal;
}

type Source = EventEmitter | EventTarget;

function listenTo(source: Source, event: string, fn: (...args: unknown[]) => void): () => void {
  if (typeof (source as EventEmitter).on === "function") {
    const e = source as EventEmitter;
    e.on(event, fn);
    return () => void e.off(event, fn);
  }
  const t = source as EventTarget;
  t.addEventListener(event, fn);
  return () => t.removeEventListener(event, fn);
}

function checkSource(source: unknown, event: unknown, where: string): asserts source is Source {
  const s = source as Partial<EventEmitter & EventTarget> | null;
  if (typeof s?.on !== "function" && typeof s?.addEventListener !== "function") {
    throw new TypeError(`${where} expects an EventEmitter or EventTarget, got ${describe(source)}`);
  }
  checkString(event, "an event name", where);
}

const emits = (source: Source): source is EventEmitter => typeof (source as EventEmitter).on === "function";

/**
 * Wait for the next `event` from an EventEmitter or EventTarget and return its arguments. An
 * `error` event from an emitter is thrown instead (unless `error` is what you wait for).
 * Cancelling removes the listeners.
 *
 * @throws TypeError at the call for something that emits no events.
 * @example
 * ```ts
 * const server = net.createServer().listen(0);
 * yield* once(server, "listening");
 * ```
 */
export function once<A extends unknown[] = unknown[]>(source: EventEmitter | EventTarget, event: string): Operation<A> {
  checkSource(source, event, "once()");
  return action<A>((resolve, reject) => {
    const stop = () => {
      off();
      offError();
    };
    const off = listenTo(source, event, (...args) => {
      stop();
      resolve(args as A);
    });
    const offError =
      emits(source) && event !== "error"
        ? listenTo(source, "error", (e) => {
            stop();
            reject(e);
          })
        : () => {};
    return stop;
  });
}

/**
 * Receive `event` from an EventEmitter or EventTarget as a channel of argument lists, for as
 * long as the caller's scope lasts: the listener is removed and the channel closed when it ends.
 * Events are buffered without bound unless `capacity` says otherwise (then those that do not
 * fit are dropped, or with `overflow: "slide"` the oldest are). An `error` event from an
 * emitter fails the caller's scope.
 *
 * @throws TypeError at the call for something that emits no events.
 * @example
 * ```ts
 * const lines = yield* on<[string]>(readline.createInterface({ input }), "line");
 * let args;
 * while ((args = yield* lines.receive()) !== undefined) console.log(args[0]);
 * ```
 */
export function on<A extends unknown[] = unknown[]>(
  source: EventEmitter | EventTarget,
  event: string,
  options: { capacity?: number } & ChannelOptions = {},
): Operation<Channel<A>> {
  checkSource(source, event, "on()");
  return subscribe(source, event, channel<A>(options.capacity ?? Infinity, options));
}

function* subscribe<A extends unknown[]>(source: Source, event: string, events: Channel<A>): Operation<Channel<A>> {
  // Listening starts here, before anything else runs: no event is lost. An error event is kept
  // for the watcher below, which fails the scope with it.
  const failure = signal<{ error: unknown }>();
  const subscription = call(() => {
    const off = listenTo(source, event, (...args) => void events.trySend(args as A));
    const offError = emits(source) && event !== "error" ? listenTo(source, "error", (error) => void failure.set({ error })) : () => {};
    return () => {
      off();
      offError();
      events.close();
    };
  });
  yield* resource(subscription, (unsubscribe) => unsubscribe());
  yield* spawn(
    function* watcher() {
      const { error } = yield* failure.wait();
      throw error;
    },
    { name: `on ${event}: errors` },
  );
  return events;
}
