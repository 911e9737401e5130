// A raw HTTP/1.1 client for the instruction counts (bench/io/callgrind.mjs, bench/io/server.mjs):
// `total` keep-alive GETs over `connections` sockets, one in flight on each; resolves when every
// one is answered, rejects if a connection fails or closes with a request unanswered. Plain
// sockets, so that its share of a count is the same for every server.
import * as net from "node:net";

const request = Buffer.from("GET /item/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

export function loadHttp(port, total, connections) {
  for (const [name, n] of [["requests", total], ["connections", connections]]) {
    if (!Number.isInteger(n) || n < 1) return Promise.reject(new RangeError(`load: the number of ${name} must be a whole number ≥ 1, got ${n}`));
  }
  let sent = 0;
  let answered = 0;
  return new Promise((done, fail) => {
    for (let i = 0; i < connections; i++) {
      const s = net.connect(port, "127.0.0.1");
      let waiting = false; // a request of this connection is unanswered
      s.on("error", (e) => fail(new Error(`load: connection ${i} failed after ${answered} answers`, { cause: e })));
      s.on("close", () => {
        if (waiting) fail(new Error(`load: the server closed connection ${i} with a request unanswered (after ${answered} answers)`));
      });
      const next = () => {
        if (sent < total) {
          sent++;
          waiting = true;
          s.write(request);
        } else s.end();
      };
      s.on("connect", next);
      s.on(
        "data",
        responses(
          () => {
            waiting = false;
            if (++answered === total) done();
            next();
          },
          (head) => {
            s.destroy();
            fail(new Error(`load: a response without content-length on connection ${i}: ${JSON.stringify(head)}`));
          },
        ),
      );
    }
  });
}

/** A socket's `data` listener for keep-alive responses: `onResponse()` for each whole one (framed
 * by its content-length), `onBad(head)` for one without a content-length, where it stops. */
export function responses(onResponse, onBad) {
  let buf = "";
  return (d) => {
    buf += d;
    for (;;) {
      const head = buf.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = /content-length: (\d+)/i.exec(buf.slice(0, head));
      if (length === null) return onBad(buf.slice(0, head));
      if (buf.length < head + 4 + Number(length[1])) return;
      buf = buf.slice(head + 4 + Number(length[1]));
      onResponse();
    }
  };
}
