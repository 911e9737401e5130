// A cooperative scheduler runs one coroutine at a time: a CPU-heavy computation inside a
// coroutine stalls every other one. A ticker that should tick every 100 ms shows it, first with
// the job run inline, then with the same job on the worker pool, where the ticker keeps time.
import { call, cancel, fork, sleep, type Operation } from "../lib/index.js";
import { createPool } from "../lib/node/index.js";
import type { Demo } from "./demo.js";
import { countPrimes } from "./jobs.mjs";
import { EVENT, RUNNING, Timeline, WAITING } from "./timeline.js";

const jobs = new URL("./jobs.mjs", import.meta.url);

/** Tick every `every` ms, record the gaps between ticks in `gaps`, and `mark` each tick. */
function* ticker(every: number, gaps: number[], mark: () => void): Operation<never> {
  let last = performance.now();
  for (;;) {
    yield* sleep(every);
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    mark();
  }
}

export const demo: Demo = {
  summary: "a ticker stalls while a CPU-heavy job runs inline, and keeps time when the job runs on the worker pool",
  *main({ quick, log }) {
    const every = quick ? 20 : 100;
    const n = quick ? 1_500_000 : 6_000_000;
    const pool = createPool({ size: 1 });
    yield* pool.run(jobs, "countPrimes", 10); // start the thread before timing anything
    const results: Record<string, number> = {};
    log(`A ticker should tick every ${every} ms while countPrimes(${n.toLocaleString("en")}) runs.\n`);

    for (const where of ["inline", "pool"] as const) {
      const timeline = new Timeline();
      const tickRow = timeline.row("ticker");
      const jobRow = timeline.row("job");
      const gaps: number[] = [];
      const primes = yield* call(function* () {
        const t = yield* fork(ticker(every, gaps, () => tickRow.event(EVENT)));
        yield* sleep(every * 2.5); // a few normal ticks first
        let count: number;
        if (where === "inline") {
          const from = timeline.now();
          count = countPrimes(n); // the coroutine computes: nothing else runs meanwhile
          jobRow.span(from, timeline.now(), RUNNING);
        } else {
          count = yield* jobRow.during(pool.run<number>(jobs, "countPrimes", n), WAITING); // waits; others run
        }
        jobRow.finish();
        yield* sleep(every * 2.5);
        yield* cancel(t);
        return count;
      });
      const longest = Math.max(...gaps);
      results[where] = longest;
      log(`${where === "inline" ? "inline, in the coroutine" : "on the worker pool      "}: ${primes} primes; longest gap between ticks ${longest.toFixed(0)} ms`);
      for (const line of timeline.render(60)) log(`  ${line}`);
      log("");
    }
    yield* pool.close();
    log(`Inline, the ticker stalled for ${results.inline!.toFixed(0)} ms; with the job on another thread its longest`);
    log(`gap was ${results.pool!.toFixed(0)} ms. Give CPU-bound work to runInWorker (or a pool) and keep coroutines for waiting.`);
    return { inlineGap: results.inline!, poolGap: results.pool!, every };
  },
};
