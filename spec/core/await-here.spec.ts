// A wait on a promise begun inside its `yield*` (awaitHere): `yield* call(asyncFn)` and
// `yield* wait(promise)` enter the wait in their own first step, as a channel's receive does
// (park-here.spec.ts), and the step loop only confirms it. These are the ways user code can do
// something else in between, and what each must keep: the function runs once, the value arrives
// once, nothing stays in flight, and a cancellation is not waited out.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { call, channel, createScheduler, fork, inspect, join, map, shield, sleep, spawn, wait, type Channel, type Operation, type Task } from "../../lib/index.js";
import { hostTurn, runVirtual, virtual } from "../helpers.js";

const waiters = (ch: Channel<any>) => (ch as unknown as { receivers: { size: number } }).receivers.size;

/** An async function that counts its calls and answers after a virtual millisecond's wait. */
function counted() {
  const calls = { n: 0 };
  const fetchUser = async (id: number) => {
    calls.n++;
    await Promise.resolve();
    return `user ${id}`;
  };
  return { calls, fetchUser };
}

const A = suite("a wait on a promise begun inside its yield*");

A("call(asyncFn) and wait(promise) in a loop: each function runs once, each value arrives in order", async () => {
  const { calls, fetchUser } = counted();
  const { value } = await runVirtual(function* () {
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(yield* call(fetchUser, i));
    for (let i = 3; i < 5; i++) got.push(yield* wait(fetchUser(i)));
    return got;
  });
  assert.equal(value, ["user 0", "user 1", "user 2", "user 3", "user 4"]);
  assert.is(calls.n, 5);
});

A("a task waiting on an async call is shown waiting on that call", async () => {
  const s = virtual();
  let release!: (v: string) => void;
  const fetchUser = () => new Promise<string>((ok) => (release = ok));
  const t = s.run(function* main() {
    return yield* call(fetchUser);
  });
  await hostTurn();
  assert.is(inspect(s).find((i) => i.task === t)?.waitsOn, "call(fetchUser)");
  release("ada");
  assert.is(await t, "ada");
});

A("a wrapper that steps an async call by hand and hands on what it got: the function runs once", async () => {
  const { calls, fetchUser } = counted();
  const { value } = await runVirtual(function* () {
    const it = call(fetchUser, 1)[Symbol.iterator]();
    let r = it.next();
    while (r.done !== true) r = it.next(yield r.value as never);
    return r.value;
  });
  assert.is(value, "user 1");
  assert.is(calls.n, 1);
});

A("a wrapper that steps an async call by hand, sleeps, then hands the call on: the function runs once, its value arrives", async () => {
  const { calls, fetchUser } = counted();
  const { value } = await runVirtual(function* () {
    const effect = call(fetchUser, 2);
    const it = effect[Symbol.iterator]();
    const first = it.next(); // the function runs here, and its wait begins
    yield* sleep(5); // something else first: the wait is undone, its promise kept on the call
    const got = yield first.value as never; // handed on: awaited, not called again
    return [got, it.next(got)];
  });
  assert.equal(value, ["user 2", { done: true, value: "user 2" }]);
  assert.is(calls.n, 1);
});

A("the same with wait(promise): the promise's value arrives when it is handed on", async () => {
  const { value } = await runVirtual(function* () {
    const w = wait(Promise.resolve("late"));
    const first = w[Symbol.iterator]().next();
    yield* sleep(5);
    return yield first.value as never;
  });
  assert.is(value, "late");
});

A("a wrapper that steps an async call by hand and gives up: nothing stays in flight, the promise settling later wakes nothing", async () => {
  let release!: (v: string) => void;
  const pending = new Promise<string>((ok) => (release = ok));
  const { value, now } = await runVirtual(function* () {
    const t = yield* fork(function* () {
      call(() => pending)[Symbol.iterator]().next(); // would wait: abandoned
      return "gave up";
    });
    const ended = yield* join(t);
    release("too late");
    yield* sleep(1000); // the virtual clock jumps only if no promise is counted in flight
    return [ended, t.state];
  });
  assert.equal(value, ["gave up", "completed"]);
  assert.is(now, 1000);
});

A("a task that cancels itself in the synchronous part of an async function it calls gets Cancelled at once, not after the promise", async () => {
  const s = virtual();
  let self!: Task<unknown>;
  const t = s.run(function* () {
    self = yield* fork(function* () {
      yield* sleep(1);
      yield* call(async () => {
        void self.cancel("no longer wanted");
        await new Promise(() => {}); // never settles
      });
      return "went on";
    });
    yield* sleep(5);
    return self.state;
  });
  const outcome = await Promise.race([t, (async () => {
    for (let i = 0; i < 50; i++) await hostTurn();
    return "still waiting on the promise";
  })()]);
  assert.is(outcome, "cancelled");
});

A("a function that steps a receive by hand, then returns a promise: the receive is undone, the promise awaited", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const got = yield* call(() => {
      ch.receive()[Symbol.iterator]().next(); // enters a wait for this task, never handed on
      return Promise.resolve("awaited");
    });
    return [got, waiters(ch)];
  });
  assert.equal(value, ["awaited", 0]);
});

A("a wrapper that yields the step's result itself (`yield r`), for a call and a wait(promise): both values arrive", async () => {
  function* wrap<T>(inner: Iterator<unknown, T>): Generator<never, T, unknown> {
    let r = inner.next();
    while (r.done !== true) r = inner.next(yield r as never); // the result object itself, not its value
    return r.value;
  }
  const { value } = await runVirtual(function* () {
    const a = yield* wrap((function* () {
      return yield* call(async () => "v");
    })());
    const b = yield* wrap((function* () {
      return yield* wait(Promise.resolve("w"));
    })());
    return [a, b];
  });
  assert.equal(value, ["v", "w"]);
});

A("a frozen call (a shared constant) is called once per performance, in a map that steps each item's first step itself, and by a wrapper that sleeps first", async () => {
  let pings = 0;
  const ping = async () => {
    pings++;
    await null;
    return "pong";
  };
  const PING = Object.freeze(call(ping));
  const { value } = await runVirtual(function* () {
    const all = yield* map([1, 2, 3], function* () {
      return yield* PING;
    }, { concurrency: 1 });
    const before = pings;
    const first = PING[Symbol.iterator]().next(); // its wait begins, on a frozen effect
    yield* sleep(5); // undone: kept aside, the effect takes nothing
    const got = yield first.value as never;
    return [all, before, got, pings];
  });
  assert.equal(value, [["pong", "pong", "pong"], 3, "pong", 4]);
});

A("a lazy thenable (a query builder that runs on each then) is run once per performance: in map, by call and wait, and by a wrapper that sleeps first", async () => {
  let runs = 0;
  const query = (sql: string) => ({
    then(ok: (v: string) => void, fail: (e: unknown) => void) {
      runs++;
      return Promise.resolve(sql).then(ok, fail);
    },
  });
  const { value } = await runVirtual(function* () {
    const out: unknown[] = [];
    out.push(yield* map([1, 2, 3], function* (id) {
      return yield* call(query, `q${id}`);
    }, { concurrency: 1 }), runs);
    runs = 0;
    out.push(yield* map([4, 5], function* (id) {
      return yield* wait(query(`q${id}`) as PromiseLike<string>);
    }, { concurrency: 1 }), runs);
    runs = 0;
    const first = call(query, "q9")[Symbol.iterator]().next();
    yield* sleep(1);
    out.push(yield first.value as never, runs);
    return out;
  });
  assert.equal(value, [["q1", "q2", "q3"], 3, ["q4", "q5"], 2, "q9", 1]);
});

A("a call stepped by hand and abandoned, whose promise rejects later: the rejection is reported, never lost", async () => {
  const reported: string[] = [];
  const s = createScheduler({ clock: "virtual", onError: (e) => reported.push(String(e)) });
  const value = await s.run(function* () {
    call(async () => {
      await null;
      throw new Error("lost error");
    })[Symbol.iterator]().next();
    yield* sleep(1);
    return "done";
  });
  assert.is(value, "done");
  assert.equal(reported, ["Error: lost error"]);
});

A("a thenable whose then steps a receive by hand while its task begins the wait: nothing is received for the task, nothing lost", async () => {
  const ch = channel<string>(10);
  let thens = 0;
  const stepped: unknown[] = [];
  const thenable = {
    then(ok: (v: string) => void) {
      thens++;
      const r = ch.receive()[Symbol.iterator]().next();
      stepped.push(r.done === true ? r.value : "not performed");
      setTimeout(ok, 0, "done");
    },
  };
  const { value } = await runVirtual(function* () {
    yield* ch.send("a");
    yield* ch.send("b");
    const got = yield* wait(thenable as unknown as PromiseLike<string>);
    const left: string[] = [];
    while (ch.size > 0) left.push((yield* ch.receive())!);
    return [got, thens, left];
  });
  assert.equal(value, ["done", 1, ["a", "b"]]);
  assert.equal(stepped, ["not performed"]);
});

A("a task whose wrapper cancels it before handing a begun call on, then hands it on in a shield: the function ran once, its rejection arrives", async () => {
  const reported: string[] = [];
  const s = createScheduler({ clock: "virtual", onError: (e) => reported.push(String(e)) });
  let runs = 0;
  const charge = async (cents: number) => {
    runs++;
    await null;
    if (runs === 1) throw new Error(`card declined (${cents})`);
    return `charged ${cents}`;
  };
  const value = await s.run(function* () {
    let me!: Task<unknown>;
    let got: unknown;
    me = yield* spawn(function* () {
      const first = call(charge, 500)[Symbol.iterator]().next(); // charge runs, its wait begins
      void me.cancel("done with it"); // the wrapper's own code cancels its task
      try {
        yield* sleep(1);
      } finally {
        try {
          got = yield* shield(function* () {
            return yield first.value as never;
          });
        } catch (e) {
          got = `threw ${(e as Error).message}`;
        }
      }
    });
    yield* sleep(10);
    return [got, runs, me.state];
  });
  assert.equal(value, ["threw card declined (500)", 1, "cancelled"]);
  assert.equal(reported, []); // taken up again before it rejected: thrown there, not reported
});

A("one frozen call yielded by two wrappers that each sleep before handing it on: each task gets its own call's value, the function runs twice", async () => {
  let runs = 0;
  const ping = async () => {
    const n = ++runs;
    await null;
    return `pong ${n}`;
  };
  const PING = Object.freeze(call(ping));
  function* traced<T>(op: () => Generator<unknown, T, unknown>, ms: number): Operation<T> {
    const it = op();
    let r = it.next();
    while (r.done !== true) {
      yield* sleep(ms);
      r = it.next(yield r.value as never);
    }
    return r.value;
  }
  const { value } = await runVirtual(function* () {
    const a = yield* fork(traced(function* () {
      return yield* PING;
    }, 1));
    const b = yield* fork(traced(function* () {
      return yield* PING;
    }, 2));
    return [yield* join(a), yield* join(b), runs];
  });
  assert.equal(value, ["pong 1", "pong 2", 2]);
});

A("records on a shared call are each task's own: a task cancelled while running calls nothing for another's record, and another task's fallback promise does not drop it", async () => {
  const calls: string[] = [];
  let who = "";
  let b!: Task<unknown>;
  const charge = async () => {
    const me = who;
    calls.push(me);
    if (me === "B") void b.cancel("B stops"); // its own function cancels B: no wait begins inside the yield*
    await null;
    return `charged for ${me}`;
  };
  const E = call(charge);
  const { value } = await runVirtual(function* () {
    let aGot: unknown;
    const a = yield* fork(function* () {
      who = "A";
      const first = E[Symbol.iterator]().next(); // A's wait begins
      yield* sleep(1); // A goes on: its record is kept on E
      yield* sleep(100);
      aGot = yield first.value as never; // and taken up
    });
    yield* sleep(5);
    let c!: Task<unknown>;
    let cGot = "";
    c = yield* spawn(function* () {
      void c.cancel("stop"); // cancelled while running: its next effect throws
      who = "C";
      try {
        cGot = `got ${yield E}`;
      } catch (e) {
        cGot = `threw ${(e as Error).name}`;
      }
    });
    b = yield* spawn(function* () {
      who = "B";
      yield* E;
    });
    yield* sleep(10);
    yield* join(a);
    return [aGot, cGot, b.state];
  });
  assert.equal(value, ["charged for A", "threw Cancelled", "cancelled"]);
  assert.equal(calls, ["A", "B"]);
});

A("a thenable whose then cancels its own task, the call handed on later in a shield: then and the function ran once", async () => {
  let runs = 0;
  let thens = 0;
  let me!: Task<unknown>;
  const f = () => {
    runs++;
    const p = Promise.resolve("ok");
    return {
      then(ok: (v: string) => void, fail: (e: unknown) => void) {
        thens++;
        void me.cancel("in then");
        return p.then(ok, fail);
      },
    };
  };
  const { value } = await runVirtual(function* () {
    let got: unknown;
    me = yield* spawn(function* () {
      const first = call(f)[Symbol.iterator]().next();
      try {
        yield* sleep(1);
      } finally {
        got = yield* shield(function* () {
          return yield first.value as never;
        });
      }
    });
    yield* sleep(5);
    return [got, runs, thens, me.state];
  });
  assert.equal(value, ["ok", 1, 1, "cancelled"]);
});

A.run();
