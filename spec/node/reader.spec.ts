// Reads and writes are effects: one that can complete at once completes inside its `yield*`,
// one that must wait parks its task, and every chunk that arrives lets the waiting read look
// again. These pin the framing across chunks, what a cancelled read or write leaves behind, the
// forgotten `yield*` report, and that a read or write that completes at once gives no turn away.
import { suite, test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { PassThrough, Writable } from "node:stream";
import { cancel, cooperate, createScheduler, fork, sleep } from "../../lib/index.js";
import { connect, Reader } from "../../lib/node/index.js";
import { endReply, writeAll } from "../../lib/node/wait.js";
import { ioTest, real } from "../node-helpers.js";

const Read = suite("reads and writes as effects");

const tick = () => new Promise<void>((r) => setImmediate(r));

Read("a line that arrives in pieces while its read waits, CRLF and a last line without its newline", async () => {
  const s = real();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const lines: (string | undefined)[] = [];
  const t = s.run(function* () {
    for (let i = 0; i < 5; i++) lines.push(yield* reader.readLine());
  });
  await tick();
  pt.write("pa");
  pt.write("rt");
  assert.equal(lines, []);
  pt.write("ial\r\nsecond\nthi");
  assert.equal(lines, ["partial", "second"]);
  pt.write("rd\n\nlast");
  pt.end();
  await t;
  assert.equal(lines, ["partial", "second", "third", "", "last"]);
});

Read("readExactly and read take from one buffer, whether the bytes were queued or arrived while the read waited", async () => {
  const s = real();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const got: string[] = [];
  const t = s.run(function* () {
    got.push((yield* reader.readExactly(6)).toString()); // waits for three chunks
    got.push((yield* reader.readLine())!); // "gh", held from the last chunk
    got.push((yield* reader.read())!.toString()); // the rest of what came with the line
    got.push(String(yield* reader.read())); // the end
  });
  await tick();
  pt.write("ab");
  pt.write("cd");
  pt.write("efgh\nij");
  pt.end();
  await t;
  assert.equal(got, ["abcdef", "gh", "ij", "undefined"]);
});

Read("a read or a write that completes at once does not give its turn away", async () => {
  const s = real();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const sink = new Writable({ write: (_c, _e, cb) => cb(), highWaterMark: 1 << 20 });
  const log: string[] = [];
  await s.run(function* () {
    yield* fork(function* () {
      for (let i = 0; i < 3; i++) {
        log.push("other");
        yield* cooperate();
      }
    });
    pt.write("a\nb\n");
    yield* sleep(1); // the chunk is queued
    log.push(`line ${yield* reader.readLine()}`);
    log.push(`line ${yield* reader.readLine()}`);
    yield* writeAll(sink, "x");
    log.push("wrote");
    yield* cooperate();
    log.push("after");
    pt.end();
  });
  assert.equal(log, ["other", "other", "other", "line a", "line b", "wrote", "after"]);
});

Read("a forgotten yield* before a read or a write is reported, and the write did not happen", async () => {
  const s = real();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  let written = 0;
  const sink = new Writable({ write: (_c, _e, cb) => (written++, cb()) });
  await s.run(function* handler() {
    reader.readLine(); // forgotten
    writeAll(sink, "x"); // forgotten
    yield* sleep(1);
  });
  const messages = s.reported.map((e) => (e as Error).message);
  assert.equal(messages.length, 2);
  assert.match(messages[0]!, /^readLine\(stream\) was made in task #\d+ handler but never yielded/);
  assert.match(messages[1]!, /^write\(stream\) was made in task #\d+ handler but never yielded/);
  assert.is(written, 0);
});

Read("the stream's error reaches the read waiting for a line; a read of an ended stream is undefined", async () => {
  const s = real();
  const pt = new PassThrough();
  const reader = new Reader(pt);
  const t = s.run(function* () {
    return yield* reader.readLine();
  });
  await tick();
  pt.write("no newline yet");
  pt.destroy(Object.assign(new Error("boom"), { code: "EBOOM" }));
  await t.then(
    () => assert.unreachable("read a line"),
    (e: { code: string }) => assert.is(e.code, "EBOOM"),
  );
  const ended = new Reader(new PassThrough().end());
  assert.is(await createScheduler().run(() => ended.read()), undefined);
});

Read("a reader that does not read pauses its stream past 64 KiB, so the writer sees backpressure; reading resumes it", async () => {
  const s = real();
  const pt = new PassThrough({ highWaterMark: 1024 });
  const reader = new Reader(pt);
  const chunk = Buffer.alloc(4096, 97);
  let total = 0;
  const t = s.run(function* () {
    total += (yield* reader.read())!.length; // starts the flow
    yield* sleep(20); // then reads nothing for a while
    let c;
    while ((c = yield* reader.read()) !== undefined) total += c.length;
  });
  await tick();
  let accepted = 0;
  while (accepted < 1000 && pt.write(chunk)) accepted++; // until the writer is told to wait
  assert.ok(accepted < 1000, "the writer was never held back");
  assert.ok(pt.isPaused(), "the reader did not pause its stream");
  assert.ok(accepted * chunk.length < 256 * 1024, `${accepted} chunks taken before the writer had to wait`);
  // The reader catches up: the stream flows again (bounded, should it never be resumed).
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise((r) => pt.once("drain", r)),
    new Promise((_, fail) => (timer = setTimeout(() => fail(new Error("the stream was never resumed")), 3000))),
  ]);
  clearTimeout(timer);
  pt.end();
  await t;
  assert.is(total, (accepted + 1) * chunk.length);
});

Read("a write waiting for drain fails, never hangs, when its stream is destroyed meanwhile: with its error, or a clear one", async () => {
  const s = real();
  const stuck = () => new Writable({ highWaterMark: 4, write: () => {} }).on("error", () => {}); // never done: the buffer stays full
  const codes = await s.run(function* () {
    const out: string[] = [];
    for (const error of [undefined, Object.assign(new Error("gone"), { code: "EGONE" })]) {
      const w = stuck();
      const writer = yield* fork(function* () {
        try {
          yield* writeAll(w, "more than four bytes");
          return "written";
        } catch (e) {
          return `${(e as { code: string }).code}: ${(e as Error).message}`;
        }
      });
      yield* sleep(5); // it waits for drain
      w.destroy(error);
      out.push(yield* writer);
    }
    return out;
  });
  assert.equal(codes, ["ERR_STREAM_DESTROYED: the stream was destroyed before this write's data was flushed (destroy() was called, or the peer went away)", "EGONE: gone"]);
});

Read("a write waiting for drain when someone else ends the stream completes once its data is flushed, with or without a 'close' to follow", async () => {
  const s = real();
  const out = await s.run(function* () {
    const results: unknown[] = [];
    for (const emitClose of [true, false]) {
      const got: string[] = [];
      const w = new Writable({ highWaterMark: 4, emitClose, write: (c, _e, cb) => void setTimeout(() => (got.push(String(c)), cb()), 5) });
      const writer = yield* fork(function* () {
        try {
          yield* writeAll(w, "more than four bytes");
          return "written";
        } catch (e) {
          return `${(e as { code: string }).code}: ${(e as Error).message}`;
        }
      });
      yield* sleep(1); // it waits for drain
      w.end("the end"); // someone else ends it: no drain comes, a finish (and maybe a close) does
      results.push([yield* writer, got.join("|"), w.listenerCount("finish"), w.listenerCount("close")]);
    }
    return results;
  });
  assert.equal(out, [
    ["written", "more than four bytes|the end", 0, 0],
    ["written", "more than four bytes|the end", 0, 0],
  ]);
});

Read("a write that failed fails again when yielded again; one that waited, was cancelled, and is yielded again once someone else has ended the stream waits for the finish", async () => {
  const s = real();
  const out = await s.run(function* () {
    const results: unknown[] = [];
    const stuck = new Writable({ highWaterMark: 4, write: () => {} }).on("error", () => {});
    const send = writeAll(stuck, "more than four bytes");
    const attempt = function* () {
      try {
        yield* send;
        return "no error";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    const writer = yield* fork(attempt);
    yield* sleep(1);
    stuck.destroy(Object.assign(new Error("gone"), { code: "EGONE" }));
    results.push(yield* writer, yield* attempt()); // yielded again: the same failure
    const slow = new Writable({ highWaterMark: 4, write: (_c, _e, cb) => void setTimeout(cb, 20) });
    const again = writeAll(slow, "more than four bytes");
    const waiting = yield* fork(function* () {
      yield* again;
    });
    yield* sleep(1);
    yield* cancel(waiting); // it waited for drain
    slow.end("last");
    yield* again; // ending: waits for the finish, its data flushed with the rest
    results.push(slow.writableFinished);
    return results;
  });
  assert.equal(out, ["EGONE", "EGONE", true]);
});

Read("a write waiting for drain on a stream that emits no close, destroyed with an error: it fails with that error", async () => {
  const s = real();
  const w = new Writable({ highWaterMark: 4, emitClose: false, write: () => {} }).on("error", () => {});
  const out = await s.run(function* () {
    const writer = yield* fork(function* () {
      try {
        yield* writeAll(w, "more than four bytes");
        return "written";
      } catch (e) {
        return (e as Error).message;
      }
    });
    yield* sleep(5);
    w.destroy(new Error("disk gone"));
    return yield* writer;
  });
  assert.is(out, "disk gone");
});

Read("a write waiting for drain on a stream that emits an error without being destroyed: it fails with that error", async () => {
  const s = real();
  const w = new Writable({ highWaterMark: 4, write: () => {} });
  const out = await s.run(function* () {
    const writer = yield* fork(function* () {
      try {
        yield* writeAll(w, "more than four bytes");
        return "written";
      } catch (e) {
        return (e as Error).message;
      }
    });
    yield* sleep(5);
    w.emit("error", new Error("emitted, not destroyed"));
    return [yield* writer, w.listenerCount("error")];
  });
  assert.equal(out, ["emitted, not destroyed", 0]);
});

Read("one write effect yielded by two tasks that wait at once: both go on at the drain, and no listener of theirs stays on the stream", async () => {
  const s = real();
  const w = new Writable({ highWaterMark: 4, write: (_c, _e, cb) => void setTimeout(cb, 5) });
  const before = [w.listenerCount("drain"), w.listenerCount("close")];
  const out = await s.run(function* () {
    const op = writeAll(w, "more than four bytes");
    const a = yield* fork(function* () {
      yield* op;
      return "a";
    });
    const b = yield* fork(function* () {
      yield* op;
      return "b";
    });
    return [yield* a, yield* b];
  });
  assert.equal(out, ["a", "b"]);
  assert.equal([w.listenerCount("drain"), w.listenerCount("close")], before);
});

Read("a write that must wait, stepped by hand, its wait undone (the wrapper sleeps first), then handed on: it still waits for drain, and a destroyed stream fails it", async () => {
  const s = real();
  const slow = () => new Writable({ highWaterMark: 4, write: (_c, _e, cb) => void setTimeout(cb, 30) }).on("error", () => {});
  const out = await s.run(function* () {
    const w = slow();
    const it = writeAll(w, "more than four bytes")[Symbol.iterator]();
    const r = it.next(); // the data goes to the stream, whose buffer is full: the wait is entered
    yield* sleep(1); // something else first: the wait is undone
    it.next(yield r.value as never); // handed on: it waits for drain again
    const gone = slow();
    const again = writeAll(gone, "more than four bytes")[Symbol.iterator]();
    const first = again.next();
    yield* sleep(1);
    gone.destroy();
    let error = "none";
    try {
      again.next(yield first.value as never);
    } catch (e) {
      error = (e as { code: string }).code;
    }
    return [w.writableNeedDrain, error];
  });
  assert.equal(out, [false, "ERR_STREAM_DESTROYED"]);
});

Read("an HTTP reply's end ends its stream, and returns without waiting for 'finish'; a second end does nothing", async () => {
  const s = real();
  const chunks: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  const log = await s.run(function* () {
    yield* endReply(sink, "last");
    const first = `ended ${sink.writableEnded}, finished ${sink.writableFinished}`;
    yield* endReply(sink, "ignored");
    return first;
  });
  assert.is(log, "ended true, finished false");
  assert.equal(chunks, ["last"]);
  assert.equal(s.reported, []);
});

ioTest("a write cancelled while it waits for drain gives up the wait only: its data is sent, the socket stays usable", async () => {
  const s = real();
  let peerSocket: net.Socket | undefined;
  const peer = net.createServer((c) => {
    c.pause(); // read nothing for now
    peerSocket = c;
  });
  await new Promise<void>((r) => peer.listen(0, "127.0.0.1", r));
  try {
    const chunk = Buffer.alloc(64 * 1024, 120);
    let written = 0;
    let received = 0;
    await s.run(function* () {
      const socket = yield* connect((peer.address() as net.AddressInfo).port);
      const writer = yield* fork(function* () {
        for (let i = 0; i < 2000; i++) {
          yield* socket.write(chunk); // stalls: nobody reads
          written++;
        }
      });
      yield* sleep(100);
      assert.ok(written < 2000, "the writer went on although nobody reads");
      yield* cancel(writer); // it waits for drain
      peerSocket!.on("data", (d: Buffer) => (received += d.length));
      peerSocket!.resume();
      yield* socket.write("end\n"); // still usable: waits for the drain, then goes out last
      yield* socket.end();
    });
    await new Promise((r) => peerSocket!.once("end", r));
    assert.is(received, (written + 1) * chunk.length + 4, "the cancelled write's chunk was sent, and nothing else lost");
    assert.equal(s.reported, []);
    peerSocket!.destroy();
  } finally {
    await new Promise((r) => peer.close(r));
  }
});

Read.run();
test.run();
