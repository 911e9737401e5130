// A mutex with an owner (as Trio's Lock): one holder, FIFO waiters, only the holder unlocks, not
// re-entrant, tryLock, a cancelled waiter takes nothing.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { all, cancel, fork, join, mutex, race, self, sleep } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

const M = suite("mutex");

const message = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

M("one holder at a time: read-modify-write under the lock does not race", async () => {
  const { value } = await runVirtual(function* () {
    const m = mutex();
    let balance = 0;
    yield* all(
      Array.from({ length: 5 }, () =>
        m.withLock(function* () {
          const read = balance;
          yield* sleep(1); // without the lock, the writes would race
          balance = read + 10;
        }),
      ),
    );
    return [balance, m.locked];
  });
  assert.equal(value, [50, false]);
});

M("it has an owner: locked, holder; only the holder may unlock, and says so", async () => {
  const { value } = await runVirtual(function* () {
    const m = mutex();
    const notHeld = message(() => m.unlock());
    const outside = yield* fork(function* holder() {
      yield* m.lock();
      yield* sleep(10);
      m.unlock();
    });
    yield* sleep(1);
    const me = yield* self();
    const byOther = message(() => m.unlock());
    const state = [m.locked, m.holder === outside, m.holder === me];
    yield* join(outside);
    return { notHeld, byOther, state, after: [m.locked, m.holder] };
  });
  assert.match(value.notHeld, /mutex#\d+\.unlock\(\): the lock is not held/);
  assert.match(value.byOther, /mutex#\d+\.unlock\(\) was called by task #1 \S+, but task #\d+ holder holds it: only the task that locked it may unlock it/);
  assert.equal(value.state, [true, true, false]);
  assert.equal(value.after, [false, null]);
});

M("unlocking from outside any coroutine is an error", async () => {
  const m = mutex();
  assert.match(message(() => m.unlock()), /not held/);
  const s = (await import("../helpers.js")).virtual();
  await s.run(m.lock());
  assert.match(message(() => m.unlock()), /called outside a coroutine, but task #1 \S+ holds it/);
});

M("it is not re-entrant: locking it again from its holder fails instead of waiting for ever", async () => {
  const { value } = await runVirtual(function* () {
    const m = mutex();
    yield* m.lock();
    try {
      yield* m.lock();
    } catch (e) {
      m.unlock();
      return (e as Error).message;
    }
  });
  assert.match(value!, /task #1 \S+ locked mutex#\d+ again while holding it: a mutex is not re-entrant/);
});

M("tryLock takes a free lock at once, refuses a held one, and needs a coroutine", async () => {
  const { value } = await runVirtual(function* () {
    const m = mutex();
    const first = m.tryLock();
    const other = yield* fork(function* () {
      return m.tryLock();
    });
    const second = yield* join(other);
    m.unlock();
    return [first, second, m.locked];
  });
  assert.equal(value, [true, false, false]);
  assert.match(message(() => mutex().tryLock()), /tryLock\(\) was called outside a coroutine/);
});

M("waiters get it first in, first out; a cancelled waiter takes nothing", async () => {
  const { value } = await runVirtual(function* () {
    const m = mutex();
    const order: string[] = [];
    yield* m.lock();
    const waiters = [];
    for (const name of ["a", "b", "c"]) {
      waiters.push(
        yield* fork(function* () {
          yield* m.withLock(function* () {
            order.push(name);
            yield* sleep(1);
          });
        }),
      );
    }
    yield* sleep(1);
    yield* cancel(waiters[1]!); // b gives up while waiting
    m.unlock();
    yield* join(waiters[0]!);
    yield* join(waiters[2]!);
    return [order, m.locked];
  });
  assert.equal(value, [["a", "c"], false]);
});

M("a lock that loses a race is let go", async () => {
  const { value } = await runVirtual(function* () {
    const m = mutex();
    yield* m.lock();
    const racing = yield* fork(() => race([m.lock(), sleep(5)]));
    yield* sleep(5); // the sleep wins in the instant the lock is handed over
    m.unlock();
    yield* join(racing);
    return m.locked;
  });
  assert.is(value, false);
});

M.run();
