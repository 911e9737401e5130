// A wait group: wait() returns once every added piece of work is done.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cancel, fork, sleep, spawn, waitGroup } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

test("wait returns when the count is back to zero, at once if it is zero", async () => {
  const { value, now } = await runVirtual(function* () {
    const group = waitGroup();
    yield* group.wait();
    group.add(3);
    for (const ms of [10, 30, 20]) {
      yield* spawn(function* () {
        yield* sleep(ms);
        group.done();
      });
    }
    yield* group.wait();
    return group.count;
  });
  assert.is(value, 0);
  assert.is(now, 30);
});

test("done() more often than add() is an error; a cancelled waiter is forgotten", async () => {
  const { value } = await runVirtual(function* () {
    const group = waitGroup();
    group.add();
    const w = yield* fork(() => group.wait());
    yield* sleep(1);
    yield* cancel(w);
    group.done();
    let error = "";
    try {
      group.done();
    } catch (e) {
      error = String(e);
    }
    return [w.state, error];
  });
  assert.equal(value, ["cancelled", "Error: waitGroup.done() called more often than add()"]);
  assert.throws(() => waitGroup().add(-1), RangeError);
});

test.run();
