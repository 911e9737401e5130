// The queue of waiters under channels, locks, signals, mailboxes and select: FIFO, and a waiter
// that leaves (cancelled) costs O(1), whatever the queue's length and wherever it stands.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { queueWork, WaitQueue } from "../../lib/core/wait-queue.js";
import {
  channel, fork, join, receive, select, semaphore, signal, sleep, spawn, waitGroup, mutex, condition, type Operation, type Task,
} from "../../lib/index.js";
import { virtual } from "../helpers.js";

const waiter = (id: number) => ({ id, waitIndex: -1 });
type W = ReturnType<typeof waiter>;
const drain = (q: WaitQueue<W>) => {
  const out: number[] = [];
  for (let w = q.shift(); w !== undefined; w = q.shift()) out.push(w.id);
  return out;
};

test("first in, first out, across growth, wrap-around and holes", () => {
  const q = new WaitQueue<W>();
  const ws = Array.from({ length: 100 }, (_, i) => waiter(i));
  for (let i = 0; i < 10; i++) q.push(ws[i]!);
  assert.equal([q.shift()!.id, q.shift()!.id], [0, 1]);
  for (let i = 10; i < 100; i++) q.push(ws[i]!); // grows while wrapped
  for (const i of [2, 50, 99, 51, 3]) assert.ok(q.remove(ws[i]!)); // the front, the middle, the back
  assert.is(q.size, 93);
  assert.is(q.peek()!.id, 4);
  assert.equal(drain(q), ws.map((w) => w.id).filter((i) => ![0, 1, 2, 3, 50, 51, 99].includes(i)));
  assert.is(q.shift(), undefined);
  assert.is(q.length, 0);
});

test("removing what is not queued (any more) is refused and changes nothing", () => {
  const q = new WaitQueue<W>();
  const [a, b, c] = [waiter(1), waiter(2), waiter(3)];
  q.push(a);
  q.push(b);
  assert.not.ok(q.remove(c)); // never queued
  assert.is(q.shift(), a);
  assert.not.ok(q.remove(a)); // left already: its old position now belongs to nobody
  const other = new WaitQueue<W>();
  other.push(c); // the same position in another queue
  assert.not.ok(q.remove(c));
  assert.ok(q.remove(b));
  assert.not.ok(q.remove(b));
  assert.is(q.size, 0);
  assert.equal(drain(other), [3]);
});

test("slots walk in order with holes as null; a queue full of holes is compacted, not grown", () => {
  const q = new WaitQueue<W>();
  const ws = Array.from({ length: 8 }, (_, i) => waiter(i));
  for (const w of ws) q.push(w);
  for (const i of [1, 2, 4, 5, 6]) q.remove(ws[i]!);
  assert.equal(Array.from({ length: q.length }, (_, k) => q.at(k)?.id ?? null), [0, null, null, 3, null, null, null, 7]);
  assert.is(q.at(-1), null);
  assert.is(q.at(99), null);
  for (let i = 8; i < 13; i++) q.push(waiter(i)); // full of holes: squeezed, every waiter still found
  assert.ok(q.remove(ws[3]!));
  assert.equal(drain(q), [0, 7, 8, 9, 10, 11, 12]);
});

test("positions wrap around without confusing waiters", () => {
  const q = new WaitQueue<W>();
  const internals = q as unknown as { base: number };
  internals.base = 0x3fffffff - 3; // as after a billion waiters passed through
  const ws = Array.from({ length: 8 }, (_, i) => waiter(i));
  for (const w of ws) q.push(w);
  assert.ok(q.remove(ws[5]!));
  assert.ok(q.remove(ws[2]!));
  assert.ok(q.remove(ws[0]!));
  assert.equal(drain(q), [1, 3, 4, 6, 7]);
});

test("a large queue that empties starts again small, and keeps working", () => {
  const q = new WaitQueue<W>();
  const ws = Array.from({ length: 5000 }, (_, i) => waiter(i));
  for (const w of ws) q.push(w);
  for (const w of ws) q.remove(w);
  assert.ok((q as unknown as { items: unknown[] }).items.length <= 8);
  q.push(ws[0]!);
  assert.equal(drain(q), [0]);
});

/**
 * Park `n` tasks with `wait`, then cancel them all (their parent is cancelled: newest first) and
 * return how many queue steps the cancellations took, per task.
 */
async function cancelSteps(n: number, wait: (i: number) => Operation<unknown>): Promise<number> {
  const s = virtual();
  let parked = 0;
  const parent = s.run(function* () {
    for (let i = 0; i < n; i++) {
      yield* spawn(function* () {
        parked++;
        yield* wait(i);
      });
    }
    yield* sleep(Infinity);
  });
  while (parked < n) await new Promise((r) => setImmediate(r));
  const before = queueWork.steps;
  await parent.cancel();
  return (queueWork.steps - before) / n;
}

const kinds: Record<string, () => (i: number) => Operation<unknown>> = {
  "a channel receive": () => {
    const ch = channel<number>();
    return () => ch.receive();
  },
  "a channel send": () => {
    const ch = channel<number>();
    return (i) => ch.send(i);
  },
  "a semaphore": () => {
    const sem = semaphore(1);
    sem.tryAcquire(); // held by nobody who will release it
    return () => sem.acquire();
  },
  "a signal": () => {
    const sig = signal();
    return () => sig.wait();
  },
  "a wait group": () => {
    const wg = waitGroup();
    wg.add();
    return () => wg.wait();
  },
  "a two-case select": () => {
    const [job, quit] = [channel<number>(), channel<number>()];
    return () => select({ job: job.receive(), quit: quit.receive() });
  },
  "a mailbox receive": () => () => receive(),
  "a join of one task": () => {
    let target: Task | undefined;
    return function* () {
      target ??= yield* spawn(() => sleep(Infinity));
      return yield* join(target);
    };
  },
  "a mutex": () => {
    const m = mutex();
    let first = true;
    return function* () {
      if (first) {
        first = false;
        yield* m.lock(); // held for ever: everyone else waits
        return yield* sleep(Infinity);
      }
      return yield* m.lock();
    };
  },
  "a condition": () => {
    const c = condition();
    return () => c.withLock(() => c.wait());
  },
};

for (const [kind, make] of Object.entries(kinds)) {
  test(`cancelling N tasks waiting on ${kind} takes O(1) queue steps each, whatever N`, async () => {
    const small = await cancelSteps(500, make());
    const large = await cancelSteps(5_000, make());
    assert.ok(small <= 2 && large <= 2, `steps per cancel: ${small} at N = 500, ${large} at N = 5,000`);
  });
}

test("cancelling waiters oldest first, or every other one, stays O(1) each and keeps the rest in order", async () => {
  for (const pick of ["oldest", "alternate"] as const) {
    const s = virtual();
    const n = 10_000;
    const ch = channel<number>();
    const got: number[] = [];
    const before = queueWork.steps;
    await s.run(function* () {
      const tasks: Task[] = [];
      for (let i = 0; i < n; i++) {
        tasks.push(
          yield* fork(function* () {
            got.push((yield* ch.receive())! * 0 + i);
          }),
        );
      }
      yield* sleep(1);
      const cancelled = pick === "oldest" ? tasks.slice(0, n / 2) : tasks.filter((_, i) => i % 2 === 0);
      for (const t of cancelled) t.cancel();
      yield* sleep(1);
      for (let i = 0; i < n / 2; i++) yield* ch.send(i);
    });
    const steps = (queueWork.steps - before) / n;
    assert.ok(steps <= 4, `${pick}: ${steps} steps per waiter`);
    const expected = pick === "oldest" ? Array.from({ length: n / 2 }, (_, i) => n / 2 + i) : Array.from({ length: n / 2 }, (_, i) => 2 * i + 1);
    assert.equal(got, expected);
  }
});
test.run();
