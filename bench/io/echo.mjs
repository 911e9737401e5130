// TCP line echo for the I/O bench, both sides in this process: `clients` connections, each
// writing a line and reading the echo, one message in flight per client. skein (a coroutine per
// client and per connection, from the built package) or plain callbacks with the same framing.
// Clients send once the server has accepted every connection. Bounded by time (`ms`, after a
// 200 ms warm-up) or by count (`messages` in all); a run that stalls (no message for two
// minutes) or whose connection fails fails, saying so.
//   node bench/io/echo.mjs skein|callbacks CLIENTS MESSAGES   (bench/io/callgrind.mjs runs it)
import * as net from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
// SKEIN_DIST=dir runs another build (a copy of dist/ from before a change, say).
const dist = process.env.SKEIN_DIST ? new URL(`${pathToFileURL(resolve(process.env.SKEIN_DIST)).href}/`) : new URL("../../dist/", import.meta.url);
const { all, createScheduler, fork, signal, sleep } = await import(String(new URL("index.mjs", dist)));
const { connect, listen } = await import(String(new URL("node.mjs", dist)));

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Messages echoed per second and µs of CPU a message (or, with `messages`, the count reached). */
export async function echoSkein({ clients, ms = 0, messages = Infinity }) {
  let count = 0;
  let running = true;
  let rate;
  let connected = 0;
  let accepted = 0;
  // No client sends before every connection is accepted (see notConnected).
  const ready = signal();
  const arrived = () => connected === clients && accepted === clients && ready.set();
  // A server connection's failure is reported, not thrown (the server owns its handlers): it
  // fails the run, naming it, as callbacks' side does (else the run failed later, at a client's
  // follow-on error).
  let root;
  const onError = (e, task) => void root?.cancel(new Error(`the server's ${task.name} (task #${task.id}) failed: ${e?.message ?? e}`, { cause: e }));
  root = createScheduler({ onError }).run(function* () {
    const server = yield* listen({ port: 0, backlog: backlogFor(clients) }, function* echo(socket) {
      accepted++;
      arrived();
      let line;
      while ((line = yield* socket.readLine()) !== undefined) yield* socket.write(line + "\n");
    });
    const tasks = [];
    for (let i = 0; i < clients; i++) {
      tasks.push(
        yield* fork(function* client() {
          const socket = yield* connect(server.port);
          connected++;
          arrived();
          yield* ready.wait();
          const msg = `message from ${i}\n`;
          while (running && count < messages) {
            yield* socket.write(msg);
            yield* socket.readLine();
            count++;
          }
        }),
      );
    }
    if (ms > 0) {
      // Measured once every connection is made and accepted (and 200 ms more), at the
      // concurrency asked for.
      const since = Date.now();
      while (connected < clients || accepted < clients) {
        if (Date.now() - since > CONNECTING_MS) throw new Error(notConnected(connected, accepted, clients));
        yield* sleep(10);
      }
      yield* sleep(200);
      const start = count;
      const [c0, t0] = [cpuNow(), performance.now()];
      yield* sleep(ms);
      rate = { rate: ((count - start) / (performance.now() - t0)) * 1000, cpu: (cpuNow() - c0) / (count - start) };
      running = false;
    }
    yield* all(tasks);
    yield* server.close();
  });
  const stop = watchdog(() => count, (why) => root.cancel(`${why} (${connected} of ${clients} clients connected, ${accepted} accepted)`));
  try {
    await root;
  } finally {
    stop();
  }
  return ms > 0 ? rate : count;
}

/** Clients send nothing until the server has accepted every connection, on both sides. A
 * connection the kernel has completed waits in the listen queue until the server accepts it, and
 * Node 20's libuv accepts one a turn of its loop: with traffic flowing, 1,000 clients' last
 * connections were accepted seconds later (942 queued at 150 ms, 693 at 800 ms; a 3 s measurement
 * began with 121 accepted and ended with 548). With nothing sent, all 1,000 are accepted in
 * 130-270 ms. */
const notConnected = (connected, accepted, clients) =>
  `not every connection was made and accepted within ${CONNECTING_MS} ms: ${connected} of ${clients} clients connected, ${accepted} accepted by the server`;

/** A listen backlog that holds every client connecting at once: past Node's 511, half of 1,000
 * clients had their connection attempt dropped and retried a second later, and joined the
 * measurement late (the system caps it: `net.core.somaxconn`). */
const backlogFor = (clients) => Math.max(511, clients);
/** How long clients may take to connect before a timed run gives up. */
const CONNECTING_MS = 10_000;

/** Call `stalled(why)` if `count()` has not moved for STALL_MS (a connection that stalls without
 * failing would hold a run for ever); returns what stops watching. A host timer, the same for
 * both sides, checking once a second. */
function watchdog(count, stalled) {
  let last = count();
  let since = Date.now();
  const timer = setInterval(() => {
    const now = count();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since > STALL_MS) {
      clearInterval(timer);
      stalled(`no message echoed for ${STALL_MS / 1000} s (${now} so far): a connection stalled`);
    }
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}
/** Generous: under valgrind 1,000 clients take seconds to connect. */
const STALL_MS = 120_000;

/** Split a stream of chunks into lines, as readLine does, and call `onLine` for each. */
function lines(onLine) {
  let rest = "";
  return (chunk) => {
    const text = rest + chunk.toString("utf8");
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      onLine(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
  };
}

/** The same with callbacks: the same line framing each side, one message in flight per client. */
export async function echoCallbacks({ clients, ms = 0, messages = Infinity }) {
  let count = 0;
  let running = true;
  let open = clients;
  let allDone, failed;
  let settled = false;
  const done = new Promise((resolve, reject) => ((allDone = resolve), (failed = reject)));
  void done.finally(() => (settled = true)).catch(() => {}); // (done is awaited below, after the measurement)
  // A client whose connection errors or closes (its connect refused or reset, say) would never
  // count itself out: the run fails, saying so, instead of waiting for ever (as skein's side
  // fails, at its connect or its read).
  const fail = (who) => (e) => failed(new Error(`${who} failed: ${e.message}`, { cause: e }));
  // Server connections are named by number, not by `c.remotePort`: reading it caches `_peername`
  // on the socket, a property client sockets lack, and Node's stream code, seeing both shapes,
  // turned megamorphic (+1,641 instructions a message at 100 clients: see peerOf in net.ts).
  let accepted = 0;
  let connected = 0;
  const stop = watchdog(() => count, (why) => failed(new Error(`${why} (${connected} of ${clients} clients connected, ${accepted} accepted)`)));
  // No client sends before every connection is accepted (see notConnected): each first write waits here.
  const firstWrites = [];
  const arrived = () => {
    if (connected !== clients || accepted !== clients) return;
    for (const w of firstWrites.splice(0)) w();
  };
  const server = net.createServer((c) => {
    const k = ++accepted;
    c.on("data", lines((line) => c.write(line + "\n")));
    c.on("error", fail(`the server's connection no. ${k} (in the order accepted)`));
    arrived();
  });
  await new Promise((r) => server.listen({ port: 0, host: "127.0.0.1", backlog: backlogFor(clients) }, r));
  const port = server.address().port;
  const sockets = [];
  for (let i = 0; i < clients; i++) {
    const s = net.connect(port, "127.0.0.1");
    const msg = `message from ${i}\n`;
    let out = false;
    s.on("connect", () => {
      connected++;
      firstWrites.push(() => s.write(msg));
      arrived();
    });
    s.on("error", fail(`client ${i}`));
    s.on("close", () => out || fail(`client ${i}`)(new Error("its connection closed before the run ended")));
    s.on(
      "data",
      lines(() => {
        count++;
        if (running && count < messages) s.write(msg);
        else if (((out = true), --open === 0)) allDone();
      }),
    );
    sockets.push(s);
  }
  let rate;
  // Measured once every connection is made and accepted (and 200 ms more), at the concurrency
  // asked for. A failure meanwhile ends each wait at once (it is reported below, at `done`).
  const pause = (t) => {
    let timer;
    return Promise.race([new Promise((r) => (timer = setTimeout(r, t))), done.catch(() => {})]).finally(() => clearTimeout(timer));
  };
  const since = Date.now();
  while (ms > 0 && !settled && (connected < clients || accepted < clients) && Date.now() - since <= CONNECTING_MS) await pause(10);
  if (ms > 0 && !settled && (connected < clients || accepted < clients)) failed(new Error(notConnected(connected, accepted, clients)));
  else if (ms > 0 && !settled) {
    await pause(200);
    const start = count;
    const [c0, t0] = [cpuNow(), performance.now()];
    await pause(ms);
    rate = { rate: ((count - start) / (performance.now() - t0)) * 1000, cpu: (cpuNow() - c0) / (count - start) };
    running = false;
  }
  try {
    await done;
  } finally {
    stop();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
  return ms > 0 ? rate : count;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [kind, clients, messages] = process.argv.slice(2);
  if (!["skein", "callbacks"].includes(kind) || !(Number(clients) >= 1) || !(Number(messages) >= 1)) {
    console.error(`usage: node bench/io/echo.mjs skein|callbacks CLIENTS MESSAGES (got ${process.argv.slice(2).join(" ")})`);
    process.exit(2);
  }
  const f = kind === "skein" ? echoSkein : echoCallbacks;
  const n = await f({ clients: Number(clients), messages: Number(messages) });
  console.log(`${kind}: ${n} messages`);
}
