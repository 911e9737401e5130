// What a cancelled task reads: the message and cause of each Cancelled it gets, however it was
// cancelled, stay the same whichever way the Cancelled reaches it (queued by a halt, or made at
// its next wait), and the same as before the cancellation path was made cheaper.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { call, fork, join, sleep, timeout, type Operation } from "../../lib/index.js";
import { virtual } from "../helpers.js";

const R = suite("cancellation reasons");

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// A body stopped after swallowing Cancelled runs its finally blocks; a call made there is not
// cancelled by the halt that stopped the body. A later cancel of the task reaches it: every
// Cancelled thrown into that call (the first, queued by the halt, and the next, at its next wait)
// says the same thing, as at 13c966b: the reason of the nearest cancelled frame below it.
function* stoppedThenCancelled(log: string[], inKid: boolean): Operation<void> {
  yield* timeout(1, function* mid() {
    try {
      for (let i = 0; i < 200; i++) {
        try {
          yield* sleep(1);
        } catch {
          // swallowed: after 100 of them the body is stopped
        }
      }
    } finally {
      yield* call(function* cleanup() {
        const waitTwice = function* (): Operation<void> {
          for (let i = 0; i < 2; i++) {
            try {
              yield* sleep(100);
            } catch (e) {
              log.push(message(e));
            }
          }
        };
        if (inKid) yield* join(yield* fork(waitTwice));
        else yield* waitTwice();
      });
    }
  });
}

for (const inKid of [false, true]) {
  R(`a call in the finally of a stopped body${inKid ? ", and a child it forks," : ""} reads one reason for every Cancelled it gets`, async () => {
    const s = virtual();
    const log: string[] = [];
    await s.run(function* () {
      const c = yield* fork(() => stoppedThenCancelled(log, inKid), { name: "worker" });
      yield* sleep(50);
      c.cancel("outer");
      try {
        yield* join(c);
      } catch {
        // cancelled
      }
    });
    assert.is(log.length, 2);
    assert.is(log[0], log[1], "the first Cancelled and the next say the same");
    assert.match(log[0]!, /was cancelled: timeout\(1\) fired$/);
  });
}

R.run();
