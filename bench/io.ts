// npm run bench:io — real I/O, as ratios to native measured alternately in one run: HTTP servers
// under autocannon (skein's serve from the built package beside plain node:http; a hello handler,
// and one that sleeps 5 ms), TCP line echo with 100 and 1,000 clients (skein coroutines beside
// callbacks with the same framing), and the worker pool (overhead of a tiny job, speed-up of
// CPU-bound jobs). Each round measures native then skein; a ratio is the median of the rounds'
// ratios, so that the load of a shared machine hits both sides alike. CPU per request is the
// server process's own (process.cpuUsage), the steadiest figure on a busy machine.
// For instruction counts instead of times: bench/io/callgrind.mjs.
import autocannon from "autocannon";
import { fork as forkProcess } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { benchArgs } from "./args.js";

const ioCases = ["http", "http-sleep", "tcp", "pool"];
const args = benchArgs(
  `usage: npm run bench:io -- [--only LIST] [--help]

Runs the I/O cases against the build (npm run bench:io builds it first). BENCH_SECONDS (default 5)
is the length of a measurement, BENCH_ROUNDS (default 3) how many alternating rounds.

options:
  --only LIST    the cases to run, comma-separated: ${ioCases.join(", ")}
  --help         this text
`,
  { only: ioCases },
);
// skein as users run it: the built package (npm run build), not the sources through tsx.
const { all, createScheduler, map } = (await import(String(new URL("../dist/index.mjs", import.meta.url)))) as typeof import("../lib/index.js");
const { createPool } = (await import(String(new URL("../dist/node.mjs", import.meta.url)))) as typeof import("../lib/node/index.js");
import { primes } from "./io/jobs.mjs";
import { echoCallbacks, echoSkein, type EchoRate } from "./io/echo.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const rows: string[][] = [];
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

// ---- HTTP ---------------------------------------------------------------------------------------

/** Start a server process; it answers its port, and its CPU time when asked. */
async function startServer(kind: string, mode: string): Promise<{ port: number; cpu: () => Promise<number>; stop: () => void }> {
  const file = fileURLToPath(new URL("io/server.mjs", import.meta.url));
  const child = forkProcess(file, [kind, mode], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
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

interface Load {
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
}

async function load(kind: string, mode: string): Promise<Load> {
  const server = await startServer(kind, mode);
  try {
    const run = (duration: number) => autocannon({ url: `http://127.0.0.1:${server.port}/item/42`, connections: 100, duration, timeout: 10 });
    await run(1); // warm up
    const c0 = await server.cpu();
    const r = await run(seconds);
    const cpu = (((await server.cpu()) - c0) * 1000) / r.requests.total; // µs of server CPU a request
    const errors = r.errors + r.non2xx + r.timeouts;
    if (errors > 0) throw new Error(`${kind}: ${errors} errors`);
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu };
  } finally {
    server.stop();
  }
}

async function http(mode: "hello" | "sleep"): Promise<void> {
  const native: Load[] = [];
  const skein: Load[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const [kind, into] of [["node:http", native], ["skein", skein]] as const) {
      const r = await load(kind, mode);
      into.push(r);
      process.stderr.write(`http ${mode} ${kind} round ${round}: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpu.toFixed(1)} µs CPU a request\n`);
    }
  }
  const rps = median(skein.map((k, i) => k.rps / native[i]!.rps));
  const cpu = median(skein.map((k, i) => native[i]!.cpu / k.cpu));
  const m = (xs: Load[], f: (l: Load) => number) => median(xs.map(f));
  const what = mode === "hello" ? "HTTP hello, 100 connections" : "HTTP, handler sleeps 5 ms, 100 connections";
  rows.push([what, "req/s", fmt(m(native, (l) => l.rps)), fmt(m(skein, (l) => l.rps)), pct(rps), `CPU a request ${m(native, (l) => l.cpu).toFixed(1)} / ${m(skein, (l) => l.cpu).toFixed(1)} µs (${pct(cpu)} of native's efficiency)`]);
  rows.push([`${what}: latency`, "p50 / p99 ms", `${m(native, (l) => l.p50)} / ${m(native, (l) => l.p99)}`, `${m(skein, (l) => l.p50)} / ${m(skein, (l) => l.p99)}`, "", ""]);
}

// ---- TCP echo -----------------------------------------------------------------------------------

async function tcp(clients: number): Promise<void> {
  const native: EchoRate[] = [];
  const skein: EchoRate[] = [];
  for (let round = 1; round <= rounds; round++) {
    const n = await echoCallbacks({ clients, ms: seconds * 600 });
    const k = await echoSkein({ clients, ms: seconds * 600 });
    native.push(n);
    skein.push(k);
    process.stderr.write(`tcp ${clients} clients round ${round}: callbacks ${Math.round(n.rate)} msg/s ${n.cpu.toFixed(1)} µs CPU, skein ${Math.round(k.rate)} msg/s ${k.cpu.toFixed(1)} µs CPU\n`);
  }
  const ratio = median(skein.map((k, i) => k.rate / native[i]!.rate));
  const cpu = median(skein.map((k, i) => native[i]!.cpu / k.cpu));
  const m = (xs: EchoRate[], f: (l: EchoRate) => number) => median(xs.map(f));
  rows.push([`TCP line echo, ${clients.toLocaleString("en")} clients`, "msg/s", fmt(m(native, (l) => l.rate)), fmt(m(skein, (l) => l.rate)), pct(ratio), `CPU a message (both ends, one process) ${m(native, (l) => l.cpu).toFixed(1)} / ${m(skein, (l) => l.cpu).toFixed(1)} µs (${pct(cpu)} of callbacks' efficiency)`]);
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
  rows.push(["worker pool: tiny jobs, 64 in flight", "jobs/s", "", fmt(tinyRate), "", `${fmt(1e6 / tinyRate)} µs a job`]);

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
  rows.push([`worker pool: ${count} CPU jobs on ${p.size} threads, beside inline`, "ms", fmt(inline), fmt(parallel), `${(inline / parallel).toFixed(2)}× faster`, ""]);
  await s.run(p.close());
}

console.log(`skein I/O bench — node ${process.version}, ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, ${new Date().toISOString().slice(0, 10)}, ${seconds} s a measurement, ${rounds} rounds\n`);
const only = args.lists.only ?? ioCases;
if (only.includes("http")) await http("hello");
if (only.includes("http-sleep")) await http("sleep");
if (only.includes("tcp")) {
  await tcp(100);
  await tcp(1000);
}
if (only.includes("pool")) await pool();
console.log("| workload | unit | native | skein | skein / native (median of rounds) | note |\n|---|---|---:|---:|---:|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
