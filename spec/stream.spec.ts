// stream(): an async iterable read item by item; its iteration ends with the consumer's scope.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Readable } from "node:stream";
import { call, cancel, createScheduler, fork, sleep, stream } from "../lib/index.js";
import { outcome, runVirtual, virtual } from "./helpers.js";

test("reads an async generator to its end", async () => {
  async function* numbers() {
    yield 1;
    yield 2;
    yield 3;
  }
  const { value } = await runVirtual(function* () {
    const items = yield* stream(numbers());
    const got: number[] = [];
    let n;
    while ((n = yield* items.receive()) !== undefined) got.push(n);
    return got;
  });
  assert.equal(value, [1, 2, 3]);
});

test("reads a Node Readable", async () => {
  const { value } = await runVirtual(function* () {
    const chunks = yield* stream(Readable.from(["a", "b", "c"]));
    let text = "";
    let c;
    while ((c = yield* chunks.receive()) !== undefined) text += c;
    return text;
  });
  assert.is(value, "abc");
});

test("leaving the scope early, or being cancelled, ends the iteration (return() runs)", async () => {
  // The real clock: on the virtual one a source with a promise always in flight holds time still.
  const log: string[] = [];
  async function* endless() {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      log.push("iteration ended");
    }
  }
  const value = await createScheduler().run(function* () {
    const first = yield* call(function* () {
      const items = yield* stream(endless());
      return yield* items.receive();
    });
    const t = yield* fork(function* () {
      const items = yield* stream(endless());
      for (;;) yield* items.receive();
    });
    yield* sleep(1);
    yield* cancel(t);
    return first;
  });
  assert.is(value, 0);
  assert.equal(log, ["iteration ended", "iteration ended"]);
});

test("an error of the source fails the consumer's scope", async () => {
  const err = new Error("source broke");
  async function* broken() {
    yield 1;
    throw err;
  }
  const s = virtual();
  const o = await outcome(
    s.run(function* () {
      const items = yield* stream(broken());
      for (;;) yield* items.receive();
    }),
  );
  assert.equal(o, { state: "failed", error: err });
});

test("a source yielding undefined is a clear error; a non-iterable fails at the call", async () => {
  async function* holes() {
    yield undefined;
  }
  const s = virtual();
  const o = await outcome(
    s.run(function* () {
      const items = yield* stream(holes() as AsyncIterable<never>);
      yield* items.receive();
    }),
  );
  assert.match(String((o as { error: unknown }).error), /source yielded undefined/);
  const bad = stream(5 as never)[Symbol.iterator]();
  assert.throws(() => bad.next(), (e: unknown) => e instanceof TypeError && /expects an async iterable, got 5/.test(String(e)));
});

test.run();
