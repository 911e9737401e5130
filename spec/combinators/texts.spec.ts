// What all, race and timeout say when they cancel or give up is made only when it is shown: a
// timeout that does not fire, or a race whose losers wait on skein's own effects, makes no text.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { channel, fork, Park, PARKED, race, sleep, Task, timeout, TimeoutError, type Operation } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

/** An effect of the user's that counts how often it is described. */
class Counted extends Park<number> {
  described = 0;
  constructor(private readonly ready: boolean) {
    super();
  }
  enter(): number | typeof PARKED {
    return this.ready ? 7 : PARKED;
  }
  leave(): void {}
  override toString(): string {
    this.described++;
    return "counted()";
  }
}

/** Run `body` counting the calls of Task's `toString` (how a task is named in a message). */
async function namingTasks(body: () => Operation<unknown>): Promise<number> {
  const proto = Task.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, "toString")!;
  let n = 0;
  Object.defineProperty(proto, "toString", {
    ...own,
    value(this: Task) {
      n++;
      return own.value.call(this);
    },
  });
  try {
    await runVirtual(body);
  } finally {
    Object.defineProperty(proto, "toString", own);
  }
  return n;
}

test("timeout: the operation is described when the timer fires, not before", async () => {
  const fast = new Counted(true);
  const { value } = await runVirtual(function* () {
    return yield* timeout(100, fast);
  });
  assert.is(value, 7);
  assert.is(fast.described, 0);

  const slow = new Counted(false);
  const { error } = await runVirtual(function* () {
    return yield* timeout(10, slow);
  }).then(
    () => ({ error: undefined }),
    (e: unknown) => ({ error: e }),
  );
  assert.ok(error instanceof TimeoutError);
  assert.is((error as TimeoutError).message, "timeout(10) cut short counted() after 10 ms");
  assert.is((error as TimeoutError).operation, "counted()");
});

test("timeout: an operation whose toString throws still times out, unnamed", async () => {
  class Mute extends Counted {
    override toString(): string {
      throw new Error("no words");
    }
  }
  const caught = await runVirtual(function* () {
    try {
      yield* timeout(10, new Mute(false));
    } catch (e) {
      return e;
    }
  });
  assert.ok(caught.value instanceof TimeoutError);
  assert.is((caught.value as TimeoutError).message, "timeout(10) cut short an operation after 10 ms");
  assert.is(caught.now, 10);
});

test("no task is named for timeouts that do not fire, nor for races whose losers wait on skein's effects", async () => {
  const named = await namingTasks(function* () {
    const ch = channel<number>();
    yield* fork(function* () {
      for (let i = 1; i <= 20; i++) yield* ch.send(i);
    });
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += (yield* timeout(1000, ch.receive())) ?? 0; // the timer task is cancelled each time
    for (let i = 0; i < 10; i++) {
      const r = yield* race([ch.receive(), sleep(5)]); // the loser's wait is withdrawn, no Cancelled made
      sum += r ?? 0;
    }
    const idle = channel<number>();
    yield* race([idle.receive(), sleep(1)]); // the receive loses
    return sum;
  });
  assert.is(named, 0);
});

test.run();
