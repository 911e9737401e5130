// all(): every result in the input's shape; the first failure cancels the rest and is thrown.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { all, allSettled, call, cancel, channel, fork, isCancelled, self, semaphore, shield, sleep, suspend, type Operation } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

function* after<T>(ms: number, value: T): Operation<T> {
  yield* sleep(ms);
  return value;
}

test("runs concurrently and returns results in input order", async () => {
  const { value, now } = await runVirtual(function* () {
    return yield* all([after(30, "a"), after(10, "b"), after(20, "c")]);
  });
  assert.equal(value, ["a", "b", "c"]);
  assert.is(now, 30);
});

test("an object gives an object with the same keys", async () => {
  const { value } = await runVirtual(function* () {
    return yield* all({ x: after(5, 1), y: () => after(1, "two") });
  });
  assert.equal(value, { x: 1, y: "two" });
});

test("an empty list gives an empty list at once", async () => {
  const { value, now } = await runVirtual(function* () {
    return yield* all([]);
  });
  assert.equal(value, []);
  assert.is(now, 0);
});

test("the first failure cancels the others, waits for their cleanup, and is thrown", async () => {
  const err = new Error("b failed");
  const log: string[] = [];
  const { value, now } = await runVirtual(function* () {
    try {
      yield* all([
        function* a() {
          try {
            yield* suspend();
          } finally {
            yield* shield(sleep(15));
            log.push("a cleaned up");
          }
        },
        function* b() {
          yield* sleep(10);
          throw err;
        },
      ]);
    } catch (e) {
      log.push("caught");
      return e;
    }
  });
  assert.is(value, err);
  assert.is(now, 25);
  assert.equal(log, ["a cleaned up", "caught"]);
});

test("children are named after their functions or their place", async () => {
  const { value } = await runVirtual(function* () {
    return yield* all([
      function* first() {
        return (yield* call(function* () { return 0; })) + 1;
      },
      after(1, 2),
    ]);
  });
  assert.equal(value, [1, 2]);
});

test("when all fails, what its receives and acquires took goes back", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>(1);
    const sem = semaphore(1);
    yield* ch.send("taken");
    try {
      yield* all([
        ch.receive(),
        sem.acquire(),
        function* broken() {
          yield* sleep(5);
          throw new Error("broken");
        },
      ]);
    } catch (e) {
      return [(e as Error).message, ch.tryReceive(), sem.available];
    }
  });
  assert.equal(value, ["broken", "taken", 1]);
});

test("when all is cancelled, a value received in the same instant goes back too", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<string>();
    const both = yield* fork(() => all([ch.receive(), sleep(100)]));
    yield* sleep(1);
    yield* ch.send("kept"); // wakes the receive with it...
    yield* cancel(both); // ...and all is cancelled before it runs
    return [both.state, ch.tryReceive()];
  });
  assert.equal(value, ["cancelled", "kept"]);
});

test("values given back when all fails keep their order in the channel", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(3);
    for (const v of [1, 2, 3]) yield* ch.send(v);
    try {
      yield* all([ch.receive(), ch.receive(), function* () {
        yield* sleep(1);
        throw new Error("fails");
      }]);
    } catch {
      return [ch.tryReceive(), ch.tryReceive(), ch.tryReceive()];
    }
  });
  assert.equal(value, [1, 2, 3]);
});

test("allSettled collects every outcome in the shape given; a failure stops nothing", async () => {
  const err = new Error("b failed");
  const { value, now } = await runVirtual(function* () {
    const list = yield* allSettled([after(10, "a"), function* b() {
      yield* sleep(5);
      throw err;
    }]);
    const record = yield* allSettled({ x: after(20, 1), y: after(1, "y") });
    const first: string = list[0].status === "fulfilled" ? list[0].value : "";
    const x: number = record.x.status === "fulfilled" ? record.x.value : 0;
    return [list, record, first, x];
  });
  assert.equal(value, [
    [{ status: "fulfilled", value: "a" }, { status: "rejected", reason: err }],
    { x: { status: "fulfilled", value: 1 }, y: { status: "fulfilled", value: "y" } },
    "a",
    1,
  ]);
  assert.is(now, 30);
});

test("allSettled cancelled is cancelled with everything it started", async () => {
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    const t = yield* fork(() =>
      allSettled([
        function* () {
          try {
            yield* suspend();
          } finally {
            log.push("member stopped");
          }
        },
      ]),
    );
    yield* sleep(1);
    yield* cancel(t);
    return t.state;
  });
  assert.is(value, "cancelled");
  assert.equal(log, ["member stopped"]);
});

test("bad input throws at the call site", () => {
  assert.throws(() => all(42 as never), (e: unknown) => e instanceof TypeError && /all\(\) expects an array or an object/.test(String(e)));
  assert.throws(() => all([sleep(1), 3] as never), (e: unknown) => e instanceof TypeError && /all\(\) \(at 1\) expects an operation/.test(String(e)));
});

test("allSettled: a member that cancels itself is one rejected outcome; the rest and the caller go on", async () => {
  const { value } = await runVirtual(function* () {
    const out = yield* allSettled([
      function* () {
        yield* cancel(yield* self()); // cancels the task it runs in
        return "never";
      },
      function* () {
        yield* sleep(10);
        return "ok";
      },
    ]);
    yield* sleep(1); // the caller is not cancelled
    return out.map((o) => (o.status === "fulfilled" ? o.value : isCancelled(o.reason) ? "cancelled" : String(o.reason)));
  });
  assert.equal(value, ["cancelled", "ok"]);
});

test.run();
