// A value thrown at a body reaches it as it was thrown, whatever it is: a revoked Proxy (which
// throws at every question asked of it, `instanceof` included) is caught by the body's catch.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { call, sleep, wait } from "../../lib/index.js";
import { virtual } from "../helpers.js";

const T = suite("thrown values");

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

T("a revoked Proxy thrown by a call, after a wait or at once, is caught by the caller", async () => {
  for (const waits of [true, false]) {
    const proxy = revoked();
    const s = virtual();
    const caught = await s.run(function* () {
      try {
        yield* call(function* () {
          if (waits) yield* sleep(1);
          throw proxy;
        });
      } catch (e) {
        return e === proxy; // (not the Proxy itself: resolving a promise with it asks for its then)
      }
    });
    assert.is(caught, true, `waits: ${waits}`);
    assert.equal(s.reported, []);
  }
});

T("a revoked Proxy a promise rejects with is caught where the task waited on it", async () => {
  const proxy = revoked();
  const s = virtual();
  const caught = await s.run(function* () {
    try {
      yield* wait(Promise.reject(proxy));
    } catch (e) {
      return e === proxy; // (not the Proxy itself: resolving a promise with it asks for its then)
    }
  });
  assert.is(caught, true);
  assert.equal(s.reported, []);
});

T.run();
