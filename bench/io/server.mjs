// An HTTP server for the HTTP bench, in its own process: plain `node:http`, or skein's `serve`
// from the built package (dist/, what users run), doing the same work per request: read the URL,
// answer a small JSON body ("hello"), or the same after a 5 ms sleep ("sleep"; "sleep-host": a
// skein handler waits on a host `setTimeout` of its own instead of `sleep`, see bench/io/latency.mjs;
// "await-sleep": the handler first awaits a promise that is settled already, as a cache lookup
// would; "timeout-sleep": the sleep runs inside a 1 s timeout, a second timer a request;
// "timeout-fires": the 5 ms sleep runs inside a 2 ms timeout, which fires, and the handler catches
// its TimeoutError and answers all the same, as one that gives up on a slow call would).
//   node bench/io/server.mjs node:http|skein [hello|sleep|sleep-host|await-sleep|timeout-sleep|timeout-fires] [serve | load N [C]]
// With SERVER_MARKS=1 it notes when each request arrived and when its handler had ended it (ms
// since the epoch, comparable across processes), and sends them over IPC when asked ("marks").
// Sends its port, and on request its CPU time, over IPC when it has a channel; otherwise prints
// its port on stdout and exits when stdin ends. `serve` and `load` turn the server's timeouts off
// (bench/io/callgrind.mjs runs it under valgrind, where a request can take a second); `load`
// loads it from this same process (below).
import * as http from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [kind = "node:http", mode = "hello"] = process.argv.slice(2);
const MODES = ["hello", "sleep", "sleep-host", "await-sleep", "timeout-sleep", "timeout-fires"];
if (!["node:http", "skein"].includes(kind) || !MODES.includes(mode)) {
  console.error(`usage: node bench/io/server.mjs node:http|skein [${MODES.join("|")}] [serve | load N [C]] (got ${kind} ${mode})`);
  process.exit(2);
}
const selfLoad = process.argv[4] === "load";
if (selfLoad || process.argv[4] === "serve") {
  // Under callgrind a request can take a second: no server timeout may cut a connection.
  const { createRequire, syncBuiltinESMExports } = await import("node:module");
  const cjs = createRequire(import.meta.url)("node:http");
  const create = cjs.createServer;
  cjs.createServer = (...a) => Object.assign(create(...a), { headersTimeout: 0, requestTimeout: 0, keepAliveTimeout: 0 });
  syncBuiltinESMExports();
}
const body = (url) => JSON.stringify({ hello: "world", url });
/** What "await-sleep" handlers await first: a promise settled already (a cache's answer). */
const cached = Promise.resolve("hit");
let ready;
const portReady = new Promise((resolve) => (ready = resolve));
void portReady.then((port) => {
  if (selfLoad) return;
  if (process.send) process.send({ port });
  else process.stdout.write(`${port}\n`);
});
// SERVER_MARKS=1: URL → [arrived, answered], in ms since the epoch (timeOrigin + now).
const marks = process.env.SERVER_MARKS === "1" ? new Map() : null;
const epochNow = () => performance.timeOrigin + performance.now();
if (marks !== null) {
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, req) {
    if (event === "request") marks.set(req.url, [epochNow(), 0]);
    return emit.apply(this, arguments);
  };
}
/** The handler has ended `url`'s response (its data handed to the socket). */
const answered = (url) => {
  if (marks !== null) marks.get(url)[1] = epochNow();
};
if (process.send) {
  process.on("disconnect", () => process.exit(0)); // the parent has gone: no server left behind
  process.on("message", (m) => {
    if (m === "marks") process.send([...(marks ?? [])]);
    if (m === "cpu") {
      const u = process.cpuUsage();
      process.send((u.user + u.system) / 1000);
    }
  });
} else if (!selfLoad) {
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

if (kind === "node:http") {
  const server = http.createServer(
    mode !== "hello"
      ? async (req, res) => {
          if (mode === "await-sleep") await cached;
          if (mode === "timeout-fires") {
            // Promise.race with a timer that rejects, each cleared after: the usual native timeout.
            let slow, limit;
            try {
              await Promise.race([
                new Promise((r) => (slow = setTimeout(r, 5))),
                new Promise((_, reject) => (limit = setTimeout(() => reject(new Error("timed out after 2 ms")), 2))),
              ]);
            } catch {
            } finally {
              clearTimeout(slow);
              clearTimeout(limit);
            }
            res.setHeader("content-type", "application/json");
            res.end(body(req.url));
            answered(req.url);
            return;
          }
          let guard;
          if (mode === "timeout-sleep") guard = setTimeout(() => res.destroy(), 1000);
          setTimeout(() => {
            clearTimeout(guard);
            res.setHeader("content-type", "application/json");
            res.end(body(req.url));
            answered(req.url);
          }, 5);
        }
      : (req, res) => {
          res.setHeader("content-type", "application/json");
          res.end(body(req.url));
          answered(req.url);
        },
  );
  server.listen(0, "127.0.0.1", () => ready(server.address().port));
} else {
  // SKEIN_DIST=dir runs another build (a copy of dist/ from before a change, say).
  const dist = process.env.SKEIN_DIST ? new URL(`${pathToFileURL(resolve(process.env.SKEIN_DIST)).href}/`) : new URL("../../dist/", import.meta.url);
  const { action, call, run, sleep, suspend, timeout, TimeoutError } = await import(String(new URL("index.mjs", dist)));
  // The host's own timer, one a request, as node:http's handler has: an action (not a promise),
  // so that only the timer differs from "sleep".
  const hostSleep = (ms) =>
    action((resolve) => {
      const t = setTimeout(resolve, ms);
      return () => clearTimeout(t);
    });
  const { serve } = await import(String(new URL("node.mjs", dist)));
  void run(function* () {
    const server = yield* serve(
      { port: 0 },
      mode !== "hello"
        ? function* (req, res) {
            if (mode === "await-sleep") yield* call(() => cached);
            if (mode === "timeout-fires") {
              try {
                yield* timeout(2, sleep(5));
              } catch (e) {
                if (!(e instanceof TimeoutError)) throw e;
              }
            } else yield* (mode === "sleep-host" ? hostSleep(5) : mode === "timeout-sleep" ? timeout(1000, sleep(5)) : sleep(5));
            res.header("content-type", "application/json");
            yield* res.end(body(req.url));
            answered(req.url);
          }
        : function* (req, res) {
            res.header("content-type", "application/json");
            yield* res.end(body(req.url));
            answered(req.url);
          },
    );
    ready(server.port);
    yield* suspend();
  });
}

// `load N [C]`: N requests over C connections (default 100) from this process, then exit.
if (selfLoad) {
  const { loadHttp } = await import("./client.mjs");
  await loadHttp(await portReady, Number(process.argv[5]), Number(process.argv[6] ?? 100));
  process.exit(0);
}
