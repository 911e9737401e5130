// Node under callgrind, for bench/io/callgrind.mjs and bench/callgrind-profile.mjs: the same V8
// seeds and one thread each time, so that two runs of a workload count alike.
import { spawn } from "node:child_process";
import { loadHttp } from "./io/client.mjs";

/**
 * Run `node …nodeArgs` under callgrind with the options `callgrind` adds (an output file, the
 * cache model…). `drive(child)`, if given, feeds it while it runs (a client for a server); then
 * its stdin ends, which ends a server. Resolves to what valgrind wrote to stderr (its totals);
 * rejects if `drive` fails (the child killed) or the child exits with an error, with its stderr.
 */
export async function nodeUnderCallgrind(callgrind, nodeArgs, drive) {
  const args = ["--tool=callgrind", "--smc-check=all-non-file", ...callgrind, "node", "--single-threaded", "--random-seed=1", "--hash-seed=1", ...nodeArgs];
  const child = spawn("valgrind", args, { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const script = nodeArgs.find((a) => !a.startsWith("--"));
  const failed = (code) => new Error(`${script} exited with ${code}: ${err}`);
  if (drive) {
    try {
      await Promise.race([drive(child), exited.then((code) => Promise.reject(failed(code)))]);
    } catch (e) {
      child.kill();
      throw e;
    }
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw failed(code);
  return err;
}

/** `requests` HTTP requests over `connections` keep-alive connections to the server `child`, once
 * it has printed its port (bench/io/server.mjs's `serve` does, on its first line). */
export async function loadPrintedPort(child, requests, connections) {
  let out = "";
  const port = await new Promise((resolve) =>
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    }),
  );
  await loadHttp(port, requests, connections);
}
