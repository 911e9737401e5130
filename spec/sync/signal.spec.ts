// A one-shot signal: set once; every waiter, before or after, gets the value.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cancel, fork, join, PARKED, signal, sleep, spawn } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

test("wakes every waiter with the value; later waits return at once; later sets are ignored", async () => {
  const { value } = await runVirtual(function* () {
    const ready = signal<string>();
    const waiters = [];
    for (let i = 0; i < 3; i++) waiters.push(yield* fork(() => ready.wait()));
    yield* sleep(5);
    const first = ready.set("go");
    const again = ready.set("ignored");
    const results = [];
    for (const w of waiters) results.push(yield* join(w));
    return [first, again, results, yield* ready.wait(), ready.isSet, ready.value];
  });
  assert.equal(value, [true, false, ["go", "go", "go"], "go", true, "go"]);
});

test("a cancelled waiter is forgotten", async () => {
  const { value } = await runVirtual(function* () {
    const s = signal();
    const w = yield* fork(() => s.wait());
    yield* sleep(1);
    yield* cancel(w);
    s.set();
    return [w.state, (s as unknown as { waiters: { size: number } }).waiters.size];
  });
  assert.equal(value, ["cancelled", 0]);
});

test("skein's PARKED symbol is a value like any other, for a wait before the set and one after", async () => {
  const { value } = await runVirtual(function* () {
    const s = signal<symbol>();
    const before = yield* spawn(function* () {
      return (yield* s.wait()) === PARKED;
    });
    yield* sleep(1);
    s.set(PARKED);
    const after = yield* spawn(function* () {
      return (yield* s.wait()) === PARKED;
    });
    yield* sleep(1);
    return [before.state, after.state, after.state === "completed" && (yield* join(after))];
  });
  assert.equal(value, ["completed", "completed", true]);
});

test.run();
