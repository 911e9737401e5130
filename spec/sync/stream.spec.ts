// stream(): an async iterable read item by item; its iteration ends with the consumer's scope.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Readable } from "node:stream";
import { call, cancel, createScheduler, fork, sleep, stream } from "../../lib/index.js";
import { outcome, runVirtual, virtual } from "../helpers.js";

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

test("a scope that ends right after opening a stream, without suspending, still ends the iteration", async () => {
  let returned = 0;
  const source = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: false as const, value: 1 }),
      return: () => (returned++, Promise.resolve({ done: true as const, value: undefined })),
    }),
  };
  await runVirtual(function* () {
    yield* call(function* () {
      yield* stream(source); // opened and left at once: its cleanup is registered all the same
    });
    assert.is(returned, 1);
  });
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

test("nothing is read ahead: an item is asked for only when received", async () => {
  const produced: number[] = [];
  async function* counted() {
    for (let i = 1; ; i++) {
      produced.push(i);
      yield i;
    }
  }
  const { value } = await runVirtual(function* () {
    return yield* call(function* () {
      const items = yield* stream(counted());
      return yield* items.receive();
    });
  });
  assert.is(value, 1);
  assert.equal(produced, [1]);
});

test("the reading scope ends at once even while the source has a next() pending for ever", async () => {
  // (An async generator queues return() behind a pending next(), so its finally cannot run
  // here; the point is that the scope does not wait for it.)
  async function* stuck() {
    yield "first";
    await new Promise(() => {});
  }
  const t0 = performance.now();
  const value = await createScheduler().run(function* () {
    return yield* call(function* () {
      const items = yield* stream(stuck());
      const first = yield* items.receive();
      yield* fork(function* () {
        yield* items.receive(); // waits for ever
      });
      yield* sleep(10);
      throw new Error(`stop after ${first}`);
    });
  }).catch((e) => String(e));
  assert.is(value, "Error: stop after first");
  assert.ok(performance.now() - t0 < 1000);
});

test("a receive cancelled while it waits for the source leaves the item for the next receive", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* slow() {
    await gate;
    yield "a";
    yield "b";
  }
  const value = await createScheduler().run(function* () {
    const items = yield* stream(slow());
    const early = yield* fork(() => items.receive());
    yield* sleep(5);
    yield* cancel(early);
    release();
    return [yield* items.receive(), yield* items.receive(), yield* items.receive()];
  });
  assert.equal(value, ["a", "b", undefined]);
});

test("the reader may close the stream early; later receives see the end", async () => {
  const log: string[] = [];
  async function* endless() {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      log.push("iteration ended");
    }
  }
  const { value } = await runVirtual(function* () {
    const items = yield* stream(endless());
    const first = yield* items.receive();
    yield* items.close();
    return [first, yield* items.receive(), log.length];
  });
  assert.equal(value, [0, undefined, 1]);
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
  assert.throws(() => stream(5 as never), (e: unknown) => e instanceof TypeError && /expects an async iterable, got 5/.test(String(e)));
});

test.run();
