import { action, all, call, race, run, sleep, spawn, type Operation, type Task } from "effection";
import { oneFn, until, LONG, type Peer } from "./peer.js";

const noop = () => {};
// effection's cheapest trip through its runtime: an action resolved synchronously.
const one: Operation<number> = action<number>((resolve) => {
  resolve(1);
  return noop;
});

function* trips(n: number): Operation<number> {
  let count = 0;
  for (let i = 0; i < n; i++) count += yield* one;
  return count;
}

function nest(depth: number, n: number): Operation<number> {
  return depth <= 1
    ? trips(n)
    : (function* () {
        return yield* nest(depth - 1, n);
      })();
}

export const effection: Peer = {
  effect: "yield* action(resolve now)",
  nesting: "yield* sub()",
  roundTrip: (n) => run(() => trips(n)),
  depth: (d, n) => run(() => nest(d, n)),
  async sleepers(n, ms) {
    let done = 0;
    function* sleeper(): Operation<void> {
      yield* sleep(ms);
      done++;
    }
    await run(function* () {
      const tasks: Task<void>[] = [];
      for (let i = 0; i < n; i++) tasks.push(yield* spawn(sleeper));
      for (const t of tasks) yield* t;
    });
    return done;
  },
  parked(n) {
    let started = 0;
    function* sleeper(): Operation<void> {
      started++;
      yield* sleep(LONG);
    }
    void run(function* () {
      for (let i = 0; i < n; i++) yield* spawn(sleeper);
      yield* sleep(LONG);
    });
    return until(() => started, n);
  },
  parkedFresh(n) {
    let started = 0;
    void run(function* () {
      for (let i = 0; i < n; i++) {
        yield* spawn(function* () {
          started++;
          yield* sleep(LONG);
        });
      }
      yield* sleep(LONG);
    });
    return until(() => started, n);
  },
};

import { createChannel } from "effection";

effection.callSync = (n) =>
  run(function* () {
    let count = 0;
    for (let i = 0; i < n; i++) count += yield* call(oneFn);
    return count;
  });

effection.pingPong = (n) =>
  run(function* () {
    const ping = createChannel<number, void>();
    const pong = createChannel<number, void>();
    const pings = yield* ping;
    const pongs = yield* pong;
    yield* spawn(function* ponger() {
      for (;;) {
        const next = yield* pings.next();
        if (next.done) return;
        yield* pong.send(next.value + 1);
      }
    });
    let x = 0;
    for (let i = 0; i < n; i++) {
      yield* ping.send(x);
      const next = yield* pongs.next();
      x = next.done ? x : next.value;
    }
    return x;
  });

function* plusOne(x: number): Operation<number> {
  return x + 1;
}

effection.allOfTwo = (n) =>
  run(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = yield* all([plusOne(i), plusOne(i)]);
      if (a + b === 2 * i + 2) got++;
    }
    return got;
  });

effection.raceSleep = (n) =>
  run(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) if ((yield* race([plusOne(i), sleep(LONG)])) === i + 1) got++;
    return got;
  });
