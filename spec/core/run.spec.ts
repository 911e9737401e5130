// createScheduler and the module-level run: options are checked, and schedulers are independent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createScheduler, fork, run, sleep, type Task } from "../../lib/index.js";
import { outcome } from "../helpers.js";

test("createScheduler checks its options", () => {
  assert.throws(() => createScheduler({ clock: "fake" as never }), /clock "real" or "virtual", got "fake"/);
  assert.throws(() => createScheduler({ onError: 3 as never }), /onError to be a function, got 3/);
  assert.is(createScheduler().now() > 0, true);
  assert.is(createScheduler({ clock: "virtual" }).now(), 0);
});

test("run checks its operation at the call site", () => {
  assert.throws(() => run(null as never), (e: unknown) => e instanceof TypeError && /run\(\) expects an operation.*got null/.test(String(e)));
  assert.throws(() => createScheduler().run("x" as never), TypeError);
});

test("schedulers keep their own time and tasks", async () => {
  const a = createScheduler({ clock: "virtual" });
  const b = createScheduler({ clock: "virtual" });
  await Promise.all([a.run(sleep(100)), b.run(sleep(5))]);
  assert.equal([a.now(), b.now()], [100, 5]);
});

test("without onError, a secondary error is printed with the task's name", async () => {
  const printed: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    const s = createScheduler({ clock: "virtual" });
    const o = await outcome(
      s.run(function* () {
        yield* fork(function* first() {
          yield* sleep(1);
          throw new Error("first");
        });
        yield* fork(function* second() {
          try {
            yield* sleep(10);
          } finally {
            throw new Error("second");
          }
        });
      }),
    );
    assert.is(o.state, "failed");
  } finally {
    console.error = original;
  }
  assert.is(printed.length, 1);
  assert.match(String(printed[0]![0]), /^skein: task #\d+ second failed while its scope \(in task #1 anonymous\) was failing already with another error:$/);
  assert.is((printed[0]![1] as Error).message, "second");
});

test("an onError that throws is itself reported, and the scheduler carries on", async () => {
  const printed: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    const s = createScheduler({
      clock: "virtual",
      onError: () => {
        throw new Error("bad handler");
      },
    });
    const t: Task = s.run(function* () {
      yield* fork(function* () {
        yield* sleep(1);
        throw new Error("one");
      });
      yield* fork(function* () {
        try {
          yield* sleep(10);
        } finally {
          throw new Error("two");
        }
      });
    });
    assert.is((await outcome(t)).state, "failed");
    assert.is(await s.run(function* () { return "still works"; }), "still works");
  } finally {
    console.error = original;
  }
  assert.match(String(printed[0]![0]), /onError threw/);
});

test.run();
