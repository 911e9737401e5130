// skein/node child processes: real processes, output collected or streamed, stopped on cancel.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { all, cancel, channel, fork, sleep } from "../../lib/index.js";
import { exec, subprocess } from "../../lib/node/index.js";
import { alive, ioTest, real } from "../node-helpers.js";

const node = process.execPath;

ioTest("exec collects code, stdout and stderr; input goes to stdin", async () => {
  const s = real();
  const got = await s.run(function* () {
    const a = yield* exec(node, ["-e", "process.stdout.write('out'); process.stderr.write('err')"]);
    const b = yield* exec(node, ["-e", "process.stdin.pipe(process.stdout)"], { input: "fed through stdin" });
    return [a, b.stdout];
  });
  assert.equal(got, [{ code: 0, signal: null, stdout: "out", stderr: "err" }, "fed through stdin"]);
});

ioTest("exec feeds a large input while it reads the output; a command that stops reading is no error", async () => {
  const s = real();
  const got = await s.run(function* () {
    const big = "x".repeat(1 << 20);
    const copied = yield* exec("cat", [], { input: big }); // 1 MiB each way: more than the pipes hold
    const head = yield* exec("head", ["-c", "5"], { input: big });
    return [copied.stdout.length, head.stdout];
  });
  assert.equal(got, [1 << 20, "xxxxx"]);
});

ioTest("what a command wrote before it exited is read after the exit, to its end", async () => {
  // Node resumes a child's output that nobody listens to when the child exits, which dropped it:
  // exec's read of head's output, started after head had exited, found "" (a loaded machine, or
  // a time slice ending between exec's tasks, was enough).
  const s = real();
  const got = await s.run(function* () {
    const child = yield* subprocess(node, ["-e", "process.stdout.write('out'); process.stderr.write('err')"]);
    const status = yield* child.wait();
    yield* sleep(50); // the exit's host turns pass
    const [out, err] = yield* all([child.stdout.readAll(), child.stderr.readAll()]);
    return [status.code, out.toString(), err.toString()];
  });
  assert.equal(got, [0, "out", "err"]);
});

ioTest("a non-zero exit is an error with code, stdout and stderr, unless check is false", async () => {
  const s = real();
  const got = await s.run(function* () {
    let error: (Error & { code?: number; stderr?: string }) | undefined;
    try {
      yield* exec(node, ["-e", "console.error('bad input'); process.exit(3)"]);
    } catch (e) {
      error = e as typeof error;
    }
    const unchecked = yield* exec(node, ["-e", "process.exit(4)"], { check: false });
    return { message: error!.message.split("\n")[0], code: error!.code, stderr: error!.stderr, unchecked: unchecked.code };
  });
  assert.equal(got, { message: `Command failed: ${node} -e console.error('bad input'); process.exit(3)`, code: 3, stderr: "bad input\n", unchecked: 4 });
});

ioTest("cancelling a run kills the process: its pid no longer exists", async () => {
  const s = real();
  let pid = 0;
  await s.run(function* () {
    const started = channel<true>();
    const runner = yield* fork(function* () {
      const child = yield* subprocess(node, ["-e", "setInterval(() => {}, 1000)"]);
      pid = child.pid;
      yield* started.send(true);
      yield* child.wait();
    });
    yield* started.receive(); // not a sleep: a loaded machine may take longer to spawn it
    assert.ok(alive(pid));
    yield* cancel(runner);
    assert.not.ok(alive(pid), "the process outlived its task");
  });
});

ioTest("a process that ignores SIGTERM is killed with SIGKILL after the grace period", async () => {
  const s = real();
  const got = await s.run(function* () {
    const child = yield* subprocess(node, ["-e", "process.on('SIGTERM', () => console.log('ignored')); console.log('ready'); setInterval(() => {}, 1000)"], {
      killAfter: 200,
    });
    assert.is(yield* child.stdout.readLine(), "ready");
    const started = Date.now();
    const status = yield* child.stop();
    return { status, waited: Date.now() - started, pidGone: !alive(child.pid) };
  });
  assert.equal(got.status, { code: null, signal: "SIGKILL" });
  assert.ok(got.waited >= 150, `stopped after ${got.waited} ms`);
  assert.ok(got.pidGone);
});

ioTest("streaming: read a child's output line by line while it runs, write to its stdin", async () => {
  const s = real();
  const got = await s.run(function* () {
    const child = yield* subprocess(node, ["-e", "require('readline').createInterface({ input: process.stdin }).on('line', (l) => console.log(l.toUpperCase()))"]);
    const replies: (string | undefined)[] = [];
    for (const word of ["alpha", "beta"]) {
      yield* child.write(word + "\n");
      replies.push(yield* child.stdout.readLine());
    }
    yield* child.closeInput();
    replies.push(yield* child.stdout.readLine());
    return { replies, status: yield* child.wait() };
  });
  assert.equal(got, { replies: ["ALPHA", "BETA", undefined], status: { code: 0, signal: null } });
});

ioTest("a missing command is Node's ENOENT at the yield*; bad arguments are TypeErrors at the call", async () => {
  const s = real();
  const got = await s.run(function* () {
    assert.throws(() => exec(""), TypeError);
    assert.throws(() => exec("ls", "-l" as never), (e: Error) => e instanceof TypeError && /array of strings/.test(e.message));
    assert.throws(() => subprocess("ls", [], { killAfter: -1 }), RangeError);
    try {
      yield* exec("no-such-command-skein");
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  });
  assert.is(got, "ENOENT");
});

test.run();
