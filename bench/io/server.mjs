// An HTTP server for the HTTP bench, in its own process: plain `node:http`, or skein's `serve`
// from the built package (dist/, what users run), doing the same work per request: read the URL,
// answer a small JSON body ("hello"), or the same after a 5 ms sleep ("sleep").
//   node bench/io/server.mjs node:http|skein [hello|sleep] [serve | load N [C]]
// Sends its port, and on request its CPU time, over IPC when it has a channel; otherwise prints
// its port on stdout and exits when stdin ends. `serve` and `load` turn the server's timeouts off
// (bench/io/callgrind.mjs runs it under valgrind, where a request can take a second); `load`
// loads it from this same process (below).
import * as http from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [kind = "node:http", mode = "hello"] = process.argv.slice(2);
if (!["node:http", "skein"].includes(kind) || !["hello", "sleep"].includes(mode)) {
  console.error(`usage: node bench/io/server.mjs node:http|skein [hello|sleep] [serve | load N [C]] (got ${kind} ${mode})`);
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
let ready;
const portReady = new Promise((resolve) => (ready = resolve));
void portReady.then((port) => {
  if (selfLoad) return;
  if (process.send) process.send({ port });
  else process.stdout.write(`${port}\n`);
});
if (process.send) {
  process.on("message", (m) => {
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
    mode === "sleep"
      ? (req, res) => {
          setTimeout(() => {
            res.setHeader("content-type", "application/json");
            res.end(body(req.url));
          }, 5);
        }
      : (req, res) => {
          res.setHeader("content-type", "application/json");
          res.end(body(req.url));
        },
  );
  server.listen(0, "127.0.0.1", () => ready(server.address().port));
} else {
  // SKEIN_DIST=dir runs another build (a copy of dist/ from before a change, say).
  const dist = process.env.SKEIN_DIST ? new URL(`${pathToFileURL(resolve(process.env.SKEIN_DIST)).href}/`) : new URL("../../dist/", import.meta.url);
  const { run, sleep, suspend } = await import(String(new URL("index.mjs", dist)));
  const { serve } = await import(String(new URL("node.mjs", dist)));
  void run(function* () {
    const server = yield* serve(
      { port: 0 },
      mode === "sleep"
        ? function* (req, res) {
            yield* sleep(5);
            res.header("content-type", "application/json");
            yield* res.end(body(req.url));
          }
        : function* (req, res) {
            res.header("content-type", "application/json");
            yield* res.end(body(req.url));
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
