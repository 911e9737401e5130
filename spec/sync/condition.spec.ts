// A condition variable (as Trio's Condition): wait and notify need the lock held; wait releases
// it and holds it again on return, even when cancelled; notify wakes the oldest waiters first.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cancel, condition, fork, join, mutex, sleep } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

const C = suite("condition");

C("waiting and notifying need the lock held by the calling task", async () => {
  const { value } = await runVirtual(function* () {
    const cond = condition();
    const errors: string[] = [];
    try {
      yield* cond.wait();
    } catch (e) {
      errors.push((e as Error).message);
    }
    try {
      cond.notify();
    } catch (e) {
      errors.push((e as Error).message);
    }
    return errors;
  });
  assert.equal(value.length, 2);
  assert.match(value[0]!, /condition\(mutex#\d+\)\.wait\(\) needs its lock held by the calling task \(task #1 \S+\): call it inside cond\.withLock/);
  assert.match(value[1]!, /notify\(\) needs its lock held/);
});

C("wait releases the lock while it waits and holds it again when it returns", async () => {
  const { value } = await runVirtual(function* () {
    const cond = condition();
    let ready = false;
    const log: string[] = [];
    const waiter = yield* fork(function* () {
      yield* cond.withLock(function* () {
        while (!ready) {
          log.push(`waiting, locked: ${cond.lock.locked}`);
          yield* cond.wait();
        }
        log.push(`woke holding the lock: ${cond.lock.holder !== null}`);
      });
    });
    yield* sleep(1);
    log.push(`while it waits, the lock is free: ${!cond.lock.locked}`);
    yield* cond.withLock(function* () {
      ready = true;
      cond.notify();
      yield* sleep(5); // the woken waiter needs the lock: it waits for this to end
      log.push("notifier releases");
    });
    yield* join(waiter);
    return log;
  });
  assert.equal(value, [
    "waiting, locked: true",
    "while it waits, the lock is free: true",
    "notifier releases",
    "woke holding the lock: true",
  ]);
});

C("notify wakes the oldest waiters first, n at a time; notifyAll wakes the rest", async () => {
  const { value } = await runVirtual(function* () {
    const cond = condition(mutex());
    const woke: number[] = [];
    const tasks = [];
    for (let i = 0; i < 4; i++) {
      tasks.push(
        yield* fork(function* () {
          yield* cond.withLock(function* () {
            yield* cond.wait();
            woke.push(i);
          });
        }),
      );
    }
    yield* sleep(1);
    const counts: number[] = [cond.waiting];
    yield* cond.withLock(function* () {
      cond.notify(2);
    });
    yield* sleep(1);
    counts.push(cond.waiting);
    yield* cond.withLock(function* () {
      cond.notifyAll();
    });
    for (const t of tasks) yield* join(t);
    return [woke, counts];
  });
  assert.equal(value, [[0, 1, 2, 3], [4, 2]]);
});

C("a cancelled wait holds the lock again before the Cancelled goes on", async () => {
  const { value } = await runVirtual(function* () {
    const cond = condition();
    const log: string[] = [];
    const waiter = yield* fork(function* () {
      yield* cond.lock.lock();
      try {
        yield* cond.wait();
      } catch (e) {
        log.push(`${(e as Error).name}, lock held by me: ${cond.lock.holder !== null}`);
        throw e;
      } finally {
        cond.lock.unlock();
      }
    });
    yield* sleep(1);
    yield* cond.lock.lock(); // held by us while the cancel arrives: the waiter must wait for it
    const cancelling = yield* fork(() => cancel(waiter));
    yield* sleep(5);
    log.push("main releases");
    cond.lock.unlock();
    yield* join(cancelling);
    return [log, waiter.state, cond.lock.locked, cond.waiting];
  });
  assert.equal(value, [["main releases", "Cancelled, lock held by me: true"], "cancelled", false, 0]);
});

C("notified and cancelled in the same instant, a wait still holds the lock again", async () => {
  const { value } = await runVirtual(function* () {
    const cond = condition();
    const log: string[] = [];
    const waiter = yield* fork(function* () {
      yield* cond.withLock(function* () {
        try {
          yield* cond.wait();
        } finally {
          log.push(`finally, lock held by me: ${cond.lock.holder === waiter}`);
        }
      });
    });
    yield* sleep(1);
    yield* cond.withLock(function* () {
      cond.notify(); // the waiter is woken with nothing to lose…
      void waiter.cancel(); // …and cancelled before it runs
    });
    yield* sleep(1); // the waiter's cleanup has ended
    return [log, waiter.state, cond.lock.locked];
  });
  assert.equal(value, [["finally, lock held by me: true"], "cancelled", false]);
});

C.run();
