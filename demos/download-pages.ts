// The seeds' example: get page A, then page B, written top to bottom like blocking code; then
// the same function run for both pages at once. A local server adds the network's latency.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { action, all, call, type Operation } from "../lib/index.js";
import type { Demo } from "./demo.js";

/** GET a URL and return its body; cancelling the task aborts the request. */
function get(url: string): Operation<string> {
  return action<string>((resolve, reject) => {
    const abort = new AbortController();
    fetch(url, { signal: abort.signal })
      .then((res) => res.text())
      .then(resolve, reject);
    return () => abort.abort();
  });
}

/** Read as blocking code: one page, then the other. */
function* downloadPages(base: string): Operation<number> {
  const a = yield* get(`${base}/a`);
  const b = yield* get(`${base}/b`);
  return a.length + b.length;
}

/** The same two requests, concurrently. */
function* downloadBoth(base: string): Operation<number> {
  const [a, b] = yield* all([get(`${base}/a`), get(`${base}/b`)]);
  return a.length + b.length;
}

/** A local "internet": every page takes `latency` ms to arrive. */
function serve(latency: number): Operation<{ base: string; server: Server }> {
  return action((resolve) => {
    const server = createServer((req, res) => {
      setTimeout(() => res.end(`<html>page ${req.url} ${"x".repeat(1000)}</html>`), latency);
    });
    server.listen(0, "127.0.0.1", () => {
      resolve({ base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server });
    });
  });
}

function* timed<T>(op: () => Operation<T>): Operation<[T, number]> {
  const t0 = performance.now();
  const value = yield* call(op);
  return [value, performance.now() - t0];
}

export const demo: Demo = {
  summary: "get page A then page B: top-to-bottom code, run one after the other and then concurrently",
  *main({ quick, log }) {
    const latency = quick ? 50 : 200;
    const { base, server } = yield* serve(latency);
    try {
      log(`A local server answers every page after ${latency} ms.\n`);
      const [bytes, sequential] = yield* timed(() => downloadPages(base));
      log(`downloadPages (A, then B):   ${bytes} bytes in ${sequential.toFixed(0)} ms`);
      const [bytes2, concurrent] = yield* timed(() => downloadBoth(base));
      log(`downloadBoth (A and B):      ${bytes2} bytes in ${concurrent.toFixed(0)} ms`);
      log(`\nSame code shape, ${(sequential / concurrent).toFixed(1)}× faster: the two waits overlap.`);
      return { sequential, concurrent, latency };
    } finally {
      server.close();
    }
  },
};
