// The seeds' fourth question: what does an asynchronous server buy? The same handler — ask a
// backend that takes 50 ms, answer — served two ways, under the same load:
//
// - blocking: a fixed pool of worker threads, each serving one connection at a time with
//   blocking calls (accept, read, the backend call, write), as a thread-per-request server does
//   (demos/blocking-server.ts; the threads' code is demos/blocking-thread.mjs);
// - skein: one coroutine per request, all on the main thread.
//
// The load generator (written with skein, in the main thread for both) runs `clients` clients,
// each sending a request, waiting for the reply or giving up at its timeout, then sending the
// next, for a few seconds. Requests still waiting when the time is up are waited for too (until
// their reply or their timeout), so every request is counted: a timed-out request counts at its
// timeout, and is reported as such.
import { all, fork, sleep, timeout, TimeoutError, type Operation } from "../lib/index.js";
import { get, serve, type Handler } from "../lib/node/index.js";
import { blockingServer } from "./blocking-server.js";
import type { Demo } from "./demo.js";
import { percentile } from "./timeline.js";

/** The coroutine server's handler: one backend call, then the reply. */
function handler(backend: string): Handler {
  return function* (req, res) {
    const answer = yield* get(`${backend}/lookup${req.url}`);
    yield* res.end(yield* answer.text());
  };
}

/** `n` requests at once, not counted: the code warms up and the backend connections open. */
function* warm(url: string, n: number): Operation<void> {
  yield* all(
    Array.from({ length: n }, (_, i) =>
      (function* () {
        yield* (yield* get(`${url}/warm-up/${i}`)).text();
      })(),
    ),
  );
}

/** One request: how long it took and how it ended (a timed-out one counts at its timeout). */
interface Sample {
  ms: number;
  outcome: "reply" | "timed out" | "failed";
}

/** What one load run saw: every request started, however it ended. */
interface Outcome {
  samples: Sample[];
  replies: number;
  timedOut: number;
  failed: number;
  /** Clients that got at least one reply. */
  served: number;
  seconds: number;
}

/**
 * `clients` clients, each sending requests one after another for `seconds`, giving up on a
 * request after `patience` ms. Returns when every request started has a reply or has timed out.
 */
export function* load(url: string, clients: number, seconds: number, patience: number): Operation<Outcome> {
  const out: Outcome = { samples: [], replies: 0, timedOut: 0, failed: 0, served: 0, seconds: 0 };
  const start = performance.now();
  const end = start + seconds * 1000;
  const client = function* (c: number): Operation<void> {
    let replies = 0;
    for (let i = 0; performance.now() < end; i++) {
      const t0 = performance.now();
      try {
        yield* timeout(patience, function* () {
          const res = yield* get(`${url}/item/${c}-${i}`);
          yield* res.text();
        });
        out.samples.push({ ms: performance.now() - t0, outcome: "reply" });
        replies++;
      } catch (e) {
        if (e instanceof TimeoutError) {
          // The request was cancelled and its connection closed; it counts at its timeout.
          out.samples.push({ ms: patience, outcome: "timed out" });
          out.timedOut++;
        } else {
          // A refused or reset connection: counted when it failed, and reported.
          out.samples.push({ ms: performance.now() - t0, outcome: "failed" });
          out.failed++;
          yield* sleep(10); // no busy loop against a server that is down
        }
      }
    }
    out.replies += replies;
    if (replies > 0) out.served++;
  };
  const tasks = [];
  for (let c = 0; c < clients; c++) tasks.push(yield* fork(client(c)));
  yield* all(tasks);
  out.seconds = (performance.now() - start) / 1000;
  return out;
}

/** The p-th percentile of every request, saying so when it is a timeout. */
function quantile(sorted: Sample[], p: number): string {
  const s = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  if (s === undefined) return "-";
  return s.outcome === "timed out" ? `${s.ms.toFixed(0)} ms (timed out)` : `${s.ms.toFixed(0)} ms`;
}

/** Lines describing an outcome: counts, percentiles over every request, a text histogram. */
export function report(o: Outcome, clients: number, patience: number): string[] {
  const total = o.samples.length;
  const sorted = [...o.samples].sort((a, b) => a.ms - b.ms || (a.outcome === "timed out" ? 1 : -1));
  const lines = [
    `  ${total} requests: ${o.replies} replies, ${o.timedOut} timed out, ${o.failed} failed; ${o.served} of ${clients} clients got a reply; ${(o.replies / o.seconds).toFixed(0)} replies/s`,
    `  p50 ${quantile(sorted, 50)}   p90 ${quantile(sorted, 90)}   p99 ${quantile(sorted, 99)}   max ${quantile(sorted, 100)}`,
  ];
  const edges = [0, 50, 100, 200, 400, 800, 1600, 3200].filter((e) => e < patience);
  const buckets: [string, number][] = edges.map((from, i) => {
    const to = edges[i + 1];
    const n = o.samples.filter((s) => s.outcome !== "timed out" && s.ms >= from && (to === undefined || s.ms < to)).length;
    return [to === undefined ? `≥ ${from} ms` : `${from}–${to} ms`, n];
  });
  buckets.push([`timed out`, o.timedOut]);
  for (const [label, n] of buckets) {
    const share = total === 0 ? 0 : n / total;
    const bar = "█".repeat(Math.round(share * 40));
    lines.push(`  ${label.padStart(12)} │${bar.padEnd(40)} ${String(n).padStart(5)} ${`${(share * 100).toFixed(0)}%`.padStart(4)}`);
  }
  return lines;
}

export const demo: Demo = {
  summary: "a thread-per-request blocking server vs a coroutine per request, in front of a 50 ms backend, under 200 clients",
  *main({ quick, log }) {
    const clients = quick ? 20 : 200;
    const seconds = quick ? 1 : 3;
    const patience = quick ? 2000 : 5000;
    const threads = quick ? 2 : 8;
    const latency = 50;
    // The backend counts the requests it holds at once: at most `threads` from the blocking server.
    const atBackend = { now: 0, peak: 0 };
    const backend = yield* serve({ port: 0 }, function* (_req, res) {
      atBackend.peak = Math.max(atBackend.peak, ++atBackend.now);
      try {
        yield* sleep(latency);
        yield* res.end("ok");
      } finally {
        atBackend.now--;
      }
    });
    const backendURL = `http://127.0.0.1:${backend.port}`;
    const blocking = yield* blockingServer(backendURL, threads);
    const concurrent = yield* serve({ port: 0 }, handler(backendURL));

    const blockingURL = `http://127.0.0.1:${blocking.port}`;
    const concurrentURL = `http://127.0.0.1:${concurrent.port}`;
    yield* warm(blockingURL, clients);
    yield* warm(concurrentURL, clients);

    log(`Backend latency ${latency} ms. The same load against each server: ${clients} clients, each sending a`);
    log(`request, waiting for its reply or giving up after ${patience} ms, then sending the next, for ${seconds} s.`);
    log(`Requests still waiting at the end are waited for, so every request is counted; a timed-out`);
    log(`request counts at its timeout. Each server first answers ${clients} requests at once, not counted (warm-up).\n`);
    log(`blocking: a fixed pool of ${threads} threads (node:worker_threads), each serving one connection at a`);
    log(`  time with blocking calls: accept, read, the backend call, write, close. Node has no blocking`);
    log(`  sockets, so the main thread plays the kernel: it owns the sockets, and a thread's system call`);
    log(`  posts a message to it and sleeps in Atomics.wait until the answer is in. At most`);
    log(`  ${threads} × 1000 / ${latency} = ${(threads * 1000) / latency} replies/s. The threads took ${blocking.startMs.toFixed(0)} ms to start and ${(blocking.rssPerThread / 1e6).toFixed(1)} MB of`);
    log(`  memory each (each is a V8 isolate; a native thread costs less, but its stack is reserved).`);
    log(`skein: a coroutine per request, all on the main thread; the backend call is a yield*.\n`);

    atBackend.peak = 0;
    const b = yield* load(blockingURL, clients, seconds, patience);
    const bPeak = atBackend.peak;
    log(`blocking (${threads} threads, one connection each at a time): at most ${bPeak} requests at the backend at once`);
    for (const line of report(b, clients, patience)) log(line);
    atBackend.peak = 0;
    const c = yield* load(concurrentURL, clients, seconds, patience);
    const cPeak = atBackend.peak;
    log(`\nskein (a coroutine per request): at most ${cPeak} requests at the backend at once`);
    for (const line of report(c, clients, patience)) log(line);

    const bRps = b.replies / b.seconds;
    const cRps = c.replies / c.seconds;
    const p = (o: Outcome, q: number) => percentile(o.samples.map((x) => x.ms), q);
    const ideal = (clients * 1000) / latency;
    const collapse = threads * (1000 / latency) * (patience / 1000);
    log(`\nThe coroutine server gave ${(cRps / bRps).toFixed(1)}× the replies a second (p50 ${p(c, 50).toFixed(0)} ms against ${p(b, 50).toFixed(0)} ms, p99`);
    log(`${p(c, 99).toFixed(0)} ms against ${p(b, 99).toFixed(0)} ms): while one request waits on the backend, the others run. The blocking`);
    log(`server serves ${threads} requests at once, however idle its threads are while they wait for the backend;`);
    log(`the other clients queue in the listen backlog. Past ${threads} × ${1000 / latency}/s × ${patience / 1000} s = ${collapse} clients (at this run's`);
    log(`${bRps.toFixed(0)} replies/s, ${Math.round((bRps * patience) / 1000)}), every request would wait longer than its timeout, and the threads would`);
    log(`spend their time on requests whose clients had given up. More threads help, at a thread's`);
    log(`memory each: ${clients} clients at once need ${clients} threads.`);
    if (cRps < ideal / 2) {
      log(`The coroutine server was short of CPU in this run: it would give ${clients} clients ${ideal} replies/s if`);
      log(`the CPU kept up, and gave ${cRps.toFixed(0)}. The load generator, both servers and the backend share this`);
      log(`process's main thread (and the machine's cores), so its clients queued for the CPU instead.`);
    }
    log(`Same handler logic; only the serving differs.`);
    return {
      threads,
      clients,
      blockingRps: bRps,
      concurrentRps: cRps,
      blockingP50: percentile(b.samples.map((x) => x.ms), 50),
      concurrentP50: percentile(c.samples.map((x) => x.ms), 50),
      blockingRequests: b.samples.length,
      blockingCounted: b.replies + b.timedOut + b.failed,
      blockingTimedOut: b.timedOut,
      concurrentTimedOut: c.timedOut,
      blockingServed: b.served,
      blockingPeak: bPeak,
      concurrentPeak: cPeak,
      concurrentServed: c.served,
    };
  },
};
