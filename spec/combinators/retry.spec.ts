// retry(): exponential backoff with jitter and a cap, attempts and a total deadline, a predicate;
// never a cancellation; waits that a cancel stops; each attempt a scope.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Cancelled, cancel, fork, retry, sleep, spawn, suspend, TimeoutError, type Operation } from "../../lib/index.js";
import { outcome, runVirtual, virtual } from "../helpers.js";

/** An operation that fails its first `failures` attempts, logging when each started. */
function flaky(failures: number, log: string[], now: () => number) {
  return function* attempt(n: number): Operation<string> {
    log.push(`attempt ${n} at ${now()}`);
    yield* sleep(1);
    if (n <= failures) throw new Error(`failure ${n}`);
    return `ok on ${n}`;
  };
}

test("retries with exponential backoff until it works; each attempt knows its number", async () => {
  const log: string[] = [];
  const s = virtual();
  const value = await s.run(retry(flaky(2, log, () => s.now()), { attempts: 5, initial: 100, jitter: "none" }));
  assert.is(value, "ok on 3");
  assert.equal(log, ["attempt 1 at 0", "attempt 2 at 101", "attempt 3 at 302"]); // waits 100, then 200
});

test("throws the last error when the attempts run out; waits are capped at max", async () => {
  const log: string[] = [];
  const s = virtual();
  const waits: number[] = [];
  const error = await s
    .run(retry(flaky(10, log, () => s.now()), { attempts: 4, initial: 100, factor: 10, max: 500, jitter: "none", onRetry: (_e, _n, d) => waits.push(d) }))
    .catch((e) => e);
  assert.is((error as Error).message, "failure 4");
  assert.equal(waits, [100, 500, 500]);
  assert.is(log.length, 4);
});

test("an error retryIf declines is thrown at once", async () => {
  const log: string[] = [];
  const s = virtual();
  const error = await s
    .run(retry(flaky(10, log, () => s.now()), { attempts: 5, retryIf: (e, n) => (e as Error).message !== "failure 2" && n < 5 }))
    .catch((e) => e);
  assert.is((error as Error).message, "failure 2");
  assert.is(log.length, 2);
});

test("a cancellation is never retried, and a cancel during a wait stops it at once", async () => {
  const s = virtual();
  let attempts = 0;
  const value = await s.run(function* () {
    const other = yield* fork(suspend);
    yield* cancel(other);
    let failed: unknown;
    try {
      yield* retry(function* () {
        attempts++;
        yield* other; // joining a cancelled task throws Cancelled: not worth a retry
      });
    } catch (e) {
      failed = e;
    }
    const waiting = yield* fork(() => retry(flaky(10, [], () => s.now()), { attempts: 10, initial: 1000, jitter: "none" }));
    yield* sleep(50); // in its first wait
    yield* cancel(waiting);
    return [attempts, failed instanceof Cancelled, waiting.state, s.now()];
  });
  assert.equal(value, [1, true, "cancelled", 50]);
});

test("the deadline cuts an attempt in progress and keeps any wait from passing it", async () => {
  const s = virtual();
  const slow = await s
    .run(
      retry(
        function* () {
          yield* sleep(1000);
        },
        { deadline: 250 },
      ),
    )
    .catch((e) => [e instanceof TimeoutError, s.now()]);
  assert.equal(slow, [true, 250]);
  const s2 = virtual();
  const log: string[] = [];
  const failing = await s2
    .run(retry(flaky(10, log, () => s2.now()), { attempts: Infinity, initial: 100, jitter: "none", deadline: 350 }))
    .catch((e) => [(e as Error).message, s2.now()]);
  // attempts at 0, 101 and 302; the next wait (400 ms) would pass the deadline: the last error, now
  assert.equal(failing, ["failure 3", 303]);
});

test("jitter spreads the waits below the computed one, the same on every virtual run", async () => {
  const run = async () => {
    const waits: number[] = [];
    const s = virtual();
    await s.run(retry(flaky(5, [], () => s.now()), { attempts: 6, initial: 100, onRetry: (_e, _n, d) => waits.push(d) }));
    return waits;
  };
  const a = await run();
  assert.equal(a, await run());
  a.forEach((d, i) => assert.ok(d >= 0 && d < 100 * 2 ** i, `wait ${i}: ${d}`));
  assert.ok(new Set(a.map((d, i) => d / 2 ** i)).size > 1);
});

test("each attempt is a scope: what a failed attempt started is finished before the next", async () => {
  const log: string[] = [];
  const { value } = await runVirtual(function* () {
    return yield* retry(
      function* (n) {
        yield* spawn(function* helper() {
          try {
            yield* suspend();
          } finally {
            log.push(`helper of ${n} stopped`);
          }
        });
        yield* sleep(1);
        log.push(`attempt ${n}`);
        if (n === 1) throw new Error("again");
        return n;
      },
      { initial: 10 },
    );
  });
  assert.is(value, 2);
  assert.equal(log, ["attempt 1", "helper of 1 stopped", "attempt 2", "helper of 2 stopped"]);
});

test("bad input throws at the call site", () => {
  const gen = (function* () {})();
  assert.throws(() => retry(gen), (e: unknown) => e instanceof TypeError && /generator object, which can run only once/.test(String(e)));
  assert.throws(() => retry(42 as never), TypeError);
  assert.throws(() => retry(() => 1, { attempts: 0 }), RangeError);
  assert.throws(() => retry(() => 1, { factor: 0.5 }), RangeError);
  assert.throws(() => retry(() => 1, { deadline: -1 }), RangeError);
  assert.throws(() => retry(() => 1, { jitter: "some" as never }), TypeError);
  assert.throws(() => retry(() => 1, { retryIf: true as never }), TypeError);
});

test("a retryIf or onRetry that throws ends the retries with its error; the attempt's error is reported", async () => {
  for (const hook of ["retryIf", "onRetry"] as const) {
    const s = virtual();
    let attempts = 0;
    const o = await outcome(
      s.run(
        retry(
          function* () {
            attempts++;
            yield* sleep(1);
            throw new Error("attempt failed");
          },
          {
            [hook]: () => {
              throw new Error(`${hook} broke`);
            },
          },
        ),
      ),
    );
    assert.equal([attempts, String((o as { error: unknown }).error)], [1, `Error: ${hook} broke`], hook);
    assert.equal(s.reported.map(String), ["Error: attempt failed"], hook);
  }
});

test.run();
