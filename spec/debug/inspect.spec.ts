// The live task tree: a snapshot as data and as text; since when and where, in debug mode.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { call, channel, createScheduler, describeTasks, fork, inspect, select, sleep, spawn, suspend, timeout, TimeoutError, type TaskInfo } from "../../lib/index.js";
import { debugging } from "../../lib/core/stacks.js";

function* program() {
  const jobs = channel<number>();
  yield* spawn(function* server() {
    yield* call(function* accept() {
      yield* jobs.receive();
    });
  });
  yield* fork(function* worker() {
    yield* sleep(1000);
  });
  yield* suspend();
}

test("inspect() is a snapshot of the task tree as data: each task, what it waits on, its calls and children", async () => {
  const s = createScheduler({ clock: "virtual" });
  const root = s.run(program, { name: "app" });
  await new Promise((r) => setImmediate(r));
  const [app] = inspect(s);
  const strip = (t: TaskInfo): unknown => ({ name: t.name, kind: t.kind, waitsOn: t.waitsOn, calls: t.calls, children: t.children.map(strip) });
  assert.equal(strip(app!), {
    name: "app",
    kind: "root",
    waitsOn: "suspend()",
    calls: [],
    children: [
      { name: "server", kind: "spawn", waitsOn: "receive(channel#" + /#(\d+)/.exec(app!.children[0]!.waitsOn)![1] + ")", calls: ["call accept"], children: [] },
      { name: "worker", kind: "fork", waitsOn: "sleep (ends in 1000 ms)", calls: [], children: [] },
    ],
  });
  assert.is(app!.task, root);
  assert.is(app!.children[1]!.parent, app!.id);
  await root.cancel();
  assert.equal(inspect(s), []);
});

test("a timeout and a select with a time limit start no task of their own: the tree shows what the caller waits on, and when each limit ends", async () => {
  const s = createScheduler({ clock: "virtual" });
  const jobs = channel<number>();
  const got: unknown[] = [];
  let atOnce = ""; // described in the step that set the limit, before the loop arms it
  const root = s.run(
    function* () {
      yield* fork(function* limited() {
        try {
          yield* timeout(1000, jobs.receive());
        } catch (e) {
          got.push(e instanceof TimeoutError ? `TimeoutError at ${s.clock.now()}` : e);
        }
      });
      yield* fork(function* selecting() {
        got.push(`${(yield* select({ job: jobs.receive() }, { timeout: 500 })).case} at ${s.clock.now()}`);
      });
      yield* fork(function* nested() {
        try {
          yield* timeout(2000, call(function* inner() {
            yield* timeout(300, call(function* () {
              atOnce = describeTasks(s);
              yield* jobs.receive();
            }));
          }));
        } catch (e) {
          got.push(e instanceof TimeoutError ? `TimeoutError(${e.ms}) at ${s.clock.now()}` : e);
        }
      });
      yield* sleep(1);
      const [app] = inspect(s);
      const strip = (t: TaskInfo): unknown => ({ name: t.name, waitsOn: t.waitsOn.replace(/#\d+/, "#n"), calls: t.calls, children: t.children.map(strip) });
      const text = describeTasks(s).replace(/#\d+\)/g, "#n)");
      yield* sleep(400);
      const later = describeTasks(s).replace(/#\d+\)/g, "#n)");
      yield* sleep(2000);
      return { tree: app!.children.map(strip), text, later };
    },
    { name: "app" },
  );
  const { tree, text, later } = await root;
  assert.equal(tree, [
    { name: "limited", waitsOn: "receive(channel#n)", calls: ["call timeout(1000) (ends in 999 ms)"], children: [] },
    { name: "selecting", waitsOn: "select(job: receive(channel#n), timeout: 500 ms) (ends in 499 ms)", calls: [], children: [] },
    {
      name: "nested",
      waitsOn: "receive(channel#n)",
      calls: ["call (anonymous)", "call timeout(300) (ends in 299 ms)", "call inner", "call timeout(2000) (ends in 1999 ms)"],
      children: [],
    },
  ]);
  assert.equal(text.split("\n").slice(1, 4), [
    "  task #2 limited waits on receive(channel#n), under timeout(1000) (ends in 999 ms)",
    "  task #3 selecting waits on select(job: receive(channel#n), timeout: 500 ms) (ends in 499 ms)",
    "  task #4 nested waits on receive(channel#n), under timeout(300) (ends in 299 ms), under timeout(2000) (ends in 1999 ms)",
  ]);
  // Set in the running step, not armed yet: its whole limit is left.
  assert.match(atOnce, /\n {2}task #4 nested is running, under timeout\(300\) \(ends in 300 ms\), under timeout\(2000\) \(ends in 2000 ms\)\n/);
  // At 401 ms: the inner limit fired and ended the nested task; the others count down.
  assert.equal(later.split("\n").slice(1), [
    "  task #2 limited waits on receive(channel#n), under timeout(1000) (ends in 599 ms)",
    "  task #3 selecting waits on select(job: receive(channel#n), timeout: 500 ms) (ends in 99 ms)",
    "",
  ]);
  assert.equal(got, ["TimeoutError(300) at 300", "timeout at 500", "TimeoutError at 1000"]);
});

test("alike siblings under time limits that differ are still counted, not listed", async () => {
  const s = createScheduler({ clock: "virtual" });
  const never = channel<number>();
  const text = await s.run(function* () {
    for (let i = 0; i < 8; i++) yield* fork(function* req() { try { yield* timeout(1000 - 10 * i + i / 4, never.receive()); } catch {} });
    for (let i = 0; i < 8; i++) yield* fork(function* poll() { yield* select({ v: never.receive() }, { timeout: 500 - 10 * i + i / 4 }); });
    yield* sleep(1);
    const text = describeTasks(s);
    never.close();
    return text;
  });
  assert.match(text, /\n {2}… and 5 more like task #2 req \(up to task #9 req\)\n/);
  assert.match(text, /\n {2}… and 5 more like task #10 poll \(up to task #17 poll\)\n/);
  assert.is(text.split("\n").length, 1 + 4 + 4 + 1, text);
});

test("describeTasks() is the same tree as text, as a deadlock report shows it; in debug mode, since when and where", async () => {
  const before = debugging.sites;
  debugging.sites = true;
  try {
    const s = createScheduler({ clock: "virtual" });
    const root = s.run(program, { name: "app" });
    await new Promise((r) => setImmediate(r));
    const text = describeTasks(s);
    assert.match(text, /^task #1 app waits on suspend\(\) for 0 ms, started at .*inspect\.spec\.ts:\d+:\d+\n/);
    assert.match(text, /\n {2}task #2 server waits on receive\(channel#\d+\) for 0 ms, started at .*inspect\.spec\.ts:\d+:\d+\n/);
    assert.match(text, /\n {2}task #3 worker waits on sleep \(ends in 1000 ms\) for 0 ms, started at /);
    await root.cancel();
    assert.is(describeTasks(s), "no task is running\n");
  } finally {
    debugging.sites = before;
  }
});

test("a tree 10,000 deep and 20,000 wide: the snapshot and the text are made without overflowing, alike siblings counted", async () => {
  const s = createScheduler({ clock: "virtual" });
  function* nest(n: number): Generator<any, void, any> {
    if (n === 0) return yield* sleep(5000);
    yield* fork(() => nest(n - 1), { name: `n${n}` });
    yield* sleep(5000);
  }
  const root = s.run(function* app() {
    yield* fork(() => nest(10_000), { name: "deep" });
    for (let i = 0; i < 20_000; i++) yield* fork(function* sleeper() { yield* sleep(1000); });
    yield* sleep(1);
    let depth = 0;
    for (let t: TaskInfo | undefined = inspect(s)[0]!.children[0]; t !== undefined; t = t.children[0]) depth++;
    const text = describeTasks(s);
    return { depth, width: inspect(s)[0]!.children.length, text };
  });
  const { depth, width, text } = await root;
  assert.is(depth, 10_001); // deep, n10000 … n1
  assert.is(width, 20_001);
  assert.match(text, /^task #1 app is running\n  task #2 deep waits on sleep/);
  assert.match(text, /\[depth 10001\] task #\d+ n1 waits on sleep \(ends in 4999 ms\)\n/);
  assert.match(text, /\n  task #(\d+) sleeper waits on sleep \(ends in 999 ms\)\n  task #\d+ sleeper .*\n  task #\d+ sleeper .*\n  … and 19,997 more like task #\1 sleeper \(up to task #\d+ sleeper\)\n/);
  assert.ok(text.split("\n").length < 10_100, `${text.split("\n").length} lines`);
});

test.run();
