// A raw HTTP/1.1 client for the instruction counts (bench/io/callgrind.mjs, bench/io/server.mjs):
// `total` keep-alive GETs over `connections` sockets, one in flight on each; resolves when every
// one is answered. Plain sockets, so that its share of a count is the same for every server.
import * as net from "node:net";

const request = Buffer.from("GET /item/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

export function loadHttp(port, total, connections) {
  let sent = 0;
  let answered = 0;
  return new Promise((done, fail) => {
    for (let i = 0; i < connections; i++) {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", (e) => fail(new Error(`load: connection ${i} failed after ${answered} answers: ${e.message}`)));
      let buf = "";
      const next = () => {
        if (sent < total) {
          sent++;
          s.write(request);
        } else s.end();
      };
      s.on("connect", next);
      s.on("data", (d) => {
        buf += d;
        for (;;) {
          const head = buf.indexOf("\r\n\r\n");
          if (head < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, head))[1]);
          if (buf.length < head + 4 + length) return;
          buf = buf.slice(head + 4 + length);
          if (++answered === total) done();
          next();
        }
      });
    }
  });
}
