// main(): the root of a command-line program. Signals cancel it cleanly; errors are printed after
// cleanup; the exit code says how it ended.

import { constants } from "node:os";
import { nameIn, type TaskOptions } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { checkOperation, type OperationLike } from "../core/operation.js";
import { defaultScheduler, run } from "../core/run.js";
import type { ErrorHandler } from "../core/scheduler.js";
import { describeTasks } from "../debug/inspect.js";
import type { Task } from "../core/task.js";

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;
const signals: object = constants.signals;

/**
 * Options of {@link main}.
 *
 * @example
 * ```ts
 * const options: MainOptions = { name: "server", onError: (error, task, what) => log.error(what, error) };
 * ```
 */
export interface MainOptions extends TaskOptions {
  /** Where the errors skein reports go (a failed request handler, a crashed supervised child):
   * the default scheduler's `onError`. By default they are printed. */
  onError?: ErrorHandler;
  /** The signal on which the task tree is printed to stderr (nothing else happens): `SIGUSR2` by
   * default; `false` for none. nodemon restarts a program with SIGUSR2: under nodemon, pass
   * another (`"SIGPWR"`) or `false`, or run `nodemon --signal SIGTERM`. */
  inspectSignal?: NodeJS.Signals | false;
}

/**
 * Run `op` as the root of a command-line program and exit when it ends: with 0 when it returns
 * (or is cancelled through its task); on SIGINT (Ctrl-C) or SIGTERM, after cancelling it and
 * letting every `finally` run, with 130 or 143; on an error (a cleanup that fails after a signal
 * included), after the cleanup, by printing the error and exiting with 1. A second signal
 * during the cleanup exits at once. The process lives as long as what the program waits on (a
 * server, a timer, a child process) can wake it; if nothing can any more while it still waits,
 * that is a deadlock: it fails with the report of what each task waits on, and exits 1. SIGUSR2
 * (`kill -USR2 <pid>`) prints the task tree to stderr, and changes nothing (see
 * {@link MainOptions.inspectSignal}: nodemon restarts with SIGUSR2).
 *
 * @throws TypeError if `op` is not an operation or a function, `options.name` is not a string,
 * or `options.inspectSignal` is not a signal it can use.
 * @example
 * ```ts
 * main(function* () {
 *   const server = yield* listen({ port: 8080 }, echo);
 *   console.log(`listening on ${server.port}; Ctrl-C to stop`);
 *   yield* suspend();
 * });
 * ```
 */
export function main<T>(op: OperationLike<T>, options?: MainOptions): Task<T> {
  checkOperation(op, "main()");
  nameIn(options, "main()"); // before any listener is installed
  const inspectSignal = options?.inspectSignal ?? "SIGUSR2";
  if (inspectSignal !== false && (typeof inspectSignal !== "string" || !(inspectSignal in signals) || /^SIG(INT|TERM|KILL|STOP)$/.test(inspectSignal))) {
    throw new TypeError(
      `main() expects inspectSignal to be a signal this host knows (os.constants.signals), other than SIGINT, SIGTERM, SIGKILL and SIGSTOP, or false; got ${String(inspectSignal)}`,
    );
  }
  if (options?.onError !== undefined) defaultScheduler().onError = options.onError;
  let code: number | undefined;
  const onSignal = (signal: keyof typeof CODES) => {
    if (code !== undefined) process.exit(code); // a second signal: do not wait any longer
    code = CODES[signal];
    void task.cancel(`${signal} was received`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // What is it doing? `kill -USR2 <pid>` prints the task tree, and changes nothing.
  if (inspectSignal !== false) {
    process.on(inspectSignal, () => process.stderr.write(`skein: the tasks of process ${process.pid}:\n${describeTasks()}`));
  }
  const task = run(op, options);
  // Nothing here keeps the process alive: what the root waits on does (a server, a timer). When
  // nothing does, every task is stuck: the real clock reports the deadlock, and main exits 1.
  const exit = (status: number) => {
    // Let what was printed reach a pipe (asynchronous on some platforms) before exiting.
    process.stdout.write("", () => process.stderr.write("", () => process.exit(status)));
  };
  task.then(
    () => exit(code ?? 0),
    (error: unknown) => {
      if (isCancelled(error) && task.state === "cancelled") return exit(code ?? 0); // stopped, as asked
      console.error(error); // a failure, maybe of the cleanup after a signal: 1 all the same
      exit(1);
    },
  );
  return task;
}
