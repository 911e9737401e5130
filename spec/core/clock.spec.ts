// The driver: the real clock keeps one host timer for the earliest deadline; the virtual clock
// waits a full host turn of idleness before it jumps or declares a deadlock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { afterHostTurn, hostTurnOf, RealClock, VirtualClock, type Host, type Ticker } from "../../lib/core/clock.js";
import { action, channel, createScheduler, sleep } from "../../lib/index.js";

function ticker(overrides: Partial<Ticker> = {}): Ticker & { ticks: number; deadlocks: number } {
  const t = {
    ticks: 0,
    deadlocks: 0,
    tick() {
      t.ticks++;
    },
    hostTick() {
      t.ticks++; // a real clock's timer: counted as a tick
    },
    busy: () => false,
    nextDeadline: () => Infinity,
    deadlock() {
      t.deadlocks++;
    },
    wokeOld: () => false,
    ...overrides,
  };
  return t;
}
const turn = () => new Promise<void>((r) => afterHostTurn(r));

/** A stand-in for the host's timers: what is armed, and a way to fire it. */
function fakeTimers() {
  const armed = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  const host: Host = {
    setTimeout: (fn, ms) => {
      armed.set(++next, { fn, ms });
      return next;
    },
    clearTimeout: (id) => void armed.delete(id as number),
  };
  const fire = () => {
    for (const [id, { fn }] of [...armed]) {
      armed.delete(id);
      fn();
    }
  };
  return { host, armed, fire };
}

test("the real clock arms one host timer, re-arms on change, and clears it", () => {
  const timers = fakeTimers();
  const clock = new RealClock(timers.host);
  const t = ticker();
  clock.arm(clock.now() + 10_000, t);
  clock.arm(clock.now() + 20_000, t);
  assert.is(timers.armed.size, 1);
  assert.ok([...timers.armed.values()][0]!.ms > 19_000);
  clock.arm(Infinity, t);
  assert.is(timers.armed.size, 0);
  clock.arm(clock.deadline(5), t);
  assert.is(timers.armed.size, 1);
  timers.fire();
  assert.is(t.ticks, 1);
  assert.is(timers.armed.size, 0);
  clock.arm(clock.deadline(5), t); // armed afresh after it fired
  assert.is(timers.armed.size, 1);
});

test("the real clock's host timer fires on the real host", async () => {
  const clock = new RealClock();
  const t = ticker();
  clock.arm(clock.deadline(5), t);
  for (let i = 0; i < 200 && t.ticks === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.is(t.ticks, 1);
});

test("a real deadline is now + ms to 1/8 ms, shared by sleepers started within that 1/8 ms", () => {
  const clock = new RealClock();
  const now = clock.now();
  const d = clock.deadline(10);
  assert.ok(Number.isInteger(d * 8));
  assert.ok(d > now + 10 - 0.125 && d <= clock.now() + 10, `${d} for 10 ms from ${now}`);
  assert.ok(clock.deadline(0.2) > now + 1 - 0.125, "at least 1 ms, as setTimeout");
});

test("sleep(5) arms a host timer of 5 ms, not 6 (a deadline rounded up once, not twice)", () => {
  const timers = fakeTimers();
  const clock = new RealClock(timers.host);
  for (let i = 0; i < 50; i++) {
    clock.arm(clock.deadline(5), ticker());
    const armed = [...timers.armed.values()][0]!;
    assert.ok(armed.ms <= 5, `armed for ${armed.ms} ms`);
    clock.arm(Infinity, ticker());
  }
});

test("a deadline a fraction of a millisecond away is armed for the nearest whole millisecond, not the next", () => {
  // A stream of sleepers (a server's handlers each sleeping 5 ms) re-arms the host timer for the
  // next deadline at odd moments: rounding up made every sleep there last longer than the
  // setTimeout a plain handler starts (which counts from the host's millisecond, not a later one).
  const timers = fakeTimers();
  const clock = new RealClock(timers.host);
  for (const [ahead, ms] of [[1.3, 1], [2.7, 3], [4.2, 4]] as const) {
    clock.arm(clock.now() + ahead, ticker());
    assert.is([...timers.armed.values()][0]!.ms, ms, `${ahead} ms ahead`);
    clock.arm(Infinity, ticker());
  }
});

test("a host timer that fires early makes its deadline due only if it is within 7/8 ms (no sleep ends a millisecond early)", () => {
  // Armed for the nearest whole millisecond, a timer may fire 1.5 ms before its deadline when
  // the host's millisecond ticks early too: sleeps in a stream ended 1.5 ms early (found by review).
  const timers = fakeTimers();
  const clock = new RealClock(timers.host);
  const t = ticker();
  const deadline = clock.now() + 1.4;
  clock.arm(deadline, t);
  timers.fire(); // at once: as early as the host could
  assert.is(t.ticks, 1);
  assert.ok(clock.dueBy() < deadline, "not due 1.4 ms early");
  assert.ok(clock.dueBy() >= clock.now() + 0.8, "due up to 7/8 ms early");
});

test("a host timer that fires makes its deadline due, though the clock may read a little earlier", () => {
  const timers = fakeTimers();
  const clock = new RealClock(timers.host);
  const t = ticker();
  const deadline = clock.now() + 0.7;
  clock.arm(deadline, t);
  assert.ok(clock.dueBy() < deadline);
  timers.fire(); // the host's millisecond ticks can come before this clock's
  assert.is(t.ticks, 1);
  assert.ok(clock.dueBy() >= deadline);
  const far = clock.now() + 2 ** 40;
  clock.arm(far, t); // beyond the host's range: armed in range, and not due when that fires
  timers.fire();
  assert.ok(clock.dueBy() < far);
});

test("the virtual clock's deadlines and due time are exact", () => {
  const clock = new VirtualClock();
  assert.is(clock.deadline(5.3), 5.3);
  assert.is(clock.dueBy(), 0);
});

test("a deadline beyond the host's timer range is armed in range", () => {
  const timers = fakeTimers();
  const clock = new RealClock(timers.host);
  clock.arm(clock.now() + 2 ** 40, ticker());
  assert.is([...timers.armed.values()][0]!.ms, 2 ** 31 - 1);
});

test("the virtual clock jumps to the next deadline after a host turn of idleness", async () => {
  const clock = new VirtualClock();
  const t = ticker({ nextDeadline: () => 250 });
  clock.idle(t);
  assert.is(t.ticks, 0);
  await turn();
  await turn();
  assert.is(clock.now(), 250);
  assert.is(t.ticks, 1);
  assert.is(clock.deadline(5), 255);
});

test("the virtual clock waits again if the scheduler went idle anew, and not at all when busy", async () => {
  const clock = new VirtualClock();
  let busy = false;
  const t = ticker({ nextDeadline: () => 100, busy: () => busy });
  clock.idle(t);
  clock.idle(t); // idle again before the hop: the hop must wait one more turn
  await turn();
  assert.is(t.ticks, 0);
  await turn();
  await turn();
  assert.is(t.ticks, 1);
  busy = true;
  clock.idle(t);
  await turn();
  await turn();
  assert.is(t.ticks, 1);
  assert.is(clock.now(), 100);
});

test("every jump of the virtual clock waits for a host turn: a promise chain a task set off outside goes first", async () => {
  const s = createScheduler({ clock: "virtual" });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const ch = channel<string>(4);
  s.run(function* () {
    yield* sleep(10);
    open(); // a plain call: nothing in skein knows of the chain it sets off
    yield* sleep(100);
  });
  const reader = s.run(function* () {
    yield* sleep(20);
    return ch.tryReceive() ?? "nothing yet";
  });
  void (async () => {
    await gate;
    for (let i = 0; i < 8; i++) await null; // a few async functions deep, no I/O
    ch.trySend(`sent at ${s.now()}`);
  })();
  assert.is(await reader, "sent at 10");
});

test("a jump lets a promise chain settling outside go first", async () => {
  const s = createScheduler({ clock: "virtual" });
  const first = s.run(function* () {
    yield* sleep(1);
    return "first";
  });
  const ticking = s.run(function* () {
    for (let i = 0; i < 200; i++) yield* sleep(1);
  });
  const seen: number[] = [];
  seen.push((await first) === "first" ? s.now() : -1);
  await (async () => {
    await sleepThen(s, 50);
    seen.push(s.now());
  })();
  await ticking;
  assert.equal(seen, [1, 50]);
});

test("a jump does not overtake an action settled by a promise chain (an async API answered in memory)", async () => {
  const s = createScheduler({ clock: "virtual" });
  async function lookup(key: string): Promise<string> {
    for (let i = 0; i < 8; i++) await null; // a few layers of async functions, no I/O
    return key.toUpperCase();
  }
  const asking = s.run(function* () {
    yield* sleep(10);
    const value = yield* action<string>((resolve) => void lookup("x").then(resolve));
    return [value, s.now()];
  });
  s.run(sleep(20)); // a later deadline the clock could jump to
  assert.equal(await asking, ["X", 10]);
});

test("a jump does not overtake outside code that awaits a task and then goes on through async functions", async () => {
  const s = createScheduler({ clock: "virtual" });
  const first = s.run(sleep(10));
  const later = s.run(function* () {
    yield* sleep(20);
    return s.now();
  });
  await first;
  for (let i = 0; i < 8; i++) await null; // an async helper or two, no I/O
  assert.is(s.now(), 10, "the clock jumped while code awaiting the task was still going");
  assert.is(await later, 20);
});

/** Outside code that waits for a task of `s` through an async function. */
async function sleepThen(s: ReturnType<typeof createScheduler>, ms: number): Promise<void> {
  await s.run(sleep(ms - s.now()));
}

test("with nothing to wait for, the virtual clock reports a deadlock", async () => {
  const clock = new VirtualClock();
  const t = ticker();
  clock.idle(t);
  await turn();
  await turn();
  assert.is(t.deadlocks, 1);
  clock.arm();
});

test("defer calls back after the host's turn", async () => {
  for (const clock of [new RealClock(), new VirtualClock()]) {
    const t = ticker();
    clock.defer(() => t.tick());
    assert.is(t.ticks, 0);
    await turn();
    await turn();
    assert.is(t.ticks, 1);
  }
});

test("without setImmediate a host turn is a message, else a zero timeout", async () => {
  const base = { setTimeout, clearTimeout } as unknown as Host;
  const order: string[] = [];
  const viaMessage = hostTurnOf({ ...base, MessageChannel } as unknown as Host);
  const viaTimeout = hostTurnOf(base);
  await new Promise<void>((resolve) => {
    viaMessage(() => order.push("message 1"));
    viaMessage(() => order.push("message 2"));
    viaTimeout(() => {
      order.push("timeout");
      resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(order.sort(), ["message 1", "message 2", "timeout"]);
});

test.run();
