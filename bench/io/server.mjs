// An HTTP server for the HTTP bench, in its own process: plain `node:http`, or skein's `serve`
// from the built package (dist/, what users run), doing the same work per request: read the URL,
// answer a small JSON body. Sends its port, and on request its CPU time, over IPC.
import * as http from "node:http";

const body = (url) => JSON.stringify({ hello: "world", url });
process.on("message", (m) => {
  if (m === "cpu") {
    const u = process.cpuUsage();
    process.send((u.user + u.system) / 1000);
  }
});

if (process.argv[2] === "node:http") {
  const server = http.createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(body(req.url));
  });
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
} else {
  const { run, suspend } = await import("../../dist/index.mjs");
  const { serve } = await import("../../dist/node.mjs");
  void run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      res.header("content-type", "application/json");
      yield* res.end(body(req.url));
    });
    process.send({ port: server.port });
    yield* suspend();
  });
}
