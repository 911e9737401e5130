// Helpers for operations: recognising them, and describing any value in an error message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkOperation, describe, isOperation, isThenable } from "../../lib/core/operation.js";
import { sleep } from "../../lib/index.js";

test("describe names every kind of value briefly", () => {
  class Point {}
  assert.is(describe(null), "null");
  assert.is(describe(undefined), "undefined");
  assert.is(describe(42), "42");
  assert.is(describe(true), "true");
  assert.is(describe(10n), "10n"); // (a BigInt where a number was expected says so: "got 10" read as a number)
  assert.is(describe(Symbol("s")), "Symbol(s)");
  assert.is(describe("short"), '"short"');
  assert.is(describe("x".repeat(60)), `"${"x".repeat(40)}…"`);
  assert.is(describe(function named() {}), "function named");
  assert.is(describe(() => {}), "function (anonymous)");
  assert.is(describe([1, 2, 3]), "an array of length 3");
  assert.is(describe({ a: 1, b: 2 }), "a plain object {a, b}");
  assert.is(describe({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }), "a plain object {a, b, c, d, e, …}");
  assert.is(describe(Object.create(null)), "a plain object {}");
  assert.is(describe(new Point()), "an instance of Point");
  assert.is(describe(Object.create(Object.create(null))), "an object");
  assert.is(describe((function* () {})()), "a Generator");
  assert.is(describe((async function* () {})()), "an AsyncGenerator");
});

test("operations are iterables that are not strings, arrays or built-in collections", () => {
  assert.ok(isOperation(sleep(1)));
  assert.ok(isOperation((function* () {})()));
  assert.ok(isOperation({ *[Symbol.iterator]() {} }));
  for (const v of [[1], new Map(), new Set(), new Uint8Array(2), new String("s"), "s", null, 1, {}]) {
    assert.not.ok(isOperation(v), describe(v));
  }
});

test("thenables are objects or functions with a then method", () => {
  assert.ok(isThenable(Promise.resolve()));
  assert.ok(isThenable({ then() {} }));
  const fn = Object.assign(() => {}, { then() {} });
  assert.ok(isThenable(fn));
  assert.not.ok(isThenable({ then: 1 }));
  assert.not.ok(isThenable(null));
});

test("checkOperation accepts what can start work and names what cannot", () => {
  checkOperation(() => {}, "x");
  checkOperation(sleep(1), "x");
  checkOperation(Promise.resolve(), "x");
  checkOperation({ next() {} }, "x");
  assert.throws(() => checkOperation(7, "run()"), /run\(\) expects an operation \(a generator, an effect, a task\) or a function returning one, got 7/);
});

test.run();
