// The seeds' fourth question: what does an asynchronous server buy? The same handler — ask a
// backend that takes 50 ms, answer — served one request at a time (as a synchronous framework
// serves) and as a coroutine per request, each driven by the same load generator, written with
// skein: 200 concurrent clients for a few seconds (50 for one second in the quick mode).
import { all, cancel, fork, mutex, sleep, type Operation } from "../lib/index.js";
import { get, serve, type Handler } from "../lib/node/index.js";
import type { Demo } from "./demo.js";
import { percentile } from "./timeline.js";

/** The handler both servers run: one backend call, then the reply. */
function handler(backend: string): Handler {
  return function* (req, res) {
    const answer = yield* get(`${backend}/lookup${req.url}`);
    yield* res.end(yield* answer.text());
  };
}

/** `clients` coroutines, each sending requests one after another for `seconds`. */
function* load(url: string, clients: number, seconds: number): Operation<{ rps: number; latencies: number[] }> {
  const latencies: number[] = [];
  const start = performance.now();
  const workers = [];
  for (let c = 0; c < clients; c++) {
    workers.push(
      yield* fork(function* client() {
        for (let i = 0; ; i++) {
          const t0 = performance.now();
          const res = yield* get(`${url}/item/${c}-${i}`);
          yield* res.text();
          latencies.push(performance.now() - t0);
        }
      }),
    );
  }
  yield* sleep(seconds * 1000);
  // Time is up: requests still waiting are cancelled (and their connections closed).
  yield* all(workers.map((w) => cancel(w)));
  return { rps: latencies.length / ((performance.now() - start) / 1000), latencies };
}

export const demo: Demo = {
  summary: "a blocking server vs a coroutine per request, in front of a 50 ms backend, under 200 clients",
  *main({ quick, log }) {
    const clients = quick ? 50 : 200;
    const seconds = quick ? 1 : 3;
    const backend = yield* serve({ port: 0 }, function* (_req, res) {
      yield* sleep(50);
      yield* res.end("ok");
    });
    const backendURL = `http://127.0.0.1:${backend.port}`;

    // One request at a time: each handler holds the lock for its whole run.
    const lock = mutex();
    const serial = handler(backendURL);
    const blocking = yield* serve({ port: 0 }, (req, res) => lock.withLock(() => serial(req, res)));
    const concurrent = yield* serve({ port: 0 }, handler(backendURL));

    log(`Backend latency 50 ms; ${clients} concurrent clients for ${seconds} s against each server.\n`);
    const results: Record<string, { rps: number; p50: number; p99: number }> = {};
    for (const [name, server] of [["blocking (one at a time)", blocking], ["skein (coroutine per request)", concurrent]] as const) {
      const r = yield* load(`http://127.0.0.1:${server.port}`, clients, seconds);
      results[name] = { rps: r.rps, p50: percentile(r.latencies, 50), p99: percentile(r.latencies, 99) };
      log(`${name.padEnd(30)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${results[name].p50.toFixed(0).padStart(5)} ms   p99 ${results[name].p99.toFixed(0).padStart(5)} ms`);
    }
    const b = results["blocking (one at a time)"]!;
    const c = results["skein (coroutine per request)"]!;
    log(`\nThe coroutine server serves ${(c.rps / b.rps).toFixed(0)}× the requests: while one request waits on the`);
    log(`backend, the others run. The blocking one can never beat 1000 / 50 = 20 req/s, and its`);
    log(`clients queue: half of them waited ${(b.p50 / 1000).toFixed(1)} s or more. Same handler code; only the serving differs.`);
    return { blockingRps: b.rps, concurrentRps: c.rps, blockingP50: b.p50, concurrentP50: c.p50 };
  },
};
