import csp from "js-csp";
import { until, LONG, type Peer } from "./peer.js";

// A process's result arrives on the channel go() returns.
const finish = (gen: (...args: any[]) => Generator<unknown, number, any>, ...args: unknown[]): Promise<number> =>
  new Promise((resolve) => csp.takeAsync(csp.go(gen, args), resolve));

function* trips(n: number): Generator<unknown, number, number> {
  let count = 0;
  for (let i = 0; i < n; i++) count += yield 1; // js-csp resumes a plain yield on the next host turn
  return count;
}

function nest(depth: number, n: number): Generator<unknown, number, number> {
  return depth <= 1
    ? trips(n)
    : (function* () {
        return (yield csp.go(nest, [depth - 1, n])) as number;
      })();
}

export const jsCsp: Peer = {
  effect: "yield value",
  nesting: "yield go(sub)",
  roundTrip: (n) => finish(trips, n),
  depth: (d, n) => finish(nest, d, n),
  async sleepers(n, ms) {
    let done = 0;
    function* sleeper() {
      yield csp.timeout(ms);
      done++;
      return 0;
    }
    await finish(function* () {
      const procs = Array.from({ length: n }, () => csp.go(sleeper));
      for (const p of procs) yield p;
      return 0;
    });
    return done;
  },
  parked(n) {
    let started = 0;
    function* sleeper() {
      started++;
      yield csp.timeout(LONG);
    }
    for (let i = 0; i < n; i++) csp.go(sleeper);
    return until(() => started, n);
  },
  parkedFresh(n) {
    let started = 0;
    for (let i = 0; i < n; i++) {
      csp.go(function* () {
        started++;
        yield csp.timeout(LONG);
      });
    }
    return until(() => started, n);
  },
};

jsCsp.pingPong = (n) => {
  const ping = csp.chan();
  const pong = csp.chan();
  csp.go(function* ponger() {
    for (;;) {
      const v = (yield csp.take(ping)) as number;
      yield csp.put(pong, v + 1);
    }
  });
  return finish(function* () {
    let x = 0;
    for (let i = 0; i < n; i++) {
      yield csp.put(ping, x);
      x = (yield csp.take(pong)) as number;
    }
    return x;
  });
};
