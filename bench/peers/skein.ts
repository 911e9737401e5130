import { call, createScheduler, fork, self, sleep, type Operation } from "../../lib/index.js";
import { until, LONG, type Peer } from "./peer.js";

const s = createScheduler();

function* trips(n: number): Operation<number> {
  let count = 0;
  for (let i = 0; i < n; i++) if ((yield* self()).id > 0) count++;
  return count;
}

/** `depth - 1` nested calls around the loop of round trips. */
function nest(depth: number, n: number): Operation<number> {
  return depth <= 1 ? trips(n) : call(nest, depth - 1, n);
}

export const skein: Peer = {
  effect: "yield* self()",
  nesting: "yield* call(sub)",
  roundTrip: (n) => s.run(() => trips(n)),
  depth: (depth, n) => s.run(() => nest(depth, n)),
  async sleepers(n, ms) {
    let done = 0;
    function* sleeper() {
      yield* sleep(ms);
      done++;
    }
    await s.run(function* () {
      for (let i = 0; i < n; i++) yield* fork(sleeper);
    });
    return done;
  },
  parked(n) {
    let started = 0;
    function* sleeper() {
      started++;
      yield* sleep(LONG);
    }
    s.run(function* () {
      for (let i = 0; i < n; i++) yield* fork(sleeper);
    });
    return until(() => started, n);
  },
};

/** skein with native `yield*` for nesting, to show what delegation costs per level. */
function nestNative(depth: number, n: number): Operation<number> {
  return depth <= 1
    ? trips(n)
    : (function* () {
        return yield* nestNative(depth - 1, n);
      })();
}
export const skeinYieldStar: Peer = { ...skein, nesting: "yield* sub()", depth: (d, n) => s.run(() => nestNative(d, n)) };
