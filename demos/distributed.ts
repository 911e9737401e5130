// A job queue across processes on Redis (skein/redis): a producer process and three worker
// processes share a queue; one worker is killed partway, and no job is lost.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensure, sleep, spawn, type Operation } from "../lib/index.js";
import { listen, subprocess, type Subprocess } from "../lib/node/index.js";
import { queue } from "../lib/redis/index.js";
import type { Demo } from "./demo.js";

const here = fileURLToPath(new URL(".", import.meta.url));

/** A free port on 127.0.0.1, as the system picks one: redis-server cannot pick its own, and a
 * port picked at random may be taken (by another program, or a connection's local end). */
function* freePort(): Operation<number> {
  const server = yield* listen({ port: 0 }, function* () {});
  const port = server.port;
  yield* server.close();
  return port;
}

/** Start a redis-server of our own on a free port, in a temporary directory; stopped with the scope. */
function* ownRedis(): Operation<string> {
  const dir = mkdtempSync(join(tmpdir(), "skein-demo-redis-"));
  yield* ensure(() => rmSync(dir, { recursive: true, force: true }));
  const port = yield* freePort();
  let server: Subprocess;
  try {
    server = yield* subprocess("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]);
  } catch (e) {
    if ((e as { code?: unknown }).code !== "ENOENT") throw e;
    throw new Error("redis-server is not installed: apt-get install redis-server, or set REDIS_URL to a Redis of yours", { cause: e });
  }
  const said: string[] = []; // its last lines, for the error if it stops before it is ready
  let line: string | undefined;
  while ((line = yield* server.stdout.readLine()) !== undefined && !line.includes("Ready to accept connections")) {
    if (said.push(line) > 5) said.shift();
  }
  if (line === undefined) throw new Error(`redis-server on port ${port} stopped before it was ready; it said:\n${said.join("\n")}`);
  yield* spawn(function* drain() {
    while ((yield* server.stdout.readLine()) !== undefined);
  });
  return `redis://127.0.0.1:${port}`;
}

interface Worker {
  name: string;
  process: Subprocess;
  done: number;
  killed: boolean;
}

export const demo: Demo = {
  summary: "a job queue on Redis shared by processes: a producer, three workers, one killed partway; nothing is lost",
  *main({ quick, log }) {
    const total = quick ? 1000 : 20_000;
    const url = process.env.REDIS_URL ?? (yield* ownRedis());
    const name = `distributed-demo-${process.pid}-${Date.now()}`;
    const node = (script: string, ...args: string[]) => subprocess(process.execPath, ["--import", "tsx", join(here, script), url, name, ...args]);
    log(`Redis at ${url}, queue "${name}": ${total} jobs; every 100th fails once (a flaky backend), every 500th always (corrupt input)\n`);

    const completions = new Map<number, number>();
    let retried = 0;
    const workers: Worker[] = [];
    for (let i = 1; i <= 3; i++) {
      const w: Worker = { name: `worker ${i}`, process: yield* node("distributed-worker.ts"), done: 0, killed: false };
      if ((yield* w.process.stdout.readLine()) !== "ready") throw new Error(`${w.name} did not start`);
      workers.push(w);
      yield* spawn(function* count() {
        let line;
        while ((line = yield* w.process.stdout.readLine()) !== undefined) {
          const [, n, attempt] = line.split(" ");
          completions.set(Number(n), (completions.get(Number(n)) ?? 0) + 1);
          if (attempt !== "1") retried++;
          w.done++;
        }
      });
    }
    const producer = yield* node("distributed-producer.ts", String(total));

    const dead = yield* queue<{ n: number }>(name, { redis: url });
    const show = () => workers.map((w) => `${w.name}: ${String(w.done).padStart(5)}${w.killed ? " (killed)" : ""}`).join("   ");
    let killed = false;
    let deadLetters = 0;
    const deadline = Date.now() + (quick ? 60_000 : 300_000);
    while (completions.size + deadLetters < total && Date.now() < deadline) {
      yield* sleep(quick ? 250 : 500);
      deadLetters = (yield* dead.deadLetters(total)).length;
      log(`${show()}   dead letters: ${deadLetters}`);
      if (!killed && completions.size >= total / 3) {
        killed = workers[0]!.killed = true;
        workers[0]!.process.kill("SIGKILL");
        log(`— SIGKILL to ${workers[0]!.name} (pid ${workers[0]!.process.pid}), with jobs in hand: they go to the others after the visibility timeout (1 s)`);
      }
    }
    yield* producer.wait();
    let lost = 0;
    for (let n = 0; n < total; n++) if (!completions.has(n) && n % 500 !== 499) lost++;
    const duplicates = [...completions.values()].filter((c) => c > 1).length;
    const letters = yield* dead.deadLetters(total);
    log(`\ndone ${completions.size}, retried ${retried} (done on a later attempt), dead-lettered ${letters.length}, duplicates ${duplicates}, lost: ${lost}`);
    if (letters[0] !== undefined) log(`a dead letter: job ${letters[0].data.n} after ${letters[0].attempts} attempts: ${letters[0].error}`);
    log(duplicates > 0 ? `the ${duplicates} duplicates: jobs the killed worker finished but could not ack; at least once means they ran again` : "no duplicates: the killed worker had acked every job it finished");
    return { total, done: completions.size, retried, dead: letters.length, duplicates, lost, killed: killed ? 1 : 0 };
  },
};
