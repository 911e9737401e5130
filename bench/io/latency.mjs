// Where an HTTP request's time goes, server by server: bench/io/server.mjs in its own process
// (SERVER_MARKS=1: it notes when each request arrived and when its handler ended it), loaded by
// CONNECTIONS keep-alive connections from this process, one request in flight on each, for
// SECONDS. Each request's URL is unique, so the server's marks pair with the client's:
//   total    the client wrote the request → it had read the whole response
//   handler  the server's `request` event → the handler ended the response (its data handed to
//            the socket)
//   outside  total − handler: the ways in and out, and the waits for each process's turn
//   batch    how many responses the server ended one after the other, no request arriving
//            between (mean and 90th percentile): how bunched its answers are
// (The two processes' clocks are compared only within a process: `performance.timeOrigin` of
// two processes can differ by milliseconds.)
// The first third of each run (by time) is warm-up and left out. Servers alternate, ROUNDS times;
// medians.
//   npm run build && node bench/io/latency.mjs [SERVERS] [SECONDS] [ROUNDS] [CONNECTIONS]
//   node bench/io/latency.mjs node:http/sleep,skein/sleep,skein/sleep-host 5 3
// SKEIN_DIST=dir runs another build (see server.mjs).
import { fork } from "node:child_process";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import { responses } from "./client.mjs";

const [list = "node:http/sleep,skein/sleep,skein/sleep-host", seconds = "5", rounds = "3", connections = "100"] = process.argv.slice(2);
const servers = list.split(",").map((s) => s.split("/"));
const epochNow = () => performance.timeOrigin + performance.now();
const server = fileURLToPath(new URL("./server.mjs", import.meta.url));

/** One run against a fresh server: requests a second and the mean of each part, in ms. */
async function measure(kind, mode) {
  const child = fork(server, [kind, mode], { env: { ...process.env, SERVER_MARKS: "1" }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    return await load(child, kind, mode);
  } finally {
    child.kill();
  }
}

async function load(child, kind, mode) {
  let died;
  const exited = new Promise((_, reject) => (died = reject));
  exited.catch(() => {});
  child.once("exit", (code, signal) => died(new Error(`the ${kind} ${mode} server exited (${signal ?? code}) during the run`)));
  const { port } = await Promise.race([new Promise((resolve) => child.once("message", resolve)), exited]);
  // A connection's failure, told as the server's exit when that is what it was (its exit event
  // may come a moment after the sockets' errors).
  const failure = (e) =>
    new Promise((resolve) => setTimeout(resolve, 100)).then(() => {
      const gone = child.exitCode !== null || child.signalCode !== null;
      throw new Error(`${kind} ${mode}: ${gone ? `the server exited (${child.signalCode ?? child.exitCode}) during the run` : e.message}`, { cause: e });
    });
  const sent = new Map(); // epoch ms, by URL
  const read = new Map();
  let next = 0;
  let running = true;
  const ms = Number(seconds) * 1000;
  const from = epochNow() + ms / 3; // the first third is warm-up
  let to = Infinity;
  await Promise.race([
    exited,
    new Promise((done, reject) => {
      let open = Number(connections);
      let failed = false;
      const fail = (e) => {
        if (!failed) (failed = true), failure(e).catch(reject);
      };
      for (let i = 0; i < Number(connections); i++) {
        const s = net.connect(port, "127.0.0.1");
        let url = "";
        const ask = () => {
          if (!running) {
            url = "";
            s.end();
            if (--open === 0) done();
            return;
          }
          url = `/r/${next++}`;
          sent.set(url, epochNow());
          s.write(`GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        };
        s.on("connect", ask);
        s.on("error", fail);
        s.on("close", () => {
          if (url !== "") fail(new Error(`connection ${i} closed with ${url} unanswered`));
        });
        s.on(
          "data",
          responses(
            () => {
              read.set(url, epochNow());
              ask();
            },
            (head) => fail(new Error(`a response without content-length: ${JSON.stringify(head)}`)),
          ),
        );
      }
      setTimeout(() => {
        running = false;
        to = epochNow();
      }, ms);
    }),
  ]);
  const marks = await Promise.race([
    new Promise((resolve) => {
      child.once("message", resolve);
      child.send("marks");
    }),
    exited,
  ]);
  // Requests sent after the warm-up and answered: their parts, and the answers in a row.
  let n = 0;
  const sum = { total: 0, handler: 0 };
  const events = [];
  for (const [url, [arrived, answered]] of marks) {
    const at = sent.get(url);
    if (at === undefined || at < from || !read.has(url) || answered === 0) continue;
    n++;
    sum.total += read.get(url) - at;
    sum.handler += answered - arrived;
    events.push([arrived, 0], [answered, 1]);
  }
  events.sort((a, b) => a[0] - b[0]);
  const batches = [];
  let batch = 0;
  for (const [, answer] of events) {
    if (answer) batch++;
    else if (batch > 0) batches.push(batch), (batch = 0);
  }
  if (batch > 0) batches.push(batch);
  batches.sort((a, b) => a - b);
  let answeredInWindow = 0; // the rate: answers read between the warm-up and the end of sending
  for (const t of read.values()) if (t >= from && t <= to) answeredInWindow++;
  return {
    rps: (answeredInWindow / (to - from)) * 1000,
    total: sum.total / n,
    handler: sum.handler / n,
    outside: (sum.total - sum.handler) / n,
    batch: batches.reduce((a, b) => a + b, 0) / batches.length,
    batch90: batches[Math.floor(batches.length * 0.9)],
  };
}

const results = new Map(servers.map(([kind, mode]) => [`${kind}/${mode}`, []]));
for (let r = 0; r < Number(rounds); r++) {
  for (const [kind, mode] of servers) {
    const m = await measure(kind, mode).catch((e) => {
      console.error(`latency: ${e.message}`);
      process.exit(1);
    });
    results.get(`${kind}/${mode}`).push(m);
    process.stderr.write(`${kind}/${mode} round ${r + 1}: ${Math.round(m.rps)} req/s, handler ${m.handler.toFixed(3)}, outside ${m.outside.toFixed(3)}, total ${m.total.toFixed(3)} ms, batches of ${m.batch.toFixed(1)} (90th percentile ${m.batch90})\n`);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (process.env.SKEIN_DIST) console.log(`skein from ${process.env.SKEIN_DIST}`);
console.log(`| server / handler | req/s | handler (ms) | outside (ms) | total (ms) | batch (mean, 90th percentile) |\n|---|---:|---:|---:|---:|---:|`);
for (const [name, ms] of results) {
  const m = (k) => median(ms.map((x) => x[k]));
  console.log(`| ${name} | ${Math.round(m("rps"))} | ${m("handler").toFixed(2)} | ${m("outside").toFixed(2)} | ${m("total").toFixed(2)} | ${m("batch").toFixed(1)}, ${m("batch90")} |`);
}
