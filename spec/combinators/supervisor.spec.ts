// Supervisors, with the behaviour OTP documents: one-for-one, one-for-all and rest-for-one;
// permanent, transient and temporary children; restart intensity; shutdown in reverse start
// order; nesting and escalation; children added and removed while it runs.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  cancel, cooperate, shield, sleep, spawn, supervisor, suspend, type ChildSpec, type Operation, type Task,
} from "../../lib/index.js";
import { outcome, virtual } from "../helpers.js";

const S = suite("supervisor");

/** A child that logs its starts and stops, and fails (or returns) after `after` ms if asked. */
function child(name: string, log: string[], now: () => number, plan: { failAt?: number[]; returnAfter?: number } = {}): ChildSpec {
  let starts = 0;
  return {
    name,
    run: function* (): Operation<void> {
      const n = ++starts;
      log.push(`${name} start ${n} at ${now()}`);
      try {
        if (plan.failAt?.includes(n)) {
          yield* sleep(10);
          throw new Error(`${name} crashed`);
        }
        if (plan.returnAfter !== undefined) return yield* sleep(plan.returnAfter);
        yield* suspend();
      } finally {
        log.push(`${name} stop ${n}`);
      }
    },
  };
}

S("a child whose run is a plain function that throws at once is reported with its logical stack, not the run loop's frames", async () => {
  const s = virtual();
  // A function that checks its input before it makes the operation it returns.
  function connect(url: string): Operation<void> {
    throw new Error(`bad URL: ${url}`);
  }
  await s.run(function* app() {
    const t = yield* spawn(supervisor({ children: [{ name: "pool", restart: "temporary", run: () => connect("x") }] }));
    yield* sleep(10);
    yield* cancel(t);
  });
  const stack = ((s.reported[0] as Error).stack ?? "").split("\n");
  assert.equal(stack[0], "Error: bad URL: x");
  assert.match(stack[1]!, /^ {4}at connect \(/);
  assert.match(stack.join("\n"), /\n {4}at skein: in task #\d+ pool, spawned by #\d+ [^\n]*\n(?: {4}at skein: in task [^\n]*\n)* {4}at skein: in task #1 app, a root task$/);
  assert.not.ok(stack.some((l) => /Scheduler\.|supervised/.test(l)), stack.join("\n"));
});

S("one-for-one: a failing child is restarted alone; the others run on", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const sup = supervisor({ children: [child("a", log, now), child("b", log, now, { failAt: [1] }), child("c", log, now)] });
    const t = yield* spawn(sup);
    yield* sleep(50);
    yield* cancel(t);
  });
  assert.equal(log, [
    "a start 1 at 0", "b start 1 at 0", "c start 1 at 0",
    "b stop 1", "b start 2 at 10",
    "c stop 1", "b stop 2", "a stop 1", // shutdown: the last started first
  ]);
  assert.equal((s.reported as Error[]).map((e) => e.message), ["b crashed"]);
});

S("one-for-all: a failing child stops every other (last started first), then all start again in order", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const t = yield* spawn(supervisor({ strategy: "one-for-all", children: [child("a", log, now), child("b", log, now, { failAt: [1] }), child("c", log, now)] }));
    yield* sleep(50);
    yield* cancel(t);
  });
  assert.equal(log.slice(0, 10), [
    "a start 1 at 0", "b start 1 at 0", "c start 1 at 0",
    "b stop 1", "c stop 1", "a stop 1",
    "a start 2 at 10", "b start 2 at 10", "c start 2 at 10",
    "c stop 2",
  ]);
});

S("rest-for-one: a failing child stops those started after it, then restarts itself and them", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const t = yield* spawn(supervisor({ strategy: "rest-for-one", children: [child("a", log, now), child("b", log, now, { failAt: [1] }), child("c", log, now)] }));
    yield* sleep(50);
    yield* cancel(t);
  });
  assert.equal(log.slice(0, 6), ["a start 1 at 0", "b start 1 at 0", "c start 1 at 0", "b stop 1", "c stop 1", "b start 2 at 10"]);
  assert.equal(log[6], "c start 2 at 10");
  assert.not.ok(log.includes("a start 2 at 10"));
});

S("permanent children restart after returning; transient only after failing; temporary never", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  const value = await s.run(function* () {
    const sup = supervisor({
      intensity: { restarts: 10, within: 1000 },
      children: [
        { ...child("perm", log, now, { returnAfter: 20 }), restart: "permanent" },
        { ...child("trans-ok", log, now, { returnAfter: 20 }), restart: "transient" },
        { ...child("trans-bad", log, now, { failAt: [1] }), restart: "transient" },
        { ...child("temp", log, now, { failAt: [1] }), restart: "temporary" },
      ],
    });
    const t = yield* spawn(sup);
    yield* sleep(30);
    const names = sup.children.map((c) => `${c.name}:${c.running ? "running" : "ended"}:${c.restarts}`);
    yield* cancel(t);
    return names;
  });
  assert.equal(value, ["perm:running:1", "trans-ok:ended:0", "trans-bad:running:1", ...[]]); // temp is gone
  assert.ok(log.includes("perm start 2 at 20"));
  assert.ok(log.includes("trans-bad start 2 at 10"));
  assert.not.ok(log.some((l) => l.startsWith("trans-ok start 2") || l.startsWith("temp start 2")));
});

S("intensity: more than N restarts within T stops every child and fails with the last error", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  const o = await outcome(
    s.run(function* () {
      yield* supervisor({
        intensity: { restarts: 2, within: 100 },
        children: [child("steady", log, now), child("crashy", log, now, { failAt: [1, 2, 3, 4] })],
      });
    }),
  );
  assert.is(o.state, "failed");
  assert.is(((o as { error: Error }).error).message, "crashy crashed");
  assert.equal(log.filter((l) => l.startsWith("crashy start")).length, 3); // the first and 2 restarts
  assert.equal(log.slice(-2), ["crashy stop 3", "steady stop 1"]);
});

S("restarts spread beyond the window do not add up", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const t = yield* spawn(supervisor({ intensity: { restarts: 1, within: 8 }, children: [child("slow-crash", log, now, { failAt: [1, 2, 3, 4] })] }));
    yield* sleep(45); // crashes at 10, 20, 30, 40: never more than one restart in 8 ms
    yield* cancel(t);
    return t.state;
  });
  assert.equal(log.filter((l) => l.includes("start")).length, 5);
});

S("a backoff delays each restart", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const t = yield* spawn(supervisor({ backoff: (n) => 100 * n, intensity: { restarts: 5, within: 10_000 }, children: [child("x", log, now, { failAt: [1, 2] })] }));
    yield* sleep(400);
    yield* cancel(t);
  });
  assert.equal(log.filter((l) => l.includes("start")), ["x start 1 at 0", "x start 2 at 110", "x start 3 at 320"]);
});

S("cancelled, it stops its children one by one, the last started first, each after its cleanup", async () => {
  const s = virtual();
  const log: string[] = [];
  const slowStop = (name: string): ChildSpec => ({
    name,
    run: function* () {
      try {
        yield* suspend();
      } finally {
        yield* shield(sleep(10)); // a cleanup that takes time
        log.push(`${name} stopped at ${s.now()}`);
      }
    },
  });
  await s.run(function* () {
    const t = yield* spawn(supervisor({ children: [slowStop("first"), slowStop("second"), slowStop("third")] }));
    yield* sleep(1);
    yield* cancel(t);
    log.push(`cancel returned at ${s.now()}`);
  });
  assert.equal(log, ["third stopped at 11", "second stopped at 21", "first stopped at 31", "cancel returned at 31"]);
});

S("supervisors nest: a child supervisor that gives up is restarted by its parent, which escalates in turn", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  const o = await outcome(
    s.run(function* () {
      yield* supervisor({
        name: "top",
        intensity: { restarts: 1, within: 1000 },
        children: [
          {
            name: "inner",
            run: () => supervisor({ name: "inner", intensity: { restarts: 0, within: 1000 }, children: [child("w", log, now, { failAt: [1, 2, 3, 4, 5] })] }),
          },
        ],
      });
    }),
  );
  assert.is(o.state, "failed"); // inner gave up twice; top allowed one restart
  assert.equal(log.filter((l) => l.includes("start")).length, 2);
});

S("children can be added and removed while it runs; names are unique", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  const value = await s.run(function* () {
    const sup = supervisor({ children: [child("a", log, now)] });
    const t = yield* spawn(sup);
    yield* sleep(1);
    const added: Task | null = yield* sup.add(child("b", log, now));
    let duplicate = "";
    try {
      yield* sup.add(child("b", log, now));
    } catch (e) {
      duplicate = (e as Error).message;
    }
    yield* sleep(1);
    yield* sup.remove("a");
    const names = sup.children.map((c) => c.name);
    let missing = "";
    try {
      yield* sup.remove("zzz");
    } catch (e) {
      missing = (e as Error).message;
    }
    yield* cancel(t);
    return { running: added?.name, duplicate, names, missing };
  });
  assert.equal(value.running, "b");
  assert.match(value.duplicate, /has a child named "b" already/);
  assert.equal(value.names, ["b"]);
  assert.match(value.missing, /has no child named "zzz"/);
  assert.equal(log, ["a start 1 at 0", "b start 1 at 1", "a stop 1", "b stop 1"]);
});

S("onExit hears every end of a child", async () => {
  const s = virtual();
  const exits: string[] = [];
  await s.run(function* () {
    const t = yield* spawn(
      supervisor({
        children: [child("x", [], () => s.now(), { failAt: [1] })],
        onExit: (e) => exits.push(`${e.name} ${e.how} ${e.restarting}`),
      }),
    );
    yield* sleep(20);
    yield* cancel(t);
  });
  assert.equal(exits, ["x failed true"]);
  assert.equal(s.reported, []); // told to onExit: not reported twice
});

S("it runs once; bad options and child specs fail at the call", async () => {
  const sup = supervisor();
  const s = virtual();
  const first = s.run(function* () {
    yield* spawn(sup);
    yield* sleep(1);
    try {
      yield* sup;
    } catch (e) {
      return (e as Error).message;
    }
  });
  const t = await outcome(first);
  assert.match(String((t as { value?: unknown; error?: unknown }).value ?? (t as { error: unknown }).error), /runs once/);
  assert.throws(() => supervisor({ strategy: "all" as never }), TypeError);
  assert.throws(() => supervisor({ intensity: { restarts: -1, within: 10 } }), RangeError);
  assert.throws(() => supervisor({ children: [{ name: "x", run: 5 as never }] }), /run must be a function/);
  assert.throws(() => supervisor({ children: [{ name: "x", run: () => 1 }, { name: "x", run: () => 1 }] }), /has a child named "x" already/);
});

S("a child whose cleanup fails while the supervisor stops it is reported, not dropped", async () => {
  const s = virtual();
  const exits: string[] = [];
  let bStops = 0;
  await s.run(function* () {
    const t = yield* spawn(
      supervisor({
        strategy: "one-for-all",
        children: [
          child("a", [], () => s.now(), { failAt: [1] }),
          {
            name: "b",
            run: function* () {
              try {
                yield* suspend();
              } finally {
                if (++bStops === 1) throw new Error("b could not close"); // only the first time
              }
            },
          },
        ],
        onExit: (e) => exits.push(`${e.name} ${e.how} ${e.restarting} ${(e.error as Error | undefined)?.message ?? ""}`.trim()),
      }),
    );
    yield* sleep(20);
    yield* cancel(t);
  });
  assert.equal(exits, ["a failed true a crashed", "b failed false b could not close"]);
});

S("one-for-all and rest-for-one stop a temporary sibling and forget it, never restart it", async () => {
  for (const strategy of ["one-for-all", "rest-for-one"] as const) {
    const s = virtual();
    const log: string[] = [];
    const now = () => s.now();
    const names = await s.run(function* () {
      const sup = supervisor({ strategy, children: [child("a", log, now, { failAt: [1] }), { ...child("tmp", log, now), restart: "temporary" }] });
      const t = yield* spawn(sup);
      yield* sleep(20);
      const names = sup.children.map((c) => c.name);
      yield* cancel(t);
      return names;
    });
    assert.equal(log.join(", "), "a start 1 at 0, tmp start 1 at 0, a stop 1, tmp stop 1, a start 2 at 10, a stop 2", strategy);
    assert.equal(names, ["a"], strategy);
  }
});

S("add and remove never hang: queued as it stops, they fail saying it has stopped", async () => {
  const s = virtual();
  const value = await s.run(function* () {
    const sup = supervisor({ children: [child("a", [], () => s.now())] });
    const t = yield* spawn(sup);
    yield* sleep(1);
    void t.cancel(); // its shutdown is posted before the add below
    yield* cooperate();
    const errors: string[] = [];
    for (const op of [() => sup.add(child("b", [], () => s.now())), () => sup.remove("a")]) {
      try {
        yield* op();
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return errors;
  });
  assert.equal(value.length, 2);
  for (const m of value) assert.match(m, /supervisor has stopped: cannot (add b|remove a)/);
});

S("add and remove work while it is starting", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const sup = supervisor({ children: [child("a", log, now)] });
    const t = yield* spawn(sup);
    yield* cooperate(); // it has taken its first step, and not yet started its children
    const b = yield* sup.add(child("b", log, now));
    log.push(`added ${b?.name}`);
    yield* sup.remove("a");
    yield* cancel(t);
  });
  assert.equal(log, ["a start 1 at 0", "b start 1 at 0", "added b", "a stop 1", "b stop 1"]);
});

S("a supervisor of 100,000 children starts, restarts one and stops them all", async () => {
  const s = virtual();
  const N = 100_000;
  let starts = 0;
  let stops = 0;
  await s.run(function* () {
    const children: ChildSpec[] = [];
    for (let i = 0; i < N; i++) {
      children.push({
        name: `w${i}`,
        run: function* () {
          starts++;
          try {
            yield* sleep(i === N - 1 && starts <= N ? 5 : 1e9); // the last fails once
            throw new Error("once");
          } finally {
            stops++;
          }
        },
      });
    }
    const t = yield* spawn(supervisor({ children, backoff: 1 }));
    yield* sleep(100);
    yield* cancel(t);
  });
  assert.is(starts, N + 1);
  assert.is(stops, N + 1);
  assert.is(s.reported.length, 1);
});

S("an onExit or a backoff that throws is reported, and the supervisor carries on", async () => {
  const s = virtual();
  const log: string[] = [];
  const now = () => s.now();
  await s.run(function* () {
    const t = yield* spawn(
      supervisor({
        children: [child("a", log, now, { failAt: [1] })],
        onExit: () => {
          throw new Error("onExit broke");
        },
        backoff: () => {
          throw new Error("backoff broke");
        },
      }),
    );
    yield* sleep(50);
    yield* cancel(t);
  });
  assert.equal(log, ["a start 1 at 0", "a stop 1", "a start 2 at 10", "a stop 2"]);
  assert.equal((s.reported as Error[]).map((e) => e.message), ["onExit broke", "backoff broke"]);
});

S("a child failure that makes it give up is reported once: by whoever gets the error", async () => {
  const s = virtual();
  const o = await outcome(
    s.run(function* () {
      yield* supervisor({ intensity: { restarts: 0, within: 1000 }, children: [child("w", [], () => s.now(), { failAt: [1] })] });
    }),
  );
  assert.is(o.state, "failed");
  assert.equal(s.reported, []); // the error fails the supervisor: it is not also reported as a restart
});

S.run();
