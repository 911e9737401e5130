// The observer and the trace recorder: a track per task, a span per run and per wait, in the
// Trace Event format that Perfetto and chrome://tracing open.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { all, call, channel, createScheduler, shield, type Operation, fork, recordTrace, select, sleep, timeout, TimeoutError, type Observer, type TraceEvent } from "../../lib/index.js";

function* pingPong() {
  const ball = channel<number>();
  yield* fork(function* ping() {
    for (let i = 0; i < 3; i++) {
      yield* ball.send(i);
      yield* sleep(10);
    }
  });
  yield* fork(function* pong() {
    for (let i = 0; i < 3; i++) yield* ball.receive();
  });
}

test("the observer is told of each task's start, suspensions, resumptions and end, in order", async () => {
  const log: string[] = [];
  const observer: Observer = {
    started: (t) => log.push(`${t.name} started`),
    suspended: (t, on) => log.push(`${t.name} waits on ${on === null ? "(ready)" : String(on)}`),
    resumed: (t) => log.push(`${t.name} resumed`),
    ended: (t) => log.push(`${t.name} ${t.state}`),
  };
  const s = createScheduler({ clock: "virtual", observer });
  await s.run(function* main() {
    yield* sleep(5);
  });
  assert.equal(log, ["main started", "main waits on sleep(until 5)", "main resumed", "main completed"]);
  s.observer = undefined;
  await s.run(function* quiet() {});
  assert.is(log.length, 4);
  assert.throws(() => (s.observer = 42 as never), TypeError);
});

test("a recorded trace is valid Trace Event JSON: named tracks, run and wait spans, starts and ends", async () => {
  const s = createScheduler({ clock: "virtual" });
  const recording = recordTrace(s);
  await s.run(pingPong, { name: "main" });
  const trace = JSON.parse(JSON.stringify(recording.stop())) as { traceEvents: TraceEvent[]; displayTimeUnit: string };
  assert.is(trace.displayTimeUnit, "ms");
  const events = trace.traceEvents;
  // The format: every event has a name, a known phase, a time, a pid and a tid; spans a duration.
  for (const e of events) {
    assert.type(e.name, "string");
    assert.ok(["X", "i", "M"].includes(e.ph), `phase ${e.ph}`);
    assert.ok(Number.isInteger(e.ts) && e.ts >= 0, `ts ${e.ts}`);
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), "pid and tid");
    if (e.ph === "X") assert.ok(Number.isInteger(e.dur) && e.dur! >= 0, `dur ${e.dur}`);
    if (e.ph === "i") assert.is(e.s, "t");
    if (e.ph === "M") assert.ok(["thread_name", "thread_sort_index", "process_name"].includes(e.name));
  }
  // A named track per task, and on each track spans that do not overlap.
  const names = new Map(events.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args!.name]));
  assert.equal([...names.values()].sort(), ["#1 main", "#2 ping", "#3 pong"]);
  for (const tid of names.keys()) {
    const spans = events.filter((e) => e.ph === "X" && e.tid === tid).sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.ts >= spans[i - 1]!.ts + spans[i - 1]!.dur!, `overlap on track ${tid}`);
  }
  // What ping waited on, for how long (virtual time: exact), and how each task ended.
  const pingWaits = events.filter((e) => e.tid === 2 && e.cat === "wait").map((e) => `${e.name} ${e.dur} ${e.args!.on}`);
  assert.ok(pingWaits.includes("waiting on sleep 10000 sleep (ends in 10 ms)"), pingWaits.join("; ")); // one name per kind of wait
  assert.equal(events.filter((e) => e.ph === "i" && e.cat === "task").map((e) => `${e.tid} ${e.name}`).sort(), [
    "1 completed", "1 started", "2 completed", "2 started", "3 completed", "3 started",
  ]);
  assert.is(s.observer, undefined);
});

test("recordings stopped in any order: the one stopped first records nothing more, the newer is put back", async () => {
  const s = createScheduler({ clock: "virtual" });
  const first = recordTrace(s);
  const second = recordTrace(s);
  const third = recordTrace(s);
  const stoppedSecond = second.stop();
  assert.is(second.stop(), stoppedSecond); // stopping twice changes nothing
  third.stop(); // puts back `first`, not the stopped `second`
  await s.run(pingPong);
  const tasks = (t: { traceEvents: TraceEvent[] }) => t.traceEvents.filter((e) => e.name === "thread_name").length;
  assert.is(tasks(stoppedSecond), 0);
  assert.is(tasks(first.stop()), 3);
  assert.is(s.observer, undefined);
});

test("an observer that throws is reported once, and removed", async () => {
  const reported: string[] = [];
  const s = createScheduler({ clock: "virtual", onError: (e, _t, what) => void reported.push(`${what}: ${(e as Error).message}`) });
  let calls = 0;
  s.observer = {
    resumed() {
      calls++;
      throw new Error("observer bug");
    },
  };
  await s.run(pingPong);
  assert.equal(reported, ["the scheduler's observer threw, and has been removed: observer bug"]);
  assert.is(calls, 1);
  assert.is(s.observer, undefined);
});

test("a time limit that runs out is told to the observer, and is an instant on the task's track; one not reached is not", async () => {
  const s = createScheduler({ clock: "virtual" });
  const told: string[] = [];
  const recording = recordTrace(s);
  const tracer = s.observer!;
  s.observer = { ...tracer, timedOut: (t, limit, at) => (told.push(`${t.name}: ${limit} at ${at}, told at ${s.now()}`), tracer.timedOut!(t, limit, at)) };
  const jobs = channel<number>();
  await s.run(
    function* () {
      yield* fork(function* limited() {
        try {
          yield* timeout(10, jobs.receive());
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
        }
        yield* timeout(50, sleep(5)); // done in time: no event
      });
      yield* fork(function* selecting() {
        yield* select({ job: jobs.receive() }, { timeout: 20 });
      });
    },
    { name: "main" },
  );
  s.observer = tracer;
  const events = recording.stop().traceEvents.filter((e) => e.cat === "timeout");
  assert.equal(told, ["limited: timeout(10) at 10, told at 10", `selecting: select(job: receive(${jobs}), timeout: 20 ms) at 20, told at 20`]);
  assert.equal(events.map((e) => [e.tid, e.name, e.ts, e.ph]), [
    [2, "timeout(10) ran out", 10_000, "i"],
    [3, `select(job: receive(${jobs}), timeout: 20 ms) ran out`, 20_000, "i"],
  ]);
});

test("a limit is told only where it cuts its task short: not when the result stood, the task was cancelled first, or an outer limit due with it cut it short", async () => {
  const s = createScheduler({ clock: "virtual" });
  const told: string[] = [];
  s.observer = { timedOut: (t, limit, at) => void told.push(`${t.name}: ${limit} at ${at}`) };
  const out = await s.run(function* () {
    const ch = channel<number>();
    yield* fork(function* sender() {
      yield* sleep(10);
      yield* ch.send(42);
    });
    const delivered = yield* timeout(10, ch.receive()); // the value arrives at the deadline: it stands
    const child = yield* fork(function* child() {
      yield* timeout(10, ch.receive());
    });
    yield* sleep(10);
    yield* child.cancel(); // at its deadline, before the limit's ring has reached it
    let nested: unknown;
    try {
      yield* timeout(10, call(function* () {
        yield* sleep(5);
        return yield* timeout(5, sleep(30)); // due with the outer one
      }));
    } catch (e) {
      nested = e instanceof TimeoutError ? `TimeoutError(${e.ms})` : e;
    }
    return { delivered, child: child.state, nested };
  });
  assert.equal(out, { delivered: 42, child: "cancelled", nested: "TimeoutError(10)" });
  assert.equal(told, ["anonymous: timeout(10) at 30"]);
});

test("a limit that cut its operation short is told once the operation has ended, with when it ran out, however it ended", async () => {
  const s = createScheduler({ clock: "virtual" });
  const recording = recordTrace(s);
  const tracer = s.observer!;
  const told: string[] = [];
  s.observer = { ...tracer, timedOut: (t, limit, at) => (told.push(`${t.name}: ${limit} at ${at}, told at ${s.now()}`), tracer.timedOut!(t, limit, at)) };
  const outcome = (e: unknown) => (e instanceof TimeoutError ? `TimeoutError(${e.ms})` : String(e));
  const out = await s.run(function* () {
    const got: Record<string, string> = {};
    try { // the operation wraps the Cancelled in an error of its own
      yield* timeout(5, call(function* wrapping() {
        try {
          yield* sleep(30);
        } catch (e) {
          throw new Error("fetch failed", { cause: e });
        }
      }));
    } catch (e) {
      got.wrapped = String(e);
    }
    try { // its cleanup runs long after the limit
      yield* timeout(5, call(function* cleaning() {
        try {
          yield* sleep(30);
        } finally {
          yield* shield(sleep(100));
        }
      }));
    } catch (e) {
      got.cleaning = outcome(e);
    }
    const child = yield* fork(function* child() { // cancelled after its limit cut it short, during its cleanup
      yield* timeout(10, call(function* () {
        try {
          yield* sleep(30);
        } finally {
          yield* shield(sleep(5));
        }
      }));
    });
    yield* sleep(12);
    yield* child.cancel();
    got.child = child.state;
    const shielded = yield* fork(function* shielded() { // cancelled first; the limit, inside a shield, still cuts
      try {
        yield* shield(timeout(10, sleep(30)));
      } catch (e) {
        got.shielded = outcome(e);
      }
    });
    yield* sleep(5);
    yield* shielded.cancel();
    const stubborn = yield* fork(function* stubborn() { // swallows every Cancelled; cancelled after its limit
      yield* timeout(10, call(function* () {
        for (;;) {
          try {
            yield* sleep(30);
          } catch {
            yield* shield(sleep(1));
          }
        }
      }));
    });
    yield* sleep(50);
    yield* stubborn.cancel();
    got.stubborn = stubborn.state;
    return got;
  });
  assert.equal(out, { wrapped: "Error: fetch failed", cleaning: "TimeoutError(5)", child: "cancelled", shielded: "TimeoutError(10)", stubborn: "cancelled" });
  assert.equal(told, [
    "anonymous: timeout(5) at 5, told at 5",
    "anonymous: timeout(5) at 10, told at 110",
    "child: timeout(10) at 120, told at 125",
    "shielded: timeout(10) at 135, told at 135",
    "stubborn: timeout(10) at 145, told at 245",
  ]);
  // The trace's instant is at the time the limit ran out, not when it was told.
  const instants = recording.stop().traceEvents.filter((e) => e.cat === "timeout").map((e) => e.ts / 1000);
  assert.equal(instants, [5, 10, 120, 135, 145]);
});

test("a limit is not told when the operation failed on its own, at the deadline or after it", async () => {
  const s = createScheduler({ clock: "virtual" });
  const told: string[] = [];
  s.observer = { timedOut: (t, limit, at) => void told.push(`${t.name}: ${limit} at ${at}`) };
  function* failAt(ms: number) {
    yield* sleep(ms);
    throw new Error(`boom at ${ms}`);
  }
  const out = await s.run(function* () {
    const got: string[] = [];
    const attempt = function* (op: Operation<unknown>) {
      try {
        yield* timeout(10, op);
      } catch (e) {
        got.push(String(e));
      }
    };
    yield* attempt(all([failAt(10), sleep(30)])); // a member fails at the deadline, before the limit rings
    const ch = channel<number>();
    yield* fork(function* () {
      yield* sleep(10);
      yield* ch.send(1);
    });
    yield* attempt(call(function* () { // a value delivered at the deadline, rejected with no wait after
      throw new Error(`bad value ${yield* ch.receive()}`);
    }));
    yield* attempt(shield(failAt(30))); // the shield holds the limit's cancel: its own error, later
    return got;
  });
  assert.equal(out, ["Error: boom at 10", "Error: bad value 1", "Error: boom at 30"]);
  assert.equal(told, []);
});

test("an observer that throws when a limit runs out is removed; the limit still cuts the operation short", async () => {
  const reported: string[] = [];
  const s = createScheduler({ clock: "virtual", onError: (e, _t, what) => void reported.push(`${what}: ${(e as Error).message}`) });
  s.observer = {
    timedOut() {
      throw new Error("observer bug");
    },
  };
  const out = await s.run(function* () {
    try {
      yield* timeout(5, sleep(100));
      return "not cut short";
    } catch (e) {
      return e instanceof TimeoutError ? `TimeoutError at ${s.now()}` : e;
    }
  });
  assert.is(out, "TimeoutError at 5");
  assert.equal(reported, ["the scheduler's observer threw, and has been removed: observer bug"]);
  assert.is(s.observer, undefined);
});

test.run();
