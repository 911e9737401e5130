// A message queue in a few coroutines: producers push jobs into a bounded channel (a full queue
// makes them wait: backpressure), a pool of workers takes them, and a supervisor (one-for-one,
// as in Erlang) replaces a worker that crashes on a poisoned job. Prints throughput and the
// queue depth over time.
import { all, call, cancel, channel, sleep, spawn, supervisor, waitGroup, type Channel, type Operation } from "../lib/index.js";
import type { Demo } from "./demo.js";
import { timed } from "./timeline.js";

interface Job {
  id: number;
  cost: number; // ms of (simulated) I/O the job waits on
  poisoned: boolean;
}

/** Take jobs until the queue ends; a poisoned job makes the worker throw. */
function* worker(queue: Channel<Job>, done: { count: number }): Operation<void> {
  let job;
  while ((job = yield* queue.receive()) !== undefined) {
    yield* sleep(job.cost);
    if (job.poisoned) throw new Error(`poisoned job #${job.id}`);
    done.count++;
  }
}


export const demo: Demo = {
  summary: "producers, a bounded queue with backpressure, a worker pool, a crashing worker replaced by its supervisor",
  *main({ quick, log }) {
    const jobsPerProducer = quick ? 60 : 300;
    const producers = 3;
    const workers = 4;
    const capacity = 20;
    const queue = channel<Job>(capacity);
    const done = { count: 0 };
    const crashes: string[] = [];
    const depth: number[] = [];
    let blockedSends = 0;
    let nextId = 1;

    log(`${producers} producers × ${jobsPerProducer} jobs → a queue of ${capacity} → ${workers} workers (each job waits 2-8 ms; every 97th is poisoned)\n`);
    const sampler = yield* spawn(function* () {
      for (;;) {
        depth.push(queue.size);
        yield* sleep(quick ? 10 : 25);
      }
    });
    // Workers are transient children: a crash restarts one, the end of the queue ends it.
    const drained = waitGroup();
    drained.add(workers);
    const pool = supervisor({
      name: "pool",
      strategy: "one-for-one",
      intensity: { restarts: 50, within: 1000 },
      children: Array.from({ length: workers }, (_, w) => ({ name: `worker ${w + 1}`, run: () => worker(queue, done), restart: "transient" as const })),
      onExit: ({ name, how, error }) => {
        if (how === "returned") return drained.done();
        crashes.push(name);
        log(`  ${name} crashed: ${(error as Error).message}; replaced`);
      },
    });
    const [, elapsed] = yield* timed(() =>
      call(function* () {
        const supervising = yield* spawn(pool);
        yield* all(
          Array.from({ length: producers }, () =>
            function* producer() {
              for (let i = 0; i < jobsPerProducer; i++) {
                const id = nextId++;
                if (queue.size >= capacity) blockedSends++; // this send will wait for room
                yield* queue.send({ id, cost: 2 + (id % 7), poisoned: id % 97 === 0 });
              }
            },
          ),
        );
        queue.close(); // the workers drain what is left, then stop
        yield* drained.wait();
        yield* cancel(supervising);
      }),
    );
    yield* sampler.cancel();
    const total = producers * jobsPerProducer;
    log(`\n${done.count} of ${total} jobs done in ${elapsed.toFixed(0)} ms: ${((done.count / elapsed) * 1000).toFixed(0)} jobs/s`);
    log(`${crashes.length} crash${crashes.length === 1 ? "" : "es"}, each worker replaced; ${blockedSends} sends waited for room in the queue (backpressure)\n`);
    log("queue depth over time:");
    const bars = " ▁▂▃▄▅▆▇█";
    const line = depth.map((d) => bars[Math.round((d / capacity) * 8)]).join("");
    for (let i = 0; i < line.length; i += 60) log(`  ${line.slice(i, i + 60)}`);
    log(`  (one mark per ${quick ? 10 : 25} ms; full height = ${capacity} jobs waiting)`);
    return { done: done.count, total, crashes: crashes.length, poisoned: Math.floor(total / 97), blockedSends, maxDepth: Math.max(...depth) };
  },
};
