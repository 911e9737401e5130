// npm run bench:io — real I/O, in ratios within one run: an HTTP server under autocannon (skein's
// serve from the built package beside plain node:http; run `npm run build` first), TCP echo with 1,000 coroutine clients (beside the same with
// callbacks), and the worker pool (overhead of a tiny job, speed-up of CPU-bound jobs).
import autocannon from "autocannon";
import { fork as forkProcess } from "node:child_process";
import * as net from "node:net";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import type { Socket } from "../lib/node/index.js";
import { benchArgs } from "./args.js";

const ioCases = ["http", "tcp", "pool"];
const args = benchArgs(
  `usage: npm run bench:io -- [--only LIST] [--help]

Runs the I/O cases against the build (npm run bench:io builds it first).

options:
  --only LIST    the cases to run, comma-separated: ${ioCases.join(", ")}
  --help         this text
`,
  { only: ioCases },
);
// skein as users run it: the built package (npm run build), not the sources through tsx.
const { all, createScheduler, fork, map, sleep } = (await import(String(new URL("../dist/index.mjs", import.meta.url)))) as typeof import("../lib/index.js");
const { connect, createPool, listen } = (await import(String(new URL("../dist/node.mjs", import.meta.url)))) as typeof import("../lib/node/index.js");
import { primes } from "./io/jobs.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rows: string[][] = [];
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

// ---- HTTP ---------------------------------------------------------------------------------------

/** Start a server process; it answers its port, and its CPU time when asked. */
async function startServer(kind: string): Promise<{ port: number; cpu: () => Promise<number>; stop: () => void }> {
  const file = fileURLToPath(new URL("io/server.mjs", import.meta.url));
  const child = forkProcess(file, [kind], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as { port: number }));
    child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  const cpu = () =>
    new Promise<number>((resolve) => {
      child.once("message", (m) => resolve(m as number));
      child.send("cpu");
    });
  return { port, cpu, stop: () => child.kill() };
}

async function load(port: number, duration: number): Promise<{ rps: number; p99: number; errors: number; count: number }> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/item/42`, connections: 100, duration });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx, count: r.requests.total };
}

async function http(): Promise<void> {
  const best: Record<string, { rps: number; p99: number; cpu: number }> = {};
  for (const round of [1, 2, 3]) {
    for (const kind of ["node:http", "skein serve"]) {
      const server = await startServer(kind);
      try {
        await load(server.port, 1); // warm up
        const c0 = await server.cpu();
        const r = await load(server.port, seconds);
        const cpu = ((await server.cpu()) - c0) * 1000 / r.count; // µs of server CPU a request
        if (r.errors > 0) throw new Error(`${kind}: ${r.errors} errors`);
        const b = best[kind];
        best[kind] = { rps: Math.max(b?.rps ?? 0, r.rps), p99: Math.min(b?.p99 ?? Infinity, r.p99), cpu: Math.min(b?.cpu ?? Infinity, cpu) };
        process.stderr.write(`http ${kind} round ${round}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, ${cpu.toFixed(1)} µs CPU a request\n`);
      } finally {
        server.stop();
      }
    }
  }
  const base = best["node:http"]!;
  for (const [kind, r] of Object.entries(best)) {
    rows.push([`HTTP, 100 connections (${kind})`, "req/s", fmt(r.rps), `${((r.rps / base.rps) * 100).toFixed(1)} %`, `p99 ${r.p99} ms; server CPU ${r.cpu.toFixed(1)} µs a request (${((base.cpu / r.cpu) * 100).toFixed(0)} % of node:http's efficiency)`]);
  }
}

// ---- TCP echo -----------------------------------------------------------------------------------

const CLIENTS = 1000;

/** Coroutine server, 1,000 coroutine clients, each a write-line/read-line loop. */
async function echoSkein(ms: number): Promise<number> {
  let messages = 0;
  await createScheduler().run(function* () {
    const server = yield* listen({ port: 0 }, function* echo(socket: Socket) {
      let line;
      while ((line = yield* socket.readLine()) !== undefined) yield* socket.write(line + "\n");
    });
    let running = true;
    const clients = [];
    for (let i = 0; i < CLIENTS; i++) {
      clients.push(
        yield* fork(function* client() {
          const socket = yield* connect(server.port);
          while (running) {
            yield* socket.write(`message from ${i}\n`);
            yield* socket.readLine();
            messages++;
          }
        }),
      );
    }
    yield* sleep(200);
    const start = messages;
    yield* sleep(ms);
    messages -= start;
    running = false;
    yield* all(clients);
    yield* server.close();
  });
  return (messages / ms) * 1000;
}

/** Split a stream of chunks into lines, as readLine does, and call `onLine` for each. */
function lines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = "";
  return (chunk) => {
    const text = rest + chunk.toString("utf8");
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      onLine(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
  };
}

/** The same with callbacks: the same line framing each side, one message in flight per client. */
async function echoCallbacks(ms: number): Promise<number> {
  let messages = 0;
  let running = true;
  const server = net.createServer((c) => {
    c.on("data", lines((line) => c.write(line + "\n")));
    c.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const s = net.connect(port, "127.0.0.1");
    const msg = `message from ${i}\n`;
    s.on("connect", () => s.write(msg));
    s.on("error", () => {});
    s.on(
      "data",
      lines(() => {
        messages++;
        if (running) s.write(msg);
      }),
    );
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  const start = messages;
  await new Promise((r) => setTimeout(r, ms));
  const counted = messages - start;
  running = false;
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  return (counted / ms) * 1000;
}

async function tcp(): Promise<void> {
  let cb = 0;
  let sk = 0;
  for (let round = 0; round < 2; round++) {
    cb = Math.max(cb, await echoCallbacks(seconds * 600));
    sk = Math.max(sk, await echoSkein(seconds * 600));
  }
  rows.push(["TCP echo, 1,000 clients (callbacks, same line framing)", "msg/s", fmt(cb), "100.0 %", ""]);
  rows.push(["TCP echo, 1,000 clients (skein coroutines)", "msg/s", fmt(sk), `${((sk / cb) * 100).toFixed(1)} %`, ""]);
}

// ---- worker pool --------------------------------------------------------------------------------

const jobs = new URL("io/jobs.mjs", import.meta.url);

async function pool(): Promise<void> {
  const s = createScheduler();
  const p = createPool();
  const tinyN = 20_000;
  const tinyRate = await s.run(function* () {
    yield* map(Array.from({ length: 64 }, (_, i) => i), (i) => p.run(jobs, "tiny", i), { concurrency: 64 }); // threads up
    const t0 = performance.now();
    yield* map(Array.from({ length: tinyN }, (_, i) => i), (i) => p.run(jobs, "tiny", i), { concurrency: 64 });
    return (tinyN / (performance.now() - t0)) * 1000;
  });
  rows.push(["worker pool: tiny jobs, 64 in flight", "jobs/s", fmt(tinyRate), "", `${fmt(1e6 / tinyRate)} µs a job`]);

  const N = 3_000_000;
  const count = 8;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) primes(N);
  const inline = performance.now() - t0;
  const parallel = await s.run(function* () {
    const t1 = performance.now();
    yield* all(Array.from({ length: count }, () => p.run<number>(jobs, "primes", N)));
    return performance.now() - t1;
  });
  rows.push([`worker pool: ${count} CPU jobs, inline (ms)`, "ms", fmt(inline), "1.00×", ""]);
  rows.push([`worker pool: ${count} CPU jobs on ${p.size} threads (ms)`, "ms", fmt(parallel), `${(inline / parallel).toFixed(2)}× faster`, ""]);
  await s.run(p.close());
}

console.log(`skein I/O bench — node ${process.version}, ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, ${new Date().toISOString().slice(0, 10)}, ${seconds} s a measurement\n`);
const only = args.lists.only ?? ioCases;
if (only.includes("http")) await http();
if (only.includes("tcp")) await tcp();
if (only.includes("pool")) await pool();
console.log("| workload | unit | value | relative | note |\n|---|---|---:|---:|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
