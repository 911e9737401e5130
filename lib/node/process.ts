// Child processes from a coroutine: run a command and collect its output, or stream it. A
// cancelled run stops the process (SIGTERM, then SIGKILL after a grace period) and waits for it.

import * as cp from "node:child_process";
import type { Operation } from "../core/effect.js";
import { action, call, shield } from "../core/effects.js";
import { all } from "../combinators/all.js";
import { resource } from "../combinators/resource.js";
import { describe } from "../core/operation.js";
import { checkString } from "./checks.js";
import { Reader } from "./reader.js";
import { endAll, until, writeAll } from "./wait.js";

/**
 * Options of {@link subprocess} and {@link exec}.
 *
 * @example
 * ```ts
 * const options: ProcessOptions = { cwd: "/tmp", env: { ...process.env, LANG: "C" }, killAfter: 2000 };
 * ```
 */
export interface ProcessOptions {
  /** Working directory; default the current one. */
  cwd?: string;
  /** Environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds between the SIGTERM and the SIGKILL when the process is stopped; default 5000. */
  killAfter?: number;
}

/**
 * How a process ended: its exit code, or the signal that killed it.
 *
 * @example
 * ```ts
 * const { code, signal } = yield* child.wait();
 * ```
 */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A running child process: write to its stdin, read its stdout and stderr as streams, wait for
 * its exit. Made by {@link subprocess}; it belongs to the scope that started it, which stops it
 * (SIGTERM, then SIGKILL) if it is still running when the scope ends.
 *
 * @example
 * ```ts
 * const child = yield* subprocess("tail", ["-f", "app.log"]);
 * let line;
 * while ((line = yield* child.stdout.readLine()) !== undefined) if (line.includes("ready")) break;
 * ```
 */
export class Subprocess {
  /** The process id. */
  readonly pid: number;
  /** Its standard output. */
  readonly stdout: Reader;
  /** Its standard error. */
  readonly stderr: Reader;

  /** @internal */
  constructor(
    readonly child: cp.ChildProcessByStdio<import("node:stream").Writable, import("node:stream").Readable, import("node:stream").Readable>,
    private readonly killAfter: number,
  ) {
    this.pid = child.pid!;
    // Read from the start: when the child exits, node drops what nobody listens to yet (it
    // resumes the pipe), and a read after the exit found nothing.
    this.stdout = new Reader(child.stdout);
    this.stdout.start();
    this.stderr = new Reader(child.stderr);
    this.stderr.start();
    child.stdin.on("error", () => {}); // EPIPE when it exits before reading: seen by write()
  }

  /** Whether it has exited. */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * Write to its stdin, waiting for `drain` when the pipe is full.
   *
   * @throws an `EPIPE` error at the `yield*` if the process no longer reads.
   * @example
   * ```ts
   * yield* child.write("quit\n");
   * ```
   */
  write(data: string | Uint8Array): Operation<void> {
    return writeAll(this.child.stdin, data);
  }

  /**
   * Close its stdin, so that it reads the end of its input.
   *
   * @example
   * ```ts
   * yield* child.write(csv);
   * yield* child.closeInput();
   * ```
   */
  closeInput(): Operation<void> {
    return endAll(this.child.stdin);
  }

  /**
   * Wait for it to exit.
   *
   * @example
   * ```ts
   * const { code } = yield* child.wait();
   * ```
   */
  *wait(): Operation<ExitStatus> {
    if (!this.exited) yield* until(this.child, ["exit"]);
    return { code: this.child.exitCode, signal: this.child.signalCode };
  }

  /**
   * Send it a signal (SIGTERM by default); it does not wait.
   *
   * @example
   * ```ts
   * child.kill("SIGINT");
   * ```
   */
  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (!this.exited) this.child.kill(signal);
  }

  /**
   * Stop it: SIGTERM, then SIGKILL if it is still running `killAfter` ms later; waits until it has
   * exited and its pipes are closed. Done for you when its scope ends. The wait is shielded (it
   * is bounded by `killAfter`), so it also runs to its end in the cleanup of a cancelled task.
   *
   * @example
   * ```ts
   * yield* child.stop();
   * ```
   */
  *stop(): Operation<ExitStatus> {
    if (!this.exited) {
      const child = this.child;
      child.kill("SIGTERM");
      yield* shield(action<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), this.killAfter);
        const exited = () => {
          clearTimeout(timer);
          resolve();
        };
        if (this.exited) exited();
        else child.once("exit", exited);
        return () => {
          clearTimeout(timer);
          child.kill("SIGKILL");
        };
      }));
    }
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) s.destroy();
    return { code: this.child.exitCode, signal: this.child.signalCode };
  }
}

function checkArgs(file: unknown, args: unknown, options: ProcessOptions | undefined, where: string): number {
  checkString(file, "a command", where);
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new TypeError(`${where} expects its arguments as an array of strings, got ${describe(args)}`);
  }
  const killAfter = options?.killAfter ?? 5000;
  if (typeof killAfter !== "number" || !(killAfter >= 0)) throw new RangeError(`${where} expects killAfter >= 0 ms, got ${describe(killAfter)}`);
  return killAfter;
}

/**
 * Start `file` with `args` (no shell) and return the running process, which belongs to the
 * caller's scope: when that scope ends (or is cancelled) a process still running is stopped,
 * SIGTERM then SIGKILL, and waited for.
 *
 * @throws TypeError at the call for a bad command or arguments; the Node error (code `ENOENT`
 * for a missing command) at the `yield*`.
 * @example
 * ```ts
 * function* sortLines(lines: string[]) {
 *   const sort = yield* subprocess("sort");
 *   yield* sort.write(lines.join("\n") + "\n");
 *   yield* sort.closeInput();
 *   return (yield* sort.stdout.readAll()).toString().split("\n").filter(Boolean);
 * }
 * ```
 */
export function subprocess(file: string, args: readonly string[] = [], options: ProcessOptions = {}): Operation<Subprocess> {
  const killAfter = checkArgs(file, args, options, "subprocess()");
  const starting = action<Subprocess>((resolve, reject) => {
    const child = cp.spawn(file, args, { cwd: options.cwd, env: options.env, stdio: "pipe" });
    const fail = (e: Error) => {
      for (const s of [child.stdin, child.stdout, child.stderr]) s.destroy();
      reject(e);
    };
    child.once("error", fail);
    child.once("spawn", () => {
      child.off("error", fail);
      resolve(new Subprocess(child, killAfter));
    });
    return () => void child.kill("SIGKILL");
  });
  return resource(starting, (p) => p.stop());
}

/**
 * What {@link exec} returns.
 *
 * @example
 * ```ts
 * const { code, stdout }: ExecResult = yield* exec("git", ["status", "--short"]);
 * ```
 */
export interface ExecResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/**
 * Run `file` with `args` (no shell) to its end and collect `{ code, signal, stdout, stderr }`.
 * A non-zero exit is an error, as with `child_process.execFile`, unless `check` is false.
 * Cancelling stops the process (SIGTERM, then SIGKILL after `killAfter` ms) and waits for it.
 *
 * @throws TypeError at the call for a bad command or arguments; at the `yield*`, the Node error
 * (code `ENOENT` for a missing command) or, for a non-zero exit, an Error "Command failed" whose
 * `code`, `signal`, `stdout` and `stderr` say how.
 * @example
 * ```ts
 * function* version() {
 *   const { stdout } = yield* exec("node", ["--version"]);
 *   return stdout.trim();
 * }
 * ```
 */
export function exec(
  file: string,
  args: readonly string[] = [],
  options: ProcessOptions & { input?: string | Uint8Array; check?: boolean } = {},
): Operation<ExecResult> {
  checkArgs(file, args, options, "exec()");
  return call(function* execute() {
    const child = yield* subprocess(file, args, options);
    const input = function* feed(): Operation<void> {
      try {
        if (options.input !== undefined) yield* child.write(options.input);
        yield* child.closeInput();
      } catch (e) {
        // A command may exit without reading all its input (head, say): not a failure of exec.
        if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
      }
    };
    // Input is written while the output is read: a child that answers before it has read
    // everything must not fill its stdout pipe and wait for us for ever.
    const [, out, err] = yield* all([input, child.stdout.readAll(), child.stderr.readAll()]);
    const status = yield* child.wait();
    const result = { ...status, stdout: out.toString(), stderr: err.toString() };
    if (options.check !== false && status.code !== 0) {
      const cmd = [file, ...args].join(" ");
      throw Object.assign(new Error(`Command failed: ${cmd}\n${result.stderr}`), { ...result, cmd });
    }
    return result;
  });
}
