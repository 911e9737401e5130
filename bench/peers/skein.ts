import type { Operation } from "../../lib/index.js";
import { mixEffects } from "../mixed.mjs";
import { skeinModule } from "../skein.js";
import { oneFn, until, LONG, type Peer } from "./peer.js";

const m = await skeinModule();
const { all, call, channel, createScheduler, fork, race, receive, self, sleep, spawn, tell } = m;
const me = self;

const s = createScheduler();
// The "skein (mixed)" column: a program's mix of effects before the workload (see bench/mixed.mjs).
if (process.env.SKEIN_MIXED === "1") await mixEffects(m, s);

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
  parkedFresh(n) {
    let started = 0;
    s.run(function* () {
      for (let i = 0; i < n; i++) {
        yield* fork(function* () {
          started++;
          yield* sleep(LONG);
        });
      }
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

// ---- channels and mailboxes ---------------------------------------------------------------

skein.pingPong = (n) =>
  s.run(function* () {
    const ping = channel<number>();
    const pong = channel<number>();
    yield* spawn(function* ponger() {
      let v;
      while ((v = yield* ping.receive()) !== undefined) yield* pong.send(v + 1);
    });
    let x = 0;
    for (let i = 0; i < n; i++) {
      yield* ping.send(x);
      x = (yield* pong.receive())!;
    }
    return x;
  });

skein.callSync = (n) =>
  s.run(function* () {
    let count = 0;
    for (let i = 0; i < n; i++) count += yield* call(oneFn);
    return count;
  });

skein.buffered = (n) =>
  s.run(function* () {
    const ch = channel<number>(1000);
    let got = 0;
    for (let i = 0; i < n; i++) {
      yield* ch.send(i);
      if ((yield* ch.receive()) === i) got++;
    }
    return got;
  });

skein.fanOut = (messages, consumers, peak) =>
  s.run(function* () {
    const work = channel<number>(1000);
    const results = channel<number>(1000);
    yield* spawn(function* producer() {
      for (let i = 0; i < messages; i++) yield* work.send(i);
      work.close();
    });
    for (let c = 0; c < consumers; c++) {
      yield* spawn(function* consumer() {
        let v;
        while ((v = yield* work.receive()) !== undefined) yield* results.send(v * 2);
      });
    }
    let back = 0;
    for (let i = 0; i < messages; i++) {
      yield* results.receive();
      if (++back % 10_000 === 0) peak();
    }
    return back;
  });

skein.tells = (n) =>
  s.run(function* () {
    const receiver = yield* fork(function* () {
      let got = 0;
      for (let i = 0; i < n; i++) if ((yield* receive<number>()) >= 0) got++;
      return got;
    });
    for (let i = 0; i < n; i++) tell(receiver, i);
    return yield* receiver;
  });

skein.selective = (n, backlog) =>
  s.run(function* () {
    const box = yield* me();
    for (let i = 0; i < backlog; i++) tell(box, { noise: i });
    const isWanted = (m: unknown) => typeof m === "number";
    let got = 0;
    for (let i = 0; i < n; i++) {
      tell(box, i);
      if ((yield* receive(isWanted)) === i) got++;
    }
    return got;
  });

function* plusOne(x: number): Operation<number> {
  return x + 1;
}

skein.allOfTwo = (n) =>
  s.run(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = yield* all([plusOne(i), plusOne(i)]);
      if (a + b === 2 * i + 2) got++;
    }
    return got;
  });

skein.raceSleep = (n) =>
  s.run(function* () {
    let got = 0;
    for (let i = 0; i < n; i++) if ((yield* race([plusOne(i), sleep(LONG)])) === i + 1) got++;
    return got;
  });
