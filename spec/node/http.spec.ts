// skein/node HTTP: a client whose requests belong to the caller's scope, and a coroutine server.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { call, cancel, channel, cooperate, createScheduler, fork, sleep, spawn, suspend, timeout, wait, type Operation, type Task } from "../../lib/index.js";
import { get, type Handler, request, serve } from "../../lib/node/index.js";
import { hogs, ioTest, listenerBacklog, onNextListen, real, takePort } from "../node-helpers.js";

/** A plain node:http server for the client specs. */
async function plainServer(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

ioTest("an HTTP server closed at once, before its task has run, has freed its port when close() returns", async () => {
  const s = real();
  await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (_req, res) {
      yield* res.end("hi");
    });
    yield* server.close();
    yield* call(() => takePort(server.port));
  });
});

ioTest("serve({ backlog }) gives the listener that many connections not yet accepted (up to the system's cap)", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0, backlog: 1500 }, function* (_req, res) {
      yield* res.end("ok");
    });
    return listenerBacklog(server.port);
  });
  assert.is(got.backlog, Math.min(1500, got.cap));
});

ioTest("a coroutine server and client: status, headers, JSON both ways, the body as a stream", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      if (req.url === "/echo") return yield* res.status(201).header("x-seen", req.method).json(yield* req.json());
      if (req.url === "/lines") {
        res.header("content-type", "text/plain");
        for (let i = 0; i < 3; i++) {
          yield* res.write(`line ${i}\n`);
          yield* sleep(5);
        }
        return; // ended for it
      }
      yield* res.status(404).end("no such page\n");
    });
    const base = `http://127.0.0.1:${server.port}`;
    const echoed = yield* request({ url: `${base}/echo`, method: "POST", body: JSON.stringify({ a: [1, 2] }) });
    const missing = yield* get(`${base}/nope`);
    const lines = yield* get(`${base}/lines`);
    const read: string[] = [];
    let line;
    while ((line = yield* lines.readLine()) !== undefined) read.push(line);
    return {
      status: echoed.status,
      seen: echoed.headers["x-seen"],
      type: echoed.headers["content-type"],
      body: yield* echoed.json(),
      missing: [missing.status, yield* missing.text()],
      read,
    };
  });
  assert.equal(got, {
    status: 201,
    seen: "POST",
    type: "application/json",
    body: { a: [1, 2] },
    missing: [404, "no such page\n"],
    read: ["line 0", "line 1", "line 2"],
  });
});

ioTest("cancelling a request mid-body: the server sees it aborted, the client ends cancelled, no socket stays open", async () => {
  const s = real();
  let serverSaw: (what: string) => void;
  const sawAbort = new Promise<string>((r) => (serverSaw = r));
  const server = await plainServer((req, res) => {
    res.writeHead(200);
    res.write("first part\n"); // and never the rest
    req.on("aborted", () => serverSaw("aborted"));
    res.on("close", () => serverSaw(res.writableFinished ? "finished" : "closed early"));
  });
  try {
    const client = s.run(function* () {
      const res = yield* get(server.url);
      const first = yield* res.readLine();
      assert.is(first, "first part");
      yield* res.text(); // waits for the rest, for ever
    });
    await new Promise((r) => setTimeout(r, 50));
    await client.cancel();
    assert.is(client.state, "cancelled");
    assert.match(await sawAbort, /aborted|closed early/);
  } finally {
    await server.close();
  }
});

ioTest("a client that goes away cancels its handler; the server goes on", async () => {
  const s = real();
  let handlerFinally = 0;
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      if (req.url === "/slow") {
        try {
          yield* res.write("wait for it\n");
          yield* suspend();
        } finally {
          handlerFinally++;
        }
      }
      yield* res.end("fast\n");
    });
    const base = `http://127.0.0.1:${server.port}`;
    const impatient = yield* fork(function* () {
      const res = yield* get(`${base}/slow`);
      yield* res.readLine();
    });
    yield* impatient; // it read one line and its scope ended: the response is abandoned
    for (let i = 0; i < 100 && handlerFinally === 0; i++) yield* sleep(5);
    const res = yield* get(`${base}/fast`);
    return [handlerFinally, yield* res.text()];
  });
  assert.equal(got, [1, "fast\n"]);
});

ioTest("on a keep-alive connection, a client that goes away during its second request cancels that handler only", async () => {
  const s = real();
  const ended: string[] = [];
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      try {
        if (req.url === "/slow") {
          yield* res.write("wait for it\n");
          yield* suspend();
        }
        yield* res.end("fast\n");
      } finally {
        ended.push(req.url);
      }
    });
    // Two requests on one raw connection: the first answered, the second left hanging.
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    let seen = "";
    socket.on("data", (d) => (seen += d));
    socket.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 200 && !seen.includes("fast"); i++) yield* sleep(5);
    socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 200 && !seen.includes("wait for it"); i++) yield* sleep(5);
    const before = [...ended];
    socket.destroy(); // the client goes away mid-response
    for (let i = 0; i < 200 && ended.length < 2; i++) yield* sleep(5);
    const gone = [...ended];
    const res = yield* get(`http://127.0.0.1:${server.port}/after`);
    return [before, gone, yield* res.text()];
  });
  assert.equal(got, [["/first"], ["/first", "/slow"], "fast\n"]);
});

ioTest("a client that goes away before its handler has begun (the scheduler busy with others) leaves no handler waiting", async () => {
  const s = real();
  let began = 0;
  let ended = 0;
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* () {
      began++;
      try {
        yield* suspend(); // a long poll: only the client going away ends it
      } finally {
        ended++;
      }
    });
    // Busy tasks that each use up a time slice: a handler made now runs a few host turns later,
    // after its connection has closed.
    let clientClosed = -1;
    const busy = Date.now();
    const hogs = [];
    for (let k = 0; k < 3; k++) {
      hogs.push(
        yield* spawn(function* () {
          for (let i = 0; i < 500 && (clientClosed < 0 || Date.now() < clientClosed + 100) && Date.now() < busy + 5000; i++) {
            const until = Date.now() + 8;
            while (Date.now() < until);
            yield* cooperate();
          }
        }),
      );
    }
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("connect", () => {
      socket.write("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n");
      socket.end(); // and gone
    });
    socket.on("close", () => (clientClosed = Date.now()));
    for (const h of hogs) yield* h;
    for (let i = 0; i < 100 && ended === 0; i++) yield* sleep(5);
    return { began, ended };
  });
  // It never began (cancelled at its first step), or began and was cancelled: none left waiting.
  assert.is(got.ended, got.began, "a handler waits for a client that has gone");
});

ioTest("a failing handler answers 500 and is reported; closing the server cancels handlers in flight", async () => {
  const s = real();
  let inFlightFinally = 0;
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      if (req.url === "/fail") throw new Error("handler failed");
      try {
        yield* res.write("started\n");
        yield* suspend();
      } finally {
        inFlightFinally++;
      }
    });
    const base = `http://127.0.0.1:${server.port}`;
    const failed = yield* get(`${base}/fail`);
    const status = [failed.status, yield* failed.text()];
    const reading = channel<true>();
    const hanging = yield* fork(function* () {
      const res = yield* get(`${base}/hang`);
      yield* res.readLine();
      yield* reading.send(true); // the handler is in flight: it wrote its first line
      try {
        yield* res.text();
        return "complete";
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
    });
    yield* reading.receive(); // not a sleep: on a loaded machine the request may take longer
    yield* server.close();
    return { status, finallies: inFlightFinally, client: yield* hanging };
  });
  assert.equal(got, { status: [500, "Internal Server Error\n"], finallies: 1, client: "ECONNRESET" });
  assert.is((s.reported[0] as Error).message, "handler failed");
  assert.equal(s.what, ["GET /fail failed"]);
});

ioTest("by default a failed handler is printed once, as what it is, with a stack that says where", async () => {
  const printed: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args);
  try {
    await createScheduler().run(function* () {
      const server = yield* serve({ port: 0 }, function* bad(req) {
        if (req.url === "/bad") throw new Error("no such user");
      });
      const res = yield* get(`http://127.0.0.1:${server.port}/bad`);
      yield* res.text();
    });
  } finally {
    console.error = original;
  }
  assert.is(printed.length, 1);
  assert.is(printed[0]![0], "skein: GET /bad failed:");
  const stack = (printed[0]![1] as Error).stack!;
  assert.match(stack, /^Error: no such user\n {4}at bad \(/);
  // The handler is its task's body (no call in between): its frame, then its task and the server's.
  assert.match(stack, /\n {4}at bad \([^\n]*\n {4}at skein: in task #\d+ request bad, forked by #\d+ server \d+/);
  assert.ok(stack.split("\n").length < 12, stack);
});

ioTest("a failure in a call inside a handler still names the handler in its logical stack", async () => {
  const s = real();
  function* helper(): Operation<void> {
    yield* sleep(1);
    throw new Error("deep");
  }
  await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* usersHandler() {
      yield* call(helper);
    });
    const res = yield* get(`http://127.0.0.1:${server.port}/u`);
    assert.is(res.status, 500);
    yield* res.text();
    yield* server.close();
  });
  assert.equal(s.what, ["GET /u failed"]);
  const stack = (s.reported[0] as Error).stack!;
  // No native frame of the handler is on the stack here: only its task's name tells it.
  assert.match(stack, /at skein: in call helper\n {4}at skein: in task #\d+ request usersHandler, forked by #\d+ server \d+/);
});

ioTest("a handler owns its children: a forked child that fails is the handler's failure, and the server goes on", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      if (req.url === "/audit") {
        yield* fork(function* audit() {
          yield* sleep(5);
          throw new Error("audit failed");
        });
      }
      if (req.url === "/early") {
        yield* fork(function* check() {
          throw new Error("check failed"); // before anything was sent
        });
        yield* sleep(20);
      }
      yield* res.end(`ok ${req.url}`);
    });
    const base = `http://127.0.0.1:${server.port}`;
    const out: unknown[] = [];
    for (const path of ["/audit", "/audit", "/early", "/after"]) {
      const res = yield* get(`${base}${path}`);
      out.push([res.status, yield* res.text()]);
      yield* sleep(10); // the audits fail meanwhile
    }
    return out;
  });
  assert.equal(got, [
    [200, "ok /audit"],
    [200, "ok /audit"],
    [500, "Internal Server Error\n"],
    [200, "ok /after"],
  ]);
  assert.equal(
    s.reported.map((e) => (e as Error).message),
    ["audit failed", "audit failed", "check failed"],
  );
});

ioTest("a handler's spawned child that fails after the reply is reported; the server goes on", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      yield* spawn(function* helper() {
        yield* sleep(5);
        throw new Error(`helper of ${req.url} failed`);
      });
      yield* res.end("sent");
      yield* sleep(30); // still running when the helper fails
    });
    const base = `http://127.0.0.1:${server.port}`;
    const first = yield* get(`${base}/one`);
    const a = [first.status, yield* first.text()];
    yield* sleep(40);
    const second = yield* get(`${base}/two`);
    const b = [second.status, yield* second.text()];
    yield* sleep(40);
    return [a, b];
  });
  assert.equal(got, [[200, "sent"], [200, "sent"]]);
  assert.equal(s.reported.map((e) => (e as Error).message).sort(), ["helper of /one failed", "helper of /two failed"]);
});

ioTest("a handler that lets another task's Cancelled escape has failed: a 500, and a report", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (_req, res) {
      const other = yield* spawn(suspend);
      yield* cancel(other);
      yield* other; // joining a cancelled task throws Cancelled: not this handler's cancellation
      yield* res.end("not reached");
    });
    const res = yield* get(`http://127.0.0.1:${server.port}/`);
    return [res.status, yield* res.text()];
  });
  assert.equal(got, [500, "Internal Server Error\n"]);
  assert.is(s.reported.length, 1);
  assert.is((s.reported[0] as Error).name, "Cancelled");
});

ioTest("bad input: refused, unknown host, non-HTTP URL and bad port are clear errors; the program goes on", async () => {
  const s = real();
  const got = await s.run(function* () {
    const codes: (string | undefined)[] = [];
    for (const url of ["http://127.0.0.1:1/", "http://no-such-host.invalid/"]) {
      try {
        yield* get(url);
      } catch (e) {
        codes.push((e as NodeJS.ErrnoException).code);
      }
    }
    assert.throws(() => get("ftp://example.com/"), (e: Error) => e instanceof TypeError && /http: or https:/.test(e.message));
    assert.throws(() => get("/relative"), TypeError);
    assert.throws(() => serve({ port: 1.5 }, function* () {}), RangeError);
    assert.throws(() => serve({ port: 0, backlog: -1 }, function* () {}), (e: Error) => e instanceof RangeError && /serve\(\) expects backlog/.test(e.message));
    const server = yield* serve({ port: 0 }, function* (_req, res) {
      yield* res.end("ok");
    });
    const res = yield* get(`http://127.0.0.1:${server.port}/`);
    return [codes, yield* res.text()];
  });
  assert.equal(got, [["ECONNREFUSED", "ENOTFOUND"], "ok"]);
});

ioTest("closing a server does not wait for a client that sent half a request, nor for an idle one", async () => {
  const s = real();
  const peers: net.Socket[] = [];
  const elapsed = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (_req, res) {
      yield* res.end("hi");
    });
    for (const greeting of ["GET / HTTP/1.1\r\nHost: x\r\n", ""]) {
      const c = net.connect(server.port, "127.0.0.1");
      c.on("error", () => {});
      c.write(greeting);
      peers.push(c);
    }
    yield* sleep(50);
    const t0 = Date.now();
    yield* server.close();
    return Date.now() - t0;
  });
  assert.ok(elapsed < 1000, `close took ${elapsed} ms`);
  await new Promise((r) => setTimeout(r, 20));
  for (const p of peers) p.destroy();
});

ioTest("a handler that writes after ending fails like any handler error; the server goes on", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      yield* res.end("first");
      if (req.url === "/twice") yield* res.write("again");
    });
    const base = `http://127.0.0.1:${server.port}`;
    const a = yield* get(`${base}/twice`);
    const b = yield* get(`${base}/`);
    return [yield* a.text(), yield* b.text()];
  });
  assert.equal(got, ["first", "first"]);
  assert.is((s.reported[0] as { code: string }).code, "ERR_STREAM_WRITE_AFTER_END");
});

ioTest("a handler that leaves a status node refuses, returning or failing, gets a 500 and a report; no connection is left open", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      if (req.url === "/code") res.status(42); // and returns: the end it is given throws
      if (req.url !== "/code") res.response.statusMessage = "two\nlines";
      if (req.url === "/fails") throw new Error("failed after a bad status message");
    });
    const out: unknown[] = [];
    for (const path of ["/code", "/message", "/fails"]) {
      try {
        const res = yield* timeout(2000, get(`http://127.0.0.1:${server.port}${path}`));
        out.push([res.status, yield* timeout(2000, res.text())]);
      } catch (e) {
        out.push((e as Error).name); // no answer (a TimeoutError), or not HTTP
      }
    }
    yield* server.close();
    return out;
  });
  const answer = [500, "Internal Server Error\n"];
  assert.equal(got, [answer, answer, answer]);
  assert.equal(s.what, ["GET /code failed", "GET /message failed", "GET /fails failed"]);
  assert.equal(
    s.reported.map((e) => (e as NodeJS.ErrnoException).code ?? (e as Error).message),
    ["ERR_HTTP_INVALID_STATUS_CODE", "ERR_INVALID_CHAR", "failed after a bad status message"],
  );
});

ioTest("a response can be abandoned early with close(); its connection is closed", async () => {
  const s = real();
  let serverSaw = "";
  const server = await plainServer((_req, res) => {
    res.write("a".repeat(1000));
    res.on("close", () => (serverSaw = res.writableFinished ? "finished" : "closed early"));
  });
  try {
    await s.run(function* () {
      const res = yield* get(server.url);
      yield* res.read();
      yield* res.close();
    });
    for (let i = 0; i < 50 && serverSaw === ""; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(serverSaw, "closed early");
  } finally {
    await server.close();
  }
});

ioTest("a request that arrives while the scheduler is busy, right as the server listens, is served", async () => {
  const s = real();
  const got = await s.run(function* () {
    let served = false;
    // Three tasks use up a slice each: the server's task, woken by the bind, runs three host
    // turns after it, while the request below is read in the second.
    yield* hogs(3, () => served);
    let client: net.Socket | undefined;
    let reply!: Promise<string>;
    onNextListen((raw) => {
      const c = (client = net.connect((raw.address() as AddressInfo).port, "127.0.0.1"));
      c.on("error", () => {});
      c.write("GET /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      reply = new Promise((resolve) => {
        let data = "";
        c.on("data", (d) => (data += d));
        c.on("close", () => resolve(data.slice(data.indexOf("\r\n\r\n") + 4)));
      });
    });
    const server = yield* serve({ port: 0 }, function* (req, res) {
      yield* res.end(`served ${req.url}`);
    });
    try {
      return yield* timeout(3000, wait(reply)); // a bound, should it never be served
    } catch (e) {
      return String(e);
    } finally {
      served = true;
      client!.destroy();
      yield* server.close();
    }
  });
  assert.is(got, "served /early");
  assert.equal(s.reported, []);
});

ioTest("a server cancelled after it has bound, before its task resumes, closes the listener and drops the early request", async () => {
  const s = real();
  let raw: net.Server | undefined;
  let client: net.Socket | undefined;
  try {
    const got = await s.run(function* () {
      let stop = false;
      // The server's task, woken by the bind, runs three host turns later; a request is read
      // meanwhile, and the task is cancelled from a host callback (a signal handler).
      yield* hogs(3, () => stop);
      let t!: Task<void>;
      let cancelled!: () => void;
      const cancelling = new Promise<void>((resolve) => (cancelled = resolve));
      let ended!: Promise<boolean>;
      onNextListen((r) => {
        raw = r;
        r.once("request", () => setImmediate(() => void t.cancel().then(cancelled)));
        const c = (client = net.connect((r.address() as AddressInfo).port, "127.0.0.1"));
        c.on("error", () => {});
        c.write("GET /early HTTP/1.1\r\nHost: x\r\n\r\n");
        ended = new Promise((resolve) => c.once("close", () => resolve(true)));
      });
      t = yield* spawn(function* () {
        yield* serve({ port: 0 }, function* (_req, res) {
          yield* res.end("served");
        });
        yield* suspend();
      });
      try {
        yield* timeout(3000, wait(cancelling));
        let dropped = false; // the client sees its connection closed, not left hanging
        try {
          dropped = yield* timeout(500, wait(ended));
        } catch {}
        return { state: t.state, listening: raw!.listening, dropped };
      } finally {
        stop = true;
      }
    });
    assert.equal(got, { state: "cancelled", listening: false, dropped: true });
  } finally {
    client?.destroy();
    if (raw?.listening) raw.close();
  }
});

ioTest("end(body) with a body the socket cannot take waits until the client has taken it; a small one returns at once", async () => {
  const s = real();
  const log: string[] = [];
  let received = 0;
  await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      yield* res.end(req.url === "/big" ? Buffer.alloc(16 << 20, 97) : "small");
      log.push(`ended ${req.url}`);
    });
    const client = net.connect(server.port, "127.0.0.1");
    client.pause(); // reads nothing for now
    client.write("GET /small HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    yield* sleep(300);
    log.push("reading");
    client.on("data", (d: Buffer) => (received += d.length));
    client.resume();
    yield* timeout(3000, function* () {
      while (log.length < 3) yield* sleep(10);
    });
    client.destroy();
  });
  assert.equal(log, ["ended /small", "reading", "ended /big"]);
  assert.ok(received > 0);
});

ioTest("a handler reads the request's method, URL and headers (names in lower case)", async () => {
  const s = real();
  const got = await s.run(function* () {
    const server = yield* serve({ port: 0 }, function* (req, res) {
      yield* res.json({ method: req.method, url: req.url, test: req.headers["x-test"], same: req.headers === req.headers });
    });
    const res = yield* request({ url: `http://127.0.0.1:${server.port}/p?q=1`, method: "PUT", headers: { "X-Test": "yes" }, body: "" });
    return yield* res.json();
  });
  assert.equal(got, { method: "PUT", url: "/p?q=1", test: "yes", same: true });
});

ioTest("a handler need not be a generator function: what it returns is run, and what it throws is its failure", async () => {
  const s = real();
  const boom = (): never => {
    throw new Error("a default that throws");
  };
  const handlers = {
    // A plain function returning an operation, and one returning a promise (ended for it).
    "/plain": (_req: unknown, res: { end(body: string): unknown }) => res.end("plain"),
    "/async": async () => void (await new Promise((r) => setTimeout(r, 1))),
    "/throws": () => {
      throw new Error("thrown at once");
    },
    // A generator function whose call throws (a parameter's default): its failure too.
    "/default": function* (_req: unknown, _res: unknown, _x: unknown = boom()) {},
  } as unknown as Record<string, Handler>; // (an async handler is outside the type, and accepted)
  const got = await s.run(function* () {
    const out: unknown[] = [];
    for (const [path, handler] of Object.entries(handlers)) {
      const server = yield* serve({ port: 0 }, handler);
      const res = yield* get(`http://127.0.0.1:${server.port}${path}`);
      out.push([res.status, yield* res.text()]);
      yield* server.close();
    }
    return out;
  });
  assert.equal(got, [
    [200, "plain"],
    [200, ""],
    [500, "Internal Server Error\n"],
    [500, "Internal Server Error\n"],
  ]);
  assert.equal(s.what, ["GET /throws failed", "GET /default failed"]);
  assert.equal(s.reported.map((e) => (e as Error).message), ["thrown at once", "a default that throws"]);
});

test.run();
