// skein/redis queues against a real redis-server (started here on a free port, stopped after):
// at-least-once delivery, visibility timeouts, retries and dead letters, cancellation that
// takes nothing, backpressure, owned connections, bad input, Redis down or restarting.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { call, race, sleep, spawn, timeout, type Operation, type Task } from "../../lib/index.js";
import { queue, type Delivery, type QueueOptions } from "../../lib/redis/index.js";
import { outcome } from "../helpers.js";
import { ioTest, real } from "../node-helpers.js";
import { freePort, startRedis, type RedisServer } from "./server.js";

let server: RedisServer;
let admin: Redis;
let n = 0;
/** A fresh queue name per spec, so that specs share the server but no state. */
const fresh = () => `q${++n}`;

test.before(async () => {
  server = await startRedis();
  admin = new Redis(server.port, "127.0.0.1");
  await admin.ping(); // connected before the first spec counts what is open
});
test.after(async () => {
  await admin.quit();
  await server.remove();
});

const open = <T>(name: string, options: QueueOptions = {}) => queue<T>(name, { redis: server.url, ...options });

/** The entries of the group's pending list: [id, consumer, idle ms, deliveries]. */
async function pending(name: string): Promise<[string, string, number, number][]> {
  return (await admin.xpending(name, "skein", "-", "+", 100)) as [string, string, number, number][];
}

/** The clients connected now, but the admin one. */
async function clients(): Promise<string[]> {
  const list = (await admin.client("LIST")) as string;
  return list.split("\n").filter((l) => l !== "" && !/ cmd=client\|list /.test(l));
}

ioTest("send, receive and ack: the job arrives with its data, id and attempt 1, and ack removes it", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<{ to: string }>(name);
    const id = yield* jobs.send({ to: "ada@example.com" });
    const job = yield* jobs.receive();
    const before = yield* jobs.size();
    yield* job.ack();
    yield* job.ack(); // a second ack does nothing
    return { same: job.id === id, data: job.data, attempt: job.attempt, before, after: yield* jobs.size() };
  });
  assert.equal(got, { same: true, data: { to: "ada@example.com" }, attempt: 1, before: 1, after: 0 });
  assert.equal(await pending(name), []);
  assert.equal(await clients(), [], "the scope closed both connections");
});

ioTest("a job its consumer never acks (it died) goes to another consumer after the visibility timeout, attempt 2", async () => {
  const name = fresh();
  const s = real();
  {
    // A consumer that takes the job and dies: a raw connection, closed without an ack.
    const dead = new Redis(server.port, "127.0.0.1");
    await dead.xgroup("CREATE", name, "skein", "0", "MKSTREAM");
    await dead.xadd(name, "*", "data", JSON.stringify({ n: 1 }));
    const taken = await dead.xreadgroup("GROUP", "skein", "dead", "COUNT", 1, "STREAMS", name, ">");
    assert.ok(taken !== null);
    dead.disconnect();
  }
  const t0 = Date.now();
  const job = await s.run(function* () {
    const jobs = yield* open<{ n: number }>(name, { visibilityTimeout: 300, poll: 50 });
    const job = yield* jobs.receive();
    yield* job.ack();
    return job;
  });
  assert.equal([job.data, job.attempt], [{ n: 1 }, 2]);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(await pending(name), []);
});

ioTest("a job held past the visibility timeout by a live consumer stays its own: the heartbeat keeps it", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    // Generous against a loaded machine: the heartbeat (every 270 ms) may be 500 ms late.
    const a = yield* open<number>(name, { visibilityTimeout: 800, poll: 50 });
    const b = yield* open<number>(name, { visibilityTimeout: 800, poll: 50 });
    yield* a.send(1);
    const job = yield* a.receive();
    const stolen = yield* race([b.receive(), sleep(2500)]); // three visibility timeouts
    yield* job.ack();
    return { stolen: stolen === undefined ? "no" : "yes", size: yield* a.size() };
  });
  assert.equal(got, { stolen: "no", size: 0 });
});

ioTest("a failed job is retried with its error, then dead-lettered with the last error after maxAttempts", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<string>(name, { maxAttempts: 3, retryDelay: 20, poll: 20 });
    yield* jobs.send("boom");
    const seen: [number, string | undefined, string][] = [];
    for (let i = 1; i <= 3; i++) {
      const job = yield* jobs.receive();
      seen.push([job.attempt, job.lastError, yield* job.fail(new RangeError(`attempt ${job.attempt} failed`))]);
    }
    const again = yield* race([jobs.receive(), sleep(200)]);
    return { seen, again: again === undefined, dead: yield* jobs.deadLetters(), size: yield* jobs.size() };
  });
  assert.equal(got.seen, [
    [1, undefined, "retry"],
    [2, "RangeError: attempt 1 failed", "retry"],
    [3, "RangeError: attempt 2 failed", "dead"],
  ]);
  assert.ok(got.again, "a dead job is not delivered again");
  assert.is(got.dead.length, 1);
  assert.equal([got.dead[0]!.data, got.dead[0]!.attempts, got.dead[0]!.error], ["boom", 3, "RangeError: attempt 3 failed"]);
  assert.is(got.size, 0);
});

ioTest("a job whose consumers keep dying is dead-lettered when claimed past maxAttempts, saying why", async () => {
  const name = fresh();
  const raw = new Redis(server.port, "127.0.0.1");
  await raw.xgroup("CREATE", name, "skein", "0", "MKSTREAM");
  await raw.xadd(name, "*", "data", "42");
  // Delivered to a consumer that died, then claimed by another that died too: two deliveries.
  await raw.xreadgroup("GROUP", "skein", "dies0", "COUNT", 1, "STREAMS", name, ">");
  await raw.xclaim(name, "skein", "dies1", 0, (await pending(name))[0]![0], "IDLE", 100000);
  raw.disconnect();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name, { maxAttempts: 2, visibilityTimeout: 100, poll: 20 });
    const r = yield* race([jobs.receive(), sleep(400)]);
    return { received: r !== undefined, dead: yield* jobs.deadLetters() };
  });
  assert.is(got.received, false);
  assert.equal(got.dead.map((d) => [d.data, d.attempts]), [[42, 2]]);
  assert.match(got.dead[0]!.error, /without an ack/);
});

ioTest("a receive cancelled while it waits takes nothing: the job sent in that instant goes to the next consumer as attempt 1", async () => {
  const name = fresh();
  const s = real();
  const outcomes = { receivedFirst: 0, givenBack: 0, raced: 0 };
  await s.run(function* () {
    const a = yield* open<number>(name, { poll: 1000 });
    const b = yield* open<number>(name, { poll: 20 });
    const producer = new Redis(server.port, "127.0.0.1");
    try {
      for (let i = 0; i < 30; i++) {
        const waiting: Task<Delivery<number>> = yield* spawn(() => a.receive());
        yield* sleep(5); // blocked in XREADGROUP now
        // Add a job and cancel the receive in the same instant: Redis gets the XADD (and hands
        // the job to the blocked read) before or after the read is unblocked.
        const added = producer.xadd(name, "*", "data", String(i));
        if (i % 2 === 1) yield* sleep(0);
        yield* waiting.cancel();
        yield* call(() => added);
        if (waiting.state === "completed") {
          outcomes.receivedFirst++;
          yield* (yield* waiting).ack();
          continue;
        }
        const p = yield* call(() => pending(name));
        if (p.length === 1) {
          assert.equal([p[0]![1], p[0]![3]], [a.consumer, 0], "taken by the cancelled read, given back as never delivered");
          outcomes.raced++;
        }
        const job = yield* timeout(2000, b.receive()); // at once: not stranded with a
        assert.equal([job.data, job.attempt], [i, 1]);
        yield* job.ack();
        outcomes.givenBack++;
      }
    } finally {
      producer.disconnect();
    }
  });
  assert.is(outcomes.receivedFirst + outcomes.givenBack, 30);
  assert.ok(outcomes.raced > 0, `the race was never run: ${JSON.stringify(outcomes)}`);
  assert.equal(await pending(name), []);
  assert.equal(await clients(), []);
});

ioTest("the stream and its group deleted under a running worker (a Redis that lost its data): the group is made again, work goes on", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name, { poll: 20 });
    const done: number[] = [];
    const worker = yield* spawn(() => jobs.work((job) => void done.push(job.data)));
    yield* jobs.send(1);
    while (done.length < 1) yield* sleep(5);
    yield* call(() => admin.del(name));
    yield* sleep(50);
    yield* jobs.send(2);
    const deadline = Date.now() + 5000;
    while (done.length < 2 && Date.now() < deadline) yield* sleep(5);
    yield* worker.cancel();
    return done;
  });
  assert.equal(got, [1, 2]);
});

ioTest("the stream and its group lost while jobs are held: the heartbeat, ack and fail go on, the scope does not fail", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name, { visibilityTimeout: 300, poll: 20, retryDelay: 0 });
    yield* jobs.send(1);
    yield* jobs.send(2);
    const a = yield* jobs.receive();
    const b = yield* jobs.receive();
    yield* call(() => admin.del(name)); // Redis lost its data (a restart without persistence)
    yield* sleep(250); // two heartbeats meet the missing group
    yield* a.ack();
    const outcome = yield* b.fail(new Error("x"));
    yield* jobs.send(3);
    const c = yield* timeout(2000, jobs.receive());
    yield* c.ack();
    return [outcome, c.data];
  });
  assert.equal(got, ["gone", 3]);
});

ioTest("a receive that loses a race, or whose timeout fires, gives back what it took", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name, { poll: 20 });
    for (let i = 0; i < 20; i++) yield* jobs.send(i);
    let lost = 0;
    for (let i = 0; i < 20; i++) {
      const r = yield* race([jobs.receive(), sleep(0)]);
      if (r === undefined) lost++;
      else yield* r.ack();
    }
    const rest: number[] = [];
    for (;;) {
      const r = yield* race([jobs.receive(), sleep(300)]);
      if (r === undefined) break;
      rest.push(r.data);
      assert.is(r.attempt, 1, "a job given back was never delivered");
      yield* r.ack();
    }
    return { lost, rest: rest.length, size: yield* jobs.size() };
  });
  assert.is(got.size, 0);
  assert.is(got.rest, got.lost);
});

ioTest("backpressure: send waits while the queue holds capacity unfinished jobs", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name, { capacity: 3 });
    for (let i = 0; i < 3; i++) yield* jobs.send(i);
    const blocked = yield* spawn(() => jobs.send(3));
    yield* sleep(100);
    const waited = blocked.state;
    const job = yield* jobs.receive();
    const stillWaiting = blocked.state; // received is not finished
    yield* job.ack();
    yield* timeout(2000, blocked);
    return { waited, stillWaiting, size: yield* jobs.size() };
  });
  assert.equal(got, { waited: "running", stillWaiting: "running", size: 3 });
});

ioTest("data JSON cannot carry is refused at send, naming where it is", async () => {
  const name = fresh();
  const errors = await real().run(function* () {
    const jobs = yield* open<unknown>(name);
    const out: string[] = [];
    const a: Record<string, unknown> = {};
    a.self = a;
    for (const bad of [{ when: new Date(0) }, { f: () => 1 }, [1, undefined], new Map(), 10n, { n: NaN }, a, Symbol("s")]) {
      try {
        jobs.send(bad);
        out.push("accepted");
      } catch (e) {
        out.push(`${(e as Error).name}: ${(e as Error).message.split(",")[0]}`);
      }
    }
    return { out, size: yield* jobs.size() };
  });
  assert.equal(errors.out, [
    'TypeError: queue "q' + n + '".send(): data.when is an instance of Date',
    'TypeError: queue "q' + n + '".send(): data.f is function f',
    'TypeError: queue "q' + n + '".send(): data[1] is undefined',
    'TypeError: queue "q' + n + '".send(): data is an instance of Map',
    'TypeError: queue "q' + n + '".send(): data is 10n',
    'TypeError: queue "q' + n + '".send(): data.n is NaN',
    'TypeError: queue "q' + n + '".send(): data.self is a reference back to an object that contains it (a cycle)',
    'TypeError: queue "q' + n + '".send(): data is Symbol(s) (a symbol)',
  ]);
  assert.is(errors.size, 0);
});

ioTest("Redis down at start: a clear error naming the address", async () => {
  const port = await freePort();
  const r = await outcome(real().run(() => queue("x", { redis: `redis://127.0.0.1:${port}` })));
  assert.is(r.state, "failed");
  const message = (r as { error: Error }).error.message;
  assert.match(message, `cannot reach Redis at redis://127.0.0.1:${port}`);
  assert.match(message, /ECONNREFUSED/);
  assert.match(message, /Is redis-server running/);
});

ioTest("bad options and arguments fail at the call", async () => {
  const bad: [() => unknown, RegExp][] = [
    [() => queue(""), /queue\(\) expects a name/],
    [() => queue("x", { visibilityTimeout: -1 }), /visibilityTimeout must be a finite number >= 1/],
    [() => queue("x", { maxAttempts: 0 }), /maxAttempts must be a whole number >= 1/],
    [() => queue("x", { capacity: 1.5 }), /capacity must be a whole number/],
    [() => queue("x", { poll: "1" as never }), /poll must be a number of milliseconds/],
    [() => queue("x", { group: "" }), /group must be a non-empty string/],
    [() => queue("x", { redis: 6379 as never }), /redis must be a redis:\/\/ URL/],
  ];
  for (const [f, message] of bad) assert.throws(f, message);
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name);
    const out: string[] = [];
    for (const f of [() => jobs.work(null as never), () => jobs.work(function* () {}, { concurrency: 0 })]) {
      try {
        f();
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return { out, jobs };
  });
  assert.match(got.out[0]!, /work\(\) expects a handler function/);
  assert.match(got.out[1]!, /concurrency must be a whole number >= 1/);
  assert.throws(() => got.jobs.send(1), /the queue is closed/);
});

ioTest("closing the scope gives back the jobs it holds (counted as attempted) and leaves no connection", async () => {
  const name = fresh();
  const s = real();
  await s.run(function* () {
    yield* call(function* () {
      const jobs = yield* open<number>(name);
      yield* jobs.send(1);
      yield* jobs.receive(); // never acked
      yield* spawn(() => jobs.receive()); // blocked, then cancelled when the scope ends
      yield* sleep(20);
    });
  });
  assert.equal(await clients(), []);
  const got = await s.run(function* () {
    const jobs = yield* open<number>(name, { poll: 20 });
    const job = yield* timeout(2000, jobs.receive());
    yield* job.ack();
    return [job.data, job.attempt, yield* jobs.size()];
  });
  assert.equal(got, [1, 2, 0], "given back at once, long before the visibility timeout");
});

ioTest("jobs given back in a batch are taken again at once, not one per poll; ack and fail after the scope ended are errors", async () => {
  const name = fresh();
  const s = real();
  let late: Delivery<number> | undefined;
  await s.run(function* () {
    yield* call(function* () {
      const jobs = yield* open<number>(name);
      for (let i = 0; i < 20; i++) yield* jobs.send(i);
      for (let i = 0; i < 20; i++) late = yield* jobs.receive(); // never acked: given back at the end
    });
  });
  const errors = await s.run(function* () {
    const said: string[] = [];
    for (const op of [() => late!.ack(), () => late!.fail(new Error("x"))]) {
      try {
        yield* op();
      } catch (e) {
        said.push((e as Error).message);
      }
    }
    return said;
  });
  assert.equal(errors.map((m) => m.replace(/\.(ack|fail)\(\)/, ".X()")), Array(2).fill(`queue "${name}".X(): the queue is closed (the scope that opened it has ended); open it again with queue()`));
  const started = Date.now();
  const taken = await s.run(function* () {
    const jobs = yield* open<number>(name, { poll: 1000 }); // one claim a second, were it not reset
    let n = 0;
    for (; n < 20; n++) yield* (yield* timeout(5000, jobs.receive())).ack();
    return n;
  });
  assert.is(taken, 20);
  assert.ok(Date.now() - started < 5000, `20 given-back jobs took ${Date.now() - started} ms to take again (one per poll would be 20 s)`);
});

ioTest("work: a handler per job, at most concurrency at once, acked when it returns, retried when it throws", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const jobs = yield* open<number>(name, { retryDelay: 10, poll: 20, maxAttempts: 3 });
    for (let i = 0; i < 200; i++) yield* jobs.send(i);
    let running = 0;
    let peak = 0;
    const done = new Map<number, number>();
    const worker = yield* spawn(() =>
      jobs.work(function* (job): Operation<void> {
        running++;
        peak = Math.max(peak, running);
        try {
          yield* sleep(1);
          if (job.data % 50 === 0 && job.attempt < 2) throw new Error("flaky");
          if (job.data === 7) throw new Error("always fails");
          done.set(job.data, (done.get(job.data) ?? 0) + 1);
        } finally {
          running--;
        }
      }, { concurrency: 8 }),
    );
    const deadline = Date.now() + 10_000;
    while ((yield* jobs.size()) > 0 && Date.now() < deadline) yield* sleep(20);
    yield* worker.cancel();
    return { peak, done: done.size, once: [...done.values()].every((c) => c === 1), dead: yield* jobs.deadLetters() };
  });
  assert.ok(got.peak <= 8 && got.peak >= 2, `peak ${got.peak}`);
  assert.is(got.done, 199);
  assert.ok(got.once);
  assert.equal(got.dead.map((d) => [d.data, d.attempts, d.error]), [[7, 3, "Error: always fails"]]);
});

ioTest("work cancelled: running handlers are cancelled and their jobs given back at once for another consumer", async () => {
  const name = fresh();
  const got = await real().run(function* () {
    const a = yield* open<number>(name, { visibilityTimeout: 60_000, poll: 20 });
    const b = yield* open<number>(name, { visibilityTimeout: 60_000, poll: 20 });
    for (let i = 0; i < 4; i++) yield* a.send(i);
    let started = 0;
    const worker = yield* spawn(() => a.work(function* () {
      started++;
      yield* sleep(60_000);
    }, { concurrency: 4 }));
    while (started < 4) yield* sleep(5);
    yield* worker.cancel();
    const again: [number, number][] = [];
    for (let i = 0; i < 4; i++) {
      const job = yield* timeout(2000, b.receive()); // long before the 60 s visibility timeout
      again.push([job.data, job.attempt]);
      yield* job.ack();
    }
    return again.sort();
  });
  assert.equal(got, [[0, 2], [1, 2], [2, 2], [3, 2]]);
});

test.run();
