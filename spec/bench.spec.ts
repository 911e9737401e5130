// The benches' command lines and failure cells: what a user running `npm run bench…` reads.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { whyFailed } from "../bench/failure.js";

/** Run bench/scale.ts with `args`, with no build to measure: its exit code and output. */
function scale(...args: string[]): { code: number; out: string } {
  const env = { ...process.env, SKEIN_DIST: "/nonexistent-skein-build" };
  try {
    const out = execFileSync(process.execPath, ["--import", "tsx", "bench/scale.ts", ...args], { cwd: new URL("..", import.meta.url), encoding: "utf8", stdio: "pipe", env, timeout: 60_000 });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout + err.stderr };
  }
}

/** What `whyFailed` makes of a Node process that runs `code` and fails, as the benches run one. */
async function failing(code: string): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, ["-e", code]);
  } catch (e) {
    return whyFailed(e);
  }
  throw new Error(`${code} did not fail`);
}

test("a failed case's cell names the error, not the Node.js version line that ends its report", async () => {
  assert.is(await failing("throw new Error('dist/ is older than lib/core/task.ts: run npm run build first')"), "Error: dist/ is older than lib/core/task.ts: run npm run build first");
  assert.is(await failing("class Cancelled extends Error { name = 'Cancelled' }; throw new Cancelled('task #3 was cancelled')"), "Cancelled: task #3 was cancelled");
  assert.is(await failing("new Array(-1)"), "RangeError: Invalid array length");
  assert.is(await failing("throw 'boom'"), "boom");
  assert.is(await failing("process.kill(process.pid, 'SIGKILL')"), "killed by SIGKILL"); // as the out-of-memory killer does
  assert.is(await failing("process.emitWarning('x is deprecated'); process.exit(3)"), "exited with status 3, writing nothing to stderr but Node's");
  // A message of several lines: its first, which names the error, not the last above the stack.
  assert.is(await failing("throw new Error('line one\\nline two')"), "Error: line one");
  assert.is(await failing("require('node:assert').deepStrictEqual({ a: 1 }, { a: 2 })"), "AssertionError [ERR_ASSERTION]: Expected values to be strictly deep-equal:");
  // V8 running out of heap prints no JavaScript stack, and native frames after its line (as text
  // here: a real one takes seconds).
  const oom = "<--- Last few GCs --->\n\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb8 node::Abort() [node]\n";
  assert.is(whyFailed({ stderr: oom, signal: "SIGABRT" }), "killed by SIGABRT: FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory");
});

test("npm run bench:scale -- --help prints the usage and measures nothing, without a build", () => {
  const { code, out } = scale("--help");
  assert.is(code, 0);
  assert.match(out, /^usage: npm run bench:scale -- \[options\]/);
  assert.match(out, /--only LIST[^\n]*cancel-channel/);
  assert.not.match(out, /\| workload \|/);
});

test("npm run bench:scale: an unknown workload or option, or a size that is not a number, is an error that shows the usage", () => {
  for (const [args, says] of [
    [["--only", "cancel-channel,nope"], /--only: unknown nope; choose from sleepers-equal/],
    [["--sizes", "10k"], /--sizes needs comma-separated whole numbers above 0, at most 100000000, got "10k"/],
    [["--sizes", "1e21"], /at most 100000000, got "1e21"/],
    [["--sizes", "1000,0"], /got "0"/],
    [["--sizes", "2.5,0x10"], /got "2\.5", "0x10"/],
    [["--timeout", "5,10"], /--timeout needs a number above 0, at most 2000000, got "5,10"/],
    [["--timeout", "3000000"], /at most 2000000/], // (past 2^31 ms a child's timeout fires at once)
    [["--sizes", "1000000", "--no-million"], /--no-million leaves no size of --sizes 1000000 to measure/],
    [["--no-milion"], /Unknown option '--no-milion'/],
  ] as Array<[string[], RegExp]>) {
    const { code, out } = scale(...args);
    assert.is(code, 2, args.join(" "));
    assert.match(out, says);
    if (!args.includes("--no-million")) assert.match(out, /usage: npm run bench:scale/);
  }
});

test.run();
