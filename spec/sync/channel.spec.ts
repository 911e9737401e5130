// Channels: rendezvous and buffered delivery, overflow policies, FIFO waiters, close, cancels.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  all, cancel, channel, ChannelClosedError, createScheduler, fork, isCancelled, join, map, PARKED, race, run, select, self, sleep, spawn, suspend,
  timeout, type Channel, type Operation, type Task,
} from "../../lib/index.js";
import { runVirtual, virtual } from "../helpers.js";

const internals = (ch: Channel<any>) => ch as unknown as { receivers: { size: number }; senders: { size: number } };

const C = suite("channel");

C("a rendezvous send waits for its receiver, and the value arrives", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const log: string[] = [];
    yield* fork(function* () {
      yield* sleep(50);
      log.push(`received ${yield* ch.receive()} at 50`);
    });
    yield* ch.send("hello");
    log.push("send returned");
    return log;
  });
  assert.equal(value, ["received hello at 50", "send returned"]);
});

C("the loop form reads every value, then stops at the end", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(2);
    yield* spawn(function* () {
      for (let i = 0; i < 5; i++) yield* ch.send(i);
      ch.close();
    });
    const got: number[] = [];
    let v;
    while ((v = yield* ch.receive()) !== undefined) got.push(v);
    return got;
  });
  assert.equal(value, [0, 1, 2, 3, 4]);
});

C("a buffered channel takes sends without waiting until it is full", async () => {
  const s = virtual();
  const value = await s.run(function* () {
    const ch = channel<number>(2);
    const log: string[] = [];
    yield* ch.send(1);
    yield* ch.send(2);
    log.push(`two sends at ${s.now()}`);
    yield* fork(function* () {
      yield* sleep(10);
      log.push(`took ${yield* ch.receive()}`);
    });
    yield* ch.send(3); // waits for room
    log.push(`third send at ${s.now()}`);
    return [log, ch.size];
  });
  assert.equal(value, [["two sends at 0", "took 1", "third send at 10"], 2]);
});

C("overflow drop discards the new value, slide the oldest; both count what they drop", async () => {
  const drop = channel<number>(2, { overflow: "drop" });
  const slide = channel<number>(2, { overflow: "slide" });
  const { value } = await runVirtual(function* () {
    for (let i = 1; i <= 4; i++) {
      yield* drop.send(i);
      yield* slide.send(i);
    }
    return [drop.tryReceive(), drop.tryReceive(), slide.tryReceive(), slide.tryReceive(), drop.dropped, slide.dropped];
  });
  assert.equal(value, [1, 2, 3, 4, 2, 2]);
});

C("waiting receivers are served first in, first out: one value wakes one waiter", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const got: string[] = [];
    for (const name of ["a", "b", "c"]) {
      yield* fork(function* () {
        got.push(`${name}:${yield* ch.receive()}`);
      });
    }
    yield* sleep(1);
    yield* ch.send("1");
    yield* ch.send("2");
    yield* sleep(1);
    const pending = internals(ch).receivers.size;
    yield* ch.send("3");
    return [got, pending];
  });
  assert.equal(value, [["a:1", "b:2", "c:3"], 1]);
});

C("a waiting receiver owns the next value before any tryReceive", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(5);
    const waiter = yield* fork(function* () {
      return yield* ch.receive();
    });
    yield* sleep(1);
    const accepted = ch.trySend(7); // as a callback would
    const stolen = ch.tryReceive();
    return [accepted, stolen, yield* join(waiter)];
  });
  assert.equal(value, [true, undefined, 7]);
});

C("trySend and tryReceive never wait", async () => {
  const ch = channel<number>(1);
  assert.is(ch.trySend(1), true);
  assert.is(ch.trySend(2), false); // full
  assert.is(ch.tryReceive(), 1);
  assert.is(ch.tryReceive(), undefined);
  const rendezvous = channel<number>();
  assert.is(rendezvous.trySend(1), false); // nobody waiting
  rendezvous.close();
  assert.is(rendezvous.trySend(1), false);
});

C("after close, buffered values are still delivered, then every receiver sees the end", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(3);
    yield* ch.send(1);
    yield* ch.send(2);
    const early = yield* fork(function* () {
      const a = yield* ch.receive();
      const b = yield* ch.receive();
      const c = yield* ch.receive(); // waits, then sees the end
      return [a, b, c];
    });
    yield* sleep(5);
    ch.close();
    const late = yield* ch.receive();
    return [yield* join(early), late, ch.closed];
  });
  assert.equal(value, [[1, 2, undefined], undefined, true]);
});

C("a send after close throws a clear error; a waiting sender is failed by close", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const waiting = yield* fork(function* () {
      try {
        yield* ch.send(1);
        return "sent";
      } catch (e) {
        return String(e);
      }
    });
    yield* sleep(1);
    ch.close();
    ch.close(); // twice is fine
    let after = "";
    try {
      yield* ch.send(2);
    } catch (e) {
      after = String(e);
    }
    return [yield* join(waiting), after];
  });
  assert.match(value[0]!, /^ChannelClosedError: channel#\d+ was closed while a send waited/);
  assert.match(value[1]!, /^ChannelClosedError: cannot send on channel#\d+: it is closed/);
});

C("a cancelled receive consumed nothing: the next value goes to the next live receiver", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const first = yield* fork(function* () {
      return yield* ch.receive();
    });
    const second = yield* fork(function* () {
      return yield* ch.receive();
    });
    yield* sleep(1);
    yield* cancel(first);
    const waitingAfterCancel = internals(ch).receivers.size;
    yield* ch.send("x");
    return [first.state, yield* join(second), waitingAfterCancel];
  });
  assert.equal(value, ["cancelled", "x", 1]);
});

C("a cancelled send sent nothing", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const sender = yield* fork(function* () {
      yield* ch.send("never");
    });
    yield* sleep(1);
    yield* cancel(sender);
    return [internals(ch).senders.size, ch.tryReceive(), sender.state];
  });
  assert.equal(value, [0, undefined, "cancelled"]);
});

C("a sender woken by a receiver completed its send even if cancelled right after", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const log: string[] = [];
    const sender: Task = yield* fork(function* () {
      yield* ch.send("v");
      log.push("send completed");
      yield* suspend();
    });
    yield* sleep(1);
    const got = yield* ch.receive(); // wakes the sender
    yield* cancel(sender);
    return [got, log];
  });
  assert.equal(value, ["v", ["send completed"]]);
});

C("async/await code reads a channel with for await, and leaving early withdraws the receive", async () => {
  const ch = channel<number>();
  const feeder = run(function* () {
    for (let i = 1; i <= 3; i++) yield* ch.send(i);
    ch.close();
  });
  const got: number[] = [];
  for await (const v of ch) got.push(v);
  await feeder;
  assert.equal(got, [1, 2, 3]);

  const idle = channel<number>();
  const it = idle[Symbol.asyncIterator]();
  const pending = it.next();
  await new Promise((r) => setTimeout(r, 5));
  await it.return!();
  assert.is(internals(idle).receivers.size, 0);
  await pending.catch(() => {});
});

C("bad arguments fail at the call with what was expected", () => {
  assert.throws(() => channel(-1), (e: unknown) => e instanceof RangeError && /whole number >= 0.*got -1/.test(String(e)));
  assert.throws(() => channel(1.5), (e: unknown) => e instanceof RangeError && /got 1.5/.test(String(e)));
  assert.throws(() => channel(1, { overflow: "spill" as never }), (e: unknown) => e instanceof TypeError && /"wait", "drop" or "slide", got "spill"/.test(String(e)));
  assert.throws(() => channel(0, { overflow: "drop" }), (e: unknown) => e instanceof RangeError && /capacity of at least 1/.test(String(e)));
  assert.throws(() => channel<number>().send(undefined as never), (e: unknown) => e instanceof TypeError && /cannot send undefined/.test(String(e)));
  assert.throws(() => channel<number>().trySend(undefined as never), TypeError);
  assert.is(channel(Infinity).capacity, Infinity);
});

C("a deadlocked channel program is reported with what each task waits on", async () => {
  const s = virtual();
  try {
    await s.run(function* main() {
      const ch = channel<number>();
      yield* fork(function* stuckSender() {
        yield* ch.send(1);
        yield* ch.send(2);
      });
      yield* ch.receive();
      yield* ch.receive();
      yield* ch.receive();
    });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /task #1 main waits on receive\(channel#\d+\)/);
  }
});

C.run();

// A send or receive that can complete at once completes inside its own yield*, without a step of
// the scheduler's loop (see Receive.next and Send.next): cancellation, the time slice, errors and the
// forgotten-yield check must be exactly as when the loop performs it.
const Q = suite("channel operations that complete at once");

Q("a task cancelled while it runs gets its Cancelled at its next receive even with a value ready, which stays for another", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(4);
    yield* ch.send(1);
    yield* ch.send(2);
    let got: unknown = "nothing";
    yield* spawn(function* () {
      void (yield* self()).cancel(); // cancelled while it runs: its next effect throws
      try {
        got = yield* ch.receive();
      } catch (e) {
        got = isCancelled(e) ? "cancelled" : e;
      }
    });
    yield* sleep(1);
    return [got, yield* ch.receive(), yield* ch.receive()];
  });
  assert.equal(value, ["cancelled", 1, 2]);
});

Q("a cancelled task that caught its Cancelled still completes a receive that needs no wait, and fails one that would wait", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(4);
    yield* ch.send(7);
    const out: unknown[] = [];
    const t = yield* spawn(function* () {
      try {
        yield* suspend();
      } catch (e) {
        out.push(isCancelled(e) ? "cancelled" : e);
      }
      out.push(yield* ch.receive()); // a value is there: level-triggered cancellation lets it through
      try {
        yield* ch.receive(); // would wait: throws at once
      } catch (e) {
        out.push(isCancelled(e) ? "cancelled again" : e);
      }
    });
    yield* sleep(1);
    yield* cancel(t);
    return out;
  });
  assert.equal(value, ["cancelled", 7, "cancelled again"]);
});

Q("a task that sends and receives for ever without waiting still lets the others run (each counts against its time slice)", async () => {
  const s = createScheduler();
  let stop = false;
  let rounds = 0;
  const busy = s.run(function* () {
    const ch = channel<number>(1);
    while (!stop && rounds < 50_000_000) {
      yield* ch.send(rounds);
      rounds += (yield* ch.receive())! >= 0 ? 1 : 0;
    }
  });
  s.run(function* () {
    yield* sleep(1);
    stop = true;
  });
  await busy;
  assert.ok(stop, `the sleeper never ran: ${rounds} rounds`);
  assert.ok(rounds < 50_000_000);
});

Q("a send into a buffer with room: a task cancelled while it runs gets its Cancelled instead and sends nothing; after catching it, a send with room completes and one that would wait throws", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(1);
    const out: unknown[] = [];
    yield* spawn(function* () {
      void (yield* self()).cancel(); // cancelled while it runs: its next effect throws
      try {
        yield* ch.send(1);
      } catch (e) {
        out.push(isCancelled(e) ? "cancelled" : e, ch.size);
      }
      yield* ch.send(2); // room: level-triggered cancellation lets it through
      out.push(ch.size);
      try {
        yield* ch.send(3); // full: would wait, throws at once
      } catch (e) {
        out.push(isCancelled(e) ? "cancelled again" : e);
      }
    });
    yield* sleep(1);
    return [out, yield* ch.receive(), ch.size];
  });
  assert.equal(value, [["cancelled", 0, 1, "cancelled again"], 2, 0]);
});

Q("a task that only sends, to a channel that drops what overflows (it never waits), still lets the others run", async () => {
  const s = createScheduler();
  let stop = false;
  let sends = 0;
  const ch = channel<number>(1, { overflow: "drop" });
  const busy = s.run(function* () {
    while (!stop && sends < 50_000_000) {
      yield* ch.send(sends);
      sends++;
    }
  });
  s.run(function* () {
    yield* sleep(1);
    stop = true;
  });
  await busy;
  assert.ok(stop, `the sleeper never ran: ${sends} sends`);
  assert.is(ch.dropped, sends - 1);
});

Q("100,000 tasks each send once into a buffer with room, then one receiver reads them in order", async () => {
  const n = 100_000;
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(n);
    for (let i = 0; i < n; i++) {
      yield* spawn(function* () {
        yield* ch.send(i);
      });
    }
    let inOrder = 0;
    for (let i = 0; i < n; i++) if ((yield* ch.receive()) === i) inOrder++;
    return [inOrder, ch.size];
  });
  assert.equal(value, [n, 0]);
});

Q("symbols are values like any other: ones named like skein's own, registered and well-known ones, with null, NaN, 0 and false, arrive in order whichever way they travel", async () => {
  const values: ({} | null)[] = [
    Symbol("skein.parked"), Symbol("skein.none"), Symbol.for("skein.none"), Symbol.iterator, Symbol.asyncIterator, null, NaN, 0, false, "",
  ];
  const same = (got: unknown[]) => got.length === values.length && got.every((v, i) => Object.is(v, values[i]));
  const { value } = await runVirtual(function* () {
    const out: Record<string, boolean> = {};
    for (const capacity of [0, 1, values.length]) {
      // The sender goes first: the receiver takes from the buffer or from the waiting sender.
      const ch = channel<{} | null>(capacity);
      yield* fork(function* () {
        for (const v of values) yield* ch.send(v);
        ch.close();
      });
      const got: unknown[] = [];
      const reader = yield* fork(function* () {
        let v;
        while ((v = yield* ch.receive()) !== undefined) got.push(v);
      });
      yield* sleep(10);
      reader.cancel(); // (a receive that lost its value would wait for ever)
      out[`sender first, capacity ${capacity}`] = same(got);
      // The receiver waits first: each value is handed to it.
      const ch2 = channel<{} | null>(capacity);
      const got2: unknown[] = [];
      const reader2 = yield* fork(function* () {
        let v;
        while ((v = yield* ch2.receive()) !== undefined) got2.push(v);
      });
      yield* sleep(1);
      for (const v of values) {
        yield* ch2.send(v);
        yield* sleep(1);
      }
      yield* sleep(10);
      reader2.cancel();
      out[`receiver first, capacity ${capacity}`] = same(got2);
    }
    // Buffered, then closed: the values, then the end; tryReceive likewise.
    const closed = channel<{} | null>(values.length);
    for (const v of values) yield* closed.send(v);
    closed.close();
    const got3: unknown[] = [];
    for (let i = 0; i <= values.length; i++) got3.push(yield* closed.receive());
    out["closed buffered"] = same(got3.slice(0, -1)) && got3.at(-1) === undefined;
    const tried = channel<{} | null>(values.length);
    for (const v of values) tried.trySend(v);
    const got4: unknown[] = [];
    for (let v = tried.tryReceive(); v !== undefined; v = tried.tryReceive()) got4.push(v);
    out["trySend / tryReceive"] = same(got4);
    return out;
  });
  for (const [how, ok] of Object.entries(value)) assert.ok(ok, how);
  assert.is(Object.keys(value).length, 8);
});

Q("a send on a closed channel throws at its yield*, and the error's trace names the send", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(1);
    ch.close();
    try {
      yield* ch.send(1);
      return "sent";
    } catch (e) {
      return e;
    }
  });
  assert.instance(value, ChannelClosedError);
});

Q("stepping a coroutine by hand inside a task: a send that can complete at once completes, one that would wait is yielded", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(1);
    function* two(): Operation<string> {
      yield* ch.send(1); // room in the buffer: completes inside the yield*
      yield* ch.send(2); // full: yielded, for whoever steps this coroutine
      return "done";
    }
    const it = two()[Symbol.iterator]();
    const first = it.next();
    return [first.done, String(first.value), ch.size];
  });
  assert.is(value[0], false);
  assert.match(value[1] as string, /^send\(channel#\d+, 2\)$/);
  assert.is(value[2], 1);
});

Q("stepping by hand inside a task: a send completes inside its yield* exactly when it need not wait (a receiver waits, a full buffer drops or slides), and throws there once closed", async () => {
  const { value } = await runVirtual(function* () {
    const step = (op: Operation<void>) => {
      try {
        const r = op[Symbol.iterator]().next();
        return r.done === true ? "completed" : `yielded ${String(r.value).replace(/#\d+/, "")}`;
      } catch (e) {
        return e instanceof ChannelClosedError ? "threw" : `threw ${String(e)}`;
      }
    };
    const rendezvous = channel<number>();
    const alone = step(rendezvous.send(1)); // no receiver: it would wait
    const receiver = yield* fork(() => rendezvous.receive());
    yield* sleep(1); // the receiver waits now
    const met = step(rendezvous.send(2));
    const drop = channel<number>(1, { overflow: "drop" });
    const slide = channel<number>(1, { overflow: "slide" });
    const full = channel<number>(1);
    for (const ch of [drop, slide, full]) ch.trySend(0);
    const closed = channel<number>(); // a rendezvous: nothing but its end tells it from one that would wait
    closed.close();
    return [alone, met, yield* join(receiver), step(drop.send(3)), drop.dropped, step(slide.send(4)), slide.tryReceive(), step(full.send(5)), step(closed.send(6))];
  });
  assert.equal(value, ["yielded send(channel, 1)", "completed", 2, "completed", 1, "completed", 4, "yielded send(channel, 5)", "threw"]);
});

Q("outside any task, stepping by hand yields every send and receive, as data", () => {
  const ch = channel<number>(1);
  function* two(): Operation<void> {
    yield* ch.send(1);
    yield* ch.receive();
  }
  const it = two()[Symbol.iterator]();
  assert.match(String(it.next().value), /^send\(channel#\d+, 1\)$/);
  assert.match(String(it.next().value), /^receive\(channel#\d+\)$/);
  assert.is(ch.size, 0);
});

Q("a receive from a full buffer with senders waiting moves the first live one in (a cancelled one skipped), and a new sender queues behind them", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(2);
    yield* ch.send(0);
    yield* ch.send(1);
    const waiting: Task[] = [];
    for (let i = 2; i <= 5; i++) {
      waiting.push(
        yield* fork(function* () {
          yield* ch.send(i);
        }),
      );
    }
    yield* sleep(0); // all four wait on the full buffer
    yield* cancel(waiting[1]!); // 3 is never sent
    const got = [yield* ch.receive()]; // 0; 2 moves into the buffer
    yield* fork(function* () {
      yield* ch.send(100); // full again: waits behind 4 and 5
    });
    yield* sleep(0);
    for (let i = 0; i < 5; i++) got.push((yield* ch.receive())!); // senders waiting: not the buffer-only shortcut
    return [got, ch.size, internals(ch).senders.size];
  });
  assert.equal(value, [[0, 1, 2, 4, 5, 100], 0, 0]);
});

Q.run();

const P = suite("skein's PARKED symbol sent through a channel");

// PARKED is what a Park's enter() returns to say "enlisted, wait": a channel must not take the
// value for its own answer (the receive parked having taken it, and the value was lost).
type Sending = "send" | "trySend";
type Receiving = "receive" | "tryReceive" | "select" | "task";

function* passParked(capacity: number, senderFirst: boolean, sending: Sending, receiving: Receiving): Operation<unknown[]> {
  const ch = channel<symbol>(capacity);
  const out: unknown[] = [];
  const give = function* (): Operation<void> {
    if (sending === "send") yield* ch.send(PARKED);
    else out.push(ch.trySend(PARKED));
  };
  const take = function* (): Operation<void> {
    if (receiving === "receive") out.push(yield* ch.receive());
    else if (receiving === "tryReceive") out.push(ch.tryReceive());
    else if (receiving === "select") out.push((yield* select({ r: ch.receive() })).value);
    else {
      const t = yield* spawn(ch.receive()); // the receive is the task's whole operation
      yield* sleep(3); // past the other side's start, at 1
      out.push(t.state === "completed" ? yield* join(t) : t.state);
    }
  };
  yield* spawn(senderFirst ? give : take);
  yield* sleep(1);
  yield* spawn(senderFirst ? take : give);
  yield* sleep(5);
  out.push(ch.size);
  return out.map((v) => (v === PARKED ? "PARKED" : typeof v === "symbol" ? String(v) : v)); // (uvu's diff cannot print a symbol)
}

for (const capacity of [0, 1, 3]) {
  for (const senderFirst of [true, false]) {
    for (const sending of ["send", "trySend"] as const) {
      for (const receiving of ["receive", "tryReceive", "select", "task"] as const) {
        if (sending === "trySend" && senderFirst && capacity === 0) continue; // no receiver: refused, as for any value
        if (receiving === "tryReceive" && !senderFirst) continue; // it does not wait
        const order = senderFirst ? "sender first" : "receiver first";
        P(`capacity ${capacity}, ${order}: ${sending} then ${receiving} delivers it`, async () => {
          const { value } = await runVirtual(() => passParked(capacity, senderFirst, sending, receiving));
          assert.equal(value, sending === "send" ? ["PARKED", 0] : [true, "PARKED", 0]);
        });
      }
    }
  }
}

P("a receive that race, timeout or all runs, or map reading the channel, gets it too (sender first)", async () => {
  for (const capacity of [0, 2]) {
    const { value } = await runVirtual(function* () {
      const ch = channel<symbol | number>(capacity);
      yield* spawn(function* () {
        for (let i = 0; i < 4; i++) yield* ch.send(PARKED);
        yield* ch.send(1);
        ch.close();
      });
      yield* sleep(1); // the sender waits (or has filled the buffer)
      const raced = yield* race([ch.receive(), sleep(10)]);
      const timed = yield* timeout(10, ch.receive());
      const both = yield* all([ch.receive(), ch.receive()]);
      const mapped = yield* map(ch, (v) => v);
      return [raced, timed, ...both, ...mapped].map((v) => (v === PARKED ? "PARKED" : v));
    });
    assert.equal(value, ["PARKED", "PARKED", "PARKED", "PARKED", 1], `capacity ${capacity}`);
  }
});

P("trySend(PARKED), then a task of the receive alone, from outside any task: it completes with it", async () => {
  const s = virtual();
  const ch = channel<symbol>(1);
  assert.ok(ch.trySend(PARKED));
  assert.is(await s.run(ch.receive()), PARKED);
  assert.is(ch.size, 0);
});

P.run();
