import { runSaga, type Saga } from "redux-saga";
import { all, call, delay, race } from "redux-saga/effects";
import { until, LONG, type Peer } from "./peer.js";

const one = () => 1;
const start = <A extends unknown[]>(saga: Saga<A>, ...args: A): Promise<number> =>
  runSaga({ dispatch() {}, getState() {} }, saga, ...args).toPromise();

function* trips(n: number): Generator<unknown, number, number> {
  let count = 0;
  for (let i = 0; i < n; i++) count += yield call(one);
  return count;
}

function nest(depth: number, n: number): Generator<unknown, number, number> {
  return depth <= 1
    ? trips(n)
    : (function* () {
        return (yield call(nest, depth - 1, n)) as number;
      })();
}

export const reduxSaga: Peer = {
  effect: "yield call(fn)",
  nesting: "yield call(sub)",
  roundTrip: (n) => start(trips, n),
  depth: (d, n) => start(nest, d, n),
  async sleepers(n, ms) {
    let done = 0;
    function* sleeper() {
      yield delay(ms);
      done++;
    }
    await start(function* () {
      yield all(Array.from({ length: n }, () => call(sleeper)));
      return 0;
    });
    return done;
  },
  parked(n) {
    let started = 0;
    function* sleeper() {
      started++;
      yield delay(LONG);
    }
    void start(function* () {
      yield all(Array.from({ length: n }, () => call(sleeper)));
      return 0;
    });
    return until(() => started, n);
  },
  parkedFresh(n) {
    let started = 0;
    void start(function* () {
      yield all(
        Array.from({ length: n }, () =>
          call(function* () {
            started++;
            yield delay(LONG);
          }),
        ),
      );
      return 0;
    });
    return until(() => started, n);
  },
};

import { channel as sagaChannel } from "redux-saga";
import { put as sagaPut, spawn as sagaSpawn, take as sagaTake } from "redux-saga/effects";

// (Its round trip is this call already; the row is repeated so the table reads across.)
reduxSaga.callSync = (n) => start(trips, n);

reduxSaga.pingPong = (n) => {
  const ping = sagaChannel<{ v: number }>();
  const pong = sagaChannel<{ v: number }>();
  return start(function* () {
    yield sagaSpawn(function* ponger() { // detached: an attached fork would keep the root saga running
      for (;;) {
        const { v } = (yield sagaTake(ping)) as { v: number };
        yield sagaPut(pong, { v: v + 1 });
      }
    });
    let x = 0;
    for (let i = 0; i < n; i++) {
      yield sagaPut(ping, { v: x });
      x = ((yield sagaTake(pong)) as { v: number }).v;
    }
    return x;
  });
};

function* plusOne(x: number): Generator<unknown, number, unknown> {
  return x + 1;
}

reduxSaga.allOfTwo = (n) =>
  start(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = (yield all([call(plusOne, i), call(plusOne, i)])) as number[];
      if (a! + b! === 2 * i + 2) got++;
    }
    return got;
  });

reduxSaga.raceSleep = (n) =>
  start(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) if (((yield race({ v: call(plusOne, i), late: delay(LONG) })) as { v?: number }).v === i + 1) got++;
    return got;
  });
