// select(): exactly one case fires, fairly when several are ready; the others leave no trace.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cancel, channel, ChannelClosedError, createScheduler, fork, join, Receive, select, Send, sleep, spawn, type Channel } from "../../lib/index.js";
import { countNaming, runVirtual } from "../helpers.js";

const queued = (...chs: Channel<any>[]) =>
  chs.map((ch) => {
    const c = ch as unknown as { receivers: { size: number }; senders: { size: number } };
    return c.receivers.size + c.senders.size;
  });

const S = suite("select");

S("takes the ready case and gives its value", async () => {
  const { value } = await runVirtual(function* () {
    const a = channel<number>(1);
    const b = channel<string>(1);
    yield* b.send("hi");
    return yield* select({ a: a.receive(), b: b.receive() });
  });
  assert.equal(value, { case: "b", value: "hi" });
});

S("waits for the first case to become ready; the others leave no trace", async () => {
  const { value } = await runVirtual(function* () {
    const a = channel<number>();
    const b = channel<number>();
    const out = channel<number>();
    yield* fork(function* () {
      yield* sleep(10);
      yield* b.send(2);
    });
    const r = yield* select({ a: a.receive(), b: b.receive(), out: out.send(5) });
    return [r, queued(a, b, out), out.tryReceive()];
  });
  assert.equal(value, [{ case: "b", value: 2 }, [0, 0, 0], undefined]);
});

S("a send case completes when a receiver arrives", async () => {
  const { value } = await runVirtual(function* () {
    const out = channel<string>();
    const other = channel<string>();
    const receiver = yield* fork(function* () {
      yield* sleep(3);
      return yield* out.receive();
    });
    const r = yield* select({ out: out.send("payload"), other: other.receive() });
    return [r, yield* join(receiver), queued(other)];
  });
  assert.equal(value, [{ case: "out" }, "payload", [0]]);
});

S("with a timeout that fires, the result is the timeout and no channel keeps a registration", async () => {
  const { value, now } = await runVirtual(function* () {
    const a = channel<number>();
    const b = channel<number>(1, { overflow: "wait" });
    yield* b.send(1); // b is full, so a send case on it waits
    const r = yield* select({ a: a.receive(), b: b.send(2) }, { timeout: 100 });
    return [r, queued(a, b), b.size];
  });
  assert.equal(value, [{ case: "timeout" }, [0, 0], 1]);
  assert.is(now, 100);
});

S("a case that fires before the timeout cancels the timer", async () => {
  const { value, now } = await runVirtual(function* () {
    const a = channel<number>();
    yield* spawn(function* () {
      yield* sleep(20);
      yield* a.send(9);
    });
    return yield* select({ a: a.receive() }, { timeout: 1000 });
  });
  assert.equal(value, { case: "a", value: 9 });
  assert.is(now, 20);
});

S("a select served before its timeout names no task: its timer's cancel makes no Cancelled", async () => {
  const named = await countNaming(function* () {
    const a = channel<number>();
    yield* fork(function* () {
      for (let i = 1; i <= 10; i++) {
        yield* sleep(1); // each select waits, its timer task sleeping, then is served
        yield* a.send(i);
      }
    });
    let sum = 0;
    for (let i = 0; i < 10; i++) {
      const r = yield* select({ a: a.receive() }, { timeout: 1000 });
      if (r.case === "a") sum += r.value ?? 0;
    }
    return sum;
  });
  assert.is(named, 0);
});

S("with default, nothing waits when no case is ready", async () => {
  const { value } = await runVirtual(function* () {
    const a = channel<number>();
    const r1 = yield* select({ a: a.receive() }, { default: true });
    const b = channel<number>(1);
    yield* b.send(3);
    const r2 = yield* select({ b: b.receive() }, { default: true });
    return [r1, r2, queued(a)];
  });
  assert.equal(value, [{ case: "default" }, { case: "b", value: 3 }, [0]]);
});

S("when several cases are ready, each can be chosen; the virtual clock makes the choice reproducible", async () => {
  async function choices(): Promise<string[]> {
    const { value } = await runVirtual(function* () {
      const a = channel<number>(100);
      const b = channel<number>(100);
      const picked: string[] = [];
      for (let i = 0; i < 60; i++) {
        a.trySend(i);
        b.trySend(i);
        picked.push((yield* select({ a: a.receive(), b: b.receive() })).case);
        a.tryReceive();
        b.tryReceive();
      }
      return picked;
    });
    return value;
  }
  const first = await choices();
  assert.equal(await choices(), first);
  const as = first.filter((c) => c === "a").length;
  assert.ok(as > 10 && as < 50, `chose a ${as} times out of 60`);
});

S("a parked select whose two sends one receiver could complete picks either, at random (Go's TestPseudoRandomSend)", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const counts = [0, 0];
    for (let i = 0; i < 100; i++) {
      const sender = yield* fork(function* () {
        const r = yield* select({ zero: ch.send(0), one: ch.send(1) }); // parks: no receiver yet
        return r.case;
      });
      yield* sleep(1); // the select is waiting...
      const v = (yield* ch.receive())!; // ...when one receiver comes that could take either
      counts[v]!++;
      assert.is(yield* join(sender), v === 0 ? "zero" : "one");
    }
    return counts;
  });
  assert.ok(value[0]! > 25 && value[1]! > 25, `sends chosen ${value[0]} / ${value[1]} times of 100`);
});

S("a parked select whose two receives one sender could complete picks either, at random", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 100; i++) {
      const receiver = yield* fork(function* () {
        return (yield* select({ a: ch.receive(), b: ch.receive() })).case;
      });
      yield* sleep(1);
      yield* ch.send("x");
      counts[yield* join(receiver)]!++;
    }
    return counts;
  });
  assert.ok(value.a! > 25 && value.b! > 25, `receives chosen ${value.a} / ${value.b} times of 100`);
});

S("a receive case on an ended channel fires with undefined; a send case on a closed one throws", async () => {
  const { value } = await runVirtual(function* () {
    const done = channel<number>();
    done.close();
    const r = yield* select({ done: done.receive() });
    let thrown = "";
    try {
      yield* select({ out: done.send(1) });
    } catch (e) {
      thrown = e instanceof ChannelClosedError ? "closed" : String(e);
    }
    const waiting = channel<number>();
    const waiter = yield* fork(function* () {
      try {
        yield* select({ out: waiting.send(1) });
      } catch (e) {
        return e instanceof ChannelClosedError;
      }
    });
    yield* sleep(1);
    waiting.close();
    return [r, thrown, yield* join(waiter)];
  });
  assert.equal(value, [{ case: "done", value: undefined }, "closed", true]);
});

S("a cancelled select leaves no registration behind", async () => {
  const { value } = await runVirtual(function* () {
    const a = channel<number>();
    const b = channel<number>();
    const t = yield* fork(function* () {
      yield* select({ a: a.receive(), b: b.send(1) });
    });
    yield* sleep(1);
    const during = queued(a, b);
    yield* cancel(t);
    return [during, queued(a, b)];
  });
  assert.equal(value, [[1, 1], [0, 0]]);
});

S("two selects on one channel: one value goes to exactly one of them", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const other = channel<number>();
    const a = yield* fork(function* () {
      return yield* select({ x: ch.receive(), y: other.receive() }, { timeout: 50 });
    });
    const b = yield* fork(function* () {
      return yield* select({ x: ch.receive() }, { timeout: 50 });
    });
    yield* sleep(1);
    yield* ch.send(1);
    return [yield* join(a), yield* join(b)];
  });
  assert.equal(value, [{ case: "x", value: 1 }, { case: "timeout" }]);
});

S("one select can be yielded by several tasks at once", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const next = select({ v: ch.receive() });
    const a = yield* fork(() => next);
    const b = yield* fork(() => next);
    yield* sleep(1);
    ch.trySend(1);
    ch.trySend(2);
    return [yield* join(a), yield* join(b), queued(ch)];
  });
  assert.equal(value, [{ case: "v", value: 1 }, { case: "v", value: 2 }, [0]]);
});

S("bad input fails at the call", () => {
  const ch = channel<number>();
  assert.throws(() => select([ch.receive()] as never), (e: unknown) => e instanceof TypeError && /an object of cases/.test(String(e)));
  assert.throws(() => select({ a: 5 } as never), (e: unknown) => e instanceof TypeError && /case "a" must be ch.receive\(\) or ch.send\(value\), got 5/.test(String(e)));
  assert.throws(() => select({ timeout: ch.receive() }, { timeout: 5 }), (e: unknown) => e instanceof TypeError && /clashes/.test(String(e)));
  assert.throws(() => select({ a: ch.receive() }, { timeout: -1 }), RangeError);
});

S("on the real clock a select with a timeout really waits", async () => {
  const s = createScheduler();
  const t0 = performance.now();
  const r = await s.run(function* () {
    return yield* select({ a: channel<number>().receive() }, { timeout: 20 });
  });
  assert.equal(r, { case: "timeout" });
  assert.ok(performance.now() - t0 >= 19);
});

S("a subclass of Send or Receive with a field of its own named sends still selects as what it is", async () => {
  // select tells a send from a receive by a flag on the prototypes: a user's field cannot clash with it.
  class CountingSend<T> extends Send<T> {
    sends = 0;
  }
  class LoggedReceive<T> extends Receive<T> {
    sends = "log";
  }
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const a = yield* spawn(function* () {
      return yield* select({ out: new CountingSend(ch, 7) });
    });
    const b = yield* spawn(function* () {
      return yield* select({ r: new LoggedReceive(ch), s: ch.send(5) }, { timeout: 5 });
    });
    return [yield* join(a), yield* join(b)];
  });
  assert.equal(value, [{ case: "out" }, { case: "r", value: 7 }]);
});

S.run();
