// skein/node interop: AbortSignal, events, DNS, and main() in real processes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn as spawnProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { call, cancel, fork, sleep } from "../../lib/index.js";
import { abortSignal, lookup, main, on, once } from "../../lib/node/index.js";
import { outcome } from "../helpers.js";
import { ioTest, real } from "../node-helpers.js";

ioTest("abortSignal() aborts when the scope ends, and when the task is cancelled", async () => {
  const s = real();
  let inner: AbortSignal | undefined;
  let cancelled: AbortSignal | undefined;
  await s.run(function* () {
    yield* call(function* () {
      inner = yield* abortSignal();
      assert.not.ok(inner.aborted);
    });
    assert.ok(inner!.aborted);
    const t = yield* fork(function* () {
      cancelled = yield* abortSignal();
      yield* sleep(60_000);
    });
    yield* sleep(5);
    assert.not.ok(cancelled!.aborted);
    yield* cancel(t);
    assert.ok(cancelled!.aborted);
  });
});

ioTest("once() returns the event's arguments, throws an error event, and leaves no listener", async () => {
  const s = real();
  const e = new EventEmitter();
  const got = await s.run(function* () {
    setTimeout(() => e.emit("ready", 1, "two"), 5);
    const args = yield* once<[number, string]>(e, "ready");
    setTimeout(() => e.emit("error", new Error("broken")), 5);
    let message = "";
    try {
      yield* once(e, "ready");
    } catch (err) {
      message = (err as Error).message;
    }
    const waiting = yield* fork(once(e, "never"));
    yield* sleep(5);
    yield* cancel(waiting);
    const target = new EventTarget();
    setTimeout(() => target.dispatchEvent(new Event("ping")), 5);
    const [event] = yield* once<[Event]>(target, "ping");
    return { args, message, listeners: e.eventNames(), type: event.type };
  });
  assert.equal(got, { args: [1, "two"], message: "broken", listeners: [], type: "ping" });
  assert.throws(() => once({} as never, "x"), (err: Error) => err instanceof TypeError && /EventEmitter or EventTarget/.test(err.message));
});

ioTest("on() delivers events through a channel while its scope lasts; an error event fails the scope", async () => {
  const s = real();
  const e = new EventEmitter();
  const got = await s.run(function* () {
    const seen = yield* call(function* () {
      const ticks = yield* on<[number]>(e, "tick");
      for (let i = 0; i < 3; i++) setTimeout(() => e.emit("tick", i), 5 * i);
      const seen: number[] = [];
      while (seen.length < 3) seen.push((yield* ticks.receive())![0]);
      return seen;
    });
    return { seen, afterScope: e.listenerCount("tick") };
  });
  assert.equal(got, { seen: [0, 1, 2], afterScope: 0 });
  const failing = s.run(function* () {
    yield* on(e, "tick");
    yield* sleep(60_000);
  });
  await new Promise((r) => setTimeout(r, 5));
  e.emit("error", new Error("emitter broke"));
  const ended = await outcome(failing);
  assert.equal([ended.state, (ended as { error: Error }).error.message, e.eventNames()], ["failed", "emitter broke", []]);
});

ioTest("on() hears events emitted right after it returns; a scope that ends at once leaves no listener", async () => {
  const s = real();
  const e = new EventEmitter();
  const got = await s.run(function* () {
    const events = yield* on<[string]>(e, "msg");
    e.emit("msg", "first"); // before any other task has run
    e.emit("msg", "second");
    const first = (yield* events.receive())![0];
    const second = (yield* events.receive())![0];
    const other = yield* call(function* () {
      return yield* on(e, "other"); // the scope ends at once: the listener goes, the channel ends
    });
    return { first, second, closed: other.closed, listeners: e.eventNames() };
  });
  assert.equal(got, { first: "first", second: "second", closed: true, listeners: ["msg", "error"] });
  assert.equal(e.eventNames(), []);
});

ioTest("lookup() resolves localhost and fails an unknown host with ENOTFOUND", async () => {
  const s = real();
  const got = await s.run(function* () {
    const { address } = yield* lookup("localhost", 4);
    try {
      yield* lookup("no-such-host.invalid");
    } catch (e) {
      return [address, (e as NodeJS.ErrnoException).code];
    }
  });
  assert.equal(got, ["127.0.0.1", "ENOTFOUND"]);
  assert.throws(() => lookup(""), TypeError);
  assert.throws(() => main(42 as never), TypeError);
});

/** Run the main() fixture, optionally signal it once it has started; resolve with its exit. */
function program(how: string, signal?: NodeJS.Signals): Promise<{ code: number | null; out: string; err: string }> {
  const fixture = new URL("../fixtures/main-program.ts", import.meta.url).pathname;
  const child = spawnProcess(process.execPath, ["--import", "tsx", fixture, how], { stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
    if (signal !== undefined && out.includes("started")) child.kill(signal);
  });
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out, err })));
}

test("main(): SIGINT and SIGTERM cancel the root, run every finally and exit 130 / 143", async () => {
  const [int, term] = await Promise.all([program("wait", "SIGINT"), program("wait", "SIGTERM")]);
  assert.equal([int.code, int.out], [130, "started\ncleaned up\n"]);
  assert.equal([term.code, term.out], [143, "started\ncleaned up\n"]);
  assert.is(int.err, "");
});

test("main(): an error is printed after the cleanup and exits 1; a return exits 0", async () => {
  const [failed, returned] = await Promise.all([program("fail"), program("return")]);
  assert.is(failed.code, 1);
  assert.is(failed.out, "started\ncleaned up\n");
  assert.match(failed.err, /Error: the program failed/);
  assert.equal([returned.code, returned.out], [0, "started\ncleaned up\n"]);
});

test("main(): a cleanup that fails after a signal exits 1; a root cancelled through its task exits 0", async () => {
  const [failedCleanup, cancelled] = await Promise.all([program("cleanup-fails", "SIGTERM"), program("cancel")]);
  assert.is(failedCleanup.code, 1);
  assert.match(failedCleanup.err, /Error: the cleanup failed/);
  assert.equal([cancelled.code, cancelled.out, cancelled.err], [0, "started\ncleaned up\n", ""]);
});

test("main(): onError routes what skein reports", async () => {
  const r = await program("routed");
  assert.is(r.code, 0);
  assert.match(r.out, /routed: task #\d+ loser failed after it had lost a race: the race was decided: late\n/);
  assert.is(r.err, "");
});

test("main(): SIGUSR2 prints the task tree and changes nothing; with inspectSignal: false it is the host's again", async () => {
  const fixture = new URL("../fixtures/main-program.ts", import.meta.url).pathname;
  const drive = (how: string) =>
    new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
      const child = spawnProcess(process.execPath, ["--import", "tsx", fixture, how], { stdio: "pipe" });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out === "started\n") child.kill("SIGUSR2");
      });
      child.stderr.on("data", (d) => {
        err += d;
        if (err.includes("waits on sleep")) child.kill("SIGTERM"); // it went on: stop it
      });
      child.on("close", (code, signal) => resolve({ code, signal, out, err }));
    });
  const [inspected, plain] = await Promise.all([drive("wait"), drive("no-inspect")]);
  assert.is(inspected.code, 143);
  assert.is(inspected.out, "started\ncleaned up\n");
  assert.match(inspected.err, /^skein: the tasks of process \d+:\ntask #1 program waits on sleep \(ends in \d+ ms\)\n$/);
  assert.equal([plain.code, plain.signal, plain.err], [null, "SIGUSR2", ""]); // Node's default: the process ends
  for (const bad of ["SIGINT", "SIGKILL", "SIGSTOP", "SIGFOO", 42]) {
    assert.throws(() => main(function* () {}, { inspectSignal: bad as NodeJS.Signals }), /inspectSignal to be a signal this host knows/);
  }
  // A bad name is refused before main installs anything: no listener is left behind.
  const listening = () => ["SIGINT", "SIGTERM", "SIGUSR2"].map((s) => process.listenerCount(s));
  const before = listening();
  assert.throws(() => main(function* () {}, { name: 42 as never }), /^main\(\) expects options\.name to be a string, got 42$/);
  assert.equal(listening(), before);
});

test("main(): a program that waits on nothing that can wake it fails with the deadlock report, after its cleanup", async () => {
  const r = await program("deadlock");
  assert.is(r.code, 1);
  assert.is(r.out, "started\ncleaned up\n");
  assert.match(r.err, /DeadlockError: deadlock: the host has nothing left to do .* and every task is blocked/);
  assert.match(r.err, /task #1 program waits on suspend\(\)/);
});

test("a deadlock on the real clock is reported under await run(), run() and main(): every finally runs, exit non-zero; not while another beforeExit listener can still wake a task", async () => {
  const fixture = new URL("../fixtures/deadlock.ts", import.meta.url).pathname;
  const outcomes = await Promise.all(
    ["await-run", "run", "main", "woken-at-exit"].map(
      (how) =>
        new Promise<{ how: string; code: number | null; out: string; err: string }>((resolve) => {
          const child = spawnProcess(process.execPath, ["--import", "tsx", fixture, how], { stdio: "pipe" });
          let out = "";
          let err = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (err += d));
          child.on("close", (code) => resolve({ how, code, out, err }));
        }),
    ),
  );
  const woken = outcomes.pop()!;
  assert.equal([woken.code, woken.out, woken.err], [0, "woken by another beforeExit listener\n", ""]);
  for (const { how, code, out, err } of outcomes) {
    assert.is(code, 1, how);
    assert.equal(out.trim().split("\n").sort(), ["worker 1 cleaned up", "worker 2 cleaned up", "worker 3 cleaned up"], how);
    assert.match(err, /DeadlockError: deadlock: the host has nothing left to do/, how);
    assert.match(err, /task #\d+ app waits on join\(#\d+ worker-1\)/, how);
    assert.match(err, /task #\d+ worker-2 waits on send\(channel#\d+, 2\)/, how);
  }
});

test.run();
