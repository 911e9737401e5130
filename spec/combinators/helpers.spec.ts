// The helper tasks all(), race(), timeout() and map() run your operations in: whose mailbox they
// read at any depth; what a cancel leaves of one waiting on a plain wait of skein's, which it
// performs itself and is returned from (no Cancelled made); and that anything else still runs in
// a call of its own, a scope for what it starts and where an error leaving its wait is seen.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  action, all, allSettled, channel, createScheduler, ensure, fork, inspect, map, Park, PARKED, race, receive, self, semaphore, sleep, spawn, tell, timeout,
  type Operation, type Task,
} from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

function* failAfter(ms: number): Operation<never> {
  yield* sleep(ms);
  throw new Error("sibling failed");
}

test("receive() reads the caller's mailbox from a member of all in a contestant of race in an item of map", async () => {
  const { value } = await runVirtual(function* () {
    const me = yield* self();
    yield* spawn(function* () {
      yield* sleep(5);
      tell(me, "a");
      tell(me, "b");
    });
    const got = yield* map(
      [0],
      function* () {
        // receive() as the operation itself, and inside a generator of the user's.
        return yield* race([all([receive(), (function* () { return yield* receive(); })()]), sleep(100)]);
      },
      { concurrency: Infinity },
    );
    return got;
  });
  assert.equal(value, [["a", "b"]]);
});

test("a member of all waiting in a receive, cancelled when a sibling fails: it leaves the queue, the next send is the next receiver's", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    let error: unknown;
    try {
      yield* all([ch.receive(), failAfter(5)]);
    } catch (e) {
      error = e;
    }
    const next = yield* spawn(() => ch.receive());
    yield* sleep(1);
    yield* ch.send("for the next"); // would block forever if the dead member still stood in line
    return { error: (error as Error).message, next: yield* next };
  });
  assert.equal(value, { error: "sibling failed", next: "for the next" });
});

test("a semaphore's permit and a channel's value taken by members that finished go back when all fails", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(1);
    const ch = channel<number>(2);
    yield* ch.send(1);
    yield* ch.send(2);
    try {
      yield* all([sem.acquire(), ch.receive(), failAfter(5)]);
    } catch {
      /* the sibling's failure */
    }
    return { available: sem.available, values: [yield* ch.receive(), yield* ch.receive()] };
  });
  assert.equal(value, { available: 1, values: [1, 2] });
});

test("a wait of the user's own (a Park) in a member of all still runs in a call: a sibling's failure makes it leave, and all throws that failure", async () => {
  const waiting: Task[] = [];
  class Gate extends Park<string> {
    enter(task: Task): typeof PARKED {
      waiting.push(task);
      return PARKED;
    }
    override leave(task: Task): void {
      waiting.splice(waiting.indexOf(task), 1);
    }
  }
  const { value } = await runVirtual(function* () {
    try {
      yield* all([new Gate(), failAfter(5)]);
      return "returned";
    } catch (e) {
      return (e as Error).message;
    }
  });
  assert.is(value, "sibling failed");
  assert.is(waiting.length, 0);
});

// What a call gives an operation that is not one of skein's plain waits (a review's repros):
// a scope for what it starts, and a place where an error from leaving its wait is seen.
test("race: a loser whose teardown throws is reported; the winner's value is returned, not lost", async () => {
  const ch = channel<string>(1);
  const bad = action<never>(() => () => {
    throw new Error("teardown failed");
  });
  const { value, s } = await runVirtual(function* () {
    yield* spawn(function* () {
      yield* sleep(5);
      yield* ch.send("precious");
    });
    return yield* race([bad, ch.receive()]);
  });
  assert.is(value, "precious");
  assert.is(s.reported.length, 1);
});

test("race: a loser Park whose leave throws is reported, the race returns", async () => {
  class BadPark extends Park<void> {
    enter(): typeof PARKED {
      return PARKED;
    }
    override leave(): void {
      throw new Error("leave failed");
    }
  }
  const { value, s } = await runVirtual(function* () {
    yield* race([new BadPark(), sleep(5)]);
    return "ok";
  });
  assert.is(value, "ok");
  assert.is(s.reported.length, 1);
});

test("allSettled: a fork whose child fails, an ensure whose cleanup throws, are each recorded as rejected", async () => {
  const { value } = await runVirtual(function* () {
    const a = yield* allSettled([
      fork(function* () {
        yield* sleep(1);
        throw new Error("child failed");
      }),
      sleep(3),
    ]);
    const b = yield* allSettled([
      ensure(() => {
        throw new Error("cleanup failed");
      }),
      sleep(3),
    ]);
    return [...a, ...b].map((x) => (x.status === "rejected" ? (x.reason as Error).message : x.status));
  });
  assert.equal(value, ["child failed", "fulfilled", "cleanup failed", "fulfilled"]);
});

test("race: fork(op) as a contestant settles when the forked task has finished (its call waits for it)", async () => {
  const { value, now } = await runVirtual(function* () {
    const r: unknown = yield* race([
      fork(function* () {
        yield* sleep(50);
        return "slow";
      }),
      sleep(20),
    ]);
    return r === undefined ? "sleep won" : `fork won with ${(r as Task).state}`;
  });
  assert.is(value, "sleep won");
  assert.is(now, 20);
});

test("losers of a decided race waiting on skein's effects end cancelled, and leave nothing armed or enlisted", async () => {
  const s = createScheduler({ clock: "virtual" });
  const ch = channel<number>();
  const permits = semaphore(1);
  const value = await s.run(function* () {
    const me = yield* self();
    yield* permits.acquire(); // none left: a loser waits for one
    yield* spawn(function* () {
      yield* sleep(10);
      yield* ch.send(7);
      tell(me, "after the race");
      permits.release();
    });
    // Four losers, each waiting on one of skein's effects: a timer, a mailbox, a semaphore, a channel.
    const r = yield* race([sleep(1000), receive(), permits.acquire(), ch.receive()]);
    yield* sleep(1);
    return { r, message: yield* receive(), available: permits.available, tasks: inspect(s).flatMap(function walk(t): string[] { return [t.name, ...t.children.flatMap(walk)]; }) };
  });
  assert.equal(value, { r: 7, message: "after the race", available: 1, tasks: ["anonymous"] }); // no loser left
  assert.is(s.now(), 11, "the loser's sleep(1000) left no timer for the clock to wait for");
  // The channel has no receiver left: a send now would wait (a dead loser would have taken it).
  const sent = await s.run(function* () {
    return yield* race([ch.send(1), sleep(5)]);
  });
  assert.is(sent, undefined);
  assert.is(s.now(), 16);
});

test("a timeout whose operation waited and finished first: its timer is gone, and one that fires still cuts the operation short", async () => {
  const { value, now } = await runVirtual(function* () {
    const ch = channel<string>();
    yield* spawn(function* () {
      yield* sleep(5);
      yield* ch.send("in time");
    });
    const first = yield* timeout(1000, ch.receive());
    let late: unknown;
    try {
      yield* timeout(20, ch.receive());
    } catch (e) {
      late = e;
    }
    return { first, late: (late as Error).name };
  });
  assert.equal(value, { first: "in time", late: "TimeoutError" });
  assert.is(now, 25, "the first timeout's timer did not keep the clock running to 1000");
});

test("helpers are named by their place: a list's index, a sparse list's or an extra property's key (a review's repro)", async () => {
  const s = createScheduler({ clock: "virtual" });
  const sparse: Array<Operation<void>> = [];
  sparse[1] = sleep(5);
  sparse[3] = sleep(5);
  const extra = Object.assign([sleep(5)], { extra: sleep(5) });
  let names: string[] = [];
  await s.run(function* () {
    yield* all([
      all(sparse),
      race(extra),
      all([sleep(5), sleep(5)]),
      (function* () {
        yield* sleep(1);
        names = inspect(s).flatMap(function walk(t): string[] { return [t.name, ...t.children.flatMap(walk)]; });
      })(),
    ]);
  });
  for (const n of ["all[1]", "all[3]", "race[0]", "race[extra]", "all[0]"]) assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
  assert.not.ok(names.includes("race[1]"), names.join(", "));
});

test("a function whose name is not a string is named by its place, and runs (a review's repro)", async () => {
  const odd = (name: unknown) => {
    const f = function* (): Operation<number> {
      yield* sleep(1);
      return 1;
    };
    return Object.defineProperty(f, "name", { value: name });
  };
  const s = createScheduler({ clock: "virtual" });
  let names: string[] = [];
  const value = await s.run(function* () {
    return yield* all([
      all([odd(42), odd(Symbol("s"))]),
      race([odd({ toString: () => { throw new Error("no words"); } })]),
      (function* () {
        names = inspect(s).flatMap(function walk(t): string[] { return [t.name, ...t.children.flatMap(walk)]; });
        return 0;
      })(),
    ]);
  });
  assert.equal(value, [[1, 1], 1, 0]);
  for (const n of ["all[0]", "all[1]", "race[0]"]) assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
});

test.run();
