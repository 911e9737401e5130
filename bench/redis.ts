// npm run bench:redis — skein/redis beside BullMQ on the same redis-server (started here, no
// persistence), the same tiny jobs, the same concurrency: jobs per second end to end (first send
// to last completion) and each job's latency (sent → handler done), p50 and p99. Rounds
// alternate between the two; the best round of each counts. skein runs from the built package.
import { Queue as BullQueue, Worker as BullWorker } from "bullmq";
import { startRedis } from "../spec/redis/server.js";
const { all, createScheduler, spawn, sleep } = (await import(String(new URL("../dist/index.mjs", import.meta.url)))) as typeof import("../lib/index.js");
const { queue } = (await import(String(new URL("../dist/redis.mjs", import.meta.url)))) as typeof import("../lib/redis/index.js");

const jobs = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const senders = 10;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

interface Result {
  jobsPerSecond: number;
  p50: number;
  p99: number;
}

function summarize(latencies: number[], ms: number): Result {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { jobsPerSecond: (jobs / ms) * 1000, p50: at(0.5), p99: at(0.99) };
}

async function skein(port: number, name: string): Promise<Result> {
  const s = createScheduler();
  return s.run(function* () {
    const q = yield* queue<{ t: number }>(name, { redis: `redis://127.0.0.1:${port}` });
    const latencies: number[] = [];
    const t0 = performance.now();
    const worker = yield* spawn(() =>
      q.work((job) => {
        latencies.push(performance.now() - job.data.t);
      }, { concurrency }),
    );
    yield* all(
      Array.from({ length: senders }, () =>
        (function* () {
          for (let i = 0; i < jobs / senders; i++) yield* q.send({ t: performance.now() });
        })(),
      ),
    );
    while (latencies.length < jobs) yield* sleep(1);
    const ms = performance.now() - t0;
    yield* worker.cancel();
    return summarize(latencies, ms);
  });
}

async function bullmq(port: number, name: string): Promise<Result> {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const q = new BullQueue(name, { connection });
  const latencies: number[] = [];
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  const t0 = performance.now();
  const worker = new BullWorker(
    name,
    async (job) => {
      latencies.push(performance.now() - (job.data as { t: number }).t);
      if (latencies.length === jobs) finished();
    },
    { connection, concurrency },
  );
  await Promise.all(
    Array.from({ length: senders }, async () => {
      for (let i = 0; i < jobs / senders; i++) await q.add("job", { t: performance.now() }, { removeOnComplete: true });
    }),
  );
  await allDone;
  const ms = performance.now() - t0;
  await worker.close();
  await q.close();
  return summarize(latencies, ms);
}

const server = await startRedis();
try {
  const best: Record<string, Result> = {};
  for (let round = 1; round <= rounds; round++) {
    for (const [kind, bench] of [["skein/redis", skein], ["BullMQ", bullmq]] as const) {
      const r = await bench(server.port, `bench-${kind.replace("/", "-")}-${round}`);
      console.log(`round ${round} ${kind.padEnd(12)} ${r.jobsPerSecond.toFixed(0).padStart(7)} jobs/s   p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms`);
      const b = best[kind];
      if (b === undefined || r.jobsPerSecond > b.jobsPerSecond) best[kind] = r;
    }
  }
  const s = best["skein/redis"]!;
  const b = best.BullMQ!;
  console.log(`\n${jobs} tiny jobs, ${senders} concurrent senders, worker concurrency ${concurrency}, one process, best of ${rounds} rounds:\n`);
  console.log("| | jobs/s end to end | p50 latency | p99 latency |");
  console.log("|---|---:|---:|---:|");
  console.log(`| skein/redis | ${s.jobsPerSecond.toFixed(0)} | ${s.p50.toFixed(1)} ms | ${s.p99.toFixed(1)} ms |`);
  console.log(`| BullMQ | ${b.jobsPerSecond.toFixed(0)} | ${b.p50.toFixed(1)} ms | ${b.p99.toFixed(1)} ms |`);
  console.log(`| skein / BullMQ | ${(s.jobsPerSecond / b.jobsPerSecond).toFixed(2)}× | ${(s.p50 / b.p50).toFixed(2)}× | ${(s.p99 / b.p99).toFixed(2)}× |`);
} finally {
  await server.remove();
}
