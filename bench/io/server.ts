// An HTTP server for the HTTP bench, in its own process: `node:http` or skein's `serve`, doing
// the same work per request (read the URL, answer a small JSON body). Prints its port.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { run, suspend } from "../../lib/index.js";
import { serve } from "../../lib/node/index.js";

const body = (url: string) => JSON.stringify({ hello: "world", url });

if (process.argv[2] === "node:http") {
  const server = http.createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(body(req.url!));
  });
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
} else {
  void run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      res.header("content-type", "application/json");
      yield* res.end(body(req.url));
    });
    console.log(server.port);
    yield* suspend();
  });
}
