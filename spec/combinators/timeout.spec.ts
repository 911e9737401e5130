// timeout(): cancel the operation after ms, wait for its cleanup, throw TimeoutError.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  call, cancel, channel, select, fork, join, Park, PARKED, receive, run, self, semaphore, shield, sleep, spawn, suspend, tell, timeout, TimeoutError,
  type Operation, type OperationLike,
} from "../../lib/index.js";
import { countNaming, runVirtual, virtual } from "../helpers.js";

test("returns the value when the operation is fast enough", async () => {
  const { value, now } = await runVirtual(function* () {
    return yield* timeout(100, function* () {
      yield* sleep(40);
      return "in time";
    });
  });
  assert.is(value, "in time");
  assert.is(now, 40);
});

test("a timed-out body has finished its finally, yielded cleanup included, before TimeoutError is thrown", async () => {
  const log: string[] = [];
  const { value, now } = await runVirtual(function* () {
    try {
      yield* timeout(50, function* () {
        try {
          yield* suspend();
        } finally {
          yield* shield(sleep(20));
          log.push("cleanup done");
        }
      });
    } catch (e) {
      log.push("caught");
      return e;
    }
  });
  assert.instance(value, TimeoutError);
  assert.is((value as TimeoutError).ms, 50);
  assert.is(now, 70);
  assert.equal(log, ["cleanup done", "caught"]);
});

test("a nested timeout reports the timeout that fired", async () => {
  const { value } = await runVirtual(function* () {
    const fired: number[] = [];
    for (const [outer, inner] of [[100, 50], [50, 100]] as const) {
      try {
        yield* timeout(outer, timeout(inner, sleep(500)));
      } catch (e) {
        fired.push((e as TimeoutError).ms);
      }
    }
    return fired;
  });
  assert.equal(value, [50, 50]);
});

test("the operation runs in the calling task", async () => {
  const { value } = await runVirtual(function* () {
    const me = yield* self();
    const inside = yield* timeout(10, self());
    return me === inside;
  });
  assert.is(value, true);
});

test("an operation that finishes at the deadline, as the limit falls due, returns its value", async () => {
  const { value, s } = await runVirtual(function* () {
    return yield* timeout(100, function* () {
      yield* sleep(100);
      return "ok";
    });
  });
  assert.is(value, "ok");
  assert.equal(s.reported, []);
});

test("nested timeouts expiring at the same moment throw one TimeoutError and report nothing", async () => {
  const s = virtual();
  try {
    await s.run(function* () {
      return yield* timeout(100, call(function* () {
        yield* sleep(50);
        return yield* timeout(50, sleep(200));
      }));
    });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, TimeoutError);
    assert.is((e as TimeoutError).ms, 100);
  }
  assert.equal(s.reported, []);
});

test("a value delivered in the same instant the limit expires is returned, not lost; nothing stray follows", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const sem = semaphore(1);
    yield* spawn(function* sender() {
      yield* sleep(100);
      ch.trySend("v"); // delivered just before the timer below fires
    });
    const got = yield* timeout(100, ch.receive());
    yield* sem.acquire();
    yield* spawn(function* releaser() {
      yield* sleep(100);
      sem.release();
    });
    yield* timeout(100, sem.acquire()); // the permit arrives as the limit expires
    const mine = sem.available === 0;
    yield* sleep(1); // no cancellation is left over from the race
    sem.release();
    return [got, mine, sem.available];
  });
  assert.equal(value, ["v", true, 1]);
});

test("a mailbox message arriving as a receive's timeout expires is received, not lost", async () => {
  const { value } = await runVirtual(function* () {
    const me = yield* self();
    yield* spawn(function* () {
      yield* sleep(100);
      tell(me, "important");
    });
    const got = yield* receive(undefined, { timeout: 100 });
    let later = "";
    try {
      yield* receive(undefined, { timeout: 50 });
    } catch (e) {
      later = (e as Error).name;
    }
    return [got, later];
  });
  assert.equal(value, ["important", "TimeoutError"]);
});

test("an operation that swallows every Cancelled until the scheduler stops it: the caller, not cancelled, gets the TimeoutError", async () => {
  function* worker(): Operation<never> {
    for (;;) {
      try {
        yield* sleep(10);
      } catch {
        // a catch-all that logs and goes on
      }
    }
  }
  const s = virtual();
  const caught = await s.run(function* () {
    const out: string[] = [];
    for (const op of [timeout(50, worker), timeout(100, timeout(50, worker))]) {
      try {
        yield* op;
      } catch (e) {
        out.push(`${(e as Error).name} ${(e as TimeoutError).ms} at ${s.now()}`);
      }
    }
    return out;
  });
  assert.equal(caught, ["TimeoutError 50 at 50", "TimeoutError 50 at 100"]);
  assert.equal(s.reported.map((e) => (e as Error).name), ["SwallowedCancel", "SwallowedCancel"]);
});

test("on the real clock, an operation whose first wait is a sleep as long as the limit wins, every time", async () => {
  // The limit is counted from the end of the step the operation began in, so its deadline is
  // never in an earlier 1/8 ms than the sleep's (counted from the call, it was one time in twenty).
  let lost = 0;
  await run(function* () {
    for (let i = 0; i < 150; i++) {
      try {
        yield* timeout(2, sleep(2));
        yield* timeout(1, function* () {
          yield* sleep(1);
        });
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        lost++;
      }
    }
  });
  assert.is(lost, 0);
});

test("on the real clock, a value sent by a task started before, after a sleep as long as the limit, wins every time", async () => {
  // The limit is armed where a timer task of its own would have slept: after the tasks queued
  // before it have had their step (armed as the caller's step ended, it lost one time in ten).
  let lost = 0;
  await run(function* () {
    for (let i = 0; i < 100; i++) {
      const ch = channel<number>();
      const send = function* () {
        yield* sleep(2);
        ch.trySend(i);
      };
      yield* spawn(send);
      if ((yield* select({ v: ch.receive() }, { timeout: 2 })).case !== "v") lost++;
      yield* spawn(send);
      try {
        yield* timeout(2, ch.receive());
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        lost++;
      }
    }
  });
  assert.is(lost, 0);
});

test("a limit of 0 lets the tasks ready then have a step, then fires, on the real clock as on the virtual one", async () => {
  function* zeroes(): Operation<string[]> {
    const out: string[] = [];
    try {
      yield* timeout(0, sleep(1));
      out.push("slept");
    } catch (e) {
      out.push((e as Error).name);
    }
    const ch = channel<string>();
    yield* spawn(function* () {
      yield* sleep(1);
      ch.trySend("late");
    });
    yield* spawn(function* () {
      ch.trySend("ready"); // runs before the limit of 0 fires: it had a step first
    });
    out.push((yield* select({ v: ch.receive() }, { timeout: 0 })).case);
    out.push((yield* select({ v: ch.receive() }, { timeout: 0 })).case);
    return out;
  }
  assert.equal(await run(zeroes), ["TimeoutError", "v", "timeout"]);
  assert.equal((await runVirtual(zeroes)).value, ["TimeoutError", "v", "timeout"]);
});

test("Infinity means no limit", async () => {
  const { value, now } = await runVirtual(function* (): Operation<string> {
    return yield* timeout(Infinity, function* () {
      yield* sleep(1e9);
      return "eventually";
    });
  });
  assert.is(value, "eventually");
  assert.is(now, 1e9);
});

test("bad input throws at the call site", () => {
  assert.throws(() => timeout(-5, sleep(1)), (e: unknown) => e instanceof RangeError);
  assert.throws(() => timeout(5, 5 as never), (e: unknown) => e instanceof TypeError && /timeout\(\) expects an operation/.test(String(e)));
});


test("one timeout run twice: a Cancelled from inside the second run is not the first run's TimeoutError", async () => {
  // What fired belongs to one run of the operation, not to the value: a retry or a loop runs it
  // again, and a second run that fails with a Cancelled (a cancelled child joined) stays one.
  let runs = 0;
  function* work(): Operation<string> {
    if (++runs === 1) {
      yield* sleep(100); // the first run times out
      return "slow";
    }
    const child = yield* fork(function* child() {
      yield* suspend();
    });
    yield* cancel(child);
    yield* join(child); // throws the child's Cancelled
    return "joined";
  }
  const limited = timeout(10, work);
  const { value } = await runVirtual(function* () {
    const out: string[] = [];
    for (let i = 0; i < 2; i++) {
      try {
        out.push(yield* limited);
      } catch (e) {
        out.push((e as Error).name);
      }
    }
    return out;
  });
  assert.equal(value, ["TimeoutError", "Cancelled"]);
});

test("one timeout run by two tasks at once: each run throws the TimeoutError its own alarm made", async () => {
  const errors: unknown[] = [];
  function* slow(): Operation<void> {
    try {
      yield* suspend();
    } finally {
      yield* shield(sleep(5)); // cleanup that outlasts the other run's timer
    }
  }
  const limited = timeout(10, slow);
  await runVirtual(function* () {
    const a = yield* spawn(function* () {
      try {
        yield* limited;
      } catch (e) {
        errors.push(e);
      }
    });
    yield* sleep(3);
    const b = yield* spawn(function* () {
      try {
        yield* limited;
      } catch (e) {
        errors.push(e);
      }
    });
    yield* join(a);
    yield* join(b);
  });
  assert.is(errors.length, 2);
  assert.ok(errors[0] instanceof TimeoutError && errors[1] instanceof TimeoutError);
  assert.is.not(errors[0], errors[1]);
});

/** An effect of the user's that counts how often it is described. */
class Counted extends Park<number> {
  described = 0;
  constructor(private readonly ready: boolean) {
    super();
  }
  enter(): number | typeof PARKED {
    return this.ready ? 7 : PARKED;
  }
  leave(): void {}
  override toString(): string {
    this.described++;
    return "counted()";
  }
}

test("the operation is described when the limit falls due, not at the call", async () => {
  const fast = new Counted(true);
  assert.is((await runVirtual(timeout(100, fast))).value, 7);
  assert.is(fast.described, 0);

  const slow = new Counted(false);
  const { value: error } = await runVirtual(function* () {
    try {
      return yield* timeout(10, slow);
    } catch (e) {
      return e;
    }
  });
  assert.ok(error instanceof TimeoutError);
  assert.is(error.message, "timeout(10) cut short counted() after 10 ms");
  assert.is(error.operation, "counted()");
});

test("an operation whose text throws still times out, unnamed; a function whose name cannot be read is anonymous", async () => {
  class Mute extends Counted {
    override toString(): string {
      throw new Error("no words");
    }
  }
  function* quiet(): Operation<void> {
    yield* sleep(50);
  }
  Object.defineProperty(quiet, "name", { get: () => { throw new Error("no name"); } });
  const symbolic = Object.defineProperty(function* () { yield* sleep(50); }, "name", { value: Symbol("S") });
  const cases: Array<[OperationLike<unknown>, string, string | undefined]> = [
    [new Mute(false), "timed out after 10 ms", undefined],
    [quiet, "timeout(10) cut short an anonymous function after 10 ms", "an anonymous function"],
    [symbolic, "timeout(10) cut short an anonymous function after 10 ms", "an anonymous function"],
  ];
  for (const [op, message, operation] of cases) {
    const { value: error, now } = await runVirtual(function* () {
      try {
        yield* timeout(10, op);
      } catch (e) {
        return e;
      }
    });
    assert.ok(error instanceof TimeoutError);
    assert.is(error.message, message);
    assert.is(error.operation, operation);
    assert.is(now, 10);
  }
});

test("a timeout that does not fire names nothing (no text is made for it)", async () => {
  const named = await countNaming(function* () {
    const ch = channel<number>();
    yield* fork(function* () {
      for (let i = 1; i <= 10; i++) yield* ch.send(i);
    });
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += (yield* timeout(1000, ch.receive())) ?? 0; // its alarm is set and cleared
    return sum;
  });
  assert.is(named, 0);
});

test.run();
