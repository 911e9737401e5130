// An effect is the result of its own first step, whatever its subclass keeps under `value`: the
// scheduler tells it by its class and performs it (a Park with a `value` field, as in PARKED's
// example, was refused on e7ee656 as "yielded <its value>").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Park, PARKED, type Task } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

class Cell extends Park<number> {
  value = 42;
  enter(task: Task) {
    void task;
    return this.value + 1;
  }
  leave() {}
}

test("a Park whose subclass has a field named value is performed, not its value", async () => {
  const { value } = await runVirtual(function* () {
    return yield* new Cell();
  });
  assert.is(value, 43);
  assert.is(PARKED.description, "skein.parked");
});

test.run();
