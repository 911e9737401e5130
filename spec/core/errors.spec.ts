// The errors skein throws: plain Error subclasses with names, messages and data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Cancelled, DeadlockError, isCancelled, TimeoutError } from "../../lib/index.js";

test("Cancelled is an Error that isCancelled recognises", () => {
  const c = new Cancelled();
  assert.instance(c, Error);
  assert.is(c.name, "Cancelled");
  assert.is(c.message, "task was cancelled");
  assert.ok(isCancelled(c));
  assert.not.ok(isCancelled(new Error("x")));
  assert.not.ok(isCancelled("Cancelled"));
  assert.is(new Cancelled("custom").message, "custom");
});

test("TimeoutError carries the limit that fired", () => {
  const e = new TimeoutError(250);
  assert.instance(e, Error);
  assert.is(e.name, "TimeoutError");
  assert.is(e.ms, 250);
  assert.is(e.message, "timed out after 250 ms");
});

test("DeadlockError carries the report", () => {
  const e = new DeadlockError("task #1 main waits on suspend()\n");
  assert.is(e.name, "DeadlockError");
  assert.match(e.message, /^deadlock: every task is blocked and nothing is pending\ntask #1 main waits on suspend\(\)/);
});

test.run();
