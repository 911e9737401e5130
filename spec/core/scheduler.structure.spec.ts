// Structured concurrency: forks are waited for, spawns are cancelled when the body ends, a call is
// a scope, and errors propagate like exceptions — first error wins, the rest are reported.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { call, Cancelled, createScheduler, fork, isCancelled, join, sleep, spawn, suspend, type Operation, type Task } from "../../lib/index.js";
import { outcome, runVirtual, virtual } from "../helpers.js";

const Fork = suite("fork and spawn lifetimes");

Fork("a parent's result is not visible until its forks have finished", async () => {
  const log: string[] = [];
  const { value, now } = await runVirtual(function* () {
    yield* fork(function* () {
      yield* sleep(100);
      log.push("fork done");
    });
    log.push("body done");
    return "parent";
  });
  assert.is(value, "parent");
  assert.is(now, 100);
  assert.equal(log, ["body done", "fork done"]);
});

Fork("spawns are cancelled when the body ends, after the forks have finished, newest first", async () => {
  const log: string[] = [];
  const s = virtual();
  await s.run(function* () {
    const background = (name: string) =>
      function* () {
        try {
          yield* suspend();
        } finally {
          log.push(`${name} cancelled at ${s.now()}`);
        }
      };
    yield* spawn(background("first spawn"));
    yield* spawn(background("second spawn"));
    yield* fork(function* () {
      yield* sleep(30);
      log.push("fork done");
    });
  });
  assert.equal(log, ["fork done", "second spawn cancelled at 30", "first spawn cancelled at 30"]);
});

Fork("a fork may rely on a spawned helper while it runs", async () => {
  const { value } = await runVirtual(function* () {
    const served: number[] = [];
    yield* spawn(function* server() {
      for (let i = 0; ; i++) {
        yield* sleep(10);
        served.push(i);
      }
    });
    yield* fork(function* client() {
      yield* sleep(35);
    });
    return served;
  });
  assert.equal(value, [0, 1, 2]);
});

Fork("a call is a scope: its children are finished when it returns", async () => {
  const log: string[] = [];
  await runVirtual(function* () {
    yield* call(function* () {
      yield* fork(function* () {
        yield* sleep(10);
        log.push("fork");
      });
      yield* spawn(function* () {
        try {
          yield* suspend();
        } finally {
          log.push("spawn cancelled");
        }
      });
    });
    log.push("after call");
  });
  assert.equal(log, ["fork", "spawn cancelled", "after call"]);
});

Fork("no task outlives its parent", async () => {
  const ended: string[] = [];
  await runVirtual(function* () {
    function* tree(name: string, depth: number): Operation<void> {
      try {
        if (depth > 0) {
          yield* fork(() => tree(`${name}.f`, depth - 1));
          yield* spawn(() => tree(`${name}.s`, depth - 1));
        }
        yield* sleep(depth * 3);
      } finally {
        ended.push(name);
      }
    }
    yield* tree("r", 3);
  });
  // Each task's finally ran before its parent's.
  for (const name of ended) {
    const parent = name.slice(0, name.lastIndexOf("."));
    if (parent) assert.ok(ended.indexOf(name) < ended.indexOf(parent), `${name} outlived ${parent}`);
  }
  assert.is(ended.length, 15);
});

Fork("a body that has ended is woken once its children are done, not once for each child", async () => {
  for (const cancelled of [false, true]) {
    let wakes = 0;
    let parent: Task | undefined;
    const s = createScheduler({ clock: "virtual", observer: { resumed: (t) => void (t === parent && wakes++) } });
    parent = s.run(function* () {
      for (let i = 0; i < 1000; i++) yield* fork(() => sleep(10 + i)); // each ends alone
      for (let i = 0; i < 1000; i++) yield* spawn(() => sleep(Infinity));
    });
    if (cancelled) setImmediate(() => parent!.cancel());
    await parent.then(
      () => {},
      () => {},
    );
    assert.ok(wakes <= 10, `woken ${wakes} times for 2000 children${cancelled ? ", cancelled" : ""}`);
  }
});

Fork.run();

const Errors = suite("errors");

Errors("a child's error cancels its siblings and the parent, which fails with that same error", async () => {
  const err = new Error("child failed");
  const log: string[] = [];
  const s = virtual();
  const t = s.run(function* parent() {
    try {
      yield* fork(function* sibling() {
        try {
          yield* sleep(1000);
        } finally {
          log.push("sibling cleaned up");
        }
      });
      yield* fork(function* failing() {
        yield* sleep(10);
        throw err;
      });
      yield* sleep(1000);
    } catch (e) {
      log.push(`parent body got ${isCancelled(e) ? "Cancelled" : e}`);
      throw e;
    }
  });
  const o = await outcome(t);
  assert.equal(o, { state: "failed", error: err });
  assert.equal(log, ["parent body got Cancelled", "sibling cleaned up"]);
  assert.is(s.now(), 10);
});

Errors("the error can be caught around the call that owns the child", async () => {
  const err = new Error("inner");
  const { value } = await runVirtual(function* () {
    try {
      yield* call(function* () {
        yield* fork(function* () {
          throw err;
        });
        yield* suspend();
      });
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
});

Errors("a parent joining a failing child sees Cancelled; the error goes to the owner scope", async () => {
  const err = new Error("child");
  const seen: unknown[] = [];
  const { value } = await runVirtual(function* () {
    try {
      yield* call(function* () {
        const child = yield* fork(function* () {
          yield* sleep(1);
          throw err;
        });
        try {
          yield* join(child);
        } catch (e) {
          seen.push(isCancelled(e));
          throw e;
        }
      });
    } catch (e) {
      return e;
    }
  });
  assert.is(value, err);
  assert.equal(seen, [true]);
});

Errors("a thrown error keeps its identity through any number of scopes", async () => {
  const err = new TypeError("deep");
  function* level(n: number): Operation<never> {
    if (n === 0) throw err;
    yield* call(function* () {
      yield* fork(() => level(n - 1));
      yield* suspend();
    });
    throw new Error("unreachable");
  }
  const s = virtual();
  const o = await outcome(s.run(() => level(20)));
  assert.equal(o, { state: "failed", error: err });
});

Errors("two failing children: the first error propagates, the second is reported, none is lost", async () => {
  const first = new Error("first");
  const second = new Error("second");
  const s = virtual();
  const t = s.run(function* () {
    yield* fork(function* () {
      yield* sleep(10);
      throw first;
    });
    yield* fork(function* () {
      try {
        yield* sleep(1000);
      } finally {
        throw second; // fails while being cancelled
      }
    });
  });
  const o = await outcome(t);
  assert.equal(o, { state: "failed", error: first });
  assert.equal(s.reported, [second]);
});

Errors("a cleanup that throws while the scope fails is reported, not dropped", async () => {
  const first = new Error("first");
  const cleanup = new Error("cleanup");
  const s = virtual();
  const o = await outcome(
    s.run(function* () {
      yield* fork(function* () {
        throw first;
      });
      try {
        yield* suspend();
      } finally {
        throw cleanup;
      }
    }),
  );
  assert.equal(o, { state: "failed", error: first });
  assert.equal(s.reported, [cleanup]);
});

Errors("rethrowing Cancelled from a join of a cancelled task is a failure, not a silent cancel", async () => {
  const s = virtual();
  const o = await outcome(
    s.run(function* () {
      const t = yield* spawn(function* () {
        yield* suspend();
      });
      yield* sleep(1);
      t.cancel();
      yield* join(t);
    }),
  );
  assert.is(o.state, "failed");
  assert.instance((o as { error: unknown }).error, Cancelled);
});

Errors.run();
