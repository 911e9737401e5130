// A wait entered inside its `yield*` (Park.next, Scheduler.parkHere): the task is enlisted there and
// the step loop confirms the wait when the body hands it the effect. These are the ways user code
// can do something else in between: a wrapper that steps a coroutine by hand, a function a handler
// calls, a wake from the wrapper's own code. Each must leave the task waiting exactly once, or not
// at all, and lose no value.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { action, call, cancel, channel, fork, join, mutex, Park, PARKED, receive, semaphore, sleep, tell, wake, type Channel, type Task } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

const waiters = (ch: Channel<any>) => (ch as unknown as { receivers: { size: number } }).receivers.size;

/** A coroutine whose first step is a receive on `ch`, as a wrapper would step it. */
function* receiveOne(ch: Channel<number>): Generator<unknown, number | undefined, unknown> {
  return yield* ch.receive();
}

const P = suite("a wait entered inside its yield*");

P("a receive that must wait, under plain yield* nesting: the task is enlisted once and gets the value", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const t = yield* fork(function* () {
      return yield* call(function* () {
        return yield* receiveOne(ch);
      });
    });
    yield* sleep(1);
    const enlisted = waiters(ch);
    yield* ch.send(7);
    return [enlisted, yield* join(t), waiters(ch)];
  });
  assert.equal(value, [1, 7, 0]);
});

P("a wrapper that steps a waiting receive by hand and yields what it yielded: enlisted once, and it gets the value", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const t = yield* fork(function* () {
      const it = receiveOne(ch);
      let r = it.next();
      while (r.done !== true) r = it.next(yield r.value as never);
      return r.value;
    });
    yield* sleep(1);
    const enlisted = waiters(ch);
    yield* ch.send(5);
    return [enlisted, yield* join(t)];
  });
  assert.equal(value, [1, 5]);
});

P("a wrapper that steps a waiting receive by hand and then returns: the task is no longer a receiver, and a value sent later is not lost", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const t = yield* fork(function* () {
      const it = receiveOne(ch);
      it.next(); // would wait: abandoned
      return "gave up";
    });
    const ended = yield* join(t);
    return [ended, waiters(ch), ch.trySend(1), ch.tryReceive()];
  });
  assert.equal(value, ["gave up", 0, false, undefined]);
});

P("a wrapper that steps a waiting receive by hand and then sleeps: not a receiver while it sleeps; it receives once it yields the receive", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const t = yield* fork(function* () {
      const it = receiveOne(ch);
      const r = it.next();
      yield* sleep(10);
      return it.next(yield r.value as never).value;
    });
    yield* sleep(5);
    const sleeping = [waiters(ch), ch.trySend(1)];
    yield* sleep(10);
    const waiting = waiters(ch);
    yield* ch.send(2);
    return [...sleeping, waiting, yield* join(t)];
  });
  assert.equal(value, [0, false, 1, 2]);
});

P("a wrapper that throws after stepping a waiting receive by hand: its caller gets the error, and the task is no longer a receiver", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const t = yield* fork(function* () {
      try {
        yield* call(function* () {
          receiveOne(ch).next();
          throw new Error("wrapper failed");
        });
        return "no error";
      } catch (e) {
        return (e as Error).message;
      }
    });
    return [yield* join(t), waiters(ch), ch.trySend(1)];
  });
  assert.equal(value, ["wrapper failed", 0, false]);
});

P("woken by the wrapper's own code before it yields the receive: the task gets the value", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const r = receiveOne(ch);
    const first = r.next(); // waits: this task is enlisted
    const delivered = ch.trySend(9); // wakes it, before its body has handed on the wait
    const got = r.next(yield first.value as never).value;
    return [delivered, got, waiters(ch)];
  });
  assert.equal(value, [true, 9, 0]);
});

P("woken by the wrapper's own code, which then goes on to something else: the value goes back to the channel, first in line", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>(2);
    receiveOne(ch).next(); // waits: this task is enlisted
    const delivered = ch.trySend(9); // wakes it
    ch.trySend(10);
    yield* sleep(1); // the receive was not handed on: undone, 9 given back
    return [delivered, ch.tryReceive(), ch.tryReceive(), waiters(ch)];
  });
  assert.equal(value, [true, 9, 10, 0]);
});

P("a waiting receive stepped by hand in a function a handler calls, which then returns a promise: not left a receiver while the promise is awaited", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    let during = -1;
    const t = yield* fork(function* () {
      // A plain `yield`: the call is performed by its handler, which calls the function.
      yield call(() => {
        receiveOne(ch).next();
        return new Promise<void>((resolve) => setTimeout(resolve, 1));
      });
      return "done";
    });
    yield* call(() => new Promise<void>((resolve) => setImmediate(resolve)));
    during = waiters(ch);
    const taken = ch.trySend(3);
    return [during, taken, yield* join(t), waiters(ch)];
  });
  assert.equal(value, [0, false, "done", 0]);
});

P("each kind of wait, entered inside its yield* and then given what it waits for: a semaphore, a mutex, a mailbox", async () => {
  const { value } = await runVirtual(function* () {
    const sem = semaphore(1);
    const lock = mutex();
    const log: string[] = [];
    yield* sem.acquire();
    yield* lock.lock();
    const a = yield* fork(function* () {
      yield* sem.acquire();
      log.push("acquired");
      sem.release();
    });
    const b = yield* fork(function* () {
      yield* lock.lock();
      log.push("locked");
      lock.unlock();
    });
    const c = yield* fork(function* () {
      log.push(`received ${yield* receive()}`);
    });
    yield* sleep(1);
    sem.release();
    lock.unlock();
    tell(c, "hi");
    yield* join(a);
    yield* join(b);
    yield* join(c);
    return log.sort();
  });
  assert.equal(value, ["acquired", "locked", "received hi"]);
});

P("a function a handler calls steps a waiting receive by hand and returns a value, a thousand times (time slices end among them): every value arrives, and the task is never left a receiver", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const bad: unknown[] = [];
    for (let i = 0; i < 1000; i++) {
      // A plain `yield`: the call is performed by its handler, which calls the function.
      const x = yield call(() => {
        receiveOne(ch).next();
        return i;
      });
      if (x !== i || waiters(ch) !== 0) bad.push([i, x, waiters(ch)]);
    }
    return [bad, waiters(ch), ch.trySend(1)];
  });
  assert.equal(value, [[], 0, false]);
});

P("code a handler runs after it suspended the task (an action's executor, a thenable's then) steps a waiting receive by hand: the task still waits for what it waited on, and is never a receiver", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    let resolveLater: (v: number) => void = () => {};
    yield* fork(function* () {
      yield* sleep(5);
      resolveLater(42);
    });
    const later = yield* action<number>((resolve) => {
      receiveOne(ch).next();
      resolveLater = resolve;
    });
    const now = yield* action<number>((resolve) => {
      receiveOne(ch).next();
      resolve(43);
    });
    const thenable = { then: (resolve: (v: number) => void) => (receiveOne(ch).next(), resolve(7)) };
    const awaited = yield thenable as never;
    return [later, now, awaited, waiters(ch), ch.trySend(1)];
  });
  assert.equal(value, [42, 43, 7, 0, false]);
});

P("a cancelled task's teardown steps a waiting receive by hand: the cancel completes, and no receiver is left", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    const target = yield* fork(function* () {
      yield* action<void>(() => () => void receiveOne(ch).next());
    });
    yield* sleep(1);
    yield* cancel(target);
    return [target.state, waiters(ch), ch.trySend(1)];
  });
  assert.equal(value, ["cancelled", 0, false]);
});

P("a Park of one's own whose enter steps a channel's send or receive by hand, then waits in its own queue: only its own wait stands", async () => {
  const { value } = await runVirtual(function* () {
    const ch = channel<number>();
    let who: Task | null = null;
    let gate: Park<string> | null = null;
    class Gate extends Park<string> {
      constructor(readonly sends: boolean) {
        super();
      }
      enter(t: Task): typeof PARKED {
        if (this.sends) (function* () { yield* ch.send(5); })().next();
        else receiveOne(ch).next();
        who = t;
        gate = this;
        return PARKED;
      }
      leave(): void {
        who = null;
      }
    }
    const out: unknown[] = [];
    for (const sends of [false, true]) {
      const t = yield* fork(function* () {
        return yield* new Gate(sends);
      });
      yield* sleep(1);
      out.push(waiters(ch), ch.trySend(9), ch.tryReceive());
      wake(who!, gate!, "opened");
      out.push(yield* join(t));
    }
    return out;
  });
  assert.equal(value, [0, false, undefined, "opened", 0, false, undefined, "opened"]);
});

P("a wait whose enter throws, inside its yield*: the error is thrown where the task yielded it, and the task goes on", async () => {
  class Refusing extends Park<void> {
    enter(): never {
      throw new RangeError("no entry");
    }
    leave(): void {}
  }
  const { value } = await runVirtual(function* () {
    let caught: unknown;
    try {
      yield* new Refusing();
    } catch (e) {
      caught = e;
    }
    yield* sleep(1);
    return [caught instanceof RangeError, (caught as Error).message];
  });
  assert.equal(value, [true, "no entry"]);
});

P.run();
