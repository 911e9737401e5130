// Monitors: a Down message in the watcher's mailbox when the watched task ends, saying how; no
// effect on the watched task; at once for one that has ended; none after stop().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { all, cancel, createScheduler, Down, fork, isDown, monitor, race, receive, sleep, suspend, type Task } from "../../lib/index.js";
import { queueWork } from "../../lib/core/wait-queue.js";
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

test("a monitor set up inside all() or race() reports to the task that called them", async () => {
  const s = virtual();
  const value = await s.run(function* () {
    const worker = yield* fork(function* worker() {
      yield* sleep(10);
      return "done";
    });
    yield* all([monitor(worker)]); // the helper task that ran it has ended when the Down comes
    yield* race([monitor(worker)]);
    const a = yield* receive(isDown, { timeout: 100 });
    const b = yield* receive(isDown, { timeout: 100 });
    return [a.task.name, b.task.name, a.state];
  });
  assert.equal(value, ["worker", "worker", "completed"]);
});

test("a watcher that ends takes its monitors with it: 10,000 short-lived watchers leave nothing behind", async () => {
  const s = virtual();
  const left = await s.run(function* () {
    const server = yield* fork(function* server() {
      yield* suspend();
    });
    for (let i = 0; i < 10_000; i++) {
      yield* fork(function* client() {
        yield* monitor(server);
      });
    }
    yield* sleep(1); // every client has ended
    const left = s.watchers(server).length;
    yield* cancel(server);
    return left;
  });
  assert.is(left, 0);
});

/** Queue steps per ended task when one task monitors `n` tasks that end one by one (each end
 * takes the monitor's watch off the watcher), and when `n` tasks monitor one task and end. */
async function monitorSteps(n: number): Promise<{ watching: number; watched: number }> {
  const s = virtual();
  return s.run(function* () {
    // One watcher, n watched tasks ending one at a time, oldest first.
    const tasks: Task[] = [];
    for (let i = 0; i < n; i++) tasks.push(yield* fork(() => sleep(1 + i)));
    yield* sleep(0);
    for (const t of tasks) yield* monitor(t);
    let before = queueWork.steps;
    yield* sleep(n + 1);
    const watching = (queueWork.steps - before) / n;
    // n watchers of one task, ending one at a time, newest first.
    const server = yield* fork(function* server() {
      yield* suspend();
    });
    for (let i = 0; i < n; i++) {
      yield* fork(function* client() {
        yield* monitor(server);
        yield* sleep(2 * n - i);
      });
    }
    yield* sleep(0);
    before = queueWork.steps;
    yield* sleep(2 * n + 1);
    const watched = (queueWork.steps - before) / n;
    yield* cancel(server);
    return { watching, watched };
  });
}

test("a monitor is taken off in O(1): a task monitoring 5,000 that end, and 5,000 monitoring one", async () => {
  const small = await monitorSteps(500);
  const large = await monitorSteps(5000);
  // A scan for the watch (as there was) costs about n/2 steps each.
  assert.ok(large.watching <= 4 && large.watched <= 4, `steps per end: ${JSON.stringify({ small, large })}`);
});

test("monitoring a task of another scheduler is not a deadlock while it runs", async () => {
  const elsewhere = createScheduler({ clock: "real" });
  const other = elsewhere.run(function* remote() {
    yield* sleep(20);
    return "remote done";
  });
  const s = virtual();
  const value = await s.run(function* () {
    yield* monitor(other);
    const d = yield* receive(isDown);
    return [d.task.name, d.value];
  });
  assert.equal(value, ["remote", "remote done"]);
});

test.run();
