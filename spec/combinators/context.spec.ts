// Context: a value provided for an operation reaches every call and task below it; elsewhere the
// default; nested provisions shadow; no default and no value is a clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { all, call, createContext, fork, isDown, map, monitor, receive, resource, sleep, spawn, timeout } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

test("a value provided for an operation reaches its calls, forks, spawns and combinators", async () => {
  const Id = createContext<string>("request id", "none");
  const { value } = await runVirtual(function* () {
    const seen: string[] = [];
    seen.push(yield* Id.get());
    yield* Id.with("r1", function* handle() {
      seen.push(yield* Id.get());
      yield* call(function* () {
        seen.push(yield* Id.get());
      });
      const child = yield* fork(function* () {
        yield* sleep(1);
        yield* spawn(function* () {
          seen.push(`grandchild ${yield* Id.get()}`);
        });
        yield* sleep(1);
      });
      yield* child;
      const [a, b] = yield* all([Id.get(), timeout(10, Id.get())]);
      seen.push(`${a} ${b}`);
      seen.push((yield* map([1], () => Id.get())).join());
    });
    seen.push(yield* Id.get()); // outside again
    return seen;
  });
  assert.equal(value, ["none", "r1", "r1", "grandchild r1", "r1 r1", "r1", "none"]);
});

test("a nested provision shadows the outer one, for its own subtree only", async () => {
  const Level = createContext<number>("level", 0);
  const { value } = await runVirtual(function* () {
    return yield* Level.with(1, function* () {
      const inner = yield* Level.with(2, Level.get());
      return [inner, yield* Level.get()];
    });
  });
  assert.equal(value, [2, 1]);
});

test("contexts are distinct keys; one without a default and without a value is a clear error", async () => {
  const A = createContext<string>("a");
  const B = createContext<string>("b", "b default");
  const { value } = await runVirtual(function* () {
    const b = yield* A.with("a value", B.get());
    try {
      yield* A.get();
    } catch (e) {
      return [b, (e as Error).message];
    }
  });
  assert.equal(value![0], "b default");
  assert.match(value![1]!, /context "a" has no value in task #\d+ .* and no default: run the code under a\.with\(value, op\)/);
});

test("undefined is a value like any other, as a default or provided", async () => {
  const U = createContext<string | undefined>("u", "default");
  const { value } = await runVirtual(function* () {
    return yield* U.with(undefined, U.get());
  });
  assert.is(value, undefined);
});

test("bad input throws at the call site", () => {
  assert.throws(() => createContext(42 as never), TypeError);
  assert.throws(() => createContext("x", 1).with(2, 5 as never), (e: unknown) => e instanceof TypeError && /x\.with\(\) expects an operation/.test(String(e)));
});

test("get(), resource() and monitor() make operations that can be run again", async () => {
  const Id = createContext<string>("request id", "none");
  const { value } = await runVirtual(function* () {
    const id = Id.get();
    let opened = 0;
    const conn = resource(() => ++opened, () => {});
    const worker = yield* fork(function* () {
      yield* sleep(1);
    });
    const watch = monitor(worker);
    const got: unknown[] = [yield* id, yield* Id.with("r1", function* () {
      return yield* id;
    }), yield* conn, yield* conn];
    yield* watch;
    yield* watch;
    got.push((yield* receive(isDown)).task === worker, (yield* receive(isDown)).task === worker);
    return got;
  });
  assert.equal(value, ["none", "r1", 1, 2, true, true]);
});

test.run();
