// A task woken by a settled promise runs in the promise's reaction (`settled` → `runNow`), with
// one look at the clock a wake and the host timer armed only when the sleepers changed. These pin
// what that must keep, on a clock moved by hand (the slice is measured by `realNow()`, which here
// moves only when a step says so; its host timer is a stand-in that never fires by itself):
// - a wake whose step ran past the slice: the host has its turn before the next wake's step;
// - a timer due beside a stream of promise wakes is fired by the first wake after its deadline;
// - the host timer follows the sleepers a wake added or removed (none armed for nothing).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RealClock, type Host } from "../../lib/core/clock.js";
import { handlers } from "../../lib/core/handlers.js";
import { Scheduler, SLICE_MS } from "../../lib/core/scheduler.js";
import { call, fork, sleep, spawn, type Task } from "../../lib/index.js";
import { hostTurn } from "../helpers.js";

const W = suite("promise wakes: the host's turn and timers");

/** A real clock whose time moves only when told (`t`), with stand-in host timers. */
class HandClock extends RealClock {
  t = 0;
  /** The deadlines the host timers are armed for now, by id. */
  readonly armed = new Map<number, number>();
  private fns = new Map<number, () => void>();
  constructor() {
    let id = 0;
    const host: Host = {
      setTimeout: (fn, ms) => {
        this.armed.set(++id, this.t + ms);
        this.fns.set(id, fn);
        return id;
      },
      clearTimeout: (i) => {
        this.armed.delete(i as number);
        this.fns.delete(i as number);
      },
    };
    super(host);
  }
  override now(): number {
    return this.t;
  }
  override realNow(): number {
    return this.t;
  }
  override deadline(ms: number): number {
    return this.t + (ms < 1 ? 1 : ms);
  }
  /** The deadlines armed, earliest first. */
  deadlines(): number[] {
    return [...this.armed.values()].sort((a, b) => a - b);
  }
  /** Fire the armed host timers, as the host would once `t` has reached them. */
  fire(): void {
    for (const [i, fn] of [...this.fns]) {
      this.armed.delete(i);
      this.fns.delete(i);
      fn();
    }
  }
}

function make(): { s: Scheduler; clock: HandClock } {
  const clock = new HandClock();
  return { s: new Scheduler(clock, handlers), clock };
}

W("after a wake whose step ran past the slice, the host has its turn before the next wake's step", async () => {
  // Whichever wake of a burst the long step is (a check made at some wakes only would miss some).
  for (let long = 1; long <= 9; long++) {
    const { s, clock } = make();
    const log: string[] = [];
    await s.run(function* () {
      for (let i = 0; i < long + 3; i++) {
        yield* call(async () => i); // each step after the first runs in a promise's reaction
        log.push(`step ${i}`);
        if (i === long) {
          setImmediate(() => log.push("host"));
          clock.t += SLICE_MS + 1; // this step computed past the slice
        }
      }
    });
    const at = log.indexOf("host");
    assert.equal(log.slice(at - 1, at + 2), [`step ${long}`, "host", `step ${long + 1}`], `long step ${long}: ${log.join(", ")}`);
    assert.is(log.filter((e) => e === "host").length, 1);
  }
});

W("a timer due beside a stream of promise wakes fires at the first wake after its deadline", async () => {
  const { s, clock } = make();
  const log: string[] = [];
  await s.run(function* () {
    yield* fork(function* () {
      yield* sleep(9);
      log.push(`sleeper at ${clock.t}`);
    });
    yield* fork(function* () {
      for (let i = 0; i < 16; i++) {
        yield* call(async () => i);
        clock.t += 1; // each step takes 1 ms: a slice is over every few steps
        log.push(`step at ${clock.t}`);
      }
    });
  });
  // Due at 9, inside a burst of wakes (one began at 7, after the host's turn at the end of the
  // slice begun at 0): the wake after the step that reached 9 goes to the loop, which fires the
  // timer (the woken task runs first: it was queued first). The stand-in host timer never fired.
  const at = log.indexOf("step at 9");
  assert.equal(log.slice(at, at + 3), ["step at 9", "step at 10", "sleeper at 10"], log.join(", "));
  assert.equal(clock.deadlines(), []);
});

W("a wake that starts a sleep arms the host timer for it", async () => {
  const { s, clock } = make();
  let woke = false;
  const t = s.run(function* () {
    yield* call(async () => 1);
    woke = true; // in the promise's reaction: the loop is idle
    yield* sleep(50);
  });
  while (!woke) await null; // microtasks only: no host turn
  assert.equal(clock.deadlines(), [50]);
  clock.t = 50;
  clock.fire();
  await t;
  assert.equal(clock.deadlines(), []);
});

W("a wake that cancels the only sleeper and uses up its slice leaves no host timer armed", async () => {
  const { s, clock } = make();
  let sleeper!: Task<void>;
  let before: number[] = [];
  let burning = false;
  const t = s.run(function* () {
    sleeper = yield* spawn(() => sleep(1000));
    yield* call(async () => 1); // the sleeper sleeps; this step runs in the promise's reaction
    before = clock.deadlines(); // armed by the loop that put the sleeper to sleep
    void sleeper.cancel(); // the sleep is taken off the timers, the sleeper queued for its end
    clock.t += SLICE_MS + 1;
    burning = true;
    // Enough effects for the step to look at the clock: the slice is over, so the wake ends
    // here, not in the loop (which would arm anyway), and the sleeper waits for the host's turn.
    for (let i = 0; i < 300; i++) yield* call(() => i);
  });
  while (!burning) await null; // microtasks only: the host has not had its turn
  assert.equal(before, [1000]);
  assert.equal(clock.deadlines(), []);
  await hostTurn();
  await t;
  assert.is(sleeper.state, "cancelled");
});

W("a host timer that fires while a run of the loop is due on a microtask: that run fires the sleeper and arms the next", async () => {
  const { s, clock } = make();
  const log: string[] = [];
  const sleepers = [10, 20].map((ms) =>
    s.run(function* () {
      yield* sleep(ms);
      log.push(`${ms} woke at ${clock.t}`);
    }),
  );
  await hostTurn();
  assert.equal(clock.deadlines(), [10]);
  s.run(function* () {}); // a run of the loop is due on a microtask (scheduled)
  clock.t = 10;
  clock.fire(); // the host timer: tick() leaves it to that run
  assert.equal(log, []);
  await hostTurn();
  assert.equal(log, ["10 woke at 10"]);
  assert.equal(clock.deadlines(), [20]); // no sleeper added or removed: the loop arms all the same
  clock.t = 20;
  clock.fire();
  await Promise.all(sleepers);
  assert.equal(clock.deadlines(), []);
});

W("a host timer that fires while the loop waits for the host's turn (slice over): the loop after it arms the next", async () => {
  const { s, clock } = make();
  const log: string[] = [];
  let burning = false;
  const sleeper = s.run(function* () {
    for (let i = 0; i < 2; i++) {
      yield* sleep(10);
      log.push(`woke at ${clock.t}`);
    }
  });
  const busy = s.run(function* () {
    yield* call(async () => 1); // in the promise's reaction
    clock.t = 10;
    burning = true;
    for (let i = 0; i < 300; i++) yield* call(() => i); // looks at the clock: the slice is over
    log.push("busy done");
  });
  while (!burning) await null;
  await null;
  clock.fire(); // before the deferred run: tick() leaves it to that run
  await hostTurn();
  await hostTurn();
  assert.ok(log.includes("woke at 10"), log.join(", "));
  await busy;
  assert.equal(clock.deadlines(), [20]);
  clock.t = 20;
  clock.fire();
  await sleeper;
  assert.equal(clock.deadlines(), []);
});

W("a sleeper cancelled from a plain callback, beside promise wakes: the host timer is disarmed", async () => {
  const { s, clock } = make();
  const sleeper = s.run(sleep(1000));
  await hostTurn();
  assert.equal(clock.deadlines(), [1000]);
  let n = 0;
  const w = s.run(function* () {
    for (; n < 40; n++) yield* call(async () => 1); // wakes in the promises' reactions
  });
  while (n < 10) await null;
  void sleeper.cancel(); // from outside any task, between two wakes
  await w;
  await hostTurn();
  assert.is(sleeper.state, "cancelled");
  assert.equal(clock.deadlines(), []);
});

W.run();
