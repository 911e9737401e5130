import { Effect } from "effect";
import { oneFn, until, LONG, type Peer } from "./peer.js";

const one = Effect.succeed(1);

const trips = (n: number) =>
  Effect.gen(function* () {
    let count = 0;
    for (let i = 0; i < n; i++) count += yield* one;
    return count;
  });

const nest = (depth: number, n: number): Effect.Effect<number> =>
  depth <= 1 ? trips(n) : Effect.gen(function* () {
    return yield* nest(depth - 1, n);
  });

export const effect: Peer = {
  effect: "yield* Effect.succeed(1)",
  nesting: "yield* sub",
  roundTrip: (n) => Effect.runPromise(trips(n)),
  depth: (d, n) => Effect.runPromise(nest(d, n)),
  async sleepers(n, ms) {
    let done = 0;
    const sleeper = Effect.gen(function* () {
      yield* Effect.sleep(ms);
      done++;
    });
    await Effect.runPromise(Effect.forEach(Array.from({ length: n }), () => sleeper, { concurrency: "unbounded", discard: true }));
    return done;
  },
  parked(n) {
    let started = 0;
    const sleeper = Effect.gen(function* () {
      started++;
      yield* Effect.sleep(LONG);
    });
    Effect.runFork(Effect.forEach(Array.from({ length: n }), () => sleeper, { concurrency: "unbounded", discard: true }));
    return until(() => started, n);
  },
  parkedFresh(n) {
    let started = 0;
    const each = () =>
      Effect.gen(function* () {
        started++;
        yield* Effect.sleep(LONG);
      });
    Effect.runFork(Effect.forEach(Array.from({ length: n }), each, { concurrency: "unbounded", discard: true }));
    return until(() => started, n);
  },
};

import { Queue } from "effect";

effect.callSync = (n) =>
  Effect.runPromise(
    Effect.gen(function* () {
      let count = 0;
      for (let i = 0; i < n; i++) count += yield* Effect.sync(oneFn);
      return count;
    }),
  );

effect.pingPong = (n) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const ping = yield* Queue.bounded<number>(1);
      const pong = yield* Queue.bounded<number>(1);
      yield* Effect.forkChild(
        Effect.gen(function* () {
          for (;;) {
            const v = yield* Queue.take(ping);
            yield* Queue.offer(pong, v + 1);
          }
        }),
      );
      let x = 0;
      for (let i = 0; i < n; i++) {
        yield* Queue.offer(ping, x);
        x = yield* Queue.take(pong);
      }
      return x;
    }),
  );

const plusOne = (x: number) =>
  Effect.gen(function* () {
    return x + 1;
  });

effect.allOfTwo = (n) =>
  Effect.runPromise(
    Effect.gen(function* () {
      let got = 0;
      for (let i = 0; i < n; i++) {
        const [a, b] = yield* Effect.all([plusOne(i), plusOne(i)], { concurrency: "unbounded" });
        if (a + b === 2 * i + 2) got++;
      }
      return got;
    }),
  );

effect.raceSleep = (n) =>
  Effect.runPromise(
    Effect.gen(function* () {
      let got = 0;
      for (let i = 0; i < n; i++) if ((yield* Effect.race(plusOne(i), Effect.as(Effect.sleep(LONG), -1))) === i + 1) got++;
      return got;
    }),
  );
