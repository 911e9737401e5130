// A web crawler over a local site with slow and failing pages: at most N requests in flight, a
// timeout per page, retries with backoff (retry(), waiting without holding a permit), and Ctrl-C
// (or any cancel) stopping everything cleanly: every request in flight is aborted and the report
// still prints.
import { all, call, isCancelled, retry, semaphore, sleep, spawn, timeout, TimeoutError, type Operation } from "../lib/index.js";
import { get, serve } from "../lib/node/index.js";
import type { Demo } from "./demo.js";

interface Report {
  ok: number;
  retried: number;
  timedOut: number;
  failed: string[];
  inFlight: number;
  peak: number;
}

/** The site: page i links to three others; some pages are slow, some flaky, some broken. */
function* site(pages: number): Operation<number> {
  const flaky = new Map<number, number>(); // pages that failed once already
  const server = yield* serve({ port: 0 }, function* (req, res) {
    const i = Number(req.url!.split("/").pop());
    const flakyOnce = (flaky.get(i) ?? 0) === 0 && i % 11 === 3;
    if (flakyOnce) flaky.set(i, 1);
    yield* sleep(i % 17 === 5 ? 2000 : 20 + ((i * 37) % 40)); // a few pages hang
    if (flakyOnce || i % 23 === 7) return yield* res.status(500).end("server error");
    const links = [(i * 7 + 1) % pages, (i * 13 + 2) % pages, (2 * i + 3) % pages];
    yield* res.end(`<h1>page ${i}</h1>${links.map((l) => `<a href="/page/${l}">${l}</a>`).join(" ")}`);
  });
  return server.port;
}

/** GET a page once, in at most `pageTimeout` ms. */
function* fetchPage(url: string, pageTimeout: number): Operation<string> {
  return yield* timeout(pageTimeout, function* () {
    const res = yield* get(url);
    const body = yield* res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return body;
  });
}

/** Crawl from `start`: every page once, at most `concurrency` requests at a time. */
function* crawl(base: string, start: string, concurrency: number, report: Report): Operation<void> {
  const seen = new Set([start]);
  const limit = semaphore(concurrency);
  function* visit(path: string): Operation<void> {
    let body: string;
    try {
      // Each attempt holds a permit; the backoff between attempts does not.
      body = yield* retry(
        () =>
          limit.withPermit(function* () {
            report.peak = Math.max(report.peak, ++report.inFlight);
            try {
              return yield* fetchPage(base + path, 200);
            } finally {
              report.inFlight--;
            }
          }),
        {
          attempts: 3,
          initial: 50,
          jitter: "equal",
          onRetry: (e) => {
            report.retried++;
            if (e instanceof TimeoutError) report.timedOut++;
          },
        },
      );
    } catch (e) {
      if (e instanceof TimeoutError) report.timedOut++;
      if (isCancelled(e)) throw e; // stopped, not failed
      report.failed.push(`${path} (${(e as Error).message})`);
      return;
    }
    report.ok++;
    const links = [...body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!).filter((link) => !seen.has(link));
    for (const link of links) seen.add(link);
    yield* all(links.map((link) => visit(link))); // crawled concurrently; this visit waits for them
  }
  yield* call(visit(start));
}

export const demo: Demo = {
  summary: "a crawler with a concurrency limit, per-page timeouts and retries over slow and failing pages; Ctrl-C stops it cleanly",
  *main({ quick, log }) {
    const pages = quick ? 60 : 300;
    const concurrency = 10;
    const port = yield* site(pages);
    const report: Report = { ok: 0, retried: 0, timedOut: 0, failed: [], inFlight: 0, peak: 0 };
    const inFlight: number[] = [];
    yield* spawn(function* sampler() {
      for (;;) {
        inFlight.push(report.inFlight);
        yield* sleep(25);
      }
    });
    log(`Crawling a local site of ${pages} pages: ≤ ${concurrency} requests in flight, 200 ms per attempt, 2 retries.`);
    log(`Some pages hang, some fail once, some always fail. Press Ctrl-C to stop it early.\n`);
    const t0 = performance.now();
    let finished = false;
    try {
      yield* crawl(`http://127.0.0.1:${port}`, "/page/0", concurrency, report);
      finished = true;
    } finally {
      const ms = performance.now() - t0;
      log(`${finished ? "Done" : "Interrupted: every request in flight was aborted"} after ${ms.toFixed(0)} ms.`);
      log(`  ${report.ok} pages crawled, ${report.failed.length} given up, ${report.retried} retries, ${report.timedOut} timeouts, at most ${report.peak} in flight`);
      for (const f of report.failed.slice(0, 5)) log(`  gave up on ${f}`);
      if (report.failed.length > 5) log(`  … and ${report.failed.length - 5} more`);
      const bars = " ▁▂▃▄▅▆▇█";
      log(`\nrequests in flight over time (one mark per 25 ms, full height = ${concurrency}):`);
      const line = inFlight.map((n) => bars[Math.round((n / concurrency) * 8)]).join("");
      for (let i = 0; i < line.length; i += 60) log(`  ${line.slice(i, i + 60)}`);
    }
    return { ok: report.ok, failed: report.failed.length, retried: report.retried, timedOut: report.timedOut, peak: report.peak, concurrency };
  },
};
