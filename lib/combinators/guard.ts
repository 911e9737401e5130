// Resources owned by a scope: a spawned guard task that waits until the caller's scope ends (or
// is cancelled) and then releases the resource, shielded. Streams and skein/node's handles use it.

import type { Operation } from "../core/effect.js";
import { cooperate, shield, spawn, suspend } from "../core/effects.js";

/**
 * @internal Open a resource and tie it to the caller's scope: `release(resource)` runs when
 * that scope's body ends, when it is cancelled, or at once if the task is cancelled before the
 * guard is at its post. Delegate to it with `yield*` from the operation that the user delegates
 * to, so that the scope is theirs. `release` must tolerate being called after a manual close.
 */
export function* owned<R>(name: string, open: Operation<R>, release: (resource: R) => Operation<unknown>): Operation<R> {
  const resource = yield* open;
  let posted = false;
  try {
    yield* spawn(
      function* guard() {
        posted = true;
        try {
          yield* suspend();
        } finally {
          yield* shield(() => release(resource)); // cancelled: its waits would throw, unshielded
        }
      },
      { name },
    );
    // A task cancelled before its first step never runs its body, so the guard must have taken
    // its post before the caller's scope can end: let it run first.
    yield* cooperate();
  } catch (e) {
    if (!posted) yield* shield(() => release(resource));
    throw e;
  }
  return resource;
}
