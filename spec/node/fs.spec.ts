// skein/node files: whole-file operations, handles owned by their scope, Node's errors kept.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { call, cancel, channel, fork, sleep } from "../../lib/index.js";
import { appendFile, makeDir, open, readDir, readFile, remove, stat, writeFile, type File } from "../../lib/node/index.js";
import { ioTest, real, tempDir } from "../node-helpers.js";

ioTest("write, append, read, list, stat and remove in a real directory", async () => {
  const s = real();
  const { dir, remove: cleanup } = tempDir();
  try {
    const got = await s.run(function* () {
      yield* makeDir(join(dir, "sub", "deeper"));
      const path = join(dir, "sub", "notes.txt");
      yield* writeFile(path, "one\n");
      yield* appendFile(path, "two\n");
      const text = yield* readFile(path, "utf8");
      const bytes = yield* readFile(path);
      const names = (yield* readDir(join(dir, "sub"))).sort();
      const size = (yield* stat(path)).size;
      yield* remove(join(dir, "sub"));
      return { text, isBuffer: Buffer.isBuffer(bytes), names, size, after: yield* readDir(dir) };
    });
    assert.equal(got, { text: "one\ntwo\n", isBuffer: true, names: ["deeper", "notes.txt"], size: 8, after: [] });
  } finally {
    cleanup();
  }
});

ioTest("a file handle reads and writes in chunks and is closed when its scope ends, even on cancel", async () => {
  const s = real();
  const { dir, remove: cleanup } = tempDir();
  try {
    const path = join(dir, "data.bin");
    let written: File | undefined;
    let held: File | undefined;
    const got = await s.run(function* () {
      yield* call(function* () {
        written = yield* open(path, "w");
        for (let i = 0; i < 4; i++) yield* written.write(Buffer.alloc(1000, 65 + i));
      });
      const closedAfterScope = written!.handle.fd === -1;
      const reader = yield* open(path);
      const chunks: number[] = [];
      let chunk;
      while ((chunk = yield* reader.read(1500)) !== undefined) chunks.push(chunk.length);
      const opened = channel<true>();
      const holder = yield* fork(function* () {
        held = yield* open(path);
        yield* opened.send(true);
        yield* sleep(60_000);
      });
      yield* opened.receive(); // not a sleep: a loaded machine may take longer to open it
      const openWhileRunning = held!.handle.fd !== -1;
      yield* cancel(holder);
      return { closedAfterScope, chunks, openWhileRunning, closedOnCancel: held!.handle.fd === -1 };
    });
    assert.equal(got, { closedAfterScope: true, chunks: [1500, 1500, 1000], openWhileRunning: true, closedOnCancel: true });
  } finally {
    cleanup();
  }
});

ioTest("a missing file is Node's ENOENT at the yield*, catchable; a bad path is a TypeError at the call", async () => {
  const s = real();
  const { dir, remove: cleanup } = tempDir();
  try {
    const got = await s.run(function* () {
      const codes: (string | undefined)[] = [];
      for (const op of [() => readFile(join(dir, "missing")), () => open(join(dir, "missing")), () => stat(join(dir, "missing"))]) {
        try {
          yield* op();
        } catch (e) {
          codes.push((e as NodeJS.ErrnoException).code);
        }
      }
      assert.throws(() => readFile(42 as never), (e: Error) => e instanceof TypeError && /expects a path/.test(e.message));
      yield* remove(join(dir, "missing"), { force: true }); // forced: no error
      return codes;
    });
    assert.equal(got, ["ENOENT", "ENOENT", "ENOENT"]);
  } finally {
    cleanup();
  }
});

ioTest("cancelling a whole-file read aborts it", async () => {
  const s = real();
  const { dir, remove: cleanup } = tempDir();
  try {
    const path = join(dir, "big");
    await s.run(writeFile(path, Buffer.alloc(64 * 1024 * 1024)));
    const reading = s.run(readFile(path));
    await new Promise((r) => setImmediate(r));
    await reading.cancel();
    assert.is(reading.state, "cancelled");
  } finally {
    cleanup();
  }
});

test.run();
