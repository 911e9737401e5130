// Park: a library object's own effect; wake() settles once, and a cancelled waiter is forgotten.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cancel, fork, join, Park, PARKED, sleep, wake, type Task } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

class Gate {
  open = false;
  readonly waiting: Task[] = [];
  readonly pass = new (class extends Park<string> {
    constructor(readonly gate: Gate) {
      super();
    }
    enter(task: Task) {
      if (this.gate.open) return "was open";
      this.gate.waiting.push(task);
      return PARKED;
    }
    leave(task: Task) {
      this.gate.waiting.splice(this.gate.waiting.indexOf(task), 1);
    }
  })(this);
}

test("a parked task is woken once with the value; later wakes are refused", async () => {
  const { value } = await runVirtual(function* () {
    const gate = new Gate();
    const t = yield* fork(() => gate.pass);
    yield* sleep(1);
    const task = gate.waiting[0]!;
    const first = wake(task, gate.pass, "opened");
    const second = wake(task, gate.pass, "again");
    gate.open = true;
    return [first, second, yield* join(t), yield* gate.pass];
  });
  assert.equal(value, [true, false, "opened", "was open"]);
});

test("a cancelled parked task is removed through leave()", async () => {
  const { value } = await runVirtual(function* () {
    const gate = new Gate();
    const t = yield* fork(() => gate.pass);
    yield* sleep(1);
    yield* cancel(t);
    return gate.waiting.length;
  });
  assert.is(value, 0);
});

test("a Park of a library may have a method named attempt of its own: yield* still enters it", async () => {
  // A try-lock, say: its `attempt()` is its own business, not a hook of skein's.
  class Lock {
    held = false;
    readonly waiting: Task[] = [];
    attempt(): boolean {
      if (this.held) return false;
      this.held = true;
      return true;
    }
    readonly acquire = new (class extends Park<string> {
      constructor(readonly lock: Lock) {
        super();
      }
      attempt(): string {
        return "not skein's";
      }
      enter(task: Task) {
        if (this.lock.attempt()) return "acquired";
        this.lock.waiting.push(task);
        return PARKED;
      }
      leave(task: Task) {
        this.lock.waiting.splice(this.lock.waiting.indexOf(task), 1);
      }
    })(this);
  }
  const { value } = await runVirtual(function* () {
    const lock = new Lock();
    const first = yield* lock.acquire;
    const second = yield* fork(() => lock.acquire);
    yield* sleep(1);
    const waiting = lock.waiting.length;
    wake(lock.waiting[0]!, lock.acquire, "handed over");
    return [first, waiting, yield* join(second)];
  });
  assert.equal(value, ["acquired", 1, "handed over"]);
});

test.run();
