// A Reader over a user's object-mode stream that pushes a symbol: the read must not hang (on
// e7ee656 the symbol came back as the chunk; r10-tcp's `typeof v === "symbol"` took it for PARKED,
// dropped it and parked the task for good). Bad input fails loudly (DESIGN §2.9): the read throws.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PassThrough } from "node:stream";
import { Reader } from "../../lib/node/index.js";
import { real } from "../node-helpers.js";

test("a symbol chunk from an object-mode stream does not park its read for good", async () => {
  const s = real();
  const pt = new PassThrough({ objectMode: true });
  const reader = new Reader(pt);
  pt.write(Symbol("odd"));
  let settled = false;
  const t = s.run(function* () {
    try {
      return yield* reader.read();
    } finally {
      settled = true;
    }
  });
  t.then(() => {}, () => {});
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  const ended = settled;
  if (ended) await t.then(() => assert.unreachable("a symbol is not bytes"), (e) => assert.match(String(e), "reads bytes"));
  if (!ended) t.cancel();
  assert.ok(ended, "the read is still parked on a chunk it took");
});

test.run();
