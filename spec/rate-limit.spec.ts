// rateLimiter(): at most count starts in any window of `per` ms, in arrival order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { map, rateLimiter } from "../lib/index.js";
import { virtual } from "./helpers.js";

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

test("bad arguments fail at the call", () => {
  assert.throws(() => rateLimiter(0, 100), RangeError);
  assert.throws(() => rateLimiter(1, 0), RangeError);
});

test.run();
