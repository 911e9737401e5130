// The run loop: trampolined (no stack growth), fair (FIFO, time slices), strict about what may be
// yielded, deterministic on the virtual clock, and quiet once everything has finished.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import {
  action, call, cancel, channel, cooperate, createScheduler, DeadlockError, wait, Effect, fork, join, map, self, shield, sleep, spawn, suspend, type Channel, type Operation,
} from "../../lib/index.js";
import { BUDGET, Scheduler } from "../../lib/core/scheduler.js";
import { RealClock, SLICE_MS, type Host } from "../../lib/core/clock.js";
import { handlers } from "../../lib/core/handlers.js";
import { framesAboveLoop, outcome, runVirtual, stepsPerHostTurn, timersLeftForHostTurn, undisturbed, virtual } from "../helpers.js";
import { measure, type Fairness } from "../../bench/fairness.js";


const Loop = suite("the run loop");

Loop("1,000,000 synchronous effects in one coroutine complete without growing the stack", async () => {
  const { value } = await runVirtual(function* () {
    const first = framesAboveLoop();
    let n = 0;
    let deepest = first;
    for (let i = 0; i < 1_000_000; i++) {
      if ((yield* self()).id > 0) n++;
      if (i % 1000 === 0) deepest = Math.max(deepest, framesAboveLoop());
    }
    return [n, deepest - first];
  });
  assert.equal(value, [1_000_000, 0]);
});

Loop("a body resumes from the same stack depth at call depth 1 and 100 (resume cost is flat)", async () => {
  function* nest(n: number, seen: number[]): Operation<void> {
    if (n > 1) return yield* call(nest, n - 1, seen);
    for (let i = 0; i < 3; i++) {
      yield* self();
      seen.push(framesAboveLoop());
    }
  }
  const shallow: number[] = [];
  const deep: number[] = [];
  await runVirtual(() => nest(1, shallow));
  await runVirtual(() => nest(100, deep));
  assert.equal(deep, shallow);
});

Loop("bursts of ready tasks larger than the queue's spare room all run, again and again", async () => {
  for (const burst of [5000, 20_000, 5000]) {
    let finished = 0;
    function* worker() {
      yield* cooperate();
      yield* sleep(1);
      finished++;
    }
    await runVirtual(function* () {
      for (let i = 0; i < burst; i++) yield* fork(worker);
      yield* sleep(2);
      for (let i = 0; i < burst; i++) yield* fork(worker); // after the queue emptied and shrank
    });
    assert.is(finished, 2 * burst);
  }
});

Loop("ready tasks run in FIFO order", async () => {
  const order: number[] = [];
  await runVirtual(function* () {
    for (let i = 0; i < 5; i++) {
      yield* fork(function* () {
        order.push(i);
        yield* sleep(0);
        order.push(10 + i);
      });
    }
  });
  assert.equal(order, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
});

Loop("on the real clock, a task doing synchronous effects forever delays a sleep(10) by at most a slice", async () => {
  const s = createScheduler();
  let spins = 0;
  const extra = await s.run(function* () {
    const hog = yield* spawn(function* () {
      for (;;) {
        yield* self();
        spins++;
      }
    });
    // Each sleep(10) is compared with a host setTimeout(10) armed at the same moment, so a load
    // on the machine delays both alike. The best of three: a hiccup can delay one wake-up; a
    // scheduler that let the hog run on would delay all three without bound.
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      let hostWoke = 0;
      setTimeout(() => (hostWoke = performance.now()), 10);
      yield* sleep(10);
      const woke = performance.now();
      if (hostWoke === 0) yield* call(() => new Promise<void>((r) => setTimeout(r, 0))); // let it fire
      best = Math.min(best, woke - hostWoke);
    }
    yield* cancel_(hog);
    return best;
  });
  assert.ok(spins > 1000, `the hog ran (${spins} effects)`);
  assert.ok(extra <= SLICE_MS + 5, `sleep(10) woke ${extra.toFixed(1)} ms after a host setTimeout(10); a slice is ${SLICE_MS} ms`);
});
function* cancel_(t: import("../../lib/index.js").Task): Operation<void> {
  yield* call(() => t.cancel());
}

/** Host timer callbacks (setInterval 1 ms) while `work` runs for `ms`, beside the same count
 * while plain JavaScript works in 5 ms chunks on setImmediate: a load on the machine slows both.
 * Up to three rounds; the best ratio. */
async function hostTurnsRatio(ms: number, work: (until: number) => Promise<unknown>): Promise<string | number> {
  const count = async (run: (until: number) => Promise<unknown>) => {
    let turns = 0;
    const probe = setInterval(() => turns++, 1);
    await run(performance.now() + ms);
    clearInterval(probe);
    return turns;
  };
  const control = (until: number) =>
    new Promise<void>((resolve) => {
      const chunk = () => {
        const end = Math.min(until, performance.now() + 5);
        while (performance.now() < end);
        if (performance.now() < until) setImmediate(chunk);
        else resolve();
      };
      chunk();
    });
  let best = 0;
  let facts = "";
  for (let round = 0; round < 3 && best < 0.5; round++) {
    const plain = await count(control);
    const skein = await count(work);
    facts += ` round ${round + 1}: skein ${skein}, plain JS ${plain};`;
    best = Math.max(best, skein / plain);
  }
  return best >= 0.5 ? best : `the host ran its timers too rarely:${facts}`;
}

Loop("a task fed by promises that settle at once still lets the host run its timers", async () => {
  const ratio = await hostTurnsRatio(100, (until) =>
    createScheduler().run(function* () {
      while (performance.now() < until) yield* wait(Promise.resolve()); // microtasks only
    }),
  );
  assert.type(ratio, "number", String(ratio));
});

Loop("the time slice ends after a CPU-bound task's cooperate(), even with few tasks", async () => {
  const ratio = await hostTurnsRatio(100, (until) =>
    createScheduler().run(function* () {
      while (performance.now() < until) {
        const spin = performance.now() + 1;
        while (performance.now() < spin); // 1 ms of CPU work
        yield* cooperate();
      }
    }),
  );
  assert.type(ratio, "number", String(ratio));
});

Loop("a task whose synchronous calls each compute a while lets the host run its timers (a step looks at the clock after 16 of them, then as often as they take)", async () => {
  // Each call completes inside its yield*, never leaving the step: before, the clock was read
  // every 256 such effects, so 0.1 ms calls held the host ~26 ms a slice (1 ms calls, 256 ms).
  const work = () => {
    const spin = performance.now() + 0.1;
    while (performance.now() < spin); // 0.1 ms of CPU work
  };
  const ratio = await hostTurnsRatio(150, (until) =>
    createScheduler().run(function* () {
      while (performance.now() < until) yield* call(work);
    }),
  );
  assert.type(ratio, "number", String(ratio));
});

Loop("steps woken by a host timer, then by promises, share one slice a host turn", async () => {
  // The promise wakes after a timer's run began a slice of their own unless that run had
  // computed past the slice: three steps of 4 ms a host turn, not two (found by review).
  const median = await stepsPerHostTurn(4, function* (spin) {
    for (let r = 0; r < 30; r++) {
      yield* sleep(1);
      spin();
      for (let k = 0; k < 4; k++) {
        yield* call(async () => k);
        spin();
      }
    }
  });
  assert.ok(median <= 2, `${median} steps of 4 ms between host turns`);
});

Loop("tasks woken by a step that a promise woke get what is left of its slice, not a slice of their own", async () => {
  // A promise wakes A; A's step (1 ms) wakes ten workers (1 ms each). The run after A's step
  // began a fresh slice: eleven steps a host turn, now six (found by review).
  const median = await stepsPerHostTurn(1, function* (spin) {
    const jobs = channel<number>(10);
    const done = channel<number>(10);
    for (let i = 0; i < 10; i++) {
      yield* fork(function* () {
        for (;;) {
          const job = yield* jobs.receive();
          if (job === undefined || job < 0) return;
          spin();
          yield* done.send(i);
        }
      });
    }
    for (let r = 0; r < 20; r++) {
      yield* call(async () => r);
      spin();
      for (let i = 0; i < 10; i++) yield* jobs.send(i);
      for (let i = 0; i < 10; i++) yield* done.receive();
    }
    for (let i = 0; i < 10; i++) yield* jobs.send(-1);
  });
  assert.ok(median <= 8, `${median} steps of 1 ms between host turns`);
});

Loop("timers that fall due during a run that began by firing timers wait for the host's turn", async () => {
  // As the host's own timers do: I/O comes between. Fired in the same run, a server's sleeping
  // handlers woke in ever larger waves (each took in the next as it fell due) until all of them
  // woke at once, and it answered about a tenth fewer requests than node:http (bench/io/latency.mjs).
  // The run after the host's turn arms the host timer: none is set for b's deadline, already
  // past, to be cleared at once (a review: 20 such pairs a 1,000 wakes of looping sleepers).
  const { log, set, cleared, timing } = await undisturbed(async () => {
    let set = 0;
    let cleared = 0;
    const host: Host = {
      setTimeout: (fn, ms) => (set++, setTimeout(fn, ms)),
      clearTimeout: (t) => (cleared++, clearTimeout(t as ReturnType<typeof setTimeout>)),
    };
    const s = new Scheduler(new RealClock(host), handlers);
    const log: string[] = [];
    const { done, disturbed, timing } = timersLeftForHostTurn(s, log, () => setImmediate(() => log.push("host")));
    await done;
    return { value: { log, set, cleared, timing: timing() }, disturbed: disturbed() };
  });
  assert.equal(log, ["a", "host", "b"], timing);
  // (None at all when a stalled machine let a's deadline pass within the runs that began the sleeps.)
  assert.ok(set <= 1 && cleared === 0, `${set} host timers set and ${cleared} cleared: one at most, for a's deadline; ${timing}`);
});

Loop("a promise settled while due timers wait for the host's turn wakes its task at once; the timers wait", async () => {
  // A reaction runs before the host's turn, and so does the task it wakes (a server's handler
  // that awaited a cache's promise before it slept waited ~0.3 ms for each await, queued behind
  // the whole batch of the run after the host's turn: bench/io/latency.mjs, await-sleep).
  const { log, timing } = await undisturbed(async () => {
    const s = createScheduler();
    const log: string[] = [];
    let settle!: (v: string) => void;
    const p = new Promise<string>((r) => (settle = r));
    let turned = false;
    let turnedBeforeA = false;
    const c = s.run(function* () {
      log.push(`c ${yield* call(() => p)}`);
    });
    const { done, disturbed, timing, handled } = timersLeftForHostTurn(s, log, () => {
      turnedBeforeA = turned;
      setImmediate(() => log.push("host"));
      settle("settled");
      queueMicrotask(handled); // after the reaction (queued by settle) and the run it began
    });
    // The burst of microtask runs these started ends at the host's next turn; on a loaded machine
    // a's timer may fire before it, and the reaction then rightly waits (the burst's slice is over).
    setImmediate(() => (turned = true));
    await Promise.all([done, c]);
    return { value: { log, timing: timing() }, disturbed: disturbed() || !turnedBeforeA };
  });
  assert.equal(log, ["a", "c settled", "host", "b"], timing);
});

Loop("two tasks that pass a short sleep back and forth, computing between, let the host run its timers", async () => {
  // After each step the queue was empty and the other task's timer already due: the loop fired
  // it and went on, never looking at the slice, so the host waited for the whole exchange
  // (found by review: a host setInterval(1) waited 600 ms).
  const median = await stepsPerHostTurn(2, function* (spin) {
    for (let k = 0; k < 2; k++) {
      yield* fork(function* () {
        for (let i = 0; i < 60; i++) {
          spin();
          yield* sleep(1);
        }
      });
    }
  });
  assert.ok(median <= 6, `${median} steps of 2 ms between host turns`);
});

Loop("a task a timer woke wakes another in the same run, not behind the busy tasks' next steps", async () => {
  // Stopping at the first timer that fell due once the slice was over (the fix above, first
  // version) put the consumer the ticker woke behind two workers' 3 ms steps: 10 ms late, not 4
  // (found by review). Counted in workers' steps between the tick and the consumer's turn.
  let steps = 0;
  let stop = false;
  const behind: number[] = [];
  const spin = () => {
    const until = performance.now() + 3;
    while (performance.now() < until);
    steps++;
  };
  await createScheduler().run(function* () {
    const ticks = channel<number>(1);
    for (let k = 0; k < 2; k++) {
      yield* fork(function* () {
        while (!stop) {
          spin();
          yield* call(async () => 0);
        }
      });
    }
    yield* fork(function* () {
      for (let i = 0; i < 30; i++) {
        yield* sleep(2);
        yield* ticks.send(steps);
      }
    });
    yield* fork(function* () {
      for (let i = 0; i < 30; i++) {
        const at = (yield* ticks.receive())!;
        behind.push(steps - at);
      }
      stop = true;
    });
  });
  behind.sort((a, b) => a - b);
  assert.ok(behind[behind.length >> 1]! <= 1, `the consumer ran ${behind.join(",")} worker steps after the tick`);
});

Loop("tasks that compute for milliseconds a step, woken behind quick ones, let the host run its timers", async () => {
  // Each round wakes seven tasks that only sleep again, then eight that compute 4 ms. The loop
  // looked at the clock after steps 1, 2, 4 and 8 whatever they took, so after the seventh quick
  // step the first four slow ones passed unseen: 8 steps, 32 ms, between host turns (found by
  // review). It now looks after each step once a stretch has taken long: two or three a run.
  const median = await stepsPerHostTurn(
    4,
    function* (spin) {
      for (let round = 0; round < 10; round++) {
        const all = [];
        for (let i = 0; i < 7; i++) all.push(yield* fork(sleep(1)));
        for (let i = 0; i < 8; i++) all.push(yield* fork(function* () {
          yield* sleep(1);
          spin();
        }));
        for (const t of all) yield* join(t);
      }
    },
  );
  assert.ok(median <= 4, `${median} steps of 4 ms between host turns`);
});

Loop("a call of a task (an operation whose iterator is an effect's) joins it, even when the time slice ends just as the call opens it", async () => {
  const { value } = await runVirtual(function* () {
    const worker = yield* spawn(function* () {
      yield* sleep(10);
      return "joined";
    });
    yield* cooperate(); // a fresh step: the whole budget of effects before the clock is looked at
    for (let i = 0; i < BUDGET - 1; i++) yield* self();
    const until = Date.now() + SLICE_MS + 1;
    while (Date.now() < until); // the slice is over: the call is the effect that finds it out
    return yield* call(worker);
  });
  assert.is(value, "joined");
});

Loop("a host timer's callback runs the tasks it wakes before it returns, as timers a test fakes need", async () => {
  // Sinon's clock.tick and jest's advanceTimersByTime call the due timers' callbacks one after
  // another, with no microtask between: a task woken in a callback must have run, and armed its
  // next timer, by the time the callback returns. (When a36e59d ran them on a microtask, which
  // makes V8's throws cheaper, a tick of 50 ms ended only one of five 10 ms sleeps; found by
  // review: docs/performance.md, the thirty-sixth round. Such fakes drive skein only if it is
  // loaded after they are installed: the real clock keeps the `performance` it found.)
  const due: Array<() => void> = [];
  const host: Host = { setTimeout: (fn) => (due.push(fn), 0), clearTimeout: () => {} };
  const s = new Scheduler(new RealClock(host), handlers);
  const log: string[] = [];
  const task = s.run(function* () {
    yield* sleep(5);
    log.push("woke");
    yield* sleep(5);
    log.push("woke again");
  });
  const past = () => new Promise((done) => setTimeout(done, 8)); // each deadline is past
  await new Promise((done) => setImmediate(done)); // the task has run to its first sleep (a cold
  // process compiling under load took 6.6 ms to get there, and its deadline was not yet past)
  await past();
  assert.is(due.length, 1, "the first sleep armed the host's timer");
  due.shift()!();
  assert.equal(log, ["woke"], "the woken task ran in the timer's callback");
  assert.is(due.length, 1, "and armed the next timer there");
  await past();
  due.shift()!();
  assert.equal(log, ["woke", "woke again"]);
  await task;
});

Loop.run();

const Host0 = suite("sharing the host with a busy program (real clock, ratios to plain JS)");

/** Measure the plain-JS control and skein side by side; on a loaded machine, up to three rounds (before the fix skein reached a third of the control, every round). */
async function beside(): Promise<{ control: Fairness; skein: Fairness }> {
  let best: { control: Fairness; skein: Fairness } | undefined;
  for (let round = 0; round < 3; round++) {
    const control = await measure("control", 1000);
    const skein = await measure("skein", 1000);
    const score = Math.min(skein.timer / control.timer, skein.echo / control.echo);
    if (best === undefined || score > Math.min(best.skein.timer / best.control.timer, best.skein.echo / best.control.echo)) {
      best = { control, skein };
    }
    if (score >= 0.8) break;
  }
  return best!;
}

Host0("beside a task that never waits, host timers and TCP round trips keep pace with plain JS; one host callback is pending", async () => {
  const { control, skein } = await beside();
  const facts = `control ${JSON.stringify(control)}, skein ${JSON.stringify(skein)}`;
  assert.ok(skein.timer >= 0.8 * control.timer, `host timer callbacks: ${facts}`);
  assert.ok(skein.echo >= 0.8 * control.echo, `TCP echo round trips: ${facts}`);
  assert.ok(skein.immediates <= 1, `setImmediate callbacks pending at once: ${facts}`);
});

Host0("beside a task whose every promise wake computes past the slice, the host's timers and skein's sleepers get a turn after each step, not every other", async () => {
  // Before the fix the run after the host's turn stepped the task, and the promise it woke then
  // started a slice of its own: two long steps a host turn (setInterval(1) fired every ~40 ms
  // beside 20 ms steps). Counted, not timed: one fire a turn however loaded the machine is.
  const s = createScheduler();
  let fires = 0;
  let wakes = 0;
  const interval = setInterval(() => fires++, 1);
  const next = async (n: number) => n + 1;
  const steps = 30;
  const sleeper = s.run(function* () {
    for (;;) {
      yield* sleep(1);
      wakes++;
    }
  });
  const done = await s.run(function* () {
    let n = 0;
    while (n < steps) {
      n = yield* call(next, n); // a promise wake: its reaction runs the step right there if it may
      const until = performance.now() + 2 * SLICE_MS;
      while (performance.now() < until);
    }
    return n;
  });
  clearInterval(interval);
  await sleeper.cancel();
  assert.is(done, steps);
  assert.ok(fires >= 0.8 * steps, `host setInterval(1) fired ${fires} times beside ${steps} steps of ${2 * SLICE_MS} ms`);
  assert.ok(wakes >= 0.8 * steps, `sleep(1) woke ${wakes} times beside ${steps} steps of ${2 * SLICE_MS} ms`);
});

Host0("beside a task woken by its timer whose step then awaits, each computing past the slice, the host's timers get a turn after each step", async () => {
  // Before the fix the promise woken by the step a host timer ran started a slice of its own, so
  // its step ran too before the host's turn: two long steps a turn (setInterval(1) every ~21 ms
  // beside 10 ms steps). Counted, not timed, as above.
  const s = createScheduler();
  let fires = 0;
  const interval = setInterval(() => fires++, 1);
  const next = async (n: number) => n + 1;
  const spin = () => {
    const until = performance.now() + 2 * SLICE_MS;
    while (performance.now() < until);
  };
  const steps = 30;
  const done = await s.run(function* () {
    let n = 0;
    while (n < steps) {
      yield* sleep(1); // woken by the host timer: the loop runs in its callback
      spin();
      n = yield* call(next, n); // a promise wake in the same host turn
      spin();
      n++;
    }
    return n;
  });
  clearInterval(interval);
  assert.is(done, steps);
  assert.ok(fires >= 0.8 * steps, `host setInterval(1) fired ${fires} times beside ${steps} steps of ${2 * SLICE_MS} ms`);
});

Host0("many tasks woken together, each computing a slice, give the host a turn after each step, not after the run of all of them", async () => {
  // Before the fix the loop read the clock every 64 steps: 40 tasks woken by their timers, each
  // computing 3 ms, held the host for the whole run (setInterval(1) every ~160 ms; found by review).
  const s = createScheduler();
  let fires = 0;
  const interval = setInterval(() => fires++, 1);
  const tasks = 8;
  const rounds = 4;
  await s.run(function* () {
    for (let k = 0; k < tasks; k++) {
      yield* fork(function* () {
        for (let r = 0; r < rounds; r++) {
          yield* sleep(1); // all woken by one host timer
          const until = performance.now() + SLICE_MS;
          while (performance.now() < until);
        }
      });
    }
  });
  clearInterval(interval);
  const steps = tasks * rounds;
  assert.ok(fires >= 0.5 * steps, `host setInterval(1) fired ${fires} times beside ${steps} steps of ${SLICE_MS} ms`);
});

Host0("long steps that follow many quick ones in a run are seen within 16 steps: the host's turn does not wait for all of them", async () => {
  // Each round, one task wakes 40 that do nothing, then 16 that compute a slice each: one run
  // of the loop. Reading the clock at steps 1, 2, 4 … 32 and every 64th after (a first fix) left
  // steps 33-63 unseen, so all 16 long steps ran before the host's turn (found by review).
  const s = createScheduler();
  let fires = 0;
  const interval = setInterval(() => fires++, 1);
  const rounds = 3;
  const long = 16;
  await s.run(function* () {
    const done = channel<number>(100);
    const gates: Channel<number>[] = [];
    for (let k = 0; k < 40 + long; k++) {
      const gate = channel<number>();
      gates.push(gate);
      yield* spawn(function* () {
        for (;;) {
          yield* gate.receive();
          if (k >= 40) {
            const until = performance.now() + SLICE_MS;
            while (performance.now() < until);
          }
          yield* done.send(k);
        }
      });
    }
    for (let r = 0; r < rounds; r++) {
      yield* sleep(1);
      for (const gate of gates) yield* gate.send(r); // each wakes its task: they run in this order
      for (let k = 0; k < gates.length; k++) yield* done.receive();
    }
  });
  clearInterval(interval);
  const steps = long * rounds;
  assert.ok(fires >= 0.3 * steps, `host setInterval(1) fired ${fires} times beside ${steps} steps of ${SLICE_MS} ms after quick ones`);
});

Host0.run();

const Yields = suite("what may be yielded");

Yields("a number, string, null, plain object or array throws a TypeError naming the task and the value", async () => {
  // Generator<any, …>: yields that the types of Operation reject, as JavaScript callers can write.
  const { value } = await runVirtual(function* picky(): Generator<any, string[], unknown> {
    const messages: string[] = [];
    for (const bad of [42, "text", null, { a: 1 }, [1, 2]]) {
      try {
        yield bad;
      } catch (e) {
        assert.instance(e, TypeError);
        messages.push((e as Error).message);
      }
    }
    return messages;
  });
  assert.match(value[0]!, /^task #1 picky yielded 42; yield\* an effect/);
  assert.match(value[1]!, /yielded "text"/);
  assert.match(value[2]!, /yielded null/);
  assert.match(value[3]!, /yielded a plain object \{a\}/);
  assert.match(value[4]!, /yielded an array of length 2/);
});

Yields("other tasks carry on when one yields garbage", async () => {
  const s = virtual();
  const good = s.run(function* () {
    yield* sleep(10);
    return "fine";
  });
  const bad = s.run(function* (): Generator<any, void, unknown> {
    yield 42;
  });
  assert.is((await outcome(bad)).state, "failed");
  assert.is(await good, "fine");
});

Yields("plainly yielded generators, promises and tasks are called, awaited and joined", async () => {
  const { value } = await runVirtual(function* (): Generator<any, unknown[], any> {
    const a = yield (function* () {
      return "gen";
    })();
    const b = yield Promise.resolve("promise");
    const t = yield fork(function* () {
      return "task";
    });
    const c = yield t;
    return [a, b, c];
  });
  assert.equal(value, ["gen", "promise", "task"]);
});

Yields("an effect the scheduler has no handler for is a TypeError", async () => {
  class Unknown extends Effect<void> {
    readonly type = "unknown";
  }
  const { value } = await runVirtual(function* () {
    try {
      yield* new Unknown();
    } catch (e) {
      return String(e);
    }
  });
  assert.match(value!, /TypeError: task #1 anonymous yielded an effect of unknown type "unknown"/);
});

Yields("an iterator whose next() returns no result object fails its task, not the scheduler", async () => {
  const s = virtual();
  const bystander = s.run(function* () {
    yield* sleep(1);
    return "fine";
  });
  const broken = await outcome(
    s.run(function* () {
      yield* call({ [Symbol.iterator]: () => ({ next: () => undefined }) } as never);
    }),
  );
  assert.is(broken.state, "failed");
  assert.match(String((broken as { error: unknown }).error), /TypeError: the iterator of task #2 anonymous returned undefined, not a result object/);
  assert.is(await bystander, "fine");
});

Yields("a custom iterator without throw() still gets the error, after its return()", async () => {
  const log: string[] = [];
  const custom = {
    [Symbol.iterator]() {
      let step = 0;
      return {
        next: () => (step++ === 0 ? { done: false, value: 42 } : { done: true, value: "done" }),
        return: () => {
          log.push("return called");
          return { done: true, value: undefined };
        },
      };
    },
  };
  const { value } = await runVirtual(function* () {
    try {
      yield* call(custom as never);
    } catch (e) {
      return (e as Error).name;
    }
  });
  assert.is(value, "TypeError");
  assert.equal(log, ["return called"]);
});

Yields("an iterator that inherits from a generator but has its own next() is stepped through it, as yield* steps it", async () => {
  // A wrapper that delegates to the generator it inherits from (its return/throw and the rest
  // come with the chain), and a class over a generator function's prototype: iterators, not
  // generator objects, whatever their prototype chain holds.
  function* inner() {
    yield* sleep(1);
    return "inner";
  }
  const wrap = () => {
    const g = inner();
    return Object.create(g, { next: { value: (v: unknown) => g.next(v as never) } }) as Operation<string>;
  };
  class Counted {
    n = 0;
    next(): IteratorResult<unknown, string> {
      return this.n++ === 0 ? { done: false, value: sleep(1) } : { done: true, value: "counted" };
    }
  }
  Object.setPrototypeOf(Counted.prototype, inner.prototype);
  const counted = () => new Counted() as unknown as Operation<string>;
  const { value } = await runVirtual(function* () {
    const got: string[] = [];
    got.push(yield* call(wrap()), yield* call(counted()));
    got.push(yield* yield* spawn(wrap()), yield* yield* spawn(counted()));
    got.push(...(yield* map([wrap, counted], (f) => f())));
    return got;
  });
  assert.equal(value, ["inner", "counted", "inner", "counted", "inner", "counted"]);
  assert.is(await virtual().run(wrap()), "inner");
  assert.is(await virtual().run(counted), "counted");
});

Yields("an iterator on a generator whose next getter throws fails with the getter's error, as yield* does", async () => {
  // isGenerator tests the prototype chain only, so the native next is tried first and refuses it;
  // the error reported must be the user's, not that refusal.
  function* g() {
    yield 1;
  }
  const it = () => Object.create(g(), { next: { get: () => { throw new RangeError("my getter"); } } }) as Operation<unknown>;
  let native: unknown;
  try {
    (function* () { yield* it(); })().next();
  } catch (e) {
    native = e;
  }
  assert.is(String(native), "RangeError: my getter");
  for (const body of [it, () => call(it()), () => map([1], () => it(), { concurrency: 1 })]) {
    const out = (await outcome(virtual().run(body as never))) as { state: string; error: unknown };
    assert.is(out.state, "failed");
    assert.is(String(out.error), "RangeError: my getter");
  }
});

Yields("an object made directly on a generator function's prototype, with its own next(), is stepped through it too", async () => {
  // isGenerator takes it for a generator (it reads no property of one: see its comment); the
  // native next refuses it before running anything, and it is then stepped as yield* steps it.
  const log: string[] = [];
  function* inner(tag: string) {
    try {
      yield* sleep(1);
      yield* sleep(1);
      return tag;
    } finally {
      log.push(`${tag} finally`);
    }
  }
  const fake = (tag: string) => {
    const g = inner(tag);
    return Object.create(inner.prototype, {
      next: { value: (v: unknown) => g.next(v as never) },
      throw: { value: (e: unknown) => g.throw(e) },
      return: { value: (v: unknown) => g.return(v as never) },
    }) as Operation<string>;
  };
  const { value, s } = await runVirtual(function* () {
    const got: string[] = [yield* call(fake("call")), yield* yield* spawn(fake("spawn"))];
    const t = yield* spawn(fake("cancelled"));
    yield* sleep(1);
    yield* cancel(t);
    got.push(t.state);
    return got;
  });
  assert.equal(value, ["call", "spawn", "cancelled"]);
  assert.equal(log, ["call finally", "spawn finally", "cancelled finally"]);
  assert.equal(s.reported, []);
  assert.is(await virtual().run(fake("run")), "run");
  // A real generator whose body throws a TypeError fails with it, run once (with a `next` of its own too).
  let ran = 0;
  function* bad(): Generator<never, never> {
    ran++;
    throw new TypeError("mine");
  }
  const own = bad();
  Object.defineProperty(own, "next", { value: (v: unknown) => Object.getPrototypeOf(bad.prototype).next.call(own, v) });
  for (const body of [bad, own]) {
    const out = (await outcome(virtual().run(body as never))) as { state: string; error: unknown };
    assert.is(out.state, "failed");
    assert.is(String(out.error), "TypeError: mine");
  }
  assert.is(ran, 2);
});

Yields("a real generator with a next() of its own is never stepped again when it fails while suspended", async () => {
  // Its body is stepped with the native next (its own is ignored). Two failures leave it suspended,
  // not closed: yielding itself, and its own return() throwing when a swallower is stopped. Neither
  // may be taken for a refusal of the native next (which would step the body once more).
  let steps = 0;
  function* selfish(): Generator<unknown, void> {
    steps++;
    yield gen;
    steps++;
  }
  function* swallower(): Generator<unknown, void> {
    for (;;) {
      try {
        steps++;
        yield* sleep(1);
      } catch {
        // swallowed: stopped after SWALLOW_LIMIT of them
      }
    }
  }
  const own = <G extends Generator<unknown, void>>(g: G, fn: () => unknown): G => {
    const next = Object.getPrototypeOf(fn.prototype).next as (this: G, v?: unknown) => IteratorResult<unknown>;
    Object.defineProperty(g, "next", { value: (v: unknown) => next.call(g, v) });
    return g;
  };
  const gen = own(selfish(), selfish);
  const out = (await outcome(virtual().run(gen as never))) as { state: string; error: unknown };
  assert.is(out.state, "failed");
  assert.match(String(out.error), "yields itself");
  assert.is(steps, 1);
  steps = 0;
  const stopped = own(swallower(), swallower);
  Object.defineProperty(stopped, "return", { value: () => { throw new TypeError("my return refuses"); } });
  const failed = (await outcome(
    virtual().run(function* () {
      const t = yield* spawn(stopped as never);
      yield* sleep(1);
      yield* cancel(t);
    }),
  )) as { state: string; error: unknown };
  assert.is(failed.state, "failed");
  assert.is(String(failed.error), "TypeError: my return refuses");
  assert.is(steps, 101); // its first step, and one per Cancelled swallowed before it was stopped
});

Yields("an async generator as a body fails at once with what to write instead; it does not spin", async () => {
  // Its next() returns promises, never results: stepped as an iterator it yielded undefined, was
  // thrown into, returned a rejected promise, and so on, for ever (and each rejection unhandled).
  const expected = /TypeError: skein runs generators \(function\*\), got an async iterator \(an async generator, say\): write the body as a function\* and wait for each promise in it with yield\* wait\(promise\)/;
  async function* asyncBody() {
    yield 1;
  }
  const s = virtual();
  const run = await outcome(s.run(asyncBody as never));
  assert.is(run.state, "failed");
  assert.match(String((run as { error: unknown }).error), expected);
  const { value } = await runVirtual(function* () {
    try {
      yield* call(asyncBody as never);
      return "no error";
    } catch (e) {
      return String(e);
    }
  });
  assert.match(value, expected);
});

Yields.run();

const Virtual = suite("the virtual clock");

Virtual("runs the same program to the same interleaving and times, every time", async () => {
  async function once() {
    const log: string[] = [];
    const s = virtual();
    await s.run(function* () {
      for (let i = 0; i < 4; i++) {
        yield* fork(function* () {
          for (let j = 0; j < 3; j++) {
            yield* sleep(((i * 7 + j * 3) % 5) + 1);
            log.push(`${i}.${j}@${s.now()}`);
          }
        });
      }
    });
    return log;
  }
  const a = await once();
  const b = await once();
  assert.equal(a, b);
  assert.is(a.length, 12);
});

/** The log of a virtual-clock program whose task A computes `ms` of real time after its sleep:
 * `program(spin, log, ch, now)` forks its tasks; the log says who ran when. */
async function virtualOrder(
  ms: number,
  program: (spin: () => void, log: string[], ch: Channel<number>, now: () => number) => Operation<void>,
): Promise<string[]> {
  const log: string[] = [];
  const s = virtual();
  const spin = () => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  await s.run(() => program(spin, log, channel<number>(), () => s.now()));
  return log;
}

Virtual("the interleaving does not depend on real time: a step woken by a jump that computes past the slice, then awaits, keeps its place", async () => {
  // The real clock's rule for a host timer's long run (the promise wakes after it wait for the
  // host's turn) must not reach a jump: on a slower machine A's and B's wakes would go the other
  // way, and B would run before the receiver A woke (found by review).
  const order = (ms: number) =>
    virtualOrder(ms, function* (spin, log, ch, now) {
      yield* fork(function* () {
        yield* ch.receive();
        log.push(`R@${now()}`);
      });
      yield* fork(function* () {
        yield* sleep(10);
        spin();
        yield* call(async () => 0);
        log.push(`A@${now()}`);
        yield* ch.send(1);
      });
      yield* fork(function* () {
        yield* sleep(10);
        yield* call(async () => 0);
        log.push(`B@${now()}`);
      });
    });
  assert.equal(await order(0), ["A@10", "R@10", "B@10"]);
  assert.equal(await order(2 * SLICE_MS), ["A@10", "R@10", "B@10"]);
});

Virtual("the interleaving does not depend on real time: a step that computes past the slice does not end the run, however many steps it has", async () => {
  // On the real clock the loop looks at the time after a run's first steps; on a virtual one
  // that made B's wake of R run after A's promise wake once A computed 5 ms; and with 63 tasks
  // more, the look at step 64 did the same (both found by review).
  const order = (ms: number, others: number) =>
    virtualOrder(ms, function* (spin, log, ch, now) {
      yield* fork(function* () {
        yield* sleep(10);
        spin();
        yield* call(async () => 0);
        log.push(`A@${now()}`);
      });
      for (let i = 0; i < others; i++) yield* fork(() => sleep(10));
      yield* fork(function* () {
        yield* sleep(10);
        yield* ch.send(1);
        log.push(`B@${now()}`);
      });
      yield* fork(function* () {
        yield* ch.receive();
        log.push(`R@${now()}`);
      });
    });
  assert.equal(await order(0, 0), ["B@10", "R@10", "A@10"]);
  assert.equal(await order(2 * SLICE_MS, 0), ["B@10", "R@10", "A@10"]);
  const quick = await order(0, 63);
  assert.equal(await order(2 * SLICE_MS, 63), quick);
});

Virtual("the interleaving does not depend on real time: a task preempted after many synchronous calls is preempted at the same one", async () => {
  // The budget of synchronous effects ended a slice only where the real clock said so: A's
  // thousand calls ran before B when quick, and B went first when A's first call took 10 ms.
  const order = (ms: number) =>
    virtualOrder(ms, function* (spin, log, _ch, now) {
      yield* fork(function* () {
        yield* sleep(10);
        for (let i = 0; i < 1000; i++) yield* call(() => (i === 0 ? spin() : i));
        log.push(`A@${now()}`);
      });
      yield* fork(function* () {
        yield* sleep(10);
        log.push(`B@${now()}`);
      });
    });
  const quick = await order(0);
  assert.equal(await order(2 * SLICE_MS), quick);
});

Virtual("a busy virtual run gives the host a turn every 256 steps, effects or promise wakes, however long they compute", async () => {
  // The virtual clock's slices count work: with real time the turn came where the machine's
  // speed said; counting looks at the clock, a step's synchronous calls ran ~10,000 between
  // host turns, so a task polling for an outside event waited seconds (found by review).
  const callsUntilHost = async (body: (flag: { set: boolean }) => Operation<number>) => {
    const flag = { set: false };
    setImmediate(() => (flag.set = true));
    return await virtual().run(() => body(flag));
  };
  const calls = await callsUntilHost(function* (flag) {
    let n = 0;
    while (!flag.set) yield* call(() => n++);
    return n;
  });
  assert.ok(calls > 0 && calls <= 2 * 256, `${calls} synchronous calls before the host's turn`);
  const wakes = await callsUntilHost(function* (flag) {
    let n = 0;
    while (!flag.set) yield* call(async () => n++);
    return n;
  });
  assert.ok(wakes > 0 && wakes <= 2 * 256, `${wakes} promise wakes before the host's turn`);
  const steps = await callsUntilHost(function* (flag) {
    const ping = channel<number>();
    let n = 0;
    yield* spawn(function* () {
      for (;;) yield* ping.receive();
    });
    while (!flag.set) {
      yield* ping.send(n);
      n++;
    }
    return n;
  });
  assert.ok(steps > 0 && steps <= 2 * 256, `${steps} hand-offs before the host's turn`);
  // Steps of a few synchronous calls each, then a wait: their calls count too (they went
  // uncounted while each step ended within its budget: 2,048 and 4,096 calls; found by review).
  for (const wait of [() => cooperate(), () => call(async () => 0)]) {
    const few = await callsUntilHost(function* (flag) {
      let n = 0;
      while (!flag.set) {
        for (let i = 0; i < 15; i++) yield* call(() => n++);
        yield* wait();
      }
      return n;
    });
    assert.ok(few > 0 && few <= 2 * 256, `${few} synchronous calls, 15 a step, before the host's turn`);
  }
});

Virtual("work done in runs that never looked at the clock is not charged to a later slice", async () => {
  // A timer jump's run of one step does not look at the clock (nothing else is queued): its work
  // was kept for the next look, and after 100 such runs a burst of calls got a slice of 15 of
  // them, not ~256 (found by review). A run that begins a slice tells the clock first.
  const s = virtual();
  let calls = 0;
  let turnAt = -1;
  const result = s.run(function* () {
    for (let j = 0; j < 100; j++) {
      for (let i = 0; i < 15; i++) yield* call(() => i);
      yield* sleep(1);
    }
    setImmediate(() => (turnAt = calls));
    for (let i = 0; i < 1000; i++) yield* call(() => calls++);
  });
  await result;
  assert.ok(turnAt >= 128, `the host's turn came after ${turnAt} calls of a fresh slice`);
});

Virtual("a run that can never progress fails with a deadlock report listing what each task waits on", async () => {
  const s = virtual();
  const o = await outcome(
    s.run(function* main() {
      const a = yield* fork(function* waiter() {
        yield* suspend();
      });
      yield* fork(function* joiner() {
        yield* join(a);
      });
    }),
  );
  assert.is(o.state, "failed");
  const e = (o as { error: unknown }).error;
  assert.instance(e, DeadlockError);
  const msg = (e as Error).message;
  assert.match(msg, /every task is blocked and nothing is pending/);
  assert.match(msg, /task #1 main waits on its children to finish/);
  assert.match(msg, /  task #2 waiter waits on suspend\(\)/);
  assert.match(msg, /  task #3 joiner waits on join\(#2 waiter\)/);
});

Virtual("a deadlocked run still runs every finally before it fails", async () => {
  const s = virtual();
  const log: string[] = [];
  const o = await outcome(
    s.run(function* () {
      try {
        yield* suspend();
      } finally {
        yield* shield(sleep(5));
        log.push(`cleaned up at ${s.now()}`);
      }
    }),
  );
  assert.is(o.state, "failed");
  assert.equal(log, ["cleaned up at 5"]);
});

Virtual("a task waiting on an action counts as blocked: the virtual clock cannot see host callbacks", async () => {
  const s = virtual();
  const o = await outcome(
    s.run(function* () {
      yield* action(function listen() {});
    }),
  );
  assert.match(String((o as { error: unknown }).error), /task #1 anonymous waits on action\(listen\)/);
});

Virtual("if cleanup after a deadlock blocks again, the second deadlock is reported", async () => {
  const s = virtual();
  const t = s.run(function* stubborn() {
    try {
      yield* suspend();
    } finally {
      yield* shield(suspend());
    }
  });
  for (let i = 0; i < 10 && s.reported.length === 0; i++) await new Promise((r) => setImmediate(r));
  assert.is(s.reported.length, 1);
  assert.instance(s.reported[0], DeadlockError);
  assert.match((s.reported[0] as Error).message, /task #1 stubborn waits on suspend\(\)/);
  assert.is(t.state, "running");
  // Its cleanup can never end: whoever awaits the task is told so rather than left waiting.
  const o = await Promise.race([outcome(t), new Promise((r) => setTimeout(r, 1000, "still waiting"))]);
  assert.is((o as { error: unknown }).error, s.reported[0]);
});

Virtual("a failed root whose cleanup is stuck settles with the deadlock report", async () => {
  const s = virtual();
  const t = s.run(function* () {
    try {
      throw new Error("boom");
    } finally {
      yield* shield(suspend());
    }
  });
  const o = await Promise.race([outcome(t), new Promise((r) => setTimeout(r, 1000, "still waiting"))]);
  assert.instance((o as { error: unknown }).error, DeadlockError);
  assert.match(String((o as { error: unknown }).error), /the cleanup of failed tasks is stuck|waits on suspend\(\)/);
});

Virtual("gives the host a turn every time slice too, so a task can wait for a host callback by polling", async () => {
  const s = virtual();
  let done = false;
  s.run(function* () {
    yield* wait(Promise.resolve(1));
    done = true;
  });
  const polls = await s.run(function* () {
    let n = 0;
    while (!done) {
      yield* cooperate();
      n++;
    }
    return n;
  });
  assert.ok(polls > 0);
});

Virtual("now() starts at 0 and moves only when every task is blocked", async () => {
  const s = virtual();
  assert.is(s.now(), 0);
  const seen = await s.run(function* () {
    const a = s.now();
    for (let i = 0; i < 1000; i++) yield* self();
    const b = s.now();
    yield* sleep(7);
    return [a, b, s.now()];
  });
  assert.equal(seen, [0, 0, 7]);
});

Virtual.run();

const Host = suite("the host");

Host("a program whose tasks have all finished lets Node exit at once", () => {
  const program = `
    import { run, sleep, spawn, suspend } from "../lib/index.ts";
    await run(function* () {
      yield* spawn(function* () { yield* sleep(60_000); });   // cancelled when the body ends
      yield* spawn(function* () { yield* suspend(); });
      yield* sleep(20);
    });
    process.stdout.write(String(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length));
  `;
  const t0 = performance.now();
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], {
    cwd: new URL("..", import.meta.url),
    encoding: "utf8",
  });
  const elapsed = performance.now() - t0;
  assert.is(out.trim(), "0");
  assert.ok(elapsed < 20_000, `exited after ${elapsed.toFixed(0)} ms instead of waiting for the 60 s timer`);
});

Host.run();
