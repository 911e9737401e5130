// Waiting on Node's emitters and writables from a coroutine: the first of some events, a write
// that respects backpressure, an end that is flushed. Shared by sockets, responses and processes.

import type { Writable } from "node:stream";
import type { Operation } from "../core/effect.js";
import { action } from "../core/effects.js";

/** @internal Wait for the first of `events` on `emitter`; the listeners are removed either way. */
export function until(emitter: NodeJS.EventEmitter, events: readonly string[]): Operation<void> {
  return action<void>((resolve) => {
    const off = () => {
      for (const e of events) emitter.off(e, fire);
    };
    const fire = () => {
      off();
      resolve();
    };
    for (const e of events) emitter.on(e, fire);
    return off;
  });
}

/**
 * @internal Write to a Node writable, waiting for `drain` when its buffer is full. Fails, never
 * silently drops, if the stream is (or gets) ended, destroyed or errored.
 */
export function* writeAll(w: Writable, data: string | Uint8Array): Operation<void> {
  if (w.errored) throw w.errored;
  if (w.destroyed || w.writableEnded) throw destroyedError(w);
  if (w.write(data)) return;
  yield* until(w, ["drain", "close"]);
  if (w.errored) throw w.errored;
  if (w.destroyed) throw destroyedError(w);
}

/**
 * @internal End a Node writable and wait until what was written is handed on (or the stream
 * closes); its error, if any, is thrown. Ending what has ended already only waits.
 */
export function* endAll(w: Writable): Operation<void> {
  if (w.writableFinished || w.destroyed) return;
  if (!w.writableEnded) w.end();
  yield* until(w, ["finish", "close"]);
  if (w.errored) throw w.errored;
}

function destroyedError(w: Writable): Error {
  const ended = w.writableEnded && !w.destroyed;
  return Object.assign(new Error(`write after it was ${ended ? "ended" : "closed"}`), {
    code: ended ? "ERR_STREAM_WRITE_AFTER_END" : "ERR_STREAM_DESTROYED",
  });
}
