// Semaphores: at most n holders, FIFO waiters, permits released however work ends.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { all, cancel, fork, semaphore, sleep } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

const S = suite("semaphore");

S("at most n holders at a time, waiters served first in, first out", async () => {
  const { value, now } = await runVirtual(function* () {
    const sem = semaphore(2);
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    yield* all(
      Array.from({ length: 6 }, (_, i) =>
        sem.withPermit(function* () {
          order.push(i);
          most = Math.max(most, ++inside);
          yield* sleep(10);
          inside--;
        }),
      ),
    );
    return [most, order, sem.available];
  });
  assert.equal(value, [2, [0, 1, 2, 3, 4, 5], 2]);
  assert.is(now, 30);
});

S("a permit is released when the work fails or is cancelled", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(1);
    try {
      yield* sem.withPermit(function* () {
        throw new Error("boom");
      });
    } catch {}
    const holder = yield* fork(() => sem.withPermit(function* () { yield* sleep(1000); }));
    yield* sleep(1);
    const busy = sem.available;
    yield* cancel(holder);
    return [busy, sem.available];
  });
  assert.equal(value, [0, 1]);
});

S("a cancelled waiter takes no permit; a release goes to the next live waiter", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(1);
    yield* sem.acquire();
    const a = yield* fork(function* () {
      yield* sem.acquire();
      return "a";
    });
    const b = yield* fork(function* () {
      yield* sem.acquire();
      return "b got it";
    });
    yield* sleep(1);
    yield* cancel(a);
    sem.release();
    yield* sleep(1);
    return [a.state, b.state, yield* b, sem.available];
  });
  assert.equal(value, ["cancelled", "completed", "b got it", 0]);
});

S("tryAcquire never waits and never jumps the queue", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(1);
    const first = sem.tryAcquire();
    const second = sem.tryAcquire();
    sem.release();
    return [first, second, sem.available];
  });
  assert.equal(value, [true, false, 1]);
});

S("bad permits fail at the call", () => {
  for (const bad of [0, -1, 1.5, "2"]) assert.throws(() => semaphore(bad as never), RangeError);
});

S.run();
