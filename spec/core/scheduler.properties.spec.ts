// Property-based: random task trees with random failures, cancels, sleeps, catch-alls that swallow
// Cancelled and cleanups with or without a shield, on the virtual clock. Every cancel returns,
// every finally runs exactly once, no task outlives its scope, every error is observed exactly
// once, and nothing (timer, waiter, task) is left behind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { call, cancel, fork, isCancelled, shield, sleep, spawn, type Operation, type Task } from "../../lib/index.js";
import { virtual } from "../helpers.js";

interface Node {
  kind: "fork" | "spawn" | "call";
  sleep: number;
  cleanup: number;
  fails: boolean;
  catches: boolean;
  /** How its main wait treats errors: rethrows them, swallows one and waits again, or swallows
   * them in a retry loop (which skein reports and stops after 100 Cancelled). */
  swallows: "no" | "once" | "loop";
  /** Its cleanup waits in a shield (runs to its end) or not (cut short when cancelled). */
  shielded: boolean;
  children: Node[];
}

const node: fc.Memo<Node> = fc.memo((depth) =>
  fc.record({
    kind: fc.constantFrom("fork", "spawn", "call"),
    sleep: fc.integer({ min: 0, max: 30 }),
    cleanup: fc.integer({ min: 0, max: 10 }),
    fails: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    catches: fc.boolean(),
    swallows: fc.constantFrom("no", "no", "once", "loop"),
    shielded: fc.boolean(),
    children: depth > 1 ? fc.array(node(depth - 1), { maxLength: 3 }) : fc.constant([]),
  }),
);
const cancels = fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), target: fc.nat() }), { maxLength: 4 });

export async function check(root: Node, cancelPlan: Array<{ at: number; target: number }>): Promise<void> {
  const s = virtual();
  const ids = new Map<Node, number>();
  const started = new Set<number>();
  const finallies = new Map<number, number>();
  const thrown: Error[] = [];
  const superseded = new Set<unknown>();
  const caught: unknown[] = [];
  const tasks: Task[] = [];
  const callTasks = new Map<number, Task[]>(); // tasks started inside each call node

  let next = 0;
  const number = (n: Node) => {
    ids.set(n, next++);
    n.children.forEach(number);
  };
  number(root);

  function* body(n: Node, scope: Task[]): Operation<void> {
    const id = ids.get(n)!;
    started.add(id);
    let failure = false;
    let propagating: unknown = undefined;
    try {
      for (const c of n.children) {
        if (c.kind === "call") {
          const inner: Task[] = [];
          callTasks.set(ids.get(c)!, inner);
          try {
            yield* call(() => body(c, inner));
          } catch (e) {
            if (!c.catches || isCancelled(e)) throw e;
            caught.push(e);
          }
          // A call is a scope: everything started inside it has finished.
          for (const t of inner) assert.is.not(t.state, "running", `a task outlived call #${ids.get(c)}`);
        } else {
          const start = c.kind === "fork" ? fork : spawn;
          const t = yield* start(() => body(c, scope));
          tasks.push(t);
          if (scope !== tasks) scope.push(t);
        }
      }
      if (n.swallows === "no") {
        yield* sleep(n.sleep);
      } else if (n.swallows === "once") {
        try {
          yield* sleep(n.sleep);
        } catch {
          yield* sleep(1); // a catch-all that waits again: cancelled, this wait throws
        }
      } else {
        for (;;) {
          try {
            yield* sleep(n.sleep);
            break;
          } catch {
            // swallows everything and retries
          }
        }
      }
      failure = n.fails;
    } catch (e) {
      propagating = e;
      throw e;
    } finally {
      finallies.set(id, (finallies.get(id) ?? 0) + 1);
      if (n.cleanup > 0 && n.shielded) {
        yield* shield(sleep(n.cleanup)); // runs to its end, cancelled or not
      } else if (n.cleanup > 0) {
        try {
          yield* sleep(n.cleanup);
        } catch (c) {
          // JavaScript replaces an error propagating through a `finally` with one thrown inside
          // it: a cancellation reaching this cleanup supersedes the error in flight.
          if (propagating !== undefined && !isCancelled(propagating)) superseded.add(propagating);
          throw c;
        }
      }
    }
    if (failure) {
      const e = new Error(`node ${id} failed`);
      thrown.push(e);
      throw e;
    }
  }
  let cancelsStarted = 0;
  let cancelsReturned = 0;
  let chaosCancelled = false;
  const top = s.run(function* () {
    yield* spawn(function* chaos() {
      for (const { at, target } of [...cancelPlan].sort((a, b) => a.at - b.at)) {
        yield* sleep(at);
        if (tasks.length === 0) continue;
        const victim = tasks[target % tasks.length]!;
        cancelsStarted++;
        try {
          yield* cancel(victim);
        } catch (e) {
          if (isCancelled(e)) chaosCancelled = true; // the tree ended (or failed) meanwhile
          throw e;
        }
        cancelsReturned++;
        assert.is.not(victim.state, "running", "cancel returned before its task had finished");
      }
    });
    yield* call(() => body(root, tasks));
  });
  const observed: unknown[] = [];
  try {
    await top;
  } catch (e) {
    observed.push(e);
  }
  // A task that swallowed Cancelled in a loop is reported (and stopped); that is not an error of the tree.
  const swallowing = (e: unknown) => /caught Cancelled and waited again/.test(String((e as Error)?.message));
  observed.push(...s.reported.filter((e) => !swallowing(e)), ...caught);
  if (!chaosCancelled) assert.is(cancelsReturned, cancelsStarted, "a cancel never returned");

  // Every finally ran exactly once for each body that started, and never for the others.
  for (const [id, count] of finallies) {
    assert.is(count, 1, `finally of node ${id} ran ${count} times`);
    assert.ok(started.has(id));
  }
  assert.is(finallies.size, started.size);
  // Every error was observed exactly once, and nothing else was.
  for (const e of thrown) {
    const times = observed.filter((o) => o === e).length;
    assert.is(times, superseded.has(e) ? 0 : 1, `${e.message} observed ${times} times`);
  }
  for (const o of observed) assert.ok(thrown.includes(o as Error), `unexpected ${String(o)}`);
  // Nothing is left behind.
  for (const t of [...tasks, ...[...callTasks.values()].flat()]) assert.is.not(t.state, "running");
  const internals = s as unknown as { timers: { size: number }; waiters: Map<unknown, unknown>; live: number; inFlight: number };
  assert.is(internals.timers.size, 0, "timers left");
  assert.is(internals.waiters.size, 0, "waiters left");
  assert.is(internals.live, 0, "tasks left");
  assert.is(internals.inFlight, 0, "promises left");
}

test("random task trees keep every structural promise", async () => {
  await fc.assert(fc.asyncProperty(node(4), cancels, check), { numRuns: 300 });
});

test("the same tree and plan always give the same run (determinism)", async () => {
  await fc.assert(
    fc.asyncProperty(node(3), async (root) => {
      const trace = async () => {
        const s = virtual();
        const log: string[] = [];
        let n = 0;
        function* body(x: Node, id: number): Operation<void> {
          try {
            for (const c of x.children) {
              const child = ++n;
              if (c.kind === "call") yield* call(() => body(c, child));
              else yield* (c.kind === "fork" ? fork : spawn)(() => body(c, child));
            }
            yield* sleep(x.sleep);
            if (x.fails) throw new Error(String(id));
          } finally {
            log.push(`${id}@${s.now()}`);
          }
        }
        try {
          await s.run(() => body(root, 0));
        } catch (e) {
          log.push(`failed ${String(e)}`);
        }
        return log;
      };
      assert.equal(await trace(), await trace());
    }),
    { numRuns: 100 },
  );
});

if (!process.env.NO_RUN) test.run();
