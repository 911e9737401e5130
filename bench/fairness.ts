// npm run bench:fairness — does a busy skein program leave the host its turns? Beside a task
// that never waits (and a sleep(10) ticker), or 40 tasks that work 3 ms each time a timer wakes
// them, count the host's setInterval(10) callbacks and the
// TCP echo round trips to a server in another process, as ratios to a plain-JS control that
// works in 5 ms chunks on setImmediate. Also samples the pending setImmediate callbacks.
import { spawn as spawnProcess } from "node:child_process";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import { call, cooperate, createScheduler, self, sleep, spawn, suspend, type Task } from "../lib/index.js";

export interface Fairness {
  /** Host setInterval(10) callbacks in the window. */
  timer: number;
  /** TCP echo round trips in the window. */
  echo: number;
  /** The most setImmediate callbacks pending at once, sampled by the host timer. */
  immediates: number;
}

const echoServer = `
const net = require("node:net");
const server = net.createServer((s) => s.on("error", () => {}).pipe(s)).listen(0, "127.0.0.1", () => process.send(server.address().port));
process.on("disconnect", () => process.exit(0));
`;

/** Count host timer callbacks and echo round trips for `ms` while `load` keeps the loop busy. */
export async function measure(load: "control" | "skein" | "workers", ms: number): Promise<Fairness> {
  const child = spawnProcess(process.execPath, ["-e", echoServer], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve) => child.once("message", (p) => resolve(p as number)));
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.setNoDelay(true);
  let echo = 0;
  let timer = 0;
  let immediates = 0;
  let counting = true;
  socket.on("data", () => {
    if (!counting) return;
    echo++;
    socket.write("x");
  });
  const interval = setInterval(() => {
    timer++;
    const n = process.getActiveResourcesInfo().filter((r) => r === "Immediate").length;
    if (n > immediates) immediates = n;
  }, 10);
  let stop: () => Promise<void>;
  if (load === "control") {
    let going = true;
    const chunk = () => {
      if (!going) return;
      const end = performance.now() + 5;
      while (performance.now() < end);
      setImmediate(chunk);
    };
    setImmediate(chunk);
    stop = async () => void (going = false);
  } else if (load === "workers") {
    // 40 tasks woken by their timers (1–10 ms), each computing 3 ms a wake, then awaiting a
    // promise and computing 3 ms more: the host's turn must come after a slice, not after all 40.
    const s = createScheduler();
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const root: Task = s.run(function* () {
      for (let k = 0; k < 40; k++) {
        yield* spawn(function* worker() {
          for (let i = k; ; i++) {
            yield* sleep(1 + ((i * 7) % 10));
            spin(3);
            yield* call(async () => i);
            spin(3);
          }
        });
      }
      yield* suspend();
    });
    stop = () => root.cancel();
  } else {
    const s = createScheduler();
    const root: Task = s.run(function* () {
      yield* spawn(function* busy() {
        for (;;) yield* self();
      });
      yield* spawn(function* ticker() {
        for (;;) yield* sleep(10);
      });
      yield* suspend();
    });
    stop = () => root.cancel();
  }
  socket.write("x");
  await new Promise((resolve) => setTimeout(resolve, ms));
  counting = false;
  const result = { timer, echo, immediates };
  clearInterval(interval);
  await stop();
  socket.destroy();
  child.disconnect();
  return result;
}

const getter = `
const http = require("node:http");
process.on("message", async ({ url, n }) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => http.get(url, (res) => res.resume().on("end", resolve)).on("error", reject));
    times.push(performance.now() - t0);
  }
  process.send(times);
});
`;

/** p50 and max latency of `n` sequential GETs (from another process) to a skein `serve` whose
 * handler sleeps 1 ms, with or without a busy background task beside it. */
export async function serveLatency(busy: boolean, n: number): Promise<{ p50: number; max: number }> {
  const { serve } = await import("../lib/node/index.js");
  const s = createScheduler();
  let url = "";
  let stopServe = async () => {};
  const ready = new Promise<void>((resolve) => {
    const root = s.run(function* () {
      if (busy) {
        yield* spawn(function* background() {
          for (;;) {
            const end = performance.now() + 2;
            while (performance.now() < end); // 2 ms of work between cooperative yields
            yield* cooperate();
          }
        });
      }
      const server = yield* serve({ port: 0 }, function* (_req, res) {
        yield* sleep(1);
        yield* res.end("ok");
      });
      url = `http://127.0.0.1:${server.port}/`;
      resolve();
      yield* suspend();
    });
    stopServe = () => root.cancel();
  });
  await ready;
  const child = spawnProcess(process.execPath, ["-e", getter], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const times = await new Promise<number[]>((resolve) => {
    child.once("message", (m) => resolve(m as number[]));
    child.send({ url, n });
  });
  child.disconnect();
  await stopServe();
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)]!, max: times[n - 1]! };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ms = Number(process.env.BENCH_SECONDS ?? 2) * 1000;
  console.log(`host turns beside a busy task, ${ms / 1000} s each, node ${process.version}`);
  console.log("| load | host setInterval(10) callbacks | TCP echo round trips | most setImmediate pending |");
  console.log("|---|---:|---:|---:|");
  const loads = {
    control: "plain JS, 5 ms chunks on setImmediate",
    skein: "skein: a task looping on self() + a sleep(10) ticker",
    workers: "skein: 40 tasks woken by timers, 3 ms of work a wake, then an await and 3 ms more",
  };
  for (const load of ["control", "skein", "workers", "control", "skein", "workers"] as const) {
    const r = await measure(load, ms);
    console.log(`| ${loads[load]} | ${r.timer} | ${r.echo} | ${r.immediates} |`);
  }
  console.log("\n200 sequential GETs to a skein serve() whose handler sleeps 1 ms:");
  console.log("| beside | p50 | max |");
  console.log("|---|---:|---:|");
  for (const busy of [false, true]) {
    const r = await serveLatency(busy, 200);
    console.log(`| ${busy ? "a background task: 2 ms of work, then cooperate()" : "nothing"} | ${r.p50.toFixed(1)} ms | ${r.max.toFixed(1)} ms |`);
  }
}
