// The driver: the real clock keeps one host timer for the earliest deadline; the virtual clock
// waits a full host turn of idleness before it jumps or declares a deadlock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { afterHostTurn, hostTurnOf, RealClock, VirtualClock, type Host, type Ticker } from "../lib/clock.js";

function ticker(overrides: Partial<Ticker> = {}): Ticker & { ticks: number; deadlocks: number } {
  const t = {
    ticks: 0,
    deadlocks: 0,
    tick() {
      t.ticks++;
    },
    busy: () => false,
    nextDeadline: () => Infinity,
    deadlock() {
      t.deadlocks++;
    },
    ...overrides,
  };
  return t;
}
const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
const turn = () => new Promise<void>((r) => afterHostTurn(r));

test("the real clock arms one host timer, re-arms on change, and clears it", async () => {
  const clock = new RealClock();
  const t = ticker();
  const base = timeouts();
  clock.arm(clock.now() + 10_000, t);
  clock.arm(clock.now() + 20_000, t);
  assert.is(timeouts(), base + 1);
  clock.arm(Infinity, t);
  assert.is(timeouts(), base);
  clock.arm(clock.deadline(5), t);
  await new Promise((r) => setTimeout(r, 30));
  assert.is(t.ticks, 1);
  assert.is(timeouts(), base);
});

test("real deadlines are whole milliseconds, never early", () => {
  const clock = new RealClock();
  const now = clock.now();
  const d = clock.deadline(10);
  assert.ok(Number.isInteger(d));
  assert.ok(d >= now + 10 && d < now + 11 + 1);
});

test("a deadline beyond the host's timer range is armed in range", () => {
  const clock = new RealClock();
  const base = timeouts();
  clock.arm(clock.now() + 2 ** 40, ticker());
  assert.is(timeouts(), base + 1);
  clock.arm(Infinity, ticker());
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
