// The benches' command lines and failure cells: what a user running `npm run bench…` reads.
import { execFileSync } from "node:child_process";
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

test("a failed case's cell names the error, not the Node.js version line that ends its report", () => {
  const stderr = [
    "/work/main/bench/skein.ts:22",
    "    throw new Error(`dist/ is older than ${newest.file}`);",
    "          ^",
    "",
    "Error: dist/ is older than lib/core/task.ts: run npm run build first",
    "    at distDir (/work/main/bench/skein.ts:22:11)",
    "",
    "Node.js v20.20.2",
    "",
  ].join("\n");
  assert.is(whyFailed({ stderr }), "Error: dist/ is older than lib/core/task.ts: run npm run build first");
  assert.is(whyFailed({ stderr: "x\nTypeError [ERR_INVALID_ARG_TYPE]: bad\n    at f\nNode.js v24.21.0" }), "TypeError [ERR_INVALID_ARG_TYPE]: bad");
  const oom = "<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb8 node::Abort()";
  assert.is(whyFailed({ stderr: oom }), "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory");
  assert.is(whyFailed({ stderr: "", message: "Command failed: node case.ts\nkilled by SIGSEGV" }), "killed by SIGSEGV");
});

test("npm run bench:scale -- --help prints the usage and measures nothing, with or without a build", () => {
  const { code, out } = scale("--help");
  assert.is(code, 0);
  assert.match(out, /^usage: npm run bench:scale -- \[options\]/);
  assert.match(out, /--only LIST[^\n]*cancel-channel/);
  assert.not.match(out, /\| workload \|/);
});

test("npm run bench:scale: an unknown workload or option, or a size that is not a number, is an error that shows the usage", () => {
  for (const [args, says] of [
    [["--only", "cancel-channel,nope"], /--only: unknown nope; choose from sleepers-equal/],
    [["--sizes", "10k"], /--sizes needs comma-separated numbers above 0, got "10k"/],
    [["--sizes", "1000,0"], /got "0"/],
    [["--no-milion"], /Unknown option '--no-milion'/],
  ] as const) {
    const { code, out } = scale(...args);
    assert.is(code, 2, args.join(" "));
    assert.match(out, says);
    assert.match(out, /usage: npm run bench:scale/);
  }
});

test.run();
