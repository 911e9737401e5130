import co from "co";
import { until, LONG, type Peer } from "./peer.js";

const one = Promise.resolve(1);
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function* trips(n: number): Generator<unknown, number, number> {
  let count = 0;
  for (let i = 0; i < n; i++) count += yield one;
  return count;
}

function nest(depth: number, n: number): Generator<unknown, number, number> {
  return depth <= 1
    ? trips(n)
    : (function* () {
        return (yield nest(depth - 1, n)) as number;
      })();
}

export const coPeer: Peer = {
  effect: "yield promise",
  nesting: "yield sub()",
  roundTrip: (n) => co(trips, n),
  depth: (d, n) => co(nest, d, n),
  async sleepers(n, ms) {
    let done = 0;
    function* sleeper() {
      yield delay(ms);
      done++;
    }
    await co(function* () {
      yield Array.from({ length: n }, () => sleeper());
    });
    return done;
  },
  parked(n) {
    let started = 0;
    function* sleeper() {
      started++;
      yield delay(LONG);
    }
    void co(function* () {
      yield Array.from({ length: n }, () => sleeper());
    });
    return until(() => started, n);
  },
  parkedFresh(n) {
    let started = 0;
    void co(function* () {
      yield Array.from({ length: n }, () =>
        (function* () {
          started++;
          yield delay(LONG);
        })(),
      );
    });
    return until(() => started, n);
  },
};

function* plusOne(x: number): Generator<unknown, number, unknown> {
  return x + 1;
}

coPeer.allOfTwo = (n) =>
  co(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = (yield [plusOne(i), plusOne(i)]) as number[];
      if (a! + b! === 2 * i + 2) got++;
    }
    return got;
  });
