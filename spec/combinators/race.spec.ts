// race(): the first to settle decides; losers are cancelled and cleaned up before race returns.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  all, cancel, channel, createScheduler, fork, join, race, receive, select, semaphore, shield, sleep, suspend, tell, timeout,
  type Channel, type Operation,
} from "../../lib/index.js";
import { countNaming, runVirtual, virtual } from "../helpers.js";

function* after<T>(ms: number, value: T): Operation<T> {
  yield* sleep(ms);
  return value;
}

test("returns the first value, and the losers' finally blocks (with yielded cleanup) have run", async () => {
  const log: string[] = [];
  const { value, now } = await runVirtual(function* () {
    const v = yield* race([
      after(20, "slow"),
      after(10, "fast"),
      function* loser() {
        try {
          yield* suspend();
        } finally {
          yield* shield(sleep(5));
          log.push("loser cleaned up");
        }
      },
    ]);
    log.push(`race returned ${v}`);
    return v;
  });
  assert.is(value, "fast");
  assert.is(now, 15);
  assert.equal(log, ["loser cleaned up", "race returned fast"]);
});

test("a failure that comes first is thrown, after the others are cancelled", async () => {
  const err = new Error("first to settle");
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    try {
      yield* race([
        function* () {
          yield* sleep(5);
          throw err;
        },
        function* () {
          try {
            yield* sleep(100);
          } finally {
            log.push("other cancelled");
          }
        },
      ]);
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
  assert.equal(log, ["other cancelled"]);
});

test("an object tells which key won", async () => {
  const { value } = await runVirtual(function* () {
    const r = yield* race({ data: after(50, "payload"), timeout: sleep(10) });
    return "timeout" in r ? "timed out" : r.data;
  });
  assert.is(value, "timed out");
});

test("simultaneous finishers: the first in the run queue wins", async () => {
  const { value } = await runVirtual(function* () {
    return yield* race([after(10, "a"), after(10, "b")]);
  });
  assert.is(value, "a");
});

test("a contestant that succeeds first wins even if a loser fails at the same instant; that error is reported", async () => {
  const err = new Error("b, too late");
  const { value, s } = await runVirtual(function* () {
    return yield* race([
      after(10, "a"),
      function* b() {
        yield* sleep(10);
        throw err;
      },
    ]);
  });
  assert.is(value, "a");
  assert.equal(s.reported, [err]);
});

test("on the real clock, a race whose body is preempted before it waits still works", async () => {
  const s = createScheduler();
  const v = await s.run(function* () {
    const end = performance.now() + 10;
    while (performance.now() < end); // use up the time slice in this step
    return yield* race(Array.from({ length: 300 }, (_, i) => function* () {
      return i;
    }));
  });
  assert.is(v, 0);
});

test("two receives both ready at the start: the first wins, the second never takes its value", async () => {
  const { value } = await runVirtual(function* () {
    const a = channel<string>();
    const b = channel<string>();
    const sentB = yield* fork(function* () {
      yield* b.send("B");
      return "B's send returned";
    });
    yield* fork(() => a.send("A"));
    yield* sleep(1); // both senders wait
    const won = yield* race([a.receive(), b.receive()]);
    const later = yield* b.receive(); // B is still there
    return [won, later, yield* join(sentB)];
  });
  assert.equal(value, ["A", "B", "B's send returned"]);
});

test("two acquires both possible at the start take one permit between them", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(2);
    yield* race([sem.acquire(), sem.acquire()]);
    return sem.available;
  });
  assert.is(value, 1);
});

test("a losing receive woken in the same instant as the winner gives its value back, first in line", async () => {
  const { value } = await runVirtual(function* () {
    const a = channel<number>();
    const b = channel<number>();
    const racing = yield* fork(() => race([a.receive(), b.receive()]));
    yield* sleep(1); // both contestants wait
    yield* b.send(2); // wakes B's receiver with 2...
    yield* a.send(1); // ...and A's with 1, before either runs: B wins, A's 1 must not vanish
    const won = yield* join(racing);
    return [won, a.tryReceive(), b.tryReceive()];
  });
  assert.equal(value, [2, 1, undefined]);
});

test("a losing acquire woken in the same instant as the winner releases its permit", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(2);
    yield* sem.acquire();
    yield* sem.acquire();
    const racing = yield* fork(() => race([sem.acquire(), sem.acquire()]));
    yield* sleep(1);
    sem.release(); // both contestants get a permit before either runs
    sem.release();
    yield* join(racing);
    return sem.available; // the winner holds one; the loser's came back
  });
  assert.is(value, 1);
});

test("a race cancelled after its winner took a value gives the value back", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const racing = yield* fork(() => race([ch.receive(), sleep(100)]));
    yield* sleep(1);
    yield* ch.send("kept"); // the receive wins...
    yield* cancel(racing); // ...and the race is cancelled before it returns
    return [racing.state, ch.tryReceive()];
  });
  assert.equal(value, ["cancelled", "kept"]);
});

test("a losing select with a timeout, timeout(receive) or nested race gives back what it took", async () => {
  const { value } = await runVirtual(function* () {
    const out: unknown[] = [];
    for (const loser of [
      (ch: Channel<number>) => select({ v: ch.receive() }, { timeout: 1000 }),
      (ch: Channel<number>) => timeout(1000, ch.receive()),
      (ch: Channel<number>) => race([ch.receive(), sleep(1000)]),
      (ch: Channel<number>) => all([ch.receive()]),
    ]) {
      const ch = channel<number>();
      const racing = yield* fork(() => race([sleep(10), loser(ch)]));
      yield* sleep(10); // the sleep wins in the instant a value arrives
      ch.trySend(7);
      yield* join(racing);
      out.push(ch.tryReceive());
    }
    return out;
  });
  assert.equal(value, [7, 7, 7, 7]);
});

test("values given back keep their order in the channel", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(3);
    const racing = yield* fork(() => race([ch.receive(), ch.receive(), ch.receive()]));
    yield* sleep(1); // all three wait...
    for (const v of [1, 2, 3]) ch.trySend(v); // ...and each gets a value in the same instant
    return [yield* join(racing), ch.tryReceive(), ch.tryReceive(), ch.tryReceive()];
  });
  assert.equal(value, [1, 2, 3, undefined]);
});

test("receive() in a contestant reads the racer's mailbox; a message it lost goes back", async () => {
  const s = virtual();
  const value = await s.run(function* () {
    const t = yield* fork(function* () {
      const first = yield* race([receive(), sleep(100)]);
      yield* sleep(10);
      const second = yield* race([sleep(20), receive()]); // "lost" arrives as the sleep wins
      const third = yield* receive();
      return [first, second, third];
    });
    yield* sleep(1);
    tell(t, "hello");
    yield* sleep(30); // at 31, when the race's sleep ends too
    tell(t, "lost");
    return yield* join(t);
  });
  assert.equal(value, ["hello", undefined, "lost"]);
});

test("bad input throws at the call site", () => {
  assert.throws(() => race([]), (e: unknown) => e instanceof RangeError && /at least one/.test(String(e)));
  assert.throws(() => race("ab" as never), (e: unknown) => e instanceof TypeError);
});

test("a race whose losers wait on skein's effects names no task (their cancel makes no text)", async () => {
  const named = await countNaming(function* () {
    const ch = channel<number>();
    yield* fork(function* () {
      for (let i = 1; i <= 10; i++) yield* ch.send(i);
    });
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += (yield* race([ch.receive(), sleep(5)])) ?? 0; // the sleep loses
    const idle = channel<number>();
    yield* race([idle.receive(), sleep(1)]); // the receive loses
    return sum;
  });
  assert.is(named, 0);
});

test.run();
