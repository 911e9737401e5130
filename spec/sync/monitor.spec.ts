// Monitors: a Down message in the watcher's mailbox when the watched task ends, saying how; no
// effect on the watched task; at once for one that has ended; none after stop().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Down, fork, isDown, monitor, receive, sleep, suspend, type Task } from "../../lib/index.js";
import { outcome, virtual } from "../helpers.js";

test("a Down message says how the watched task ended: returned, failed or cancelled", async () => {
  const s = virtual();
  const err = new Error("crashed");
  const returns = s.run(function* returns() {
    yield* sleep(10);
    return 42;
  });
  const fails = s.run(function* fails() {
    yield* sleep(20);
    throw err;
  });
  const hangs = s.run(function* hangs() {
    yield* suspend();
  });
  void fails.catch(() => {});
  const watcher = s.run(function* () {
    for (const t of [returns, fails, hangs]) yield* monitor(t);
    const got: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const d = yield* receive(isDown);
      got.push([d.task.name, d.state, d.value, d.error, s.now()]);
    }
    void hangs.cancel();
    const d = yield* receive((m): m is Down => isDown(m, hangs));
    got.push([d.task.name, d.state, s.now()]);
    return got;
  });
  assert.equal(await watcher, [
    ["returns", "completed", 42, undefined, 10],
    ["fails", "failed", undefined, err, 20],
    ["hangs", "cancelled", 20],
  ]);
  assert.equal(await outcome(fails), { state: "failed", error: err }); // the watcher was not affected, nor was it
});

test("monitoring a task that has ended delivers at once; stop() means no message", async () => {
  const s = virtual();
  const value = await s.run(function* () {
    const done = yield* fork(function* quick() {
      return "done";
    });
    yield* sleep(1);
    yield* monitor(done);
    const first = yield* receive(isDown, { timeout: 1 });
    const later = yield* fork(function* slow() {
      yield* sleep(5);
    });
    const m = yield* monitor(later);
    m.stop();
    yield* sleep(10);
    try {
      yield* receive(isDown, { timeout: 1 });
      return "unexpected message";
    } catch {
      return [first.task.name, first.state, first.value];
    }
  });
  assert.equal(value, ["quick", "completed", "done"]);
});

test("monitor() checks its argument at the call site", () => {
  assert.throws(() => monitor({} as Task), (e: unknown) => e instanceof TypeError && /monitor\(\) expects a task/.test(String(e)));
});

test.run();
