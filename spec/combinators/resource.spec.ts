// resource(): opened, handed out, and closed when the scope that asked for it ends, however it
// ends; after the scope's children, in reverse order, shielded; never left open.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { call, cancel, channel, fork, resource, sleep, spawn, suspend, timeout, type Operation } from "../../lib/index.js";
import { hostTurn, outcome, runVirtual, virtual } from "../helpers.js";

class Conn {
  closed = false;
  constructor(
    readonly name: string,
    readonly log: string[],
  ) {
    log.push(`open ${name}`);
  }
  *close(): Operation<void> {
    yield* sleep(5); // closing takes a while: a cancellation must not cut it short
    this.closed = true;
    this.log.push(`closed ${this.name}`);
  }
}
const conn = (name: string, log: string[]) => resource(() => new Conn(name, log), (c) => c.close());

test("closed when the scope that asked ends: after its children, the last opened first", async () => {
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    const used = yield* call(function* () {
      const a = yield* conn("a", log);
      const b = yield* conn("b", log);
      yield* spawn(function* reader() {
        try {
          yield* suspend();
        } finally {
          log.push(`reader done, b closed: ${b.closed}`);
        }
      });
      yield* sleep(1); // the reader is reading
      return [a, b];
    });
    log.push("call returned");
    return used.map((c) => c.closed);
  });
  assert.equal(value, [true, true]);
  assert.equal(log, ["open a", "open b", "reader done, b closed: false", "closed b", "closed a", "call returned"]);
});

test("closed, to the end, when the scope fails or is cancelled", async () => {
  const log: string[] = [];
  const s = virtual();
  await s.run(function* () {
    const failing = yield* fork(function* () {
      try {
        yield* call(function* () {
          yield* conn("f", log);
          throw new Error("boom");
        });
      } catch {
        log.push("failure caught");
      }
    });
    const cancelled = yield* fork(function* () {
      yield* conn("c", log);
      yield* suspend();
    });
    yield* sleep(1);
    yield* cancel(cancelled);
    log.push(`cancel returned at ${s.now()}`);
    yield* failing;
  });
  assert.equal(log, ["open f", "open c", "closed f", "failure caught", "closed c", "cancel returned at 6"]);
});

test("an opening that fails is thrown at the yield*, and nothing is closed", async () => {
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    try {
      yield* resource(
        () => Promise.reject(new Error("refused")),
        () => void log.push("close (must not)"),
      );
    } catch (e) {
      return (e as Error).message;
    }
  });
  assert.is(value, "refused");
  assert.equal(log, []);
});

test("open may be an operation, or a function returning an operation, a promise or the resource", async () => {
  const { value } = await runVirtual(function* () {
    const out: unknown[] = [];
    yield* call(function* () {
      out.push(yield* resource(sleep(1), () => {}));
      out.push(yield* resource(function* () { yield* sleep(1); return "op"; }, () => {}));
      out.push(yield* resource(() => Promise.resolve("promise"), () => {}));
      out.push(yield* resource(() => ["a value"], () => {}));
    });
    return out;
  });
  assert.equal(value, [undefined, "op", "promise", ["a value"]]);
});

test("what the opening spawns belongs to the caller's scope (a heartbeat lives as long as the resource)", async () => {
  const log: string[] = [];
  const s = virtual();
  await s.run(function* () {
    yield* call(function* () {
      yield* resource(
        function* () {
          yield* spawn(function* heartbeat() {
            for (;;) {
              yield* sleep(10);
              log.push(`beat at ${s.now()}`);
            }
          });
          return "session";
        },
        () => void log.push(`closed at ${s.now()}`),
      );
      yield* sleep(25);
    });
  });
  assert.equal(log, ["beat at 10", "beat at 20", "closed at 25"]);
});

test("opened inside a combinator, a resource closes when that combinator's scope ends", async () => {
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    const c = yield* timeout(100, conn("t", log));
    return c.closed; // closed already: open it where you use it
  });
  assert.is(value, true);
});

test("a failing close fails the scope with its error", async () => {
  const err = new Error("close failed");
  const o = await outcome(
    virtual().run(function* () {
      yield* resource(() => 1, () => {
        throw err;
      });
    }),
  );
  assert.equal(o, { state: "failed", error: err });
});

test("bad input throws at the call site", () => {
  assert.throws(() => resource(42 as never, () => {}), (e: unknown) => e instanceof TypeError && /resource\(\) expects an operation/.test(String(e)));
  assert.throws(() => resource(() => 1, "close" as never), (e: unknown) => e instanceof TypeError && /resource\(\) expects a close function/.test(String(e)));
});


test("cancelled the instant its opening completes, a resource is still closed", async () => {
  const log: string[] = [];
  const s = virtual();
  await s.run(function* () {
    const handles = channel<Conn>();
    const user = yield* fork(function* () {
      yield* resource(() => handles.receive(), (c) => c!.close());
      yield* suspend();
    });
    yield* sleep(1);
    yield* handles.send(new Conn("r", log)); // the opening completes…
    void user.cancel(); // …and its task is cancelled before it runs again
  });
  assert.equal(log, ["open r", "closed r"]);
});

test("opened by a task cancelled while it ran, a resource is still closed", async () => {
  const log: string[] = [];
  const s = virtual();
  const root = s.run(function* () {
    yield* fork(function* () {
      yield* call(() => void root.cancel()); // a callback cancels this task's ancestor
      yield* conn("r", log);
      yield* sleep(1);
      log.push("not reached");
    });
    yield* suspend();
  });
  assert.equal((await outcome(root)).state, "cancelled");
  assert.equal(log, ["open r", "closed r"]);
});

test("cancelled while a promised opening is pending, the handle it gives later is closed", async () => {
  const log: string[] = [];
  const s = virtual();
  let resolveOpen!: (c: Conn) => void;
  const user = s.run(function* () {
    yield* resource(
      () => new Promise<Conn>((r) => (resolveOpen = r)),
      (c) => c.close(),
    );
    log.push("not reached");
  });
  await hostTurn();
  await user.cancel();
  resolveOpen(new Conn("late", log)); // the connection completes after nobody wants it
  for (let i = 0; i < 5 && !log.includes("closed late"); i++) await hostTurn();
  assert.equal(log, ["open late", "closed late"]);
  assert.equal(s.reported, []);
});

test("a late handle whose close fails is reported, naming the resource's task", async () => {
  const s = virtual();
  let resolveOpen!: (n: number) => void;
  const user = s.run(function* opener() {
    yield* resource(
      () => new Promise<number>((r) => (resolveOpen = r)),
      () => {
        throw new Error("close failed");
      },
    );
  });
  await hostTurn();
  await user.cancel();
  resolveOpen(1);
  for (let i = 0; i < 5 && s.reported.length === 0; i++) await hostTurn();
  assert.equal(s.reported.map(String), ["Error: close failed"]);
});

test.run();
