// An effect is the result of its own first step, whatever its subclass keeps under `value`: the
// scheduler tells it by its class and performs it (a Park with a `value` field, as in PARKED's
// example, was refused on e7ee656 as "yielded <its value>").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Park, PARKED, type Task } from "../../lib/index.js";
import { runVirtual } from "../helpers.js";

// A JavaScript subclass's field `value = 42` (TypeScript refuses one over the getter), as an own property.
class Cell extends Park<number> {
  constructor() {
    super();
    Object.defineProperty(this, "value", { value: 42 });
  }
  enter(task: Task) {
    void task;
    return (this as unknown as { value: number }).value + 1;
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
