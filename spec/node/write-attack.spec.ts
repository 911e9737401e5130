// Attacks on writes as effects over real sockets on 127.0.0.1 (a review of the change): a huge
// write that waits for drain, one cancelled while it waits and then another, a catch-all around
// a write to a closed socket, a slow reader that holds the sender back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { sleep, timeout, TimeoutError } from "../../lib/index.js";
import { connect } from "../../lib/node/index.js";
import { ioTest, real } from "../node-helpers.js";



/** A plain node server that gives each connection to `f`; closed by the returned function. */
async function peer(f: (c: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer(f);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Everything a socket sends until it ends. */
function drain(c: net.Socket, delay = 0): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    c.pause();
    setTimeout(() => {
      c.on("data", (d: Buffer) => parts.push(d));
      c.on("end", () => {
        c.end();
        resolve(Buffer.concat(parts));
      });
      c.resume();
    }, delay);
  });
}



ioTest("a huge write to a peer that reads late waits for drain, then everything arrives in order; a write cancelled while it waits keeps its data written, and the next write follows it", async () => {
  const s = real();
  let received: Promise<Buffer> | undefined;
  const p = await peer((c) => (received = drain(c, 100)));
  try {
    const big = Buffer.alloc(8 << 20, 7);
    const log = await s.run(function* () {
      const sock = yield* connect(p.port);
      const log: string[] = [];
      try {
        yield* timeout(20, sock.write(big));
        log.push("completed at once");
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        log.push("timed out waiting for drain");
      }
      yield* sock.write("tail");
      yield* sock.write(big); // waits for drain again
      yield* sock.end();
      return log;
    });
    assert.equal(log, ["timed out waiting for drain"]);
    const got = await received!;
    assert.is(got.length, 2 * big.length + 4);
    assert.is(got.subarray(big.length, big.length + 4).toString(), "tail");
  } finally {
    await p.close();
  }
});

ioTest("a catch-all around a write to a socket the peer closed, then writes again: a clear error each time, never a hang", async () => {
  const s = real();
  const p = await peer((c) => c.destroy());
  try {
    const errors = await s.run(function* () {
      const sock = yield* connect(p.port);
      yield* sleep(50); // the peer has closed
      const errors: string[] = [];
      for (let i = 0; i < 5; i++) {
        try {
          yield* sock.write(Buffer.alloc(1 << 20));
        } catch (e) {
          errors.push((e as { code?: string }).code ?? (e as Error).message);
        }
      }
      return errors;
    });
    assert.ok(errors.length >= 4, errors.join(","));
    for (const e of errors.slice(1)) assert.ok(/^E|ERR_/.test(e), e);
  } finally {
    await p.close();
  }
});

ioTest("a slow reader holds a real sender back past 64 KiB and lets it go again; every byte arrives once", async () => {
  const s = real();
  const total = 24 << 20; // more than loopback buffers take
  let refused = 0;
  const p = await peer((c) => {
    let sent = 0;
    const more = () => {
      while (sent < total) {
        const piece = Buffer.alloc(16 << 10, sent / (16 << 10));
        sent += piece.length;
        if (!c.write(piece)) {
          refused++;
          return void c.once("drain", more);
        }
      }
      c.end();
    };
    more();
  });
  try {
    const [bytes, sum] = await s.run(function* () {
      const sock = yield* connect(p.port);
      yield* sleep(50); // not reading: the reader pauses its socket, the peer's buffers fill
      let bytes = 0;
      let sum = 0;
      for (let i = 0; i < 100_000; i++) {
        const chunk = yield* sock.readExactly(Math.min(65536 + (i % 3), total - bytes));
        bytes += chunk.length;
        for (let j = 0; j < chunk.length; j += 4096) sum += chunk[j]!;
        if (bytes === total) break;
        if (i % 64 === 0) yield* sleep(0);
      }
      const end = yield* sock.read();
      return [bytes, sum, end] as const;
    });
    assert.is(bytes, total);
    assert.ok(sum > 0);
    assert.ok(refused > 0, "the sender never saw backpressure");
  } finally {
    await p.close();
  }
});

test.run();
