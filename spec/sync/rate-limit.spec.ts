// rateLimiter(): at most count starts in any window of `per` ms, in arrival order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cancel, fork, map, rateLimiter, sleep } from "../../lib/index.js";
import { virtual } from "../helpers.js";

test("allows count starts per window and spaces the rest", async () => {
  const s = virtual();
  const limit = rateLimiter(3, 100);
  const starts = await s.run(function* () {
    return yield* map(
      Array.from({ length: 7 }, (_, i) => i),
      function* () {
        yield* limit.take();
        return s.now();
      },
      { concurrency: 7 },
    );
  });
  assert.equal(starts, [0, 0, 0, 100, 100, 100, 200]);
});

test("a taker cancelled while it waits leaves the window as it was", async () => {
  const s = virtual();
  const limit = rateLimiter(1, 1000);
  const starts = await s.run(function* () {
    const at: number[] = [];
    yield* limit.take();
    at.push(s.now());
    const waiting = yield* fork(() => limit.take());
    yield* sleep(100);
    yield* cancel(waiting);
    yield* sleep(200);
    yield* limit.take();
    at.push(s.now());
    return at;
  });
  assert.equal(starts, [0, 1000]);
});

test("bad arguments fail at the call", () => {
  assert.throws(() => rateLimiter(0, 100), RangeError);
  assert.throws(() => rateLimiter(1, 0), RangeError);
});

test.run();
