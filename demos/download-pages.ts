// The seeds' example: get page A, then page B, written top to bottom like blocking code; the
// same function run for both pages at once; then fifty pages with at most ten in flight. A local
// server plays the internet, with its latency.
import { all, map, sleep, type Operation } from "../lib/index.js";
import { get, serve } from "../lib/node/index.js";
import type { Demo } from "./demo.js";
import { Timeline, timed, type Row } from "./timeline.js";

/** GET a page and return its body. Reads like a blocking call; other tasks run meanwhile. */
function* fetchPage(url: string, row?: Row): Operation<string> {
  const res = yield* get(url);
  const body = yield* res.text();
  row?.finish();
  return body;
}

/** Read as blocking code: one page, then the other. */
function* downloadPages(base: string): Operation<number> {
  const a = yield* fetchPage(`${base}/a`);
  const b = yield* fetchPage(`${base}/b`);
  return a.length + b.length;
}

/** The same two requests, concurrently. */
function* downloadBoth(base: string): Operation<number> {
  const [a, b] = yield* all([fetchPage(`${base}/a`), fetchPage(`${base}/b`)]);
  return a.length + b.length;
}

export const demo: Demo = {
  summary: "get page A then page B: top-to-bottom code, run in sequence, concurrently, and 50 pages 10 at a time",
  *main({ quick, log }) {
    const latency = quick ? 40 : 150;
    const pages = quick ? 20 : 50;
    // The local "internet": pages A and B arrive after `latency`, the fifty after latency ± 20 %.
    const server = yield* serve({ port: 0 }, function* (req, res) {
      yield* sleep(req.url!.startsWith("/page/") ? latency * (0.8 + 0.4 * Math.random()) : latency);
      yield* res.end(`<html>page ${req.url} ${"x".repeat(1000)}</html>`);
    });
    const base = `http://127.0.0.1:${server.port}`;
    log(`A local server answers every page after about ${latency} ms.\n`);

    const [bytes, sequential] = yield* timed(() => downloadPages(base));
    log(`downloadPages (A, then B):        ${bytes} bytes in ${sequential.toFixed(0)} ms`);
    const [bytes2, concurrent] = yield* timed(() => downloadBoth(base));
    log(`downloadBoth (A and B at once):   ${bytes2} bytes in ${concurrent.toFixed(0)} ms`);
    log(`Same code shape, ${(sequential / concurrent).toFixed(1)}× faster: the two waits overlap.\n`);

    const timeline = new Timeline();
    const [sizes, limited] = yield* timed(() =>
      map(
        Array.from({ length: pages }, (_, i) => i),
        function* (i) {
          const row = timeline.row(`page ${i}`);
          return (yield* row.during(fetchPage(`${base}/page/${i}`, row))).length;
        },
        { concurrency: 10 },
      ),
    );
    const rounds = Math.ceil(pages / 10);
    log(`${pages} pages, at most 10 in flight: ${sizes.length} pages in ${limited.toFixed(0)} ms`);
    log(`(one after another would take about ${(pages * latency).toFixed(0)} ms; ${rounds} rounds of ${latency} ms is ${rounds * latency} ms)\n`);
    for (const line of timeline.render()) log(line);
    yield* server.close();
    return { sequential, concurrent, latency, limited, pages };
  },
};
