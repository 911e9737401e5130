// A read woken by a stream's `data` event runs in the event's callback, when nothing else runs
// (and the events since the host's last turn have not used up their slice): no microtask and no
// separate run of the loop per chunk. These pin what that must not change:
// an event emitted from inside a step only queues the read, a run of the loop that is due already
// is joined, not run early, a busy task's slice is not extended into the host's turn (nor a slice
// the woken task used up in one step), timers due fire in the same run after the woken tasks, a
// task's error stays the task's, and a virtual clock still jumps.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { PassThrough } from "node:stream";
import { call, cooperate, createScheduler, Park, PARKED, sleep, wake, type Scheduler, type Task } from "../../lib/index.js";
import { Reader } from "../../lib/node/index.js";
import { hostTurnSteps, timersLeftForHostTurn, undisturbed } from "../helpers.js";

const Wake = suite("a read woken by a data event");

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A task of `s` that reads one line from a new stream and logs `read <line>`; write to `pt`. */
function lineReader(s: Pick<Scheduler, "run">, log: string[]): { pt: PassThrough; r: Task<void> } {
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const r = s.run(function* () {
    log.push(`read ${yield* reader.readLine()}`);
  });
  return { pt, r };
}

/** How long `f` took, in ms. */
function runMs(f: () => void): number {
  const start = performance.now();
  f();
  return performance.now() - start;
}

/** A task parked until `wake(gate.waiter, gate, …)`. */
class Gate extends Park<void> {
  waiter: Task | null = null;
  enter(t: Task): typeof PARKED {
    this.waiter = t;
    return PARKED;
  }
  leave(): void {
    this.waiter = null;
  }
}

Wake("runs in the callback: the line has been read when write() returns", async () => {
  const s = createScheduler();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const lines: (string | undefined)[] = [];
  const t = s.run(function* () {
    for (let i = 0; i < 3; i++) lines.push(yield* reader.readLine());
  });
  await tick(); // parked in its first read
  pt.write("one\n");
  assert.equal(lines, ["one"]);
  pt.write("two\nthree\n");
  assert.equal(lines, ["one", "two", "three"]);
  await t;
});

Wake("an event emitted from inside a step of another scheduler only queues the read", async () => {
  const a = createScheduler();
  const b = createScheduler();
  const log: string[] = [];
  const { pt, r } = lineReader(a, log);
  await tick();
  const w = b.run(function* () {
    pt.write("x\n"); // emits data here, inside b's step
    log.push("wrote");
  });
  await Promise.all([r, w]);
  assert.equal(log, ["wrote", "read x"]);
});

Wake("an event emitted from inside a step of the same scheduler only queues the read", async () => {
  const s = createScheduler();
  const log: string[] = [];
  const { pt, r } = lineReader(s, log);
  await tick();
  const w = s.run(function* () {
    pt.write("x\n");
    log.push("wrote");
    yield* cooperate();
    log.push("went on");
  });
  await Promise.all([r, w]);
  assert.equal(log, ["wrote", "read x", "went on"]);
});

Wake("when a run of the loop is due already, the read joins it, behind the task woken first", async () => {
  const s = createScheduler();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const gate = new Gate();
  const log: string[] = [];
  const g = s.run(function* () {
    yield* gate;
    log.push("gate");
  });
  const r = s.run(function* () {
    log.push(`read ${yield* reader.readLine()}`);
  });
  await tick();
  wake(gate.waiter!, gate, undefined); // a run is due on a microtask now
  pt.write("x\n");
  log.push("wrote");
  await Promise.all([g, r]);
  assert.equal(log, ["wrote", "gate", "read x"]);
});

Wake("beside a busy task whose slice is over, an event does not run the loop in the host's turn", async () => {
  const s = createScheduler();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  let steps = 0;
  let going = true;
  let got: string | undefined;
  const busy = s.run(function* () {
    while (going) {
      steps++;
      yield* cooperate();
    }
  });
  const r = s.run(function* () {
    got = yield* reader.readLine();
  });
  // The busy task uses up slice after slice; between them the loop waits for the host's turn.
  const inWrite: number[] = [];
  for (let i = 0; i < 5; i++) {
    await tick();
    const before = steps;
    pt.write(i === 4 ? "x\n" : "");
    inWrite.push(steps - before);
  }
  assert.equal(inWrite, [0, 0, 0, 0, 0]); // the busy task never ran inside write()
  for (let i = 0; i < 1000 && got === undefined; i++) await tick(); // bounded: host turns, not time
  assert.is(got, "x"); // the read ran in a later slice
  going = false;
  await Promise.all([busy, r]);
});

Wake("a task woken in the callback that stays busy ends its slice: the host's timers still run", async () => {
  const s = createScheduler();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  let stoppedByHost = false;
  let steps = 0;
  let stepsInWrite = 0;
  const t = s.run(function* () {
    yield* reader.readLine();
    const end = performance.now() + 5000; // bounded: a loop that never let the host run stops here
    while (!stoppedByHost && performance.now() < end) {
      steps++;
      yield* cooperate();
    }
  });
  await tick();
  setTimeout(() => (stoppedByHost = true), 0);
  pt.write("go\n");
  stepsInWrite = steps;
  await t;
  assert.ok(stepsInWrite > 0, "the task ran in the callback");
  assert.ok(stoppedByHost, "the host's timer fired while the task was busy");
});

Wake("the woken task's step wakes another: it runs in the same callback, unless the step used up the slice", async () => {
  for (const busyMs of [0, 20]) {
    const other = await undisturbed(async () => {
      const s = createScheduler();
      const pt = new PassThrough();
      const reader = new Reader(pt);
      const gate = new Gate();
      let other = false;
      const waiter = s.run(function* () {
        yield* gate;
        other = true;
      });
      const t = s.run(function* () {
        yield* reader.readLine();
        const end = performance.now() + busyMs; // 20 ms: past the 5 ms slice, in one step
        while (performance.now() < end);
        wake(gate.waiter!, gate, undefined);
      });
      await tick(); // both parked
      const ran = runMs(() => pt.write("go\n"));
      const inCallback = other;
      await Promise.all([t, waiter]);
      assert.ok(other);
      return { value: inCallback, disturbed: busyMs === 0 && ran >= 4 };
    });
    // Within the slice the loop goes on to the task woken; past it, that task waits for the host's turn.
    assert.is(other, busyMs === 0, `busy ${busyMs} ms`);
  }
});

Wake("steps woken by an event, then by promises, share one slice a host turn", async () => {
  // The event's run began a slice; a promise its step awaited then began a slice of its own (a
  // reaction's), so a task computing 4 ms a step ran three steps a host turn, not two, as it
  // did for a host timer's run before that was mended (a request handler that awaits a cache
  // between computations, say).
  const turns = await hostTurnSteps(4, function* (spin) {
    const pt = new PassThrough();
    const reader = new Reader(pt);
    for (let r = 0; r < 30; r++) {
      setImmediate(() => pt.write("x\n")); // the event, from a host callback
      yield* reader.readLine();
      spin();
      for (let k = 0; k < 4; k++) {
        yield* call(async () => k);
        spin();
      }
    }
  });
  // (Alone, before: three steps and two in turn. Beside busy processes most turns hold one step,
  // as a step descheduled runs past the slice; before, 8 to 10 of them still held three.)
  const long = turns.filter((n) => n >= 3).length;
  assert.ok(long <= 4, `${long} host turns of ${turns.length} waited for three or more steps of 4 ms: ${turns.join(" ")}`);
});

Wake("a timer due when the event arrives fires in the same run, after the task it woke", async () => {
  const log = await undisturbed(async () => {
    const s = createScheduler();
    const log: string[] = [];
    const { pt, r } = lineReader(s, log);
    await tick(); // the reader parked
    const sleeper = s.run(function* () {
      yield* sleep(1);
      log.push("slept");
    });
    await null; // its first step, on a microtask: no host turn, so its host timer cannot run before the write
    await null;
    const end = performance.now() + 10; // the sleep falls due
    while (performance.now() < end);
    const early = log.length > 0; // the run that began the sleep lasted past its deadline, and fired it
    const ran = runMs(() => pt.write("x\n"));
    const inCallback = [...log];
    await Promise.all([sleeper, r]);
    return { value: inCallback, disturbed: early || ran >= 4 };
  });
  assert.equal(log, ["read x", "slept"]);
});

Wake("a timer that falls due during the woken task's step fires in the same run, after the tasks it woke", async () => {
  for (const wakes of [true, false]) {
    const log = await undisturbed(async () => {
      const s = createScheduler();
      const pt = new PassThrough();
      const reader = new Reader(pt);
      const gu = new Gate();
      const gv = new Gate();
      const log: string[] = [];
      let sleptFrom = 0;
      let stepFrom = 0;
      const v = s.run(function* () {
        yield* gv;
        log.push("v");
      });
      const u = s.run(function* () {
        yield* gu;
        log.push("u");
        wake(gv.waiter!, gv, undefined);
      });
      const t = s.run(function* () {
        log.push(`t ${yield* reader.readLine()}`);
        stepFrom = performance.now();
        while (performance.now() < stepFrom + 1.5); // the sleep falls due (the slice is 5 ms)
        if (wakes) wake(gu.waiter!, gu, undefined);
      });
      // All parked: u and v by the next host turn, as a rule (under load their run can be put off
      // past it, and u was found not yet parked when woken, in a full run beside other work).
      do await tick();
      while (gu.waiter === null || gv.waiter === null);
      const sleeper = s.run(function* () {
        sleptFrom = performance.now();
        yield* sleep(1);
        log.push("slept");
      });
      await null; // its first step; no host turn before the write
      await null;
      const ran = runMs(() => pt.write("x\n"));
      log.push("| write returned");
      if (!wakes) wake(gu.waiter!, gu, undefined);
      await Promise.all([t, u, v, sleeper]);
      // Not due when the run began (its deadline is 7/8 ms or more after `sleptFrom`), and the run within the slice.
      return { value: log, disturbed: stepFrom - sleptFrom >= 0.75 || ran >= 4 };
    });
    assert.equal(log, wakes ? ["t x", "u", "v", "slept", "| write returned"] : ["t x", "slept", "| write returned", "u", "v"]);
  }
});

Wake("an event while due timers wait for the host's turn runs its task at once; the timers wait", async () => {
  // A run that began by firing timers leaves those that fell due while it worked to the run after
  // the host's turn. An I/O event meanwhile is the host's turn: its task runs in its callback, as
  // node runs its I/O callbacks before its timers. (Queued behind that run, a server's handlers
  // waited for every request the host's turn had brought: bench/io/latency.mjs, await-sleep.)
  const { log, timing } = await undisturbed(async () => {
    const s = createScheduler();
    const log: string[] = [];
    const { pt, r } = lineReader(s, log);
    const { done, disturbed, timing, handled } = timersLeftForHostTurn(s, log, () => {
      setImmediate(() => log.push("host"));
      queueMicrotask(() => (pt.write("x\n"), handled())); // the event, once a's run has ended
    });
    await Promise.all([done, r]);
    return { value: { log, timing: timing() }, disturbed: disturbed() };
  });
  assert.equal(log, ["a", "read x", "host", "b"], timing);
});

Wake("an event after a host timer's run, while due timers wait, runs at once even when the burst before that timer has not seen the host's turn end", async () => {
  // The scenario begins in the check phase, so the microtask burst its first run opens is marked
  // over (hostHadTurn) only after the next timers phase. a's host timer fires in that phase: its
  // run must open a burst of its own. It kept the stale one, whose slice was over by the time
  // of the event, and the event's task waited for the host's turn ("host" before "read x", the
  // spec above in full runs).
  const { log, timing } = await undisturbed(async () => {
    await new Promise((r) => setImmediate(r)); // the check phase
    const s = createScheduler();
    const log: string[] = [];
    const { pt, r } = lineReader(s, log);
    const t0 = performance.now();
    let aWoke = 0;
    let aDone = 0;
    let event = 0;
    let handled = 0;
    const a = s.run(function* () {
      yield* sleep(2);
      aWoke = performance.now();
      log.push("a");
      setImmediate(() => log.push("host"));
      queueMicrotask(() => ((event = performance.now()), pt.write("x\n"), (handled = performance.now())));
      while (performance.now() < t0 + 6); // b falls due during this step
      aDone = performance.now();
    });
    const b = s.run(function* () {
      yield* sleep(4.5);
      log.push("b");
    });
    for (let i = 0; i < 5; i++) await Promise.resolve(); // the tasks' first steps
    while (performance.now() < t0 + 2.5); // still in the check phase: a is due at the next timers phase
    await Promise.all([a, b, r]);
    const at = (t: number) => (t - t0).toFixed(2);
    const timing = `a woke at ${at(aWoke)}, ended its step at ${at(aDone)}, the event at ${at(event)}, handled by ${at(handled)} (ms from the start)`;
    // Disturbed: a woke after b's deadline (both fired at once), or so late, or the event came or
    // was handled so late (the process stalled in the write, before the event's run looked at the
    // clock), that a's own slice (5 ms from just before a woke) was over; or the event came before
    // the first burst's slice ended. (Handled 4 ms after a woke at the least: at 4.5, beside two
    // busy processes, every try of 20 was disturbed in 4 runs of 12, found by review.)
    const disturbed = aWoke - t0 >= 4.25 || handled - aWoke >= 4.85 || event - t0 < 5.25;
    return { value: { log, timing }, disturbed };
  });
  assert.equal(log, ["a", "read x", "host", "b"], timing);
});

Wake("events while due timers wait for the host's turn share one slice: a stream of them written from microtasks lets the host in", async () => {
  // Each event's run had a slice of its own, and two tasks passing a line back and forth through
  // writes made in microtasks held the host and the due timers for the whole exchange (found by
  // review: 640 ms). Now their runs share the burst's slice, then wait for the host's turn.
  const { exchanges, total, timing } = await undisturbed(async () => {
    const s = createScheduler();
    const [p1, p2] = [new PassThrough(), new PassThrough()];
    const [r1, r2] = [new Reader(p1), new Reader(p2)];
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const N = 200; // each way
    let exchanges = 0;
    let atHost = -1;
    const pass = (from: Reader, to: PassThrough) =>
      s.run(function* () {
        for (let i = 0; i < N; i++) {
          yield* from.readLine();
          exchanges++;
          spin(0.25);
          queueMicrotask(() => to.write("x\n"));
        }
      });
    const tasks = [pass(r1, p2), pass(r2, p1)];
    const { done, disturbed, timing } = timersLeftForHostTurn(s, [], () => {
      setImmediate(() => (atHost = exchanges));
      queueMicrotask(() => p1.write("x\n")); // the first event, once a's run has ended
    });
    await Promise.all([done, ...tasks]);
    return { value: { exchanges: atHost, total: exchanges, timing: timing() }, disturbed: disturbed() };
  });
  assert.is(total, 400);
  assert.ok(exchanges >= 0 && exchanges < 40, `${exchanges} of ${total} exchanges of 0.25 ms ran before the host's turn; ${timing}`);
});

/** Two tasks pass a line back and forth `n` times each way through PassThroughs written from
 * microtasks (an event's run, then the next write, then its run, with no host callback between),
 * each step computing `ms` ms: the most steps that ran between two host turns (a chain of
 * setImmediate), and how many there were in all. */
async function microtaskStream(ms: number, n: number): Promise<{ most: number; steps: number }> {
  const s = createScheduler();
  const [p1, p2] = [new PassThrough(), new PassThrough()];
  let steps = 0;
  let most = 0;
  let since = 0;
  let going = true;
  const probe = () => {
    most = Math.max(most, steps - since);
    since = steps;
    if (going) setImmediate(probe);
  };
  const pass = (from: Reader, to: PassThrough) =>
    s.run(function* () {
      for (let i = 0; i < n; i++) {
        yield* from.readLine();
        steps++;
        const end = performance.now() + ms;
        while (performance.now() < end);
        queueMicrotask(() => to.write("x\n"));
      }
    });
  const tasks = [pass(new Reader(p1), p2), pass(new Reader(p2), p1)];
  await tick(); // both wait for their line
  setImmediate(probe);
  queueMicrotask(() => p1.write("x\n"));
  await Promise.all(tasks);
  going = false;
  most = Math.max(most, steps - since);
  return { most, steps };
}

Wake("a stream of events written from microtasks lets the host in about once a slice", async () => {
  // Each event's run had a slice of its own, so two tasks passing a line back and forth through
  // writes made in microtasks held the host for the whole exchange: 400 steps of 0.25 ms, 120 ms
  // (found by a spec whose setup, now and then, did not leave its timers waiting). The runs of
  // the events that follow one in the same host turn now share its slice, then one more slice of
  // their own time: two slices, 40 such steps, at the most.
  const { most, steps } = await microtaskStream(0.25, 200);
  assert.is(steps, 400);
  assert.ok(most <= 48, `${most} steps of 0.25 ms ran between two host turns (a slice is 5 ms)`);
});

Wake("a stream of events written from microtasks, each step computing past the slice, lets the host in every two steps", async () => {
  const { most, steps } = await microtaskStream(6, 15);
  assert.is(steps, 30);
  // (Three, when the run after the host's turn began a slice and the first event's run another:
  // found by review.)
  assert.ok(most <= 2, `${most} steps of 6 ms ran between two host turns (a slice is 5 ms)`);
});

Wake("an event after a host timer's run that used up its slice runs in its callback, though an earlier event's run began its host turn", async () => {
  // The first event's run since the host's last turn has a slice of its own, the later ones
  // share it. A host timer's run is such a turn: an event after it, the timer's run having
  // computed past its slice, waited for the check phase (found by review), as one in that first
  // event's turn would.
  const s = createScheduler();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const lines: string[] = [];
  const readInWrite: boolean[] = [];
  const write = (line: string) => {
    pt.write(`${line}\n`);
    readInWrite.push(lines.includes(line));
  };
  const r = s.run(function* () {
    for (let line; (line = yield* reader.readLine()) !== undefined; ) lines.push(line);
  });
  const t = s.run(function* () {
    yield* sleep(10); // a host timer's run, after the first event's
    const end = performance.now() + 5.5; // past the slice
    while (performance.now() < end);
    setImmediate(() => write("b")); // an event after that run, from a host callback
  });
  await tick(); // both parked, and the host's turn seen
  setTimeout(() => write("a"), 2); // the first event's run since then, from a host callback
  await t;
  await tick();
  pt.end();
  await r;
  assert.equal(readInWrite, [true, true]);
});

Wake("other code's work between events in one host callback does not use up their slice: each read runs in its write", async () => {
  // The runs of the events after the first in a host turn share its slice; counted in the time
  // since, not in their own, a callback that wrote six streams with 3 ms of its own work between
  // writes sent the last two idle readers to wait for the check phase (found by review; so did a
  // poll phase of plain sockets with handlers of 2 ms beside skein's).
  const inWrite = await undisturbed(async () => {
    const s = createScheduler();
    const pts = Array.from({ length: 6 }, () => new PassThrough());
    const got: number[] = [];
    const readers = pts.map((pt, i) =>
      s.run(function* () {
        yield* new Reader(pt).readLine();
        got.push(i);
      }),
    );
    await tick(); // all parked
    const inWrite: boolean[] = [];
    let slowest = 0;
    await new Promise<void>((done) =>
      setTimeout(() => {
        pts.forEach((pt, i) => {
          slowest = Math.max(slowest, runMs(() => pt.write("x\n")));
          inWrite.push(got.includes(i));
          const end = performance.now() + 3; // the host's own work
          while (performance.now() < end);
        });
        done();
      }, 1),
    );
    await Promise.all(readers);
    return { value: inWrite, disturbed: slowest >= 1 }; // (a run descheduled for a millisecond)
  });
  assert.equal(inWrite, [true, true, true, true, true, true]);
});

Wake("a task woken while due timers wait, which computes past the slice, takes its next step after the timers' tasks", async () => {
  // The task's next step (its promise settled meanwhile) came before the timer that was due,
  // two steps of it, not one, before the other task (found by review). Woken by an event, or by
  // a promise's reaction.
  for (const by of ["event", "promise"]) {
    const { log, timing } = await undisturbed(async () => {
      const s = createScheduler();
      const pt = new PassThrough();
      const reader = new Reader(pt);
      const log: string[] = [];
      const marks: Record<string, number> = {};
      let settle!: () => void;
      const p = new Promise<void>((r) => (settle = r));
      const t = s.run(function* () {
        if (by === "event") yield* reader.readLine();
        else yield* call(() => p);
        log.push("t 1");
        marks["t's first step began"] = performance.now();
        const end = performance.now() + 6; // past the slice (5 ms)
        while (performance.now() < end);
        yield* call(() => Promise.resolve());
        log.push("t 2");
        marks["its second"] = performance.now();
      });
      const { done, disturbed, timing } = timersLeftForHostTurn(s, log, () => {
        if (by === "event") queueMicrotask(() => pt.write("x\n")); // the event, once a's run has ended
        else settle();
      });
      await Promise.all([done, t]);
      return { value: { log, timing: timing(marks) }, disturbed: disturbed() };
    });
    assert.equal(log, ["a", "t 1", "b", "t 2"], `woken by ${by === "event" ? "an event" : "a promise"}: ${timing}`);
  }
});

Wake("what the woken task throws is its failure, never thrown into the emitter", async () => {
  const s = createScheduler();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const emitted: unknown[] = [];
  pt.on("error", (e) => emitted.push(e));
  const t = s.run(function* () {
    const line = yield* reader.readLine();
    throw new Error(`bad line ${line}`);
  });
  await tick();
  let thrown: unknown = null;
  try {
    pt.write("x\n");
  } catch (e) {
    thrown = e;
  }
  assert.is(thrown, null);
  const failure = await t.then(
    () => null,
    (e: Error) => e.message,
  );
  assert.is(failure, "bad line x");
  assert.equal(emitted, []);
});

Wake("on a virtual clock, a task woken by an event then sleeps an hour at once", async () => {
  const s = createScheduler({ clock: "virtual" });
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const t = s.run(function* () {
    const line = yield* reader.readLine();
    yield* sleep(3_600_000);
    return [line, s.now()];
  });
  // After its first step (a virtual clock cannot see host callbacks: it would call the read a
  // deadlock after a host turn of idleness), outside any step.
  queueMicrotask(() => pt.write("late\n"));
  assert.equal(await t, ["late", 3_600_000]);
});

Wake.run();
