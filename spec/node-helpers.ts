// Shared by the skein/node specs: real-clock schedulers, and a check that each spec leaves no
// socket, server, timer, child process or worker thread behind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, Server } from "node:net";
import { cooperate, createScheduler, spawn, type Operation, type Scheduler } from "../lib/index.js";

/** A real-clock scheduler whose unpropagated errors are collected instead of printed. */
export function real(): Scheduler & { reported: unknown[]; what: string[] } {
  const reported: unknown[] = [];
  const what: string[] = [];
  const s = createScheduler({
    onError: (e, _task, w) => {
      reported.push(e);
      what.push(w);
    },
  });
  return Object.assign(s, { reported, what });
}

function count(list: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of list) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** What is open now beyond `before`. */
function extra(before: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [r, n] of count(process.getActiveResourcesInfo())) {
    if (r === "Immediate") continue; // the check's own
    for (let i = before.get(r) ?? 0; i < n; i++) out.push(r);
  }
  return out;
}

/**
 * A spec with real I/O. Afterwards nothing it opened may stay open: handles get a few host
 * turns (up to 500 ms) to finish closing, since libuv closes them asynchronously.
 */
export function ioTest(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    const before = count(process.getActiveResourcesInfo());
    await fn();
    let left = extra(before);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      left = extra(before);
    }
    assert.equal(left, [], `left open after "${name}": ${left.join(", ")}`);
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "skein-spec-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  if (!(pid > 0)) throw new Error(`alive(${pid}): not a process id (kill(0) would signal the whole group)`);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Call `f(server)` when the next server to listen (a `node:net` or `node:http` one) is
 * listening, before anything else hears of it; once. */
export function onNextListen(f: (server: Server) => void): void {
  const original = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    Server.prototype.listen = original;
    this.prependOnceListener("listening", () => f(this));
    return (original as (...a: unknown[]) => Server).apply(this, args);
  } as typeof original;
}

/**
 * Start `n` tasks that each use up a time slice at every turn (8 ms of CPU, then `cooperate`),
 * until `stop()` says so (bounded: 500 turns, 5 s), and put the caller behind them: what it
 * does next runs in a run of the loop after the host's turn, and a task it wakes waits behind
 * them, for `n` host turns.
 */
export function* hogs(n: number, stop: () => boolean): Operation<void> {
  const began = Date.now();
  for (let k = 0; k < n; k++) {
    yield* spawn(function* hog() {
      for (let i = 0; i < 500 && !stop() && Date.now() < began + 5000; i++) {
        const until = Date.now() + 8;
        while (Date.now() < until);
        yield* cooperate();
      }
    });
  }
  yield* cooperate();
}

/** Listen on `port` with a plain node server, then close it: rejects (EADDRINUSE) if someone
 * still listens there. */
export function takePort(port: number): Promise<void> {
  const again = createServer();
  return new Promise<void>((resolve, reject) => {
    again.once("error", reject);
    again.listen(port, "127.0.0.1", () => again.close(() => resolve()));
  });
}

/** The backlog of the listener on loopback `port` as the system holds it (Linux's `ss`, from
 * iproute2: a listener's Send-Q), and the system's cap on any backlog (`net.core.somaxconn`). */
export function listenerBacklog(port: number): { backlog: number; cap: number } {
  let out: string;
  try {
    out = execFileSync("ss", ["-ltnH", `sport = :${port}`], { encoding: "utf8" });
  } catch (e) {
    throw new Error(`this spec reads a listener's backlog with ss (Debian's iproute2; .ci/run installs it): ${(e as Error).message}`);
  }
  // LISTEN  Recv-Q  Send-Q  local  peer: the line of 127.0.0.1:port (another address may listen
  // on the same port number).
  const fields = out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[0] === "LISTEN" && f[3] === `127.0.0.1:${port}`);
  if (fields === undefined) throw new Error(`ss shows no listener on 127.0.0.1:${port}: ${JSON.stringify(out)}`);
  return { backlog: Number(fields[2]), cap: Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8")) };
}
