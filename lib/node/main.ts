// main(): the root of a command-line program. Signals cancel it cleanly; errors are printed after
// cleanup; the exit code says how it ended.

import type { TaskOptions } from "../core/effects.js";
import { isCancelled } from "../core/errors.js";
import { checkOperation, type OperationLike } from "../core/operation.js";
import { run } from "../core/run.js";
import type { Task } from "../core/task.js";

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Run `op` as the root of a command-line program, keep the process alive while it runs, and exit
 * when it ends: with 0 when it returns (or is cancelled through its task); on SIGINT (Ctrl-C)
 * or SIGTERM, after cancelling it and letting every `finally` run, with 130 or 143; on an error
 * (a cleanup that fails after a signal included), after the cleanup, by printing the error and
 * exiting with 1. A second signal during the cleanup exits at once.
 *
 * @throws TypeError if `op` is not an operation or a function.
 * @example
 * ```ts
 * main(function* () {
 *   const server = yield* listen({ port: 8080 }, echo);
 *   console.log(`listening on ${server.port}; Ctrl-C to stop`);
 *   yield* suspend();
 * });
 * ```
 */
export function main<T>(op: OperationLike<T>, options?: TaskOptions): Task<T> {
  checkOperation(op, "main()");
  let code: number | undefined;
  const onSignal = (signal: keyof typeof CODES) => {
    if (code !== undefined) process.exit(code); // a second signal: do not wait any longer
    code = CODES[signal];
    void task.cancel();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const task = run(op, options);
  // The program lives as long as its root, even when the root waits on nothing but a signal.
  const alive = setInterval(() => {}, 1 << 30);
  task.finally(() => clearInterval(alive)).catch(() => {});
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
