// Real processes sharing a queue: a producer and three workers on one redis-server; 10,000 jobs;
// one worker SIGKILLed mid-run, another SIGTERMed (cancelled cleanly through main()). Every job is
// completed or dead-lettered, none lost; the duplicates are counted and all come from the kill.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { startRedis, type RedisServer } from "./server.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
let server: RedisServer;
test.before(async () => {
  server = await startRedis();
});
test.after(async () => {
  await server.remove();
});

interface Proc {
  child: ChildProcess;
  done: number[];
  /** Jobs it completed on a second or later attempt. */
  retried: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ready: Promise<void>;
}

function start(script: string, args: string[]): Proc {
  const child = spawn(process.execPath, ["--import", "tsx", fixtures + script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const done: number[] = [];
  let ready!: () => void;
  const proc: Proc = {
    child,
    done,
    retried: 0,
    exited: new Promise((r) => child.once("exit", (code, signal) => r({ code, signal }))),
    ready: new Promise((r) => (ready = r)),
  };
  let rest = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("done ")) {
        const [, n, attempt] = line.split(" ");
        done.push(Number(n));
        if (attempt !== "1") proc.retried++;
      }
      else if (line === "ready" || line.startsWith("sent ")) ready();
    }
  });
  return proc;
}

test("three worker processes and a producer: 10,000 jobs, one worker killed, one stopped; none lost", async () => {
  const total = 10_000;
  const name = "jobs";
  const concurrency = 16;
  const admin = new Redis(server.port, "127.0.0.1");
  const workers = [0, 1, 2].map(() => start("worker.ts", [server.url, name, String(concurrency)]));
  const all = () => workers.reduce((n, w) => n + w.done.length, 0);
  const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${all()} done`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await Promise.all(workers.map((w) => w.ready));
    const producer = start("producer.ts", [server.url, name, String(total)]);
    await waitFor("a third of the jobs", () => all() >= total / 3);
    const killedAt = workers[0]!.done.length;
    workers[0]!.child.kill("SIGKILL");
    await waitFor("two thirds of the jobs", () => all() >= (2 * total) / 3);
    workers[1]!.child.kill("SIGTERM");
    const stopped = await workers[1]!.exited;
    assert.equal(stopped, { code: 143, signal: null }, "SIGTERM cancels the worker through main(), which exits 143");
    assert.equal(await producer.exited, { code: 0, signal: null });
    const dead = total / 1000;
    // A worker prints "done" before it acks: wait for the acks too (the queue empty), or the
    // SIGTERM below may cancel the last ack in flight, and that job goes back to the queue.
    await waitFor(
      "every job to be done or dead, and acked",
      async () => new Set(workers.flatMap((w) => w.done)).size === total - dead && (await admin.xlen(`${name}:dead`)) === dead && (await admin.xlen(name)) === 0,
    );
    workers[2]!.child.kill("SIGTERM");
    assert.equal(await workers[2]!.exited, { code: 143, signal: null });

    const count = new Map<number, number>();
    for (const w of workers) for (const n of w.done) count.set(n, (count.get(n) ?? 0) + 1);
    const letters = (await admin.xrange(`${name}:dead`, "-", "+")).map(([, f]) => ({ data: JSON.parse(f[f.indexOf("data") + 1]!), error: f[f.indexOf("error") + 1], attempts: f[f.indexOf("attempts") + 1] }));
    const lost: number[] = [];
    for (let n = 0; n < total; n++) if (!count.has(n) && n % 1000 !== 999) lost.push(n);
    assert.equal(lost, [], "every job that can succeed was completed");
    assert.equal(letters.map((l) => l.data.n).sort((a, b) => a - b), Array.from({ length: dead }, (_, i) => i * 1000 + 999));
    assert.ok(letters.every((l) => l.error === `Error: job ${l.data.n} always fails` && l.attempts === "3"), JSON.stringify(letters[0]));
    // Duplicates: jobs completed twice. Each must be one the killed worker completed but could
    // not ack: at most the jobs it had in flight when it died.
    const twice = [...count].filter(([, c]) => c > 1).map(([n]) => n);
    const killed = new Set(workers[0]!.done);
    assert.ok(twice.every((n) => killed.has(n)), "every duplicate was a job the killed worker had done");
    assert.ok(twice.length <= concurrency, `${twice.length} duplicates, more than the ${concurrency} in flight at the kill`);
    assert.ok(killedAt > 0 && workers[1]!.done.length > 0 && workers[2]!.done.length > 0, "all three workers took part");
    assert.is(await admin.xlen(name), 0, "the queue is empty");
    if (process.env.SKEIN_REDIS_REPORT) {
      console.log(`processes: ${workers.map((w) => w.done.length).join(" / ")} done per worker, ${twice.length} duplicates (killed worker), ${workers.reduce((n, w) => n + w.retried, 0)} completed on a later attempt, ${letters.length} dead letters, lost ${lost.length}`);
    }
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    admin.disconnect();
  }
});

test.run();
